package pseudonym_test

import (
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/pseudonym"
)

// TestFingerprint: deterministic for one key file, different under
// another, unchanged by a key rotation (it uses the audit key), no plain
// hash of the value, and the parts are length-prefixed so that moving a
// byte from one part to the next changes it.
func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	open := func(path string) *pseudonym.Pseudonymizer {
		p, err := pseudonym.New(t.Context(), pseudonym.Config{Source: pseudonym.FileKeys{Path: path}, MaxStale: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := open(path)
	a, err := p.Fingerprint([]byte("value"), []byte("apsn:x"), []byte("Fiktivt Fængsel Øst"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := p.Fingerprint([]byte("value"), []byte("apsn:x"), []byte("Fiktivt Fængsel Øst")); a != b {
		t.Error("Fingerprint is not deterministic")
	}
	if b, _ := p.Fingerprint([]byte("value"), []byte("apsn:x"), []byte("Fiktivt Fængsel Vest")); a == b {
		t.Error("two values have one fingerprint")
	}
	if b, _ := p.Fingerprint([]byte("valu"), []byte("eapsn:x"), []byte("Fiktivt Fængsel Øst")); a == b {
		t.Error("parts are not separated")
	}
	if a == sha256.Sum256([]byte("Fiktivt Fængsel Øst")) {
		t.Error("Fingerprint is a plain hash")
	}
	if _, err := pseudonym.RotateKeyFile(path, time.Now()); err != nil {
		t.Fatal(err)
	}
	if b, _ := open(path).Fingerprint([]byte("value"), []byte("apsn:x"), []byte("Fiktivt Fængsel Øst")); a != b {
		t.Error("a key rotation changed the fingerprint")
	}
	other := filepath.Join(dir, "other.json")
	if _, err := pseudonym.CreateKeyFile(other); err != nil {
		t.Fatal(err)
	}
	if b, _ := open(other).Fingerprint([]byte("value"), []byte("apsn:x"), []byte("Fiktivt Fængsel Øst")); a == b {
		t.Error("another key gives the same fingerprint")
	}
}
