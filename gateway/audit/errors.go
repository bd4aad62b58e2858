package audit

import (
	"errors"
	"fmt"
)

// ErrUnavailable is returned, wrapped, when the store cannot be reached or
// fails. It never means that an entry was recorded: callers MUST NOT
// disclose, and may retry later.
var ErrUnavailable = errors.New("audit: log unavailable")

// ErrOutOfRange is returned, wrapped, when an index or tree size asked for
// is beyond the log: the caller's mistake, not the store's.
var ErrOutOfRange = errors.New("audit: index or tree size out of range")

// errClosed is the cause of the ErrUnavailable that Append returns after Close.
var errClosed = errors.New("log closed")

// ErrSignature is returned, wrapped, by [VerifyLeaves] and [OpenCheckpoint]
// when a checkpoint carries no valid signature by the expected key.
var ErrSignature = errors.New("audit: checkpoint not signed by the expected key")

// ErrRootMismatch is returned, wrapped, by [VerifyLeaves] when the leaves
// hash to a different root than the checkpoint commits to: an entry was
// modified, reordered or replaced.
var ErrRootMismatch = errors.New("audit: root hash does not match the checkpoint")

// A SizeMismatchError reports that a checkpoint covers a different number of
// leaves than were given to [VerifyLeaves]: the leaves were truncated
// (fewer) or have entries the checkpoint does not cover (more).
type SizeMismatchError struct {
	Leaves     int64 // number of leaves given
	Checkpoint int64 // tree size in the checkpoint
}

func (e *SizeMismatchError) Error() string {
	what := "truncated"
	if e.Leaves > e.Checkpoint {
		what = "entries not covered by the checkpoint"
	}
	return fmt.Sprintf("audit: verify: checkpoint covers %d entries, got %d (%s)", e.Checkpoint, e.Leaves, what)
}

// unavailableError wraps a store failure so that errors.Is reports both
// ErrUnavailable and the cause.
type unavailableError struct {
	op  string
	err error
}

func unavailable(op string, err error) error {
	if err == nil {
		return nil
	}
	return &unavailableError{op: op, err: err}
}

func (e *unavailableError) Error() string {
	return "audit: " + e.op + ": log unavailable: " + e.err.Error()
}

func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }
