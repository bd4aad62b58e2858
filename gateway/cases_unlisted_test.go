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

// TestRefusedCaseChangesNameTheCase: a change of a case refused before the
// policy decides (a field at fault, the case closed or the registry
// file's) names the case in its entry, as a decided change's entry does
// (case, case_kind, the person's audit pseudonym), so that an auditor
// reading the case's history finds it. An id that is malformed, that
// names the person, or that names no case the gateway holds is not
// recorded. The operator's refused commands name the case likewise.
func TestRefusedCaseChangesNameTheCase(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, closed, why = "NL-ZVH-RTM-0920", "NL-ZVH-RTM-0921", "Case consultation before the release."
	const fileCase = "NL-ZVH-RTM-0042" // the sample registry file's
	council, probation := s.cases(t, nlCouncil), s.cases(t, nlProbation)
	for _, c := range []string{id, closed} {
		if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: c, Kind: "nl.zvh", SubjectId: "SYN-NL-0920", Subject: nlSubject(),
			Justification: why}); err != nil {
			t.Fatal(err)
		}
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: c, Agency: nlProbation.agency, Justification: why}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: closed, Justification: why}); err != nil {
		t.Fatal(err)
	}
	_, opened := s.one(t, "open a case for its entry", "case_open", "ok", func() error {
		_, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: "NL-ZVH-RTM-0922", Kind: "nl.zvh", SubjectId: "SYN-NL-0920",
			Subject: nlSubject(), Justification: why})
		return err
	})
	ps := opened.Subject.Pseudonym

	for _, tc := range []struct {
		name, action, reason string
		call                 func() error
		want                 string // the case the entry names, "" for none
		kind                 bool   // named with its kind and person
	}{
		{"invite no agency", "case_invite", "INVALID_ARGUMENT", func() error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Justification: why})
			return err
		}, id, true},
		{"invite an unregistered agency", "case_invite", "INVALID_ARGUMENT", func() error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: "nl-unknown", Justification: why})
			return err
		}, id, true},
		{"remove without a justification", "case_remove", "INVALID_ARGUMENT", func() error {
			_, err := council.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlProbation.agency})
			return err
		}, id, true},
		{"accept on a closed case", "case_accept", "CASE_CLOSED", func() error {
			_, err := probation.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: closed, Justification: why})
			return err
		}, closed, true},
		{"leave a case of the registry file", "case_leave", "CASE_MANAGED_BY_REGISTRY", func() error {
			_, err := probation.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: fileCase, Justification: why})
			return err
		}, fileCase, false},
		{"open with a kind the policy does not know", "case_open", "INVALID_ARGUMENT", func() error {
			_, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: "NL-ZVH-RTM-0923", Kind: "NL ZVH", SubjectId: "SYN-NL-0920",
				Subject: nlSubject(), Justification: why})
			return err
		}, "NL-ZVH-RTM-0923", false},
		{"open a case that exists", "case_open", "CASE_EXISTS", func() error {
			_, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0920",
				Subject: nlSubject(), Justification: why})
			return err
		}, id, false},

		{"hand over on a malformed id", "case_handover", "INVALID_ARGUMENT", func() error {
			_, err := council.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: "NL ZVH 0920", Agency: nlProbation.agency, Justification: why})
			return err
		}, "", false},
		{"close a case the gateway does not hold", "case_close", "INVALID_ARGUMENT", func() error {
			_, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: "SYN-NL-0001", Justification: why})
			return err
		}, "", false},
		{"open a case whose id names the person", "case_open", "INVALID_ARGUMENT", func() error {
			_, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: "CASE-SYN-NL-0920", Kind: "nl.zvh", SubjectId: "SYN-NL-0920",
				Subject: nlSubject(), Justification: why})
			return err
		}, "", false},
	} {
		_, e := s.one(t, tc.name, tc.action, "refused", tc.call)
		if len(e.Reasons) != 1 || e.Reasons[0] != tc.reason {
			t.Errorf("%s: reasons %v, want [%s]", tc.name, e.Reasons, tc.reason)
		}
		switch {
		case tc.want == "" && e.Case != nil:
			t.Errorf("%s: the entry names case %q; want none", tc.name, e.Case.ID)
		case tc.want != "" && (e.Case == nil || e.Case.ID != tc.want):
			t.Errorf("%s: the entry names case %+v; want %s", tc.name, e.Case, tc.want)
		case tc.kind && (e.Detail["case_kind"] != "nl.zvh" || e.Subject == nil || e.Subject.Pseudonym != ps ||
			len(e.Case.Members) != 1 || e.Case.Lead != nlCouncil.agency):
			t.Errorf("%s: entry case %+v, case_kind %q, subject %+v; want the case as read, nl.zvh and the person's pseudonym",
				tc.name, e.Case, e.Detail["case_kind"], e.Subject)
		}
	}

	// The operator's refusals, likewise.
	reg, err := gateway.LoadRegistry(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, operator, id, reason, want string
	}{
		{"a malformed operator name", "ops jansen", id, "INVALID_ARGUMENT", id},
		{"a lead that can act", "ops.jansen", id, "LEAD_CAN_ACT", id},
		{"a case of the registry file", "ops.jansen", fileCase, "CASE_MANAGED_BY_REGISTRY", fileCase},
		{"a case the gateway does not hold", "ops.jansen", "SYN-NL-0001", "INVALID_ARGUMENT", ""},
	} {
		op := &gateway.CaseOperator{Store: s.db, Registry: reg, Pseudonyms: s.keys, Name: tc.operator}
		_, e := s.one(t, tc.name, "case_operator_close", "refused", func() error {
			_, _, err := op.CloseOrphanedCase(ctx, tc.id)
			return err
		})
		if len(e.Reasons) != 1 || e.Reasons[0] != tc.reason {
			t.Errorf("operator, %s: reasons %v, want [%s]", tc.name, e.Reasons, tc.reason)
		}
		if got := ""; e.Case != nil && e.Case.ID != tc.want || e.Case == nil && tc.want != "" {
			if e.Case != nil {
				got = e.Case.ID
			}
			t.Errorf("operator, %s: the entry names case %q; want %q", tc.name, got, tc.want)
		}
	}
}

// TestRefusedExchangesOnACaseNameTheCase: an exchange refused on its
// case's account before any decision (a member citing the case about
// another person, CASE_SUBJECT_MISMATCH; anyone citing a closed case,
// CASE_CLOSED) names the case in its entry, as an exchange decided on
// the case's basis does, so that the case's history holds it.
func TestRefusedExchangesOnACaseNameTheCase(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0930", "Case consultation before the release."
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cases(t, nlPolice).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
		t.Fatal(err)
	}
	inCase := func(subject string) *liaisonv1.RequestRequest {
		return riskReq(func(r *liaisonv1.RequestRequest) {
			r.CaseId, r.Purpose, r.SubjectId = id, liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, subject
		})
	}
	check := func(name, reason string, code codes.Code, req *liaisonv1.RequestRequest) {
		t.Helper()
		err, e := s.one(t, name, "request", "refused", func() error {
			_, err := s.exchange(t, nlPolice).Request(ctx, req)
			return err
		})
		if st := wantStatus(t, err, code); errorReason(st) != reason || len(e.Reasons) != 1 || e.Reasons[0] != reason {
			t.Errorf("%s: reason %q, entry reasons %v; want %s", name, errorReason(st), e.Reasons, reason)
		}
		if e.Case == nil || e.Case.ID != id {
			t.Errorf("%s: the entry names case %+v; want %s", name, e.Case, id)
		}
	}
	check("a member cites the case about another person", "CASE_SUBJECT_MISMATCH", codes.InvalidArgument, inCase("SYN-NL-0002"))
	if _, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: why}); err != nil {
		t.Fatal(err)
	}
	check("a member cites the closed case", "CASE_CLOSED", codes.FailedPrecondition, inCase("SYN-NL-0001"))
}
