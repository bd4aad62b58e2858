package audit

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Errors of the auditor's checks against a checkpoint it already trusts.
var (
	// ErrTruncated: the log now commits to fewer entries than a checkpoint
	// already trusted: entries were deleted or the database rolled back.
	ErrTruncated = errors.New("audit: log truncated")
	// ErrFork: the log's new checkpoint does not extend the trusted one
	// (same size with another root, or no valid consistency proof): its
	// history was rewritten or forked.
	ErrFork = errors.New("audit: log forked or rewritten")
	// ErrEntryMismatch: an entry served is not the one the checkpoint
	// commits to at its index: the entry was changed in the store.
	ErrEntryMismatch = errors.New("audit: entry does not match the checkpoint")
	// ErrMalformedProof: a proof served is not of a proof's shape (a hash
	// not of [tlog.HashSize] bytes, more or fewer hashes than a proof
	// between its sizes has, or one to another size than asked for), or
	// an inclusion answer that gives another entry than asked for or a
	// leaf hash that is not its entry's ([ReadInclusion]): it is no proof
	// at all, a malformed answer of the Source, which shows neither that
	// the log forked nor that an entry changed.
	ErrMalformedProof = errors.New("audit: malformed proof")
)

// ReadTreeProof reads an answer to a request for the consistency proof
// between the trees of sizes oldSize and newSize (0 < oldSize < newSize):
// answeredSize, the newer size the answer says it proves to, and its
// hashes. An answer to another size, or whose hashes are not of a proof's
// shape (each of [tlog.HashSize] bytes, and as many as a proof between the
// two sizes has), is malformed: the error wraps [ErrMalformedProof] and
// says what is wrong. A proof read is still to be checked
// ([CheckConsistency]) between two signed checkpoints of those sizes.
func ReadTreeProof(oldSize, newSize, answeredSize int64, hashes [][]byte) (tlog.TreeProof, error) {
	if answeredSize != newSize {
		return nil, fmt.Errorf("%w: the consistency proof is to size %d, not %d", ErrMalformedProof, answeredSize, newSize)
	}
	n, err := treeProofLen(oldSize, newSize)
	if err != nil {
		return nil, err
	}
	if len(hashes) != n {
		return nil, fmt.Errorf("%w: the consistency proof from size %d to %d has %d hashes, not %d", ErrMalformedProof, oldSize, newSize, len(hashes), n)
	}
	p := make(tlog.TreeProof, len(hashes))
	for i, h := range hashes {
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("%w: hash %d of the consistency proof from size %d to %d is %d bytes, not %d", ErrMalformedProof, i, oldSize, newSize, len(h), tlog.HashSize)
		}
		copy(p[i][:], h)
	}
	return p, nil
}

// ReadRecordProof reads an answer to a request for the proof that entry
// index is in the tree of size treeSize (0 <= index < treeSize):
// answeredSize, the tree size the answer says it proves in, and its hashes.
// An answer for another size, or whose hashes are not of a proof's shape
// (each of [tlog.HashSize] bytes, and as many as a proof of that entry in
// that tree has), is malformed: the error wraps [ErrMalformedProof] and says
// what is wrong. A proof read is still to be checked ([CheckInclusion])
// against a signed checkpoint of that size.
func ReadRecordProof(index, treeSize, answeredSize int64, hashes [][]byte) (tlog.RecordProof, error) {
	if answeredSize != treeSize {
		return nil, fmt.Errorf("%w: the inclusion proof of entry %d is in a tree of size %d, not %d", ErrMalformedProof, index, answeredSize, treeSize)
	}
	n, err := recordProofLen(index, treeSize)
	if err != nil {
		return nil, err
	}
	if len(hashes) != n {
		return nil, fmt.Errorf("%w: the inclusion proof of entry %d in the tree of size %d has %d hashes, not %d", ErrMalformedProof, index, treeSize, len(hashes), n)
	}
	p := make(tlog.RecordProof, len(hashes))
	for i, h := range hashes {
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("%w: hash %d of the inclusion proof of entry %d in the tree of size %d is %d bytes, not %d", ErrMalformedProof, i, index, treeSize, len(h), tlog.HashSize)
		}
		copy(p[i][:], h)
	}
	return p, nil
}

// An Inclusion is what a gateway gives with the proof that an entry of its
// log is in a tree: a ProveInclusionResponse, or a peer's receipt. It
// says which entry it gives (Index) and its leaf hash (LeafHash), and
// gives the entry itself (Entry), so that the reader hashes the leaf it
// was shown.
type Inclusion struct {
	Index    int64    // the index of the entry it gives
	TreeSize int64    // the tree size it proves the entry in
	LeafHash []byte   // the leaf hash it says the entry has
	Entry    []byte   // the entry
	Proof    [][]byte // the proof's hashes
}

// ReadInclusion reads an answer to a request for entry index and the proof
// that it is in the tree of size treeSize, by the rule of [ReadRecordProof]
// and more: an answer that gives another entry than index, or whose leaf
// hash is not the RFC 6962 hash of the entry it gives, is malformed too
// (the error wraps [ErrMalformedProof] and says what is wrong): it is no
// answer to what was asked, and shows neither that the entry asked for
// changed nor that it did not. The proof read is still to be checked, with
// the entry, by [CheckInclusion].
func ReadInclusion(index, treeSize int64, a Inclusion) (tlog.RecordProof, error) {
	if a.Index != index {
		return nil, fmt.Errorf("%w: the answer gives entry %d, not %d", ErrMalformedProof, a.Index, index)
	}
	if lh := tlog.RecordHash(a.Entry); !bytes.Equal(a.LeafHash, lh[:]) {
		return nil, fmt.Errorf("%w: the leaf hash the answer gives for entry %d is not the hash of the entry it gives", ErrMalformedProof, index)
	}
	return ReadRecordProof(index, treeSize, a.TreeSize, a.Proof)
}

// recordProofLen returns the number of hashes of the proof that entry
// index is in the tree of size treeSize: that of the proof tlog makes from
// any hashes.
func recordProofLen(index, treeSize int64) (int, error) {
	if index < 0 || index >= treeSize {
		return 0, fmt.Errorf("%w: entry %d is beyond the tree of %d entries", ErrOutOfRange, index, treeSize)
	}
	p, err := tlog.ProveRecord(treeSize, index, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return make([]tlog.Hash, len(idx)), nil
	}))
	if err != nil {
		return 0, fmt.Errorf("audit: no inclusion proof of entry %d in the tree of size %d: %v", index, treeSize, err)
	}
	return len(p), nil
}

// treeProofLen returns the number of hashes of a consistency proof between
// the trees of sizes oldSize and newSize: that of the proof tlog makes from
// any hashes.
func treeProofLen(oldSize, newSize int64) (int, error) {
	p, err := tlog.ProveTree(newSize, oldSize, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return make([]tlog.Hash, len(idx)), nil
	}))
	if err != nil {
		return 0, fmt.Errorf("audit: no consistency proof between trees of sizes %d and %d: %v", oldSize, newSize, err)
	}
	return len(p), nil
}

// CheckConsistency checks that latest extends trusted. proof is the
// consistency proof from trusted.Size to latest.Size (nil when the sizes
// are equal). Both checkpoints must already be signature-checked. A proof
// with more or fewer hashes than one between the two sizes has is
// malformed ([ErrMalformedProof]), not evidence of a fork: only a proof of
// the right shape that does not verify is [ErrFork].
func CheckConsistency(trusted, latest Checkpoint, proof tlog.TreeProof) error {
	switch {
	case trusted.Origin != latest.Origin:
		return fmt.Errorf("%w: origin %q, trusted %q", ErrFork, latest.Origin, trusted.Origin)
	case latest.Size < trusted.Size:
		return fmt.Errorf("%w: the log commits to %d entries, but %d were trusted before", ErrTruncated, latest.Size, trusted.Size)
	case latest.Size == trusted.Size:
		if latest.Hash != trusted.Hash {
			return fmt.Errorf("%w: two checkpoints of size %d with different roots", ErrFork, latest.Size)
		}
		return nil
	case trusted.Size == 0:
		return nil
	}
	if n, err := treeProofLen(trusted.Size, latest.Size); err != nil {
		return err
	} else if len(proof) != n {
		return fmt.Errorf("%w: the consistency proof from size %d to %d has %d hashes, not %d", ErrMalformedProof, trusted.Size, latest.Size, len(proof), n)
	}
	if err := tlog.CheckTree(proof, latest.Size, latest.Hash, trusted.Size, trusted.Hash); err != nil {
		return fmt.Errorf("%w: the tree of size %d does not extend the trusted tree of size %d: %v", ErrFork, latest.Size, trusted.Size, err)
	}
	return nil
}

// CheckInclusion checks that leaf is entry index of the tree cp commits to.
// A proof with more or fewer hashes than one of that entry in that tree
// has is malformed ([ErrMalformedProof]), not evidence of a changed entry:
// only a proof of the right shape that does not verify is
// [ErrEntryMismatch].
func CheckInclusion(cp Checkpoint, index int64, leaf []byte, proof tlog.RecordProof) error {
	if index < 0 || index >= cp.Size {
		return fmt.Errorf("%w: entry %d is beyond the checkpoint's %d entries", ErrOutOfRange, index, cp.Size)
	}
	if n, err := recordProofLen(index, cp.Size); err != nil {
		return err
	} else if len(proof) != n {
		return fmt.Errorf("%w: the inclusion proof of entry %d in the tree of size %d has %d hashes, not %d", ErrMalformedProof, index, cp.Size, len(proof), n)
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Hash, index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("%w: entry %d: %v", ErrEntryMismatch, index, err)
	}
	return nil
}
