package policies

import (
	"context"
	"errors"
	"sync"
	"testing"

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
