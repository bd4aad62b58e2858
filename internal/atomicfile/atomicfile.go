// Package atomicfile writes a file whole or not at all: the data goes into
// a temporary file in the same directory (a hidden .NAME.*.tmp, so that
// the rename is one step on one file system) with the mode asked for,
// which is synced, then renamed over the file ([Replace]) or linked to
// its name only if nothing has it ([Create]), and the directory is synced
// so that the new name survives a crash. A reader sees the old file or
// the new one, never a part; a failure on the way removes the temporary
// file and leaves a file already there as it was; a crash leaves at most
// the temporary file. It needs the standard library only, so that the
// project's leaves (pseudonym, gateway/audit) may use it.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrDirNotSynced is wrapped by the error of a write whose file is in
// place, whole, but whose directory could not be synced: after a crash the
// directory may still hold the earlier file (or none). Not every system
// syncs a directory; a caller for whom that is best effort ignores it.
var ErrDirNotSynced = errors.New("atomicfile: the directory was not synced")

// Replace puts data at path with mode perm, replacing whatever file is
// there; see the package comment. A path that is a symbolic link is
// itself replaced, as os.Rename does.
func Replace(path string, data []byte, perm fs.FileMode) error {
	_, err := Write(path, perm, true, writeAll(data))
	return err
}

// Create puts data at path with mode perm unless something is there
// already: then it reports false and changes nothing. See the package
// comment.
func Create(path string, data []byte, perm fs.FileMode) (created bool, err error) {
	return Write(path, perm, false, writeAll(data))
}

// Write puts what write writes into the file it is given at path, with
// mode perm: renamed over path if replace, else linked to path unless
// something is there (it reports false then, and changes nothing). It
// reports whether the file was put in place; with an error wrapping
// [ErrDirNotSynced] it was. write must not close the file.
func Write(path string, perm fs.FileMode, replace bool, write func(f *os.File) error) (installed bool, err error) {
	tmp, err := WriteTemp(path, perm, write)
	if err != nil {
		return false, err
	}
	if replace {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
		os.Remove(tmp) // linked or not, the temporary name goes
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
	}
	if err != nil {
		os.Remove(tmp)
		return false, err
	}
	if err := SyncDir(path); err != nil {
		return true, fmt.Errorf("%w: %v", ErrDirNotSynced, err)
	}
	return true, nil
}

// WriteTemp writes what write writes, with mode perm, into a new
// temporary file beside path (a hidden .NAME.*.tmp in its directory) and
// syncs it, for the caller to rename over path, perhaps with others
// (a set of files that only work together). It returns the temporary
// file's name; on a failure it leaves none. write must not close the file.
func WriteTemp(path string, perm fs.FileMode, write func(f *os.File) error) (tmp string, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return "", err
	}
	err = f.Chmod(perm) // before anything is written: CreateTemp's 0600 may be wider than perm
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
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// SyncDir syncs the directory that holds path, so that a name renamed or
// linked into it survives a crash.
func SyncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeAll(data []byte) func(*os.File) error {
	return func(f *os.File) error {
		_, err := f.Write(data)
		return err
	}
}
