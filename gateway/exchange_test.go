package gateway_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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

// holdAt is a holder interceptor that holds every call of the method
// named (Describe, Fetch) until its caller gives up, or 5 s.
func holdAt(method string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if strings.HasSuffix(info.FullMethod, "/"+method) {
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}
		return h(ctx, req)
	}
}

// TestCallEndingWhileTheHolderIsAskedIsNoHolderOutage: a Request whose
// own deadline passed while the holder was asked (its Describe, or its
// Fetch after the decision) was recorded failed HOLDER_UNAVAILABLE, and
// the gateway's log warned "record provider unavailable", though the
// holder was up and only the caller gave up (the holder's own bound,
// Config.ProviderTimeout, was far off). Its one entry now says what
// happened, failed DEADLINE_EXCEEDED (or CANCELED), as for a call that
// ends while the policy decides; a holder that does not answer within its
// own bound is still HOLDER_UNAVAILABLE.
func TestCallEndingWhileTheHolderIsAskedIsNoHolderOutage(t *testing.T) {
	for _, method := range []string{"Describe", "Fetch"} {
		t.Run(method, func(t *testing.T) {
			s := startStack(t, stackOptions{holderInterceptor: holdAt(method)})
			police := s.exchange(t, nlPolice)
			// Authenticates (and caches) the officer, without an exchange.
			if _, err := police.ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{}); err != nil {
				t.Fatal(err)
			}
			before, err := s.db.Size(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			if _, err := police.Request(ctx, riskReq(nil)); status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("Request with a deadline shorter than the holder's answer: %v, want DeadlineExceeded", err)
			}
			eventually(t, "the call's entry", func() bool { n, _ := s.db.Size(t.Context()); return n > before })
			time.Sleep(100 * time.Millisecond) // no second entry follows
			if n, _ := s.db.Size(t.Context()); n != before+1 {
				t.Fatalf("the call left %d entries, want 1", n-before)
			}
			e := s.entry(t, before)
			// After the decision (a Fetch), the policy's reasons come first.
			last := ""
			if len(e.Reasons) > 0 {
				last = e.Reasons[len(e.Reasons)-1]
			}
			if e.Action != "request" || e.Outcome != "failed" || (last != "CANCELED" && last != "DEADLINE_EXCEEDED") ||
				slices.Contains(e.Reasons, "HOLDER_UNAVAILABLE") || len(e.FieldsDisclosed) > 0 {
				t.Errorf("entry %s %s %v, want a request failed CANCELED or DEADLINE_EXCEEDED", e.Action, e.Outcome, e.Reasons)
			}
			if bytes.Contains(s.logs.Bytes(), []byte("record provider unavailable")) {
				t.Error("the gateway's log says the holder was unavailable")
			}
		})
	}
	// The holder's own bound passing is still the holder's outage.
	s := startStack(t, stackOptions{holderInterceptor: holdAt("Describe"), providerTimeout: 300 * time.Millisecond})
	err, entries := s.grown(t, func() error {
		_, err := s.exchange(t, nlPolice).Request(t.Context(), riskReq(nil))
		return err
	})
	if st := wantStatus(t, err, codes.Unavailable); errorReason(st) != "HOLDER_UNAVAILABLE" {
		t.Errorf("a holder past its bound: reason %q, want HOLDER_UNAVAILABLE", errorReason(st))
	}
	if len(entries) != 1 || entries[0].Outcome != "failed" || !slices.Equal(entries[0].Reasons, []string{"HOLDER_UNAVAILABLE"}) {
		t.Errorf("a holder past its bound: entries %v, want one failed HOLDER_UNAVAILABLE", entries)
	}
}

// TestMatchWithTheAuditStoreDown: every answer of a Match is an exchange
// with exactly one entry (MatchResult.audit_index); with the audit store
// down none can be written, and the caller gets Unavailable,
// AUDIT_UNAVAILABLE, and nothing else, as for Request and Disclose.
func TestMatchWithTheAuditStoreDown(t *testing.T) {
	s := startStack(t, stackOptions{})
	police := s.exchange(t, nlPolice)
	req := &liaisonv1.MatchRequest{
		SubjectId:     "SYN-NL-0001",
		RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE},
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Stopped in a routine check; does any partner know this person?",
		Holders:       []string{"nl-probation"},
	}
	if _, err := police.Match(t.Context(), req); err != nil { // authenticates and caches the officer
		t.Fatal(err)
	}
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := police.Match(t.Context(), req)
	if st := wantStatus(t, err, codes.Unavailable); errorReason(st) != "AUDIT_UNAVAILABLE" || resp != nil {
		t.Errorf("Match with the store down: %v, reason %q; want AUDIT_UNAVAILABLE and no results", resp, errorReason(st))
	}
}
