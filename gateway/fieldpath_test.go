package gateway_test

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestRecordSubjectFieldIsNamedByItsPath: a Disclose, Notify or Correct
// whose record names no subject (or a subject_id with white space around
// it) is refused naming the field by its path in the request,
// record.release_notice.subject.subject_id, in the BadRequest and in the
// refused entry's detail.field. Without the fix the path held the
// message's type name, record.ReleaseNotice.subject.subject_id, which is
// no field of the request.
func TestRecordSubjectFieldIsNamedByItsPath(t *testing.T) {
	s := startStack(t, stackOptions{})
	rec, attrs := dkRelease(t, s)
	const want = "record.release_notice.subject.subject_id"
	for _, id := range []string{"", " SYN-DK-0001"} {
		bad := proto.CloneOf(rec)
		bad.GetReleaseNotice().GetSubject().SubjectId = id
		for name, call := range map[string]func() error{
			"Disclose": func() error {
				_, err := s.exchange(t, dkPrison).Disclose(t.Context(), &liaisonv1.DiscloseRequest{
					Record: bad, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
					Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
				})
				return err
			},
			"Notify": func() error {
				_, err := s.exchange(t, dkPrison).Notify(t.Context(), &liaisonv1.NotifyRequest{
					EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
					Record:    bad, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
					Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release date set.",
				})
				return err
			},
			"Correct": func() error {
				_, err := aftercare(t, s, dkPrison).Correct(t.Context(), &liaisonv1.CorrectRequest{
					Record: bad, Justification: "The contact point changed.",
				})
				return err
			},
		} {
			st := wantStatus(t, call(), codes.InvalidArgument)
			var field string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) == 1 {
					field = br.GetFieldViolations()[0].GetField()
				}
			}
			if field != want {
				t.Errorf("%s with subject_id %q: BadRequest field = %q, want %q (message %q)", name, id, field, want, st.Message())
			}
			if _, e := s.lastEntry(t); e.Outcome != "refused" || e.Detail["field"] != want {
				t.Errorf("%s with subject_id %q: entry outcome %q, detail.field %q; want refused, %q", name, id, e.Outcome, e.Detail["field"], want)
			}
		}
	}
}
