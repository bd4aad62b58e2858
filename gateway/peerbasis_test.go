package gateway

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestPeerBasisIsPrintable: the legal basis a peer gateway's pending entry
// names enters this log, the recipient's notices and its onward rules as
// it is. Its id and citation were checked with unicode.IsPrint alone,
// which counts a Hangul filler (U+3164) or a variation selector (U+FE0F)
// printable: a forwarded receipt with the basis "nl.wpg.16"+U+3164 was
// taken, a second spelling of the basis that looks like the first. Such a
// basis is refused now (the receipt, on forwarded.receipt); the plain one
// is taken.
func TestPeerBasisIsPrintable(t *testing.T) {
	t.Parallel()
	const id, citation = "nl.wpg.16", "Wet politiegegevens, art. 16"
	if !validPeerBasis(&audit.LegalBasis{ID: id, Citation: citation}, nil) {
		t.Fatalf("validPeerBasis(%q, %q) = false, want true", id, citation)
	}
	for _, lb := range []audit.LegalBasis{
		{ID: id + "\u3164", Citation: citation},
		{ID: "nl.wpg\u115f.16", Citation: citation},
		{ID: id + "\ufe0f", Citation: citation},
		{ID: id, Citation: citation + "\u3164"},
		{ID: id, Citation: "Wet politie\u034fgegevens, art. 16"},
	} {
		if validPeerBasis(&lb, nil) {
			t.Errorf("validPeerBasis(%+q, %+q) = true, want false", lb.ID, lb.Citation)
		}
	}
}
