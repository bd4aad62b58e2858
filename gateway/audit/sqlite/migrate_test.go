package sqlite_test

import (
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// TestMigrateFromColumns builds a database as the migrations before the
// derived index left it, with rows the old code wrote (one of them with
// an edited officer and a forged agency), opens it, and checks that the
// index is now the one the leaves give.
func TestMigrateFromColumns(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0003")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 123456789, time.UTC)
	entries := []*audit.Entry{
		{Time: t0, Action: "disclose", Outcome: "disclose", RecordType: "risk_assessment",
			Requester: &audit.Requester{Agency: "police-nl", Officer: "officer-1"}, Holder: &audit.Party{Agency: "probation-nl"},
			Recipients: []audit.Party{{Agency: "municipality-x"}}, Subject: &audit.Subject{Pseudonym: "ps-a"}, LegalBasis: &audit.LegalBasis{ID: "lb-1"}},
		{Time: t0.Add(time.Hour), Action: "request", Outcome: "deny",
			Requester: &audit.Requester{Agency: "social-de", Officer: "officer-2"}, ClaimedLegalBasis: "lb-2"},
	}
	for i, e := range entries {
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		officer := e.Requester.Officer
		if i == 1 {
			officer = "someone-else" // edited before the migration
		}
		if _, err := db.Exec(`INSERT INTO leaves (idx, leaf, time_ns, action, requester_agency, officer, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, i, leaf, e.Time.UnixNano(), e.Action, e.Requester.Agency, officer, e.Outcome); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("INSERT INTO leaf_agencies (agency, idx) VALUES ('forged-agency', 1), ('police-nl', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openMigrated(t, path, "the derived index")
	if err := s.CheckIndex(ctx, 0, 2); err != nil {
		t.Errorf("CheckIndex() after the migration = %v, want nil", err)
	}
	checkQueries(t, s, []query{
		{audit.Filter{Officer: "officer-2"}, []int64{1}},
		{audit.Filter{Officer: "someone-else"}, nil},
		{audit.Filter{Agency: "forged-agency"}, nil},
		{audit.Filter{Agency: "municipality-x"}, []int64{0}},
		{audit.Filter{Agency: "probation-nl"}, []int64{0}},
		{audit.Filter{LegalBasis: "lb-2"}, []int64{1}},
		{audit.Filter{From: t0, To: t0.Add(time.Nanosecond)}, []int64{0}},
		{audit.Filter{From: t0.Add(time.Nanosecond)}, []int64{1}},
	})
}

// TestMigrateToLeafText builds a database as the migrations before
// 0040_leaf_text.sql left it, appends entries the way that schema indexed
// them (the trigger fills leaf_agencies), opens it, and checks that the
// index still verifies and answers every filter as before.
func TestMigrateToLeafText(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0040")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 120000000, time.UTC)
	entries := []*audit.Entry{
		{Time: t0, Action: "disclose", Outcome: "disclose", RecordType: "risk_assessment",
			Requester: &audit.Requester{Agency: "police-nl", Officer: "officer-1"}, Holder: &audit.Party{Agency: "probation-nl"},
			Recipients: []audit.Party{{Agency: "municipality-x"}}, Subject: &audit.Subject{Pseudonym: "ps-a"}, LegalBasis: &audit.LegalBasis{ID: "lb-1"}},
		{Time: t0.Add(time.Hour), Action: "request", Outcome: "deny",
			Requester: &audit.Requester{Agency: "social-de", Officer: "officer-2"}, ClaimedLegalBasis: "lb-2"},
	}
	for i, e := range entries {
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO leaves (idx, leaf) VALUES (?, ?)`, i, leaf); err != nil {
			t.Fatal(err)
		}
	}
	var agencies int
	if err := db.QueryRow("SELECT count(*) FROM leaf_agencies").Scan(&agencies); err != nil || agencies != 4 {
		t.Fatalf("before the migration: %d agencies indexed (%v), want 4", agencies, err)
	}
	db.Close()

	s := openMigrated(t, path, "0040_leaf_text.sql")
	if err := s.CheckIndex(ctx, 0, 2); err != nil {
		t.Errorf("CheckIndex() after the migration = %v, want nil", err)
	}
	checkQueries(t, s, []query{
		{audit.Filter{Officer: "officer-2"}, []int64{1}},
		{audit.Filter{Agency: "municipality-x"}, []int64{0}},
		{audit.Filter{Agency: "social-de"}, []int64{1}},
		{audit.Filter{Subject: "ps-a"}, []int64{0}},
		{audit.Filter{Outcome: "deny"}, []int64{1}},
		{audit.Filter{LegalBasis: "lb-1"}, []int64{0}},
		{audit.Filter{LegalBasis: "lb-2"}, []int64{1}},
		{audit.Filter{From: t0, To: t0.Add(time.Nanosecond)}, []int64{0}},
		{audit.Filter{From: t0.Add(time.Nanosecond)}, []int64{1}},
	})
}

// openMigrated opens the store on the database at path, which the
// migrations before before built, and closes it when the test ends.
func openMigrated(t *testing.T, path, before string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open() of a database before %s = %v", before, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// migratedUpTo creates a database at path with the migrations whose
// names sort before before applied, as the store would have applied them.
func migratedUpTo(t *testing.T, path, before string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_ns INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range names {
		name := filepath.Base(p)
		if name >= before {
			break
		}
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(text)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Exec("INSERT INTO schema_migrations VALUES (?, 0)", name); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// A query is a filter and the indexes it must find.
type query struct {
	f    audit.Filter
	want []int64
}

// checkQueries runs each query against s.
func checkQueries(t *testing.T, s *sqlite.Store, qs []query) {
	t.Helper()
	for _, c := range qs {
		recs, err := s.Query(t.Context(), c.f)
		if err != nil {
			t.Fatalf("Query(%+v) = %v", c.f, err)
		}
		var got []int64
		for _, r := range recs {
			got = append(got, r.Index)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Query(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
}

// TestMigrateUntracksPeerReleases builds a database as the migrations
// before 0050_untrack_peer_releases.sql left it, with the aftercare
// projection of that time: three open releases (one pushed to an agency
// behind a peer, one requested through a peer, one at home) and a closed
// one behind a peer. After the migration only the releases at home and the
// closed one remain; the log is untouched.
func TestMigrateUntracksPeerReleases(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0050")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	release := func(action string, detail map[string]string) *audit.Entry {
		return &audit.Entry{Time: t0, Action: action, Outcome: "disclose", RecordType: "release_notice",
			Requester: &audit.Requester{Agency: "prison-dk", Officer: "officer-1"}, Holder: &audit.Party{Agency: "prison-dk"},
			Recipients: []audit.Party{{Agency: "police-nl"}}, Subject: &audit.Subject{Pseudonym: "ps-a"},
			LegalBasis: &audit.LegalBasis{ID: "lb-1", ValidUntil: "2027-01-01"}, Detail: detail}
	}
	entries := []*audit.Entry{
		release("disclose", map[string]string{"peer": "nl-gateway"}),
		release("request", map[string]string{"via_peer": "nl-gateway", "peer_index": "7"}),
		release("disclose", nil),
		release("request", map[string]string{"peer": "dk-gateway"}), // a request answered for a peer's agency is not "via"
		release("disclose", map[string]string{"peer": "nl-gateway"}),
	}
	for i, e := range entries {
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO leaves (idx, leaf) VALUES (?, ?)`, i, leaf); err != nil {
			t.Fatal(err)
		}
		closed := any(nil)
		if i == 4 {
			closed = 9
		}
		if _, err := db.Exec(`INSERT INTO aftercare_releases (idx, recipient, holder, subject, legal_basis, record_type, valid_until, closed_by)
			VALUES (?, 'police-nl', 'prison-dk', 'ps-a', 'lb-1', 'release_notice', '2027-01-01', ?)`, i, closed); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := openMigrated(t, path, "0050")
	var left []int64
	for i := range entries {
		_, ok, err := s.TrackedRelease(ctx, int64(i))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			left = append(left, int64(i))
		}
	}
	if want := []int64{2, 3, 4}; !slices.Equal(left, want) {
		t.Errorf("tracked releases after the migration %v; want %v (at home, a request answered here, and the closed one)", left, want)
	}
	for i, e := range entries {
		if got := audit.RecipientBehindPeer(e); got != (i == 0 || i == 1 || i == 4) {
			t.Errorf("RecipientBehindPeer(entry %d) = %v: the migration and the projection disagree", i, got)
		}
	}
	if err := s.CheckIndex(ctx, 0, int64(len(entries))); err != nil {
		t.Errorf("CheckIndex() after the migration = %v", err)
	}
}

// TestMigrateKeepsNoticesForForwards: notices tracked before migration
// 0060 keep their steps, and none is to be forwarded.
func TestMigrateKeepsNoticesForForwards(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0060")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i := range 2 {
		leaf, err := (&audit.Entry{Time: t0, Action: "notify", Outcome: "disclose"}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO leaves (idx, leaf) VALUES (?, ?)`, i, leaf); err != nil {
			t.Fatal(err)
		}
	}
	acked := t0.Add(time.Hour)
	if _, err := db.Exec(`INSERT INTO notices (id, audit_idx, recipient, sender, event_type, rule, created_ns, escalate_ns, deadline_ns, acked_ns, ack_idx)
		VALUES ('N-1', 0, 'police-nl', 'prison-dk', 'release_date_set', 'r', ?, ?, ?, ?, 1)`,
		t0.UnixNano(), t0.Add(24*time.Hour).UnixNano(), t0.Add(48*time.Hour).UnixNano(), acked.UnixNano()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openMigrated(t, path, "0060")
	ns, err := s.Notices(t.Context(), audit.NoticeFilter{})
	if err != nil || len(ns) != 1 {
		t.Fatalf("Notices() = %v, %v; want N-1", ns, err)
	}
	if n := ns[0]; !n.Acknowledged.Equal(acked) || n.AckIndex != 1 || n.ForwardDue || !n.Forwarded.IsZero() || n.ForwardIndex != -1 {
		t.Errorf("N-1 after the migration = %+v; want acknowledged at %v (entry 1), nothing to forward", n, acked)
	}
	if ns, err := s.Notices(t.Context(), audit.NoticeFilter{ForwardDue: true}); err != nil || len(ns) != 0 {
		t.Errorf("Notices(ForwardDue) = %v, %v; want none", ns, err)
	}
}

// TestMigrateKeepsObligationNoticeAcks: an obligation notice acknowledged
// before migration 0070 keeps its acknowledgement and has nothing to
// forward.
func TestMigrateKeepsObligationNoticeAcks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0070")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	acked := t0.Add(time.Hour)
	if _, err := db.Exec(`INSERT INTO aftercare_notices (idx, kind, recipient, holder, subject, record_type, refers_to, reason, obligation, sent_ns, ack_idx, ack_ns, done)
		VALUES (0, 'correction', 'probation-nl', 'prison-dk', 'apsn:s', 'release_notice', '', 'CORRECTED', 'rectify', ?, 1, ?, 'rectify')`,
		t0.UnixNano(), acked.UnixNano()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openMigrated(t, path, "0070")
	ns, err := s.SentNotices(t.Context(), audit.SentNoticeFilter{IncludeAcked: true, After: -1})
	if err != nil || len(ns) != 1 {
		t.Fatalf("SentNotices() = %v, %v; want notice 0", ns, err)
	}
	if n := ns[0]; !n.AckTime.Equal(acked) || n.AckIndex != 1 || n.ForwardDue || n.ForwardedBy != -1 {
		t.Errorf("notice 0 after the migration = %+v; want acknowledged at %v (entry 1), nothing to forward", n, acked)
	}
	if ns, err := s.SentNotices(t.Context(), audit.SentNoticeFilter{IncludeAcked: true, ForwardDue: true, After: -1}); err != nil || len(ns) != 0 {
		t.Errorf("SentNotices(ForwardDue) = %v, %v; want none", ns, err)
	}
}

// TestMigrateSupersededNotices builds a database as the migrations before
// 0120_superseded_notices.sql left it, with obligation notices projected
// then, and checks that the migration marks superseded exactly those a
// later notice to the same recipient refers to before their
// acknowledgement, and that it does so in time proportionate to the
// notices: a backfill that searched every later notice's references for
// each notice took over two minutes on 20,000 notices, and the gateway
// does not start until its migrations have run.
func TestMigrateSupersededNotices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0120")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	ins := func(idx int64, rcpt, refs string, ack any) {
		t.Helper()
		if _, err := tx.Exec(`INSERT INTO aftercare_notices (idx, kind, recipient, holder, subject, record_type, refers_to, reason, obligation, sent_ns, ack_idx)
			VALUES (?, 'correction', ?, 'prison-dk', 'apsn:s', 'release_notice', ?, 'CORRECTED', 'rectify', ?, ?)`, idx, rcpt, refs, t0.UnixNano(), ack); err != nil {
			t.Fatal(err)
		}
	}
	ins(1, "police", "0", nil)     // superseded by 2
	ins(2, "police", "1", 3)       // acknowledged (3) before 4 refers to it
	ins(4, "police", "2", 7)       // superseded by 6, acknowledged after it
	ins(5, "social", "4", nil)     // another recipient's: supersedes nothing
	ins(6, "police", "4", nil)     //
	ins(11, "police", "10,1", nil) // refers to 1 too, after 2 did
	ins(12, "police", "111,11", nil)
	const many = 10000
	for i := int64(100); i < 100+many; i++ {
		ins(i*10, "police", "0", nil) // nothing refers to them
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	start := time.Now()
	s := openMigrated(t, path, "0120")
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the migration of %d obligation notices took %v", many, took)
	}
	ns, err := s.SentNotices(t.Context(), audit.SentNoticeFilter{IncludeAcked: true, After: -1, Limit: 7})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]int64{}
	for _, n := range ns {
		got[n.Index] = n.SupersededBy
	}
	want := map[int64]int64{1: 2, 2: -1, 4: 6, 5: -1, 6: -1, 11: 12, 12: -1}
	if !maps.Equal(got, want) {
		t.Errorf("superseded by after the migration: %v; want %v", got, want)
	}
}

// TestMigrateToAgencyColumns builds a database as the migrations before
// 0130_agencies_in_columns.sql left it, appends entries the way that
// schema indexed them, opens it, appends more (many recipients, one of
// them the requester, and an empty agency) and checks that leaf_agencies
// holds, for the old entries, exactly the agencies each leaf names and,
// for the new ones, since 0260_agencies_indexed.sql, the agencies of the
// recipients after the first.
func TestMigrateToAgencyColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0130")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	old := []*audit.Entry{
		{Time: t0, Action: "disclose", Outcome: "disclose",
			Requester: &audit.Requester{Agency: "police-nl", Officer: "officer-1"}, Holder: &audit.Party{Agency: "probation-nl"},
			Recipients: []audit.Party{{Agency: "municipality-x"}}},
		{Time: t0.Add(time.Hour), Action: "request", Outcome: "deny",
			Requester: &audit.Requester{Agency: "social-de", Officer: "officer-2"}},
	}
	insertLeaves(t, db, old)
	db.Close()

	s := openMigrated(t, path, "0130_agencies_in_columns.sql")
	fresh := []*audit.Entry{
		{Time: t0.Add(2 * time.Hour), Action: "notify", Outcome: "disclose",
			Requester: &audit.Requester{Agency: "prison-dk", Officer: "officer-3"}, Holder: &audit.Party{Agency: "prison-dk"},
			Recipients: []audit.Party{{Agency: "police-dk"}, {Agency: "prison-dk"}, {Agency: ""}, {Agency: "social-dk"}}},
		{Time: t0.Add(3 * time.Hour), Action: "request", Outcome: "deny",
			Requester: &audit.Requester{Agency: "ngo-se", Officer: "officer-4"}},
	}
	appendAndCheck(t, s, fresh)
	checkQueries(t, s, []query{
		{audit.Filter{Agency: "police-nl"}, []int64{0}},
		{audit.Filter{Agency: "municipality-x"}, []int64{0}},
		{audit.Filter{Agency: "social-de"}, []int64{1}},
		{audit.Filter{Agency: "prison-dk"}, []int64{2}},
		{audit.Filter{Agency: "police-dk"}, []int64{2}},
		{audit.Filter{Agency: "social-dk"}, []int64{2}},
		{audit.Filter{Agency: "ngo-se"}, []int64{3}},
	})
	want := []string{"0 municipality-x", "0 police-nl", "0 probation-nl", "1 social-de",
		"2 prison-dk", "2 social-dk"}
	if got := agencyRows(t, path, 0); !slices.Equal(got, want) {
		t.Errorf("leaf_agencies = %q, want %q", got, want)
	}
}

// appendAndCheck appends entries in one batch after the migration and
// runs the full index check over the whole log.
func appendAndCheck(t *testing.T, s *sqlite.Store, entries []*audit.Entry) {
	t.Helper()
	var batch []audit.Pending
	for _, e := range entries {
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, audit.Pending{Leaf: leaf, Entry: e})
	}
	first, err := s.Append(t.Context(), batch)
	if err != nil {
		t.Fatalf("Append() after the migration = %v", err)
	}
	if err := s.CheckIndex(t.Context(), 0, first+int64(len(batch))); err != nil {
		t.Errorf("CheckIndex() after the migration = %v, want nil", err)
	}
}

// insertLeaves inserts entries as leaves 0, 1, ... with their stored
// hashes, as a store of an older schema would have appended them.
func insertLeaves(t *testing.T, db *sql.DB, entries []*audit.Entry) {
	t.Helper()
	var records []tlog.Hash
	for i, e := range entries {
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO leaves (idx, leaf) VALUES (?, ?)`, i, leaf); err != nil {
			t.Fatal(err)
		}
		records = append(records, tlog.RecordHash(leaf))
	}
	hashes, err := audit.StoredHashes(t.Context(), 0, records, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hashes {
		if _, err := db.Exec(`INSERT INTO hashes (idx, hash) VALUES (?, ?)`, i, h[:]); err != nil {
			t.Fatal(err)
		}
	}
}

// agencyRows returns the rows of leaf_agencies of the database at path
// from entry from on, as "idx agency", in order.
func agencyRows(t *testing.T, path string, from int64) []string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT idx, agency FROM leaf_agencies WHERE idx >= ? ORDER BY idx, agency", from)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var idx int64
		var agency string
		if err := rows.Scan(&idx, &agency); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(idx, " ", agency))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestMigrateNoticePeer: notices tracked before 0140_notice_peer.sql get
// the peer gateway their entry names (audit.NoticePeer: detail via_peer,
// else detail peer, else none; none for one forwarded to a peer that
// does not track it, detail peer_tracks_notice false, which
// 0160_notice_peer_untracked.sql puts right), as a notice tracked since
// gets it from its entry; the registry plays no part.
func TestMigrateNoticePeer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0140")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	details := []map[string]string{
		{"via_peer": "dk-gateway", "peer_index": "7"}, // delivered by a peer
		{"peer": "nl-gateway", "peer_index": "3"},     // forwarded to a peer
		nil, // at home
		{"via_peer": "dk-gateway", "peer": "se-gateway"},
		{"via_peer": "", "peer": ""},
		{"peer": "nl-gateway", "peer_tracks_notice": "false"}, // forwarded to a peer that does not track it (0160)
	}
	for i, d := range details {
		e := &audit.Entry{Time: t0, Action: "notify", Outcome: "disclose", Detail: d}
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO leaves (idx, leaf) VALUES (?, ?)`, i, leaf); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO notices (id, audit_idx, recipient, sender, event_type, rule, created_ns, escalate_ns, deadline_ns)
			VALUES (?, ?, 'police-nl', 'prison-dk', 'release_date_set', 'r', ?, ?, ?)`,
			fmt.Sprintf("N-%d", i), i, t0.UnixNano(), t0.Add(24*time.Hour).UnixNano(), t0.Add(48*time.Hour).UnixNano()); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := openMigrated(t, path, "0140")
	ns, err := s.Notices(t.Context(), audit.NoticeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range ns {
		got = append(got, n.Peer)
	}
	if want := []string{"dk-gateway", "nl-gateway", "", "dk-gateway", "", ""}; !slices.Equal(got, want) {
		t.Errorf("peers after the migration %q; want %q", got, want)
	}
	for i, d := range details {
		if p := audit.NoticePeer(&audit.Entry{Detail: d}); p != got[i] {
			t.Errorf("NoticePeer(entry %d) = %q, the migration %q: they disagree", i, p, got[i])
		}
	}
}

// TestMigrateToAgenciesIndexed builds a database as the migrations before
// 0260_agencies_indexed.sql left it, with entries whose agencies the old
// trigger wrote into leaf_agencies, opens it and appends entries of every
// shape of agencies (one recipient, none, many with repeats and an empty
// one, none at all): the full index check passes, a query by agency finds
// old and new entries alike through the three indexes, and leaf_agencies
// gains only the agencies of recipients after the first.
func TestMigrateToAgenciesIndexed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0260")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	party := func(agencies ...string) []audit.Party {
		var ps []audit.Party
		for _, a := range agencies {
			ps = append(ps, audit.Party{Agency: a})
		}
		return ps
	}
	old := []*audit.Entry{
		{Time: t0, Action: "disclose", Outcome: "disclose",
			Requester: &audit.Requester{Agency: "police-nl"}, Holder: &audit.Party{Agency: "probation-nl"},
			Recipients: party("municipality-x", "police-be")},
		{Time: t0.Add(time.Hour), Action: "request", Outcome: "deny", Requester: &audit.Requester{Agency: "social-de"}},
	}
	insertLeaves(t, db, old)
	db.Close()

	s := openMigrated(t, path, "0260_agencies_indexed.sql")
	fresh := []*audit.Entry{
		2: {Time: t0.Add(2 * time.Hour), Action: "disclose", Outcome: "disclose",
			Requester: &audit.Requester{Agency: "prison-dk"}, Holder: &audit.Party{Agency: "prison-dk"}, Recipients: party("police-dk")},
		3: {Time: t0.Add(3 * time.Hour), Action: "request", Outcome: "deny", Requester: &audit.Requester{Agency: "ngo-se"}},
		4: {Time: t0.Add(4 * time.Hour), Action: "notify", Outcome: "disclose",
			Requester: &audit.Requester{Agency: "probation-nl"}, Holder: &audit.Party{Agency: "probation-nl"},
			Recipients: party("police-nl", "probation-nl", "", "municipality-x", "police-nl")},
		5: {Time: t0.Add(5 * time.Hour), Action: "notify", Outcome: "deny", Requester: &audit.Requester{}, Recipients: party("", "social-de")},
		6: {Time: t0.Add(6 * time.Hour), Action: "key_rotate", Outcome: "ok"},
	}[2:]
	appendAndCheck(t, s, fresh)
	checkQueries(t, s, []query{
		{audit.Filter{Agency: "police-nl"}, []int64{0, 4}},
		{audit.Filter{Agency: "probation-nl"}, []int64{0, 4}},
		{audit.Filter{Agency: "municipality-x"}, []int64{0, 4}},
		{audit.Filter{Agency: "police-be"}, []int64{0}},
		{audit.Filter{Agency: "social-de"}, []int64{1, 5}},
		{audit.Filter{Agency: "prison-dk"}, []int64{2}},
		{audit.Filter{Agency: "police-dk"}, []int64{2}},
		{audit.Filter{Agency: "ngo-se"}, []int64{3}},
		{audit.Filter{Agency: "nobody"}, nil},
		{audit.Filter{Agency: "police-nl", Descending: true, Limit: 1}, []int64{4}},
	})

	if got, want := agencyRows(t, path, 2), []string{"4 municipality-x", "4 police-nl", "4 probation-nl", "5 social-de"}; !slices.Equal(got, want) {
		t.Errorf("leaf_agencies of the entries appended since = %q, want %q", got, want)
	}

	// The query reads the three indexes, not every leaf.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	plan := queryPlan(t, db, "SELECT idx FROM leaves WHERE "+sqlite.AgencyMatch, "a", "a", "a", "a")
	for _, index := range []string{"leaves_requester_agency", "leaves_holder_agency", "leaves_recipient_agency", "leaf_agencies"} {
		if !slices.ContainsFunc(plan, func(d string) bool { return strings.Contains(d, index) }) {
			t.Errorf("the plan of a query by agency does not use %s: %q", index, plan)
		}
	}
	if slices.ContainsFunc(plan, func(d string) bool { return strings.HasPrefix(d, "SCAN leaves") }) {
		t.Errorf("the plan of a query by agency scans leaves: %q", plan)
	}
}

// queryPlan returns the details of EXPLAIN QUERY PLAN for q, a line each.
func queryPlan(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestMigrateToFingerprintsBySubject builds a database as the migrations
// before 0270_fingerprints_by_subject.sql left it, with fingerprints of a
// release about a subject, of a release without one, and of a release
// never confirmed. After the migration the first carry their subject's
// tag and the others the empty one, and a lookup under the subject finds
// all three (the last still confirmable) while one under another subject
// finds none; the lookup reads the table's key, not the whole table.
func TestMigrateToFingerprintsBySubject(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	db := migratedUpTo(t, path, "0270")
	const subj, other = "apsn:ABCDEFGHIJKLMNOPQRSTUVWXYZ", "apsn:ZYXWVUTSRQPONMLKJIHGFEDCBA"
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	insertLeaves(t, db, []*audit.Entry{
		{Time: t0, Action: "disclose", Outcome: "disclose", RequestID: "r0", Subject: &audit.Subject{Pseudonym: subj}},
		{Time: t0, Action: "disclose", Outcome: "disclose", RequestID: "r1"},
	})
	fp := func(b byte) [32]byte { return [32]byte{b, 7} }
	for _, r := range []struct {
		fp    byte
		req   string
		after int64
		idx   any
	}{{1, "r0", 0, 0}, {2, "r1", 1, 1}, {3, "r2", 2, nil}} {
		f := fp(r.fp)
		if _, err := db.ExecContext(ctx, "INSERT INTO aftercare_fingerprints (recipient, fp, request_id, after_idx, audit_idx) VALUES ('police', ?, ?, ?, ?)",
			f[:], r.req, r.after, r.idx); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := openMigrated(t, path, "0270_fingerprints_by_subject.sql")
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tags := map[string]string{}
	rows, err := db.QueryContext(ctx, "SELECT request_id, subject_tag FROM aftercare_fingerprints")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var req string
		var tag []byte
		if err := rows.Scan(&req, &tag); err != nil {
			t.Fatal(err)
		}
		tags[req] = string(tag)
	}
	rows.Close()
	if want := map[string]string{"r0": string(audit.SubjectTag(subj)), "r1": "", "r2": ""}; !maps.Equal(tags, want) {
		t.Errorf("subject tags after the migration = %q, want %q", tags, want)
	}

	got, err := s.MatchFingerprints(ctx, "police", subj, [][32]byte{fp(1), fp(2), fp(3)})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, m := range got {
		found = append(found, fmt.Sprintf("%s@%d", m.RequestID, m.Index))
	}
	if want := []string{"r0@0", "r1@1", "r2@-1"}; !slices.Equal(found, want) {
		t.Errorf("MatchFingerprints(police, subject) after the migration = %q, want %q", found, want)
	}
	got, err = s.MatchFingerprints(ctx, "police", other, [][32]byte{fp(1)})
	if err != nil || len(got) != 0 {
		t.Errorf("MatchFingerprints(police, another subject) = %v, %v; want none: fingerprint 1 is the subject's", got, err)
	}
	if err := s.ConfirmFingerprints(ctx, "r2", 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.MatchFingerprints(ctx, "police", other, [][32]byte{fp(3)}); len(got) != 1 || got[0].Index != 1 {
		t.Errorf("MatchFingerprints of the fingerprint confirmed after the migration = %v, want it at index 1", got)
	}

	// The untagged fingerprints are every subject's, for HasFingerprints
	// as for MatchFingerprints.
	for _, c := range []struct {
		recipient, subject string
		want               bool
	}{{"police", subj, true}, {"police", other, true}, {"social", subj, false}} {
		if got, err := s.HasFingerprints(ctx, c.recipient, c.subject); err != nil || got != c.want {
			t.Errorf("HasFingerprints(%s, %s) after the migration = %v, %v; want %v", c.recipient, c.subject, got, err, c.want)
		}
	}

	plan := queryPlan(t, db, "SELECT fp FROM aftercare_fingerprints WHERE recipient = ? AND subject_tag IN (?, X'') AND fp IN (?, ?)", "police", []byte("x"), []byte("a"), []byte("b"))
	if !slices.ContainsFunc(plan, func(d string) bool {
		return strings.Contains(d, "USING PRIMARY KEY (recipient=? AND subject_tag=? AND fp=?)")
	}) {
		t.Errorf("the plan of MatchFingerprints' query does not seek the key by recipient, tag and fingerprint: %q", plan)
	}
	plan = queryPlan(t, db, "SELECT EXISTS (SELECT 1 FROM aftercare_fingerprints WHERE recipient = ? AND subject_tag IN (?, X''))", "police", []byte("x"))
	if !slices.ContainsFunc(plan, func(d string) bool {
		return strings.Contains(d, "USING PRIMARY KEY (recipient=? AND subject_tag=?)")
	}) {
		t.Errorf("the plan of HasFingerprints' query does not seek the key by recipient and tag: %q", plan)
	}
}
