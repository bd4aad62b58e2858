package gateway_test

import (
	"slices"
	"testing"

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
