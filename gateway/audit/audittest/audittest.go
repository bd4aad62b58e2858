// Package audittest provides a conformance suite for [audit.Store]
// implementations.
//
// Every store runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		audittest.Run(t, func(t *testing.T) audittest.OpenFunc {
//			path := filepath.Join(t.TempDir(), "audit.db") // a fresh, empty database
//			return func(t *testing.T) audit.Store {
//				s, err := sqlite.Open(t.Context(), path)
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			}
//		})
//	}
package audittest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// An OpenFunc opens a Store on one database. The suite calls it more than
// once for the same database: again after closing a store, to check what
// survives, and while a store is open, to append from two stores at once
// as two processes or replicas would. The suite closes every store it
// opens.
type OpenFunc func(t *testing.T) audit.Store

// Run exercises the stores that newDB opens against the contract documented
// on [audit.Store]. newDB prepares a fresh, empty database for one subtest
// and returns how to open it.
func Run(t *testing.T, newDB func(t *testing.T) OpenFunc) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, open OpenFunc)
	}{
		{"AppendAssignsConsecutiveIndexes", testConsecutive},
		{"AppendRejectsInvalidBatch", testInvalidBatch},
		{"FailedBatchLeavesNothing", testFailedBatch},
		{"ConcurrentAppendsNeverFork", testConcurrent},
		{"TwoStoresOnOneDatabase", testTwoStores},
		{"HashesSurviveReopen", testReopen},
		{"ReadLeaves", testReadLeaves},
		{"ReadHashes", testReadHashes},
		{"Query", testQuery},
		{"Stat", testStat},
		{"IndexOddStrings", testIndexOddStrings},
		{"CheckIndexRange", testCheckIndexRange},
		{"Checkpoints", testCheckpoints},
		{"Inbox", testInbox},
		{"InboxOnlyAfterCommit", testInboxAfterCommit},
		{"InboxSentMark", testInboxSent},
		{"CloseTwice", testCloseTwice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, newDB(t))
		})
	}
}

// openStore opens a store and closes it when the test ends.
func openStore(t *testing.T, open OpenFunc) audit.Store {
	t.Helper()
	s := open(t)
	if s == nil {
		t.Fatal("OpenFunc returned a nil Store")
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return s
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// newEntry returns a distinct, valid entry.
func newEntry(i int) *audit.Entry {
	return &audit.Entry{
		Time:      t0.Add(time.Duration(i) * time.Second),
		Action:    "disclose",
		RequestID: fmt.Sprintf("req-%d", i),
		Requester: &audit.Requester{Agency: "police-nl", Officer: "officer-7"},
		Holder:    &audit.Party{Agency: "probation-nl"},
		Subject:   &audit.Subject{Pseudonym: fmt.Sprintf("ps-%d", i%5)},
		Outcome:   "disclose",
	}
}

// pending returns e as a batch item with the given deliveries.
func pending(t *testing.T, e *audit.Entry, deliveries ...audit.Delivery) audit.Pending {
	t.Helper()
	leaf, err := e.Marshal()
	if err != nil {
		t.Fatalf("Marshal() = %v", err)
	}
	return audit.Pending{Leaf: leaf, Entry: e, Deliveries: deliveries}
}

// batchOf returns n distinct batch items numbered from i.
func batchOf(t *testing.T, i, n int) []audit.Pending {
	t.Helper()
	b := make([]audit.Pending, n)
	for k := range b {
		b[k] = pending(t, newEntry(i+k))
	}
	return b
}

func mustAppend(t *testing.T, s audit.Store, batch []audit.Pending) int64 {
	t.Helper()
	first, err := s.Append(t.Context(), batch)
	if err != nil {
		t.Fatalf("Append(%d items) = %v", len(batch), err)
	}
	return first
}

func mustSize(t *testing.T, s audit.Store) int64 {
	t.Helper()
	n, err := s.Size(t.Context())
	if err != nil {
		t.Fatalf("Size() = %v", err)
	}
	return n
}

func mustLeaves(t *testing.T, s audit.Store, start, end int64) [][]byte {
	t.Helper()
	leaves, err := s.ReadLeaves(t.Context(), start, end)
	if err != nil {
		t.Fatalf("ReadLeaves(%d, %d) = %v", start, end, err)
	}
	return leaves
}

// checkTree checks that the store holds exactly leaves, and that its stored
// hashes and root are those of a tree recomputed from them.
func checkTree(t *testing.T, s audit.Store, leaves [][]byte) {
	t.Helper()
	ctx := t.Context()
	n := int64(len(leaves))
	if got := mustSize(t, s); got != n {
		t.Fatalf("Size() = %d, want %d", got, n)
	}
	got := mustLeaves(t, s, 0, n)
	for i := range leaves {
		if !bytes.Equal(got[i], leaves[i]) {
			t.Fatalf("ReadLeaves(0, %d)[%d] = %q, want %q", n, i, got[i], leaves[i])
		}
	}
	var want []tlog.Hash
	mem := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = want[x]
		}
		return out, nil
	})
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashes(int64(i), leaf, mem)
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
		t.Fatalf("ReadHashes(0..%d) = %v", len(indexes)-1, err)
	}
	if diff := cmp.Diff(want, stored, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("stored hashes differ from a tree recomputed from the leaves (-want +got):\n%s", diff)
	}
	if _, err := s.ReadHashes(ctx, []int64{int64(len(want))}); err == nil {
		t.Errorf("ReadHashes(%d) = nil error, want an error: only %d hashes belong to a tree of %d leaves", len(want), len(want), n)
	}
	wantRoot, _ := tlog.TreeHash(n, mem)
	root, err := tlog.TreeHash(n, tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) { return s.ReadHashes(ctx, ix) }))
	if err != nil {
		t.Fatalf("TreeHash(%d) over the store = %v", n, err)
	}
	if root != wantRoot {
		t.Errorf("TreeHash(%d) over the store = %v, want %v", n, root, wantRoot)
	}
}

func leavesOf(batch []audit.Pending) [][]byte {
	var out [][]byte
	for _, p := range batch {
		out = append(out, p.Leaf)
	}
	return out
}

func testConsecutive(t *testing.T, open OpenFunc) {
	s := openStore(t, open)
	if got := mustSize(t, s); got != 0 {
		t.Fatalf("Size() of a new store = %d, want 0", got)
	}
	var all [][]byte
	next := 0
	for _, n := range []int{1, 3, 1, 5, 2} {
		b := batchOf(t, next, n)
		if first := mustAppend(t, s, b); first != int64(next) {
			t.Errorf("Append(%d items) = %d, want %d", n, first, next)
		}
		next += n
		all = append(all, leavesOf(b)...)
	}
	checkTree(t, s, all)
}

func testInvalidBatch(t *testing.T, open OpenFunc) {
	s := openStore(t, open)
	ok := batchOf(t, 0, 2)
	for _, tc := range []struct {
		name  string
		batch []audit.Pending
	}{
		{"empty", nil},
		{"nil_entry_last", append(slices.Clone(ok), audit.Pending{Leaf: []byte(`{}`)})},
		{"empty_leaf_last", append(slices.Clone(ok), audit.Pending{Entry: newEntry(9)})},
	} {
		if first, err := s.Append(t.Context(), tc.batch); err == nil {
			t.Errorf("%s: Append() = %d, nil error; want an error", tc.name, first)
		}
	}
	checkTree(t, s, nil)
}

func testFailedBatch(t *testing.T, open OpenFunc) {
	s := openStore(t, open)
	b := batchOf(t, 0, 3)
	mustAppend(t, s, b)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	failed := []audit.Pending{
		pending(t, newEntry(3), audit.Delivery{Recipient: "police-nl", Kind: "k", Payload: []byte("p")}),
		pending(t, newEntry(4)),
	}
	if first, err := s.Append(ctx, failed); err == nil {
		t.Fatalf("Append(cancelled context) = %d, nil error; want an error", first)
	}
	checkTree(t, s, leavesOf(b))
	items, err := s.Inbox(t.Context(), "police-nl", 0, 0)
	if err != nil {
		t.Fatalf("Inbox() = %v", err)
	}
	if len(items) != 0 {
		t.Errorf("Inbox() after a failed batch = %d items, want 0", len(items))
	}
	// The log goes on where it was.
	again := batchOf(t, 3, 2)
	if first := mustAppend(t, s, again); first != 3 {
		t.Errorf("Append() after a failed batch = %d, want 3", first)
	}
	checkTree(t, s, append(leavesOf(b), leavesOf(again)...))
}

// appendConcurrently appends goroutines×perG batches of 1 to 3 entries
// through the given stores, round robin, and checks that the batches tile
// the log with no gap, duplicate or fork.
func appendConcurrently(t *testing.T, stores []audit.Store, goroutines, perG int) {
	t.Helper()
	type placed struct {
		first  int64
		leaves [][]byte
	}
	results := make([][]placed, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		s := stores[g%len(stores)]
		wg.Go(func() {
			for j := range perG {
				n := (g+j)%3 + 1
				b := make([]audit.Pending, n)
				for k := range b {
					e := newEntry(g*10000 + j*10 + k)
					e.RequestID = fmt.Sprintf("g%d-j%d-k%d", g, j, k)
					b[k] = pending(t, e)
				}
				first, err := s.Append(t.Context(), b)
				if err != nil {
					t.Errorf("goroutine %d: Append() = %v", g, err)
					return
				}
				results[g] = append(results[g], placed{first, leavesOf(b)})
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var total int64
	for _, rs := range results {
		for _, r := range rs {
			total += int64(len(r.leaves))
		}
	}
	all := make([][]byte, total)
	for g, rs := range results {
		for _, r := range rs {
			for k, leaf := range r.leaves {
				i := r.first + int64(k)
				if i < 0 || i >= total {
					t.Fatalf("goroutine %d: Append() placed a leaf at %d, outside [0, %d)", g, i, total)
				}
				if all[i] != nil {
					t.Fatalf("index %d assigned twice", i)
				}
				all[i] = leaf
			}
		}
	}
	checkTree(t, stores[0], all)
}

func testConcurrent(t *testing.T, open OpenFunc) {
	s := openStore(t, open)
	appendConcurrently(t, []audit.Store{s}, 8, 50)
}

func testTwoStores(t *testing.T, open OpenFunc) {
	a := openStore(t, open)
	b := openStore(t, open)
	appendConcurrently(t, []audit.Store{a, b}, 4, 25)
}

func testReopen(t *testing.T, open OpenFunc) {
	ctx := t.Context()
	s := openStore(t, open)
	var all [][]byte
	for i, n := range []int{1, 4, 2, 3} {
		b := batchOf(t, 10*i, n)
		b[0].Deliveries = []audit.Delivery{{Recipient: "police-nl", Kind: "k", Payload: []byte{byte(i)}}}
		mustAppend(t, s, b)
		all = append(all, leavesOf(b)...)
	}
	if err := s.SaveCheckpoint(ctx, 10, []byte("note 10\n")); err != nil {
		t.Fatalf("SaveCheckpoint() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	s = openStore(t, open)
	checkTree(t, s, all)
	size, note, err := s.LatestCheckpoint(ctx)
	if err != nil || size != 10 || string(note) != "note 10\n" {
		t.Errorf("LatestCheckpoint() after reopen = %d, %q, %v; want 10, %q, nil", size, note, err, "note 10\n")
	}
	items, err := s.Inbox(ctx, "police-nl", 0, 0)
	if err != nil || len(items) != 4 {
		t.Errorf("Inbox() after reopen = %d items, %v; want 4, nil", len(items), err)
	}
	b := batchOf(t, 100, 7)
	if first := mustAppend(t, s, b); first != 10 {
		t.Errorf("Append() after reopen = %d, want 10", first)
	}
	checkTree(t, s, append(all, leavesOf(b)...))
}

func testReadLeaves(t *testing.T, open OpenFunc) {
	s := openStore(t, open)
	b := batchOf(t, 0, 6)
	mustAppend(t, s, b)
	want := leavesOf(b)
	for _, tc := range []struct {
		start, end int64
		ok         bool
	}{
		{0, 0, true},
		{6, 6, true},
		{0, 6, true},
		{2, 5, true},
		{5, 6, true},
		{0, 7, false},
		{6, 7, false},
		{4, 3, false},
		{-1, 2, false},
	} {
		got, err := s.ReadLeaves(t.Context(), tc.start, tc.end)
		if !tc.ok {
			if err == nil {
				t.Errorf("ReadLeaves(%d, %d) = %d leaves, nil error; want an error", tc.start, tc.end, len(got))
			}
			continue
		}
		if err != nil {
			t.Errorf("ReadLeaves(%d, %d) = %v", tc.start, tc.end, err)
			continue
		}
		if !slices.EqualFunc(got, want[tc.start:tc.end], bytes.Equal) {
			t.Errorf("ReadLeaves(%d, %d) = %q, want %q", tc.start, tc.end, got, want[tc.start:tc.end])
		}
	}
}

func testReadHashes(t *testing.T, open OpenFunc) {
	s := openStore(t, open)
	b := batchOf(t, 0, 4) // 4 leaves: 7 stored hashes
	mustAppend(t, s, b)
	fwd, err := s.ReadHashes(t.Context(), []int64{0, 1, 2, 3, 4, 5, 6})
	if err != nil {
		t.Fatalf("ReadHashes(0..6) = %v", err)
	}
	if fwd[0] != tlog.RecordHash(b[0].Leaf) || fwd[3] != tlog.RecordHash(b[2].Leaf) {
		t.Errorf("ReadHashes(0, 3) = %v, %v; want the record hashes of leaves 0 and 2", fwd[0], fwd[3])
	}
	rev, err := s.ReadHashes(t.Context(), []int64{6, 2, 0, 2})
	if err != nil {
		t.Fatalf("ReadHashes(6, 2, 0, 2) = %v", err)
	}
	if want := []tlog.Hash{fwd[6], fwd[2], fwd[0], fwd[2]}; !slices.Equal(rev, want) {
		t.Errorf("ReadHashes(6, 2, 0, 2) = %v, want %v (in the order asked)", rev, want)
	}
	if got, err := s.ReadHashes(t.Context(), []int64{1, 7}); err == nil {
		t.Errorf("ReadHashes(1, 7) = %v, nil error; want an error for the missing hash 7", got)
	}
}

// queryFixture returns entries that differ in every filtered field.
func queryFixture() []*audit.Entry {
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	return []*audit.Entry{
		0: {Time: h(0), Action: "disclose", Outcome: "disclose", RecordType: "risk_assessment",
			Requester: &audit.Requester{Agency: "police-nl", Officer: "officer-1"},
			Holder:    &audit.Party{Agency: "probation-nl"}, Recipients: []audit.Party{{Agency: "police-nl"}},
			Subject: &audit.Subject{Pseudonym: "ps-a"}, ClaimedLegalBasis: "lb-1", LegalBasis: &audit.LegalBasis{ID: "lb-1"}},
		1: {Time: h(1), Action: "request", Outcome: "deny", RecordType: "risk_assessment",
			Requester: &audit.Requester{Agency: "social-de", Officer: "officer-2"},
			Holder:    &audit.Party{Agency: "probation-nl"},
			Subject:   &audit.Subject{Pseudonym: "ps-b"}, ClaimedLegalBasis: "lb-2", Reasons: []string{"NO_LEGAL_BASIS"}},
		2: {Time: h(2), Action: "notify", Outcome: "disclose", RecordType: "release_notice",
			Requester:  &audit.Requester{Agency: "probation-nl", Officer: "officer-3"},
			Holder:     &audit.Party{Agency: "probation-nl"},
			Recipients: []audit.Party{{Agency: "police-nl"}, {Agency: "municipality-x"}},
			Subject:    &audit.Subject{Pseudonym: "ps-a"}, LegalBasis: &audit.LegalBasis{ID: "lb-1", Citation: "Art. 1 <b> & c"}},
		3: {Time: h(3), Action: audit.ActionAuthenticate, Outcome: audit.OutcomeRefused,
			Requester: &audit.Requester{Agency: "unknown-agency"}},
		4: {Time: h(4), Action: "disclose", Outcome: "pseudonymise", RecordType: "risk_assessment",
			Requester: &audit.Requester{Agency: "police-be", Officer: "officer-1"},
			Holder:    &audit.Party{Agency: "probation-nl"}, Recipients: []audit.Party{{Agency: "police-be"}},
			Subject: &audit.Subject{Pseudonym: "ps-c"}, ClaimedLegalBasis: "lb-1", LegalBasis: &audit.LegalBasis{ID: "lb-3"}},
		5: {Time: h(5), Action: audit.ActionKeyRotate, Outcome: audit.OutcomeOK, Detail: map[string]string{"old_version": "1", "new_version": "2"}},
	}
}

func testQuery(t *testing.T, open OpenFunc) {
	s := openStore(t, open)
	entries := queryFixture()
	var batch []audit.Pending
	for _, e := range entries {
		batch = append(batch, pending(t, e))
	}
	mustAppend(t, s, batch[:2])
	mustAppend(t, s, batch[2:3])
	mustAppend(t, s, batch[3:])
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	for _, tc := range []struct {
		name   string
		filter audit.Filter
		want   []int64
	}{
		{"all", audit.Filter{}, []int64{0, 1, 2, 3, 4, 5}},
		{"from", audit.Filter{From: h(1)}, []int64{1, 2, 3, 4, 5}},
		{"to_exclusive", audit.Filter{To: h(2)}, []int64{0, 1}},
		{"from_to", audit.Filter{From: h(1), To: h(3)}, []int64{1, 2}},
		{"from_to_other_zone", audit.Filter{From: h(1).In(time.FixedZone("X", 3600)), To: h(3).In(time.FixedZone("Y", -7200))}, []int64{1, 2}},
		{"agency_requester_or_recipient", audit.Filter{Agency: "police-nl"}, []int64{0, 2}},
		{"agency_holder", audit.Filter{Agency: "probation-nl"}, []int64{0, 1, 2, 4}},
		{"agency_recipient_only", audit.Filter{Agency: "municipality-x"}, []int64{2}},
		{"agency_unknown", audit.Filter{Agency: "nobody"}, nil},
		{"officer", audit.Filter{Officer: "officer-1"}, []int64{0, 4}},
		{"subject", audit.Filter{Subject: "ps-a"}, []int64{0, 2}},
		{"legal_basis_decided", audit.Filter{LegalBasis: "lb-1"}, []int64{0, 2}},
		{"legal_basis_claimed_when_none_decided", audit.Filter{LegalBasis: "lb-2"}, []int64{1}},
		{"legal_basis_decided_over_claimed", audit.Filter{LegalBasis: "lb-3"}, []int64{4}},
		{"outcome", audit.Filter{Outcome: "disclose"}, []int64{0, 2}},
		{"record_type", audit.Filter{RecordType: "risk_assessment"}, []int64{0, 1, 4}},
		{"action", audit.Filter{Action: "disclose"}, []int64{0, 4}},
		{"start", audit.Filter{Start: 3}, []int64{3, 4, 5}},
		{"start_past_end", audit.Filter{Start: 6}, nil},
		{"limit", audit.Filter{Limit: 2}, []int64{0, 1}},
		{"start_limit", audit.Filter{Start: 1, Limit: 2}, []int64{1, 2}},
		{"fields_combine", audit.Filter{Agency: "probation-nl", Outcome: "disclose"}, []int64{0, 2}},
		{"agency_start", audit.Filter{Agency: "police-nl", Start: 1}, []int64{2}},
		// Descending: the latest matches first (the gateway's start reads
		// the latest key entry so).
		{"descending", audit.Filter{Descending: true}, []int64{5, 4, 3, 2, 1, 0}},
		{"descending_limit", audit.Filter{Descending: true, Limit: 2}, []int64{5, 4}},
		{"descending_start", audit.Filter{Descending: true, Start: 3}, []int64{5, 4, 3}},
		{"descending_action_latest", audit.Filter{Action: "disclose", Descending: true, Limit: 1}, []int64{4}},
		{"descending_key_rotate_latest", audit.Filter{Action: audit.ActionKeyRotate, Descending: true, Limit: 1}, []int64{5}},
		{"descending_fields_combine", audit.Filter{Agency: "probation-nl", Outcome: "disclose", Descending: true}, []int64{2, 0}},
		{"descending_none", audit.Filter{Agency: "nobody", Descending: true}, nil},
		// Bounds a Unix nanosecond count cannot hold (before 1678, after
		// 2262) are still bounds: before or after every entry.
		{"from_before_1678", audit.Filter{From: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}, []int64{0, 1, 2, 3, 4, 5}},
		{"to_before_1678", audit.Filter{To: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"from_after_2262", audit.Filter{From: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"to_after_2262", audit.Filter{To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, []int64{0, 1, 2, 3, 4, 5}},
		{"from_to_beyond_both_ends", audit.Filter{From: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, []int64{0, 1, 2, 3, 4, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := s.Query(t.Context(), tc.filter)
			if err != nil {
				t.Fatalf("Query(%+v) = %v", tc.filter, err)
			}
			var got []int64
			for _, r := range recs {
				got = append(got, r.Index)
				if !bytes.Equal(r.Leaf, batch[r.Index].Leaf) {
					t.Errorf("Query(%+v): record %d leaf = %q, want %q", tc.filter, r.Index, r.Leaf, batch[r.Index].Leaf)
				}
				if diff := cmp.Diff(entries[r.Index], r.Entry); diff != "" {
					t.Errorf("Query(%+v): record %d entry mismatch (-want +got):\n%s", tc.filter, r.Index, diff)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Query(%+v) = indexes %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func testCheckpoints(t *testing.T, open OpenFunc) {
	ctx := t.Context()
	s := openStore(t, open)
	size, note, err := s.LatestCheckpoint(ctx)
	if err != nil || size != 0 || note != nil {
		t.Fatalf("LatestCheckpoint() of a new store = %d, %q, %v; want 0, nil, nil", size, note, err)
	}
	for _, c := range []struct {
		size int64
		note string
	}{{3, "three\n"}, {7, "seven\n"}, {5, "five\n"}, {7, "seven again\n"}} {
		if err := s.SaveCheckpoint(ctx, c.size, []byte(c.note)); err != nil {
			t.Fatalf("SaveCheckpoint(%d) = %v", c.size, err)
		}
	}
	size, note, err = s.LatestCheckpoint(ctx)
	if err != nil || size != 7 || string(note) != "seven\n" {
		t.Errorf("LatestCheckpoint() = %d, %q, %v; want 7, %q (the first saved for that size), nil", size, note, err, "seven\n")
	}
}

func testInbox(t *testing.T, open OpenFunc) {
	ctx := t.Context()
	s := openStore(t, open)
	future := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Microsecond)
	d := func(to, payload string) audit.Delivery {
		return audit.Delivery{Recipient: to, Kind: "liaison.v1.Delivery", Payload: []byte(payload)}
	}
	expiring := d("police-nl", "p3")
	expiring.Expires = future
	expired := d("police-nl", "gone")
	expired.Expires = time.Now().Add(-time.Hour)
	mustAppend(t, s, []audit.Pending{
		pending(t, newEntry(0), d("police-nl", "p0"), d("municipality-x", "m0")),
		pending(t, newEntry(1)),
	})
	mustAppend(t, s, []audit.Pending{
		pending(t, newEntry(2), d("police-nl", "p2"), expired),
		pending(t, newEntry(3), expiring, d("municipality-x", "m3")),
	})
	mustAppend(t, s, []audit.Pending{pending(t, newEntry(4), d("police-nl", "p4"))})

	inbox := func(agency string, after int64, limit int) []audit.InboxItem {
		t.Helper()
		items, err := s.Inbox(ctx, agency, after, limit)
		if err != nil {
			t.Fatalf("Inbox(%q, %d, %d) = %v", agency, after, limit, err)
		}
		return items
	}
	summary := func(items []audit.InboxItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, fmt.Sprintf("%s@%d", it.Payload, it.AuditIndex))
		}
		return out
	}

	all := inbox("police-nl", 0, 0)
	if diff := cmp.Diff([]string{"p0@0", "p2@2", "p3@3", "p4@4"}, summary(all)); diff != "" {
		t.Fatalf("Inbox(police-nl) mismatch (-want +got):\n%s", diff)
	}
	for i, it := range all {
		if it.Recipient != "police-nl" || it.Kind != "liaison.v1.Delivery" || it.Created.IsZero() {
			t.Errorf("Inbox(police-nl)[%d] = %+v, want recipient police-nl, its kind and a creation time", i, it)
		}
		if i > 0 && it.Cursor <= all[i-1].Cursor {
			t.Errorf("Inbox(police-nl) cursors %d, %d do not increase", all[i-1].Cursor, it.Cursor)
		}
	}
	if !all[2].Expires.Equal(future) || !all[0].Expires.IsZero() {
		t.Errorf("Inbox(police-nl) expiries = %v, %v; want zero, %v", all[0].Expires, all[2].Expires, future)
	}
	if got := summary(inbox("municipality-x", 0, 0)); !slices.Equal(got, []string{"m0@0", "m3@3"}) {
		t.Errorf("Inbox(municipality-x) = %v, want [m0@0 m3@3]", got)
	}
	if got := inbox("nobody", 0, 0); len(got) != 0 {
		t.Errorf("Inbox(nobody) = %v, want none", summary(got))
	}

	// Resume from a cursor, with a limit.
	if got := summary(inbox("police-nl", all[0].Cursor, 2)); !slices.Equal(got, []string{"p2@2", "p3@3"}) {
		t.Errorf("Inbox(police-nl, after first, limit 2) = %v, want [p2@2 p3@3]", got)
	}
	if got := summary(inbox("police-nl", all[3].Cursor, 0)); len(got) != 0 {
		t.Errorf("Inbox(police-nl, after last) = %v, want none", got)
	}

	// Ack hides items up to and including the cursor, for that agency only.
	if err := s.Ack(ctx, "police-nl", all[1].Cursor); err != nil {
		t.Fatalf("Ack() = %v", err)
	}
	if got := summary(inbox("police-nl", 0, 0)); !slices.Equal(got, []string{"p3@3", "p4@4"}) {
		t.Errorf("Inbox(police-nl) after Ack = %v, want [p3@3 p4@4]", got)
	}
	if got := summary(inbox("municipality-x", 0, 0)); !slices.Equal(got, []string{"m0@0", "m3@3"}) {
		t.Errorf("Inbox(municipality-x) after police's Ack = %v, want [m0@0 m3@3]", got)
	}
	if err := s.Ack(ctx, "police-nl", all[3].Cursor+1000); err != nil {
		t.Fatalf("Ack() = %v", err)
	}
	if got := inbox("police-nl", 0, 0); len(got) != 0 {
		t.Errorf("Inbox(police-nl) after acking everything = %v, want none", summary(got))
	}
}

// testInboxSent: MarkSent raises each inbox's mark, never lowers it, and
// leaves other inboxes alone; another store on the database (another
// replica) reads it; concurrent marks end at the greatest.
func testInboxSent(t *testing.T, open OpenFunc) {
	ctx := t.Context()
	s := openStore(t, open)
	r := openStore(t, open)
	sent := func(st audit.Store, inbox string) int64 {
		t.Helper()
		c, err := st.Sent(ctx, inbox)
		if err != nil {
			t.Fatalf("Sent(%q) = %v", inbox, err)
		}
		return c
	}
	if c := sent(s, "police-nl"); c != 0 {
		t.Errorf("Sent(police-nl) before any mark = %d, want 0", c)
	}
	if err := s.MarkSent(ctx, 5, "police-nl", "police-nl/officer/o1", "police-nl"); err != nil {
		t.Fatalf("MarkSent(5) = %v", err)
	}
	if err := s.MarkSent(ctx, 3, "police-nl"); err != nil {
		t.Fatalf("MarkSent(3) = %v", err)
	}
	if err := s.MarkSent(ctx, 9, "police-nl/officer/o1"); err != nil {
		t.Fatalf("MarkSent(9) = %v", err)
	}
	for _, st := range []audit.Store{s, r} {
		if a, o, m := sent(st, "police-nl"), sent(st, "police-nl/officer/o1"), sent(st, "municipality-x"); a != 5 || o != 9 || m != 0 {
			t.Errorf("Sent = %d, %d, %d; want 5 (not lowered by 3), 9, 0 (never marked)", a, o, m)
		}
	}
	for _, c := range []int64{0, -1} {
		if err := s.MarkSent(ctx, c, "police-nl"); err == nil {
			t.Errorf("MarkSent(%d) = nil, want an error", c)
		}
	}
	if err := s.MarkSent(ctx, 7); err != nil {
		t.Errorf("MarkSent(7) of no inbox = %v", err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		st := []audit.Store{s, r}[i%2]
		wg.Go(func() {
			if err := st.MarkSent(ctx, int64(100+i), "police-nl"); err != nil {
				t.Errorf("MarkSent(%d) = %v", 100+i, err)
			}
		})
	}
	wg.Wait()
	if c := sent(r, "police-nl"); c != 119 {
		t.Errorf("Sent after concurrent marks up to 119 = %d", c)
	}
}

func testInboxAfterCommit(t *testing.T, open OpenFunc) {
	ctx := t.Context()
	s := openStore(t, open)
	r := openStore(t, open) // a second reader, as another replica would be
	const n = 60
	done := make(chan struct{})
	defer func() { <-done }() // also when a check below fails
	go func() {
		defer close(done)
		for i := range n {
			b := []audit.Pending{pending(t, newEntry(i), audit.Delivery{Recipient: "police-nl", Kind: "k"})}
			if _, err := s.Append(ctx, b); err != nil {
				t.Errorf("Append() = %v", err)
				return
			}
		}
	}()
	polls := 0
	for finished := false; !finished; polls++ {
		select {
		case <-done:
			finished = true
		default:
		}
		for _, st := range []audit.Store{s, r} {
			items, err := st.Inbox(ctx, "police-nl", 0, n)
			if err != nil {
				t.Fatalf("Inbox() = %v", err)
			}
			size := mustSize(t, st)
			for i, it := range items {
				if it.AuditIndex >= size {
					t.Fatalf("Inbox() shows an item for leaf %d before the leaf is in the log (size %d)", it.AuditIndex, size)
				}
				if it.AuditIndex != int64(i) {
					t.Fatalf("Inbox()[%d] is for leaf %d, want %d: items must appear in commit order", i, it.AuditIndex, i)
				}
			}
			if finished && len(items) != n {
				t.Errorf("Inbox() after all appends = %d items, want %d", len(items), n)
			}
		}
	}
	t.Logf("%d polls", polls)
}

func testCloseTwice(t *testing.T, open OpenFunc) {
	s := open(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}
