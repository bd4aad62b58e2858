package audit

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// An EdgeCache remembers the right edge of the tree a store last appended
// to: the stored hashes of the complete subtrees it decomposes into, which
// are all the stored hashes the next append reads. With it, a store that
// appends in turn need not read them back inside its transaction. Stored
// hashes never change once committed, so a cached hash is never stale;
// when the tree grew meanwhile (another process appended), the edge of the
// tree as the transaction sees it is read once, as without a cache. It is
// safe for concurrent use; the zero value is empty.
type EdgeCache struct {
	mu     sync.Mutex
	size   int64               // the tree size hashes is the edge of
	hashes map[int64]tlog.Hash // by storage index
}

// StoredHashes is [StoredHashes] served from the cache: read is called
// only when the cache does not hold the edge of a tree of size leaves.
// The store calls committed once its transaction has committed the batch
// (and never otherwise), so that the cache learns only hashes the store
// holds.
func (c *EdgeCache) StoredHashes(ctx context.Context, size int64, records []tlog.Hash, read func(ctx context.Context, indexes []int64) ([]tlog.Hash, error)) (hashes []tlog.Hash, committed func(), err error) {
	edge := rightEdge(size)
	c.mu.Lock()
	known := c.hashes
	if c.size != size {
		known = nil
	}
	c.mu.Unlock()
	if known == nil && size > 0 {
		got, err := read(ctx, edge)
		if err != nil {
			return nil, nil, err
		}
		if len(got) != len(edge) {
			return nil, nil, fmt.Errorf("audit: stored hashes: read %d hashes, got %d", len(edge), len(got))
		}
		known = make(map[int64]tlog.Hash, len(edge))
		for i, x := range edge {
			known[x] = got[i]
		}
	}
	hashes, err = StoredHashes(ctx, size, records, func(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			h, ok := known[x]
			if !ok {
				// Not on the edge: cannot happen for an append, but read
				// rather than fail.
				return read(ctx, indexes)
			}
			out[i] = h
		}
		return out, nil
	})
	if err != nil {
		return nil, nil, err
	}
	newSize := size + int64(len(records))
	base := tlog.StoredHashIndex(0, size)
	committed = func() {
		next := map[int64]tlog.Hash{}
		for _, x := range rightEdge(newSize) {
			if h, ok := known[x]; ok {
				next[x] = h
			} else if x >= base && x-base < int64(len(hashes)) {
				next[x] = hashes[x-base]
			} else {
				return // cannot happen; leave the cache to be refilled
			}
		}
		c.mu.Lock()
		c.size, c.hashes = newSize, next
		c.mu.Unlock()
	}
	return hashes, committed, nil
}

// rightEdge returns the storage indexes of the roots of the complete
// subtrees that a tree of size leaves decomposes into, largest first.
func rightEdge(size int64) []int64 {
	var out []int64
	var offset int64
	for level := 62; level >= 0; level-- {
		if size&(1<<level) == 0 {
			continue
		}
		out = append(out, tlog.StoredHashIndex(level, offset>>level))
		offset += 1 << level
	}
	return out
}
