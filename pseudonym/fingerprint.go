package pseudonym

import "encoding/binary"

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
	// HMAC-SHA256 under the audit key of fingerprintLabel, then of each
	// part's length (8 bytes, big-endian) and the part, with a MAC from
	// the pool keyed with the audit key: an onward-use check takes one
	// for every value of a record.
	m := p.auditMAC(ring)
	h := m.get()
	defer m.put(h)
	h.Write(fingerprintLabel)
	var n [8]byte
	for _, b := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	h.Sum(out[:0])
	return out, nil
}

var fingerprintLabel = []byte("liaison/fingerprint/v1\x00")
