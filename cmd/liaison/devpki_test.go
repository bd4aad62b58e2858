package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A pkiFile is what a test knows of a file of a development PKI.
type pkiFile struct {
	data []byte
	mode fs.FileMode
}

// readPKI reads every file under dir, by its path in dir.
func readPKI(t *testing.T, dir string) map[string]pkiFile {
	t.Helper()
	files := map[string]pkiFile{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = pkiFile{b, fi.Mode()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// samePKI reports how got differs from want, the set before a failed
// `liaison dev pki`.
func samePKI(t *testing.T, what string, got, want map[string]pkiFile) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: %s is gone", what, name)
		case !bytes.Equal(g.data, w.data):
			t.Errorf("%s: %s was replaced: the earlier set is a mix of old and new files", what, name)
		case g.mode != w.mode:
			t.Errorf("%s: %s has mode %v, was %v", what, name, g.mode, w.mode)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: left %s", what, name)
		}
	}
}

// TestDevPKIWriteFailure: liaison dev pki wrote its certificates and keys
// one file after another over the set an earlier run wrote, so a failure
// half-way (a full disk, a path it could not write) left a folder of the
// new CA's certificates beside the old CA's, which fail TLS in confusing
// ways. The new set is now placed whole or not at all: a failure leaves
// the earlier set byte for byte, and a run that succeeds replaces every
// file of it (a new CA), private keys owner-only, and leaves the user's
// other files in the folder.
func TestDevPKIWriteFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	devPKI := func() error {
		return runDev(t.Context(), []string{"pki", "-out", dir}, io.Discard, io.Discard)
	}
	if err := devPKI(); err != nil {
		t.Fatal(err)
	}
	first := readPKI(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// A run that succeeds replaces every certificate and key of the set
	// (registry.yaml names no key: it is the same).
	if err := devPKI(); err != nil {
		t.Fatal(err)
	}
	earlier := readPKI(t, dir)
	for name, f := range first {
		switch e := earlier[name]; {
		case name != "registry.yaml" && bytes.Equal(e.data, f.data):
			t.Errorf("a second dev pki left %s as the first wrote it", name)
		case strings.HasSuffix(name, ".key") && e.mode != 0o600:
			t.Errorf("%s has mode %v, want 0600", name, e.mode)
		}
	}
	if n := earlier["notes.txt"]; string(n.data) != "mine\n" {
		t.Errorf("a second dev pki changed a file not its own: notes.txt = %q", n.data)
	}

	// A path the set cannot be written to: registry.yaml, written last,
	// is a folder.
	reg := filepath.Join(dir, "registry.yaml")
	if err := os.Remove(reg); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(reg, "blocks"), 0o755); err != nil {
		t.Fatal(err)
	}
	blocked := readPKI(t, dir)
	err := devPKI()
	if err == nil {
		t.Fatal("dev pki with registry.yaml a folder = nil error")
	}
	if !strings.Contains(err.Error(), "registry.yaml") {
		t.Errorf("the error does not name what failed: %v", err)
	}
	samePKI(t, "registry.yaml a folder", readPKI(t, dir), blocked)
	if err := os.RemoveAll(reg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(reg, earlier["registry.yaml"].data, 0o644); err != nil {
		t.Fatal(err)
	}

	// A full disk: files of this process may grow to 2 KiB, less than
	// registry.yaml and more than each certificate and key (Go ignores
	// SIGXFSZ: the write fails EFBIG). Once over the earlier set, and once
	// into a folder not made yet, which is not made.
	fresh := filepath.Join(t.TempDir(), "later", "pki")
	var ferr error
	withFileSizeLimit(t, 2048, func() {
		err = devPKI()
		ferr = runDev(t.Context(), []string{"pki", "-out", fresh}, io.Discard, io.Discard)
	})
	if err == nil {
		t.Fatal("dev pki with registry.yaml cut at 2 KiB = nil error")
	}
	samePKI(t, "a full disk", readPKI(t, dir), earlier)
	if ferr == nil {
		t.Fatal("dev pki into a new folder with registry.yaml cut at 2 KiB = nil error")
	}
	if _, err := os.Lstat(filepath.Dir(fresh)); err == nil {
		t.Errorf("dev pki failed (%v) but left %s", ferr, filepath.Dir(fresh))
	}
}
