package audit

import (
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyLeaves checks, without trusting any store, that leaves are exactly
// the entries committed to by signedCheckpoint, a checkpoint signed by
// verifier: leaf i is the canonical encoding of entry i, as in the lines of
// an export. It returns the tree size on success. Errors distinguish a
// checkpoint not signed by verifier ([ErrSignature]), missing or extra
// leaves ([*SizeMismatchError]) and modified leaves ([ErrRootMismatch]).
func VerifyLeaves(leaves [][]byte, signedCheckpoint []byte, verifier note.Verifier) (size int64, err error) {
	c, err := OpenCheckpoint(signedCheckpoint, verifier)
	if err != nil {
		return 0, err
	}
	n := int64(len(leaves))
	if n != c.Size {
		return 0, &SizeMismatchError{Leaves: n, Checkpoint: c.Size}
	}
	root, err := RootHash(leaves)
	if err != nil {
		return 0, err
	}
	if root != c.Hash {
		return 0, fmt.Errorf("%w: leaves hash to %v, checkpoint has %v", ErrRootMismatch, root, c.Hash)
	}
	return n, nil
}

// RootHash computes the RFC 6962 root hash of a tree holding leaves, in
// memory.
func RootHash(leaves [][]byte) (tlog.Hash, error) {
	hashes := make([]tlog.Hash, 0, tlog.StoredHashCount(int64(len(leaves))))
	r := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(hashes)) {
				return nil, fmt.Errorf("audit: root hash: hash %d not computed", x)
			}
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashes(int64(i), leaf, r)
		if err != nil {
			return tlog.Hash{}, err
		}
		hashes = append(hashes, hs...)
	}
	return tlog.TreeHash(int64(len(leaves)), r)
}
