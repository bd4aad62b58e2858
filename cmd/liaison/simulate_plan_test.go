package main

import (
	"encoding/json"
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

// TestPolicySimulateShowsTheGatewaysDenyOfAnEndedBasis: a decision that
// releases under a basis whose valid_until is before the exchange's day
// is one the gateway does not make: it denies the exchange
// LEGAL_BASIS_EXPIRED (policies.DenyExpiredBasis), as replay shows it.
// `liaison policy simulate` shows that deny, and why, instead of the
// policy's disclose: simulate never shows a decision the gateway does not
// make (policies/README.md). Without it a legal officer simulating a
// candidate whose validity window is a day off saw the exchange released.
func TestPolicySimulateShowsTheGatewaysDenyOfAnEndedBasis(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "liaison"), 0o755); err != nil {
		t.Fatal(err)
	}
	rego := `package liaison

decision := {
	"outcome": "disclose", "pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"legal_basis": {"id": "zz.ended", "citation": "A basis that ended", "valid_until": "2026-11-25"},
	"fields": {"keep": ["operational"], "generalise": [], "pseudonymise": []}, "conditions": ["NO_ONWARD_DISCLOSURE"],
	"reasons": [{"code": "LEGAL_BASIS_APPLIES", "message": "Applies."}],
}
`
	if err := os.WriteFile(filepath.Join(dir, "liaison", "decision.rego"), []byte(rego), 0o644); err != nil {
		t.Fatal(err)
	}
	// The golden input's time is 2026-11-26T10:00:00Z: the day after the
	// basis's last.
	golden := filepath.Join("..", "..", "policies", "testdata", "decisions", "dk_release_notice_to_police.golden")
	var in struct {
		Input json.RawMessage `json:"input"`
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "input.json")
	if err := os.WriteFile(input, in.Input, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := policyCmd(t, "simulate", "-policies", dir, "-input", input)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	for _, want := range []string{"outcome:          deny\n", "LEGAL_BASIS_EXPIRED", "the gateway denies this exchange", "zz.ended", "2026-11-25"} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate printed no %q; want the gateway's deny of the ended basis\n%s", want, out)
		}
	}
	if strings.Contains(out, "outcome:          disclose") || strings.Contains(out, "conditions:") {
		t.Errorf("simulate shows the release the gateway refuses\n%s", out)
	}
	js, _, err := policyCmd(t, "simulate", "-policies", dir, "-input", input, "-format", "json")
	if err != nil {
		t.Fatalf("simulate -format json: %v", err)
	}
	var got struct {
		Decision struct {
			Outcome string `json:"outcome"`
			Reasons []struct {
				Code string `json:"code"`
			} `json:"reasons"`
		} `json:"decision"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	if got.Decision.Outcome != "deny" || len(got.Decision.Reasons) == 0 || got.Decision.Reasons[0].Code != "LEGAL_BASIS_EXPIRED" {
		t.Errorf("simulate -format json: decision %+v; want deny, LEGAL_BASIS_EXPIRED", got.Decision)
	}
}
