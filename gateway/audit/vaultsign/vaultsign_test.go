package vaultsign_test

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/audit/vaultsign"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

func TestCheckpointsSignedInVault(t *testing.T) {
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKey(t.Context(), c, mount, "liaison-audit"); err != nil { // mounts Transit
		t.Fatal(err)
	}
	if err := vaultsign.EnsureKey(t.Context(), c, mount, "checkpoints"); err != nil {
		t.Fatal(err)
	}
	s, err := vaultsign.New(t.Context(), c, mount, "checkpoints", "audit.liaison.example")
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log, err := audit.New(t.Context(), audit.Config{Store: store, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close(t.Context())
	for i := range 5 {
		e := &audit.Entry{Action: "disclose", Outcome: "disclose", Justification: string(rune('a' + i))}
		if _, err := log.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	leaves, _ := store.ReadLeaves(t.Context(), 0, 5)
	_, signed, err := log.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(s.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := audit.VerifyLeaves(leaves, signed, v); err != nil || n != 5 {
		t.Fatalf("VerifyLeaves with the Vault key = %d, %v", n, err)
	}
	// And only with it.
	_, other, _ := audit.GenerateSignerKey("audit.liaison.example")
	ov, _ := note.NewVerifier(other)
	if _, err := audit.VerifyLeaves(leaves, signed, ov); err == nil {
		t.Error("a checkpoint signed in Vault verified under another key")
	}
}

// TestSignRefusesAReplacedKey: the Transit key deleted and made again
// under the same name signs with another key; Sign fails rather than
// give a checkpoint that the verifier key auditors hold cannot verify.
func TestSignRefusesAReplacedKey(t *testing.T) {
	ctx := t.Context()
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKey(ctx, c, mount, "liaison-audit"); err != nil { // mounts Transit
		t.Fatal(err)
	}
	if err := vaultsign.EnsureKey(ctx, c, mount, "checkpoints"); err != nil {
		t.Fatal(err)
	}
	s, err := vaultsign.New(ctx, c, mount, "checkpoints", "audit.liaison.example")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("audit.liaison.example\n1\nAAAA\n")
	if _, err := s.Sign(msg); err != nil {
		t.Fatalf("Sign with the key as at New: %v", err)
	}
	if _, err := c.Logical().WriteWithContext(ctx, mount+"/keys/checkpoints/config", map[string]any{"deletion_allowed": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().DeleteWithContext(ctx, mount+"/keys/checkpoints"); err != nil {
		t.Fatal(err)
	}
	if err := vaultsign.EnsureKey(ctx, c, mount, "checkpoints"); err != nil {
		t.Fatal(err)
	}
	if sig, err := s.Sign(msg); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("Sign with a replaced key = %x, %v; want an error", sig, err)
	}
}
