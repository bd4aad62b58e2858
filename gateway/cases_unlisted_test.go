package gateway_test

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// dropAgencies removes agencies from the stack's registry file (and from
// the file's own cases, which name registered agencies only: a case they
// lead goes with them), and waits
// until the gateway refuses the first of them.
func dropAgencies(t *testing.T, s *stack, os ...officer) {
	t.Helper()
	gone := func(id string) bool { return slices.ContainsFunc(os, func(o officer) bool { return o.agency == id }) }
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		f.Agencies = slices.DeleteFunc(f.Agencies, func(a gateway.AgencyFile) bool { return gone(a.ID) })
		f.Cases = slices.DeleteFunc(f.Cases, func(c gateway.CaseFile) bool { return gone(c.Lead) })
		for i := range f.Cases {
			f.Cases[i].Members = slices.DeleteFunc(f.Cases[i].Members, gone)
		}
	})
	eventually(t, "agency dropped from the registry", func() bool {
		_, err := s.exchange(t, os[0]).ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{})
		return err != nil
	})
}

// TestCaseRemovesAnAgencyTheRegistryDropped: an agency dropped from the
// registry (not merely offboarded) stays in the cases it was in or
// invited to. The lead must still be able to take it out: as a member
// (RemoveMember) and as an invitee (the invitation withdrawn), each an
// ok entry naming it, decided by the policy with the agency given by its
// id alone. An agency neither registered nor in the case is still
// refused InvalidArgument on agency, and none is ever invited.
func TestCaseRemovesAnAgencyTheRegistryDropped(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0910", "Case consultation before the release."
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0910", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []officer{nlProbation, nlPolice} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: why}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.cases(t, nlProbation).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
		t.Fatal(err)
	}
	dropAgencies(t, s, nlProbation, nlPolice) // probation a member, the police invited

	for _, tc := range []struct {
		name   string
		agency string
		before string
	}{
		{"remove a member the registry dropped", nlProbation.agency, "member"},
		{"withdraw the invitation of an agency the registry dropped", nlPolice.agency, "invited"},
	} {
		err, e := s.one(t, tc.name, "case_remove", "ok", func() error {
			_, err := council.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: tc.agency, Justification: "No longer registered."})
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(e.Recipients) != 1 || e.Recipients[0].Agency != tc.agency || e.Recipients[0].Kind != "" ||
			e.Detail["case_status_before"] != tc.before || e.Detail["case_status_after"] != "none" || e.Case == nil || e.Case.ID != id {
			t.Errorf("%s: entry recipients %+v, detail %v, case %+v; want %s (by its id alone), %s -> none, case %s",
				tc.name, e.Recipients, e.Detail, e.Case, tc.agency, tc.before, id)
		}
	}
	got, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{nlProbation.agency, nlPolice.agency} {
		if st := memberStatus(got.GetCase(), a); st != liaisonv1.MemberStatus_MEMBER_STATUS_REMOVED {
			t.Errorf("%s after its removal: %v, want REMOVED", a, st)
		}
	}

	// Neither registered nor in the case: refused as before, and nobody
	// unregistered is invited.
	for _, tc := range []struct {
		name, action string
		call         func() error
	}{
		{"remove an agency neither registered nor in the case", "case_remove", func() error {
			_, err := council.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: "nl-unknown", Justification: why})
			return err
		}},
		{"remove an unregistered agency already removed", "case_remove", func() error {
			_, err := council.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlProbation.agency, Justification: why})
			return err
		}},
		{"invite an unregistered agency", "case_invite", func() error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why})
			return err
		}},
	} {
		err, e := s.one(t, tc.name, tc.action, "refused", tc.call)
		st := wantStatus(t, err, codes.InvalidArgument)
		if badField(st) != "agency" || e.Detail["field"] != "agency" || len(e.Recipients) != 0 {
			t.Errorf("%s: field %q, entry field %q, recipients %+v; want agency, no recipient", tc.name, badField(st), e.Detail["field"], e.Recipients)
		}
	}
}

// TestCaseMembersStopWhenTheRegistryDroppedTheLead: a case whose lead the
// registry dropped waits for the operator (close-orphaned,
// handover-orphaned), but its members can still stop sharing meanwhile:
// a member leaves and an invitee declines, each an ok entry, the lead
// given to the policy by its id alone.
func TestCaseMembersStopWhenTheRegistryDroppedTheLead(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0911", "Case consultation before the release."
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0911", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []officer{nlProbation, nlPolice} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: why}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.cases(t, nlProbation).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
		t.Fatal(err)
	}
	dropAgencies(t, s, nlCouncil)
	s.one(t, "a member leaves", "case_leave", "ok", func() error {
		_, err := s.cases(t, nlProbation).LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "The lead is gone."})
		return err
	})
	s.one(t, "an invitee declines", "case_decline", "ok", func() error {
		_, err := s.cases(t, nlPolice).DeclineInvitation(ctx, &liaisonv1.DeclineInvitationRequest{CaseId: id, Justification: "The lead is gone."})
		return err
	})
}
