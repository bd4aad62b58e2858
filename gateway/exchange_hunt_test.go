package gateway_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// describeEdit is a holder interceptor that edits every Describe answer.
func describeEdit(edit func(*liaisonv1.DescribeResponse)) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if d, ok := resp.(*liaisonv1.DescribeResponse); ok && err == nil {
			edit(d)
		}
		return resp, err
	}
}

// TestHolderDescribeNamingTheSubjectIsNotRecorded: a Request records the
// subject's attributes as the holder's Describe answered them. A holder
// whose answer put the subject's identifier in the municipality
// ("Rotterdam (SYN-NL-0001)") had it written into the audit entry, which
// never holds the identifier; and a release date that is no date reached
// the policy as if it were one. The gateway checks a holder's answer as it
// checks a Disclose's subject: such an answer fails the exchange
// (HOLDER_RETURNED_INVALID_SUBJECT), nothing is fetched, and the entry
// records no attribute of it.
func TestHolderDescribeNamingTheSubjectIsNotRecorded(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*liaisonv1.DescribeResponse)
	}{
		{"municipality names the subject", func(d *liaisonv1.DescribeResponse) { d.Subject.Municipality = "Rotterdam (SYN-NL-0001)" }},
		{"release date is no date", func(d *liaisonv1.DescribeResponse) { d.Subject.ReleaseDate = "next spring" }},
		{"unknown category", func(d *liaisonv1.DescribeResponse) { d.Subject.Category = 99 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := startStack(t, stackOptions{holderInterceptor: describeEdit(c.edit)})
			err, entries := s.grown(t, func() error {
				_, err := s.exchange(t, nlPolice).Request(t.Context(), riskReq(nil))
				return err
			})
			st := wantStatus(t, err, codes.Internal)
			if errorReason(st) != "HOLDER_RETURNED_INVALID_SUBJECT" {
				t.Errorf("reason %q, want HOLDER_RETURNED_INVALID_SUBJECT", errorReason(st))
			}
			if strings.Contains(st.Message(), "SYN-NL-0001") {
				t.Errorf("the error names the subject: %q", st.Message())
			}
			if len(entries) != 1 {
				t.Fatalf("%d entries, want 1", len(entries))
			}
			e := entries[0]
			b, _ := e.Marshal()
			if strings.Contains(string(b), "SYN-NL-0001") || strings.Contains(string(b), "next spring") {
				t.Errorf("the entry records the holder's answer: %s", b)
			}
			if e.Outcome != "failed" || len(e.Reasons) != 1 || e.Reasons[0] != "HOLDER_RETURNED_INVALID_SUBJECT" || len(e.FieldsDisclosed) != 0 {
				t.Errorf("entry %s %v fields %v; want failed HOLDER_RETURNED_INVALID_SUBJECT, nothing disclosed", e.Outcome, e.Reasons, e.FieldsDisclosed)
			}
		})
	}
}
