package gateway_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestUpperBoundAtTheFirstInstantIsRefused: an upper time bound of
// 0001-01-01T00:00:00Z, the first instant google.protobuf.Timestamp
// allows, can match no entry, and is refused naming the field, as the
// contract says of every filter spelt so that nothing can match. It read
// as the zero time, which the log takes for no bound: Query{to} listed
// every entry (and from 2026 to it was not refused as a period ending
// before it starts), ListObligationNotices{sent_before} every notice.
func TestUpperBoundAtTheFirstInstantIsRefused(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	first := timestamppb.New(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := first.CheckValid(); err != nil {
		t.Fatal(err)
	}
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	fc := liaisonv1.NewAftercareClient(s.conn(t, dkAuditor))
	for _, tt := range []struct {
		name, field string
		call        func() (int, error)
	}{
		{"Query to", "to", func() (int, error) {
			r, err := ac.Query(ctx, &liaisonv1.QueryRequest{To: first})
			return len(r.GetEntries()), err
		}},
		{"Query from now to", "to", func() (int, error) {
			r, err := ac.Query(ctx, &liaisonv1.QueryRequest{From: timestamppb.Now(), To: first})
			return len(r.GetEntries()), err
		}},
		{"ListObligationNotices sent_before", "sent_before", func() (int, error) {
			r, err := fc.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{SentBefore: first, IncludeAcknowledged: true})
			return len(r.GetNotices()), err
		}},
	} {
		n, err := tt.call()
		st, _ := status.FromError(err)
		if st.Code() != codes.InvalidArgument || badField(st) != tt.field {
			t.Errorf("%s 0001-01-01T00:00:00Z = %d listed, %v; want INVALID_ARGUMENT naming %s", tt.name, n, err, tt.field)
		}
	}
	// The first instant as a lower bound is every entry, as no bound is.
	if _, err := ac.Query(ctx, &liaisonv1.QueryRequest{From: first}); err != nil {
		t.Errorf("Query from 0001-01-01T00:00:00Z: %v", err)
	}
}
