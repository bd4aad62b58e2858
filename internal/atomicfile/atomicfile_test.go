package atomicfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/internal/atomicfile"
)

// names lists the names in dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func wantFile(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != content {
		t.Fatalf("%s holds %q (%v), want %q", path, b, err, content)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != perm {
		t.Errorf("%s has mode %v (%v), want %v", path, fi.Mode().Perm(), err, perm)
	}
}

// TestModes: the file has the mode asked for, not CreateTemp's 0600 nor
// the umask's, whether created or replacing a file of another mode.
func TestModes(t *testing.T) {
	for _, perm := range []fs.FileMode{0o600, 0o640, 0o644, 0o444} {
		dir := t.TempDir()
		path := filepath.Join(dir, "f")
		if created, err := atomicfile.Create(path, []byte("one"), perm); err != nil || !created {
			t.Fatalf("Create(%v) = %v, %v", perm, created, err)
		}
		wantFile(t, path, "one", perm)
		other := perm ^ 0o004
		if err := atomicfile.Replace(path, []byte("two"), other); err != nil {
			t.Fatalf("Replace(%v): %v", other, err)
		}
		wantFile(t, path, "two", other)
		if n := names(t, dir); len(n) != 1 {
			t.Errorf("the directory holds %v, want the file alone", n)
		}
	}
}

// TestCreateNeverReplaces: Create over a file that is there reports false
// and leaves it as it was, and no temporary file beside it.
func TestCreateNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(path, []byte("earlier"), 0o600); err != nil {
		t.Fatal(err)
	}
	created, err := atomicfile.Create(path, []byte("later"), 0o644)
	if err != nil || created {
		t.Fatalf("Create over a file = %v, %v; want false, nil", created, err)
	}
	wantFile(t, path, "earlier", 0o600)
	if n := names(t, dir); len(n) != 1 {
		t.Errorf("the directory holds %v, want the file alone", n)
	}
}

// TestNoTemporaryFileLeftOnError: a write that fails half way, or a
// rename that is refused (a directory where the file goes), leaves no
// temporary file and the earlier file, if any, as it was.
func TestNoTemporaryFileLeftOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("earlier"), 0o644); err != nil {
		t.Fatal(err)
	}
	full := errors.New("no space left on device")
	halfway := func(f *os.File) error {
		f.Write([]byte("lat"))
		return full
	}
	for _, replace := range []bool{true, false} {
		installed, err := atomicfile.Write(path, 0o644, replace, halfway)
		if !errors.Is(err, full) || installed {
			t.Errorf("Write(replace %v) with a failing write = %v, %v; want the write's error", replace, installed, err)
		}
		wantFile(t, path, "earlier", 0o644)
		if n := names(t, dir); len(n) != 1 {
			t.Errorf("a failed write (replace %v) left %v", replace, n)
		}
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "inside"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Replace(sub, []byte("x"), 0o644); err == nil {
		t.Error("Replace over a directory that is not empty succeeded")
	}
	if n := names(t, dir); strings.Join(n, " ") != "f sub" {
		t.Errorf("after a refused rename the directory holds %v, want f and sub", n)
	}
	if _, err := atomicfile.Create(filepath.Join(dir, "no", "such", "dir"), []byte("x"), 0o644); err == nil {
		t.Error("Create in a directory that does not exist succeeded")
	}
}

// TestWriteTemp: the temporary file is hidden, beside the file, synced
// with the mode asked for, and left for the caller to rename.
func TestWriteTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cert.pem")
	tmp, err := atomicfile.WriteTemp(path, 0o640, func(f *os.File) error { _, err := f.WriteString("pem"); return err })
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(tmp) != dir || !strings.HasPrefix(filepath.Base(tmp), ".cert.pem.") || !strings.HasSuffix(tmp, ".tmp") {
		t.Errorf("temporary file %s, want a hidden .cert.pem.*.tmp in %s", tmp, dir)
	}
	wantFile(t, tmp, "pem", 0o640)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteTemp put something at %s: %v", path, err)
	}
}

// TestReplaceASymbolicLink: Replace replaces a symbolic link at path
// itself, as os.Rename does, and leaves the file it named as it was.
func TestReplaceASymbolicLink(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
	if err := os.WriteFile(target, []byte("target"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatalf("a symbolic link for the test: %v", err)
	}
	if err := atomicfile.Replace(link, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantFile(t, target, "target", 0o644)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink != 0 {
		t.Errorf("the link is still a link (%v)", err)
	}
	wantFile(t, link, "new", 0o644)
}
