//go:build unix

package pseudonym

import (
	"fmt"
	"os"
	"syscall"
)

// lockKeyFile takes the exclusive lock that serialises the rotations of
// the key file at path, across processes: an flock on path + ".lock", a
// file of its own (the key file itself is replaced by a rename at each
// rotation, so a lock on it would be on a file that is gone). It waits
// for a rotation in progress to end. unlock removes the lock file, then
// releases the lock, so that none is left beside the key file; a waiter
// that then holds the lock of a removed file sees that the name is no
// longer its file and locks anew. A crash leaves the file, harmless: the
// next rotation locks and removes it.
func lockKeyFile(path string) (unlock func(), err error) {
	name := path + ".lock"
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("pseudonym: lock key file: %v", err)
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
			if err != syscall.EINTR {
				break
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("pseudonym: lock key file: %v", err)
		}
		held, herr := f.Stat()
		named, nerr := os.Stat(name)
		if herr == nil && nerr == nil && os.SameFile(held, named) {
			return func() {
				os.Remove(name)
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		// The rotation that held it removed the file meanwhile.
		f.Close()
	}
}
