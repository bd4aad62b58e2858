//go:build !unix

package policies

// cpuNow is not measured here; benchmarks report 0 CPU time.
func cpuNow() int64 { return 0 }
