package gateway

import (
	"context"
	"sync"
)

// deepStacks runs functions on a few long-lived goroutines whose stacks
// stay grown. A policy decision recurses deeply (OPA evaluates a rule
// body by continuations, a few frames per expression): its goroutine's
// stack grows to 300 KB to 1 MB, by doubling from 8 KB, copying the stack
// and adjusting every frame each time. A goroutine per call pays that on
// every call; even a long-lived one pays it again after each garbage
// collection, which shrinks an idle goroutine's stack when less than a
// quarter of it is in use. A deepStacks worker waits for work beneath a
// reserve of frames, so that a quarter of its stack is always in use and
// the collector leaves it as the deepest decision grew it.
type deepStacks struct {
	jobs chan *deepJob
	stop chan struct{}
	once sync.Once
}

type deepJob struct {
	f    func()
	done chan struct{}
	// panicked is what f panicked with, if it did: run panics with it on
	// the caller's goroutine, where the call's recovering interceptor
	// (recover.go) turns it into that call's Internal error. Left on the
	// worker it would end the process, every agency's calls with it, and
	// the runtime would print the value, which could hold what the call
	// carried.
	panicked any
}

// reserveFrames times reserveFrame is the stack a worker keeps in use
// while it waits: a stack of four times as much (1 MB) is never shrunk.
const (
	reserveFrame  = 32 << 10
	reserveFrames = 8
)

// newDeepStacks starts n workers; Close stops them.
func newDeepStacks(n int) *deepStacks {
	d := &deepStacks{jobs: make(chan *deepJob), stop: make(chan struct{})}
	for range n {
		go reserve(reserveFrames, d.serve)
	}
	return d
}

// reserve calls f beneath n frames of reserveFrame bytes each.
//
//go:noinline
func reserve(n int, f func()) byte {
	var pad [reserveFrame]byte
	pad[n] = byte(n)
	if n > 0 {
		reserve(n-1, f)
	} else {
		f()
	}
	return pad[n] // keeps the frame, and its size, live across the call
}

func (d *deepStacks) serve() {
	for {
		select {
		case j := <-d.jobs:
			j.do()
		case <-d.stop:
			return
		}
	}
}

// do calls the job's function and says it is done, having returned or
// panicked.
func (j *deepJob) do() {
	defer func() {
		if p := recover(); p != nil {
			j.panicked = p
		}
		close(j.done)
	}()
	j.f()
}

// run calls f on a worker and returns when it has returned, or at once
// with ctx's error if ctx ends before a worker takes it. After Close, it
// calls f on the caller's goroutine. A panic of f is run's: it goes on on
// the caller's goroutine, and the worker serves on.
func (d *deepStacks) run(ctx context.Context, f func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &deepJob{f: f, done: make(chan struct{})}
	select {
	case d.jobs <- j:
	case <-d.stop:
		f()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	<-j.done
	if j.panicked != nil {
		panic(j.panicked)
	}
	return nil
}

// Close stops the workers. Calling it more than once is safe.
func (d *deepStacks) Close() {
	d.once.Do(func() { close(d.stop) })
}
