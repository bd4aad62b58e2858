package gateway_test

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// failTracking makes the SQLite store fail to track any required notice
// from now on, until the test ends: a trigger drops the insert, so the
// store reports the notice's id tracked already (audit.ErrConflict) and
// appends nothing. The exchange fails after it prepared the notice, and
// its failed entry, which tracks nothing, commits.
func failTracking(t *testing.T, s *stack) {
	t.Helper()
	if s.store == nil {
		// The callers start their stack on SQLite: the fault is a SQLite
		// trigger. A stack on PostgreSQL here is a mistake in the test.
		t.Fatal("failTracking: the stack is not on SQLite, where the fault is injected")
	}
	db, err := sql.Open("sqlite", s.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TRIGGER truth_fail_tracking BEFORE INSERT ON notices BEGIN SELECT RAISE(IGNORE); END`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec(`DROP TRIGGER IF EXISTS truth_fail_tracking`) })
}

// noticeKeys are the detail keys that tell of a notice sent and the
// deadline of its acknowledgement.
var noticeKeys = []string{"notice_id", "notice_rule", "acknowledge_by", "escalate_at"}

// claimsNotice returns the keys of noticeKeys (and those of also) that e's
// detail holds.
func claimsNotice(e *audit.Entry, also ...string) []string {
	var out []string
	for _, k := range append(slices.Clone(noticeKeys), also...) {
		if _, ok := e.Detail[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// TestFailedCorrectionClaimsNoNotice: the Danish prison corrects the
// release date it told the Aarhus police, which makes the correction a
// required notice (TestCorrectionMovingTheReleaseDateIsARequiredNotice),
// but the store fails to track the notice as the correction is
// delivered. Nothing reached the police, so the failed entry must not
// name the notice, its event or its deadline, and the result gives no
// notice id or deadline. Without the fix the failed entry kept
// notice_id, event and acknowledge_by.
func TestFailedCorrectionClaimsNoNotice(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{serverNow: newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now})
	rec, _ := dkReleaseToAarhusPolice(t, s)
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ReleaseDate = "2026-11-27"
	care := aftercare(t, s, dkPrison)
	failTracking(t, s)
	var resp *liaisonv1.CorrectResponse
	err, entries := s.grown(t, func() error {
		var err error
		resp, err = care.Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Justification: "The release was brought forward."})
		return err
	})
	if err != nil || len(resp.GetResults()) != 1 {
		t.Fatalf("Correct = %v, %v; want one result", resp, err)
	}
	r := resp.GetResults()[0]
	if r.GetFailure().GetCode() != "INTERNAL" || r.GetNoticeId() != "" || r.GetAcknowledgeBy() != "" {
		t.Errorf("result = %v; want failed INTERNAL, no notice id or deadline", r)
	}
	if len(entries) != 1 || entries[0].Action != audit.ActionCorrect || entries[0].Outcome != audit.OutcomeFailed {
		t.Fatalf("entries = %+v; want one failed correction", entries)
	}
	if got := claimsNotice(entries[0], "event", audit.DetailReleasedDigest); len(got) > 0 {
		t.Errorf("the failed correction's entry names a notice never delivered: %v (detail %v)", got, entries[0].Detail)
	}
	if ns, err := aftercare(t, s, dkAuditor).ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{}); err != nil || len(ns.GetNotices()) != 0 {
		t.Errorf("auditors list %v (%v); want no notice", ns.GetNotices(), err)
	}
}

// TestFailedNotifyClaimsNoNotice: the Dutch prison notifies the
// Amsterdam police of a release date, which the police must acknowledge
// (TestRequiredNoticeDeadlineFollowsTheNotifiedDate), but the store fails
// to track the notice as it is delivered. The failed entry keeps the event the prison
// reported (the policy input, which replay decides again), but names no
// notice or deadline (nor the digest of a release), and neither does the
// result. Without the fix both named the notice id and its deadline, and
// the entry the digest of what was not released.
func TestFailedNotifyClaimsNoNotice(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	prison := s.exchange(t, nlPrison)
	notify := func() (*liaisonv1.NotifyResponse, error) {
		return prison.Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_CHANGED,
			Record:    releaseNoticeOf("SYN-NL-0701", "Amsterdam", "2027-01-11", "2027-03-01"), Subject: attrsIn("Amsterdam", ""),
			RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{Kind: liaisonv1.AgencyKind_AGENCY_KIND_POLICE}}}},
			Purpose:        liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "The release was brought forward.",
		})
	}
	if nr, err := notify(); err != nil || len(nr.GetResults()) != 1 || nr.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify = %v, %v; want one required notice", nr, err)
	}
	failTracking(t, s)
	err, entries := s.grown(t, func() error {
		_, err := notify()
		return err
	})
	if err == nil {
		t.Fatal("Notify succeeded with the inbox failing")
	}
	var resp *liaisonv1.NotifyResponse
	for _, d := range status.Convert(err).Details() {
		if r, ok := d.(*liaisonv1.NotifyResponse); ok {
			resp = r
		}
	}
	if len(resp.GetResults()) != 1 {
		t.Fatalf("Notify error %v carries results %v; want one", err, resp.GetResults())
	}
	if r := resp.GetResults()[0]; r.GetFailure().GetCode() != "INTERNAL" || r.GetNoticeId() != "" || r.GetAcknowledgeBy() != "" {
		t.Errorf("result = %v; want failed INTERNAL, no notice id or deadline", r)
	}
	if len(entries) != 1 || entries[0].Action != "notify" || entries[0].Outcome != audit.OutcomeFailed {
		t.Fatalf("entries = %+v; want one failed notify", entries)
	}
	e := entries[0]
	if got := claimsNotice(e, audit.DetailReleasedDigest); len(got) > 0 {
		t.Errorf("the failed notify's entry names a notice never delivered: %v (detail %v)", got, e.Detail)
	}
	if e.Detail["event"] != "release_date_changed" || e.Detail["event_id"] != resp.GetEventId() {
		t.Errorf("the failed notify's entry detail %v; want the event reported (release_date_changed, %s)", e.Detail, resp.GetEventId())
	}
}
