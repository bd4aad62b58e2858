package pseudonym

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestKeyFileNeverHalfWritten: a write that fails half way (a crash, a
// full disk) leaves no key file, nor a temporary one, so the next
// CreateKeyFile creates a whole one; an existing file is never replaced by
// CreateKeyFile, and a failed rotation leaves the file as it was.
func TestKeyFileNeverHalfWritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	halfway := func(fh *os.File, data []byte) error {
		fh.Write(data[:len(data)/2])
		return errors.New("no space left on device")
	}
	writeKeyData = halfway
	_, err := CreateKeyFile(path)
	writeKeyData = writeAll
	if err == nil {
		t.Fatal("CreateKeyFile succeeded with a write that failed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed create left %v", entries)
	}
	if created, err := CreateKeyFile(path); err != nil || !created {
		t.Fatalf("CreateKeyFile after the failed one = %v, %v; want a new file", created, err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := readKeyFile(path); err != nil {
		t.Fatalf("the key file does not read: %v", err)
	}
	if created, err := CreateKeyFile(path); err != nil || created {
		t.Errorf("CreateKeyFile over an existing file = %v, %v; want false, nil", created, err)
	}
	writeKeyData = halfway
	_, err = RotateKeyFile(path, time.Now())
	writeKeyData = writeAll
	after, _ := os.ReadFile(path)
	if err == nil || string(after) != string(before) {
		t.Errorf("a rotation whose write failed: %v, the file changed: %v", err, string(after) != string(before))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %v; want the key file alone", entries)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the key file's mode: %v, %v; want 0600", fi.Mode(), err)
	}
}

// TestConcurrentRotationsAreAllKept: rotations of one key file at once
// (each slow to write, so that they overlap) each make a version of their
// own and none is lost: the file ends with the first version and one per
// rotation, each rotation naming another, and no lock or temporary file
// is left beside it.
func TestConcurrentRotationsAreAllKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	if _, err := CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	writeKeyData = func(fh *os.File, data []byte) error {
		time.Sleep(20 * time.Millisecond)
		return writeAll(fh, data)
	}
	defer func() { writeKeyData = writeAll }()
	const n = 8
	got := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = RotateKeyFile(path, time.Now()) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	kf, keys, _, err := readKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{2, 3, 4, 5, 6, 7, 8, 9}
	if !slices.Equal(got, want) || kf.Current != n+1 || len(keys) != n+1 {
		t.Errorf("%d rotations at once made versions %v, the file current %d with %d versions; want %v, current %d, %d versions",
			n, got, kf.Current, len(keys), want, n+1, n+1)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %v; want the key file alone", entries)
	}
}
