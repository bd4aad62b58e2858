package audit_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestStoredHashes appends batches of many sizes and checks that
// StoredHashes computes what one tlog.StoredHashes call per leaf would,
// reading only hashes stored before the batch.
func TestStoredHashes(t *testing.T) {
	var stored []tlog.Hash // what a store would hold
	mem := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = stored[x]
		}
		return out, nil
	})
	size := int64(0)
	for _, n := range []int{1, 1, 2, 5, 8, 1, 16, 3, 33, 64, 7} {
		var leaves [][]byte
		var want []tlog.Hash
		for k := range n {
			leaf, _ := entry(int(size) + k).Marshal()
			leaves = append(leaves, leaf)
		}
		// One leaf at a time, the way tlog documents it.
		ref := slices.Clone(stored)
		refReader := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(ix))
			for i, x := range ix {
				out[i] = ref[x]
			}
			return out, nil
		})
		for k, leaf := range leaves {
			hs, err := tlog.StoredHashes(size+int64(k), leaf, refReader)
			if err != nil {
				t.Fatal(err)
			}
			ref = append(ref, hs...)
			want = append(want, hs...)
		}

		base := tlog.StoredHashIndex(0, size)
		reads := 0
		got, err := audit.StoredHashes(t.Context(), size, recordHashes(leaves), func(ctx context.Context, ix []int64) ([]tlog.Hash, error) {
			reads++
			for _, x := range ix {
				if x >= base {
					t.Fatalf("StoredHashes read hash %d, at or after the batch's first index %d", x, base)
				}
			}
			return mem.ReadHashes(ix)
		})
		if err != nil {
			t.Fatalf("StoredHashes(size %d, %d leaves) = %v", size, n, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("StoredHashes(size %d, %d leaves) differs from tlog.StoredHashes leaf by leaf", size, n)
		}
		if reads > n {
			t.Errorf("StoredHashes(size %d, %d leaves) read the store %d times, want at most %d", size, n, reads, n)
		}
		stored = append(stored, got...)
		size += int64(n)
		if root, _ := tlog.TreeHash(size, mem); root != mustRoot(t, size) {
			t.Fatalf("TreeHash(%d) over the computed hashes = %v, want %v", size, root, mustRoot(t, size))
		}
	}
}

// recordHashes returns the leaves' record hashes, as RecordHashes does for
// a batch whose items carry none.
func recordHashes(leaves [][]byte) []tlog.Hash {
	batch := make([]audit.Pending, len(leaves))
	for i, leaf := range leaves {
		batch[i].Leaf = leaf
	}
	return audit.RecordHashes(batch)
}

// TestRecordHashes: an item's Hash is used as given (the Log computes it
// before the batch), and computed from its Leaf where it is zero.
func TestRecordHashes(t *testing.T) {
	a, b := []byte(`{"n":1}`), []byte(`{"n":2}`)
	given := tlog.RecordHash([]byte("given"))
	got := audit.RecordHashes([]audit.Pending{{Leaf: a}, {Leaf: b, Hash: given}})
	if want := []tlog.Hash{tlog.RecordHash(a), given}; !slices.Equal(got, want) {
		t.Errorf("RecordHashes() = %v, want %v", got, want)
	}
}

func mustRoot(t *testing.T, n int64) tlog.Hash {
	t.Helper()
	var leaves [][]byte
	for i := range n {
		leaf, _ := entry(int(i)).Marshal()
		leaves = append(leaves, leaf)
	}
	h, err := audit.RootHash(leaves)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestStoredHashesReadError(t *testing.T) {
	boom := errors.New("boom")
	leaf, _ := entry(0).Marshal()
	_, err := audit.StoredHashes(t.Context(), 1, recordHashes([][]byte{leaf}), func(context.Context, []int64) ([]tlog.Hash, error) {
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("StoredHashes(failing reader) = %v, want it to wrap the reader's error", err)
	}
	if _, err := audit.StoredHashes(t.Context(), -1, recordHashes([][]byte{leaf}), nil); err == nil {
		t.Error("StoredHashes(size -1) = nil error, want an error")
	}
}
