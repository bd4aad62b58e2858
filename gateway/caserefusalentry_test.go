package gateway_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestRefusalOnACaseNamesTheCase: an exchange refused on its case's
// account before any decision names the case in its one refused entry, as
// the Cases service says, so that the case's history holds the attempt:
// a Disclose to the members of a case that has none besides the caller
// (CASE_HAS_NO_OTHER_MEMBER), and a Disclose to the members of, or a
// Match within, a case the caller is not a member of (NOT_A_CASE_MEMBER).
// Before, only CASE_CLOSED and CASE_SUBJECT_MISMATCH did: these entries
// named no case.
func TestRefusalOnACaseNamesTheCase(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	rec, attrs := dkRelease(t, s)
	const id = "DK-KSP-AAR-0100"
	police, prison := s.cases(t, dkPolice), s.cases(t, dkPrison)
	steps := []func() error{
		func() error {
			_, err := police.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "dk.ksp", SubjectId: "SYN-DK-0001", Subject: attrs, Justification: "KSP."})
			return err
		},
		func() error {
			_, err := police.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: dkPrison.agency, Justification: "KSP."})
			return err
		},
		func() error {
			_, err := prison.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "KSP."})
			return err
		},
		func() error {
			_, err := police.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: id, Agency: dkPrison.agency, Justification: "KSP."})
			return err
		},
		func() error {
			_, err := police.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "KSP."})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("setting up the case, step %d: %v", i, err)
		}
	}
	members := []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_CaseMembers{CaseMembers: id}}}
	disclose := func(o officer) func() error {
		return func() error {
			_, err := s.exchange(t, o).Disclose(ctx, &liaisonv1.DiscloseRequest{Record: rec, Subject: attrs, RecipientRoles: members,
				Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case."})
			return err
		}
	}
	for _, c := range []struct {
		name, action, reason string
		code                 codes.Code
		call                 func() error
	}{
		{"Disclose to the members of a case with no other", "disclose", "CASE_HAS_NO_OTHER_MEMBER", codes.InvalidArgument, disclose(dkPrison)},
		{"Disclose to the members of a case left", "disclose", "NOT_A_CASE_MEMBER", codes.PermissionDenied, disclose(dkPolice)},
		{"Match within a case left", "match", "NOT_A_CASE_MEMBER", codes.PermissionDenied, func() error {
			_, err := s.exchange(t, dkPolice).Match(ctx, &liaisonv1.MatchRequest{SubjectId: "SYN-DK-0001", CaseId: id,
				RecordTypes: []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE},
				Purpose:     liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case."})
			return err
		}},
	} {
		err, e := s.one(t, c.name, c.action, "refused", c.call)
		if st := wantStatus(t, err, c.code); errorReason(st) != c.reason {
			t.Errorf("%s: reason %q (%s), want %s", c.name, errorReason(st), st.Message(), c.reason)
		}
		if len(e.Reasons) != 1 || e.Reasons[0] != c.reason {
			t.Errorf("%s: entry reasons %v, want [%s]", c.name, e.Reasons, c.reason)
		}
		if e.Case == nil || e.Case.ID != id {
			t.Errorf("%s: the refused entry names case %+v, want %s", c.name, e.Case, id)
		}
	}
}
