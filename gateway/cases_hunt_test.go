package gateway_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCaseRefusesOffboardedAgencies: the lead of a case cannot hand the
// lead over to a member that has been offboarded (whose calls the gateway
// refuses: the case would be left with a lead that can neither close it
// nor remove anyone), nor invite an offboarded agency (which can never
// answer). Each is refused InvalidArgument on agency, AGENCY_OFFBOARDED,
// in one entry, and the case is unchanged; the offboarded member can
// still be removed.
func TestCaseRefusesOffboardedAgencies(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0500", "Case consultation before the release."
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0500", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlProbation.agency, Justification: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cases(t, nlProbation).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
		t.Fatal(err)
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == nlProbation.agency || f.Agencies[i].ID == nlPolice.agency {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	eventually(t, "probation offboarded", func() bool {
		_, err := s.exchange(t, nlProbation).ListReidentifications(ctx, &liaisonv1.ListReidentificationsRequest{})
		return status.Code(err) == codes.PermissionDenied
	})
	for _, tc := range []struct {
		name, action string
		call         func() error
	}{
		{"hand over to an offboarded member", "case_handover", func() error {
			_, err := council.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: id, Agency: nlProbation.agency, Justification: why})
			return err
		}},
		{"invite an offboarded agency", "case_invite", func() error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why})
			return err
		}},
	} {
		err, e := s.one(t, tc.name, tc.action, "refused", tc.call)
		st := wantStatus(t, err, codes.InvalidArgument)
		if errorReason(st) != "AGENCY_OFFBOARDED" || badField(st) != "agency" || len(e.Reasons) != 1 || e.Reasons[0] != "AGENCY_OFFBOARDED" {
			t.Errorf("%s: reason %q field %q, entry reasons %v; want AGENCY_OFFBOARDED on agency", tc.name, errorReason(st), badField(st), e.Reasons)
		}
	}
	got, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.GetCase(); c.GetLead() != nlCouncil.agency || c.GetVersion() != 3 || memberStatus(c, nlPolice.agency) != liaisonv1.MemberStatus_MEMBER_STATUS_UNSPECIFIED {
		t.Fatalf("case after the refusals: lead %s, version %d, police %v; want the council leading, version 3, the police never invited",
			c.GetLead(), c.GetVersion(), memberStatus(c, nlPolice.agency))
	}
	// The lead can still take the offboarded member out of the case.
	s.one(t, "remove the offboarded member", "case_remove", "ok", func() error {
		_, err := council.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlProbation.agency, Justification: "Offboarded."})
		return err
	})
}

// TestImportRefusesAKindThePolicyDoesNotKnow: a registry case imported
// under a kind the policy of its jurisdiction does not know would be a
// case every change of which the policy denies (UNKNOWN_CASE_KIND): nobody
// could ever close it or take a member out. ImportRegistryCases skips it,
// saying why, and the file keeps serving it.
func TestImportRefusesAKindThePolicyDoesNotKnow(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	const id = "NL-ZVH-RTM-0042" // the sample registry's case, led by a Dutch municipality
	reg, err := gateway.LoadRegistry(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policies.Load(ctx, policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	got, err := gateway.ImportRegistryCases(ctx, s.db, eng, reg, "dk.ksp", caseStart) // a Danish kind
	if err != nil || len(got) != 1 || got[0].Skipped == "" || got[0].AuditIndex != -1 || !strings.Contains(got[0].Skipped, "nl.zvh") {
		t.Fatalf("ImportRegistryCases(kind dk.ksp) = %+v, %v; want the case skipped, naming the kinds NL law knows", got, err)
	}
	c, err := s.cases(t, nlCouncil).GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil || !c.GetCase().GetManagedByRegistry() {
		t.Fatalf("GetCase after the skipped import = %v, %v; want the file's case", c, err)
	}
	// Under a kind NL law knows, it is imported and the lead can close it.
	if got, err = gateway.ImportRegistryCases(ctx, s.db, eng, reg, "nl.zvh", caseStart); err != nil || len(got) != 1 || got[0].Skipped != "" {
		t.Fatalf("ImportRegistryCases(kind nl.zvh) = %+v, %v", got, err)
	}
	if _, err := s.cases(t, nlCouncil).CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "Done."}); err != nil {
		t.Fatalf("CloseCase of the imported case: %v", err)
	}
}
