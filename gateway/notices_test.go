package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCorrectionMovingTheReleaseDateIsARequiredNotice: the Danish prison
// released its notice of a release on 2026-12-15 to the Aarhus police; on
// 26 November it corrects the date to the 27th, tomorrow. The police must
// acknowledge the new date before the release day, as they must a Notify
// of it (dk.notice.release.police): the correction's result names the
// required notice, due at the start of the 27th, its inbox item carries
// it, auditors list it, the timers escalate it once (halfway to the
// deadline, to the police's duty role and back to the prison), and the
// police's Acknowledge of the item closes it. A later correction that
// keeps the date is no required notice. Without the fix the correction
// carried no deadline: nothing was tracked, listed or escalated.
func TestCorrectionMovingTheReleaseDateIsARequiredNotice(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, attrs := dkRelease(t, s)
	if attrs.GetReleaseDate() != "2026-12-15" || rec.GetReleaseNotice().GetReleaseDate() != "2026-12-15" {
		t.Fatalf("the sample release is on %s (record %s), want 2026-12-15", attrs.GetReleaseDate(), rec.GetReleaseNotice().GetReleaseDate())
	}
	d, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
	})
	if err != nil {
		t.Fatal(err)
	}
	release := d.GetResults()[0].GetAuditIndex()
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ReleaseDate = "2026-11-27"
	c, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Justification: "The release was brought forward."})
	if err != nil || len(c.GetResults()) != 1 || c.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("Correct = %v, %v; want one correction", c, err)
	}
	r := c.GetResults()[0]
	if r.GetNoticeId() == "" || r.GetAcknowledgeBy() != "2026-11-26T23:00:00Z" {
		t.Fatalf("correction result %v: notice %q due %q; want a required notice due 2026-11-26T23:00:00Z, the start of the new release day in Copenhagen",
			r, r.GetNoticeId(), r.GetAcknowledgeBy())
	}
	e := s.entry(t, r.GetAuditIndex())
	if e.Detail["notice_id"] != r.GetNoticeId() || e.Detail["event"] != "release_date_changed" || e.Detail["notice_rule"] != "dk.notice.release.police" ||
		e.Detail["acknowledge_by"] != "2026-11-26T23:00:00Z" {
		t.Errorf("correction entry detail = %v", e.Detail)
	}
	// The inbox item carries the notice beside the obligation.
	var item *liaisonv1.SubscribeResponse
	for _, it := range readInbox(t, s, dkPolice, 0) {
		if it.GetObligation().GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
			item = it
		}
	}
	if n := item.GetNotice(); n.GetNoticeId() != r.GetNoticeId() || n.GetAcknowledgeBy() != r.GetAcknowledgeBy() ||
		n.GetEventType() != liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_CHANGED || n.GetRule() != "dk.notice.release.police" ||
		len(n.GetRoutes()) != 1 || n.GetRoutes()[0].GetEarlierAuditIndex() != release {
		t.Fatalf("the police's correction item says of its notice %v", n)
	}
	// Auditors list it.
	nc := liaisonv1.NewNoticesClient(s.conn(t, dkAuditor))
	listed, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{UnacknowledgedOnly: true})
	if err != nil || len(listed.GetNotices()) != 1 || listed.GetNotices()[0].GetNoticeId() != r.GetNoticeId() ||
		listed.GetNotices()[0].GetAuditIndex() != r.GetAuditIndex() || listed.GetNotices()[0].GetSender() != "dk-prison-east" {
		t.Fatalf("ListNotices = %v, %v; want the correction's notice", listed, err)
	}
	// Escalated once, halfway to the deadline (13 hours left, less than
	// the rule's 24-hour grace).
	if at := listed.GetNotices()[0].GetEscalateAt(); at != "2026-11-26T16:30:00Z" {
		t.Errorf("escalate_at = %s, want 2026-11-26T16:30:00Z", at)
	}
	start, _ := s.db.Size(ctx)
	clk.Set(time.Date(2026, 11, 26, 16, 31, 0, 0, time.UTC))
	for range 2 {
		if held, err := s.srv.RunTimers(ctx); err != nil || !held {
			t.Fatalf("RunTimers = %v, %v", held, err)
		}
	}
	esc := s.entriesOf(t, "notice_escalate", start)
	if len(esc) != 1 || esc[0].Detail["notice_id"] != r.GetNoticeId() {
		t.Fatalf("escalations = %+v, want one of %s", esc, r.GetNoticeId())
	}
	// The police read it in time: one acknowledgement, not late.
	police := s.exchange(t, dkPolice)
	_, ack := s.one(t, "acknowledge", "notice_acknowledge", "ok", func() error {
		_, err := police.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: item.GetCursor()})
		return err
	})
	if ack.Detail["notice_id"] != r.GetNoticeId() || ack.Detail["late"] != "false" {
		t.Errorf("acknowledgement entry = %+v", ack)
	}
	open, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{UnacknowledgedOnly: true})
	if err != nil || len(open.GetNotices()) != 0 {
		t.Errorf("open notices after the acknowledgement = %v, %v", open, err)
	}
	// A correction that keeps the date carries no required notice.
	again := proto.CloneOf(corrected)
	again.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus"
	c2, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: again, Justification: "The contact point changed."})
	if err != nil || len(c2.GetResults()) != 1 || c2.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("second Correct = %v, %v", c2, err)
	}
	if id := c2.GetResults()[0].GetNoticeId(); id != "" {
		t.Errorf("a correction that keeps the release date made required notice %s", id)
	}
}

// TestSupersededNoticeIsClosed: the Danish prison corrects its release
// notice to the Aarhus police twice before the police read the first
// correction; the second, a correction of the first, withdraws the
// unread first from the inbox, so the police can never acknowledge it.
// Auditors list only the second as open; the first is listed, with the
// closed ones, as superseded by the second. A notice acknowledged before
// a later one refers to it stays acknowledged, not superseded. Without
// the fix the first correction was listed open for ever.
func TestSupersededNoticeIsClosed(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now
		s := startStack(t, o)
		rec, _ := dkReleaseToAarhusPolice(t, s)
		prison := aftercare(t, s, dkPrison)
		correct := func(contact string) *liaisonv1.NoticeResult {
			t.Helper()
			c := proto.CloneOf(rec)
			c.GetReleaseNotice().ContactPoint = contact
			r, err := prison.Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Justification: "The contact point changed."})
			if err != nil || len(r.GetResults()) != 1 || r.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
				t.Fatalf("Correct = %v, %v; want one correction", r, err)
			}
			return r.GetResults()[0]
		}
		first := correct("Kriminalforsorgen Aarhus")
		second := correct("Kriminalforsorgen Aarhus, probation desk")
		if second.GetRefersTo() != first.GetAuditIndex() {
			t.Fatalf("the second correction refers to %d, want the first, %d", second.GetRefersTo(), first.GetAuditIndex())
		}
		for _, it := range readInbox(t, s, dkPolice, 0) {
			if it.GetObligation().GetAuditIndex() == first.GetAuditIndex() {
				t.Fatalf("the first correction is still in the police's inbox: %v", it.GetObligation())
			}
		}
		auditor := aftercare(t, s, dkAuditor)
		list := func(all bool) map[int64]*liaisonv1.ListedNotice {
			t.Helper()
			r, err := auditor.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{IncludeAcknowledged: all})
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64]*liaisonv1.ListedNotice{}
			for _, n := range r.GetNotices() {
				out[n.GetAuditIndex()] = n
			}
			return out
		}
		if open := list(false); len(open) != 1 || open[second.GetAuditIndex()] == nil {
			t.Errorf("open notices = %v; want only the second correction, %d (the first is superseded)", open, second.GetAuditIndex())
		}
		all := list(true)
		if n := all[first.GetAuditIndex()]; n == nil || n.GetSupersededBy() != second.GetAuditIndex() || n.GetAcknowledgementIndex() != 0 {
			t.Errorf("the first correction as listed = %v; want it superseded by %d, not acknowledged", n, second.GetAuditIndex())
		}
		if n := all[second.GetAuditIndex()]; n == nil || n.GetSupersededBy() != 0 {
			t.Errorf("the second correction as listed = %v; want it open", n)
		}
		// The first can no longer be acknowledged: the police are sent
		// to the second, in one refused entry.
		_, err := aftercare(t, s, dkPolice).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{
			NoticeIndex: first.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY,
		})
		if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "NOTICE_SUPERSEDED" ||
			!strings.Contains(st.Message(), fmt.Sprint(second.GetAuditIndex())) {
			t.Errorf("acknowledging the superseded correction: %v; want NOTICE_SUPERSEDED naming %d", st, second.GetAuditIndex())
		}
		if n := list(true)[first.GetAuditIndex()]; n == nil || n.GetAcknowledgementIndex() != 0 {
			t.Errorf("the superseded correction after the refused acknowledgement = %v; want it not acknowledged", n)
		}
		// Acknowledged first, then withdrawn: acknowledged, not superseded.
		ack, err := aftercare(t, s, dkPolice).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{
			NoticeIndex: second.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY,
		})
		if err != nil {
			t.Fatal(err)
		}
		w, err := prison.Withdraw(ctx, &liaisonv1.WithdrawRequest{
			SubjectId: "SYN-DK-0001", Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "Sent in error.",
		})
		if err != nil || len(w.GetResults()) != 1 || w.GetResults()[0].GetRefersTo() != second.GetAuditIndex() {
			t.Fatalf("Withdraw = %v, %v; want the second correction withdrawn", w, err)
		}
		all = list(true)
		if n := all[second.GetAuditIndex()]; n == nil || n.GetSupersededBy() != 0 || n.GetAcknowledgementIndex() != ack.GetAuditIndex() {
			t.Errorf("the acknowledged correction as listed = %v; want it acknowledged (entry %d), not superseded", n, ack.GetAuditIndex())
		}
		if open := list(false); len(open) != 1 || open[w.GetResults()[0].GetAuditIndex()] == nil {
			t.Errorf("open notices = %v; want only the withdrawal", open)
		}
		// The person's access report says the same: the first correction
		// was replaced by the second, not left unacknowledged.
		rep, err := liaisonv1.NewAuditClient(s.conn(t, dkAuditor)).AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: "SYN-DK-0001"})
		if err != nil {
			t.Fatal(err)
		}
		reported := map[int64]*liaisonv1.ReportedNotice{}
		for _, n := range rep.GetCorrections() {
			reported[n.GetIndex()] = n
		}
		if n := reported[first.GetAuditIndex()]; n == nil || n.GetSupersededBy() != second.GetAuditIndex() || n.GetAcknowledged() != nil {
			t.Errorf("the first correction in the access report = %v; want it superseded by %d, not acknowledged", n, second.GetAuditIndex())
		}
		if n := reported[second.GetAuditIndex()]; n == nil || n.GetSupersededBy() != 0 || n.GetAcknowledged() == nil {
			t.Errorf("the second correction in the access report = %v; want it acknowledged, not superseded", n)
		}
	})
}

// TestStatedDatesMatchTheAttributes: a record that states the subject's
// release date or last day of probation gives it to the policy, in a
// Disclose as in a Notify or a Correct: the Danish prison's release notice
// of the release on 2026-12-15 says the probation ends 2029-12-15; attributes that say 2027-03-01 (by
// which the supervision basis would end two years early) are refused,
// naming subject.probation_until, as a release date other than the
// record's is refused naming subject.release_date, in a Disclose too: one
// refused entry each, nothing delivered. Attributes that give no date take
// the record's. Without the fix the Disclose went out under a basis that
// ended 2027-03-01, and the Notify and Correct too.
func TestStatedDatesMatchTheAttributes(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{serverNow: newClock(time.Date(2027, 1, 10, 10, 0, 0, 0, time.UTC)).Now})
	rec, attrs := dkRelease(t, s)
	attrs.InCustody = false // released on 2026-12-15
	if rec.GetReleaseNotice().GetProbationUntil() != "2029-12-15" || attrs.GetProbationUntil() != "2029-12-15" {
		t.Fatalf("the sample's probation ends %s (attributes %s), want 2029-12-15", rec.GetReleaseNotice().GetProbationUntil(), attrs.GetProbationUntil())
	}
	prison := s.exchange(t, dkPrison)
	with := func(release, probation string) *liaisonv1.SubjectAttributes {
		a := proto.CloneOf(attrs)
		a.ReleaseDate, a.ProbationUntil = release, probation
		return a
	}
	disclose := func(a *liaisonv1.SubjectAttributes) error {
		_, err := prison.Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: a, Recipients: []string{"dk-police-aarhus"}, ClaimedLegalBasis: "dk.rpl.115.stk1.nr3.supervision",
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Supervision after release.",
		})
		return err
	}
	notify := func(a *liaisonv1.SubjectAttributes) error {
		_, err := prison.Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET, Record: rec, Subject: a,
			Recipients: []string{"dk-police-aarhus"}, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release date set.",
		})
		return err
	}
	refused := func(what, action, field, day string, call func() error) {
		t.Helper()
		before := len(readInbox(t, s, dkPolice, 0))
		err, entries := s.grown(t, call)
		st := wantStatus(t, err, codes.InvalidArgument)
		if f := badField(st); f != field || !strings.Contains(st.Message(), day) {
			t.Errorf("%s: refused on %q: %s; want %s, naming the record's %s", what, f, st.Message(), field, day)
		}
		if len(entries) != 1 || entries[0].Action != action || entries[0].Outcome != audit.OutcomeRefused {
			t.Errorf("%s: entries = %+v; want one refused %s entry", what, entries, action)
		}
		if n := len(readInbox(t, s, dkPolice, 0)); n != before {
			t.Errorf("%s: the police's inbox grew by %d items, want none", what, n-before)
		}
	}
	refused("Disclose, probation", "disclose", "subject.probation_until", "2029-12-15", func() error { return disclose(with("2026-12-15", "2027-03-01")) })
	refused("Disclose, release", "disclose", "subject.release_date", "2026-12-15", func() error { return disclose(with("2027-03-01", "2029-12-15")) })
	refused("Notify, probation", "notify", "subject.probation_until", "2029-12-15", func() error { return notify(with("2026-12-15", "2027-03-01")) })

	// No dates given: the record's.
	err, entries := s.grown(t, func() error { return disclose(with("", "")) })
	if err != nil || len(entries) != 1 || entries[0].Subject == nil || entries[0].Subject.ProbationUntil != "2029-12-15" ||
		entries[0].Subject.ReleaseDate != "2026-12-15" || entries[0].LegalBasis == nil || entries[0].LegalBasis.ValidUntil != "2029-12-15" {
		t.Fatalf("Disclose without dates = %v, entries %+v; want it decided with the record's dates, the basis ending 2029-12-15", err, entries)
	}
	refused("Correct, probation", audit.ActionCorrect, "subject.probation_until", "2029-12-15", func() error {
		_, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: rec, Subject: with("", "2027-03-01"), Justification: "Resent."})
		return err
	})
}

// TestCorrectionToAnOffboardedRecipientOwesNoAcknowledgement: the Danish
// prison released its notice of a release on 2026-12-15 to the Aarhus
// police, which the registry then offboards; on 26 November the prison
// corrects the date to the 27th. The correction still reaches the police
// (corrections of what an agency received go to it offboarded too), with
// the new date, but carries no required notice: no acknowledgement is
// owed by an agency whose calls are refused, as Notify leaves it out, so
// nothing is tracked, listed or escalated. The correction used to carry
// a required notice with a deadline, escalated and recorded overdue as
// if the police could acknowledge it.
func TestCorrectionToAnOffboardedRecipientOwesNoAcknowledgement(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkReleaseToAarhusPolice(t, s)
	police := s.exchange(t, dkPolice)
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == "dk-police-aarhus" {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	eventually(t, "the Aarhus police offboarded", func() bool {
		_, err := police.ListReidentifications(ctx, &liaisonv1.ListReidentificationsRequest{})
		return status.Code(err) == codes.PermissionDenied
	})
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ReleaseDate = "2026-11-27"
	c, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Justification: "The release was brought forward."})
	if err != nil || len(c.GetResults()) != 1 || c.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("Correct = %v, %v; want one correction, to the offboarded police too", c, err)
	}
	r := c.GetResults()[0]
	if r.GetNoticeId() != "" || r.GetAcknowledgeBy() != "" {
		t.Errorf("correction result %v: required notice %q due %q; want none for an offboarded recipient", r, r.GetNoticeId(), r.GetAcknowledgeBy())
	}
	if e := s.entry(t, r.GetAuditIndex()); e.Detail["notice_id"] != "" || e.Detail["acknowledge_by"] != "" {
		t.Errorf("correction entry detail = %v; want no required notice", e.Detail)
	}
	inbox, err := s.db.Inbox(ctx, "dk-police-aarhus", 0, 1000)
	if err != nil || !slices.ContainsFunc(inbox, func(it audit.InboxItem) bool { return it.AuditIndex == r.GetAuditIndex() }) {
		t.Errorf("the offboarded police's inbox %v (%v); want the correction (entry %d) delivered", inbox, err, r.GetAuditIndex())
	}
	listed, err := liaisonv1.NewNoticesClient(s.conn(t, dkAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
	if err != nil || len(listed.GetNotices()) != 0 {
		t.Errorf("ListNotices = %v, %v; want no required notice tracked", listed, err)
	}
}
