package policies

import (
	"sync"
	"testing"
)

// TestGoldenDecisionsConcurrently decides every golden input from several
// goroutines at once, each input many times, and finds each decision as
// its golden file wants. The inputs share terms (the kept words and
// parties of input.go, the vocabulary's words) and the engine its
// prepared query: under the race detector (make race) this is where a
// term OPA changed while another query read it would show.
func TestGoldenDecisionsConcurrently(t *testing.T) {
	e := loadEmbedded(t)
	golden := readGolden(t)
	const workers, rounds = 4, 3
	var wg sync.WaitGroup
	errs := make(chan string, workers*rounds*len(golden))
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				for i := range golden {
					g := golden[(i+w*7+r)%len(golden)]
					got, err := e.Decide(t.Context(), g.Input)
					if err != nil {
						errs <- g.Name + ": " + err.Error()
						continue
					}
					if diff := goldenDiff(g.Want, got); diff != "" {
						errs <- g.Name + ":\n" + diff
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a concurrent decision differs from its golden file: %s", e)
	}
}
