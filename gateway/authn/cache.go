package authn

import (
	"context"
	"sync"
	"time"
)

// cache is a bounded map from a hash to a verified result, valid for one
// trust generation and until an expiry. When full it first drops expired
// entries, then half of the rest (arbitrary ones: map order).
type cache[V any] struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]cached[V]
}

type cached[V any] struct {
	v       V
	gen     uint64
	expires time.Time
}

func newCache[V any](max int) *cache[V] {
	return &cache[V]{max: max, m: map[[32]byte]cached[V]{}}
}

func (c *cache[V]) get(k [32]byte, gen uint64, now time.Time) (V, bool) {
	var zero V
	if c.max <= 0 {
		return zero, false
	}
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok || e.gen != gen || !now.Before(e.expires) {
		return zero, false
	}
	return e.v, true
}

// put stores v until expires; when the cache is full, the entries
// expired at now (the Verifier's clock, as get is asked with) go first.
func (c *cache[V]) put(k [32]byte, v V, gen uint64, expires, now time.Time) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max/2 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[k] = cached[V]{v: v, gen: gen, expires: expires}
}

func (c *cache[V]) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// memoryReplay is the ReplayStore of a single process.
type memoryReplay struct {
	mu   sync.Mutex
	now  func() time.Time
	seen map[[32]byte]replayEntry
}

type replayEntry struct {
	binding [32]byte
	expires time.Time
}

func newMemoryReplay(now func() time.Time) *memoryReplay {
	return &memoryReplay{now: now, seen: map[[32]byte]replayEntry{}}
}

func (m *memoryReplay) Remember(_ context.Context, id, binding [32]byte, expires time.Time) ([32]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if e, ok := m.seen[id]; ok && now.Before(e.expires) {
		return e.binding, nil
	}
	if len(m.seen) > 100000 {
		for k, e := range m.seen {
			if !now.Before(e.expires) {
				delete(m.seen, k)
			}
		}
	}
	m.seen[id] = replayEntry{binding: binding, expires: expires}
	return binding, nil
}
