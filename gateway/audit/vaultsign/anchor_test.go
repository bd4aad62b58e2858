package vaultsign_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/gateway/audit/vaultsign"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

// checkpointNote returns a checkpoint of size entries signed by a key of
// the test's own.
func checkpointNote(t *testing.T, s note.Signer, size int64) []byte {
	t.Helper()
	b, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "audit.liaison.example", Size: size}.String()}, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func localSigner(t *testing.T) note.Signer {
	t.Helper()
	skey, _, err := audit.GenerateSignerKey("audit.liaison.example")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAnchorInVault records checkpoints in the dev server's KV version 2
// engine (mounted at secret/).
func TestAnchorInVault(t *testing.T) {
	ctx := t.Context()
	c := vaulttest.Dev(t)
	path := vaulttest.Name("liaison-anchor")
	a := vaultsign.NewAnchor(c, "secret", path)
	t.Cleanup(func() { c.KVv2("secret").DeleteMetadata(context.WithoutCancel(ctx), path) })
	if got, err := a.Latest(ctx); got != nil || err != nil {
		t.Fatalf("Latest() of a new secret = %q, %v; want nil, nil", got, err)
	}
	s := localSigner(t)
	five, three, eight := checkpointNote(t, s, 5), checkpointNote(t, s, 3), checkpointNote(t, s, 8)
	for _, step := range []struct {
		size   int64
		signed []byte
		want   []byte
	}{{5, five, five}, {3, three, five}, {5, five, five}, {8, eight, eight}} {
		if err := a.Advance(ctx, step.size, step.signed); err != nil {
			t.Fatalf("Advance(%d) = %v", step.size, err)
		}
		if got, err := a.Latest(ctx); err != nil || !bytes.Equal(got, step.want) {
			t.Fatalf("after Advance(%d), Latest() = %q, %v; want %q", step.size, got, err, step.want)
		}
	}
	// Deleting the latest version does not reset it: that would let a
	// rolled-back database pass.
	if err := c.KVv2("secret").Delete(ctx, path); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Latest(ctx); err == nil || !strings.Contains(err.Error(), "deleted") {
		t.Errorf("Latest() after the secret's deletion = %q, %v; want an error saying it was deleted", got, err)
	}
	if err := a.Advance(ctx, 9, checkpointNote(t, s, 9)); err == nil {
		t.Error("Advance() over a deleted secret = nil, want an error")
	}
	// Removing its metadata does.
	if err := c.KVv2("secret").DeleteMetadata(ctx, path); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Latest(ctx); got != nil || err != nil {
		t.Errorf("Latest() after removing the secret = %q, %v; want nil, nil", got, err)
	}
}

// TestAnchorOnlyMovesForward has replicas advance one secret at once, in
// random orders: a reader never sees it move back, and it ends at the
// largest size.
func TestAnchorOnlyMovesForward(t *testing.T) {
	ctx := t.Context()
	c := vaulttest.Dev(t)
	path := vaulttest.Name("liaison-anchor")
	t.Cleanup(func() { c.KVv2("secret").DeleteMetadata(context.WithoutCancel(ctx), path) })
	s := localSigner(t)
	const replicas, sizes = 4, 25
	notes := make([][]byte, sizes+1)
	for i := range notes {
		notes[i] = checkpointNote(t, s, int64(i))
	}
	var wg sync.WaitGroup
	for range replicas {
		a := vaultsign.NewAnchor(c, "secret", path)
		order := rand.Perm(sizes + 1)
		wg.Go(func() {
			for _, n := range order {
				if err := a.Advance(ctx, int64(n), notes[n]); err != nil {
					t.Errorf("Advance(%d) = %v", n, err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	reader := vaultsign.NewAnchor(c, "secret", path)
	last, reads := int64(-1), 0
	for finished := false; !finished; reads++ {
		select {
		case <-done:
			finished = true
		default:
		}
		got, err := reader.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got == nil {
			continue
		}
		cp, err := audit.ParseCheckpoint(string(got[:bytes.Index(got, []byte("\n\n"))+1]))
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size < last {
			t.Fatalf("the anchor moved back from %d to %d", last, cp.Size)
		}
		last = cp.Size
	}
	if last != sizes {
		t.Errorf("the anchor ends at %d, want %d", last, sizes)
	}
	t.Logf("%d reads", reads)
}

// TestReplicasShareTheVaultAnchor runs two gateway logs on one PostgreSQL
// database with one Vault signer and the Vault anchor, as the replicas of
// a deployment do; a third starts on their store, and is refused once the
// store is rolled back.
func TestReplicasShareTheVaultAnchor(t *testing.T) {
	ctx := t.Context()
	c := vaulttest.Dev(t)
	dbURL := pgtest.NewDatabase(t)
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKey(ctx, c, mount, "liaison-audit"); err != nil { // mounts Transit
		t.Fatal(err)
	}
	if err := vaultsign.EnsureKey(ctx, c, mount, "checkpoints"); err != nil {
		t.Fatal(err)
	}
	path := vaulttest.Name("liaison-anchor")
	t.Cleanup(func() { c.KVv2("secret").DeleteMetadata(context.WithoutCancel(ctx), path) })

	replica := func() (*audit.Log, func(), error) {
		t.Helper()
		store, err := postgres.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := vaultsign.New(ctx, c, mount, "checkpoints", "audit.liaison.example")
		if err != nil {
			t.Fatal(err)
		}
		v, err := note.NewVerifier(signer.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		l, err := audit.New(ctx, audit.Config{Store: store, Signer: signer, Verifier: v, Anchor: vaultsign.NewAnchor(c, "secret", path),
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			store.Close()
			return nil, nil, err
		}
		return l, func() {
			if err := l.Close(context.WithoutCancel(ctx)); err != nil {
				t.Errorf("Close() = %v", err)
			}
			store.Close()
		}, nil
	}
	a, closeA, err := replica()
	if err != nil {
		t.Fatal(err)
	}
	b, closeB, err := replica()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for r, l := range []*audit.Log{a, b} {
		wg.Go(func() {
			for i := range 20 {
				e := &audit.Entry{Action: "disclose", Outcome: "disclose", RequestID: fmt.Sprintf("%d-%d", r, i)}
				if _, err := l.Append(ctx, e); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 4 {
					if _, _, err := l.Checkpoint(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	closeA()
	closeB()

	anchor := vaultsign.NewAnchor(c, "secret", path)
	got, err := anchor.Latest(ctx)
	if err != nil || got == nil {
		t.Fatalf("Latest() = %q, %v; want the last checkpoint", got, err)
	}
	if cp, _ := audit.ParseCheckpoint(string(got[:bytes.Index(got, []byte("\n\n"))+1])); cp.Size != 40 {
		t.Errorf("the anchor covers %d entries, want 40", cp.Size)
	}
	_, closeC, err := replica() // a restart
	if err != nil {
		t.Fatalf("a third replica on the same store: %v", err)
	}
	closeC()

	pgtest.Exec(t, dbURL, "DELETE FROM leaves WHERE idx >= 30", "DELETE FROM hashes WHERE idx >= 56", "DELETE FROM checkpoints WHERE size > 30")
	_, _, err = replica()
	if !errors.Is(err, audit.ErrTruncated) || !strings.Contains(err.Error(), "covers 40 entries, the store holds 30") || !strings.Contains(err.Error(), "Vault secret/"+path) {
		t.Errorf("a replica on the rolled-back store: %v; want a refusal naming the Vault anchor, 40 and 30", err)
	}
}
