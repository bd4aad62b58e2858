package sqlite_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// TestLargeBatches appends batches of sizes that the multi-row INSERTs
// split into every combination of statements (64, 16, 4 and 1 rows), some
// entries with deliveries, and checks what a reader sees: every leaf in
// order, the tree's hashes as tlog computes them, the deliveries in commit
// order with their entries' indexes, and the agency index.
func TestLargeBatches(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var leaves [][]byte
	var delivered []int64 // audit indexes of the deliveries, in order
	n := 0
	for _, size := range []int{1, 4, 5, 16, 17, 21, 64, 65, 85, 150, 256} {
		batch := make([]audit.Pending, size)
		for k := range batch {
			e := &audit.Entry{
				Time: time.Date(2026, 11, 2, 9, 0, 0, n, time.UTC), Action: "disclose", Outcome: "disclose",
				RequestID:  fmt.Sprintf("r%d", n),
				Requester:  &audit.Requester{Agency: "dk-prison-east", Officer: fmt.Sprintf("o%d", n%7)},
				Holder:     &audit.Party{Agency: "dk-prison-east"},
				Recipients: []audit.Party{{Agency: "dk-police-aarhus"}, {Agency: fmt.Sprintf("agency-%d", n%3)}},
			}
			leaf, err := e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			batch[k] = audit.Pending{Leaf: leaf, Entry: e}
			if n%3 == 0 {
				batch[k].Deliveries = []audit.Delivery{{Recipient: "dk-police-aarhus", Kind: "test", Payload: fmt.Appendf(nil, "payload %d", n)}}
				delivered = append(delivered, int64(n))
			}
			leaves = append(leaves, leaf)
			n++
		}
		first, err := s.Append(ctx, batch)
		if err != nil {
			t.Fatalf("Append(%d items) = %v", size, err)
		}
		if first != int64(n-size) {
			t.Fatalf("Append(%d items) = %d, want %d", size, first, n-size)
		}
	}

	got, err := s.ReadLeaves(ctx, 0, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	for i := range leaves {
		if !bytes.Equal(got[i], leaves[i]) {
			t.Fatalf("leaf %d differs from what was appended", i)
		}
	}
	var want []tlog.Hash // every stored hash, as tlog computes it
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashes(int64(i), leaf, tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(ix))
			for j, x := range ix {
				out[j] = want[x]
			}
			return out, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, hs...)
	}
	indexes := make([]int64, len(want))
	for i := range indexes {
		indexes[i] = int64(i)
	}
	stored, err := s.ReadHashes(ctx, indexes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if stored[i] != want[i] {
			t.Fatalf("stored hash %d differs from tlog's", i)
		}
	}

	items, err := s.Inbox(ctx, "dk-police-aarhus", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(delivered) {
		t.Fatalf("inbox holds %d items, want %d", len(items), len(delivered))
	}
	for i, it := range items {
		if it.AuditIndex != delivered[i] || string(it.Payload) != fmt.Sprintf("payload %d", delivered[i]) ||
			(i > 0 && it.Cursor <= items[i-1].Cursor) {
			t.Fatalf("inbox item %d: index %d, payload %q, cursor %d; want index %d in commit order", i, it.AuditIndex, it.Payload, it.Cursor, delivered[i])
		}
	}
	recs, err := s.Query(ctx, audit.Filter{Agency: "agency-1", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if want := n / 3; len(recs) < want || len(recs) > want+1 {
		t.Errorf("Query(agency-1) = %d records, want %d or %d", len(recs), want, want+1)
	}
	for _, r := range recs {
		if r.Index%3 != 1 {
			t.Errorf("Query(agency-1) returned entry %d, which does not involve it", r.Index)
		}
	}
}
