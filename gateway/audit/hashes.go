package audit

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// RecordHashes returns the record hashes of batch's leaves: each item's
// Hash, or tlog.RecordHash of its Leaf where Hash is zero.
func RecordHashes(batch []Pending) []tlog.Hash {
	out := make([]tlog.Hash, len(batch))
	for i, p := range batch {
		if out[i] = p.Hash; out[i] == (tlog.Hash{}) {
			out[i] = tlog.RecordHash(p.Leaf)
		}
	}
	return out
}

// StoredHashes returns the tlog stored hashes of leaves appended, in order,
// to a log that holds size leaves, given the leaves' record hashes
// ([RecordHashes]). The hashes belong at consecutive storage
// indexes starting at tlog.StoredHashIndex(0, size); a store writes hash i
// at that index plus i. read returns hashes already stored, at indexes below
// that one; a store passes a function that reads inside the transaction
// that appends the batch, so that it sees exactly the tree it extends.
//
// StoredHashes calls read at most once per leaf, and not at all for hashes
// computed earlier in the same batch.
func StoredHashes(ctx context.Context, size int64, records []tlog.Hash, read func(ctx context.Context, indexes []int64) ([]tlog.Hash, error)) ([]tlog.Hash, error) {
	if size < 0 {
		return nil, fmt.Errorf("audit: stored hashes: negative size %d", size)
	}
	base := tlog.StoredHashIndex(0, size)
	out := make([]tlog.Hash, 0, 2*len(records)+1)
	stored := make(map[int64]tlog.Hash) // hashes read from the store so far
	r := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hashes := make([]tlog.Hash, len(indexes))
		var need []int64
		for i, x := range indexes {
			switch h, ok := stored[x]; {
			case x >= base && x-base < int64(len(out)):
				hashes[i] = out[x-base]
			case x >= base:
				return nil, fmt.Errorf("audit: stored hashes: hash %d not computed yet", x)
			case ok:
				hashes[i] = h
			default:
				need = append(need, x)
			}
		}
		if len(need) == 0 {
			return hashes, nil
		}
		got, err := read(ctx, need)
		if err != nil {
			return nil, err
		}
		if len(got) != len(need) {
			return nil, fmt.Errorf("audit: stored hashes: read %d hashes, got %d", len(need), len(got))
		}
		for i, x := range need {
			stored[x] = got[i]
		}
		for i, x := range indexes {
			if x < base {
				hashes[i] = stored[x]
			}
		}
		return hashes, nil
	})
	for i, h := range records {
		hs, err := tlog.StoredHashesForRecordHash(size+int64(i), h, r)
		if err != nil {
			return nil, fmt.Errorf("audit: stored hashes of leaf %d: %w", size+int64(i), err)
		}
		out = append(out, hs...)
	}
	return out, nil
}
