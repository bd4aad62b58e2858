package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs the demo and checks the Safety House scenario's story: the
// case opened and joined, the release brought forward reaching every
// member and the competent police, one notice escalated to the duty
// officer and the sender, the log verified.
func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runDemo(t.Context(), []string{"-dir", t.TempDir()}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{
		"OpenCase NL-ZVH-RTM-0107 (kind nl.zvh) about SYN-NL-0002: OPENED under nl.zvh",
		"nl-ngo-exit accepts",
		"InviteMember nl-police-amsterdam: DENIED (NOT_CASE_LEAD)",
		"to 4 agencies, each decided and logged on its own",
		"member of case NL-ZVH-RTM-0107; also the police competent for Rotterdam; must acknowledge by",
		"ESCALATION (duty officer): release_date_changed from nl-prison-dji not acknowledged by nl-municipality-rotterdam",
		"ESCALATION (sender)",
		"2 required notices, 1 escalated, 0 not acknowledged in time",
		"log VERIFIED",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out.String())
		}
	}
	checkTrail(t, out.String())
}

// trailLine is a line of a demo's audit trail: "#12 13:42:34 action ...".
var trailLine = regexp.MustCompile(`^\s+#\d+ \d\d:\d\d:\d\d (\S+)`)

// checkTrail checks the audit trail a demo prints: every entry says what
// it recorded, with no field left blank, and its outcome in capitals. An
// acknowledgement of no required notice was printed as "notice  () from
// - to , due  -> OK", and an audit read as "-> ok" with nothing of what
// was read.
func checkTrail(t *testing.T, text string) {
	t.Helper()
	n := 0
	for l := range strings.Lines(text) {
		m := trailLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n++
		_, outcome, _ := strings.Cut(l, " -> ")
		if action := strings.TrimSuffix(m[1], ":"); action == "policy_activate" || strings.HasPrefix(action, "key_") {
			_, outcome, _ = strings.Cut(l, ": ")
		}
		outcome, _, _ = strings.Cut(strings.TrimSpace(outcome), " ")
		for _, blank := range []string{"()", " from - ", " to , ", "  "} {
			if strings.Contains(strings.TrimSpace(l), blank) {
				t.Errorf("a line of the audit trail leaves a field blank (%q): %s", blank, l)
			}
		}
		if outcome == "" || outcome != strings.ToUpper(outcome) {
			t.Errorf("a line of the audit trail gives its outcome as %q, want it in capitals: %s", outcome, l)
		}
	}
	if n < 10 {
		t.Errorf("the demo printed %d lines of audit trail, want at least 10:\n%s", n, text)
	}
}
