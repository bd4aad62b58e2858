package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestEdgeCache appends batches of random sizes, some through the cache
// and some by another writer that bypasses it, and checks that the cache
// gives exactly the hashes StoredHashes computes from the store, and that
// appending in turn reads nothing back from the store.
func TestEdgeCache(t *testing.T) {
	ctx := context.Background()
	store := map[int64]tlog.Hash{} // storage index -> hash, as committed
	var size int64
	reads := 0
	read := func(_ context.Context, indexes []int64) ([]tlog.Hash, error) {
		reads += len(indexes)
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			h, ok := store[x]
			if !ok {
				return nil, fmt.Errorf("hash %d not stored", x)
			}
			out[i] = h
		}
		return out, nil
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
