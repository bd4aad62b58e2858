package gateway_test

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCaseOfAnotherPersonIsRefused: a Safety House case about one person
// (SYN-NL-0077) is no basis for exchanges about another (SYN-NL-0001).
// Its members citing it for her are refused INVALID_ARGUMENT on case_id
// (on recipient_roles[0].case_members for the role), reason
// CASE_SUBJECT_MISMATCH, each with one refused entry, and the holder is
// not asked; an agency outside the case gets the policy's answer, as it
// would for the case's own subject, so that it cannot learn whom the case
// is about. Without the fix the Rotterdam police got SYN-NL-0001's risk
// assessment in full, summary included, on the basis of the other
// person's case, where outside any case they get it pseudonymised.
func TestCaseOfAnotherPersonIsRefused(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	const id = "NL-ZVH-RTM-0900"
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0077", Subject: nlSubject(), Justification: "Return to Rotterdam."}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []officer{nlPolice, nlProbation} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: "Needed in the case."}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.cases(t, o).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
			t.Fatal(err)
		}
	}
	fx, _ := sample.ParseFixtures(sample.Sample())
	rec, attrs, _ := fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
	request := func(o officer) error {
		_, err := s.exchange(t, o).Request(ctx, &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: "SYN-NL-0001", CaseId: id,
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT,
			Justification: "For the case.",
		})
		return err
	}
	fetches := s.providers["nl-probation"].Fetches()
	for _, c := range []struct {
		name, field string
		call        func() error
	}{
		{"Request", "case_id", func() error { return request(nlPolice) }},
		{"Disclose", "case_id", func() error {
			_, err := s.exchange(t, nlProbation).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: rec, Subject: attrs, Recipients: []string{"nl-police-rotterdam"}, CaseId: id,
				Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case.",
			})
			return err
		}},
		{"Disclose to the case's members", "recipient_roles[0].case_members", func() error {
			_, err := s.exchange(t, nlProbation).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: rec, Subject: attrs, Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case.",
				RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_CaseMembers{CaseMembers: id}}},
			})
			return err
		}},
		{"Match", "case_id", func() error {
			_, err := s.exchange(t, nlPolice).Match(ctx, &liaisonv1.MatchRequest{
				SubjectId: "SYN-NL-0001", CaseId: id, RecordTypes: []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
				Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case.",
			})
			return err
		}},
	} {
		before, _ := s.lastEntry(t)
		st := wantStatus(t, c.call(), codes.InvalidArgument)
		var field string
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) == 1 {
				field = br.GetFieldViolations()[0].GetField()
			}
		}
		if errorReason(st) != "CASE_SUBJECT_MISMATCH" || field != c.field {
			t.Errorf("%s: reason %q on field %q, want CASE_SUBJECT_MISMATCH on %s (%v)", c.name, errorReason(st), field, c.field, st.Message())
		}
		after, e := s.lastEntry(t)
		if after != before+1 || e.Outcome != "refused" || e.Detail["field"] != c.field || len(e.Reasons) != 1 || e.Reasons[0] != "CASE_SUBJECT_MISMATCH" {
			t.Errorf("%s: %d entries, the last %s %v on %q; want one, refused CASE_SUBJECT_MISMATCH on %s", c.name, after-before, e.Outcome, e.Reasons, e.Detail["field"], c.field)
		}
	}
	if n := s.providers["nl-probation"].Fetches(); n != fetches {
		t.Errorf("the holder was asked for %d records", n-fetches)
	}
	// An agency outside the case learns nothing of whom it is about.
	st := wantStatus(t, request(nlNGO), codes.PermissionDenied)
	if errorReason(st) == "CASE_SUBJECT_MISMATCH" {
		t.Errorf("a non-member was told the case is about another person")
	}
}
