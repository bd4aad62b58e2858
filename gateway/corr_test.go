package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCorrectPassesOnNoReceivedRecord: a correction is a disclosure to
// its recipient like any other. The Aarhus police received the prison's
// release notice with NO_ONWARD_DISCLOSURE and sent social services an
// observation of their own; "correcting" that observation with the
// prison's content is the undeclared onward disclosure a Disclose of it
// is refused as: the correction's entry is a deny naming the release it
// repeats, nothing reaches social services, and the observation stays
// open to a true correction. Without the fix the prison's content went
// to social services as a correction.
func TestCorrectPassesOnNoReceivedRecord(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{serverNow: newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now})
	rec, attrs := dkRelease(t, s)
	d, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
	})
	if err != nil {
		t.Fatal(err)
	}
	release := d.GetResults()[0].GetAuditIndex()
	got := readInbox(t, s, dkPolice, 0)[0].GetReleased().GetRecord().GetReleaseNotice()
	observation := func(unit, description string) *liaisonv1.Record {
		return &liaisonv1.Record{Body: &liaisonv1.Record_PoliceObservation{PoliceObservation: &liaisonv1.PoliceObservation{
			Subject: &liaisonv1.Person{SubjectId: "SYN-DK-0001"}, ObservedOn: "2026-11-20", Grading: "B2",
			ReportingUnit: unit, Description: description,
		}}}
	}
	police := s.exchange(t, dkPolice)
	own, err := police.Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: observation("Østjyllands Politi, Forebyggelse", "Seen at the youth club with his mentor."), Subject: attrs,
		Recipients: []string{"dk-social-aarhus"}, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Social services should know.",
	})
	if err != nil || own.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("the police's own observation = %v, %v", own, err)
	}
	ownIdx := own.GetResults()[0].GetAuditIndex()
	copied := observation(got.GetFacility(), got.GetContactPoint())
	if got.GetFacility() == "" || got.GetContactPoint() == "" {
		t.Fatalf("the sample release notice has no facility or contact point: %v", got)
	}
	// The same content as a Disclose is refused: the copy is recognised.
	_, err = police.Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: copied, Subject: attrs, Recipients: []string{"dk-social-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Social services should know.",
	})
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "UNDECLARED_ONWARD_DISCLOSURE" {
		t.Fatalf("Disclose of the copied content refused with %q: %s", errorReason(st), st.Message())
	}
	before := len(readInbox(t, s, dkSocial, 0))
	var resp *liaisonv1.CorrectResponse
	err, entries := s.grown(t, func() error {
		var err error
		resp, err = aftercare(t, s, dkPolice).Correct(ctx, &liaisonv1.CorrectRequest{Record: copied, Justification: "Updated observation."})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetResults()) != 1 {
		t.Fatalf("Correct results = %v, want one", resp.GetResults())
	}
	r := resp.GetResults()[0]
	if r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_UNSPECIFIED || r.GetFailure().GetReason() != "UNDECLARED_ONWARD_DISCLOSURE" ||
		r.GetFailure().GetCode() != "PERMISSION_DENIED" ||
		!strings.Contains(r.GetFailure().GetMessage(), fmt.Sprintf("entry %d", release)) {
		t.Errorf("correction result = %v; want nothing sent, refused UNDECLARED_ONWARD_DISCLOSURE naming entry %d", r, release)
	}
	if len(entries) != 1 || entries[0].Action != audit.ActionCorrect || entries[0].Outcome != audit.OutcomeDeny ||
		!slices.Equal(entries[0].Reasons, []string{"UNDECLARED_ONWARD_DISCLOSURE"}) || entries[0].Detail["matches_release"] != itoa(release) {
		t.Errorf("entries = %+v; want one correct entry, deny UNDECLARED_ONWARD_DISCLOSURE matching %d", entries, release)
	}
	if n := len(readInbox(t, s, dkSocial, 0)); n != before {
		t.Errorf("social services' inbox grew by %d items, want none", n-before)
	}
	// The observation is still open to a true correction.
	fixed, err := aftercare(t, s, dkPolice).Correct(ctx, &liaisonv1.CorrectRequest{
		Record:   observation("Østjyllands Politi, Forebyggelse", "Seen at the youth club with his mentor and his brother."),
		Corrects: []int64{ownIdx}, Justification: "The brother was there too.",
	})
	if err != nil || fixed.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Errorf("a true correction of the observation = %v, %v", fixed, err)
	}
}

// TestRequiredNoticeDeadlineFollowsTheNotifiedDate: the Dutch prison
// notifies the Amsterdam police that the release is tomorrow. The police
// must acknowledge before the release day, and the policy bounds the
// deadline by the subject's release_date; a notice whose attributes give
// none is bound by the date the release notice states, and one whose
// attributes give another date than the record is refused, naming
// subject.release_date (one refused entry, nothing delivered). Without
// the fix the first was due 72 hours later, two days after the release,
// and the second went with the deadline of a release two months away.
func TestRequiredNoticeDeadlineFollowsTheNotifiedDate(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	prison := s.exchange(t, nlPrison)
	notify := func(subject string, attrs *liaisonv1.SubjectAttributes) (*liaisonv1.NotifyResponse, error) {
		return prison.Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_CHANGED,
			Record:    releaseNoticeOf(subject, "Amsterdam", "2027-01-11", "2027-03-01"), Subject: attrs,
			RecipientRoles: []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{Kind: liaisonv1.AgencyKind_AGENCY_KIND_POLICE}}}},
			Purpose:        liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "The release was brought forward.",
		})
	}
	noDate := attrsIn("Amsterdam", "")
	nr, err := notify("SYN-NL-0701", noDate)
	if err != nil || len(nr.GetResults()) != 1 || nr.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify = %v, %v; want one required notice", nr, err)
	}
	if by := nr.GetResults()[0].GetAcknowledgeBy(); by != "2027-01-10T23:00:00Z" {
		t.Errorf("acknowledge_by = %s, want 2027-01-10T23:00:00Z, the start in Amsterdam of the release day the notice states", by)
	}
	if noDate.GetReleaseDate() != "" {
		t.Errorf("the caller's attributes were changed: release_date %q", noDate.GetReleaseDate())
	}
	before := len(readInbox(t, s, nlPoliceAms, 0))
	err, entries := s.grown(t, func() error {
		_, err := notify("SYN-NL-0702", attrsIn("Amsterdam", "2027-03-01"))
		return err
	})
	st := wantStatus(t, err, codes.InvalidArgument)
	if f := badField(st); f != "subject.release_date" || !strings.Contains(st.Message(), "2027-01-11") {
		t.Errorf("mismatched release dates refused on %q: %s", f, st.Message())
	}
	if len(entries) != 1 || entries[0].Action != "notify" || entries[0].Outcome != audit.OutcomeRefused {
		t.Errorf("entries = %+v; want one refused notify entry", entries)
	}
	if n := len(readInbox(t, s, nlPoliceAms, 0)); n != before {
		t.Errorf("the police's inbox grew by %d items, want none", n-before)
	}
}

// TestCorrectionDecidedWithTheCorrectedReleaseDate: the Danish prison
// released its notice of a release on 2026-12-15 to the Aarhus police
// under § 115, whose window ends 365 days after the release. The release
// date was wrong, 2027-03-15: the correction is decided with the date it
// states (its basis ends 2028-03-14, and its entry records that date),
// not with the attributes recorded with the wrong release; a correction
// whose attributes give another date than its record is refused, naming
// subject.release_date. Without the fix the correction's basis ended on
// 2027-12-15, three months too early, and the mismatch went out.
func TestCorrectionDecidedWithTheCorrectedReleaseDate(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{serverNow: newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now})
	rec, attrs := dkRelease(t, s)
	d, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
	})
	if err != nil {
		t.Fatal(err)
	}
	if e := s.entry(t, d.GetResults()[0].GetAuditIndex()); e.LegalBasis == nil || e.LegalBasis.ValidUntil != "2027-12-15" {
		t.Fatalf("release's basis = %+v, want one that ends 2027-12-15", e.LegalBasis)
	}
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ReleaseDate = "2027-03-15"
	prison := aftercare(t, s, dkPrison)
	c, err := prison.Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Justification: "The release date was wrong."})
	if err != nil || len(c.GetResults()) != 1 || c.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("Correct = %v, %v; want one correction", c, err)
	}
	e := s.entry(t, c.GetResults()[0].GetAuditIndex())
	if e.LegalBasis == nil || e.LegalBasis.ValidUntil != "2028-03-14" || e.Subject == nil || e.Subject.ReleaseDate != "2027-03-15" {
		t.Errorf("correction's basis = %+v, subject %+v; want the window of a release on 2027-03-15, to 2028-03-14", e.LegalBasis, e.Subject)
	}
	again := proto.CloneOf(corrected)
	again.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus"
	err, entries := s.grown(t, func() error {
		_, err := prison.Correct(ctx, &liaisonv1.CorrectRequest{Record: again, Subject: attrs, Justification: "The contact point changed."})
		return err
	})
	st := wantStatus(t, err, codes.InvalidArgument)
	if f := badField(st); f != "subject.release_date" || !strings.Contains(st.Message(), "2027-03-15") {
		t.Errorf("mismatched release dates refused on %q: %s", f, st.Message())
	}
	if len(entries) != 1 || entries[0].Action != audit.ActionCorrect || entries[0].Outcome != audit.OutcomeRefused {
		t.Errorf("entries = %+v; want one refused correct entry", entries)
	}
}
