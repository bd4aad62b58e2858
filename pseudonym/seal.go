package pseudonym

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Seal encrypts plaintext for storage at rest (a recipient's inbox) with
// AES-256-GCM under a key derived from the current master key, binding it
// to aad (for example the recipient's agency id). The result names the key
// version, so that it opens during a key transition. Like AuditPseudonym,
// it serves from the cached keys past the staleness bound: it protects the
// gateway's own storage and reveals nothing to a recipient.
func (p *Pseudonymizer) Seal(aad, plaintext []byte) ([]byte, error) {
	ring := p.ring.Load()
	if ring == nil {
		return nil, ErrUnavailable
	}
	aead, err := p.sealAEAD(ring, ring.Current)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 4, 4+aead.NonceSize()+len(plaintext)+aead.Overhead())
	binary.BigEndian.PutUint32(out, uint32(ring.Current))
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, aad), nil
}

// Open decrypts what Seal produced with the same aad.
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
	rest := sealed[4:]
	if len(rest) < aead.NonceSize() {
		return nil, errors.New("pseudonym: sealed data too short")
	}
	pt, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: open sealed data: %v", err)
	}
	return pt, nil
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
