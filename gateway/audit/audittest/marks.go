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
	SwapMarks(ctx context.Context, old, marks map[string]map[string][]byte) (bool, error)
}

// RunMarks exercises the trust marks of stores that also have Marks and
// SwapMark (authn.MarkStore): a mark is set only over the one the caller
// read (none, or the mark kept), also across store instances on one
// database and when they race; kinds and keys are independent; SwapMarks
// sets every mark of several kinds, or none, only over the marks read
// of each kind. newDB is as for [Run]. A store without them fails the
// test.
func RunMarks(t *testing.T, newDB func(t *testing.T) OpenFunc) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, open OpenFunc)
	}{
		{"SwapOverTheMarkRead", testSwapMark},
		{"ConcurrentSwapsHaveOneWinner", testSwapMarkRace},
		{"SwapMarksAllOrNone", testSwapMarks},
		{"ConcurrentSwapMarksHaveOneWinner", testSwapMarksRace},
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
		winner := oneWinner(t, r, callers, func(c int) (bool, error) {
			return stores[c%len(stores)].SwapMark(t.Context(), "crl", "race", old, fmt.Appendf(nil, "%d-%d", r, c))
		})
		old = fmt.Appendf(nil, "%d-%d", r, winner)
		if got := mustMarks(t, stores[1], "crl")["race"]; string(got) != string(old) {
			t.Fatalf("round %d: the mark kept is %q, want the winner's %q", r, got, old)
		}
	}
}

// oneWinner runs swap for callers 0 to n-1 at once, in round r, and
// returns the one caller whose swap was done: it fails the test if none
// or more than one was, or a swap failed.
func oneWinner(t *testing.T, r, n int, swap func(c int) (bool, error)) int {
	t.Helper()
	won := make([]bool, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for c := range n {
		wg.Go(func() {
			<-start
			done, err := swap(c)
			if err != nil {
				t.Errorf("round %d: the swap by caller %d = %v", r, c, err)
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
			t.Fatalf("round %d: callers %d and %d both swapped over the same marks", r, winner, c)
		}
		if w {
			winner = c
		}
	}
	if winner < 0 {
		t.Fatalf("round %d: no caller swapped", r)
	}
	return winner
}

type kindMarks = map[string]map[string][]byte

func mustSwapMarks(t *testing.T, m marker, old, marks kindMarks) bool {
	t.Helper()
	done, err := m.SwapMarks(t.Context(), old, marks)
	if err != nil {
		t.Fatalf("SwapMarks(%q, %q) = %v", old, marks, err)
	}
	return done
}

// testSwapMarks: the marks of two kinds move together, over the marks
// read of each; a swap that finds one of them changed, by a swap of one
// mark of another store meanwhile, sets none, the other kind's included.
func testSwapMarks(t *testing.T, open OpenFunc) {
	a, b := openMarker(t, open), openMarker(t, open)
	want := func(who string, m marker, crl, deny map[string]string) {
		t.Helper()
		for kind, w := range map[string]map[string]string{"crl": crl, "deny": deny} {
			got := mustMarks(t, m, kind)
			if len(got) != len(w) {
				t.Errorf("%s: Marks(%s) = %q, want %q", who, kind, got, w)
				continue
			}
			for k, v := range w {
				if string(got[k]) != v {
					t.Errorf("%s: Marks(%s) = %q, want %q", who, kind, got, w)
				}
			}
		}
	}
	// None kept: a first swap of both kinds, over none read.
	if !mustSwapMarks(t, a, kindMarks{"crl": {}, "deny": {}}, kindMarks{"crl": {"i1": []byte("c1")}, "deny": {"d": []byte("v1")}}) {
		t.Fatal("SwapMarks over no marks, none kept = false, want true")
	}
	want("the first swap", b, map[string]string{"i1": "c1"}, map[string]string{"d": "v1"})
	// A kind old lacks is compared as none kept.
	if mustSwapMarks(t, a, kindMarks{"crl": {"i1": []byte("c1")}}, kindMarks{"crl": {"i1": []byte("c2")}, "deny": {"d": []byte("v2")}}) {
		t.Error("SwapMarks over no deny mark, one kept = true, want false")
	}
	want("a swap over no deny mark", b, map[string]string{"i1": "c1"}, map[string]string{"d": "v1"})
	// The marks read; another store then moves the deny mark: the swap
	// of both sets neither.
	read := kindMarks{"crl": mustMarks(t, a, "crl"), "deny": mustMarks(t, a, "deny")}
	if !mustSwap(t, b, "deny", "d", []byte("v1"), []byte("v3")) {
		t.Fatal("the second store's SwapMark over the mark kept = false, want true")
	}
	if mustSwapMarks(t, a, read, kindMarks{"crl": {"i1": []byte("c2")}, "deny": {"d": []byte("v2")}}) {
		t.Error("SwapMarks over a deny mark moved since the read = true, want false")
	}
	want("a swap over a moved deny mark", b, map[string]string{"i1": "c1"}, map[string]string{"d": "v3"})
	// A mark of the kind more than those read (another issuer's) is a
	// change too, and so is one fewer.
	if !mustSwap(t, b, "crl", "i2", nil, []byte("other")) {
		t.Fatal("the second store's SwapMark of a new key = false, want true")
	}
	if mustSwapMarks(t, a, kindMarks{"crl": {"i1": []byte("c1")}, "deny": {"d": []byte("v3")}}, kindMarks{"crl": {"i1": []byte("c2")}}) {
		t.Error("SwapMarks over fewer marks than kept = true, want false")
	}
	if mustSwapMarks(t, a, kindMarks{"crl": {"i1": []byte("c1"), "i2": []byte("other"), "i3": []byte("gone")}}, kindMarks{"crl": {"i1": []byte("c2")}}) {
		t.Error("SwapMarks over more marks than kept = true, want false")
	}
	want("swaps over other marks than kept", b, map[string]string{"i1": "c1", "i2": "other"}, map[string]string{"d": "v3"})
	// Over the marks kept, both kinds move; a mark old holds but marks
	// does not set stays.
	read = kindMarks{"crl": mustMarks(t, a, "crl"), "deny": mustMarks(t, a, "deny")}
	if !mustSwapMarks(t, a, read, kindMarks{"crl": {"i1": []byte("c2")}, "deny": {"d": []byte("v4")}}) {
		t.Error("SwapMarks over the marks kept = false, want true")
	}
	want("a swap over the marks kept", b, map[string]string{"i1": "c2", "i2": "other"}, map[string]string{"d": "v4"})
}

// testSwapMarksRace: swaps of two kinds over the same marks read, from
// two stores at once, have one winner, whose marks are all kept.
func testSwapMarksRace(t *testing.T, open OpenFunc) {
	stores := []marker{openMarker(t, open), openMarker(t, open)}
	const rounds, callers = 10, 4
	old := kindMarks{"crl": {}, "deny": {}}
	for r := range rounds {
		winner := oneWinner(t, r, callers, func(c int) (bool, error) {
			mark := fmt.Appendf(nil, "%d-%d", r, c)
			return stores[c%len(stores)].SwapMarks(t.Context(), old, kindMarks{"crl": {"i": mark}, "deny": {"d": mark}})
		})
		mark := fmt.Appendf(nil, "%d-%d", r, winner)
		old = kindMarks{"crl": {"i": mark}, "deny": {"d": mark}}
		for kind, key := range map[string]string{"crl": "i", "deny": "d"} {
			if got := mustMarks(t, stores[1], kind)[key]; string(got) != string(mark) {
				t.Fatalf("round %d: the %s mark kept is %q, want the winner's %q", r, kind, got, mark)
			}
		}
	}
}
