package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestCrossBorderDemo runs `liaison demo cross-border` with a kept data
// folder: it must end with every outcome the scenario expects (the
// release notice disclosed to the Rotterdam police through both gateways,
// the risk assessment pseudonymised under Danish law, the correction
// delivered in Rotterdam and acknowledged in both logs, the required
// notice of the new date tracked and closed in both logs, the correction's
// and the Notify's, fourteen receipts verified), and each country's log,
// opened from its folder as an auditor would, must verify against that
// country's own checkpoint key.
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
		"acknowledging its notice #",
		"(release_notice) from dk-prison-east to nl-police-rotterdam, done: rectify -> OK",
		"Danish law: the police must acknowledge it (dk.notice.release.police)",
		"with the same deadline; the Danish gateway logged #",
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
