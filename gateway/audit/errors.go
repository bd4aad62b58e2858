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

// ErrTampered is returned, wrapped, when a store's query index (the values
// Query filters on) does not match the leaves the tree commits to: a
// column or index was edited, or the schema that derives it from the
// leaves was changed. Errors that name the entry and the column are
// [*IndexError]s.
var ErrTampered = errors.New("audit: query index tampered with")

// An IndexError reports a query index that disagrees with the leaves: the
// value of Column stored for entry Index is not the one its leaf gives, or,
// with Index -1, the schema no longer derives Column from the leaves. It
// names no values: they may be personal data.
type IndexError struct {
	Index  int64  // the entry, or -1 for the whole column
	Column string // one of IndexColumns
	Detail string // what is wrong, without values; may be empty
}

func (e *IndexError) Error() string {
	var s string
	if e.Index < 0 {
		s = fmt.Sprintf("audit: query index tampered with: %s is no longer derived from the leaves", e.Column)
	} else {
		s = fmt.Sprintf("audit: query index tampered with: entry %d: %s does not match the leaf", e.Index, e.Column)
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns ErrTampered.
func (e *IndexError) Unwrap() error { return ErrTampered }

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
