package atomicfile_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/liaison-gateway/liaison/internal/atomicfile"
)

// failing writes half its data and fails, as a full disk does.
func failing(data []byte) atomicfile.Content {
	return func(w io.Writer) error {
		w.Write(data[:len(data)/2])
		return errors.New("no space left on device")
	}
}

// TestReplaceAndCreate: Replace puts the content whole with its mode, over
// a file there; Create does only where there is none, else leaves it and
// says fs.ErrExist; a write that fails half way leaves the file as it was
// and no temporary file.
func TestReplaceAndCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	read := func() string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return string(b)
	}
	if err := atomicfile.Create(path, 0o600, failing([]byte("first key"))); err == nil || read() != "" {
		t.Fatalf("a Create whose write failed: %v, file %q", err, read())
	}
	if err := atomicfile.Create(path, 0o600, atomicfile.Data([]byte("first key"))); err != nil || read() != "first key" {
		t.Fatalf("Create = %v, file %q", err, read())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if err := atomicfile.Create(path, 0o600, atomicfile.Data([]byte("second key"))); !errors.Is(err, fs.ErrExist) || read() != "first key" {
		t.Errorf("Create over a file = %v, file %q; want fs.ErrExist and the first", err, read())
	}
	if err := atomicfile.Replace(path, 0o644, failing([]byte("new state"))); err == nil || read() != "first key" {
		t.Errorf("a Replace whose write failed: %v, file %q; want an error and the old file", err, read())
	}
	if err := atomicfile.Replace(path, 0o644, atomicfile.Data([]byte("new state"))); err != nil || read() != "new state" {
		t.Errorf("Replace = %v, file %q", err, read())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %v; want the file alone", entries)
	}
}

// TestCreateConcurrently: of creators racing for one path exactly one puts
// its content there, whole; the others are told fs.ErrExist.
func TestCreateConcurrently(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = atomicfile.Create(path, 0o600, atomicfile.Data([]byte(fmt.Sprintf("key %02d", i)))) })
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("creators %d and %d both created the file", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("creator %d: %v", i, err)
		}
	}
	if b, err := os.ReadFile(path); err != nil || won < 0 || string(b) != fmt.Sprintf("key %02d", won) {
		t.Errorf("the file holds %q (%v); want creator %d's key", b, err, won)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %v; want the key alone", entries)
	}
}
