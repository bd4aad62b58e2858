package postgres_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
)

// TestMigrateFromColumns builds a database as the migrations before the
// derived index left it, with rows the old code wrote (one of them with
// an edited officer, and a forged agency), opens it, and checks that the
// index is now the one the leaves give.
func TestMigrateFromColumns(t *testing.T) {
	ctx := context.WithoutCancel(t.Context())
	dbURL := migratedUpTo(t, "0003")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 123456789, time.UTC)
	entries := []*audit.Entry{
		{Time: t0, Action: "disclose", Outcome: "disclose", RecordType: "risk_assessment",
			Requester: &audit.Requester{Agency: "police-nl", Officer: "officer-1"}, Holder: &audit.Party{Agency: "probation-nl"},
			Recipients: []audit.Party{{Agency: "municipality-x"}}, Subject: &audit.Subject{Pseudonym: "ps-a"}, LegalBasis: &audit.LegalBasis{ID: "lb-1"}},
		{Time: t0.Add(time.Hour), Action: "request", Outcome: "deny",
			Requester: &audit.Requester{Agency: "social-de", Officer: "officer-2\x00x"}, ClaimedLegalBasis: "lb-2"},
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		officer := "officer-1"
		if i == 1 {
			officer = "someone-else" // edited before the migration
		}
		if _, err := conn.Exec(ctx, `INSERT INTO leaves (idx, leaf, time_ns, action, requester_agency, officer, outcome)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, i, leaf, e.Time.UnixNano(), e.Action, e.Requester.Agency, officer, e.Outcome); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, "INSERT INTO leaf_agencies (agency, idx) VALUES ('forged-agency', 1), ('police-nl', 0)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	s := openClosed(t, dbURL)
	if err := s.CheckIndex(ctx, 0, 2); err != nil {
		t.Errorf("CheckIndex() after the migration = %v, want nil", err)
	}
	for _, c := range []struct {
		f    audit.Filter
		want []int64
	}{
		{audit.Filter{Officer: "officer-2\x00x"}, []int64{1}},
		{audit.Filter{Officer: "officer-2\uFFFEx"}, nil},
		{audit.Filter{Officer: "someone-else"}, nil},
		{audit.Filter{Agency: "forged-agency"}, nil},
		{audit.Filter{Agency: "municipality-x"}, []int64{0}},
		{audit.Filter{Agency: "probation-nl"}, []int64{0}},
		{audit.Filter{LegalBasis: "lb-2"}, []int64{1}},
		{audit.Filter{From: t0, To: t0.Add(time.Nanosecond)}, []int64{0}},
		{audit.Filter{From: t0.Add(time.Nanosecond)}, []int64{1}},
	} {
		recs, err := s.Query(ctx, c.f)
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

// TestDropExpression turns leaves.ix into a plain column, as the
// database's owner can, and edits it: queries and the check refuse.
func TestDropExpression(t *testing.T) {
	dbURL := newDatabase(t)
	s := openClosed(t, dbURL)
	e := &audit.Entry{Time: t0, Action: "disclose", Outcome: "disclose", Requester: &audit.Requester{Agency: "police-nl", Officer: "officer-1"}}
	if _, err := s.Append(t.Context(), []audit.Pending{pendingOf(t, e)}); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, dbURL, "ALTER TABLE leaves ALTER COLUMN ix DROP EXPRESSION",
		`UPDATE leaves SET ix = jsonb_set(ix, '{officer}', '"someone-else"') WHERE idx = 0`)
	for _, f := range []audit.Filter{{Officer: "officer-1"}, {Officer: "someone-else"}, {}} {
		if _, err := s.Query(t.Context(), f); !errorsIsTampered(err) {
			t.Errorf("Query(%+v) = %v, want ErrTampered", f, err)
		}
	}
	if err := s.CheckIndex(t.Context(), 0, 1); !errorsIsTampered(err) {
		t.Errorf("CheckIndex() = %v, want ErrTampered", err)
	}
}

// TestMigrateUntracksPeerReleases builds a database as the migrations
// before 0050_untrack_peer_releases.sql left it, with the aftercare
// projection of that time: open releases pushed to and requested through
// a peer, one at home, one a peer's agency requested here, and a closed
// one behind a peer. After the migration the releases behind a peer that
// were open are gone; the log is untouched.
func TestMigrateUntracksPeerReleases(t *testing.T) {
	ctx := context.WithoutCancel(t.Context())
	dbURL := migratedUpTo(t, "0050")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	release := func(action, officer string, detail map[string]string) *audit.Entry {
		return &audit.Entry{Time: t0, Action: action, Outcome: "disclose", RecordType: "release_notice",
			Requester: &audit.Requester{Agency: "prison-dk", Officer: officer}, Holder: &audit.Party{Agency: "prison-dk"},
			Recipients: []audit.Party{{Agency: "police-nl"}}, Subject: &audit.Subject{Pseudonym: "ps-a"},
			LegalBasis: &audit.LegalBasis{ID: "lb-1", ValidUntil: "2027-01-01"}, Detail: detail}
	}
	entries := []*audit.Entry{
		release("disclose", "officer-1", map[string]string{"peer": "nl-gateway"}),
		release("request", "officer-2\x00x", map[string]string{"via_peer": "nl-gateway", "peer_index": "7"}), // a NUL, as jsonb cannot hold it
		release("disclose", "officer-1", nil),
		release("request", "officer-1", map[string]string{"peer": "dk-gateway"}),
		release("disclose", "officer-1", map[string]string{"peer": "nl-gateway"}),
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var closed any
		if i == 4 {
			closed = int64(9)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO leaves (idx, leaf) VALUES ($1, $2)`, i, leaf); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO aftercare_releases (idx, recipient, holder, subject, legal_basis, record_type, valid_until, closed_by)
			VALUES ($1, 'police-nl', 'prison-dk', 'ps-a', 'lb-1', 'release_notice', '2027-01-01', $2)`, i, closed); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)

	s := openClosed(t, dbURL)
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
	if err := s.CheckIndex(ctx, 0, int64(len(entries))); err != nil {
		t.Errorf("CheckIndex() after the migration = %v", err)
	}
}

// migratedUpTo creates a database with the migrations whose names sort
// before before applied, as the store would have applied them, and
// returns its URL.
func migratedUpTo(t *testing.T, before string) string {
	t.Helper()
	dbURL := newDatabase(t)
	pgtest.Exec(t, dbURL, "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_ns BIGINT NOT NULL)")
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
		pgtest.Exec(t, dbURL, string(text), "INSERT INTO schema_migrations VALUES ('"+name+"', 0)")
	}
	return dbURL
}

// TestMigrateKeepsNoticesForForwards: notices tracked before migration
// 0060 keep their steps, and none is to be forwarded.
func TestMigrateKeepsNoticesForForwards(t *testing.T) {
	ctx := context.WithoutCancel(t.Context())
	dbURL := migratedUpTo(t, "0060")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		leaf, err := (&audit.Entry{Time: t0, Action: "notify", Outcome: "disclose"}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO leaves (idx, leaf) VALUES ($1, $2)`, i, leaf); err != nil {
			t.Fatal(err)
		}
	}
	acked := t0.Add(time.Hour)
	if _, err := conn.Exec(ctx, `INSERT INTO notices (id, audit_idx, recipient, sender, event_type, rule, created_ns, escalate_ns, deadline_ns, acked_ns, ack_idx)
		VALUES ('N-1', 0, 'police-nl', 'prison-dk', 'release_date_set', 'r', $1, $2, $3, $4, 1)`,
		t0.UnixNano(), t0.Add(24*time.Hour).UnixNano(), t0.Add(48*time.Hour).UnixNano(), acked.UnixNano()); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	s := openClosed(t, dbURL)
	ns, err := s.Notices(ctx, audit.NoticeFilter{})
	if err != nil || len(ns) != 1 {
		t.Fatalf("Notices() = %v, %v; want N-1", ns, err)
	}
	if n := ns[0]; !n.Acknowledged.Equal(acked) || n.AckIndex != 1 || n.ForwardDue || !n.Forwarded.IsZero() || n.ForwardIndex != -1 {
		t.Errorf("N-1 after the migration = %+v; want acknowledged at %v (entry 1), nothing to forward", n, acked)
	}
	if ns, err := s.Notices(ctx, audit.NoticeFilter{ForwardDue: true}); err != nil || len(ns) != 0 {
		t.Errorf("Notices(ForwardDue) = %v, %v; want none", ns, err)
	}
}

// TestMigrateKeepsObligationNoticeAcks: an obligation notice acknowledged
// before migration 0070 keeps its acknowledgement and has nothing to
// forward.
func TestMigrateKeepsObligationNoticeAcks(t *testing.T) {
	ctx := context.WithoutCancel(t.Context())
	dbURL := migratedUpTo(t, "0070")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	acked := t0.Add(time.Hour)
	if _, err := conn.Exec(ctx, `INSERT INTO aftercare_notices (idx, kind, recipient, holder, subject, record_type, refers_to, reason, obligation, sent_ns, ack_idx, ack_ns, done)
		VALUES (0, 'correction', 'probation-nl', 'prison-dk', 'apsn:s', 'release_notice', '', 'CORRECTED', 'rectify', $1, 1, $2, 'rectify')`,
		t0.UnixNano(), acked.UnixNano()); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	s := openClosed(t, dbURL)
	ns, err := s.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: -1})
	if err != nil || len(ns) != 1 {
		t.Fatalf("SentNotices() = %v, %v; want notice 0", ns, err)
	}
	if n := ns[0]; !n.AckTime.Equal(acked) || n.AckIndex != 1 || n.ForwardDue || n.ForwardedBy != -1 {
		t.Errorf("notice 0 after the migration = %+v; want acknowledged at %v (entry 1), nothing to forward", n, acked)
	}
	if ns, err := s.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, ForwardDue: true, After: -1}); err != nil || len(ns) != 0 {
		t.Errorf("SentNotices(ForwardDue) = %v, %v; want none", ns, err)
	}
}

// TestMigrateSupersededNotices builds a database as the migrations before
// 0120_superseded_notices.sql left it, with obligation notices projected
// then, and checks that the migration marks superseded exactly those a
// later notice to the same recipient refers to before their
// acknowledgement, in time proportionate to the notices (the gateway
// does not start until its migrations have run).
func TestMigrateSupersededNotices(t *testing.T) {
	ctx := context.WithoutCancel(t.Context())
	dbURL := migratedUpTo(t, "0120")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{}
	ins := func(idx int64, rcpt, refs string, ack any) {
		rows = append(rows, []any{idx, "correction", rcpt, "prison-dk", "apsn:s", "release_notice", refs, "CORRECTED", "rectify", t0.UnixNano(), ack})
	}
	ins(1, "police", "0", nil)      // superseded by 2
	ins(2, "police", "1", int64(3)) // acknowledged (3) before 4 refers to it
	ins(4, "police", "2", int64(7)) // superseded by 6, acknowledged after it
	ins(5, "social", "4", nil)      // another recipient's: supersedes nothing
	ins(6, "police", "4", nil)      //
	ins(11, "police", "10,1", nil)  // refers to 1 too, after 2 did
	ins(12, "police", "111,11", nil)
	const many = 20000
	for i := int64(100); i < 100+many; i++ {
		ins(i*10, "police", "0", nil) // nothing refers to them
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"aftercare_notices"}, []string{"idx", "kind", "recipient", "holder", "subject",
		"record_type", "refers_to", "reason", "obligation", "sent_ns", "ack_idx"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	start := time.Now()
	s := openClosed(t, dbURL)
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the migration of %d obligation notices took %v", many, took)
	}
	ns, err := s.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: -1, Limit: 7})
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

// TestMigrateNoticePeer: notices tracked before 0140_notice_peer.sql get
// the peer gateway their entry names (audit.NoticePeer: detail via_peer,
// else detail peer, else none; none for one forwarded to a peer that
// does not track it, detail peer_tracks_notice false, which
// 0160_notice_peer_untracked.sql puts right), as a notice tracked since
// gets it from its entry; a leaf with a NUL escape (not jsonb) is read too.
func TestMigrateNoticePeer(t *testing.T) {
	ctx := context.WithoutCancel(t.Context())
	dbURL := migratedUpTo(t, "0140")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	details := []map[string]string{
		{"via_peer": "dk-gateway", "peer_index": "7", "note": "a\x00b"}, // delivered by a peer
		{"peer": "nl-gateway", "peer_index": "3"},                       // forwarded to a peer
		nil, // at home
		{"via_peer": "dk-gateway", "peer": "se-gateway"},
		{"via_peer": "", "peer": ""},
		{"peer": "nl-gateway", "peer_tracks_notice": "false"}, // forwarded to a peer that does not track it (0160)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range details {
		leaf, err := (&audit.Entry{Time: t0, Action: "notify", Outcome: "disclose", Detail: d}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO leaves (idx, leaf) VALUES ($1, $2)`, i, leaf); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO notices (id, audit_idx, recipient, sender, event_type, rule, created_ns, escalate_ns, deadline_ns)
			VALUES ($1, $2, 'police-nl', 'prison-dk', 'release_date_set', 'r', $3, $4, $5)`,
			fmt.Sprintf("N-%d", i), i, t0.UnixNano(), t0.Add(24*time.Hour).UnixNano(), t0.Add(48*time.Hour).UnixNano()); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)

	s := openClosed(t, dbURL)
	ns, err := s.Notices(ctx, audit.NoticeFilter{})
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

// TestMigrateToFingerprintsBySubject: fingerprints stored before
// 0270_fingerprints_by_subject.sql take the tag of their release's subject
// (audit.SubjectTag), or the empty tag if the release has none or is not
// known; a lookup under the subject finds all three, one under another
// subject only those of the empty tag.
func TestMigrateToFingerprintsBySubject(t *testing.T) {
	ctx := context.WithoutCancel(t.Context())
	dbURL := migratedUpTo(t, "0270")
	const subj, other = "apsn:ABCDEFGHIJKLMNOPQRSTUVWXYZ", "apsn:ZYXWVUTSRQPONMLKJIHGFEDCBA"
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range []*audit.Entry{
		{Time: t0, Action: "disclose", Outcome: "disclose", RequestID: "r0", Subject: &audit.Subject{Pseudonym: subj}},
		{Time: t0, Action: "disclose", Outcome: "disclose", RequestID: "r1"},
	} {
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO leaves (idx, leaf) VALUES ($1, $2)`, i, leaf); err != nil {
			t.Fatal(err)
		}
	}
	fp := func(b byte) [32]byte { return [32]byte{b, 7} }
	for _, r := range []struct {
		fp    byte
		req   string
		after int64
		idx   *int64
	}{{1, "r0", 0, new(int64(0))}, {2, "r1", 1, new(int64(1))}, {3, "r2", 2, nil}} {
		f := fp(r.fp)
		if _, err := conn.Exec(ctx, "INSERT INTO aftercare_fingerprints (recipient, fp, request_id, after_idx, audit_idx) VALUES ('police', $1, $2, $3, $4)",
			f[:], r.req, r.after, r.idx); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)

	s := openClosed(t, dbURL)
	conn, err = pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, "SELECT request_id, subject_tag FROM aftercare_fingerprints")
	tags := map[string]string{}
	var req string
	var tag []byte
	if _, err := pgx.ForEachRow(rows, []any{&req, &tag}, func() error { tags[req] = string(tag); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"r0": string(audit.SubjectTag(subj)), "r1": "", "r2": ""}; !maps.Equal(tags, want) {
		t.Errorf("subject tags after the migration = %q, want %q", tags, want)
	}
	for _, c := range []struct {
		subject string
		want    []string
	}{{subj, []string{"r0@0", "r1@1", "r2@-1"}}, {other, []string{"r1@1", "r2@-1"}}} {
		got, err := s.MatchFingerprints(ctx, "police", c.subject, [][32]byte{fp(1), fp(2), fp(3)})
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, m := range got {
			found = append(found, fmt.Sprintf("%s@%d", m.RequestID, m.Index))
		}
		if !slices.Equal(found, c.want) {
			t.Errorf("MatchFingerprints(police, %s) after the migration = %q, want %q", c.subject, found, c.want)
		}
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
}
