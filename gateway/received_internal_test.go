package gateway

import (
	"fmt"
	"testing"
)

// TestReceivedSetBounded: a yes is remembered per agency and subject, a
// pair never added is not, and the set starts again empty once it holds
// maxReceived pairs, so that it never grows past them.
func TestReceivedSetBounded(t *testing.T) {
	var r receivedSet
	if r.has("police", "apsn:A") {
		t.Fatal("an empty set has a pair")
	}
	r.add("police", "apsn:A")
	if !r.has("police", "apsn:A") || r.has("police", "apsn:B") || r.has("social", "apsn:A") {
		t.Fatal("the set does not hold exactly the pair added")
	}
	for i := 1; i < maxReceived; i++ {
		r.add("police", fmt.Sprintf("apsn:%d", i))
	}
	if len(r.m) != maxReceived || !r.has("police", "apsn:A") {
		t.Fatalf("a full set holds %d pairs, want %d with the first", len(r.m), maxReceived)
	}
	r.add("police", "apsn:last")
	if len(r.m) != 1 || !r.has("police", "apsn:last") || r.has("police", "apsn:A") {
		t.Errorf("after the pair past the bound the set holds %d pairs, want only that one", len(r.m))
	}
}
