package policies

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Decisions run on a few evaluators (query.eval); many callers at once get
// the decisions they would get one by one.
func TestDecideConcurrently(t *testing.T) {
	e := loadEmbedded(t)
	gs := readGolden(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64*len(gs))
	for range 64 {
		wg.Go(func() {
			for _, g := range gs {
				d, err := e.Decide(t.Context(), g.Input)
				if err != nil {
					errs <- err
					continue
				}
				if diff := cmp.Diff(g.Want, d); diff != "" {
					errs <- errors.New(g.Name + ": " + diff)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A caller that gives up gets its context's error, not a decision.
func TestDecideCanceled(t *testing.T) {
	e := loadEmbedded(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.Decide(ctx, samples[0].in)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Decide(canceled context) error = %v, want context.Canceled", err)
	}
}

// Planned decisions run on their callers' goroutines, at most as many at
// once as there are tokens (evalPlanned): a caller that finds none waits
// for one, and one that gives up meanwhile gets its context's error; the
// next caller to get a token decides as usual.
func TestPlannedDecisionsWaitTheirTurn(t *testing.T) {
	e := loadEmbedded(t)
	if e.planned == nil {
		t.Fatalf("the embedded tree is not planned: %v", e.unplanned)
	}
	for range cap(planned) {
		planned <- struct{}{}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := evalPlanned(ctx, e.planned, samples[0].in.value())
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("evalPlanned with every token taken returned %v; want it to wait", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("evalPlanned given up while waiting: error %v, want context.Canceled", err)
	}
	go func() {
		_, err := evalPlanned(t.Context(), e.planned, samples[0].in.value())
		done <- err
	}()
	<-planned // one token back
	if err := <-done; err != nil {
		t.Fatalf("evalPlanned once a token is free: %v", err)
	}
	for range cap(planned) - 1 {
		<-planned
	}
}
