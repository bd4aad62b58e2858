package audit

import (
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
)

// CheckConsistency checks that latest extends trusted. proof is the
// consistency proof from trusted.Size to latest.Size (nil when the sizes
// are equal). Both checkpoints must already be signature-checked.
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
	if err := tlog.CheckTree(proof, latest.Size, latest.Hash, trusted.Size, trusted.Hash); err != nil {
		return fmt.Errorf("%w: the tree of size %d does not extend the trusted tree of size %d: %v", ErrFork, latest.Size, trusted.Size, err)
	}
	return nil
}

// CheckInclusion checks that leaf is entry index of the tree cp commits to.
func CheckInclusion(cp Checkpoint, index int64, leaf []byte, proof tlog.RecordProof) error {
	if index < 0 || index >= cp.Size {
		return fmt.Errorf("%w: entry %d is beyond the checkpoint's %d entries", ErrOutOfRange, index, cp.Size)
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Hash, index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("%w: entry %d: %v", ErrEntryMismatch, index, err)
	}
	return nil
}
