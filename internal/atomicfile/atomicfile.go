// Package atomicfile writes files whole and durably: a reader never sees
// one half written, and after a crash a file holds its old content or its
// new, never a part. Keys, checkpoints and the state an auditor trusts are
// written so.
//
// The content goes to a temporary file in the same directory, which is
// synced and then renamed over the file (Replace) or linked into place
// unless a file is there already (Create); then the directory is synced,
// so that the new name survives a crash.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrDirNotSynced wraps the error of a write whose file is in place, whole,
// but whose directory could not be synced: a crash may still bring back
// the old file. A caller for which that is acceptable (a platform that does
// not sync directories) may ignore it.
var ErrDirNotSynced = errors.New("atomicfile: directory not synced")

// Content writes a file's content.
type Content func(w io.Writer) error

// Data is the Content data.
func Data(data []byte) Content {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

// Replace puts content at path with mode perm, replacing the file there.
// On error nothing of it is left but the file as it was (or, with
// ErrDirNotSynced, the new one in place).
func Replace(path string, perm os.FileMode, content Content) error {
	return put(path, perm, content, true)
}

// Create puts content at path with mode perm unless a file is there: then
// it leaves that file as it is (a concurrent creator's, say) and returns an
// error that wraps fs.ErrExist.
func Create(path string, perm os.FileMode, content Content) error {
	return put(path, perm, content, false)
}

func put(path string, perm os.FileMode, content Content, replace bool) (err error) {
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
			os.Remove(tmp) // a link leaves the temporary name beside the file
		}
	}()
	err = f.Chmod(perm)
	if err == nil {
		err = content(f)
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
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDirNotSynced, dir, err)
	}
	return nil
}

// syncDir syncs the directory dir, so that a name put into it survives a
// crash.
func syncDir(dir string) error {
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
