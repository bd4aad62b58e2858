package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/internal/atomicfile"
)

// A Source serves a log's signed checkpoints, proofs and entries to a
// [Client]: the gateway's Audit service for the command line, or a [Log]
// beside its store in tests and tools. A Client trusts nothing a Source
// says without checking it.
type Source interface {
	// Checkpoint returns the log's latest signed checkpoint (a note).
	Checkpoint(ctx context.Context) (signed []byte, err error)
	// ConsistencyProof returns the proof that the tree of the first
	// newSize entries extends the tree of the first oldSize entries, for
	// 0 < oldSize < newSize.
	ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error)
	// Inclusion returns the leaf at index and the proof that it is in the
	// tree of the first treeSize entries.
	Inclusion(ctx context.Context, index, treeSize int64) (leaf []byte, proof tlog.RecordProof, err error)
}

// A TrustStore keeps the signed checkpoint an auditor trusts: the latest
// one whose signature and consistency a [Client] checked.
type TrustStore interface {
	// ReadTrusted returns the signed checkpoint last written, or nil and
	// no error if none was written yet.
	ReadTrusted(ctx context.Context) ([]byte, error)
	// WriteTrusted replaces it. A reader sees the old checkpoint or the
	// new one, never a mix.
	WriteTrusted(ctx context.Context, signed []byte) error
}

// TrustFile is a [TrustStore] in the file it names. WriteTrusted writes a
// file beside it, syncs it and renames it into place, so that after a
// crash the file holds the old checkpoint or the new one, never an empty
// or partial one.
type TrustFile string

// ReadTrusted reads the file; a file that does not exist holds nothing.
func (f TrustFile) ReadTrusted(context.Context) ([]byte, error) {
	b, err := os.ReadFile(string(f))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// String names the file, for errors.
func (f TrustFile) String() string { return string(f) }

// WriteTrusted replaces the file's content with signed.
func (f TrustFile) WriteTrusted(_ context.Context, signed []byte) error {
	err := atomicfile.Replace(string(f), signed, 0o644)
	if errors.Is(err, atomicfile.ErrDirNotSynced) {
		return nil // best effort: not every system syncs a directory, and the file is whole either way
	}
	return err
}

// A Client is an auditor's view of one log, as golang.org/x/mod/sumdb's
// Client is for the Go checksum database: it keeps the last checkpoint it
// trusted in a [TrustStore], and accepts a new checkpoint from a [Source]
// only if the verifier signed it and it extends the trusted one. It names
// what it finds: a log that shrank ([ErrTruncated]), a history that forked
// or was rewritten ([ErrFork]), an entry that is not the one the
// checkpoint commits to ([ErrEntryMismatch]). A Client is not safe for
// concurrent use; two Clients sharing a TrustStore may each write their
// own latest checkpoint.
type Client struct {
	src   Source
	trust TrustStore
	v     note.Verifier

	latest *Checkpoint // set by Update or CheckExport

	witnesses *WitnessPolicy // set by RequireWitnesses
	cosigners []string       // the witnesses that cosigned latest
}

// RequireWitnesses makes the Client accept a checkpoint (in Update and
// CheckExport) only if it carries the cosignatures of a quorum of the
// policy's witnesses, as [WitnessPolicy.Check] says; a checkpoint without
// them is refused with an error wrapping [ErrQuorum]. The witnesses' keys
// come from the witnesses or the supervisory authority out of band, never
// from the log.
func (c *Client) RequireWitnesses(p WitnessPolicy) error {
	if err := p.Valid(); err != nil {
		return err
	}
	c.witnesses = &p
	return nil
}

// Cosigners returns the names of the policy's witnesses that cosigned the
// checkpoint of the last Update or CheckExport, in the policy's order;
// nil without a witness policy.
func (c *Client) Cosigners() []string { return slices.Clone(c.cosigners) }

// checkWitnesses applies the witness policy, if any, to a signed checkpoint.
func (c *Client) checkWitnesses(signed []byte) error {
	c.cosigners = nil
	if c.witnesses == nil {
		return nil
	}
	who, err := c.witnesses.Check(signed, c.v)
	if err != nil {
		return fmt.Errorf("audit: the log's checkpoint: %w", err)
	}
	c.cosigners = who
	return nil
}

// NewClient returns a Client that reads the log from src (nil if the client
// only checks exports), keeps its trusted checkpoint in trust and accepts
// only checkpoints signed by v. The verifier key comes from the operator
// out of band, never from the log itself.
func NewClient(src Source, trust TrustStore, v note.Verifier) *Client {
	return &Client{src: src, trust: trust, v: v}
}

// Trusted returns the checkpoint the TrustStore holds, or nil if it holds
// none. It fails if the stored checkpoint is not signed by the verifier.
func (c *Client) Trusted(ctx context.Context) (*Checkpoint, error) {
	b, err := c.trust.ReadTrusted(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: read the trusted checkpoint: %w", err)
	}
	if b == nil {
		return nil, nil
	}
	cp, err := OpenCheckpoint(b, c.v)
	if err != nil {
		// Whatever is wrong with it (another log's checkpoint, a file
		// changed, emptied or cut short, a note that is no checkpoint), it
		// is the auditor's file, not the log's: it says nothing about the
		// log, which was not checked.
		where := "the trust store"
		if s, ok := c.trust.(fmt.Stringer); ok {
			where = "the trust file " + s.String()
		}
		if errors.Is(err, ErrSignature) {
			return nil, fmt.Errorf("%w: %s holds a checkpoint this log's key (%s) did not sign: it is another log's, or was changed; keep one per log",
				ErrTrustedNotThisLog, where, c.v.Name())
		}
		return nil, fmt.Errorf("%w: %s holds no checkpoint signed by this log's key (%s): it was changed or damaged (%v); keep one per log",
			ErrTrustedNotThisLog, where, c.v.Name(), err)
	}
	return &cp, nil
}

// ErrTrustedNotThisLog is returned, wrapped, when what a [TrustStore]
// holds is not a checkpoint signed by the log's key: the auditor's set-up
// is wrong (another log's trust file, or a changed or damaged one: empty,
// cut short, not a signed checkpoint), which says nothing about the log.
var ErrTrustedNotThisLog = errors.New("audit: the trusted checkpoint is not this log's")

// Update fetches the log's latest checkpoint, checks its signature, and
// checks that it extends the checkpoint trusted before, if any, with a
// consistency proof from the Source. If it does, it becomes the trusted
// checkpoint and the one that [Client.CheckEntries] checks against. With
// a witness policy ([Client.RequireWitnesses]) the checkpoint must also
// carry a quorum of cosignatures.
// The Source's proof is hashes alone, signed by nobody: Update asks for
// it only once both checkpoints verified under the verifier, and checks
// it only between their sizes and root hashes ([CheckConsistency]).
// Update returns the new checkpoint, and the one trusted before (nil the first
// time, when the new one is trusted on first use).
func (c *Client) Update(ctx context.Context) (latest Checkpoint, before *Checkpoint, err error) {
	if c.src == nil {
		return Checkpoint{}, nil, errors.New("audit: update: the client has no source")
	}
	signed, err := c.src.Checkpoint(ctx)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("audit: fetch the checkpoint: %w", err)
	}
	latest, err = OpenCheckpoint(signed, c.v)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("audit: the log's checkpoint: %w", err)
	}
	if err := c.checkWitnesses(signed); err != nil {
		return Checkpoint{}, nil, err
	}
	before, err = c.Trusted(ctx)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if before != nil {
		var proof tlog.TreeProof
		if before.Size > 0 && before.Size < latest.Size && before.Origin == latest.Origin {
			if proof, err = c.src.ConsistencyProof(ctx, before.Size, latest.Size); err != nil {
				return Checkpoint{}, nil, fmt.Errorf("audit: no consistency proof from the trusted size %d to %d: %w", before.Size, latest.Size, err)
			}
		}
		if err := CheckConsistency(*before, latest, proof); err != nil {
			return Checkpoint{}, nil, err
		}
	}
	if err := c.trust.WriteTrusted(ctx, signed); err != nil {
		return Checkpoint{}, nil, fmt.Errorf("audit: keep the trusted checkpoint: %w", err)
	}
	c.latest = &latest
	return latest, before, nil
}

// CheckEntries checks, for each index, that the entry the Source serves is
// the one the checkpoint of the last Update commits to at that index.
func (c *Client) CheckEntries(ctx context.Context, indexes []int64) error {
	if c.latest == nil {
		return errors.New("audit: check entries: no checkpoint yet; call Update first")
	}
	for _, i := range indexes {
		if i < 0 || i >= c.latest.Size {
			return fmt.Errorf("%w: entry %d is beyond the checkpoint's %d entries", ErrOutOfRange, i, c.latest.Size)
		}
		leaf, proof, err := c.src.Inclusion(ctx, i, c.latest.Size)
		if err != nil {
			return fmt.Errorf("audit: entry %d: %w", i, err)
		}
		if err := CheckInclusion(*c.latest, i, leaf, proof); err != nil {
			return err
		}
	}
	return nil
}

// CheckExport checks an export offline: that leaves are exactly the
// entries signedCheckpoint commits to (see [VerifyLeaves]), and that they
// extend the checkpoint trusted before, whose tree it recomputes from the
// leaves. If they do, signedCheckpoint becomes the trusted checkpoint.
// It returns the export's checkpoint and the one trusted before.
func (c *Client) CheckExport(ctx context.Context, leaves [][]byte, signedCheckpoint []byte) (latest Checkpoint, before *Checkpoint, err error) {
	if _, err := VerifyLeaves(leaves, signedCheckpoint, c.v); err != nil {
		return Checkpoint{}, nil, err
	}
	if latest, err = OpenCheckpoint(signedCheckpoint, c.v); err != nil {
		return Checkpoint{}, nil, err
	}
	if err := c.checkWitnesses(signedCheckpoint); err != nil {
		return Checkpoint{}, nil, err
	}
	if before, err = c.Trusted(ctx); err != nil {
		return Checkpoint{}, nil, err
	}
	if before != nil {
		switch {
		case before.Origin != latest.Origin:
			return Checkpoint{}, nil, fmt.Errorf("%w: origin %q, trusted %q", ErrFork, latest.Origin, before.Origin)
		case before.Size > latest.Size:
			return Checkpoint{}, nil, fmt.Errorf("%w: the export has %d entries, %d were trusted before", ErrTruncated, latest.Size, before.Size)
		}
		root, err := RootHash(leaves[:before.Size])
		if err != nil {
			return Checkpoint{}, nil, err
		}
		if root != before.Hash {
			return Checkpoint{}, nil, fmt.Errorf("%w: the first %d entries no longer hash to the trusted root", ErrFork, before.Size)
		}
	}
	if err := c.trust.WriteTrusted(ctx, signedCheckpoint); err != nil {
		return Checkpoint{}, nil, fmt.Errorf("audit: keep the trusted checkpoint: %w", err)
	}
	c.latest = &latest
	return latest, before, nil
}

// Sample returns n distinct indexes below size, drawn uniformly at random
// with a cryptographic generator (so that a log cannot guess which entries
// an auditor will check), in increasing order; every index when n >= size.
func Sample(size int64, n int) ([]int64, error) {
	if size <= 0 || n <= 0 {
		return nil, nil
	}
	if int64(n) >= size {
		all := make([]int64, size)
		for i := range all {
			all[i] = int64(i)
		}
		return all, nil
	}
	// Robert Floyd's algorithm: n draws, each one new.
	seen := make(map[int64]bool, n)
	out := make([]int64, 0, n)
	for j := size - int64(n); j < size; j++ {
		r, err := rand.Int(rand.Reader, big.NewInt(j+1))
		if err != nil {
			return nil, fmt.Errorf("audit: sample: %v", err)
		}
		t := r.Int64()
		if seen[t] {
			t = j
		}
		seen[t] = true
		out = append(out, t)
	}
	slices.Sort(out)
	return out, nil
}
