package audittest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// RunState exercises the state that stores keep beside the log
// ([audit.StateStore]): case versions and their preconditions, tracked
// notices and their steps, and the timer lease, also with two store
// instances on one database racing. newDB is as for [Run]. A store that
// is not an audit.StateStore fails the test.
func RunState(t *testing.T, newDB func(t *testing.T) OpenFunc) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, open OpenFunc)
	}{
		{"CaseVersions", testCaseVersions},
		{"CaseHolds", testCaseHolds},
		{"CaseLookups", testCaseLookups},
		{"ConflictAppendsNothing", testConflictAppendsNothing},
		{"NoticeSteps", testNoticeSteps},
		{"NoticePeerFromEntry", testNoticePeerFromEntry},
		{"NoticeFilters", testNoticeFilters},
		{"NoticeForward", testNoticeForward},
		{"NoticeWithdrawal", testNoticeWithdrawal},
		{"NoticeWithdrawnMark", testNoticeWithdrawnMark},
		{"ConcurrentEscalationHasOneWinner", testEscalationRace},
		{"ClaimsHaveOneWinner", testClaims},
		{"Lease", testLease},
		{"StateSurvivesReopen", testStateReopen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, newDB(t))
		})
	}
}

func openState(t *testing.T, open OpenFunc) audit.StateStore {
	t.Helper()
	s := openStore(t, open)
	ss, ok := s.(audit.StateStore)
	if !ok {
		t.Fatalf("%T is not an audit.StateStore", s)
	}
	return ss
}

// caseV returns version v of a test case.
func caseV(id string, v int64, lead string, members ...string) *audit.CaseState {
	c := &audit.CaseState{
		ID: id, Kind: "zz.case", Jurisdiction: "ZZ", Subject: "ps-" + id, Lead: lead, Status: audit.CaseOpen,
		Opened: t0, Version: v, LegalBasis: &audit.LegalBasis{ID: "zz.basis", Citation: "ZZ Act"},
	}
	c.SetStatus(lead, audit.MemberActive, "", t0)
	for _, m := range members {
		c.SetStatus(m, audit.MemberInvited, lead, t0)
	}
	return c
}

func appendState(t *testing.T, s audit.StateStore, i int, c audit.Change, d ...audit.Delivery) (int64, error) {
	t.Helper()
	return s.AppendState(t.Context(), pending(t, newEntry(i), d...), c)
}

func mustAppendState(t *testing.T, s audit.StateStore, i int, c audit.Change, d ...audit.Delivery) int64 {
	t.Helper()
	idx, err := appendState(t, s, i, c, d...)
	if err != nil {
		t.Fatalf("AppendState(entry %d) = %v", i, err)
	}
	return idx
}

func mustCase(t *testing.T, s audit.StateStore, id string) *audit.CaseState {
	t.Helper()
	c, err := s.Case(t.Context(), id)
	if err != nil {
		t.Fatalf("Case(%q) = %v", id, err)
	}
	return c
}

// testCaseHolds checks Change.Holds: an entry resting on a case is
// appended only while the case is open and the agencies it names are
// members (the lead included); otherwise nothing is appended and the
// error says which.
func testCaseHolds(t *testing.T, open OpenFunc) {
	s := openState(t, open)
	v1 := caseV("C-1", 1, "lead-a", "agency-b", "agency-c")
	v1.SetStatus("agency-b", audit.MemberActive, "", t0)
	mustAppendState(t, s, 0, audit.Change{Case: v1})
	hold := func(members ...string) audit.Change {
		return audit.Change{Holds: []audit.CaseHold{{ID: "C-1", Members: members}}}
	}
	mustAppendState(t, s, 1, hold("lead-a", "agency-b"))
	// A case the store does not hold (the registry file's) holds nothing.
	mustAppendState(t, s, 2, audit.Change{Holds: []audit.CaseHold{{ID: "FILE-1", Members: []string{"x"}}}})
	size := func() int64 {
		t.Helper()
		n, err := s.Size(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, who := range []string{"agency-c", "agency-x"} { // invited only; never in the case
		_, err := appendState(t, s, 3, hold("lead-a", who))
		var he *audit.CaseHoldError
		if !errors.As(err, &he) || !errors.Is(err, audit.ErrConflict) || he.Closed || he.Agency != who || he.Case != "C-1" {
			t.Fatalf("AppendState(hold on %s) = %v, want a CaseHoldError naming it, wrapping ErrConflict", who, err)
		}
	}
	// agency-b leaves: from then on an entry that rests on its membership
	// is not appended; one that rests on the lead's still is.
	v2 := mustCase(t, s, "C-1").Clone()
	v2.Version = 2
	v2.SetStatus("agency-b", audit.MemberLeft, "", t0.Add(time.Hour))
	mustAppendState(t, s, 4, audit.Change{Case: v2})
	before := size()
	if _, err := appendState(t, s, 5, hold("agency-b")); !errors.As(err, new(*audit.CaseHoldError)) {
		t.Fatalf("AppendState(hold on a member that left) = %v, want a CaseHoldError", err)
	}
	if n := size(); n != before {
		t.Fatalf("a failed hold appended: size %d -> %d", before, n)
	}
	mustAppendState(t, s, 6, hold("lead-a"))
	// Closed: no entry rests on it, whoever it names.
	v3 := mustCase(t, s, "C-1").Clone()
	v3.Version = 3
	v3.Status, v3.Closed = audit.CaseClosed, t0.Add(2*time.Hour)
	mustAppendState(t, s, 7, audit.Change{Case: v3})
	_, err := appendState(t, s, 8, hold("lead-a"))
	if he, ok := errors.AsType[*audit.CaseHoldError](err); !ok || !he.Closed {
		t.Fatalf("AppendState(hold on a closed case) = %v, want a CaseHoldError saying it is closed", err)
	}
}

func testCaseVersions(t *testing.T, open OpenFunc) {
	s := openState(t, open)
	if c := mustCase(t, s, "C-1"); c != nil {
		t.Fatalf("Case(C-1) on an empty store = %+v, want nil", c)
	}
	if _, err := appendState(t, s, 0, audit.Change{Case: caseV("C-1", 2, "lead-a")}); !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(new case at version 2) = %v, want ErrConflict", err)
	}
	i1 := mustAppendState(t, s, 1, audit.Change{Case: caseV("C-1", 1, "lead-a", "agency-b")})
	got := mustCase(t, s, "C-1")
	want := caseV("C-1", 1, "lead-a", "agency-b")
	want.AuditIndex = i1
	if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("Case(C-1) after version 1 mismatch (-want +got):\n%s", diff)
	}
	if _, err := appendState(t, s, 2, audit.Change{Case: caseV("C-1", 1, "lead-a")}); !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(version 1 again) = %v, want ErrConflict", err)
	}
	v2 := got.Clone()
	v2.Version = 2
	v2.SetStatus("agency-b", audit.MemberActive, "", t0.Add(time.Hour))
	i2 := mustAppendState(t, s, 3, audit.Change{Case: v2})
	got = mustCase(t, s, "C-1")
	if got.Version != 2 || got.AuditIndex != i2 || got.StatusOf("agency-b") != audit.MemberActive {
		t.Errorf("Case(C-1) after version 2 = version %d, index %d, agency-b %q; want 2, %d, member", got.Version, got.AuditIndex, got.StatusOf("agency-b"), i2)
	}
	if !cmp.Equal(got.Active(), []string{"lead-a", "agency-b"}) {
		t.Errorf("Active() = %v, want [lead-a agency-b]", got.Active())
	}
	// A case id has one spelling: a new case whose id differs from an
	// existing one's only in letter case is a conflict, not a second case.
	if _, err := appendState(t, s, 4, audit.Change{Case: caseV("c-1", 1, "lead-b")}); !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(new case c-1 beside C-1) = %v, want ErrConflict", err)
	}
	if c := mustCase(t, s, "c-1"); c != nil {
		t.Errorf("Case(c-1) after the conflict = %+v, want nil", c)
	}
}

func testCaseLookups(t *testing.T, open OpenFunc) {
	s := openState(t, open)
	a := caseV("A-1", 1, "lead-a", "agency-b")
	b := caseV("B-1", 1, "lead-b", "agency-c")
	b.Subject = a.Subject
	c := caseV("C-1", 1, "lead-a")
	c.Status = audit.CaseClosed
	reg := &audit.CaseState{ID: "R-1", Lead: "lead-r", Status: audit.CaseOpen, Source: audit.CaseSourceRegistry, Opened: t0, Version: 1}
	reg.SetStatus("lead-r", audit.MemberActive, "", t0)
	for i, cs := range []*audit.CaseState{a, b, c, reg} {
		mustAppendState(t, s, i, audit.Change{Case: cs})
	}
	ids := func(f audit.CaseFilter) []string {
		t.Helper()
		cs, err := s.Cases(t.Context(), f)
		if err != nil {
			t.Fatalf("Cases(%+v) = %v", f, err)
		}
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		f    audit.CaseFilter
		want []string
	}{
		{audit.CaseFilter{}, []string{"A-1", "B-1", "C-1", "R-1"}},
		{audit.CaseFilter{Agency: "lead-a"}, []string{"A-1", "C-1"}},
		{audit.CaseFilter{Agency: "agency-c"}, []string{"B-1"}},
		{audit.CaseFilter{Subject: a.Subject}, []string{"A-1", "B-1"}},
		{audit.CaseFilter{Subject: a.Subject, Status: audit.CaseOpen, Agency: "agency-b"}, []string{"A-1"}},
		{audit.CaseFilter{Status: audit.CaseClosed}, []string{"C-1"}},
		{audit.CaseFilter{Source: audit.CaseSourceRegistry}, []string{"R-1"}},
		{audit.CaseFilter{Source: "api"}, []string{"A-1", "B-1", "C-1"}},
		{audit.CaseFilter{Agency: "nobody"}, []string{}},
		{audit.CaseFilter{SameID: "a-1"}, []string{"A-1"}},
		{audit.CaseFilter{SameID: "A-1"}, []string{"A-1"}},
		{audit.CaseFilter{SameID: "A-2"}, []string{}},
		{audit.CaseFilter{Limit: 2}, []string{"A-1", "B-1"}},
		{audit.CaseFilter{Limit: 2, After: "B-1"}, []string{"C-1", "R-1"}},
		{audit.CaseFilter{After: "A"}, []string{"A-1", "B-1", "C-1", "R-1"}},
		{audit.CaseFilter{After: "R-1"}, []string{}},
		{audit.CaseFilter{Agency: "lead-a", After: "A-1"}, []string{"C-1"}},
	} {
		if got := ids(tc.f); !cmp.Equal(got, tc.want) {
			t.Errorf("Cases(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
	// A member's status change moves it in the lookup by agency.
	a2 := mustCase(t, s, "A-1").Clone()
	a2.Version = 2
	a2.SetStatus("agency-b", audit.MemberRemoved, "lead-a", t0)
	a2.SetStatus("agency-d", audit.MemberInvited, "lead-a", t0)
	mustAppendState(t, s, 9, audit.Change{Case: a2})
	if got := ids(audit.CaseFilter{Agency: "agency-d"}); !cmp.Equal(got, []string{"A-1"}) {
		t.Errorf("Cases(agency-d) = %v, want [A-1]", got)
	}
}

func testConflictAppendsNothing(t *testing.T, open OpenFunc) {
	s := openState(t, open)
	mustAppendState(t, s, 0, audit.Change{Case: caseV("C-1", 1, "lead-a")})
	before := mustSize(t, s)
	_, err := appendState(t, s, 1, audit.Change{Case: caseV("C-1", 1, "lead-x")},
		audit.Delivery{Recipient: "lead-x", Kind: "k", Payload: []byte("p")})
	if !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(stale version) = %v, want ErrConflict", err)
	}
	if got := mustSize(t, s); got != before {
		t.Errorf("Size() after a conflict = %d, want %d", got, before)
	}
	items, err := s.Inbox(t.Context(), "lead-x", 0, 10)
	if err != nil || len(items) != 0 {
		t.Errorf("Inbox(lead-x) after a conflict = %d items, %v; want none", len(items), err)
	}
	if c := mustCase(t, s, "C-1"); c.Lead != "lead-a" {
		t.Errorf("Case(C-1).Lead after a conflict = %q, want lead-a", c.Lead)
	}
	// A mark of an unknown notice is a conflict too, and appends nothing.
	_, err = appendState(t, s, 2, audit.Change{Marks: []audit.NoticeMark{{Notice: "nope", Step: audit.NoticeEscalated, Time: t0}}})
	if !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(mark of an unknown notice) = %v, want ErrConflict", err)
	}
	if got := mustSize(t, s); got != before {
		t.Errorf("Size() after a conflict = %d, want %d", got, before)
	}
	// A new notice under an id tracked already is a conflict: the first
	// notice stays as it was, and nothing is appended.
	mustAppendState(t, s, 3, audit.Change{Notices: []audit.Notice{notice("N-1", "agency-b", t0)}})
	before = mustSize(t, s)
	_, err = appendState(t, s, 4, audit.Change{Notices: []audit.Notice{notice("N-1", "agency-x", t0.Add(time.Hour))}},
		audit.Delivery{Recipient: "agency-x", Kind: "k", Payload: []byte("p")})
	if !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(a notice id tracked already) = %v, want ErrConflict", err)
	}
	if got := mustSize(t, s); got != before {
		t.Errorf("Size() after a conflict = %d, want %d", got, before)
	}
	if ns := mustNotices(t, s, audit.NoticeFilter{ID: "N-1"}); len(ns) != 1 || ns[0].Recipient != "agency-b" || ns[0].AuditIndex != before-1 {
		t.Errorf("Notices(N-1) after a conflict = %+v, want the first alone", ns)
	}
	if items, err := s.Inbox(t.Context(), "agency-x", 0, 10); err != nil || len(items) != 0 {
		t.Errorf("Inbox(agency-x) after a conflict = %d items, %v; want none", len(items), err)
	}
	// The store still appends after a conflict.
	if idx := mustAppendState(t, s, 5, audit.Change{}); idx != before {
		t.Errorf("AppendState after a conflict = index %d, want %d", idx, before)
	}
}

func notice(id, recipient string, created time.Time) audit.Notice {
	return audit.Notice{
		ID: id, Recipient: recipient, Sender: "sender-a", EventType: "release_date_changed", Rule: "zz.notice",
		Created: created, EscalateAt: created.Add(48 * time.Hour), Deadline: created.Add(72 * time.Hour),
	}
}

func mustNotices(t *testing.T, s audit.StateStore, f audit.NoticeFilter) []audit.Notice {
	t.Helper()
	ns, err := s.Notices(t.Context(), f)
	if err != nil {
		t.Fatalf("Notices(%+v) = %v", f, err)
	}
	return ns
}

func noticeIDs(ns []audit.Notice) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

// testNoticePeerFromEntry: a notice tracked through [audit.Log.AppendState]
// is kept with the peer gateway its entry names ([audit.NoticePeer]),
// whatever the caller set: the gateway that delivered it (detail
// via_peer), or the one it was forwarded to (detail peer) unless that one
// does not track it (detail peer_tracks_notice false), or none.
func testNoticePeerFromEntry(t *testing.T, open OpenFunc) {
	l, done, err := session(t, open, nil, newLogKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	want := map[string]string{}
	for i, d := range []map[string]string{
		{"via_peer": "gateway-b", "peer": "gateway-c"},
		{"peer": "gateway-c"},
		nil,
		{"peer": "gateway-c", "peer_tracks_notice": "false"}, // forwarded to a peer that does not track it
	} {
		e := newEntry(i)
		e.Detail = d
		n := notice(fmt.Sprintf("N-%d", i), "police-a", t0)
		n.Peer = "gateway-x" // not what the entry says
		if _, err := l.AppendState(t.Context(), e, audit.Change{Notices: []audit.Notice{n}}); err != nil {
			t.Fatalf("AppendState(entry %d) = %v", i, err)
		}
		want[n.ID] = audit.NoticePeer(e)
	}
	ns, err := l.Notices(t.Context(), audit.NoticeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range ns {
		got[n.ID] = n.Peer
	}
	if w := (map[string]string{"N-0": "gateway-b", "N-1": "gateway-c", "N-2": "", "N-3": ""}); !maps.Equal(got, w) || !maps.Equal(want, w) {
		t.Errorf("the notices' peers %v (NoticePeer %v); want %v", got, want, w)
	}
}

func testNoticeSteps(t *testing.T, open OpenFunc) {
	s := openState(t, open)
	n := notice("N-1", "police-a", t0)
	n.Peer = "gateway-b" // kept as given
	idx := mustAppendState(t, s, 0, audit.Change{Notices: []audit.Notice{n}},
		audit.Delivery{Recipient: "police-a", Kind: "k", Payload: []byte("sealed")})
	got := mustNotices(t, s, audit.NoticeFilter{})
	want := n
	want.AuditIndex, want.AckIndex, want.EscalationIndex, want.OverdueIndex, want.ForwardIndex, want.WithdrawalIndex = idx, -1, -1, -1, -1, -1
	if diff := cmp.Diff([]audit.Notice{want}, got, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Fatalf("Notices() mismatch (-want +got):\n%s", diff)
	}
	mark := func(i int, step string, at time.Time) (int64, error) {
		return appendState(t, s, i, audit.Change{Marks: []audit.NoticeMark{{Notice: "N-1", Step: step, Time: at}}})
	}
	esc, err := mark(1, audit.NoticeEscalated, t0.Add(48*time.Hour))
	if err != nil {
		t.Fatalf("mark escalated = %v", err)
	}
	if _, err := mark(2, audit.NoticeEscalated, t0.Add(49*time.Hour)); !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("mark escalated twice = %v, want ErrConflict", err)
	}
	ack, err := mark(3, audit.NoticeAcknowledged, t0.Add(50*time.Hour))
	if err != nil {
		t.Fatalf("mark acknowledged = %v", err)
	}
	for _, step := range []string{audit.NoticeAcknowledged, audit.NoticeOverdue} {
		if _, err := mark(4, step, t0.Add(80*time.Hour)); !errors.Is(err, audit.ErrConflict) {
			t.Errorf("mark %s after the acknowledgement = %v, want ErrConflict", step, err)
		}
	}
	got = mustNotices(t, s, audit.NoticeFilter{})
	if len(got) != 1 {
		t.Fatalf("Notices() = %d, want 1", len(got))
	}
	g := got[0]
	if g.EscalationIndex != esc || !g.Escalated.Equal(t0.Add(48*time.Hour)) || g.AckIndex != ack || !g.Acknowledged.Equal(t0.Add(50*time.Hour)) || g.OverdueIndex != -1 {
		t.Errorf("Notices()[0] steps = escalated %v at %d, acknowledged %v at %d, overdue index %d; want 48h at %d, 50h at %d, -1",
			g.Escalated, g.EscalationIndex, g.Acknowledged, g.AckIndex, g.OverdueIndex, esc, ack)
	}
	if g.Late(t0.Add(100 * time.Hour)) {
		t.Errorf("Late() of a notice acknowledged before its deadline = true")
	}
	if _, err := appendState(t, s, 5, audit.Change{Notices: []audit.Notice{n}}); err == nil {
		t.Errorf("AppendState(the same notice id again) = nil, want an error")
	}
}

// testNoticeForward: an acknowledgement that is still to be forwarded to
// a peer gateway is marked with the acknowledgement (NoticeForwardDue,
// never on its own or twice), listed by ForwardDue until NoticeForwarded
// records that the peer took it, which is marked once.
// testNoticeWithdrawal: a Withdrawal closes the open notices delivered
// to its recipient under the releases it names, and no other (another
// recipient's, another release's, an acknowledged one); it is never a
// conflict. A closed notice is no longer open, escalated, overdue or
// acknowledged (each such mark is a conflict), and it is late only if it
// was withdrawn after its deadline.
func testNoticeWithdrawal(t *testing.T, open OpenFunc) {
	s := openState(t, open)
	rel := mustAppendState(t, s, 0, audit.Change{Notices: []audit.Notice{notice("N-1", "police-a", t0), notice("N-2", "police-b", t0)}})
	other := mustAppendState(t, s, 1, audit.Change{Notices: []audit.Notice{notice("N-3", "police-a", t0), notice("N-4", "police-a", t0)}})
	mustAppendState(t, s, 2, audit.Change{Marks: []audit.NoticeMark{{Notice: "N-4", Step: audit.NoticeAcknowledged, Time: t0.Add(time.Hour)}}})
	at := t0.Add(2 * time.Hour)
	w := mustAppendState(t, s, 3, audit.Change{Withdrawals: []audit.Withdrawal{{Recipient: "police-a", Releases: []int64{rel, other}, Time: at}}})
	got := map[string]audit.Notice{}
	for _, n := range mustNotices(t, s, audit.NoticeFilter{}) {
		got[n.ID] = n
	}
	if n := got["N-1"]; !n.Withdrawn.Equal(at) || n.WithdrawalIndex != w || n.Open() {
		t.Errorf("N-1 withdrawn %v by %d, open %v; want %v by %d, closed", n.Withdrawn, n.WithdrawalIndex, n.Open(), at, w)
	}
	if n := got["N-3"]; n.WithdrawalIndex != w {
		t.Errorf("N-3 withdrawal index %d; want %d", n.WithdrawalIndex, w)
	}
	for _, id := range []string{"N-2", "N-4"} { // another recipient's; acknowledged before
		if n := got[id]; !n.Withdrawn.IsZero() || n.WithdrawalIndex != -1 {
			t.Errorf("%s withdrawn %v by %d; want untouched", id, n.Withdrawn, n.WithdrawalIndex)
		}
	}
	if ids := noticeIDs(mustNotices(t, s, audit.NoticeFilter{Unacknowledged: true})); !slices.Equal(ids, []string{"N-2"}) {
		t.Errorf("open notices %v; want [N-2]", ids)
	}
	for _, f := range []audit.NoticeFilter{{EscalateBy: t0.Add(100 * time.Hour)}, {OverdueBy: t0.Add(100 * time.Hour)}} {
		if ids := noticeIDs(mustNotices(t, s, f)); !slices.Equal(ids, []string{"N-2"}) {
			t.Errorf("Notices(%+v) = %v; want [N-2]", f, ids)
		}
	}
	if ids := noticeIDs(mustNotices(t, s, audit.NoticeFilter{LateAt: t0.Add(100 * time.Hour)})); !slices.Equal(ids, []string{"N-2"}) {
		t.Errorf("late notices %v; want [N-2] (N-1 and N-3 withdrawn before their deadline)", ids)
	}
	for i, step := range []string{audit.NoticeAcknowledged, audit.NoticeEscalated, audit.NoticeOverdue} {
		if _, err := appendState(t, s, 4+i, audit.Change{Marks: []audit.NoticeMark{{Notice: "N-1", Step: step, Time: t0.Add(80 * time.Hour)}}}); !errors.Is(err, audit.ErrConflict) {
			t.Errorf("mark %s of a withdrawn notice = %v; want ErrConflict", step, err)
		}
	}
	// Again, and of a release with no notice: nothing to close, no conflict.
	if _, err := appendState(t, s, 7, audit.Change{Withdrawals: []audit.Withdrawal{{Recipient: "police-a", Releases: []int64{rel, w}, Time: at}}}); err != nil {
		t.Errorf("a withdrawal with nothing left to close = %v; want nil", err)
	}
	if n := mustNotices(t, s, audit.NoticeFilter{ID: "N-1"}); len(n) != 1 || n[0].WithdrawalIndex != w {
		t.Errorf("N-1 after a second withdrawal = %+v; want still closed by %d", n, w)
	}
	// Withdrawn after its deadline, unacknowledged: late.
	mustAppendState(t, s, 8, audit.Change{Withdrawals: []audit.Withdrawal{{Recipient: "police-b", Releases: []int64{rel}, Time: t0.Add(73 * time.Hour)}}})
	if ids := noticeIDs(mustNotices(t, s, audit.NoticeFilter{LateAt: t0.Add(100 * time.Hour)})); !slices.Equal(ids, []string{"N-2"}) {
		t.Errorf("late notices %v; want [N-2], withdrawn after its deadline", ids)
	}
}

// testNoticeWithdrawnMark: a NoticeWithdrawn mark closes the one open
// notice it names, at its time, by its entry; unlike a Withdrawal, one
// of a notice acknowledged or withdrawn already is a conflict and appends
// nothing, and no step but the forward's follows it.
func testNoticeWithdrawnMark(t *testing.T, open OpenFunc) {
	s := openState(t, open)
	mustAppendState(t, s, 0, audit.Change{Notices: []audit.Notice{notice("N-1", "police-a", t0), notice("N-2", "police-a", t0)}})
	mustAppendState(t, s, 1, audit.Change{Marks: []audit.NoticeMark{{Notice: "N-2", Step: audit.NoticeAcknowledged, Time: t0.Add(time.Hour)}}})
	at := t0.Add(2 * time.Hour)
	w := mustAppendState(t, s, 2, audit.Change{Marks: []audit.NoticeMark{{Notice: "N-1", Step: audit.NoticeWithdrawn, Time: at}}})
	if n := mustNotices(t, s, audit.NoticeFilter{ID: "N-1"}); len(n) != 1 || !n[0].Withdrawn.Equal(at) || n[0].WithdrawalIndex != w || n[0].Open() {
		t.Errorf("N-1 after its withdrawn mark = %+v; want withdrawn at %v by %d", n, at, w)
	}
	size := mustSize(t, s)
	for i, m := range []audit.NoticeMark{
		{Notice: "N-1", Step: audit.NoticeWithdrawn, Time: at},    // withdrawn already
		{Notice: "N-2", Step: audit.NoticeWithdrawn, Time: at},    // acknowledged
		{Notice: "N-9", Step: audit.NoticeWithdrawn, Time: at},    // not tracked
		{Notice: "N-1", Step: audit.NoticeAcknowledged, Time: at}, // closed
		{Notice: "N-1", Step: audit.NoticeOverdue, Time: t0.Add(80 * time.Hour)},
	} {
		if _, err := appendState(t, s, 3+i, audit.Change{Marks: []audit.NoticeMark{m}}); !errors.Is(err, audit.ErrConflict) {
			t.Errorf("mark %s of %s = %v; want ErrConflict", m.Step, m.Notice, err)
		}
	}
	if got := mustSize(t, s); got != size {
		t.Errorf("the log grew from %d to %d entries by marks that were conflicts", size, got)
	}
	if n := mustNotices(t, s, audit.NoticeFilter{ID: "N-2"}); len(n) != 1 || !n[0].Withdrawn.IsZero() || n[0].WithdrawalIndex != -1 {
		t.Errorf("N-2, acknowledged, after a withdrawn mark = %+v; want it untouched", n)
	}
	if ids := noticeIDs(mustNotices(t, s, audit.NoticeFilter{LateAt: t0.Add(100 * time.Hour)})); len(ids) != 0 {
		t.Errorf("late notices %v; want none (N-1 withdrawn before its deadline, N-2 acknowledged in time)", ids)
	}
}

func testNoticeForward(t *testing.T, open OpenFunc) {
	s := openState(t, open)
	for i, id := range []string{"N-1", "N-2"} {
		mustAppendState(t, s, i, audit.Change{Notices: []audit.Notice{notice(id, "police-a", t0)}})
	}
	at := t0.Add(10 * time.Hour)
	marks := func(steps ...string) audit.Change {
		var c audit.Change
		for _, st := range steps {
			c.Marks = append(c.Marks, audit.NoticeMark{Notice: "N-1", Step: st, Time: at})
		}
		return c
	}
	for name, c := range map[string]audit.Change{
		"forward due alone":                          marks(audit.NoticeForwardDue),
		"forward due before the acknowledgement":     marks(audit.NoticeForwardDue, audit.NoticeAcknowledged),
		"forwarded without a forward due":            marks(audit.NoticeAcknowledged, audit.NoticeForwarded),
		"forward due twice with the acknowledgement": marks(audit.NoticeAcknowledged, audit.NoticeForwardDue, audit.NoticeForwardDue),
	} {
		if _, err := appendState(t, s, 5, c); !errors.Is(err, audit.ErrConflict) {
			t.Errorf("%s = %v, want ErrConflict", name, err)
		}
	}
	if got := mustNotices(t, s, audit.NoticeFilter{Unacknowledged: true}); len(got) != 2 {
		t.Fatalf("after the refused marks, %d notices open; want both (a refused change changes nothing)", len(got))
	}
	ack := mustAppendState(t, s, 6, marks(audit.NoticeAcknowledged, audit.NoticeForwardDue))
	mustAppendState(t, s, 7, audit.Change{Marks: []audit.NoticeMark{{Notice: "N-2", Step: audit.NoticeAcknowledged, Time: at}}})
	if _, err := appendState(t, s, 8, marks(audit.NoticeForwardDue)); !errors.Is(err, audit.ErrConflict) {
		t.Errorf("forward due after the acknowledgement's entry = %v, want ErrConflict", err)
	}
	if got := noticeIDs(mustNotices(t, s, audit.NoticeFilter{ForwardDue: true})); !cmp.Equal(got, []string{"N-1"}) {
		t.Fatalf("Notices(ForwardDue) = %v, want [N-1]", got)
	}
	fwdAt := t0.Add(30 * time.Hour)
	fwd := mustAppendState(t, s, 9, audit.Change{Marks: []audit.NoticeMark{{Notice: "N-1", Step: audit.NoticeForwarded, Time: fwdAt}}})
	if _, err := appendState(t, s, 10, audit.Change{Marks: []audit.NoticeMark{{Notice: "N-1", Step: audit.NoticeForwarded, Time: fwdAt}}}); !errors.Is(err, audit.ErrConflict) {
		t.Errorf("forwarded twice = %v, want ErrConflict", err)
	}
	if got := mustNotices(t, s, audit.NoticeFilter{ForwardDue: true}); len(got) != 0 {
		t.Errorf("Notices(ForwardDue) after the forward = %v, want none", noticeIDs(got))
	}
	got := mustNotices(t, s, audit.NoticeFilter{ID: "N-1"})
	if len(got) != 1 || !got[0].ForwardDue || got[0].ForwardIndex != fwd || !got[0].Forwarded.Equal(fwdAt) || got[0].AckIndex != ack || !got[0].Acknowledged.Equal(at) {
		t.Errorf("N-1 = %+v; want acknowledged at %v (entry %d), forwarded at %v (entry %d)", got, at, ack, fwdAt, fwd)
	}
	if got := mustNotices(t, s, audit.NoticeFilter{ID: "N-2"}); len(got) != 1 || got[0].ForwardDue || got[0].ForwardIndex != -1 || !got[0].Forwarded.IsZero() {
		t.Errorf("N-2 = %+v; want no forward", got)
	}
}

func testNoticeFilters(t *testing.T, open OpenFunc) {
	s := openState(t, open)
	// N-1: escalated and overdue, never acknowledged; N-2: acknowledged
	// late; N-3: acknowledged in time; N-4: fresh, another recipient.
	var at []int64 // the notices' entries
	for i, n := range []audit.Notice{
		notice("N-1", "police-a", t0),
		notice("N-2", "police-a", t0.Add(time.Hour)),
		notice("N-3", "police-a", t0.Add(2*time.Hour)),
		notice("N-4", "police-b", t0.Add(100*time.Hour)),
	} {
		at = append(at, mustAppendState(t, s, i, audit.Change{Notices: []audit.Notice{n}},
			audit.Delivery{Recipient: n.Recipient, Kind: "k", Payload: []byte("sealed")}))
	}
	items, err := s.Inbox(t.Context(), "police-a", 0, 10)
	if err != nil || len(items) != 3 {
		t.Fatalf("Inbox(police-a) = %d items, %v; want 3", len(items), err)
	}
	for i, m := range []audit.NoticeMark{
		{Notice: "N-1", Step: audit.NoticeEscalated, Time: t0.Add(48 * time.Hour)},
		{Notice: "N-1", Step: audit.NoticeOverdue, Time: t0.Add(72 * time.Hour)},
		{Notice: "N-2", Step: audit.NoticeAcknowledged, Time: t0.Add(80 * time.Hour)},
		{Notice: "N-3", Step: audit.NoticeAcknowledged, Time: t0.Add(10 * time.Hour)},
	} {
		mustAppendState(t, s, 10+i, audit.Change{Marks: []audit.NoticeMark{m}})
	}
	for _, tc := range []struct {
		name string
		f    audit.NoticeFilter
		want []string
	}{
		{"all", audit.NoticeFilter{}, []string{"N-1", "N-2", "N-3", "N-4"}},
		{"recipient", audit.NoticeFilter{Recipient: "police-b"}, []string{"N-4"}},
		{"id", audit.NoticeFilter{ID: "N-2"}, []string{"N-2"}},
		{"id of another recipient", audit.NoticeFilter{ID: "N-2", Recipient: "police-b"}, []string{}},
		{"sender", audit.NoticeFilter{Sender: "sender-a", Limit: 2}, []string{"N-1", "N-2"}},
		{"unacknowledged", audit.NoticeFilter{Unacknowledged: true}, []string{"N-1", "N-4"}},
		{"escalate due", audit.NoticeFilter{EscalateBy: t0.Add(200 * time.Hour)}, []string{"N-4"}},
		{"escalate not yet due", audit.NoticeFilter{EscalateBy: t0.Add(147 * time.Hour)}, []string{}},
		{"overdue due", audit.NoticeFilter{OverdueBy: t0.Add(172 * time.Hour)}, []string{"N-4"}},
		{"late now", audit.NoticeFilter{LateAt: t0.Add(90 * time.Hour)}, []string{"N-1", "N-2"}},
		{"late later", audit.NoticeFilter{LateAt: t0.Add(200 * time.Hour)}, []string{"N-1", "N-2", "N-4"}},
		{"delivered up to the second item", audit.NoticeFilter{Recipient: "police-a", InboxCursor: items[1].Cursor}, []string{"N-1", "N-2"}},
		{"start", audit.NoticeFilter{Start: at[1]}, []string{"N-2", "N-3", "N-4"}},
		{"start, a page", audit.NoticeFilter{Start: at[1] + 1, Limit: 1}, []string{"N-3"}},
		{"start after the last", audit.NoticeFilter{Start: at[3] + 1}, []string{}},
		{"delivered up to the second item, open", audit.NoticeFilter{Recipient: "police-a", InboxCursor: items[1].Cursor, Unacknowledged: true}, []string{"N-1"}},
	} {
		if got := noticeIDs(mustNotices(t, s, tc.f)); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: Notices(%+v) = %v, want %v", tc.name, tc.f, got, tc.want)
		}
	}
}

// testEscalationRace has two store instances (two processes) mark the same
// notices escalated at once: each notice is escalated exactly once.
func testEscalationRace(t *testing.T, open OpenFunc) {
	a := openState(t, open)
	b := openState(t, open)
	const notices = 5
	for i := range notices {
		mustAppendState(t, a, i, audit.Change{Notices: []audit.Notice{notice(fmt.Sprintf("N-%d", i), "police-a", t0)}})
	}
	before := mustSize(t, a)
	var won, lost atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		s := []audit.StateStore{a, b}[g%2]
		wg.Go(func() {
			for i := range notices {
				_, err := s.AppendState(t.Context(), pending(t, newEntry(100+g*10+i)), audit.Change{Marks: []audit.NoticeMark{{
					Notice: fmt.Sprintf("N-%d", i), Step: audit.NoticeEscalated, Time: t0.Add(48 * time.Hour),
				}}})
				switch {
				case err == nil:
					won.Add(1)
				case errors.Is(err, audit.ErrConflict):
					lost.Add(1)
				default:
					t.Errorf("AppendState(escalation) = %v", err)
				}
			}
		})
	}
	wg.Wait()
	if won.Load() != notices || lost.Load() != 8*notices-notices {
		t.Errorf("escalations committed = %d, conflicts = %d; want %d and %d", won.Load(), lost.Load(), notices, 8*notices-notices)
	}
	if got := mustSize(t, a); got != before+notices {
		t.Errorf("Size() = %d, want %d (one entry per escalation)", got, before+notices)
	}
	for _, n := range mustNotices(t, b, audit.NoticeFilter{}) {
		if n.EscalationIndex < before {
			t.Errorf("notice %s escalation index = %d, want an entry at or after %d", n.ID, n.EscalationIndex, before)
		}
	}
}

func testLease(t *testing.T, open OpenFunc) {
	a := openState(t, open)
	b := openState(t, open)
	take := func(s audit.StateStore, holder string, now time.Time) bool {
		t.Helper()
		ok, err := s.Lease(t.Context(), "timers", holder, now, now.Add(time.Minute))
		if err != nil {
			t.Fatalf("Lease(%s) = %v", holder, err)
		}
		return ok
	}
	if !take(a, "replica-a", t0) {
		t.Fatal("Lease(replica-a) on a free lease = false")
	}
	if take(b, "replica-b", t0.Add(30*time.Second)) {
		t.Error("Lease(replica-b) while replica-a holds it = true")
	}
	if !take(a, "replica-a", t0.Add(50*time.Second)) {
		t.Error("Lease(replica-a) renewing its own lease = false")
	}
	if take(b, "replica-b", t0.Add(100*time.Second)) {
		t.Error("Lease(replica-b) before the renewed lease expires = true")
	}
	if !take(b, "replica-b", t0.Add(111*time.Second)) {
		t.Error("Lease(replica-b) after replica-a's lease expired = false")
	}
	if take(a, "replica-a", t0.Add(112*time.Second)) {
		t.Error("Lease(replica-a) after replica-b took over = true")
	}
	ok, err := a.Lease(t.Context(), "other", "replica-a", t0, t0.Add(time.Minute))
	if err != nil || !ok {
		t.Errorf("Lease(other) = %v, %v; want a lease of its own", ok, err)
	}
	// Racing for a free lease: exactly one holder.
	var winners atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		s := []audit.StateStore{a, b}[g%2]
		wg.Go(func() {
			ok, err := s.Lease(t.Context(), "race", fmt.Sprintf("replica-%d", g), t0, t0.Add(time.Minute))
			if err != nil {
				t.Errorf("Lease(race) = %v", err)
			}
			if ok {
				winners.Add(1)
			}
		})
	}
	wg.Wait()
	if winners.Load() != 1 {
		t.Errorf("racing for a free lease: %d holders, want 1", winners.Load())
	}
}

func testStateReopen(t *testing.T, open OpenFunc) {
	s := open(t)
	ss := s.(audit.StateStore)
	mustAppendState(t, ss, 0, audit.Change{Case: caseV("C-1", 1, "lead-a", "agency-b"), Notices: []audit.Notice{notice("N-1", "agency-b", t0)}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r := openState(t, open)
	if c := mustCase(t, r, "C-1"); c == nil || c.StatusOf("agency-b") != audit.MemberInvited {
		t.Errorf("Case(C-1) after reopening = %+v, want agency-b invited", c)
	}
	if ns := mustNotices(t, r, audit.NoticeFilter{}); len(ns) != 1 || ns[0].ID != "N-1" {
		t.Errorf("Notices() after reopening = %v, want N-1", noticeIDs(ns))
	}
}

// testClaims takes ids of the first-writer-wins set with entries
// (Change.Claims): of eight appends claiming one id through two store
// instances at once, exactly one is recorded; an append that fails takes
// no claim; an expired claim is taken over; a claim holds against
// Remember, as a token id does.
func testClaims(t *testing.T, open OpenFunc) {
	a := openState(t, open)
	b := openState(t, open)
	ctx := t.Context()
	id := func(s string) [32]byte { return sha256.Sum256([]byte("claim/" + s)) }
	later := time.Now().Add(time.Hour)
	claim := func(s audit.StateStore, i int, c ...audit.Claim) error {
		_, err := appendState(t, s, i, audit.Change{Claims: c})
		return err
	}
	before := mustSize(t, a)
	var won, lost atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			switch err := claim([]audit.StateStore{a, b}[g%2], 10+g, audit.Claim{ID: id("x"), Expires: later}); {
			case err == nil:
				won.Add(1)
			case errors.Is(err, audit.ErrConflict):
				lost.Add(1)
			default:
				t.Errorf("AppendState(claim) = %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || lost.Load() != 7 {
		t.Fatalf("8 claims of one id at once: %d recorded, %d conflicts; want 1 and 7", won.Load(), lost.Load())
	}
	if got := mustSize(t, a); got != before+1 {
		t.Fatalf("Size() = %d, want %d: one entry for the claim", got, before+1)
	}
	if r, ok := a.(interface {
		Remember(ctx context.Context, id, binding [32]byte, expires time.Time) ([32]byte, error)
	}); ok {
		mine := sha256.Sum256([]byte("a token"))
		if first, err := r.Remember(ctx, id("x"), mine, later); err != nil || first == mine {
			t.Errorf("Remember(a claimed id) = %x, %v; want the claim's binding", first[:4], err)
		}
	}
	// Nothing appended, nothing claimed.
	_, err := appendState(t, a, 20, audit.Change{Claims: []audit.Claim{{ID: id("y"), Expires: later}},
		Marks: []audit.NoticeMark{{Notice: "nope", Step: audit.NoticeEscalated, Time: t0}}})
	if !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(claim with an impossible mark) = %v, want ErrConflict", err)
	}
	if err := claim(b, 21, audit.Claim{ID: id("y"), Expires: later}); err != nil {
		t.Fatalf("AppendState(claim of an id a failed append named) = %v, want it taken", err)
	}
	// An expired claim is free again.
	if err := claim(a, 22, audit.Claim{ID: id("z"), Expires: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := claim(b, 23, audit.Claim{ID: id("z"), Expires: later}); err != nil {
		t.Fatalf("AppendState(claim of an expired id) = %v, want it taken", err)
	}
	if err := claim(a, 24, audit.Claim{ID: id("z"), Expires: later}); !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("AppendState(claim of a live id) = %v, want ErrConflict", err)
	}
}
