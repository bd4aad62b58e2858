package gateway

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// TestAwaitingPeerClearedWithoutLease: a replica that left
// acknowledgements waiting for a peer gateway and then finds another
// replica holding the timers' leases reports none waiting (the metric
// liaison_acknowledgements_awaiting_peer is 0 on a replica without the
// lease, and operators take the max across replicas): the other replica
// forwards them now, and what this one last saw would otherwise stay, and
// its age grow, for as long as it runs.
func TestAwaitingPeerClearedWithoutLease(t *testing.T) {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	key, _, err := audit.LoadOrCreateSignerKey(filepath.Join(t.TempDir(), "audit.key"), "test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.New(ctx, audit.Config{Store: store, Signer: key, CheckpointInterval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close(context.WithoutCancel(ctx))

	// Another replica holds both leases.
	now := time.Now().UTC()
	if held, err := alog.Lease(ctx, timerLease, "other", now, now.Add(time.Hour)); err != nil || !held {
		t.Fatalf("the other replica's timer lease: %v, %v", held, err)
	}
	if held, err := store.AcquireLease(ctx, aftercareLease, "gateway-other", time.Hour); err != nil || !held {
		t.Fatalf("the other replica's aftercare lease: %v, %v", held, err)
	}

	s := &Server{
		cfg:     Config{Audit: alog, Aftercare: store, TimerInterval: time.Minute, TimerLease: 2 * time.Minute, Now: time.Now},
		log:     slog.New(slog.DiscardHandler),
		replica: "this", holderID: "gateway-this",
	}
	// What this replica's last passes, while it held the leases, left.
	for _, kind := range []string{kindRequiredNotice, kindObligationNotice} {
		s.awaitingPeer.set(kind, awaiting{n: 3, oldest: now.Add(-2 * time.Hour)})
	}
	if held, err := s.RunTimers(ctx); err != nil || held {
		t.Fatalf("RunTimers = %v, %v; want the lease held elsewhere", held, err)
	}
	if err := s.RunAftercare(ctx); err != nil {
		t.Fatalf("RunAftercare = %v", err)
	}
	for _, kind := range []string{kindRequiredNotice, kindObligationNotice} {
		if a := s.awaitingPeer.get(kind); a.n != 0 {
			t.Errorf("%s: %d acknowledgements awaiting a peer since %v on a replica without the lease; want 0", kind, a.n, a.oldest)
		}
	}
}
