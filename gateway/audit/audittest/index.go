package audittest

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// testStat checks Stat on an empty and a filled store.
func testStat(t *testing.T, open OpenFunc) {
	s := openStore(t, open)
	st, err := s.Stat(t.Context())
	if err != nil || st != (audit.Stat{}) {
		t.Fatalf("Stat() of a new store = %+v, %v; want zeros, nil", st, err)
	}
	mustAppend(t, s, batchOf(t, 0, 5))
	mustAppend(t, s, batchOf(t, 5, 2))
	st, err = s.Stat(t.Context())
	if want := (audit.Stat{Size: 7, Leaves: 7, Hashes: tlog.StoredHashCount(7)}); err != nil || st != want {
		t.Errorf("Stat() = %+v, %v; want %+v, nil", st, err, want)
	}
}

// oddStrings are values that databases tend to hold differently from Go:
// a NUL, the noncharacter a store may map it to, invalid UTF-8 and its
// replacement, escapes, and text that looks like an escape.
var oddStrings = []string{
	"a\x00b",
	"a\uFFFEb",
	"\xff\xfe",
	"\uFFFD\uFFFD",
	`a\u0000b`,
	"a\\\x00b",
	"line\u2028sep <b>&amp;</b> \"q\"",
	"plain",
}

// fractions are offsets that give RFC 3339 times with every number of
// fractional digits.
var fractions = []time.Duration{
	0, time.Nanosecond, 500 * time.Millisecond, 123456 * time.Microsecond, time.Second + 10*time.Nanosecond,
	120 * time.Millisecond, 987654321, -time.Nanosecond,
}

// testIndexOddStrings appends entries whose every indexed string is odd,
// and checks that the index matches the leaves and that a query by each
// value finds exactly the entries whose leaves hold it: two strings that a
// store holds alike are told apart by the leaf, never reported as
// tampering.
func testIndexOddStrings(t *testing.T, open OpenFunc) {
	ctx := t.Context()
	s := openStore(t, open)
	var batch []audit.Pending
	for i, v := range oddStrings {
		batch = append(batch, pending(t, &audit.Entry{
			Time: t0.Add(fractions[i%len(fractions)]), Action: v, Outcome: v, RecordType: v, RequestID: strconv.Itoa(i),
			Requester:  &audit.Requester{Agency: v, Officer: v},
			Recipients: []audit.Party{{Agency: v + "-r"}, {Agency: v}},
			Subject:    &audit.Subject{Pseudonym: v}, ClaimedLegalBasis: v,
		}))
	}
	mustAppend(t, s, batch)
	if err := s.CheckIndex(ctx, 0, int64(len(batch))); err != nil {
		t.Fatalf("CheckIndex() = %v, want nil", err)
	}
	for i := range oddStrings {
		at := t0.Add(fractions[i%len(fractions)])
		recs, err := s.Query(ctx, audit.Filter{From: at, To: at.Add(time.Nanosecond)})
		if err != nil || len(recs) != 1 || recs[0].Index != int64(i) {
			t.Errorf("Query(the nanosecond at %s) = %d records (%v), want entry %d", at.Format(time.RFC3339Nano), len(recs), err, i)
		}
	}
	for i, v := range oddStrings {
		// As the leaf holds it: invalid UTF-8 became U+FFFD.
		want := []int64{int64(i)}
		for j, w := range oddStrings {
			if j != i && string([]rune(w)) == string([]rune(v)) {
				want = append(want, int64(j))
			}
		}
		slices.Sort(want)
		for _, f := range []audit.Filter{
			{Action: v}, {Outcome: v}, {RecordType: v}, {Officer: v}, {Subject: v}, {LegalBasis: v}, {Agency: v}, {Agency: v + "-r"},
			{Officer: v, Limit: 1},
			{Action: v, Descending: true}, {Officer: v, Limit: 1, Descending: true},
		} {
			recs, err := s.Query(ctx, f)
			if err != nil {
				t.Fatalf("Query(%#v) = %v", f, err)
			}
			var got []int64
			for _, r := range recs {
				got = append(got, r.Index)
			}
			w := want
			if f.Descending {
				w = slices.Clone(want)
				slices.Reverse(w)
			}
			if f.Limit == 1 {
				w = w[:1]
			}
			if !slices.Equal(got, w) {
				t.Errorf("Query(%#v) = indexes %v, want %v", f, got, w)
			}
		}
	}
}

// testCheckIndexRange checks that CheckIndex accepts the ranges of a
// healthy log and refuses invalid ones.
func testCheckIndexRange(t *testing.T, open OpenFunc) {
	ctx := t.Context()
	s := openStore(t, open)
	if err := s.CheckIndex(ctx, 0, 0); err != nil {
		t.Errorf("CheckIndex(0, 0) of a new store = %v", err)
	}
	var batch []audit.Pending
	for _, e := range queryFixture() {
		batch = append(batch, pending(t, e))
	}
	mustAppend(t, s, batch)
	for _, r := range [][2]int64{{0, 6}, {2, 4}, {5, 6}} {
		if err := s.CheckIndex(ctx, r[0], r[1]); err != nil {
			t.Errorf("CheckIndex(%d, %d) = %v, want nil", r[0], r[1], err)
		}
	}
	if err := s.CheckIndex(ctx, 3, 1); err == nil {
		t.Error("CheckIndex(3, 1) = nil, want an error")
	}
}

// A Tamperer changes a store's database behind the store's back, as
// someone with access to the database server would. RunTampering uses it.
type Tamperer interface {
	// Edit makes the stored index value of column (one of
	// audit.IndexColumns) for the entry at index be value: for the
	// agencies, value becomes the only agency; for the time, value is in
	// Unix nanoseconds. It uses the plain statements someone would try
	// first (UPDATE, DELETE, INSERT) and returns the database's error if
	// the schema refuses them, nil if they took effect.
	Edit(t *testing.T, column string, index int64, value string) error
	// Force does what Edit does after changing the schema as needed, as
	// the database's owner can, and leaves the schema changed. It fails
	// the test if it cannot.
	Force(t *testing.T, column string, index int64, value string)
	// Restore puts the schema back as the migrations made it, keeping the
	// values Force stored.
	Restore(t *testing.T, column string)
	// Exec runs SQL statements on the database, failing the test if one
	// fails. The statements are those both stores understand.
	Exec(t *testing.T, stmts ...string)
}

// RunTampering runs the tests of what a store does when its database is
// changed behind its back: edits of the query index, and rollbacks that
// a Log must refuse to open. newDB prepares a fresh, empty database for
// one subtest and returns how to open it and how to tamper with it.
func RunTampering(t *testing.T, newDB func(t *testing.T) (OpenFunc, Tamperer)) {
	for _, column := range audit.IndexColumns {
		t.Run("Edit_"+column, func(t *testing.T) {
			open, tamper := newDB(t)
			testEditColumn(t, open, tamper, column)
		})
	}
	for _, tc := range []struct {
		name string
		test func(t *testing.T, open OpenFunc, tamper Tamperer)
	}{
		{"RestartAccepted", testRestartAccepted},
		{"ConsistentRollbackRefused", testConsistentRollback},
		{"NaiveDeleteRefused", testNaiveDelete},
		{"NaiveDeleteRefusedWithoutAnchor", testNaiveDeleteNoAnchor},
		{"GapRefused", testGap},
		{"RollbackAndRegrowthRefused", testRegrowth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open, tamper := newDB(t)
			tc.test(t, open, tamper)
		})
	}
}

// The entry of queryFixture that the edit tests change, and the value
// they give each column.
const target = 2

func forgedValue(column string) string {
	if column == audit.ColumnTime {
		return strconv.FormatInt(t0.Add(2*time.Hour+30*time.Minute).UnixNano(), 10)
	}
	return "forged-" + column
}

// filters returns a filter that selects the target entry by its true
// value of column, and one that selects the forged value.
func filters(column string) (real, forged audit.Filter) {
	h2 := t0.Add(2 * time.Hour)
	switch column {
	case audit.ColumnTime:
		f := t0.Add(2*time.Hour + 30*time.Minute)
		return audit.Filter{From: h2, To: h2.Add(time.Second)}, audit.Filter{From: f, To: f.Add(time.Second)}
	case audit.ColumnAction:
		return audit.Filter{Action: "notify"}, audit.Filter{Action: forgedValue(column)}
	case audit.ColumnAgencies:
		return audit.Filter{Agency: "municipality-x"}, audit.Filter{Agency: forgedValue(column)}
	case audit.ColumnOfficer:
		return audit.Filter{Officer: "officer-3"}, audit.Filter{Officer: forgedValue(column)}
	case audit.ColumnSubject:
		return audit.Filter{Subject: "ps-a"}, audit.Filter{Subject: forgedValue(column)}
	case audit.ColumnLegalBasis:
		return audit.Filter{LegalBasis: "lb-1"}, audit.Filter{LegalBasis: forgedValue(column)}
	case audit.ColumnOutcome:
		return audit.Filter{Outcome: "disclose"}, audit.Filter{Outcome: forgedValue(column)}
	case audit.ColumnRecordType:
		return audit.Filter{RecordType: "release_notice"}, audit.Filter{RecordType: forgedValue(column)}
	}
	panic("unknown column " + column)
}

// testEditColumn edits one column of the target entry: the schema refuses
// the plain edit (or, if it lets it through, the store reports it); once
// the schema is changed to let it through, every query over the column
// fails with ErrTampered and CheckIndex names the column; once the schema
// is put back, CheckIndex still finds the edited value.
func testEditColumn(t *testing.T, open OpenFunc, tamper Tamperer, column string) {
	ctx := t.Context()
	s := openStore(t, open)
	var batch []audit.Pending
	for _, e := range queryFixture() {
		batch = append(batch, pending(t, e))
	}
	mustAppend(t, s, batch)
	size := int64(len(batch))
	real, forged := filters(column)
	queryHas := func(f audit.Filter) bool {
		t.Helper()
		recs, err := s.Query(ctx, f)
		if err != nil {
			t.Fatalf("Query(%+v) before tampering = %v", f, err)
		}
		return slices.ContainsFunc(recs, func(r audit.Record) bool { return r.Index == target })
	}
	if !queryHas(real) {
		t.Fatalf("Query(%+v) does not find entry %d before tampering", real, target)
	}
	// The query and check must fail loudly: neither omit nor include the
	// target quietly.
	wantTampered := func(stage string, wantEntry bool) {
		t.Helper()
		for _, f := range []audit.Filter{real, forged} {
			recs, err := s.Query(ctx, f)
			if !errors.Is(err, audit.ErrTampered) {
				var got []int64
				for _, r := range recs {
					got = append(got, r.Index)
				}
				t.Errorf("%s: Query(%+v) = indexes %v, %v; want an error wrapping ErrTampered", stage, f, got, err)
			}
		}
		checkTampered(t, s, size, column, wantEntry, stage)
	}

	err := tamper.Edit(t, column, target, forgedValue(column))
	if err != nil {
		t.Logf("the schema refuses to edit %s: %v", column, err)
		if !queryHas(real) || queryHas(forged) {
			t.Errorf("after a refused edit of %s, queries by it changed", column)
		}
		if err := s.CheckIndex(ctx, 0, size); err != nil {
			t.Errorf("after a refused edit of %s, CheckIndex() = %v, want nil", column, err)
		}
	} else {
		t.Logf("the schema lets %s be edited", column)
		wantTampered("after the edit", true)
		return
	}

	tamper.Force(t, column, target, forgedValue(column))
	wantTampered("after a schema change and the edit", false)

	tamper.Restore(t, column)
	checkTampered(t, s, size, column, true, "after the schema was put back")
}

// checkTampered checks that CheckIndex reports tampering with column, for
// the target entry if wantEntry.
func checkTampered(t *testing.T, s audit.Store, size int64, column string, wantEntry bool, stage string) {
	t.Helper()
	err := s.CheckIndex(t.Context(), 0, size)
	if !errors.Is(err, audit.ErrTampered) {
		t.Errorf("%s: CheckIndex() = %v, want an error wrapping ErrTampered", stage, err)
		return
	}
	ie, ok := errors.AsType[*audit.IndexError](err)
	switch {
	case !ok:
		t.Errorf("%s: CheckIndex() = %v, want an *IndexError", stage, err)
	case wantEntry && (ie.Index != target || ie.Column != column):
		t.Errorf("%s: CheckIndex() = %v, want it to name entry %d and column %s", stage, err, target, column)
	case !wantEntry && ie.Column != column && ie.Index >= 0:
		t.Errorf("%s: CheckIndex() = %v, want it to name column %s or the schema", stage, err, column)
	default:
		t.Logf("%s: %v", stage, err)
	}
}

// appendEntries appends n distinct entries numbered from through l.
func appendEntries(t *testing.T, l *audit.Log, from, n int) {
	t.Helper()
	for i := range n {
		if _, err := l.Append(t.Context(), newEntry(from+i)); err != nil {
			t.Fatalf("Append() = %v", err)
		}
	}
}

// A logKey is a checkpoint signer and its verifier.
type logKey struct {
	signer   note.Signer
	verifier note.Verifier
}

func newLogKey(t *testing.T) logKey {
	t.Helper()
	skey, vkey, err := audit.GenerateSignerKey("audittest.log")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return logKey{s, v}
}

var discard = slog.New(slog.DiscardHandler)

// session opens a store and a Log on it with anchor (nil for none), and
// returns the Log and a function that closes both.
func session(t *testing.T, open OpenFunc, anchor audit.Anchor, signer logKey) (*audit.Log, func(), error) {
	t.Helper()
	s := open(t)
	l, err := audit.New(t.Context(), audit.Config{Store: s, Signer: signer.signer, Verifier: signer.verifier, Anchor: anchor,
		CheckpointInterval: time.Hour, Logger: discard})
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return l, func() {
		if err := l.Close(t.Context()); err != nil {
			t.Errorf("Close() = %v", err)
		}
		s.Close()
	}, nil
}

// grow opens a session, appends n entries numbered from, signs a
// checkpoint and closes, as a gateway's run would.
func grow(t *testing.T, open OpenFunc, anchor audit.Anchor, key logKey, from, n int) {
	t.Helper()
	l, done, err := session(t, open, anchor, key)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	defer done()
	appendEntries(t, l, from, n)
	if _, _, err := l.Checkpoint(t.Context()); err != nil {
		t.Fatalf("Checkpoint() = %v", err)
	}
}

// wantRefused opens a Log with anchor and checks that New refuses the
// store with an error wrapping want whose message holds every one of
// words.
func wantRefused(t *testing.T, open OpenFunc, anchor audit.Anchor, key logKey, want error, words ...string) {
	t.Helper()
	_, done, err := session(t, open, anchor, key)
	if err == nil {
		done()
		t.Fatalf("New() on a tampered store = nil error, want one wrapping %v", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("New() = %v, want an error wrapping %v", err, want)
	}
	for _, w := range words {
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
			t.Errorf("New() = %q, want it to say %q", err, w)
		}
	}
	t.Logf("refused: %v", err)
}

// rollback deletes the entries from n on, and the hashes and
// checkpoints that cover them, so that the store is a consistent, smaller
// log: what restoring an older backup gives.
func rollback(t *testing.T, tamper Tamperer, n int64) {
	t.Helper()
	tamper.Exec(t,
		fmt.Sprintf("DELETE FROM inbox WHERE audit_idx >= %d", n),
		fmt.Sprintf("DELETE FROM leaves WHERE idx >= %d", n),
		fmt.Sprintf("DELETE FROM hashes WHERE idx >= %d", tlog.StoredHashCount(n)),
		fmt.Sprintf("DELETE FROM checkpoints WHERE size > %d", n))
}

func testRestartAccepted(t *testing.T, open OpenFunc, tamper Tamperer) {
	key := newLogKey(t)
	anchor := audit.NewFileAnchor(t.TempDir() + "/anchor")
	grow(t, open, anchor, key, 0, 5)
	grow(t, open, anchor, key, 5, 3) // a restart
	l, done, err := session(t, open, anchor, key)
	if err != nil {
		t.Fatalf("New() after two clean runs = %v", err)
	}
	defer done()
	if size, _ := l.Size(t.Context()); size != 8 {
		t.Errorf("Size() = %d, want 8", size)
	}
	signed, err := anchor.Latest(t.Context())
	if err != nil || signed == nil {
		t.Fatalf("anchor.Latest() = %q, %v; want the last checkpoint", signed, err)
	}
	cp, err := audit.OpenCheckpoint(signed, key.verifier)
	if err != nil || cp.Size != 8 {
		t.Errorf("the anchor holds %+v, %v; want a checkpoint of 8 entries signed by the log's key", cp, err)
	}
}

func testConsistentRollback(t *testing.T, open OpenFunc, tamper Tamperer) {
	key := newLogKey(t)
	anchor := audit.NewFileAnchor(t.TempDir() + "/anchor")
	grow(t, open, anchor, key, 0, 5)
	grow(t, open, anchor, key, 5, 7)
	rollback(t, tamper, 5)
	wantRefused(t, open, anchor, key, audit.ErrTruncated, "rolled back", "covers 12 entries", "holds 5")
}

func testNaiveDelete(t *testing.T, open OpenFunc, tamper Tamperer) {
	key := newLogKey(t)
	anchor := audit.NewFileAnchor(t.TempDir() + "/anchor")
	grow(t, open, anchor, key, 0, 9)
	tamper.Exec(t, "DELETE FROM inbox WHERE audit_idx >= 6", "DELETE FROM leaves WHERE idx >= 6")
	wantRefused(t, open, anchor, key, audit.ErrTruncated, "rolled back", "covers 9 entries", "holds 6")
}

func testNaiveDeleteNoAnchor(t *testing.T, open OpenFunc, tamper Tamperer) {
	key := newLogKey(t)
	grow(t, open, nil, key, 0, 9)
	grow(t, open, nil, key, 9, 2) // 11 entries, no checkpoint over the last
	tamper.Exec(t, "DELETE FROM checkpoints WHERE size = 11", "DELETE FROM inbox WHERE audit_idx >= 10", "DELETE FROM leaves WHERE idx >= 10")
	wantRefused(t, open, nil, key, audit.ErrTruncated, "stored hashes", "rows deleted")
	tamper.Exec(t, "DELETE FROM leaves WHERE idx >= 7")
	wantRefused(t, open, nil, key, audit.ErrTruncated, "rolled back", "own latest checkpoint covers 9 entries", "holds 7")
}

func testGap(t *testing.T, open OpenFunc, tamper Tamperer) {
	key := newLogKey(t)
	anchor := audit.NewFileAnchor(t.TempDir() + "/anchor")
	grow(t, open, anchor, key, 0, 9)
	tamper.Exec(t, "DELETE FROM inbox WHERE audit_idx = 4", "DELETE FROM leaves WHERE idx = 4")
	wantRefused(t, open, anchor, key, audit.ErrTruncated, "gap", "index 8", "only 8")
}

// testRegrowth rolls the store back consistently, lets it grow past its
// old size under a Log that has no anchor (the gateway before this check,
// or someone else's), and opens it with the anchor: the store's history
// differs from the one signed.
func testRegrowth(t *testing.T, open OpenFunc, tamper Tamperer) {
	key := newLogKey(t)
	anchor := audit.NewFileAnchor(t.TempDir() + "/anchor")
	grow(t, open, anchor, key, 0, 8)
	rollback(t, tamper, 4)
	grow(t, open, nil, key, 100, 6) // 10 entries; the last six differ
	wantRefused(t, open, anchor, key, audit.ErrFork, "forked", "first 8 entries")
}
