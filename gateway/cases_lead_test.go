package gateway_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/policies/policytest"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestOnlyTheLeadChangesTheCaseWhateverThePolicy: only the lead invites,
// removes, hands over and closes (cases.proto), and the gateway keeps that
// itself, as it keeps the other rules of who changes what: a policy that
// lets a member do one of them (here, an edited liaison/cases.rego without
// NOT_CASE_LEAD) still sees it refused FailedPrecondition NOT_CASE_LEAD,
// one refused entry, the case unchanged. InviteMember did not check it, so
// a member's invitation went through.
func TestOnlyTheLeadChangesTheCaseWhateverThePolicy(t *testing.T) {
	t.Parallel()
	pol := policytest.Patched(t, "liaison/cases.rego",
		`_action in {"case_invite", "case_remove", "case_handover", "case_close"}`, `_action in {"no_such_action"}`)
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now, policy: pol})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0190", "Case consultation before the release."
	council, probation := s.cases(t, nlCouncil), s.cases(t, nlProbation)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0190", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{nlProbation.agency, nlPolice.agency} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: a, Justification: why}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := probation.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, action string
		call         func() error
	}{
		{"a member invites", "case_invite", func() error {
			_, err := probation.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlNGO.agency, Justification: why})
			return err
		}},
		{"a member removes", "case_remove", func() error {
			_, err := probation.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why})
			return err
		}},
		{"a member closes", "case_close", func() error {
			_, err := probation.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: why})
			return err
		}},
	} {
		err, e := s.one(t, tc.name, tc.action, "refused", tc.call)
		if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "NOT_CASE_LEAD" || !slices.Contains(e.Reasons, "NOT_CASE_LEAD") {
			t.Errorf("%s: reason %q, entry reasons %v; want NOT_CASE_LEAD", tc.name, errorReason(st), e.Reasons)
		}
	}
	got, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil || got.GetCase().GetVersion() != 4 || len(got.GetCase().GetMembers()) != 3 {
		t.Errorf("case after the refusals: %v, %v; want version 4, unchanged", got.GetCase(), err)
	}
}

// TestLeadNoticeFollowsTheLead: the Rotterdam municipality opens a Safety
// House case and hands its lead over to the police; the prison then
// notifies the case of a release brought forward. The Dutch rule that
// the municipality leading the case acknowledge the release date
// (nl.notice.release.lead) holds the lead, the police, to it (as police,
// under nl.notice.release.police); the municipality, a member like any
// other now, gets the notice but owes no acknowledgement. Before the fix
// the rule looked at the recipient's kind alone, so the former lead was
// still given a deadline, escalated to its duty officer and listed late.
func TestLeadNoticeFollowsTheLead(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		const subject, id = "SYN-NL-0310", "NL-ZVH-RTM-0310"
		council := openRotterdamCase(t, s, id, subject)
		if _, err := council.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: id, Agency: "nl-police-rotterdam", Justification: "The police lead from here."}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		attrs := nlSubject()
		attrs.ReleaseDate = "2027-02-15"
		nr, err := s.exchange(t, nlPrison).Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_CHANGED,
			Record:    releaseNoticeOf(subject, "Rotterdam", "2027-02-15", "2027-03-01"), Subject: attrs,
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release brought forward by the court.",
		})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*liaisonv1.RecipientResult{}
		for _, r := range nr.GetResults() {
			got[r.GetRecipient()] = r
		}
		for a, rule := range map[string]string{"nl-police-rotterdam": "nl.notice.release.police", "nl-municipality-rotterdam": ""} {
			r := got[a]
			if r == nil || !releasedResult(r) || r.GetRoutes()[0].GetRole() != liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER {
				t.Fatalf("%s: %v, want it reached as a member of the case", a, r)
			}
			e := s.entry(t, r.GetAuditIndex())
			if e.Detail["notice_rule"] != rule || (r.GetNoticeId() != "") != (rule != "") {
				t.Errorf("%s: notice %q under rule %q, want rule %q", a, r.GetNoticeId(), e.Detail["notice_rule"], rule)
			}
		}
		open, err := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{Recipient: "nl-municipality-rotterdam"})
		if err != nil || len(open.GetNotices()) != 0 {
			t.Errorf("notices to the former lead = %v, %v; want none", open, err)
		}
	})
}

// TestCorrectionMovingTheReleaseDateHoldsTheLead: the Rotterdam
// municipality leads a Safety House case with the prison and the police;
// the prison notifies the case of the release date, then corrects its
// notice to a date a week earlier. The Dutch rule that the municipality
// leading the case acknowledge the release date (nl.notice.release.lead,
// for a case member) holds it to the new date as a Notify of the change
// would: the correction to it carries the required notice (acknowledge
// within 72 hours, escalated after 48), its inbox item says it was
// reached as a member of the case, the timers escalate it, and auditors
// list it; the police are held as before (nl.notice.release.police).
// Without the fix the gateway asked the policy as for an earlier
// recipient, to which the lead's rule does not apply: the municipality
// leading the case was sent the new date with no deadline, tracked by
// nobody.
func TestCorrectionMovingTheReleaseDateHoldsTheLead(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		const subject, id = "SYN-NL-0311", "NL-ZVH-RTM-0311"
		openRotterdamCase(t, s, id, subject)
		attrs := nlSubject()
		attrs.ReleaseDate = "2027-02-15"
		nr, err := s.exchange(t, nlPrison).Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_CHANGED,
			Record:    releaseNoticeOf(subject, "Rotterdam", "2027-02-15", "2027-03-01"), Subject: attrs,
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release brought forward by the court.",
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range nr.GetResults() {
			if r.GetRecipient() == nlCouncil.agency && s.entry(t, r.GetAuditIndex()).Detail["notice_rule"] != "nl.notice.release.lead" {
				t.Fatalf("the Notify to the lead: %v; want the lead's notice", r)
			}
		}
		clk.Advance(time.Hour)
		attrs.ReleaseDate = "2027-02-08"
		c, err := aftercare(t, s, nlPrison).Correct(ctx, &liaisonv1.CorrectRequest{
			Record: releaseNoticeOf(subject, "Rotterdam", "2027-02-08", "2027-03-01"), Subject: attrs,
			Justification: "The court brought the release forward a week more.",
		})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*liaisonv1.NoticeResult{}
		for _, r := range c.GetResults() {
			got[r.GetRecipient()] = r
		}
		// As a Notify of the change at this hour: 72 hours to
		// acknowledge, escalated after 48.
		const by, esc = "2027-01-13T11:00:00Z", "2027-01-12T11:00:00Z"
		for a, rule := range map[string]string{nlCouncil.agency: "nl.notice.release.lead", "nl-police-rotterdam": "nl.notice.release.police"} {
			r := got[a]
			if r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION || r.GetNoticeId() == "" || r.GetAcknowledgeBy() != by {
				t.Fatalf("the correction to %s: %v; want a correction carrying a required notice due %s", a, r, by)
			}
			e := s.entry(t, r.GetAuditIndex())
			if e.Detail["notice_rule"] != rule || e.Detail["event"] != "release_date_changed" || e.Detail["escalate_at"] != esc {
				t.Errorf("the correction's entry to %s: detail %v; want rule %s, escalated at %s", a, e.Detail, rule, esc)
			}
		}
		lead := got[nlCouncil.agency]
		var item *liaisonv1.SubscribeResponse
		for _, it := range inboxItems(t, s.exchange(t, nlCouncil)) {
			if it.GetObligation().GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
				item = it
			}
		}
		if n := item.GetNotice(); n.GetNoticeId() != lead.GetNoticeId() || n.GetRule() != "nl.notice.release.lead" || len(n.GetRoutes()) != 1 ||
			n.GetRoutes()[0].GetRole() != liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER || n.GetRoutes()[0].GetCaseId() != id {
			t.Fatalf("the lead's correction item says of its notice %v; want %s, reached as a member of case %s", n, lead.GetNoticeId(), id)
		}
		listed, err := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{Recipient: nlCouncil.agency, UnacknowledgedOnly: true})
		if err != nil || len(listed.GetNotices()) != 1 || listed.GetNotices()[0].GetNoticeId() != lead.GetNoticeId() {
			t.Fatalf("open notices to the lead = %v, %v; want the correction's", listed, err)
		}
		start, _ := s.db.Size(ctx)
		clk.Set(time.Date(2027, 1, 12, 11, 1, 0, 0, time.UTC))
		if held, err := s.srv.RunTimers(ctx); err != nil || !held {
			t.Fatalf("RunTimers = %v, %v", held, err)
		}
		escalated := false
		for _, e := range s.entriesOf(t, "notice_escalate", start) {
			escalated = escalated || e.Detail["notice_id"] == lead.GetNoticeId()
		}
		if !escalated {
			t.Errorf("the lead's notice of the corrected date was not escalated")
		}
	})
}

// openRotterdamCase has the Rotterdam council open Safety House case id
// about subject, with the prison and the police as members, and returns
// the council's Cases client.
func openRotterdamCase(t *testing.T, s *stack, id, subject string) liaisonv1.CasesClient {
	t.Helper()
	ctx := t.Context()
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: subject, Subject: nlSubject(), Justification: "Return to Rotterdam."}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []officer{nlPrison, nlPolice} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: "Needed in the case."}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.cases(t, o).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
			t.Fatal(err)
		}
	}
	return council
}
