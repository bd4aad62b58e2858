// Package spelling holds the one rule by which Liaison keeps an identifier
// (an officer id, a subject's identifier, a municipality, a role, a
// pseudonym domain, a key name) to one spelling: which characters may not
// appear in it because a reader would not see them, so that a name with
// one would look like the name without it and yet be another.
//
// It is a leaf: it imports nothing from the project, so that the other
// leaves (policies, gateway/authn) and everything above them share the
// rule instead of each keeping a copy.
package spelling

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Unprintable reports whether r may not appear in an identifier a person
// reads: a rune that is not printable as Go means it (a control character,
// C0 or C1; a format character such as a zero-width space, a byte-order
// mark or a direction mark; a space other than U+0020; an unassigned code
// point), or one that is printable to Go but shows nothing: a
// default-ignorable code point (Unicode's Other_Default_Ignorable_Code_Point:
// the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0, the combining
// grapheme joiner U+034F, the Khmer inherent vowels U+17B4 and U+17B5) or a
// variation selector (U+FE00 to U+FE0F, U+180B to U+180F, U+E0100 to
// U+E01EF). Each would make a second spelling of an identifier that looks
// like the first.
func Unprintable(r rune) bool {
	return !unicode.IsPrint(r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r)
}

// Printable reports whether s is valid UTF-8 with no rune Unprintable
// refuses. The empty string is printable.
func Printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, Unprintable)
}
