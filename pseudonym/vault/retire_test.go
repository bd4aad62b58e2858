package vault_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/pseudonym"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

// TestRetirementLeavesHandedOutRingsWhole: when a version retired, Keys
// zeroed its master key in place, in the ring it had handed out before,
// which a Pseudonymizer still held (until its swap, or, sharing the
// source, until its own next reload): a pseudonym made or resolved under
// that version then used an all-zero master key, one anyone knows, so
// that such a pseudonym was reversible without the key, and a real one
// no longer resolved. The KeySource contract says a version's bytes are
// the same every time; a ring handed out stays whole now.
func TestRetirementLeavesHandedOutRingsWhole(t *testing.T) {
	ctx := t.Context()
	c := vaulttest.Dev(t)
	mount := setup(t, c)
	now := time.Now()
	src, err := vault.New(ctx, vault.Config{Client: c, Mount: mount, TransitionWindow: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := src.Keys(ctx)
	if err != nil || len(before.Versions) != 2 {
		t.Fatalf("Keys in the window: %v, %v; want versions 1 and 2", before, err)
	}
	v1 := bytes.Clone(before.Versions[1])
	// Two replicas on the source, both in the window.
	a, err := pseudonym.New(ctx, pseudonym.Config{Source: src, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	b, err := pseudonym.New(ctx, pseudonym.Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	want, err := b.PseudonymAt(1, "d-warm", "SYN-NL-0001")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour) // version 1 retires; replica a reloads first
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.Versions[1], v1) {
		t.Errorf("a ring handed out before version 1 retired: its version 1 key changed (zeroed: %v)", bytes.Equal(before.Versions[1], make([]byte, 32)))
	}
	ps, err := b.PseudonymAt(1, "d-cold", "SYN-NL-0001")
	if err != nil {
		t.Fatal(err)
	}
	if id, err := b.Resolve("d-cold", ps); err != nil || id != "SYN-NL-0001" {
		t.Errorf("replica b's version 1 pseudonym does not resolve: %v", err)
	}
	zero, err := pseudonym.New(ctx, pseudonym.Config{Source: fixedRing{&pseudonym.KeyRing{Current: 1,
		Versions: map[int][]byte{1: make([]byte, 32)}, Audit: make([]byte, 32)}}})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := zero.Resolve("d-cold", ps); err == nil {
		t.Errorf("replica b's version 1 pseudonym resolves with an all-zero key (to %d bytes)", len(id))
	}
	if again, _ := b.PseudonymAt(1, "d-warm", "SYN-NL-0001"); again != want {
		t.Errorf("replica b's version 1 pseudonym changed")
	}
}

type fixedRing struct{ r *pseudonym.KeyRing }

func (f fixedRing) Keys(context.Context) (*pseudonym.KeyRing, error) { return f.r, nil }
