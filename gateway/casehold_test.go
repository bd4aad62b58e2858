package gateway_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// fetchGate holds a holder's Fetch calls, when armed, until the test lets
// them go: the gateway has decided on the exchange and asked the holder,
// and the case changes before it commits.
type fetchGate struct {
	mu      sync.Mutex
	armed   bool
	arrived chan struct{}
	release chan struct{}
}

// arm makes the next Fetch wait: it returns a channel closed once it has
// arrived, and a function that lets it go.
func (g *fetchGate) arm() (arrived <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.arrived, g.release = true, make(chan struct{}), make(chan struct{})
	rel := g.release
	return g.arrived, sync.OnceFunc(func() { close(rel) })
}

func (g *fetchGate) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if info.FullMethod == liaisonv1.RecordProvider_Fetch_FullMethodName {
		g.mu.Lock()
		armed, arrived, release := g.armed, g.arrived, g.release
		g.armed = false
		g.mu.Unlock()
		if armed {
			close(arrived)
			select {
			case <-release:
			case <-time.After(30 * time.Second):
			}
		}
	}
	return h(ctx, req)
}

// TestCaseChangeDuringExchange: a request on a case's basis is decided
// when it begins and committed after the holder answered. A requester
// that leaves the case meanwhile, or a case closed meanwhile, stops it at
// its commit: refused (NOT_A_CASE_MEMBER, CASE_CLOSED), nothing released,
// its one entry refused and describing no release, on both stores. Each
// request is held at the holder (a real RecordProvider over mTLS) until
// the case has changed, so the race is the same every run.
func TestCaseChangeDuringExchange(t *testing.T) {
	gate := &fetchGate{}
	onEachStore(t, stackOptions{serverNow: newCaseClock(caseStart).Now, holderInterceptor: gate.intercept}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		council, police, probation := s.cases(t, nlCouncil), s.cases(t, nlPolice), s.cases(t, nlProbation)
		const id = "NL-ZVH-RTM-0300"
		why := "Case consultation before the release."
		if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001",
			Subject: nlSubject(), Justification: why}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			agency string
			c      liaisonv1.CasesClient
		}{{"nl-police-rotterdam", police}, {"nl-probation", probation}} {
			if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: m.agency, Justification: why}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.c.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We take part."}); err != nil {
				t.Fatal(err)
			}
		}
		inCase := riskReq(func(r *liaisonv1.RequestRequest) {
			r.CaseId, r.Purpose = id, liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT
		})
		// The request goes through while nothing changes.
		if _, err := s.exchange(t, nlPolice).Request(ctx, inCase); err != nil {
			t.Fatalf("request in the case: %v", err)
		}

		// raced runs a request by o held at the holder while change runs,
		// and returns the request's error and entry; the log grows by the
		// change's entry and the request's, no more.
		raced := func(o officer, change func() error) (error, *audit.Entry) {
			t.Helper()
			arrived, release := gate.arm()
			defer release()
			var reqErr error
			err, entries := s.grown(t, func() error {
				done := make(chan struct{})
				go func() {
					defer close(done)
					_, reqErr = s.exchange(t, o).Request(ctx, inCase)
				}()
				select {
				case <-arrived:
				case <-time.After(20 * time.Second):
					t.Fatal("the request never reached the holder")
				}
				cerr := change()
				release()
				<-done
				return cerr
			})
			if err != nil {
				t.Fatalf("the change during the request: %v", err)
			}
			var reqs []*audit.Entry
			for _, e := range entries {
				if e.Action == "request" {
					reqs = append(reqs, e)
				}
			}
			if len(entries) != 2 || len(reqs) != 1 {
				t.Fatalf("the log grew by %d entries (%d requests), want the change's and the request's", len(entries), len(reqs))
			}
			return reqErr, reqs[0]
		}
		noRelease := func(what string, e *audit.Entry, reason string) {
			t.Helper()
			if e.Outcome != audit.OutcomeRefused || !slices.Equal(e.Reasons, []string{reason}) || len(e.FieldsDisclosed) > 0 ||
				e.Detail[audit.DetailReleasedDigest] != "" {
				t.Errorf("%s: entry %s (reasons %v, fields %v, detail %v), want refused %s and no release",
					what, e.Outcome, e.Reasons, e.FieldsDisclosed, e.Detail, reason)
			}
		}

		// The police leave while their request is at the holder.
		err, e := raced(nlPolice, func() error {
			_, err := police.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "Our part is done."})
			return err
		})
		if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "NOT_A_CASE_MEMBER" {
			t.Errorf("request by a member that left meanwhile: reason %q, want NOT_A_CASE_MEMBER", errorReason(st))
		}
		noRelease("request by a member that left meanwhile", e, "NOT_A_CASE_MEMBER")

		// The lead closes the case while its own request is at the holder.
		err, e = raced(nlCouncil, func() error {
			_, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "Supervision ended."})
			return err
		})
		if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "CASE_CLOSED" {
			t.Errorf("request on a case closed meanwhile: reason %q, want CASE_CLOSED", errorReason(st))
		}
		noRelease("request on a case closed meanwhile", e, "CASE_CLOSED")
	})
}
