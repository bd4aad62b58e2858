package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// hashStore holds stored hashes by storage index, as a store would.
type hashStore map[int64]tlog.Hash

// read returns the hashes at indexes, failing on one not stored.
func (m hashStore) read(_ context.Context, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := m[x]
		if !ok {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = h
	}
	return out, nil
}

// TestEdgeCache appends batches of random sizes, some through the cache
// and some by another writer that bypasses it, and checks that the cache
// gives exactly the hashes StoredHashes computes from the store, and that
// appending in turn reads nothing back from the store.
func TestEdgeCache(t *testing.T) {
	ctx := context.Background()
	store := hashStore{} // storage index -> hash, as committed
	var size int64
	reads := 0
	read := func(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
		reads += len(indexes)
		return store.read(ctx, indexes)
	}
	commit := func(hashes []tlog.Hash) {
		base := tlog.StoredHashIndex(0, size)
		for i, h := range hashes {
			store[base+int64(i)] = h
		}
	}
	var c EdgeCache
	stale := false // another writer appended since this one last did
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := 1 + rng.IntN(40)
		leaves := make([]tlog.Hash, n) // record hashes
		for i := range leaves {
			leaves[i] = tlog.RecordHash(fmt.Appendf(nil, "leaf %d", size+int64(i)))
		}
		want, err := StoredHashes(ctx, size, leaves, read)
		if err != nil {
			t.Fatal(err)
		}
		other := round%7 == 3   // another process appends, bypassing the cache
		failed := round%11 == 5 // the transaction fails: committed is not called
		if !other {
			reads = 0
			got, committed, err := c.StoredHashes(ctx, size, leaves, read)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: cached StoredHashes differ from the store's", round)
			}
			if round > 0 && !stale && reads != 0 {
				t.Errorf("round %d (size %d): %d hashes read back although this writer appended last", round, size, reads)
			}
			if failed {
				continue
			}
			commit(got)
			committed()
			stale = false
		} else {
			commit(want)
			stale = true
		}
		size += int64(n)
	}
}

// TestEdgeCacheReadHashes: after appends in turn, the hashes they
// committed and the tree's edge are read from memory, others from the
// store in one call for the missing ones only; an append by another writer
// starts the window afresh, and the window stays bounded.
func TestEdgeCacheReadHashes(t *testing.T) {
	ctx := context.Background()
	store := hashStore{}
	var size int64
	var c EdgeCache
	var asked [][]int64
	read := func(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
		asked = append(asked, slices.Clone(indexes))
		return store.read(ctx, indexes)
	}
	appendN := func(n int, viaCache bool) {
		t.Helper()
		records := make([]tlog.Hash, n)
		for i := range records {
			records[i] = tlog.RecordHash(fmt.Appendf(nil, "leaf %d", size+int64(i)))
		}
		var hashes []tlog.Hash
		var committed func()
		var err error
		if viaCache {
			hashes, committed, err = c.StoredHashes(ctx, size, records, read)
		} else {
			hashes, err = StoredHashes(ctx, size, records, read)
		}
		if err != nil {
			t.Fatal(err)
		}
		base := tlog.StoredHashIndex(0, size)
		for i, h := range hashes {
			store[base+int64(i)] = h
		}
		if committed != nil {
			committed()
		}
		size += int64(n)
	}
	check := func(what string, indexes []int64, wantAsked []int64) {
		t.Helper()
		asked = nil
		got, err := c.ReadHashes(ctx, indexes, read)
		if err != nil {
			t.Fatalf("%s: ReadHashes = %v", what, err)
		}
		for i, x := range indexes {
			if got[i] != store[x] {
				t.Fatalf("%s: hash %d = %v, want the stored %v", what, x, got[i], store[x])
			}
		}
		var gotAsked []int64
		for _, a := range asked {
			gotAsked = append(gotAsked, a...)
		}
		if len(asked) > 1 || !slices.Equal(gotAsked, wantAsked) {
			t.Errorf("%s: the store was asked for %v, want %v in at most one call", what, asked, wantAsked)
		}
	}
	appendN(40, false) // before this writer: only in the store
	for _, n := range []int{3, 17, 1, 30} {
		appendN(n, true)
	}
	recentFrom := tlog.StoredHashIndex(0, 40)
	last := tlog.StoredHashIndex(0, size) - 1
	proof := func(n int64) []int64 { // the hashes a proof of leaf n reads, with its own
		var ix []int64
		_, err := tlog.ProveRecord(size, n, tlog.HashReaderFunc(func(x []int64) ([]tlog.Hash, error) {
			ix = append(ix, x...)
			return make([]tlog.Hash, len(x)), nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		return append(ix, tlog.StoredHashIndex(0, n))
	}
	check("the hashes committed last", []int64{recentFrom, last}, nil)
	check("the proof of the last entry", proof(size-1), nil)
	check("the edge", rightEdge(size), nil)
	check("an old hash among recent ones", []int64{last, 5, recentFrom}, []int64{5})

	appendN(2, false) // another writer
	appendN(3, true)  // the window starts afresh at this append's hashes
	from := tlog.StoredHashIndex(0, size-3)
	check("after another writer", []int64{from, from - 1}, []int64{from - 1})

	for range 5 {
		appendN(recentHashes/4, true)
	}
	c.mu.Lock()
	n := len(c.recent)
	c.mu.Unlock()
	if n < recentHashes || n > 2*recentHashes {
		t.Errorf("the window holds %d hashes, want %d to %d", n, recentHashes, 2*recentHashes)
	}
	check("the last hash after many appends", []int64{tlog.StoredHashIndex(0, size) - 1}, nil)
}
