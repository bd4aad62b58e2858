package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/policies"
)

// TestPolicyCommandsReportAMisspeltFieldName: a legal officer who
// misspells a field name in a pack's plan (the Dutch fallback's
// RiskAssessment.level as RiskAssessment.levle) changes what is disclosed:
// the name matches no field, so the field gets its class's treatment.
// `liaison policy test` (the pack checks, as `opa test` runs them) fails
// naming it, and `liaison policy simulate` of an exchange the plan
// decides says the gateway would deny it, naming it. Both passed it.
func TestPolicyCommandsReportAMisspeltFieldName(t *testing.T) {
	b, err := fs.ReadFile(policies.Embedded(), "nl/nl.rego")
	if err != nil {
		t.Fatal(err)
	}
	const right, wrong = `"keep": ["operational", "RiskAssessment.level"],`, `"keep": ["operational", "RiskAssessment.levle"],`
	if !strings.Contains(string(b), right) {
		t.Fatalf("the policy changed: %q not found in nl/nl.rego", right)
	}
	dir := t.TempDir()
	copyPolicyTree(t, dir, map[string]string{"nl/nl.rego": strings.Replace(string(b), right, wrong, 1)})

	out, _, err := policyCmd(t, "test", "-policies", dir, "-run", "every_pack_is_well_formed")
	if err == nil || !strings.Contains(out, "test_every_pack_is_well_formed: FAIL") {
		t.Errorf("policy test with a misspelt field name = %v; want the pack check to fail\n%s", err, out)
	}

	// The gateway does not activate the tree either (simulate loads it
	// as the gateway does).
	golden := filepath.Join("..", "..", "policies", "testdata", "decisions", "nl_police_request_outside_case.golden")
	if _, _, err := policyCmd(t, "simulate", "-input", golden, "-policies", dir); err == nil || !strings.Contains(err.Error(), "test_every_pack_is_well_formed") {
		t.Errorf("policy simulate under the tree with a misspelt field name = %v; want its pack check's failure", err)
	}

	// A plan the pack checks do not see (a decision of a tree of its
	// own): simulate shows the deny the gateway would make, naming it.
	own := t.TempDir()
	if err := os.MkdirAll(filepath.Join(own, "liaison"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, "liaison", "decision.rego"), []byte(`package liaison

decision := {
	"outcome": "pseudonymise", "pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"fields": {"keep": ["operational", "RiskAssessment.levle"], "generalise": [], "pseudonymise": ["direct_identifier"]},
	"conditions": [], "reasons": [{"code": "PSEUDONYMISED", "message": "Pseudonymised."}],
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = policyCmd(t, "simulate", "-input", golden, "-policies", own)
	if err == nil || !strings.Contains(err.Error(), "the gateway would deny") ||
		!strings.Contains(err.Error(), "fields.keep names RiskAssessment.levle, which is no field of the record schema") {
		t.Errorf("policy simulate of a plan with a misspelt field name = %v; want the gateway's deny naming RiskAssessment.levle\n%s", err, out)
	}
}
