package audit_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// brokenSigner is a checkpoint signer that has stopped answering, as a
// key service can.
type brokenSigner struct{ name string }

func (s brokenSigner) Name() string    { return s.name }
func (s brokenSigner) KeyHash() uint32 { return 0 }
func (s brokenSigner) Sign(msg []byte) ([]byte, error) {
	return nil, errors.New("key service unavailable")
}

// TestStatsAfterReopen: a Log opened on a store that already holds a
// signed log reports that tree and that checkpoint from the start, and
// when it opened, so that a replica whose signer fails from its start is
// seen to sign nothing (its checkpoint age grows), and only the entries
// appended since count as unsigned.
func TestStatsAfterReopen(t *testing.T) {
	ctx := t.Context()
	store := openStore(t)
	signer, _ := newKey(t, "audit.test")
	first := newLogOn(t, audit.Config{Store: store, Signer: signer, CheckpointInterval: time.Hour})
	for i := range 5 {
		if _, err := first.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := first.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}

	opened := time.Now()
	l := newLogOn(t, audit.Config{Store: store, Signer: brokenSigner{"audit.test"}, CheckpointInterval: 10 * time.Millisecond})
	defer l.Close(ctx)                // its final checkpoint fails too
	time.Sleep(50 * time.Millisecond) // a few checkpoint attempts, all failed
	st := l.Stats()
	if st.TreeSize != 5 || st.CheckpointSize != 5 || !st.CheckpointTime.IsZero() {
		t.Errorf("reopened: tree size %d, checkpoint size %d at %v; want 5, 5 (the checkpoint found) and none signed", st.TreeSize, st.CheckpointSize, st.CheckpointTime)
	}
	if st.Opened.Before(opened.Add(-time.Second)) || st.Opened.After(time.Now()) {
		t.Errorf("Opened = %v, want when the Log was opened (about %v)", st.Opened, opened)
	}
	if _, err := l.Append(ctx, entry(5)); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.TreeSize != 6 || st.CheckpointSize != 5 {
		t.Errorf("after one append: tree size %d, checkpoint size %d; want 6 and 5 (one entry unsigned)", st.TreeSize, st.CheckpointSize)
	}
}

// newLogOn opens a Log the test closes itself.
func newLogOn(t *testing.T, cfg audit.Config) *audit.Log {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	l, err := audit.New(context.WithoutCancel(t.Context()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
