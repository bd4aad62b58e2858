package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// Fingerprint returns a keyed digest (HMAC-SHA256) of parts, each length-
// prefixed, for recognising content the gateway released without keeping
// the content: a value of a few digits or a short date has too little
// entropy for a plain hash, which anyone could reverse by trying every
// value. The key is derived from the audit key, which never rotates, so
// that a fingerprint taken today still matches after a key rotation. Like
// AuditPseudonym, it serves from the cached keys past the staleness bound.
func (p *Pseudonymizer) Fingerprint(parts ...[]byte) ([32]byte, error) {
	var out [32]byte
	ring := p.ring.Load()
	if ring == nil {
		return out, ErrUnavailable
	}
	mac := hmac.New(sha256.New, ring.Audit)
	mac.Write([]byte("liaison/fingerprint/v1\x00"))
	var n [8]byte
	for _, b := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		mac.Write(n[:])
		mac.Write(b)
	}
	copy(out[:], mac.Sum(nil))
	return out, nil
}
