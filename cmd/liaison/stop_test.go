package main

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestStopWritesRefusalsAndHandsOverTimers: a gateway stopped as
// `liaison serve` is on SIGTERM writes, before its log closes, the summary
// of the refused authentications it had only counted (those over the
// budget of its open window), and gives up the timers' leases, so that
// the gateway started again on the same database, a replica of another
// name, runs the timers at once instead of when the leases lapse.
func TestStopWritesRefusalsAndHandsOverTimers(t *testing.T) {
	s := startAuditStack(t, "")
	ctx := t.Context()
	forged, err := s.d.clientWithToken("nl-police-rotterdam", "eyJhbGciOiJFZERTQSJ9.e30.AAAA")
	if err != nil {
		t.Fatal(err)
	}
	defer forged.Close()
	const calls, budget = 27, 20 // budget: gateway.Config.RefusalBudget's default
	for range calls {
		if _, err := liaisonv1.NewPolicyClient(forged).GetStatus(ctx, &liaisonv1.GetStatusRequest{}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("GetStatus with a forged token = %v; want Unauthenticated", err)
		}
	}
	if held, err := s.d.gw.Server.RunTimers(ctx); err != nil || !held {
		t.Fatalf("RunTimers = %v, %v; want the lease held", held, err)
	}
	if err := s.d.gw.Server.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.d.gw.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	s.d.gw = nil

	st, err := sqlite.Open(ctx, s.opts.AuditDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Query(ctx, audit.Filter{Action: audit.ActionAuthenticate})
	if err != nil {
		t.Fatal(err)
	}
	var one, summaries int
	for _, r := range recs {
		e, err := audit.Unmarshal(r.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Detail["summary"] == "true" && e.Detail["suppressed"] == "7":
			summaries++
		case e.Detail["summary"] == "":
			one++
		}
	}
	if one != budget || summaries != 1 {
		t.Errorf("after stopping: %d refused authentications logged one by one and %d summaries of 7; want %d and 1", one, summaries, budget)
	}
	now := time.Now()
	if held, err := st.Lease(ctx, "notice-timers", "gateway-started-again", now, now.Add(time.Minute)); err != nil || !held {
		t.Errorf("the notice timers' lease after stopping: taken by another replica = %v, %v; want it free", held, err)
	}
	if held, err := st.AcquireLease(ctx, "aftercare/timers", "gateway-started-again", time.Minute); err != nil || !held {
		t.Errorf("the aftercare timers' lease after stopping: taken by another replica = %v, %v; want it free", held, err)
	}
}
