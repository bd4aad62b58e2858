package spelling_test

import (
	"testing"

	"github.com/liaison-gateway/liaison/internal/spelling"
)

// TestPrintable: the rule refuses what a reader does not see, both what Go
// counts unprintable (controls, format characters, spaces other than
// U+0020) and what it counts printable but shows nothing (the Hangul
// fillers, the combining grapheme joiner, variation selectors), and takes
// letters of any script, U+0020 and punctuation.
func TestPrintable(t *testing.T) {
	for _, s := range []string{"", "duty_officer", "Aarhus", "Den Haag", "vagthavende_øst", "Köln", "서울", "dk-police-aarhus/risk_management"} {
		if !spelling.Printable(s) {
			t.Errorf("Printable(%+q) = false, want true", s)
		}
	}
	for _, s := range []string{"a\x00", "a\u0085", "a\u200b", "a\ufeff", "a\u202e", "a\u00a0b", "a\u3164", "\u115fa", "a\u1160", "a\uffa0",
		"a\u034f", "a\u17b4", "a\ufe0f", "a\u180b", "a\U000e0100", "a\xff"} {
		if spelling.Printable(s) {
			t.Errorf("Printable(%+q) = true, want false", s)
		}
	}
}
