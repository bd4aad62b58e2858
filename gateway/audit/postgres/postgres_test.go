package postgres_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/audittest"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
)

func serverURL(tb testing.TB) string { return pgtest.ServerURL(tb) }

func newDatabase(tb testing.TB) string { return pgtest.NewDatabase(tb) }

func mustOpen(tb testing.TB, dbURL string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(tb.Context(), dbURL)
	if err != nil {
		tb.Fatalf("Open() = %v", err)
	}
	return s
}

// openClosed opens a store that the test closes when it ends.
func openClosed(tb testing.TB, dbURL string) *postgres.Store {
	tb.Helper()
	s := mustOpen(tb, dbURL)
	tb.Cleanup(func() { s.Close() })
	return s
}

func newDB(t *testing.T) audittest.OpenFunc {
	dbURL := newDatabase(t)
	return func(t *testing.T) audit.Store { return mustOpen(t, dbURL) }
}

func TestStore(t *testing.T) {
	serverURL(t)
	audittest.Run(t, newDB)
}

func TestState(t *testing.T) {
	serverURL(t)
	audittest.RunState(t, newDB)
}

func TestReplay(t *testing.T) {
	serverURL(t)
	audittest.RunReplay(t, newDB)
}

func TestMarks(t *testing.T) {
	serverURL(t)
	audittest.RunMarks(t, newDB)
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func pendingOf(t testing.TB, e *audit.Entry, deliveries ...audit.Delivery) audit.Pending {
	t.Helper()
	leaf, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return audit.Pending{Leaf: leaf, Entry: e, Deliveries: deliveries}
}

// TestProcessesBuildOneTree appends from three stores with separate pools,
// as three gateway processes would, and checks that they built one tree.
func TestProcessesBuildOneTree(t *testing.T) {
	dbURL := newDatabase(t)
	stores := []*postgres.Store{openClosed(t, dbURL), openClosed(t, dbURL), openClosed(t, dbURL)}
	const perStore, appends = 4, 50
	type placed struct {
		first  int64
		leaves [][]byte
	}
	results := make([][]placed, len(stores)*perStore)
	var wg sync.WaitGroup
	for g := range results {
		s := stores[g%len(stores)]
		wg.Go(func() {
			for j := range appends {
				batch := make([]audit.Pending, (g*7+j)%5+1)
				for k := range batch {
					e := &audit.Entry{Time: t0.Add(time.Duration(j) * time.Second), Action: "disclose", Outcome: "disclose",
						RequestID: fmt.Sprintf("g%d-j%d-k%d", g, j, k), Requester: &audit.Requester{Agency: "police-nl"}}
					batch[k] = pendingOf(t, e)
				}
				batch[0].Deliveries = []audit.Delivery{{Recipient: "police-nl", Kind: "k", Payload: []byte(batch[0].Entry.RequestID)}}
				first, err := s.Append(t.Context(), batch)
				if err != nil {
					t.Errorf("goroutine %d: Append() = %v", g, err)
					return
				}
				p := placed{first: first}
				for _, b := range batch {
					p.leaves = append(p.leaves, b.Leaf)
				}
				results[g] = append(results[g], p)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	var n int64
	for _, rs := range results {
		for _, r := range rs {
			n += int64(len(r.leaves))
		}
	}
	want := make([][]byte, n)
	for g, rs := range results {
		for _, r := range rs {
			for k, leaf := range r.leaves {
				i := r.first + int64(k)
				if i < 0 || i >= n {
					t.Fatalf("goroutine %d: leaf placed at %d, outside [0, %d)", g, i, n)
				}
				if want[i] != nil {
					t.Fatalf("index %d returned twice", i)
				}
				want[i] = leaf
			}
		}
	}
	// Every index in [0, n) was returned exactly once: n leaves, no
	// duplicate, so no gap either.

	ctx := t.Context()
	for si, s := range stores {
		size, err := s.Size(ctx)
		if err != nil || size != n {
			t.Fatalf("store %d: Size() = %d, %v; want %d", si, size, err, n)
		}
		leaves, err := s.ReadLeaves(ctx, 0, n)
		if err != nil {
			t.Fatalf("store %d: ReadLeaves(0, %d) = %v", si, n, err)
		}
		for i := range leaves {
			if !bytes.Equal(leaves[i], want[i]) {
				t.Fatalf("store %d: leaf %d = %q, want %q (the leaf appended at that index)", si, i, leaves[i], want[i])
			}
		}
		wantRoot, err := audit.RootHash(leaves)
		if err != nil {
			t.Fatal(err)
		}
		root, err := tlog.TreeHash(n, tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) { return s.ReadHashes(ctx, ix) }))
		if err != nil || root != wantRoot {
			t.Fatalf("store %d: TreeHash(%d) over the stored hashes = %v, %v; want %v", si, n, root, err, wantRoot)
		}
	}
	// Every stored hash, not only those on the root's path.
	var mem []tlog.Hash
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = mem[x]
		}
		return out, nil
	})
	for i, leaf := range want {
		hs, err := tlog.StoredHashes(int64(i), leaf, r)
		if err != nil {
			t.Fatal(err)
		}
		mem = append(mem, hs...)
	}
	indexes := make([]int64, len(mem))
	for i := range indexes {
		indexes[i] = int64(i)
	}
	stored, err := stores[1].ReadHashes(ctx, indexes)
	if err != nil {
		t.Fatalf("ReadHashes(0..%d) = %v", len(mem)-1, err)
	}
	if !slices.Equal(stored, mem) {
		t.Errorf("stored hashes differ from those of the tree recomputed from the leaves")
	}

	// Cursors increase in commit order across the processes.
	items, err := stores[2].Inbox(ctx, "police-nl", 0, int(n))
	if err != nil {
		t.Fatalf("Inbox() = %v", err)
	}
	if got, want := len(items), len(results)*appends; got != want {
		t.Fatalf("Inbox() = %d items, want %d", got, want)
	}
	for i := 1; i < len(items); i++ {
		if items[i].AuditIndex <= items[i-1].AuditIndex {
			t.Fatalf("Inbox(): cursor %d is for leaf %d, after cursor %d for leaf %d; cursors must follow commit order",
				items[i].Cursor, items[i].AuditIndex, items[i-1].Cursor, items[i-1].AuditIndex)
		}
	}
	t.Logf("%d appends from %d stores built one tree of %d leaves", len(results)*appends, len(stores), n)
}

// TestCancelledAppendsAreExact cancels appends at random moments, some
// while their commit is in flight, and checks that Append reported success
// for exactly the batches that are in the log.
func TestCancelledAppendsAreExact(t *testing.T) {
	dbURL := newDatabase(t)
	s := openClosed(t, dbURL)
	// Time some appends, to cancel the others anywhere from before they
	// start to after they would have committed.
	const warmup = 10
	start := time.Now()
	for i := range warmup {
		e := &audit.Entry{Time: t0, Action: "disclose", Outcome: "deny", RequestID: fmt.Sprintf("warmup-%d", i)}
		if _, err := s.Append(t.Context(), []audit.Pending{pendingOf(t, e)}); err != nil {
			t.Fatalf("Append() = %v", err)
		}
	}
	latency := time.Since(start) / warmup
	const goroutines, appends = 6, 40
	type outcome struct {
		leaf  []byte
		index int64
		ok    bool
	}
	results := make([][]outcome, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for j := range appends {
				e := &audit.Entry{Time: t0, Action: "disclose", Outcome: "deny", RequestID: fmt.Sprintf("g%d-j%d", g, j)}
				p := pendingOf(t, e)
				ctx, cancel := context.WithTimeout(t.Context(), rand.N(2*goroutines*latency)) // they queue for the lock
				first, err := s.Append(ctx, []audit.Pending{p})
				cancel()
				results[g] = append(results[g], outcome{leaf: p.Leaf, index: first, ok: err == nil})
			}
		})
	}
	wg.Wait()
	size, err := s.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := s.ReadLeaves(t.Context(), 0, size)
	if err != nil {
		t.Fatal(err)
	}
	at := make(map[string]int64, len(leaves))
	for i, l := range leaves {
		at[string(l)] = int64(i)
	}
	var ok, failed int
	for _, rs := range results {
		for _, r := range rs {
			i, in := at[string(r.leaf)]
			switch {
			case r.ok && !in:
				t.Errorf("Append(%s) = %d, nil error, but the leaf is not in the log", r.leaf, r.index)
			case r.ok && i != r.index:
				t.Errorf("Append(%s) = %d, but the leaf is at %d", r.leaf, r.index, i)
			case !r.ok && in:
				t.Errorf("Append(%s) failed, but the leaf is in the log at %d", r.leaf, i)
			}
			if r.ok {
				ok++
			} else {
				failed++
			}
		}
	}
	if int64(ok+warmup) != size {
		t.Errorf("%d appends succeeded, log size %d", ok+warmup, size)
	}
	t.Logf("append latency %v; %d appends succeeded, %d were cancelled", latency, ok, failed)
	// The log goes on: a later append extends the same tree.
	p := pendingOf(t, &audit.Entry{Time: t0, Action: "disclose", Outcome: "deny", RequestID: "after"})
	if first, err := s.Append(t.Context(), []audit.Pending{p}); err != nil || first != size {
		t.Errorf("Append() after the cancellations = %d, %v; want %d, nil", first, err, size)
	}
}

// TestOddStrings appends values PostgreSQL's text cannot hold (NUL,
// invalid UTF-8) beside values that look like their stored form, and
// checks that the append succeeds and each filter finds only its own.
func TestOddStrings(t *testing.T) {
	s := openClosed(t, newDatabase(t))
	ctx := t.Context()
	odd := []string{
		"officer\x00x",
		"officer\uFFFDx",
		"\xff\xfe",
		"\uFFFE" + hex.EncodeToString([]byte("\xff\xfe")), // the stored form of the one above
		"\uFFFEplain",
		"plain",
	}
	var batch []audit.Pending
	for i, v := range odd {
		e := &audit.Entry{Time: t0, Action: "disclose", Outcome: "disclose", RequestID: fmt.Sprint(i),
			Requester: &audit.Requester{Agency: v, Officer: v}, Subject: &audit.Subject{Pseudonym: v}, RecordType: v}
		batch = append(batch, pendingOf(t, e, audit.Delivery{Recipient: v, Kind: v, Payload: []byte{byte(i)}}))
	}
	if _, err := s.Append(ctx, batch); err != nil {
		t.Fatalf("Append(odd strings) = %v", err)
	}
	for i, v := range odd {
		for _, f := range []audit.Filter{{Officer: v}, {Subject: v}, {RecordType: v}, {Agency: v}} {
			recs, err := s.Query(ctx, f)
			if err != nil {
				t.Fatalf("Query(%#v) = %v", f, err)
			}
			if len(recs) != 1 || recs[0].Index != int64(i) {
				var got []int64
				for _, r := range recs {
					got = append(got, r.Index)
				}
				t.Errorf("Query(%#v) = indexes %v, want [%d]", f, got, i)
			}
		}
		items, err := s.Inbox(ctx, v, 0, 0)
		if err != nil {
			t.Fatalf("Inbox(%q) = %v", v, err)
		}
		if len(items) != 1 || items[0].Recipient != v || items[0].Kind != v || items[0].AuditIndex != int64(i) {
			t.Errorf("Inbox(%q) = %#v, want one item for leaf %d with that recipient and kind", v, items, i)
		}
	}
}

// TestConcurrentOpen opens several stores on a new database at once, as
// replicas starting together would: each migration is applied once.
func TestConcurrentOpen(t *testing.T) {
	dbURL := newDatabase(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dbURL)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open() #%d = %v", i, err)
		}
	}
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var applied int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Errorf("schema_migrations holds %d rows, want %d (one per migration)", applied, len(files))
	}
}

// TestOpenRefusesLostCommits checks that Open refuses a session whose
// commits return before they are durable.
func TestOpenRefusesLostCommits(t *testing.T) {
	dbURL := newDatabase(t)
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("synchronous_commit", "off") // a run-time parameter of the session
	u.RawQuery = q.Encode()
	s, err := postgres.Open(t.Context(), u.String())
	if err == nil {
		s.Close()
		t.Fatal("Open(synchronous_commit=off) = nil error, want an error")
	}
	if !strings.Contains(err.Error(), "synchronous_commit") {
		t.Errorf("Open(synchronous_commit=off) = %v, want an error naming synchronous_commit", err)
	}
}

// TestOpenErrorHidesPassword needs no server: the connection fails, and
// the error must not carry the password.
func TestOpenErrorHidesPassword(t *testing.T) {
	const secret = "s3cret-pw"
	for _, u := range []string{
		"postgres://liaison:" + secret + "@127.0.0.1:1/audit?connect_timeout=2",
		"postgres://liaison:" + secret + "@127.0.0.1:1/audit?sslmode=bogus",
	} {
		s, err := postgres.Open(t.Context(), u)
		if err == nil {
			s.Close()
			t.Fatalf("Open(port 1) = nil error, want an error")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open() error %q shows the password", err)
		}
		if !strings.HasPrefix(err.Error(), "postgres: open: ") {
			t.Errorf("Open() error %q, want the prefix %q", err, "postgres: open: ")
		}
	}
}
