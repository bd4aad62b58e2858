package vaultsign_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/liaison-gateway/liaison/gateway/audit/vaultsign"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

// TestSignWithNoAnswerBody: a mount that is not Transit (a KV version 1
// engine holding what reads as an Ed25519 Transit key's description)
// answers the signing request 204 No Content, with no body. Sign now
// fails with an error naming the mount; it panicked (a nil pointer: the
// answer's Data read from no secret), in the checkpointer, taking the
// gateway down.
func TestSignWithNoAnswerBody(t *testing.T) {
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("kv")
	if err := c.Sys().MountWithContext(t.Context(), mount, &api.MountInput{Type: "kv", Options: map[string]string{"version": "1"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Sys().Unmount(mount) })
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().WriteWithContext(t.Context(), mount+"/keys/checkpoints", map[string]any{
		"type": "ed25519", "latest_version": 1, "keys": map[string]any{"1": map[string]any{"public_key": base64.StdEncoding.EncodeToString(pub)}},
	}); err != nil {
		t.Fatal(err)
	}
	s, err := vaultsign.New(t.Context(), c, mount, "checkpoints", "audit.liaison.example")
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Sign panicked on an answer with no body: %v", r)
			}
		}()
		_, serr = s.Sign([]byte("a checkpoint\n"))
	}()
	if serr == nil || !strings.Contains(serr.Error(), "no answer") || !strings.Contains(serr.Error(), mount) {
		t.Errorf("Sign = %v; want an error saying Vault gave no answer, naming the mount", serr)
	}
}
