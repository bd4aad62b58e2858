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

// holdDescribes is a holder interceptor that holds every Describe until
// its caller gives up (or 10 s), after telling asked that it was called.
func holdDescribes(asked chan<- struct{}) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if strings.HasSuffix(info.FullMethod, "/Describe") {
			select {
			case asked <- struct{}{}:
			default:
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
			}
		}
		return h(ctx, req)
	}
}

// TestMatchEndingWhileHoldersAreAskedIsNoHolderOutage: a Match whose own
// deadline passed, or whose caller hung up, while a holder was asked was
// recorded as the holder's outage: each answer not yet given an entry
// failed HOLDER_UNAVAILABLE, and the gateway's log warned "record provider
// unavailable", though the holder was up (its Describe was held until the
// caller gave up, far within the match's deadline_ms and the holder's own
// bound). Each answer's one entry now says what happened, failed
// DEADLINE_EXCEEDED or CANCELED, as Request's does. A holder that does not
// answer within deadline_ms is still unavailable (TestMatchFiveHolders).
func TestMatchEndingWhileHoldersAreAskedIsNoHolderOutage(t *testing.T) {
	types := []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE}
	for _, tc := range []struct {
		name    string
		code    codes.Code
		reasons []string
	}{
		// The caller's end of the call may reset it before the gateway's
		// timer for the same deadline fires: the gateway then sees it
		// canceled.
		{"deadline", codes.DeadlineExceeded, []string{"DEADLINE_EXCEEDED", "CANCELED"}},
		{"hang up", codes.Canceled, []string{"CANCELED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := make(chan struct{}, 1)
			s := startStack(t, stackOptions{holderInterceptor: holdDescribes(asked)})
			police := s.exchange(t, nlPolice)
			// Authenticates (and caches) the officer, without an exchange.
			if _, err := police.ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{}); err != nil {
				t.Fatal(err)
			}
			before, err := s.db.Size(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var ctx context.Context
			var cancel context.CancelFunc
			if tc.code == codes.DeadlineExceeded {
				ctx, cancel = context.WithTimeout(t.Context(), 1500*time.Millisecond)
			} else {
				ctx, cancel = context.WithCancel(t.Context())
				go func() {
					select {
					case <-asked:
						cancel() // the caller hangs up while the holder is asked
					case <-time.After(20 * time.Second):
					}
				}()
			}
			defer cancel()
			_, err = police.Match(ctx, &liaisonv1.MatchRequest{
				SubjectId: "SYN-NL-0001", RecordTypes: types, Holders: []string{"nl-probation"},
				Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
				Justification: "Stopped in a routine check; does any partner know this person?",
				DeadlineMs:    20000, // the call's own end comes first
			})
			if status.Code(err) != tc.code {
				t.Fatalf("Match: %v, want %v", err, tc.code)
			}
			if tc.code == codes.DeadlineExceeded {
				select {
				case <-asked:
				default:
					t.Fatal("the holder was not asked before the call's deadline")
				}
			}
			eventually(t, "the answers' entries", func() bool { n, _ := s.db.Size(t.Context()); return n >= before+int64(len(types)) })
			time.Sleep(100 * time.Millisecond) // no further entry follows
			if n, _ := s.db.Size(t.Context()); n != before+int64(len(types)) {
				t.Fatalf("the match left %d entries, want one per record type (%d)", n-before, len(types))
			}
			for i := range int64(len(types)) {
				e := s.entry(t, before+i)
				last := ""
				if len(e.Reasons) > 0 {
					last = e.Reasons[len(e.Reasons)-1]
				}
				// The policy allowed the question: its reasons come first.
				if e.Action != "match" || e.Outcome != "failed" || !slices.Contains(tc.reasons, last) ||
					slices.Contains(e.Reasons, "HOLDER_UNAVAILABLE") || len(e.FieldsDisclosed) > 0 || e.Detail["answer"] != "" {
					t.Errorf("entry %d: %s %s %v detail %v, want a match failed %s", before+i, e.Action, e.Outcome, e.Reasons, e.Detail, strings.Join(tc.reasons, " or "))
				}
			}
			if bytes.Contains(s.logs.Bytes(), []byte("record provider unavailable")) {
				t.Error("the gateway's log says the holder was unavailable")
			}
		})
	}
}
