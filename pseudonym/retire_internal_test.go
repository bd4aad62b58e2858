package pseudonym

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// rings is a KeySource that serves the ring it is given.
type rings struct{ r atomic.Pointer[KeyRing] }

func (s *rings) Keys(context.Context) (*KeyRing, error) { return s.r.Load(), nil }

// TestRetiredVersionNotCachedBack: a call that loaded the ring before a
// reload retired version 1 derives version 1's keys after the reload
// cleared the cache (the race of a request in flight during a rotation).
// Those keys are not kept: afterwards, version 1 is refused, as the ring
// says, and nothing of it stays in the cache.
func TestRetiredVersionNotCachedBack(t *testing.T) {
	ctx := t.Context()
	k := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	src := &rings{}
	src.r.Store(&KeyRing{Current: 2, Versions: map[int][]byte{1: k(1), 2: k(2)}, Audit: k(9)})
	p, err := New(ctx, Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	before, err := p.PseudonymAt(1, "d", "SYN-DK-0001")
	if err != nil {
		t.Fatal(err)
	}
	inFlight := p.ring.Load()

	src.r.Store(&KeyRing{Current: 2, Versions: map[int][]byte{2: k(2), 3: k(3)}, Audit: k(9)})
	if err := p.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// The call in flight finishes under the ring it loaded.
	if _, err := p.pseudonym(inFlight, 1, "d", "SYN-DK-0001"); err != nil {
		t.Fatalf("the call in flight, under the ring it loaded: %v", err)
	}
	got, err := p.PseudonymAt(1, "d", "SYN-DK-0001")
	if kv, ok := errors.AsType[*KeyVersionError](err); !ok || kv.Version != 1 {
		t.Errorf("version 1 after it was retired: %q, %v; want a KeyVersionError for version 1 (it made %q before)", got, err, before)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.domains {
		if id.version == 1 {
			t.Errorf("version 1's keys for domain %q are cached after its retirement", id.domain)
		}
	}
}
