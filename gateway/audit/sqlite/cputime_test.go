//go:build unix

package sqlite_test

import "syscall"

// cpuNow is the CPU time the process has used, user and system, in
// nanoseconds: on a machine shared with other work it says more about a
// benchmark's cost than the time on the clock.
func cpuNow() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
