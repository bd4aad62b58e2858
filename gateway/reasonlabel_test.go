package gateway

import (
	"fmt"
	"sync"
	"testing"
)

// TestReasonLabelBounded: the reason label keeps at most maxReasonLabels
// values, first come first kept; past them a new code is OTHER, a kept
// one stays itself, and the outages alert rules select keep their label.
// Concurrent callers agree.
func TestReasonLabelBounded(t *testing.T) {
	m := &metrics{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range maxReasonLabels {
				if got := m.reasonLabel(fmt.Sprintf("PEER_CODE_%d", i)); got != fmt.Sprintf("PEER_CODE_%d", i) && got != reasonOther {
					t.Errorf("goroutine %d: reasonLabel(PEER_CODE_%d) = %q", g, i, got)
				}
			}
		})
	}
	wg.Wait()
	if n := m.nReasons.Load(); n != maxReasonLabels {
		t.Fatalf("%d labels after %d distinct codes from 4 goroutines; want %d", n, maxReasonLabels, maxReasonLabels)
	}
	for i := range maxReasonLabels {
		if got := m.reasonLabel(fmt.Sprintf("PEER_CODE_%d", i)); got != fmt.Sprintf("PEER_CODE_%d", i) {
			t.Fatalf("a kept code, PEER_CODE_%d, is labelled %q", i, got)
		}
	}
	for _, c := range []string{"PEER_CODE_X", "ASSESSMENT_TO_NGO"} {
		if got := m.reasonLabel(c); got != reasonOther {
			t.Errorf("reasonLabel(%s) past the bound = %q; want %s", c, got, reasonOther)
		}
	}
	for c := range alwaysLabelled {
		if got := m.reasonLabel(c); got != c {
			t.Errorf("reasonLabel(%q) past the bound = %q; want itself", c, got)
		}
	}
	if n := m.nReasons.Load(); n != maxReasonLabels {
		t.Errorf("%d labels at the end; want %d", n, maxReasonLabels)
	}
}
