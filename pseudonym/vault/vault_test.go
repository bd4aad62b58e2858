package vault_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/liaison-gateway/liaison/pseudonym"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

// setup mounts a fresh Transit engine with the two keys.
func setup(t *testing.T, c *api.Client) string {
	t.Helper()
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(t.Context(), c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	return mount
}

func TestKeysLoadFromVault(t *testing.T) {
	c := vaulttest.Dev(t)
	mount := setup(t, c)
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := src.Keys(t.Context())
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	if ring.Current != 1 || len(ring.Versions[1]) != 32 || len(ring.Audit) != 32 {
		t.Fatalf("ring = current %d, %d versions, audit %d bytes; want version 1 and 32-byte keys", ring.Current, len(ring.Versions), len(ring.Audit))
	}
	p, err := pseudonym.New(t.Context(), pseudonym.Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Pseudonym("d1", "SYN-NL-0001")
	b, _ := p.Pseudonym("d2", "SYN-NL-0001")
	if a == b || a[:6] != "psn:1:" {
		t.Errorf("pseudonyms %q and %q: want version 1 and different per domain", a, b)
	}
	// A second gateway replica derives the same keys: pseudonyms agree.
	src2, _ := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	p2, err := pseudonym.New(t.Context(), pseudonym.Config{Source: src2})
	if err != nil {
		t.Fatal(err)
	}
	if a2, _ := p2.Pseudonym("d1", "SYN-NL-0001"); a2 != a {
		t.Errorf("two replicas disagree: %q vs %q", a, a2)
	}
	// A wrong mount is a clear error, not a silent fallback.
	bad, _ := vault.New(t.Context(), vault.Config{Client: c, Mount: "no-such-mount"})
	if _, err := pseudonym.New(t.Context(), pseudonym.Config{Source: bad}); err == nil {
		t.Error("keys loaded from a mount that does not exist")
	}
}

func TestRotationWithTransitionWindow(t *testing.T) {
	c := vaulttest.Dev(t)
	mount := setup(t, c)
	now := time.Now()
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount, TransitionWindow: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pseudonym.New(t.Context(), pseudonym.Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := p.Pseudonym("case/NL-ZVH-RTM-0042", "SYN-NL-0001")
	auditBefore, _ := p.AuditPseudonym("SYN-NL-0001")

	// liaison keys rotate: a new version, picked up on the next refresh.
	v, err := src.Rotate(t.Context())
	if err != nil || v != 2 {
		t.Fatalf("Rotate = %d, %v; want 2", v, err)
	}
	if err := p.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	cur, _ := p.Pseudonym("case/NL-ZVH-RTM-0042", "SYN-NL-0001")
	if p.CurrentVersion() != 2 || cur == old || cur[:6] != "psn:2:" {
		t.Fatalf("after rotation: version %d, pseudonym %q (was %q)", p.CurrentVersion(), cur, old)
	}
	// In the window the old version still resolves, to the same pseudonym.
	if again, err := p.PseudonymAt(1, "case/NL-ZVH-RTM-0042", "SYN-NL-0001"); err != nil || again != old {
		t.Errorf("version 1 in the window = %q, %v; want %q", again, err, old)
	}
	// After the window it is retired.
	now = now.Add(2 * time.Hour)
	if err := p.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err = p.PseudonymAt(1, "case/NL-ZVH-RTM-0042", "SYN-NL-0001")
	if kv, ok := errors.AsType[*pseudonym.KeyVersionError](err); !ok || kv.Version != 1 {
		t.Errorf("version 1 after the window: err = %v, want KeyVersionError{1}", err)
	}
	// Rotation done in Vault itself is picked up too.
	if _, err := c.Logical().Write(fmt.Sprintf("%s/keys/liaison-pseudonym/rotate", mount), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Reload(t.Context()); err != nil || p.CurrentVersion() != 3 {
		t.Errorf("after a Vault-side rotation: version %d, %v; want 3", p.CurrentVersion(), err)
	}
	// The audit domain does not rotate: auditors still find the subject.
	if after, _ := p.AuditPseudonym("SYN-NL-0001"); after != auditBefore {
		t.Errorf("audit pseudonym changed with rotation: %q -> %q", auditBefore, after)
	}
}

func TestServingThroughAVaultOutage(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client()
	mount := setup(t, c)
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pseudonym.New(t.Context(), pseudonym.Config{Source: src, Refresh: 100 * time.Millisecond, MaxStale: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	go p.Run(t.Context())
	before, _ := p.Pseudonym("d", "SYN-DK-0001")

	// Checked between the signal, when Vault stops answering, and its
	// exit, which takes half a second or more of the 2s bound.
	srv.Interrupt()
	stopped := time.Now()
	if got, err := p.Pseudonym("d", "SYN-DK-0001"); err != nil || got != before {
		t.Fatalf("within the staleness bound: %q, %v; want %q", got, err, before)
	}
	srv.Stop()
	for time.Since(stopped) < 3*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := p.Pseudonym("d", "SYN-DK-0001"); !errors.Is(err, pseudonym.ErrUnavailable) {
		t.Fatalf("past the staleness bound: err = %v, want ErrUnavailable", err)
	}
	if _, err := p.AuditPseudonym("SYN-DK-0001"); err != nil {
		t.Errorf("the audit pseudonym needs no fresh key: %v", err)
	}

	srv.Resume() // same storage, unsealed again: no gateway restart
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := p.Pseudonym("d", "SYN-DK-0001")
		if err == nil {
			if got != before {
				t.Errorf("after recovery: %q, want %q", got, before)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within 10s of Vault's return: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAppRoleLoginWithRenewal(t *testing.T) {
	root := vaulttest.Dev(t)
	mount := setup(t, root)
	authMount := vaulttest.Name("approle")
	if err := root.Sys().EnableAuthWithOptions(authMount, &api.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`path "%[1]s/keys/*" { capabilities = ["read", "update"] }
path "%[1]s/hmac/*" { capabilities = ["update"] }`, mount)
	pname := vaulttest.Name("liaison")
	if err := root.Sys().PutPolicy(pname, policy); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("auth/"+authMount+"/role/gateway", map[string]any{
		"token_policies": []string{pname}, "token_ttl": "3s", "token_max_ttl": "60s",
	}); err != nil {
		t.Fatal(err)
	}
	rid, err := root.Logical().Read("auth/" + authMount + "/role/gateway/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := root.Logical().Write("auth/"+authMount+"/role/gateway/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := root.Clone()
	if err != nil {
		t.Fatal(err)
	}
	c.ClearToken()
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount, Auth: vault.AppRoleAuth{
		Mount: authMount, RoleID: rid.Data["role_id"].(string), SecretID: sid.Data["secret_id"].(string),
	}})
	if err != nil {
		t.Fatalf("AppRole login: %v", err)
	}
	go src.Run(t.Context())
	// The token lives 3s; renewal must keep it alive well past that.
	time.Sleep(5 * time.Second)
	if _, err := src.Keys(t.Context()); err != nil {
		t.Fatalf("keys 5s after a 3s token was issued: %v (renewal failed)", err)
	}
}

// TestVersionsBelowMinEncryptionVersionAreRetired: Transit computes no
// HMAC under a version below the key's min_encryption_version, so such a
// version's master key cannot be derived. Setting it in Vault retires
// those versions, as min_decryption_version does, instead of failing
// every key load (and, past the staleness bound, every pseudonym).
func TestVersionsBelowMinEncryptionVersionAreRetired(t *testing.T) {
	c := vaulttest.Dev(t)
	mount := setup(t, c)
	for range 2 {
		if _, err := c.Logical().Write(mount+"/keys/liaison-pseudonym/rotate", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Logical().Write(mount+"/keys/liaison-pseudonym/config", map[string]any{"min_encryption_version": 2}); err != nil {
		t.Fatal(err)
	}
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := src.Keys(t.Context())
	if err != nil {
		t.Fatalf("Keys with min_encryption_version 2: %v", err)
	}
	if ring.Current != 3 || len(ring.Versions) != 2 || ring.Versions[2] == nil || ring.Versions[3] == nil {
		t.Errorf("ring: current %d, %d versions; want current 3 and versions 2 and 3", ring.Current, len(ring.Versions))
	}
}
