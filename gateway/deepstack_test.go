package gateway

import (
	"context"
	"errors"
	"runtime"
	"testing"
)

// deep recurses n frames of about a kilobyte, as a policy decision does.
//
//go:noinline
func deep(n int) byte {
	var frame [1 << 10]byte
	frame[n%len(frame)] = byte(n)
	if n > 0 {
		deep(n - 1)
	}
	return frame[n%len(frame)]
}

// TestDeepStacks checks that a worker runs the function and that its stack,
// grown by a deep call, survives garbage collections: a second deep call
// then grows nothing. It also checks the fallbacks: a done context, and a
// closed pool.
func TestDeepStacks(t *testing.T) {
	d := newDeepStacks(1)
	defer d.Close()
	ctx := t.Context()
	ran := false
	if err := d.run(ctx, func() { deep(300); ran = true }); err != nil || !ran {
		t.Fatalf("run = %v, ran %v", err, ran)
	}
	// StackInuse is the whole process's: goroutines of other tests that end
	// meanwhile move it too. A worker whose stack a collection shrinks
	// moves it the same way every time, so one clean attempt of five is
	// enough, and a real shrink fails all five.
	var diffs []int64
	for range 5 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range 20 {
			d.run(ctx, func() { deep(300) })
			runtime.GC()
		}
		runtime.ReadMemStats(&after)
		// The worker's stack grew to 512 KB; had a collection shrunk it
		// (as it does an idle goroutine's), the stacks in use would have
		// fallen by at least half of that, the regrowth freed again by the
		// last one.
		diff := int64(after.StackInuse) - int64(before.StackInuse)
		diffs = append(diffs, diff>>10)
		if diff >= -128<<10 && diff <= 128<<10 {
			break
		}
	}
	if d := diffs[len(diffs)-1]; d < -128 || d > 128 {
		t.Errorf("stacks in use changed by %v KB in five attempts of 20 deep calls with collections between them, want the worker's kept", diffs)
	}

	// The only worker busy, a caller whose context ends while it waits
	// gets the context's error and its function never runs.
	block, busy := make(chan struct{}), make(chan struct{})
	go d.run(ctx, func() { close(busy); <-block })
	<-busy
	waiting, cancel := context.WithCancel(ctx)
	go func() { runtime.Gosched(); cancel() }()
	if err := d.run(waiting, func() { t.Error("ran after the context ended") }); !errors.Is(err, context.Canceled) {
		t.Errorf("run whose context ended while waiting = %v, want context.Canceled", err)
	}
	close(block)
	d.Close()
	ran = false
	if err := d.run(ctx, func() { ran = true }); err != nil || !ran {
		t.Errorf("run after Close = %v, ran %v; want it run on the caller", err, ran)
	}
}
