package audit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// digestOf is the content digest of s in its one spelling.
func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// newKey returns a fresh checkpoint signer and its verifier.
func newKey(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := audit.GenerateSignerKey(name)
	if err != nil {
		t.Fatalf("GenerateSignerKey(%q) = %v", name, err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// openStore opens a SQLite store in a temporary directory, closed when the
// test ends.
func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatalf("sqlite.Open() = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newLog returns a Log on cfg, filling in a SQLite store and a signer if
// cfg has none, and closes it when the test ends (before the store).
func newLog(t testing.TB, cfg audit.Config) *audit.Log {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = openStore(t)
	}
	if cfg.Signer == nil {
		cfg.Signer, _ = newKey(t, "audit.test")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l, err := audit.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.WithoutCancel(t.Context())); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return l
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// entry returns a distinct, valid entry.
func entry(i int) *audit.Entry {
	return &audit.Entry{
		Time:      t0.Add(time.Duration(i) * time.Second),
		Action:    "disclose",
		RequestID: fmt.Sprintf("req-%d", i),
		Requester: &audit.Requester{Agency: "police-nl", Officer: "officer-7"},
		Holder:    &audit.Party{Agency: "probation-nl"},
		Outcome:   "disclose",
	}
}

// countingStore is instrumentation around a real store: it counts and
// records the batches the Log hands over, and can hold the first Append
// until released.
type countingStore struct {
	audit.Store
	hold        chan struct{} // if not nil, the first Append waits until it is closed
	calls       atomic.Int64
	batchSizes  chan int // receives each batch's size; buffered by the test
	checkpoints atomic.Int64
}

func (c *countingStore) Append(ctx context.Context, batch []audit.Pending) (int64, error) {
	if c.calls.Add(1) == 1 && c.hold != nil {
		<-c.hold
	}
	if c.batchSizes != nil {
		c.batchSizes <- len(batch)
	}
	return c.Store.Append(ctx, batch)
}

func (c *countingStore) SaveCheckpoint(ctx context.Context, size int64, note []byte) error {
	c.checkpoints.Add(1)
	return c.Store.SaveCheckpoint(ctx, size, note)
}
