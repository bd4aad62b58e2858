package gateway_test

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestDatesAreInThePolicysRange: the gateway took any YYYY-MM-DD date
// time.Parse reads (years 0000 to 9999), while the policy's is_date reads
// 1900 to 2199 only, so a release date of 2200 or 1899 passed the
// gateway's check and reached the policy as no date: the caller was
// denied INVALID_DATE, the fault of a field it was told was well formed,
// and a holder's answer with such a date denied the requester for it. A
// date outside the policy's range is now refused where a caller's dates
// are checked (INVALID_ARGUMENT naming the field: the subject's attributes
// and a record's dates, in Disclose, Notify and Correct), and a holder's
// Describe answer with one fails HOLDER_RETURNED_INVALID_SUBJECT. The last
// day of the range passes, and the policy reads it as a date.
// TestDateRangeIsThePolicys (package gateway) holds the two ranges equal.
func TestDatesAreInThePolicysRange(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	rec, attrs := dkRelease(t, s)
	call := func(rec *liaisonv1.Record, attrs *liaisonv1.SubjectAttributes) map[string]error {
		_, dErr := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks; police must know.",
		})
		_, nErr := s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
			Record:    rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release date set.",
		})
		_, cErr := liaisonv1.NewAftercareClient(s.conn(t, dkPrison)).Correct(ctx, &liaisonv1.CorrectRequest{
			Record: rec, Subject: attrs, Justification: "The release date was wrong.",
		})
		return map[string]error{"Disclose": dErr, "Notify": nErr, "Correct": cErr}
	}
	for _, tt := range []struct {
		day   string
		edit  func(r *liaisonv1.Record, a *liaisonv1.SubjectAttributes, d string)
		field string
	}{
		// The record states no such date, so the attributes give it.
		{"2200-01-01", func(r *liaisonv1.Record, a *liaisonv1.SubjectAttributes, d string) {
			r.GetReleaseNotice().ReleaseDate, a.ReleaseDate = "", d
		}, "subject.release_date"},
		{"1899-12-31", func(r *liaisonv1.Record, a *liaisonv1.SubjectAttributes, d string) {
			r.GetReleaseNotice().ProbationUntil, a.ProbationUntil = "", d
		}, "subject.probation_until"},
		{"2300-06-01", func(r *liaisonv1.Record, a *liaisonv1.SubjectAttributes, d string) {
			r.GetReleaseNotice().ReleaseDate, a.ReleaseDate = d, ""
		}, "record.release_notice.release_date"},
		{"9999-12-31", func(r *liaisonv1.Record, a *liaisonv1.SubjectAttributes, d string) {
			r.GetReleaseNotice().ProbationUntil, a.ProbationUntil = d, ""
		}, "record.release_notice.probation_until"},
		{"1850-03-01", func(r *liaisonv1.Record, a *liaisonv1.SubjectAttributes, d string) {
			r.GetReleaseNotice().GetSubject().DateOfBirth = d
		}, "record.release_notice.subject.date_of_birth"},
	} {
		r, a := proto.CloneOf(rec), proto.CloneOf(attrs)
		tt.edit(r, a, tt.day)
		for name, err := range call(r, a) {
			if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != tt.field {
				t.Errorf("%s with %s %s: %v, want INVALID_ARGUMENT naming it", name, tt.field, tt.day, err)
			}
		}
	}
	// The last day of the range passes the gateway and the policy reads it
	// as a date: whatever the decision, it is not INVALID_DATE.
	r, a := proto.CloneOf(rec), proto.CloneOf(attrs)
	r.GetReleaseNotice().ReleaseDate, a.ReleaseDate = "2199-12-31", "2199-12-31"
	n0, _ := s.db.Size(ctx)
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: r, Subject: a, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release far ahead; police must know.",
	}); status.Code(err) == codes.InvalidArgument {
		t.Errorf("Disclose with the release date 2199-12-31: %v", err)
	}
	n1, _ := s.db.Size(ctx)
	for i := n0; i < n1; i++ {
		if e := s.entry(t, i); slices.Contains(e.Reasons, "INVALID_DATE") {
			t.Errorf("entry %d: %s %v, want the policy to read 2199-12-31 as a date", i, e.Outcome, e.Reasons)
		}
	}

	// A holder's Describe answer with a release date out of range fails
	// the exchange as one that is no date does.
	h := startStack(t, stackOptions{holderInterceptor: describeEdit(func(d *liaisonv1.DescribeResponse) { d.Subject.ReleaseDate = "2200-01-01" })})
	_, err := h.exchange(t, nlPolice).Request(ctx, riskReq(nil))
	if st := wantStatus(t, err, codes.Internal); errorReason(st) != "HOLDER_RETURNED_INVALID_SUBJECT" {
		t.Errorf("Request with the holder's release date 2200-01-01: reason %q, want HOLDER_RETURNED_INVALID_SUBJECT", errorReason(st))
	}
}
