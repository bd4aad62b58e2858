package witness_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/witness"
)

// countingTransport counts the requests one replica sends to witnesses.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// askedLease counts each replica's claims of a term, so that the test
// knows when a replica has begun a new turn of its loop.
type askedLease struct {
	witness.Claims
	mu    sync.Mutex
	asked map[[32]byte]int // by the replica's binding
}

func (a *askedLease) Remember(ctx context.Context, id, binding [32]byte, expires time.Time) ([32]byte, error) {
	a.mu.Lock()
	a.asked[binding]++
	a.mu.Unlock()
	return a.Claims.Remember(ctx, id, binding, expires)
}

// askedSince waits until each of two replicas has asked for the lease
// twice since reset: the first ask may have read the clock before it
// moved, but the round it allowed has ended before the second.
func (a *askedLease) askedSince(t *testing.T, reset func()) {
	t.Helper()
	a.mu.Lock()
	a.asked = map[[32]byte]int{}
	reset()
	a.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.mu.Lock()
		n := 0
		for _, c := range a.asked {
			if c >= 2 {
				n++
			}
		}
		a.mu.Unlock()
		if n == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replicas did not ask for the new term's lease")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLeaseOneReplicaSends: two replicas' Cosigners on one store (the
// store's claims are the lease) run side by side; within a term only the
// replica that claimed it takes checkpoints to the witness, and when the
// next term comes the replica that wins it sends, so the witness keeps
// being fed.
func TestLeaseOneReplicaSends(t *testing.T) {
	k := newLogKey(t, "log.test")
	l, st := newLog(t, k)
	_, e, _ := startWitness(t, "witness.test/w1", k)
	var mu sync.Mutex
	now := time.Now() // the store forgets claims by its own clock
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var tr [2]*countingTransport
	var cs [2]*witness.Cosigner
	lease := &askedLease{Claims: st, asked: map[[32]byte]int{}}
	for i := range cs {
		tr[i] = &countingTransport{}
		c, err := witness.NewCosigner(witness.CosignerConfig{Log: l, Store: st, Witnesses: []witness.Endpoint{e}, Logger: quiet,
			HTTPClient: &http.Client{Transport: tr[i]}, Interval: 20 * time.Millisecond, Lease: lease, LeaseTerm: time.Minute, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = c
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() { c.Run(ctx) })
	}
	defer func() { cancel(); wg.Wait() }()
	grow := func(first int) {
		appendN(t, l, first, 2, "a")
		deadline := time.Now().Add(10 * time.Second)
		for {
			size, _, err := cs[0].Checkpoint(t.Context())
			if err == nil && size == int64(first+2) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the log of size %d was never published with cosignatures (published %d)", first+2, size)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	grow(0)
	time.Sleep(100 * time.Millisecond) // several intervals: both replicas had their turn to try
	a, b := tr[0].n.Load(), tr[1].n.Load()
	if (a == 0) == (b == 0) {
		t.Fatalf("in one term the replicas sent %d and %d requests; want exactly one of them sending", a, b)
	}
	sender := 0
	if b > 0 {
		sender = 1
	}
	// Terms pass; whoever wins a term sends, and only one per term.
	for term := 1; term <= 6; term++ {
		// A round the last term's holder began before the clock moved
		// checked its lease then, and could still send what grow appends
		// next (both replicas then sent in one term: 1 CI run in about
		// 20): wait until it has ended.
		lease.askedSince(t, func() {
			mu.Lock()
			now = now.Add(time.Minute)
			mu.Unlock()
		})
		before := [2]int64{tr[0].n.Load(), tr[1].n.Load()}
		grow(2 * term)
		time.Sleep(100 * time.Millisecond)
		d0, d1 := tr[0].n.Load()-before[0], tr[1].n.Load()-before[1]
		if (d0 == 0) == (d1 == 0) {
			t.Errorf("term %d: the replicas sent %d and %d requests; want exactly one of them sending", term, d0, d1)
		}
	}
	t.Logf("replica %d sent in the first term; requests over seven terms: %d and %d", sender, tr[0].n.Load(), tr[1].n.Load())
}
