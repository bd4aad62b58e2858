package audit_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

func TestGenerateSignerKey(t *testing.T) {
	skey, vkey, err := audit.GenerateSignerKey("audit.liaison.example")
	if err != nil {
		t.Fatalf("GenerateSignerKey() = %v", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatalf("note.NewSigner(skey) = %v", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("note.NewVerifier(vkey) = %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: "hello\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Errorf("note.Open(signed with skey, vkey) = %v", err)
	}
	// Base64 keys often hold '+', the field separator: try enough keys
	// that some do.
	for range 16 {
		skey, vkey, err := audit.GenerateSignerKey("audit.liaison.example")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := audit.VerifierKey(skey); got != vkey || err != nil {
			t.Errorf("VerifierKey(%q) = %q, %v; want %q", skey, got, err, vkey)
		}
	}
	for _, name := range []string{"", "has space", "a+b"} {
		if _, _, err := audit.GenerateSignerKey(name); err == nil {
			t.Errorf("GenerateSignerKey(%q) = nil error, want an error", name)
		}
	}
	if _, err := audit.VerifierKey("PRIVATE+KEY+x+00000000+AAAA"); err == nil {
		t.Error("VerifierKey(malformed) = nil error, want an error")
	}
}

func TestLoadOrCreateSignerKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signer.key")
	s1, vkey1, err := audit.LoadOrCreateSignerKey(path, "audit.test")
	if err != nil {
		t.Fatalf("LoadOrCreateSignerKey(new) = %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	s2, vkey2, err := audit.LoadOrCreateSignerKey(path, "audit.test")
	if err != nil || vkey2 != vkey1 || s2.KeyHash() != s1.KeyHash() {
		t.Fatalf("LoadOrCreateSignerKey(existing) = %q, %v; want the same key %q", vkey2, err, vkey1)
	}
	v, err := note.NewVerifier(vkey1)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := note.Sign(&note.Note{Text: "hello\n"}, s2)
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Errorf("note signed by the reloaded key does not verify with the first verifier key: %v", err)
	}

	if _, _, err := audit.LoadOrCreateSignerKey(path, "other.name"); err == nil {
		t.Error("LoadOrCreateSignerKey(wrong name) = nil error, want an error")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := audit.LoadOrCreateSignerKey(path, "audit.test"); err == nil {
		t.Error("LoadOrCreateSignerKey(mode 0644) = nil error, want an error")
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(bad, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := audit.LoadOrCreateSignerKey(bad, "audit.test"); err == nil {
		t.Error("LoadOrCreateSignerKey(garbage) = nil error, want an error")
	}
	if _, _, err := audit.LoadOrCreateSignerKey(filepath.Join(t.TempDir(), "no", "such", "dir", "k"), "audit.test"); err == nil {
		t.Error("LoadOrCreateSignerKey(path in a missing directory) = nil error, want an error")
	}
}

// TestLoadOrCreateSignerKeyConcurrently: replicas (or a demo and a serve)
// starting at once on one new key file all get the one key that was
// created, whole, and no temporary file stays behind.
func TestLoadOrCreateSignerKeyConcurrently(t *testing.T) {
	for range 20 {
		dir := t.TempDir()
		path := filepath.Join(dir, "audit-signer.key")
		const n = 8
		vkeys, errs := make([]string, n), make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, vkeys[i], errs[i] = audit.LoadOrCreateSignerKey(path, "log.example") })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || vkeys[i] != vkeys[0] {
				t.Fatalf("starter %d: %q, %v; starter 0 got %q", i, vkeys[i], errs[i], vkeys[0])
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("the directory holds %v; want the key file alone", entries)
		}
	}
}
