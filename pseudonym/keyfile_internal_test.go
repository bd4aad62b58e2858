package pseudonym

import (
	"errors"
	"os"
	"path/filepath"
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
