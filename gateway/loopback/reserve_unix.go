//go:build unix

package loopback

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// reserved holds the files whose locks reserve this process's ports, by
// port; they stay open, and locked, until the process ends.
var (
	reservedMu sync.Mutex
	reserved   = map[int]*os.File{}
)

// reserve claims port for this process against every other process that
// uses this package (the packages of one `go test ./...` run side by
// side): it takes an exclusive lock on a file named after the port in a
// directory of the temporary directory that they share, and holds it
// until the process ends, when the kernel lets it go. A port another
// process picked stays free for a moment after its check, and for as
// long as its server is down (a restart, a Vault outage); without this,
// a second process could pick it then, and one of the two would fail to
// listen. A port this process reserved before stays its own (Addr's
// handed set keeps it from handing a port out twice). Where the directory
// cannot be used, it reserves nothing and says yes.
func reserve(port int) bool {
	reservedMu.Lock()
	defer reservedMu.Unlock()
	if reserved[port] != nil {
		return true
	}
	dir := filepath.Join(os.TempDir(), "liaison-loopback-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return true
	}
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return true
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return false // another process holds it
	}
	reserved[port] = f
	return true
}

// reservedHere reports whether this process reserved port.
func reservedHere(port int) bool {
	reservedMu.Lock()
	defer reservedMu.Unlock()
	return reserved[port] != nil
}
