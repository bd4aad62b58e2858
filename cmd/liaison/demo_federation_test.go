package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestCrossBorderDemo runs `liaison demo cross-border` with a kept data
// folder: it must end with every outcome the scenario expects (the
// release notice disclosed to the Rotterdam police through both gateways,
// the risk assessment pseudonymised under Danish law, the correction
// delivered in Rotterdam carrying the required notice of the new date,
// which both gateways track and close, and acknowledged in both logs, ten
// receipts verified), and each country's log, opened from its folder as
// an auditor would, must verify against that country's own checkpoint
// key. The correction's notice is the one notice of the new date: no
// separate Notify repeats it.
func TestCrossBorderDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cross")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"demo", "cross-border", "-dir", dir}, &out, &out); err != nil {
		t.Fatalf("demo cross-border: %v\n%s", err, &out)
	}
	text := out.String()
	for _, want := range []string{
		"DISCLOSE under dk.rhl.release_abroad",
		"nl-police-rotterdam <- inbox of the Dutch gateway",
		"PSEUDONYMISED (PSEUDONYMISED_ACROSS_BORDER)",
		"a correction of Dutch entry #",
		"the police must acknowledge the new date (dk.notice.release.police)",
		", with the same deadline",
		"both gateways track notice ntc-",
		"Acknowledge up to item 2 (notice ntc-",
		"acknowledging its notice #",
		"(release_notice) from dk-prison-east to nl-police-rotterdam, done: rectify -> OK",
		"(release_date_changed) from dk-prison-east to nl-police-rotterdam, due ",
		"Danish auditor      notice ntc-",
		"Dutch auditor       notice ntc-",
		"Danish auditor      checkpoint signed by dk.liaison.test",
		"Dutch auditor       checkpoint signed by nl.liaison.test",
		"VERIFIED with the Dutch key alone",
		"VERIFIED with the Danish key alone",
		"Demo complete",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, text)
		}
	}
	checkTrail(t, text)
	// Each receipt says what the peer's entry recorded, its outcome in
	// capitals as the trail gives it: it said "(pending)", "(ok)",
	// "(pseudonymise)", neither the action nor the trail's casing.
	receipts := regexp.MustCompile(`receipt of \w+ entry #\d+ \(([^)]*)\)`).FindAllStringSubmatch(text, -1)
	if len(receipts) != 10 {
		t.Errorf("the demo names %d receipts with what their entries recorded, want 10", len(receipts))
	}
	for _, m := range receipts {
		action, outcome, ok := strings.Cut(m[1], " -> ")
		if !ok || action == "" || outcome == "" || outcome != strings.ToUpper(outcome) {
			t.Errorf("a receipt line gives %q, want the peer entry's action and its outcome in capitals (notify -> DISCLOSE)", m[0])
		}
	}
	if strings.Contains(text, "Notify") || strings.Count(text, "in time (entry #") != 2 || strings.Count(text, "key alone") != 10 {
		t.Errorf("the demo's output: want no Notify, one required notice acknowledged in time at each gateway, ten receipts verified:\n%s", text)
	}
	for _, c := range []string{"dk", "nl"} {
		skey, err := os.ReadFile(filepath.Join(dir, c, "audit-signer.key"))
		if err != nil {
			t.Fatal(err)
		}
		vkey, err := audit.VerifierKey(strings.TrimSpace(string(skey)))
		if err != nil {
			t.Fatal(err)
		}
		if n := checkLog(t, filepath.Join(dir, c, "audit.db"), nil, vkey); n < 7 {
			t.Errorf("the %s log holds %d entries, want at least 7", c, n)
		}
	}
}
