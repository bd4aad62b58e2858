package audit

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// InclusionProof returns the proof that the entry at index is in the tree
// of the first treeSize entries. Check it with tlog.CheckRecord against the
// root hash of a checkpoint of that size.
func (l *Log) InclusionProof(ctx context.Context, index, treeSize int64) (tlog.RecordProof, error) {
	size, err := l.Size(ctx)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= treeSize || treeSize > size {
		return nil, fmt.Errorf("audit: inclusion proof of %d in tree of size %d, log size %d: %w", index, treeSize, size, ErrOutOfRange)
	}
	p, err := tlog.ProveRecord(treeSize, index, l.hashReader(ctx, "inclusion proof"))
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("audit: inclusion proof: %v", err)
	}
	return p, nil
}

// ConsistencyProof returns the proof that the tree of the first newSize
// entries extends the tree of the first oldSize entries. Check it with
// tlog.CheckTree against the root hashes of checkpoints of those sizes.
// oldSize must be at least 1.
func (l *Log) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	size, err := l.Size(ctx)
	if err != nil {
		return nil, err
	}
	if oldSize < 1 || oldSize > newSize || newSize > size {
		return nil, fmt.Errorf("audit: consistency proof from size %d to %d, log size %d: %w", oldSize, newSize, size, ErrOutOfRange)
	}
	p, err := tlog.ProveTree(newSize, oldSize, l.hashReader(ctx, "consistency proof"))
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("audit: consistency proof: %v", err)
	}
	return p, nil
}
