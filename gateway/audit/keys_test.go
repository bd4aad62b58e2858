package audit_test

import (
	"os"
	"path/filepath"
	"strings"
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

// TestSignerKeyFileHasOneSpelling gives LoadOrCreateSignerKey its key file
// spelt in ways a lenient reader (strings.TrimSpace, then note.NewSigner)
// took for the same key: each is refused, and the error never holds the
// key. The file as written, with or without its newline, is read.
func TestSignerKeyFileHasOneSpelling(t *testing.T) {
	skey, vkey, err := audit.GenerateSignerKey("audit.test")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(skey, "+", 5)
	hash := parts[3]
	withHash := func(h string) string { return strings.Join(append(parts[:3:3], h, parts[4]), "+") }
	upper := withHash(strings.ToUpper(hash))
	if upper == skey { // a hash of digits only: capitals change nothing
		upper = withHash(hash[:7] + "A")
	}
	for name, content := range map[string]string{
		"leading space":         " " + skey + "\n",
		"leading newline":       "\n" + skey + "\n",
		"two newlines":          skey + "\n\n",
		"trailing space":        skey + " \n",
		"CRLF":                  skey + "\r\n",
		"tab after":             skey + "\t",
		"second line":           skey + "\n" + "junk\n",
		"empty":                 "",
		"newline alone":         "\n",
		"hash in capitals":      upper + "\n",
		"hash with a leading 0": withHash("0"+hash) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "signer.key")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := audit.LoadOrCreateSignerKey(path, "audit.test")
			if err == nil {
				t.Fatalf("LoadOrCreateSignerKey(%q) = nil error; want the file refused", content)
			}
			if strings.Contains(err.Error(), parts[4]) {
				t.Errorf("error %q holds the key", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	for _, content := range []string{skey, skey + "\n"} {
		path := filepath.Join(t.TempDir(), "signer.key")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, got, err := audit.LoadOrCreateSignerKey(path, "audit.test"); err != nil || got != vkey {
			t.Errorf("LoadOrCreateSignerKey(%q) = %q, %v; want %q", content, got, err, vkey)
		}
	}
}

// TestSignerKeyFileModeIsOwnerOnly: a signer key file that group or others
// may read or write is refused, naming the file and the fix, as ssh does.
func TestSignerKeyFileModeIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signer.key")
	if _, _, err := audit.LoadOrCreateSignerKey(path, "audit.test"); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := audit.LoadOrCreateSignerKey(path, "audit.test")
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: error %v; want the file refused, naming it and the fix (chmod 600)", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		os.Chmod(path, mode)
		if _, _, err := audit.LoadOrCreateSignerKey(path, "audit.test"); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}
