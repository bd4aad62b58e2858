package gateway

import (
	"fmt"
	"sync"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestReasonLabelBounded: the reason label keeps at most maxReasonLabels
// values, first come first kept; past them a new code is OTHER, a kept
// one stays itself, and the outages alert rules select keep their label.
// Concurrent callers agree.
func TestReasonLabelBounded(t *testing.T) {
	m := &metrics{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range maxReasonLabels {
				if got := m.reasonLabel(fmt.Sprintf("PEER_CODE_%d", i)); got != fmt.Sprintf("PEER_CODE_%d", i) && got != reasonOther {
					t.Errorf("goroutine %d: reasonLabel(PEER_CODE_%d) = %q", g, i, got)
				}
			}
		})
	}
	wg.Wait()
	if n := m.nReasons.Load(); n != maxReasonLabels {
		t.Fatalf("%d labels after %d distinct codes from 4 goroutines; want %d", n, maxReasonLabels, maxReasonLabels)
	}
	for i := range maxReasonLabels {
		if got := m.reasonLabel(fmt.Sprintf("PEER_CODE_%d", i)); got != fmt.Sprintf("PEER_CODE_%d", i) {
			t.Fatalf("a kept code, PEER_CODE_%d, is labelled %q", i, got)
		}
	}
	for _, c := range []string{"PEER_CODE_X", "ASSESSMENT_TO_NGO"} {
		if got := m.reasonLabel(c); got != reasonOther {
			t.Errorf("reasonLabel(%s) past the bound = %q; want %s", c, got, reasonOther)
		}
	}
	for c := range alwaysLabelled {
		if got := m.reasonLabel(c); got != c {
			t.Errorf("reasonLabel(%q) past the bound = %q; want itself", c, got)
		}
	}
	if n := m.nReasons.Load(); n != maxReasonLabels {
		t.Errorf("%d labels at the end; want %d", n, maxReasonLabels)
	}
}

// TestCallOutcome: a call's status maps to the outcome its metrics count,
// as an exchange's entry would say: a state refusal (FailedPrecondition,
// and AlreadyExists for an OpenCase of an id taken) is refused, not
// failed, so that it does not feed LiaisonFailuresHigh.
func TestCallOutcome(t *testing.T) {
	withReason := func(c codes.Code, reason string) error {
		st, _ := status.New(c, "x").WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: errorDomain})
		return st.Err()
	}
	for _, tc := range []struct {
		err             error
		outcome, reason string
	}{
		{nil, audit.OutcomeOK, ""},
		{withReason(codes.FailedPrecondition, "CASE_CLOSED"), audit.OutcomeRefused, "CASE_CLOSED"},
		{withReason(codes.AlreadyExists, "CASE_EXISTS"), audit.OutcomeRefused, "CASE_EXISTS"},
		{withReason(codes.PermissionDenied, "ROLE_REQUIRED"), audit.OutcomeRefused, "ROLE_REQUIRED"},
		{status.Error(codes.InvalidArgument, "x"), audit.OutcomeRefused, "INVALID_ARGUMENT"},
		{withReason(codes.NotFound, "NO_SUCH_NOTICE"), audit.OutcomeNotFound, "NO_SUCH_NOTICE"},
		{withReason(codes.Unavailable, "AUDIT_UNAVAILABLE"), audit.OutcomeFailed, "AUDIT_UNAVAILABLE"},
		{status.Error(codes.Internal, "x"), audit.OutcomeFailed, "INTERNAL"},
		// Spelt as an exchange's entry spells it, not google.rpc's CANCELLED.
		{status.Error(codes.Canceled, "x"), audit.OutcomeFailed, "CANCELED"},
		{status.Error(codes.DeadlineExceeded, "x"), audit.OutcomeFailed, "DEADLINE_EXCEEDED"},
	} {
		if o, r := callOutcome(tc.err); o != tc.outcome || r != tc.reason {
			t.Errorf("callOutcome(%v) = %s, %s; want %s, %s", tc.err, o, r, tc.outcome, tc.reason)
		}
	}
}
