package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicySimulateShowsThePlanCheck: `liaison policy simulate` shows
// what the gateway would do, so a pseudonymise decision whose plan keeps a
// direct identifier in clear (here Person.full_name by name), which the
// gateway denies POLICY_ERROR, is reported as a decision the gateway would
// deny, naming the field, not as a pseudonymised release.
func TestPolicySimulateShowsThePlanCheck(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "liaison"), 0o755); err != nil {
		t.Fatal(err)
	}
	rego := `package liaison

decision := {
	"outcome": "pseudonymise", "pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"fields": {"keep": ["operational", "Person.full_name"], "generalise": [], "pseudonymise": ["direct_identifier"]}, "conditions": [],
	"reasons": [{"code": "PSEUDONYMISED", "message": "Pseudonymised."}],
}
`
	if err := os.WriteFile(filepath.Join(dir, "liaison", "decision.rego"), []byte(rego), 0o644); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("..", "..", "policies", "testdata", "decisions", "dk_release_notice_to_police.golden")
	out, _, err := policyCmd(t, "simulate", "-policies", dir, "-input", golden)
	if err == nil || !strings.Contains(err.Error(), "the gateway would deny") || !strings.Contains(err.Error(), "Person.full_name") {
		t.Errorf("simulate = %v; want the gateway's denial naming Person.full_name\n%s", err, out)
	}
}
