package audittest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// rememberer is the replay set that stores may also keep, as
// authn.ReplayStore (this package does not import authn).
type rememberer interface {
	Remember(ctx context.Context, id, binding [32]byte, expires time.Time) (first [32]byte, err error)
}

// RunReplay exercises the token-id replay set of stores that also have
//
//	Remember(ctx context.Context, id, binding [32]byte, expires time.Time) (first [32]byte, err error)
//
// (authn.ReplayStore): the first binding recorded for an id wins until it
// expires, also across store instances on one database and when they race.
// newDB is as for [Run]. A store without Remember fails the test.
func RunReplay(t *testing.T, newDB func(t *testing.T) OpenFunc) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, open OpenFunc)
	}{
		{"FirstBindingWins", testFirstBinding},
		{"ExpiredIDCanBeRebound", testRebind},
		{"ConcurrentRememberHasOneWinner", testRememberRace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, newDB(t))
		})
	}
}

// openRememberer opens a store and asserts that it has Remember.
func openRememberer(t *testing.T, open OpenFunc) rememberer {
	t.Helper()
	s := openStore(t, open)
	r, ok := s.(rememberer)
	if !ok {
		t.Fatalf("%T has no Remember method; RunReplay is for stores that keep a replay set", s)
	}
	return r
}

// key returns a distinct 32-byte value for a name.
func key(name string) [32]byte {
	var k [32]byte
	copy(k[:], name)
	return k
}

func mustRemember(t *testing.T, r rememberer, id, binding [32]byte, expires time.Time) [32]byte {
	t.Helper()
	first, err := r.Remember(t.Context(), id, binding, expires)
	if err != nil {
		t.Fatalf("Remember(%q, %q) = %v", id[:8], binding[:8], err)
	}
	return first
}

func testFirstBinding(t *testing.T, open OpenFunc) {
	a := openRememberer(t, open)
	future := time.Now().Add(time.Hour)
	id, other := key("jti-1"), key("jti-2")
	b1, b2, b3 := key("cert-1"), key("cert-2"), key("cert-3")
	if got := mustRemember(t, a, id, b1, future); got != b1 {
		t.Errorf("Remember(new id, cert-1) = %q, want cert-1", got[:8])
	}
	if got := mustRemember(t, a, id, b2, future); got != b1 {
		t.Errorf("Remember(known id, cert-2) = %q, want the first binding cert-1", got[:8])
	}
	if got := mustRemember(t, a, id, b1, future); got != b1 {
		t.Errorf("Remember(known id, cert-1 again) = %q, want cert-1", got[:8])
	}
	if got := mustRemember(t, a, other, b2, future); got != b2 {
		t.Errorf("Remember(another id, cert-2) = %q, want cert-2: ids are independent", got[:8])
	}
	// Another instance on the same database shares the set.
	b := openRememberer(t, open)
	if got := mustRemember(t, b, id, b3, future); got != b1 {
		t.Errorf("second store: Remember(known id, cert-3) = %q, want cert-1", got[:8])
	}
	if got := mustRemember(t, b, other, b3, future); got != b2 {
		t.Errorf("second store: Remember(other id, cert-3) = %q, want cert-2", got[:8])
	}
}

func testRebind(t *testing.T, open OpenFunc) {
	r := openRememberer(t, open)
	id := key("jti-expired")
	b1, b2, b3 := key("cert-1"), key("cert-2"), key("cert-3")
	if got := mustRemember(t, r, id, b1, time.Now().Add(-time.Second)); got != b1 {
		t.Errorf("Remember(new id, cert-1, expired) = %q, want cert-1", got[:8])
	}
	if got := mustRemember(t, r, id, b2, time.Now().Add(time.Hour)); got != b2 {
		t.Errorf("Remember(expired id, cert-2) = %q, want cert-2: an expired id can be bound again", got[:8])
	}
	if got := mustRemember(t, r, id, b3, time.Now().Add(time.Hour)); got != b2 {
		t.Errorf("Remember(rebound id, cert-3) = %q, want cert-2", got[:8])
	}

	// An id that expires while remembered.
	live := key("jti-live")
	exp := time.Now().Add(time.Second)
	mustRemember(t, r, live, b1, exp)
	got := mustRemember(t, r, live, b2, exp)
	if time.Now().Before(exp) && got != b1 {
		t.Errorf("Remember(live id, cert-2) = %q, want cert-1", got[:8])
	}
	time.Sleep(time.Until(exp) + 10*time.Millisecond)
	if got := mustRemember(t, r, live, b3, time.Now().Add(time.Hour)); got != b3 {
		t.Errorf("Remember(id past its expiry, cert-3) = %q, want cert-3", got[:8])
	}
}

func testRememberRace(t *testing.T, open OpenFunc) {
	stores := []rememberer{openRememberer(t, open), openRememberer(t, open)}
	const ids, callers = 20, 4 // callers per id, spread over both stores
	future := time.Now().Add(time.Hour)
	for i := range ids {
		id := key(fmt.Sprintf("jti-race-%d", i))
		got := make([][32]byte, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for c := range callers {
			wg.Go(func() {
				<-start
				first, err := stores[c%len(stores)].Remember(t.Context(), id, key(fmt.Sprintf("cert-%d", c)), future)
				if err != nil {
					t.Errorf("Remember(jti-race-%d, cert-%d) = %v", i, c, err)
				}
				got[c] = first
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		winner := got[0]
		valid := false
		for c := range callers {
			if got[c] != winner {
				t.Fatalf("id %d: Remember returned %q to caller 0 but %q to caller %d; want one winner for all", i, winner[:8], got[c][:8], c)
			}
			valid = valid || winner == key(fmt.Sprintf("cert-%d", c))
		}
		if !valid {
			t.Fatalf("id %d: the winner %q is none of the bindings offered", i, winner[:8])
		}
		if again := mustRemember(t, stores[1], id, key("late"), future); again != winner {
			t.Fatalf("id %d: Remember after the race = %q, want the winner %q", i, again[:8], winner[:8])
		}
	}
}
