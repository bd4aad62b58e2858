package audit

import (
	"context"
	"fmt"
	"slices"
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
//
// It also keeps the last stored hashes its store committed, from
// consecutive appends (65,536 to 131,072 of them, 2 to 4 MB), for
// [EdgeCache.ReadHashes]: with the edge, they are the hashes that the proof
// of a recent entry and a checkpoint of the tree read.
type EdgeCache struct {
	mu     sync.Mutex
	size   int64               // the tree size hashes is the edge of
	hashes map[int64]tlog.Hash // by storage index

	recent   []tlog.Hash // the stored hashes at indexes [recentLo, recentLo+len(recent))
	recentLo int64
}

// recentHashes is how many of the stored hashes it committed last an
// EdgeCache keeps at least; it keeps at most twice as many.
const recentHashes = 1 << 16

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
		if c.recentLo+int64(len(c.recent)) != base { // another writer appended between
			c.recent, c.recentLo = nil, base
		}
		c.recent = append(c.recent, hashes...)
		if n := len(c.recent); n > 2*recentHashes {
			c.recent = slices.Clone(c.recent[n-recentHashes:])
			c.recentLo += int64(n - recentHashes)
		}
		c.mu.Unlock()
	}
	return hashes, committed, nil
}

// ReadHashes returns the stored hashes at indexes: those the cache holds
// (the edge, and the hashes committed last) from memory, and the others
// from read, called once if any is missing. Stored hashes never change
// once committed, so what the cache holds is what the store holds.
func (c *EdgeCache) ReadHashes(ctx context.Context, indexes []int64, read func(ctx context.Context, indexes []int64) ([]tlog.Hash, error)) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	var at []int // where in out each missing hash goes
	c.mu.Lock()
	for i, x := range indexes {
		if k := x - c.recentLo; k >= 0 && k < int64(len(c.recent)) {
			out[i] = c.recent[k]
		} else if h, ok := c.hashes[x]; ok {
			out[i] = h
		} else {
			missing, at = append(missing, x), append(at, i)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := read(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(got) != len(missing) {
		return nil, fmt.Errorf("audit: read hashes: read %d, got %d", len(missing), len(got))
	}
	for j, i := range at {
		out[i] = got[j]
	}
	return out, nil
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
