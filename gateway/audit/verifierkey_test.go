package audit_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestVerifierKeyOneSpelling: a log's verifier key is taken only as
// note.NewVerifierKey writes it; note.NewVerifier alone also took the hash
// in upper case and the key's base64 with a line break in it: other
// strings for the same key.
func TestVerifierKeyOneSpelling(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "log.example")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := audit.NewVerifier(vkey); err != nil || v.Name() != "log.example" {
		t.Fatalf("NewVerifier(%q) = %v, %v", vkey, v, err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	key := parts[2]
	for name, other := range map[string]string{
		"hash in upper case": parts[0] + "+" + strings.ToUpper(parts[1]) + "+" + key,
		"line break in key":  parts[0] + "+" + parts[1] + "+" + key[:20] + "\n" + key[20:],
	} {
		if other == vkey {
			continue // a hash of digits alone has no upper case
		}
		if _, err := note.NewVerifier(other); err != nil {
			t.Fatalf("%s: note.NewVerifier refuses it (%v): the test shows nothing", name, err)
		}
		if _, err := audit.NewVerifier(other); err == nil {
			t.Errorf("%s: NewVerifier(%q) took it", name, other)
		}
	}
}
