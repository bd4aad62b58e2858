package audittest

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// marker is the trust marks that stores may also keep, as
// authn.MarkStore (this package does not import authn).
type marker interface {
	Marks(ctx context.Context, kind string) (map[string][]byte, error)
	SwapMark(ctx context.Context, kind, key string, old, mark []byte) (bool, error)
}

// RunMarks exercises the trust marks of stores that also have Marks and
// SwapMark (authn.MarkStore): a mark is set only over the one the caller
// read (none, or the mark kept), also across store instances on one
// database and when they race; kinds and keys are independent. newDB is
// as for [Run]. A store without them fails the test.
func RunMarks(t *testing.T, newDB func(t *testing.T) OpenFunc) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, open OpenFunc)
	}{
		{"SwapOverTheMarkRead", testSwapMark},
		{"ConcurrentSwapsHaveOneWinner", testSwapMarkRace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, newDB(t))
		})
	}
}

func openMarker(t *testing.T, open OpenFunc) marker {
	t.Helper()
	s := openStore(t, open)
	m, ok := s.(marker)
	if !ok {
		t.Fatalf("%T has no Marks and SwapMark; RunMarks is for stores that keep trust marks", s)
	}
	return m
}

func mustSwap(t *testing.T, m marker, kind, key string, old, mark []byte) bool {
	t.Helper()
	done, err := m.SwapMark(t.Context(), kind, key, old, mark)
	if err != nil {
		t.Fatalf("SwapMark(%s, %s, %q, %q) = %v", kind, key, old, mark, err)
	}
	return done
}

func mustMarks(t *testing.T, m marker, kind string) map[string][]byte {
	t.Helper()
	got, err := m.Marks(t.Context(), kind)
	if err != nil {
		t.Fatalf("Marks(%s) = %v", kind, err)
	}
	return got
}

func testSwapMark(t *testing.T, open OpenFunc) {
	a := openMarker(t, open)
	if got := mustMarks(t, a, "crl"); len(got) != 0 {
		t.Fatalf("Marks of a new store = %q, want none", got)
	}
	for _, c := range []struct {
		name      string
		key       string
		old, mark string // "" for nil old
		want      bool
	}{
		{"a first mark", "k1", "", "one", true},
		{"a first mark again", "k1", "", "two", false},
		{"over a mark not kept", "k1", "zero", "two", false},
		{"over the mark kept", "k1", "one", "two", true},
		{"over the mark kept before", "k1", "one", "three", false},
		{"another key", "k2", "", "other", true},
	} {
		var old []byte
		if c.old != "" {
			old = []byte(c.old)
		}
		if got := mustSwap(t, a, "crl", c.key, old, []byte(c.mark)); got != c.want {
			t.Errorf("%s: SwapMark = %v, want %v", c.name, got, c.want)
		}
	}
	want := map[string]string{"k1": "two", "k2": "other"}
	check := func(who string, m marker) {
		got := mustMarks(t, m, "crl")
		if len(got) != len(want) || string(got["k1"]) != want["k1"] || string(got["k2"]) != want["k2"] {
			t.Errorf("%s: Marks(crl) = %q, want %q", who, got, want)
		}
		if other := mustMarks(t, m, "other"); len(other) != 0 {
			t.Errorf("%s: Marks(other) = %q, want none: kinds are independent", who, other)
		}
	}
	check("the store", a)
	// Another instance on the same database shares the marks.
	b := openMarker(t, open)
	check("a second store", b)
	if !mustSwap(t, b, "crl", "k1", []byte("two"), []byte("four")) {
		t.Error("a second store: SwapMark over the mark kept = false, want true")
	}
	if mustSwap(t, a, "crl", "k1", []byte("two"), []byte("five")) {
		t.Error("SwapMark over the mark the second store replaced = true, want false")
	}
}

func testSwapMarkRace(t *testing.T, open OpenFunc) {
	stores := []marker{openMarker(t, open), openMarker(t, open)}
	const rounds, callers = 10, 4 // callers per round, spread over both stores
	var old []byte
	for r := range rounds {
		won := make([]bool, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for c := range callers {
			wg.Go(func() {
				<-start
				done, err := stores[c%len(stores)].SwapMark(t.Context(), "crl", "race", old, fmt.Appendf(nil, "%d-%d", r, c))
				if err != nil {
					t.Errorf("round %d: SwapMark by caller %d = %v", r, c, err)
				}
				won[c] = done
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		winner := -1
		for c, w := range won {
			if w && winner >= 0 {
				t.Fatalf("round %d: callers %d and %d both swapped over the same mark", r, winner, c)
			}
			if w {
				winner = c
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no caller swapped", r)
		}
		old = fmt.Appendf(nil, "%d-%d", r, winner)
		if got := mustMarks(t, stores[1], "crl")["race"]; string(got) != string(old) {
			t.Fatalf("round %d: the mark kept is %q, want the winner's %q", r, got, old)
		}
	}
}
