package atomicfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/atomicfile"
)

func TestReplace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f")
	for _, data := range []string{"first", "second"} {
		if err := atomicfile.Replace(path, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, %v; want 0640", fi.Mode().Perm(), err)
	}
	assertNoTemporaryFiles(t, filepath.Dir(path))
}

// TestWriteFailureKeepsTheFile: a write that fails half way leaves the
// file already there as it was, and no temporary file.
func TestWriteFailureKeepsTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f")
	if err := atomicfile.Replace(path, []byte("good"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := errors.New("disk full")
	err := atomicfile.Write(path, 0o600, true, func(f *os.File) error {
		f.WriteString("half")
		return broken
	})
	if !errors.Is(err, broken) {
		t.Fatalf("err = %v, want the write's", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "good" {
		t.Errorf("file holds %q after a failed write, want %q", got, "good")
	}
	assertNoTemporaryFiles(t, filepath.Dir(path))
}

// TestCreateLeavesAnExistingFile: Create does not replace, and says so.
func TestCreateLeavesAnExistingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "key")
	if err := atomicfile.Create(path, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Create(path, []byte("theirs"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create: %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "mine" {
		t.Errorf("file holds %q, want the first creator's", got)
	}
	assertNoTemporaryFiles(t, filepath.Dir(path))
}

func TestReadPrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	if err := os.WriteFile(path, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := atomicfile.ReadPrivate(path); err != nil || string(got) != "secret" {
		t.Fatalf("ReadPrivate = %q, %v", got, err)
	}
	for _, mode := range []fs.FileMode{0o640, 0o604, 0o620, 0o602} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := atomicfile.ReadPrivate(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: err = %v, want a refusal naming the fix", mode, err)
		}
	}
	if _, err := atomicfile.ReadPrivate(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

func assertNoTemporaryFiles(t *testing.T, dir string) {
	t.Helper()
	tmp, err := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if err != nil || len(tmp) > 0 {
		t.Errorf("temporary files left: %v %v", tmp, err)
	}
}
