package gateway_test

import (
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// Match asks its holders on goroutines of its own. A panic on one (a bug;
// here the gateway's clock, once, while a holder's exchange is under way)
// is that call's, as README says of any call that panics: Internal, the
// log names its kind and never its value, each exchange begun has its
// entry (failed, INTERNAL), and the gateway serves on. Before, the panic
// ended the process and the runtime printed its value.
func TestPanicInAMatchHolderIsTheCallsOwn(t *testing.T) {
	const id = "SYN-NL-PRIV-0042"
	var armed atomic.Bool
	s := startStack(t, stackOptions{serverNow: func() time.Time {
		// Once its exchange has begun: not in begin itself.
		if st := string(debug.Stack()); armed.Load() && strings.Contains(st, "matchHolder") && !strings.Contains(st, "(*Server).begin") &&
			armed.CompareAndSwap(true, false) {
			panic("the clock broke on subject " + id)
		}
		return time.Now()
	}})
	before, _ := s.store.Size(t.Context())
	armed.Store(true)
	req := &liaisonv1.MatchRequest{
		SubjectId:     "SYN-NL-0001",
		RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Checking before a risk meeting.",
	}
	_, err := s.exchange(t, nlPolice).Match(t.Context(), req)
	if status.Code(err) != codes.Internal {
		t.Fatalf("Match whose holder's goroutine panicked: %v, want Internal", err)
	}
	if logs := string(s.logs.Bytes()); strings.Contains(logs, id) || !strings.Contains(logs, "a call panicked") {
		t.Errorf("log: want the panic logged by its kind, and never its value:\n%s", logs)
	}
	after, _ := s.store.Size(t.Context())
	var internal int
	for i := before; i < after; i++ {
		if e := s.entry(t, i); e.Action == "match" && e.Outcome == audit.OutcomeFailed && slices.Contains(e.Reasons, "INTERNAL") {
			internal++
		}
	}
	if internal == 0 {
		t.Errorf("entries %d to %d: none says the panicked exchange failed (INTERNAL)", before, after)
	}
	// The gateway serves on.
	if _, err := s.exchange(t, nlPolice).Match(t.Context(), req); err != nil {
		t.Errorf("the next Match: %v", err)
	}
}
