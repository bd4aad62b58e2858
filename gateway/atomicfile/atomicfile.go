// Package atomicfile writes files whole or not at all, and reads private
// key files only when their owner alone may read them. It is the one
// implementation the log, the witness, the pseudonym key file and the
// command line share; it imports nothing but the standard library, so
// that gateway/audit stays a leaf that auditors' tools can use alone.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrDirNotSynced wraps the error of syncing the folder after the file was
// put in place: the file is whole and in place, but whether its new name
// survives a crash depends on a folder sync that failed (some platforms do
// not sync folders). Callers for whom that is enough ignore it with
// errors.Is.
var ErrDirNotSynced = errors.New("folder not synced")

// Replace puts data at path with mode perm, replacing a file already
// there: see [Write].
func Replace(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, true, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// Create puts data at path with mode perm unless path exists, in which
// case it returns an error wrapping fs.ErrExist and leaves the file there
// as it is (a concurrent creator's): see [Write].
func Create(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, false, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// Write writes a file at path with mode perm through write: into a
// temporary file beside path (a hidden .NAME.*.tmp in the same folder, so
// that putting it in place is one step on one file system), which is
// synced and then renamed over path (replace) or linked to path, which
// fails if path exists (not replace). The folder is then synced. A
// failure on the way removes the temporary file and leaves a file already
// at path as it was; a crash leaves at most the temporary file, never a
// part of path. A reader sees the old content or the new, never a part.
func Write(path string, perm fs.FileMode, replace bool, write func(*os.File) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil || !replace {
			os.Remove(tmp) // after a link, path keeps the content
		}
	}()
	err = f.Chmod(perm)
	if err == nil {
		err = write(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if replace {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
	}
	if err != nil {
		return err
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("%w: %v", ErrDirNotSynced, err)
	}
	return nil
}

// SyncDir syncs the folder dir, so that a name just put in it survives a
// crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadPrivate reads a private key file, refusing it, as ssh does, if its
// mode lets group or others read or write it, with an error naming the
// file and the fix. The mode is that of the file read (fstat of the open
// file, not of a name that may change meanwhile). An error from opening
// it is returned as it is (fs.ErrNotExist for one that does not exist).
func ReadPrivate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o: group or others may read or write it; it must be readable by its owner only (chmod 600 %s)", path, perm, path)
	}
	return io.ReadAll(f)
}
