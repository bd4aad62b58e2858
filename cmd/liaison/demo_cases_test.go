package main

import (
	"bytes"
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
}
