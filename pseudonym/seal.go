package pseudonym

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Seal encrypts plaintext with AES-256-GCM under a key derived from the
// current master key, binding it to aad. The result names the key version,
// so that it opens during a key transition, and no longer once that
// version is retired: Seal is for what should not outlive the keys, such
// as a match reference (a day). What an inbox keeps until it is read is
// sealed with [Pseudonymizer.SealInbox]. Like AuditPseudonym, Seal serves
// from the cached keys past the staleness bound: it protects the
// gateway's own data and reveals nothing to a recipient.
func (p *Pseudonymizer) Seal(aad, plaintext []byte) ([]byte, error) {
	ring := p.ring.Load()
	if ring == nil {
		return nil, ErrUnavailable
	}
	aead, err := p.sealAEAD(ring, ring.Current)
	if err != nil {
		return nil, err
	}
	return sealAfter(binary.BigEndian.AppendUint32(nil, uint32(ring.Current)), aead, aad, plaintext)
}

// sealAfter appends to header a random nonce and plaintext sealed with
// aead and aad.
func sealAfter(header []byte, aead cipher.AEAD, aad, plaintext []byte) ([]byte, error) {
	out := make([]byte, len(header)+aead.NonceSize(), len(header)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	copy(out, header)
	nonce := out[len(header):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, plaintext, aad), nil
}

// openNonced opens rest, a nonce then the ciphertext and tag, with aead
// and aad.
func openNonced(aead cipher.AEAD, aad, rest []byte) ([]byte, error) {
	if len(rest) < aead.NonceSize() {
		return nil, errors.New("pseudonym: sealed data too short")
	}
	pt, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: open sealed data: %v", err)
	}
	return pt, nil
}

// Open decrypts what Seal produced with the same aad. It refuses what
// SealInbox produced (version 0 is never a master key version).
func (p *Pseudonymizer) Open(aad, sealed []byte) ([]byte, error) {
	ring := p.ring.Load()
	if ring == nil {
		return nil, ErrUnavailable
	}
	if len(sealed) < 4 {
		return nil, errors.New("pseudonym: sealed data too short")
	}
	version := int(binary.BigEndian.Uint32(sealed))
	aead, err := p.sealAEAD(ring, version)
	if err != nil {
		return nil, err
	}
	return openNonced(aead, aad, sealed[4:])
}

func sealKey(ring *KeyRing, version int) (cipher.AEAD, error) {
	master, ok := ring.Versions[version]
	if !ok {
		return nil, &KeyVersionError{Version: version}
	}
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("liaison/seal/v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// inboxVersion is the key version SealInbox writes in front of what it
// seals. No master key version is 0 (they are positive), so OpenInbox
// tells an item sealed under the inbox key from one Seal sealed before
// inbox items had a key of their own, and Open refuses the former.
const inboxVersion = 0

// inboxLabel separates the inbox keys from everything else derived from
// the audit key: the audit-domain MAC ("liaison/pseudonym/v1/audit\x00"
// ...) and the fingerprints ("liaison/fingerprint/v1\x00" ...) are HMACs
// under the same key of inputs that begin otherwise, so no audit
// pseudonym or fingerprint is ever an inbox key or tells anything about
// one.
const inboxLabel = "liaison/inbox/seal/v1\x00"

// inboxSaltSize is the size of the random salt each inbox item's key is
// derived with.
const inboxSaltSize = 16

// SealInbox encrypts plaintext for a recipient's inbox, bound to aad (the
// inbox's name), so that it opens for as long as the inbox keeps it,
// whatever rotations and retirements of the master keys happen meanwhile.
// Its key is derived from the audit key, which never rotates: HKDF-Expand
// (RFC 5869, SHA-256) of the audit key over a label of its own and 16
// random bytes kept with the item, so that every item has its own
// AES-256-GCM key and the items sealed over the years never approach
// GCM's limit on random nonces under one key. The derived key lives in
// memory for the call only; it is never written anywhere. The result is
//
//	00 00 00 00 (version 0) | salt (16) | nonce (12) | ciphertext and tag
//
// Like AuditPseudonym, it serves from the cached keys past the staleness
// bound.
func (p *Pseudonymizer) SealInbox(aad, plaintext []byte) ([]byte, error) {
	ring := p.ring.Load()
	if ring == nil {
		return nil, ErrUnavailable
	}
	salt := make([]byte, inboxSaltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	aead, err := inboxAEAD(ring, salt)
	if err != nil {
		return nil, err
	}
	return sealAfter(append(binary.BigEndian.AppendUint32(nil, inboxVersion), salt...), aead, aad, plaintext)
}

// OpenInbox decrypts what SealInbox produced with the same aad. An item
// that Seal produced (before inbox items had a key of their own) opens as
// Open opens it: while its key version is in the ring.
func (p *Pseudonymizer) OpenInbox(aad, sealed []byte) ([]byte, error) {
	ring := p.ring.Load()
	if ring == nil {
		return nil, ErrUnavailable
	}
	if len(sealed) < 4 {
		return nil, errors.New("pseudonym: sealed data too short")
	}
	if binary.BigEndian.Uint32(sealed) != inboxVersion {
		return p.Open(aad, sealed)
	}
	rest := sealed[4:]
	if len(rest) < inboxSaltSize {
		return nil, errors.New("pseudonym: sealed data too short")
	}
	aead, err := inboxAEAD(ring, rest[:inboxSaltSize])
	if err != nil {
		return nil, err
	}
	return openNonced(aead, aad, rest[inboxSaltSize:])
}

// inboxAEAD returns the AES-256-GCM of one inbox item: its key is
// HKDF-Expand(SHA-256, audit key, inboxLabel || salt, 32).
func inboxAEAD(ring *KeyRing, salt []byte) (cipher.AEAD, error) {
	key, err := hkdf.Expand(sha256.New, ring.Audit, inboxLabel+string(salt), 32)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
