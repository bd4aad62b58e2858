package gateway_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCaseCloseTellsOpenInvitations shows that an agency invited to a case,
// which has not yet answered, learns that the case closed: its invitation
// lapses with the case (AcceptInvitation and DeclineInvitation are refused
// CASE_CLOSED from then on, and the closed case keeps its standing
// invited), so the close reaches its inbox as it reaches the members'.
func TestCaseCloseTellsOpenInvitations(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	council := s.cases(t, nlCouncil)
	const id = "NL-ZVH-RTM-0171"
	why := "Case consultation before the release."
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001",
		Subject: nlSubject(), Justification: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: "nl-police-rotterdam", Justification: why}); err != nil {
		t.Fatal(err)
	}
	closed, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "The person moved abroad."})
	if err != nil {
		t.Fatal(err)
	}
	var got int
	for _, it := range inboxItems(t, s.exchange(t, nlPolice)) {
		if u := it.GetCaseUpdate(); u != nil && u.GetChange() == "case_close" && u.GetCase().GetId() == id {
			got++
			if u.GetAuditIndex() != closed.GetAuditIndex() || u.GetCase().GetStatus() != liaisonv1.CaseStatus_CASE_STATUS_CLOSED {
				t.Errorf("close update: entry %d, status %v; want entry %d, closed", u.GetAuditIndex(), u.GetCase().GetStatus(), closed.GetAuditIndex())
			}
		}
	}
	if got != 1 {
		t.Errorf("the invited police's inbox holds %d case_close updates of %s, want 1", got, id)
	}
	_, err = s.cases(t, nlPolice).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We take part."})
	if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "CASE_CLOSED" {
		t.Errorf("accepting after the close: reason %q, want CASE_CLOSED", errorReason(st))
	}
	_, err = s.cases(t, nlPolice).DeclineInvitation(ctx, &liaisonv1.DeclineInvitationRequest{CaseId: id, Justification: "We do not take part."})
	if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "CASE_CLOSED" {
		t.Errorf("declining after the close: reason %q, want CASE_CLOSED", errorReason(st))
	}
	// The closed case keeps the unanswered invitation's standing, as
	// MemberStatus says: invited, never answered.
	var standing liaisonv1.MemberStatus
	for _, m := range closed.GetCase().GetMembers() {
		if m.GetAgency() == "nl-police-rotterdam" {
			standing = m.GetStatus()
		}
	}
	if standing != liaisonv1.MemberStatus_MEMBER_STATUS_INVITED {
		t.Errorf("the closed case gives nl-police-rotterdam standing %v, want MEMBER_STATUS_INVITED", standing)
	}
}
