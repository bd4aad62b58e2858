package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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
	if days := checkTrail(t, out.String()); days < 2 {
		t.Errorf("the audit trail shows %d day, want the scenario's days (it spans four):\n%s", days, out.String())
	}
}

// trailLine is a line of a demo's audit trail: "#12 Wed 2 Dec 13:42:34
// action ...", its index, time and action.
var trailLine = regexp.MustCompile(`^\s+#(\d+) (\w{3} \d{1,2} \w{3} \d\d:\d\d:\d\d) (\S+)`)

// checkTrail checks the audit trail a demo prints: every entry says what
// it recorded, with no field left blank, and its outcome in capitals. An
// acknowledgement of no required notice was printed as "notice  () from
// - to , due  -> OK", and an audit read as "-> ok" with nothing of what
// was read. Each line gives its day, and no entry is dated before the
// one before it in the same log (a trail that starts again at a lower
// index is another gateway's log); it returns how many days the trail
// shows.
func checkTrail(t *testing.T, text string) (days int) {
	t.Helper()
	n := 0
	var last time.Time // the time of the line before in the same log (the year is none: 0)
	lastIdx := -1
	seen := map[string]bool{}
	for l := range strings.Lines(text) {
		m := trailLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n++
		idx, _ := strconv.Atoi(m[1])
		if idx <= lastIdx || lastIdx < 0 {
			last = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		lastIdx = idx
		at, err := time.Parse("Mon 2 Jan 15:04:05", m[2])
		if err != nil {
			t.Errorf("a line of the audit trail gives its time as %q: %v", m[2], err)
		} else if at.Before(last) {
			t.Errorf("a line of the audit trail is dated before the one before it: %s", l)
		}
		last = at
		seen[at.Format("2 Jan")] = true
		_, outcome, _ := strings.Cut(l, " -> ")
		if action := strings.TrimSuffix(m[3], ":"); action == "policy_activate" || strings.HasPrefix(action, "key_") {
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
	return len(seen)
}
