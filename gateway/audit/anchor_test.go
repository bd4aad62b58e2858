package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// signedCheckpoint returns a checkpoint of size entries (with a made-up
// root) signed by signer.
func anchorNote(t *testing.T, signer note.Signer, origin string, size int64) []byte {
	t.Helper()
	b, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: origin, Size: size}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileAnchor(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "signer.key.checkpoint")
	a := audit.NewFileAnchor(path)
	if got, err := a.Latest(ctx); got != nil || err != nil {
		t.Fatalf("Latest() without a file = %q, %v; want nil, nil", got, err)
	}
	signer, _ := newKey(t, "audit.test")
	five, three, eight := anchorNote(t, signer, "audit.test", 5), anchorNote(t, signer, "audit.test", 3), anchorNote(t, signer, "audit.test", 8)
	for _, step := range []struct {
		size   int64
		signed []byte
		want   []byte
	}{{5, five, five}, {3, three, five}, {5, five, five}, {8, eight, eight}} {
		if err := a.Advance(ctx, step.size, step.signed); err != nil {
			t.Fatalf("Advance(%d) = %v", step.size, err)
		}
		got, err := a.Latest(ctx)
		if err != nil || !bytes.Equal(got, step.want) {
			t.Fatalf("after Advance(%d), Latest() = %q, %v; want %q", step.size, got, err, step.want)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, step.want) {
			t.Fatalf("after Advance(%d), the file holds %q, want %q", step.size, b, step.want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the directory holds %d files, want the anchor alone (no temporary files left)", len(ents))
	}
	if err := a.Advance(ctx, 9, []byte("not a note")); err == nil {
		t.Error("Advance(not a note) = nil, want an error")
	}
	if err := os.WriteFile(path, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.Advance(ctx, 9, anchorNote(t, signer, "audit.test", 9)); err == nil {
		t.Error("Advance() over a file it cannot parse = nil, want an error (an operator should look)")
	}
	if b, _ := os.ReadFile(path); string(b) != "garbage\n" {
		t.Errorf("Advance() replaced a file it could not parse")
	}
}

// TestCheckpointsAreAnchored checks that every checkpoint the Log signs is
// in the anchor before it is served, and that a restart is accepted.
func TestCheckpointsAreAnchored(t *testing.T) {
	ctx := t.Context()
	store := openStore(t)
	signer, verifier := newKey(t, "audit.test")
	anchor := audit.NewFileAnchor(filepath.Join(t.TempDir(), "anchor"))
	cfg := audit.Config{Store: store, Signer: signer, Verifier: verifier, Anchor: anchor, Logger: slog.New(slog.DiscardHandler)}
	l, err := audit.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := l.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
		size, signed, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := anchor.Latest(ctx)
		if !bytes.Equal(got, signed) || size != int64(i+1) {
			t.Fatalf("after checkpoint %d the anchor holds %q, want %q", size, got, signed)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l, err = audit.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New() on the same store and anchor = %v, want nil", err)
	}
	l.Close(ctx)
}

// TestFirstStartWithAnchor opens a log that ran without an anchor: the
// store's latest checkpoint is recorded in the anchor if it is signed by
// the log's key, and a rollback is caught from then on.
func TestFirstStartWithAnchor(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	signer, verifier := newKey(t, "audit.test")
	oldSigner, _ := newKey(t, "audit.test")
	open := func(t *testing.T, s note.Signer, anchor audit.Anchor) (*audit.Log, func()) {
		t.Helper()
		store, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		l, err := audit.New(ctx, audit.Config{Store: store, Signer: s, Verifier: verifier, Anchor: anchor, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			store.Close()
			t.Fatalf("New() = %v", err)
		}
		return l, func() { l.Close(ctx); store.Close() }
	}
	// A run with another key and no anchor.
	l, done := open(t, oldSigner, nil)
	for i := range 6 {
		if _, err := l.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	done() // signs a checkpoint of 6 with the old key

	// Not signed by the log's key: not recorded.
	anchor := audit.NewFileAnchor(filepath.Join(t.TempDir(), "anchor"))
	l, done = open(t, signer, anchor)
	if got, _ := anchor.Latest(ctx); got != nil {
		t.Errorf("the anchor recorded a checkpoint that the verifier refuses: %q", got)
	}
	if _, err := l.Append(ctx, entry(6)); err != nil {
		t.Fatal(err)
	}
	done() // signs a checkpoint of 7 with the log's key

	// A first start with a new anchor: the store's checkpoint of 7 is
	// recorded.
	anchor = audit.NewFileAnchor(filepath.Join(t.TempDir(), "anchor2"))
	_, done = open(t, signer, anchor)
	got, _ := anchor.Latest(ctx)
	done()
	if cp, err := audit.OpenCheckpoint(got, verifier); err != nil || cp.Size != 7 {
		t.Fatalf("the anchor holds %q (%v), want the store's checkpoint of 7 entries", got, err)
	}

	rawExec(t, path, "DELETE FROM leaves WHERE idx >= 4", "DELETE FROM checkpoints")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, err = audit.New(ctx, audit.Config{Store: store, Signer: signer, Anchor: anchor, Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, audit.ErrTruncated) || !strings.Contains(err.Error(), "covers 7 entries, the store holds 4") {
		t.Errorf("New() after a rollback = %v, want ErrTruncated saying 7 and 4", err)
	}
}

// TestCheckpointRefusedAfterLiveRollback rolls the store back under an
// open Log: it refuses to sign a checkpoint that would contradict the
// anchored one.
func TestCheckpointRefusedAfterLiveRollback(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "audit.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	signer, _ := newKey(t, "audit.test")
	anchor := audit.NewFileAnchor(filepath.Join(t.TempDir(), "anchor"))
	l, err := audit.New(ctx, audit.Config{Store: store, Signer: signer, Anchor: anchor, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.WithoutCancel(ctx))
	for i := range 5 {
		if _, err := l.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := anchor.Latest(ctx)
	rawExec(t, path, "DELETE FROM leaves WHERE idx >= 2", "DELETE FROM hashes WHERE idx >= 3")
	for i := range 5 { // the log grows past its old size again
		if _, err := l.Append(ctx, entry(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := l.Checkpoint(ctx); !errors.Is(err, audit.ErrFork) {
		t.Errorf("Checkpoint() after a rollback and new entries = %v, want ErrFork", err)
	}
	if after, _ := anchor.Latest(ctx); !bytes.Equal(after, before) {
		t.Error("the anchor moved to a checkpoint of a rewritten store")
	}
	// Nor does a receipt get a checkpoint of the rewritten tree: the log's
	// key would sign a fork of what it signed and recorded before.
	if r, err := l.Receipt(ctx, 6, "dk-police-aarhus", digestOf("abc")); !errors.Is(err, audit.ErrFork) {
		var size int64
		if r != nil {
			size = r.Body.TreeSize
		}
		t.Errorf("Receipt(6) after a rollback and new entries = checkpoint of size %d, %v; want ErrFork", size, err)
	}
}

// TestAnchorOfAnotherLog refuses an anchor that holds another log's
// checkpoint.
func TestAnchorOfAnotherLog(t *testing.T) {
	ctx := t.Context()
	signer, _ := newKey(t, "audit.test")
	anchor := audit.NewFileAnchor(filepath.Join(t.TempDir(), "anchor"))
	if err := anchor.Advance(ctx, 0, anchorNote(t, signer, "audit.other", 0)); err != nil {
		t.Fatal(err)
	}
	l, err := audit.New(ctx, audit.Config{Store: openStore(t), Signer: signer, Anchor: anchor, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		l.Close(ctx)
		t.Fatal("New() with another log's checkpoint in the anchor = nil, want an error")
	}
	if !strings.Contains(err.Error(), `"audit.other"`) {
		t.Errorf("New() = %v, want it to name the other log", err)
	}
}

// rawExec runs statements on a SQLite database file through a connection
// of its own, as someone with access to the file would.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
