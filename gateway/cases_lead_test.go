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
