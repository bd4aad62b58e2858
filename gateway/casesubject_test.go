package gateway_test

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

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
	fx := s.fx
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

// TestCaseMembersRoleNeedsAMember: the recipient role case_members
// addresses "every current member of an open case the caller is in". An
// agency outside the case (the prison service, never invited) or only
// invited to it (the exit NGO) is refused, PERMISSION_DENIED
// NOT_A_CASE_MEMBER with one refused entry, by Disclose and Notify alike:
// nothing is delivered and the answer names no member. Without the fix the
// prison service's Disclose for risk management reached every member of the
// Safety House case (pseudonymised, under the law outside the case), and
// its answer, as the refusal's details of one for case management, listed
// who the case's members are.
func TestCaseMembersRoleNeedsAMember(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, subject = "NL-ZVH-RTM-0910", "SYN-NL-0910"
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: subject, Subject: nlSubject(),
		Justification: "Case consultation before the release."}); err != nil {
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
	if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlNGO.agency, Justification: "Needed in the case."}); err != nil {
		t.Fatal(err)
	}
	members := []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_CaseMembers{CaseMembers: id}}}
	inboxes := func() (n int) {
		for _, o := range []officer{nlCouncil, nlPolice, nlProbation} {
			n += len(inboxItems(t, s.exchange(t, o)))
		}
		return n
	}
	delivered := inboxes()
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"the prison service's Disclose for risk management", func() error {
			_, err := s.exchange(t, nlPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{Record: releaseNoticeOf(subject, "Rotterdam", "2027-03-01", ""),
				Subject: nlSubject(), Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release planning.", RecipientRoles: members})
			return err
		}},
		{"the prison service's Disclose for case management", func() error {
			_, err := s.exchange(t, nlPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{Record: releaseNoticeOf(subject, "Rotterdam", "2027-03-01", ""),
				Subject: nlSubject(), Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case.", RecipientRoles: members})
			return err
		}},
		{"the prison service's Notify", func() error {
			_, err := s.exchange(t, nlPrison).Notify(ctx, &liaisonv1.NotifyRequest{EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
				Record: releaseNoticeOf(subject, "Rotterdam", "2027-03-01", ""), Subject: nlSubject(), Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
				Justification: "The release date is set.", RecipientRoles: members})
			return err
		}},
		{"the prison service's Match within the case", func() error {
			_, err := s.exchange(t, nlPrison).Match(ctx, &liaisonv1.MatchRequest{SubjectId: subject, CaseId: id,
				RecordTypes: []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
				Purpose:     liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Does a partner know this person?"})
			return err
		}},
		{"the invited NGO's Disclose", func() error {
			rec := &liaisonv1.Record{Body: &liaisonv1.Record_ExitProgrammeStatus{ExitProgrammeStatus: &liaisonv1.ExitProgrammeStatus{
				Subject: &liaisonv1.Person{SubjectId: subject}, Stage: liaisonv1.ExitStage_EXIT_STAGE_ACTIVE}}}
			_, err := s.exchange(t, nlNGO).Disclose(ctx, &liaisonv1.DiscloseRequest{Record: rec, Subject: nlSubject(),
				Purpose: liaisonv1.Purpose_PURPOSE_RESOCIALISATION, Justification: "Progress in the programme.", RecipientRoles: members})
			return err
		}},
	} {
		before, _ := s.lastEntry(t)
		st := wantStatus(t, c.call(), codes.PermissionDenied)
		if errorReason(st) != "NOT_A_CASE_MEMBER" {
			t.Errorf("%s: reason %q (%s), want NOT_A_CASE_MEMBER", c.name, errorReason(st), st.Message())
		}
		for _, d := range st.Details() {
			switch d.(type) {
			case *liaisonv1.DiscloseResponse, *liaisonv1.NotifyResponse, *liaisonv1.MatchResponse:
				t.Errorf("%s: the refusal carries results, naming the case's members: %v", c.name, d)
			}
		}
		after, e := s.lastEntry(t)
		if after != before+1 || e.Outcome != "refused" || len(e.Reasons) != 1 || e.Reasons[0] != "NOT_A_CASE_MEMBER" {
			t.Errorf("%s: %d entries, the last %s %v; want one, refused NOT_A_CASE_MEMBER", c.name, after-before, e.Outcome, e.Reasons)
		}
	}
	if n := inboxes(); n != delivered {
		t.Errorf("the case's members received %d items from agencies outside it", n-delivered)
	}
	// A member still addresses the others.
	dr, err := s.exchange(t, nlProbation).Disclose(ctx, &liaisonv1.DiscloseRequest{Record: releaseNoticeOf(subject, "Rotterdam", "2027-03-01", ""),
		Subject: nlSubject(), CaseId: id, Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case.", RecipientRoles: members})
	if err != nil || len(dr.GetResults()) != 2 {
		t.Errorf("a member's Disclose to the case's members = %v, %v; want the council and the police", dr.GetResults(), err)
	}
}
