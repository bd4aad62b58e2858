package vault_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

// TestDeriveWithNoAnswerBody: a mount that is not Transit (here a KV
// version 1 engine holding what reads as a Transit key's description, as
// a -vault-mount naming the wrong engine might) answers the HMAC request
// 204 No Content, with no body. Keys now fails with an error naming the
// mount, the key and the version; it panicked (a nil pointer: the
// answer's Data read from no secret), taking the gateway down at start or
// on its next key refresh.
func TestDeriveWithNoAnswerBody(t *testing.T) {
	c := vaulttest.Dev(t)
	mount := vaulttest.Name("kv")
	if err := c.Sys().MountWithContext(t.Context(), mount, &api.MountInput{Type: "kv", Options: map[string]string{"version": "1"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Sys().Unmount(mount) })
	for _, key := range []string{"liaison-pseudonym", "liaison-audit"} {
		if _, err := c.Logical().WriteWithContext(t.Context(), mount+"/keys/"+key, map[string]any{
			"latest_version": 1, "min_decryption_version": 1, "keys": map[string]any{"1": time.Now().Unix()},
		}); err != nil {
			t.Fatal(err)
		}
	}
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	var kerr error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Keys panicked on an answer with no body: %v", r)
			}
		}()
		_, kerr = src.Keys(t.Context())
	}()
	if kerr == nil || !strings.Contains(kerr.Error(), "no answer") || !strings.Contains(kerr.Error(), mount) {
		t.Errorf("Keys = %v; want an error saying Vault gave no answer, naming the mount", kerr)
	}
}
