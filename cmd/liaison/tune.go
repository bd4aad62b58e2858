package main

import (
	"os"
	"runtime/debug"
)

// serveGCPercent is the garbage collector's target for `liaison serve`
// unless GOGC is set.
const serveGCPercent = 400

// tuneGC makes the collector run less often than Go's default (GOGC=100)
// unless GOGC says otherwise. The gateway's live heap is small, so at the
// default it collects every few milliseconds under load, and each
// collection also shrinks the goroutine stacks that a decision's recursion
// grew, which the next call grows again. At 400 an audited call costs
// about a tenth (Disclose) to a seventh (Request) less CPU
// (docs/performance.md), and the heap grows to five times the live heap
// (tens of megabytes) between collections.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}
