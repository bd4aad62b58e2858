package main

import (
	"testing"
)

// TestAuditOutputShowsEscapesNeverObeysThem: audit query and audit report
// print what the log holds to the auditor's terminal. A string with escape
// sequences (here: go up a line and erase it, then reverse the direction
// of what follows) could erase lines of what the auditor reads, or
// recolour or reorder them; both commands show such characters as escapes
// (\x1b, \u202e) through printable. The gateway now refuses such an
// officer id when it authenticates (TestOfficerIDHasOneSpelling in
// gateway), but a log written before that holds them, and a policy's
// citation is printed too.
func TestAuditOutputShowsEscapesNeverObeysThem(t *testing.T) {
	for in, want := range map[string]string{
		"insp.x\x1b[1A\x1b[2K\u202e":     `insp.x\x1b[1A\x1b[2K\u202e`,
		"line one\nforged line two\tcol": `line one\x0aforged line two\x09col`,
		"Retsplejeloven § 115 (æøå)":     "Retsplejeloven § 115 (æøå)",
		"zero\u200bwidth\u00adsoft":      `zero\u200bwidth\xadsoft`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}
