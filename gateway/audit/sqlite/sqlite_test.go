package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/audittest"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

func TestStore(t *testing.T) {
	audittest.Run(t, newDB)
}

func TestState(t *testing.T) {
	audittest.RunState(t, newDB)
}

func TestReplay(t *testing.T) {
	audittest.RunReplay(t, newDB)
}

func TestMarks(t *testing.T) {
	audittest.RunMarks(t, newDB)
}

// newDB returns how to open a fresh database file.
func newDB(t *testing.T) audittest.OpenFunc {
	path := filepath.Join(t.TempDir(), "audit.db")
	return func(t *testing.T) audit.Store {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open(%q) = %v", path, err)
		}
		return s
	}
}

// openFile opens a Store on a fresh database file, closed at the end of
// the test, and returns it with the file's path.
func openFile(tb testing.TB) (*sqlite.Store, string) {
	path := filepath.Join(tb.TempDir(), "audit.db")
	s, err := sqlite.Open(tb.Context(), path)
	if err != nil {
		tb.Fatalf("Open(%q) = %v", path, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenRejectsNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:audit.db?mode=memory"} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) = nil error, want an error", path)
		}
	}
}

// TestOpenOddPath checks that the path is escaped into the SQLite URI:
// characters that mean something in a URI land in the file name.
func TestOpenOddPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a b?c#d%20e.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	defer s.Close()
	if _, err := s.Append(t.Context(), []audit.Pending{pendingEntry(t)}); err != nil {
		t.Fatalf("Append() = %v", err)
	}
	for _, name := range []string{path, path + "-wal"} {
		if _, err := os.Stat(name); err != nil {
			t.Errorf("Stat(%q) = %v; want the database in WAL mode at exactly that path", name, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) > 3 { // the database, -wal and -shm
		t.Errorf("directory holds %d files, want the database, its -wal and -shm only", len(entries))
	}
}

func pendingEntry(t *testing.T) audit.Pending {
	t.Helper()
	e := &audit.Entry{Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Action: "disclose", Outcome: "deny"}
	leaf, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return audit.Pending{Leaf: leaf, Entry: e}
}

// TestAppendsKeepTheTreesEdge: a Store that appended last reads no stored
// hash back for its next append (it keeps the tree's right edge), and one
// whose database another Store appended to meanwhile reads the edge once,
// and the tree stays whole either way. ReadHashes serves what the Store
// committed from memory.
func TestAppendsKeepTheTreesEdge(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, path := openFile(t)
	b, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	appendN := func(s *sqlite.Store, n int) {
		t.Helper()
		batch := make([]audit.Pending, n)
		for i := range batch {
			batch[i] = pendingEntry(t)
		}
		if _, err := s.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{3, 1, 4, 1, 5} {
		appendN(a, n)
	}
	if got := a.HashReads(); got != 0 {
		t.Errorf("after five appends by one Store: %d of them read hashes back, want 0", got)
	}
	// What it committed, it reads from memory: every stored hash so far.
	all := make([]int64, tlog.StoredHashCount(14))
	for i := range all {
		all[i] = int64(i)
	}
	if _, err := a.ReadHashes(ctx, all); err != nil || a.HashQueries() != 0 {
		t.Errorf("ReadHashes of the hashes the Store committed = %v, with %d queries of the database; want none", err, a.HashQueries())
	}
	appendN(b, 2) // b has no edge yet: reads it
	appendN(a, 6) // a's edge is stale: reads it once
	appendN(a, 2)
	if got := a.HashReads(); got != 1 {
		t.Errorf("after another Store appended: %d appends read hashes back, want 1", got)
	}
	if got := b.HashReads(); got != 1 {
		t.Errorf("the other Store's first append read hashes back %d times, want 1", got)
	}
	leaves, err := a.ReadLeaves(ctx, 0, 22)
	if err != nil {
		t.Fatal(err)
	}
	want, err := audit.RootHash(leaves)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tlog.TreeHash(22, tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) { return a.ReadHashes(ctx, ix) }))
	if err != nil || got != want {
		t.Errorf("tree hash over the stored hashes = %v, %v; want %v, the leaves' root", got, err, want)
	}
	b.ReadHashes(ctx, []int64{0}) // b appended only once, after a: not in its window
	if a.HashQueries() > 1 || b.HashQueries() != 1 {
		t.Errorf("ReadHashes queried the database %d and %d times, want at most once (a) and once (b)", a.HashQueries(), b.HashQueries())
	}
}
