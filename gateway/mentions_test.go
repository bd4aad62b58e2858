package gateway

import "testing"

// TestMentions: the subject's identifier is found however a person writes
// it (case, separators), and redacted so; a text that merely shares
// letters with it is not refused.
func TestMentions(t *testing.T) {
	const id = "SYN-NL-0003"
	for text, want := range map[string]bool{
		"Planning contact with SYN-NL-0003 next week.": true,
		"about syn-nl-0003":                            true,
		"about SYN NL 0003":                            true,
		"about synnl0003.":                             true,
		"about SYN_NL_0003":                            true,
		"about SYN-NL-0004":                            false,
		"Synthetic case, NL, 0003 hours":               false,
		"":                                             false,
	} {
		if got := mentions(text, id); got != want {
			t.Errorf("mentions(%q) = %v; want %v", text, got, want)
		}
	}
	if mentions("anything", "") {
		t.Error("an empty identifier is mentioned")
	}
	if !mentions("x-7 y", "x-7") || mentions("X7", "x-7") {
		t.Error("a short identifier is not matched exactly as spelt")
	}
	// Fewer than four letters and digits counts letters, not bytes: an
	// identifier of three (two of them two bytes long in UTF-8) is matched
	// only as spelt too, as redact replaces it.
	if !mentions("about ÆØ-1", "ÆØ-1") || mentions("about æø 1", "ÆØ-1") || mentions("about ÆØ1", "ÆØ-1") {
		t.Error("a short identifier with letters outside ASCII is not matched exactly as spelt")
	}
	if got := redact("about æø 1 and ÆØ-1", "ÆØ-1"); got != "about æø 1 and [subject]" {
		t.Errorf("redact of a short identifier = %q", got)
	}
	if !mentions("about åse 1234", "ÅSE-1234") || redact("about åse 1234", "ÅSE-1234") != "about [subject]" {
		t.Error("a longer identifier with letters outside ASCII is not found as people write it")
	}
	for text, want := range map[string]string{
		"met syn nl 0003 and SYN-NL-0003 today": "met [subject] and [subject] today",
		"nothing here":                          "nothing here",
		"Syn.Nl.0003's address":                 "[subject]'s address",
	} {
		if got := redact(text, id); got != want {
			t.Errorf("redact(%q) = %q; want %q", text, got, want)
		}
	}
}

// TestMentionsOfAnIdentifierNotInNFKC: an identifier pseudonymised before
// identifiers had to be in NFKC (decomposed, say) is still found and
// redacted in a text that writes it composed, or as it was written.
func TestMentionsOfAnIdentifierNotInNFKC(t *testing.T) {
	const id = "SYN-Bjo\u0308rn-7" // decomposed: o and a combining diaeresis
	for _, text := range []string{"Met SYN-Bjo\u0308rn-7 today.", "Met syn bj\u00f6rn 7 today.", "Met \uff33YN-Bj\u00f6rn-7 today."} {
		if !mentions(text, id) {
			t.Errorf("mentions(%+q) = false; want true", text)
		}
		if got := redact(text, id); got != "Met [subject] today." {
			t.Errorf("redact(%+q) = %+q; want the identifier replaced", text, got)
		}
	}
}
