package pseudonym

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// A macPool hands out HMAC-SHA256 instances keyed with one key, reset
// between uses: keying an HMAC costs two SHA-256 blocks and several
// allocations, which a pseudonym per request paid again each time.
type macPool struct {
	key  []byte
	pool sync.Pool
}

func newMACPool(key []byte) *macPool {
	m := &macPool{key: key}
	m.pool.New = func() any { return hmac.New(sha256.New, m.key) }
	return m
}

// sum returns the MAC of the concatenation of parts, appended to dst.
func (m *macPool) sum(dst []byte, parts ...[]byte) []byte {
	h := m.get()
	defer m.put(h)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(dst)
}

// get returns a MAC keyed with the pool's key, with nothing written to
// it; put takes it back.
func (m *macPool) get() hash.Hash { return m.pool.Get().(hash.Hash) }

func (m *macPool) put(h hash.Hash) {
	h.Reset()
	m.pool.Put(h)
}

// ringKeys are keys derived from one key ring, made once per ring rather
// than once per call: the audit-domain MAC and the sealing AEADs.
type ringKeys struct {
	ring  *KeyRing
	audit *macPool
	mu    sync.Mutex
	seal  map[int]cipher.AEAD // by key version
}

// keysOf returns the derived keys of ring, the one in use.
func (p *Pseudonymizer) keysOf(ring *KeyRing) *ringKeys {
	if k := p.derived.Load(); k != nil && k.ring == ring {
		return k
	}
	k := &ringKeys{ring: ring, audit: newMACPool(ring.Audit), seal: map[int]cipher.AEAD{}}
	p.derived.Store(k)
	return k
}

func (p *Pseudonymizer) auditMAC(ring *KeyRing) *macPool { return p.keysOf(ring).audit }

// sealAEAD returns the sealing AEAD of a key version of ring.
func (p *Pseudonymizer) sealAEAD(ring *KeyRing, version int) (cipher.AEAD, error) {
	k := p.keysOf(ring)
	k.mu.Lock()
	defer k.mu.Unlock()
	if a, ok := k.seal[version]; ok {
		return a, nil
	}
	a, err := sealKey(ring, version)
	if err != nil {
		return nil, err
	}
	k.seal[version] = a
	return a, nil
}
