package main

import (
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestVerifierKeyOneSpelling: the log's verifier key is taken only as
// note.NewVerifierKey writes it, as the gateway's audit.NewVerifier takes
// it; note.NewVerifier alone also took the hash in upper case and the
// key's base64 with a line break in it.
func TestVerifierKeyOneSpelling(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "log.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newVerifier(vkey); err != nil {
		t.Fatalf("newVerifier(%q): %v", vkey, err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	for name, other := range map[string]string{
		"hash in upper case": parts[0] + "+" + strings.ToUpper(parts[1]) + "+" + parts[2],
		"line break in key":  parts[0] + "+" + parts[1] + "+" + parts[2][:20] + "\n" + parts[2][20:],
	} {
		if other == vkey {
			continue // a hash of digits alone has no upper case
		}
		if _, err := note.NewVerifier(other); err != nil {
			t.Fatalf("%s: note.NewVerifier refuses it (%v): the test shows nothing", name, err)
		}
		if _, err := newVerifier(other); err == nil {
			t.Errorf("%s: newVerifier(%q) took it", name, other)
		}
	}
}
