package pseudonym

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestRestoredVersionsAreReported: a version below the previous current
// one that comes back into the ring (an operator lowers Vault's
// min_decryption_version after raising it) is reported to OnRestore, once,
// with the current version, and resolves again; a version above the
// previous current one is new, reported by OnRotate alone. Reload reported
// versions leaving the ring (OnRetire) and new current versions, but not
// versions coming back: pseudonyms of them started resolving again with
// no audit entry saying when.
func TestRestoredVersionsAreReported(t *testing.T) {
	ctx := t.Context()
	k := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	ring := func(cur int, vs ...int) *KeyRing {
		r := &KeyRing{Current: cur, Versions: map[int][]byte{}, Audit: k(9)}
		for _, v := range vs {
			r.Versions[v] = k(byte(v))
		}
		return r
	}
	var calls []string
	src := &rings{}
	src.r.Store(ring(2, 1, 2))
	p, err := New(ctx, Config{Source: src,
		OnRotate: func(_ context.Context, from, to int, r []int) {
			calls = append(calls, fmt.Sprint("rotate ", from, " ", to, " ring ", r))
		},
		OnRetire: func(_ context.Context, vs []int, cur int, r []int) {
			calls = append(calls, fmt.Sprint("retire ", vs, " ", cur, " ring ", r))
		},
		OnRestore: func(_ context.Context, vs []int, cur int, r []int) {
			calls = append(calls, fmt.Sprint("restore ", vs, " ", cur, " ring ", r))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	const domain, id = "case/NL-ZVH-RTM-0042", "SYN-NL-0001"
	v1, err := p.PseudonymAt(1, domain, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name string
		ring *KeyRing
		want []string
	}{
		{"version 1 retired", ring(2, 2), []string{"retire [1] 2 ring [2]"}},
		{"version 1 back", ring(2, 1, 2), []string{"restore [1] 2 ring [1 2]"}},
		{"no change", ring(2, 1, 2), nil},
		// 3 and 4 are new: a rotation that skipped a version, not a
		// restoration.
		{"rotated twice", ring(4, 1, 2, 3, 4), []string{"rotate 2 4 ring [1 2 3 4]"}},
		{"all but 4 retired", ring(4, 4), []string{"retire [1 2 3] 4 ring [4]"}},
		{"2 and 3 back, 1 not", ring(4, 2, 3, 4), []string{"restore [2 3] 4 ring [2 3 4]"}},
		// A ring rolled back to an earlier current version: 4 leaves, 1
		// comes back, and the rollback is a rotation.
		{"rolled back to 3", ring(3, 1, 2, 3), []string{"rotate 4 3 ring [1 2 3]", "retire [4] 3 ring [1 2 3]", "restore [1] 3 ring [1 2 3]"}},
	} {
		calls = nil
		src.r.Store(step.ring)
		if err := p.Reload(ctx); err != nil {
			t.Fatalf("%s: Reload: %v", step.name, err)
		}
		if !slices.Equal(calls, step.want) {
			t.Errorf("%s: hooks called %q; want %q", step.name, calls, step.want)
		}
		if step.name == "version 1 back" {
			if got, err := p.Resolve(domain, v1); err != nil || got != id {
				t.Errorf("Resolve(version 1) once it is back = %v, %v; want the subject", got == id, err)
			}
		}
	}
}
