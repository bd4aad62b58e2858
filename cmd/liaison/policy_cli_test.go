package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/policies"
)

// policyCmd runs "liaison policy args..." and returns its output.
func policyCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runPolicy(t.Context(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// copyPolicyTree writes the embedded policy tree into dir, with the files
// in edits replaced.
func copyPolicyTree(t *testing.T, dir string, edits map[string]string) {
	t.Helper()
	err := fs.WalkDir(policies.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			return err
		}
		if e, ok := edits[p]; ok {
			b = []byte(e)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// withoutNLPoliceFallback returns the edits of a deliberate candidate
// change: the Dutch fallback no longer pseudonymises for the police, and
// the tests that expected it are changed with it.
func withoutNLPoliceFallback(t *testing.T) map[string]string {
	t.Helper()
	read := func(p string) string {
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	replace := func(src, old, new string) string {
		if !strings.Contains(src, old) {
			t.Fatalf("the policy changed: %q not found", old)
		}
		return strings.Replace(src, old, new, 1)
	}
	cut := func(src, from, to, insert string) string {
		i, j := strings.Index(src, from), strings.Index(src, to)
		if i < 0 || j < i {
			t.Fatalf("the policy changed: %q ... %q not found", from, to)
		}
		return src[:i] + insert + src[j:]
	}
	return map[string]string{
		"nl/nl.rego": replace(read("nl/nl.rego"),
			`"recipient_kinds": ["police", "probation", "local_authority"],`, `"recipient_kinds": ["probation", "local_authority"],`),
		"nl/nl_test.rego": cut(read("nl/nl_test.rego"),
			"test_outside_a_case_police_get_a_pseudonymised_assessment if {", "test_ngo_gets_nothing_of_a_risk_assessment if {",
			"test_outside_a_case_police_get_nothing if {\n\tdecide(police_request).outcome == \"deny\"\n}\n\n"),
		"eu/eu_test.rego": cut(read("eu/eu_test.rego"),
			"test_a_pseudonymised_fallback_crosses_on_the_same_terms if {", "test_family_work_crosses_only_between_social_services if {", ""),
	}
}

func TestPolicyHelp(t *testing.T) {
	out, _, err := policyCmd(t, "-h")
	if err != nil || !strings.Contains(out, "readiness") {
		t.Errorf("policy -h = %q, %v", out, err)
	}
	for _, sub := range []string{"test", "simulate", "replay", "readiness", "bundle"} {
		_, errOut, err := policyCmd(t, sub, "-h")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "Usage: liaison policy "+sub) {
			t.Errorf("policy %s -h = %v, %q", sub, err, errOut)
		}
	}
	if _, _, err := policyCmd(t, "frobnicate"); err == nil {
		t.Error("policy frobnicate succeeded")
	}
}

func TestPolicyTestCommand(t *testing.T) {
	out, _, err := policyCmd(t, "test", "-coverage")
	if err != nil {
		t.Fatalf("policy test: %v\n%s", err, out)
	}
	for _, want := range []string{"test_cleared_police_member_gets_the_case_plan: PASS", "PASS: ", "liaison/decision.rego", "total"} {
		if !strings.Contains(out, want) {
			t.Errorf("policy test output lacks %q", want)
		}
	}
	if strings.Contains(out, "_test.rego  ") {
		t.Error("coverage lists test files")
	}

	dir := t.TempDir()
	copyPolicyTree(t, dir, map[string]string{"nl/nl.rego": withoutNLPoliceFallback(t)["nl/nl.rego"]})
	out, _, err = policyCmd(t, "test", "-policies", dir, "-run", "outside_a_case_police")
	if err == nil || !strings.Contains(out, "test_outside_a_case_police_get_a_pseudonymised_assessment: FAIL") || !strings.Contains(err.Error(), "1 of 1 tests failed") {
		t.Errorf("policy test on a changed pack without changed tests = %v\n%s", err, out)
	}
}

func TestPolicySimulate(t *testing.T) {
	golden := filepath.Join("..", "..", "policies", "testdata", "decisions", "dk_release_notice_to_police.golden")
	out, _, err := policyCmd(t, "simulate", "-input", golden)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	for _, want := range []string{
		"outcome:          disclose", "legal basis:      dk.rpl.115.stk1.nr3", "valid until:      2027-12-15",
		"decided at stage legal_basis", "basis dk.rpl.115.stk1.nr3: applies and was chosen",
		"rests on unverified readings of the law", "matches the file's expected decision",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate output lacks %q:\n%s", want, out)
		}
	}

	// A bare input, as JSON.
	var g struct {
		Input policies.Input `json:"input"`
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	g.Input.Purpose = "criminal_investigation"
	in := filepath.Join(t.TempDir(), "in.json")
	b, _ = json.Marshal(g.Input)
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = policyCmd(t, "simulate", "-input", in, "-format", "json")
	var res struct {
		Decision    policies.Decision `json:"decision"`
		Stage       string            `json:"stage"`
		Assumptions []string          `json:"assumptions"`
	}
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || res.Decision.Outcome != "deny" || res.Stage != "prohibition" || res.Decision.Reasons[0].Code != "PURPOSE_PROHIBITED" {
		t.Errorf("simulate -format json = %v, %+v\n%s", err, res, out)
	}

	// A notify the pack requires to be acknowledged shows the notice.
	notify := filepath.Join("..", "..", "policies", "testdata", "decisions", "dk_release_date_brought_forward_to_the_competent_police.golden")
	out, _, err = policyCmd(t, "simulate", "-input", notify)
	if err != nil || !regexp.MustCompile(`(?m)^notice: +required by dk\.notice\.[a-z_.]+ \(.+\): acknowledge by \S+Z, escalated at \S+Z$`).MatchString(out) {
		t.Errorf("simulate of a required notice = %v; want a notice line:\n%s", err, out)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"action": "request", "requestor": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := policyCmd(t, "simulate", "-input", bad); err == nil || !strings.Contains(err.Error(), "does not follow the input contract") {
		t.Errorf("simulate with a misspelt field = %v", err)
	}
}

func TestPolicyBundleCommand(t *testing.T) {
	dir := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, pubFile, bundle := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem"), filepath.Join(dir, "policy.tar.gz")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	copyPolicyTree(t, tree, nil)
	out, _, err := policyCmd(t, "bundle", "-policies", tree, "-out", bundle, "-signing-key", keyFile, "-public-key-out", pubFile)
	if err != nil || !strings.Contains(out, "digest   sha256:") {
		t.Fatalf("policy bundle = %v\n%s", err, out)
	}
	// The bundle serves every command, with its key.
	if out, _, err := policyCmd(t, "test", "-policies", bundle, "-verification-key", pubFile); err != nil || !strings.Contains(out, "bundle:"+bundle) {
		t.Errorf("policy test on the bundle = %v\n%s", err, out)
	}
	if _, _, err := policyCmd(t, "readiness", "-jurisdiction", "NL", "-policies", bundle); err == nil || !strings.Contains(err.Error(), "-verification-key is required") {
		t.Errorf("a bundle without a key = %v", err)
	}
	// A broken tree gives no bundle.
	broken := filepath.Join(dir, "broken")
	copyPolicyTree(t, broken, map[string]string{"be/be.rego": "package liaison.jurisdictions.be\n\ncode := \n"})
	if _, _, err := policyCmd(t, "bundle", "-policies", broken, "-out", filepath.Join(dir, "broken.tar.gz"), "-signing-key", keyFile); err == nil || !strings.Contains(err.Error(), "no bundle was written") {
		t.Errorf("policy bundle of a broken tree = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "broken.tar.gz")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a bundle of the broken tree was written: %v", err)
	}
	// A signing key that group or others may read or write is refused, as
	// ssh refuses one, naming the file and the fix; no bundle is written.
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		os.Chmod(keyFile, mode)
		open := filepath.Join(dir, "open.tar.gz")
		_, _, err := policyCmd(t, "bundle", "-policies", tree, "-out", open, "-signing-key", keyFile)
		if err == nil || !strings.Contains(err.Error(), keyFile) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("policy bundle with a %04o signing key = %v; want it refused, naming the file and the fix (chmod 600)", mode, err)
		}
		if _, err := os.Stat(open); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a bundle was written with a %04o signing key: %v", mode, err)
		}
	}
}

// TestPolicySimulateReadsKeysAsSpelt: simulate reads the input as OPA and
// the gateway do, key by key as spelt. A key of the contract in another
// case ("Purpose") is not the contract's key: opa eval ignores it and
// decides on purpose, so simulate must not decide on it either; it refuses
// the file, naming the key, in a bare input and in a golden file alike.
func TestPolicySimulateReadsKeysAsSpelt(t *testing.T) {
	golden := filepath.Join("..", "..", "policies", "testdata", "decisions", "dk_release_notice_to_police.golden")
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Input map[string]any `json:"input"`
		Want  any            `json:"want"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	in := g.Input
	in["Purpose"] = "criminal_investigation" // beside "purpose": "risk_management"
	bare, _ := json.Marshal(in)
	wrapped, _ := json.Marshal(map[string]any{"name": "x", "input": in, "want": g.Want})
	for name, doc := range map[string][]byte{"bare input": bare, "golden file": wrapped} {
		f := filepath.Join(t.TempDir(), "in.json")
		if err := os.WriteFile(f, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, err := policyCmd(t, "simulate", "-input", f)
		if err == nil || !strings.Contains(err.Error(), "does not follow the input contract") || !strings.Contains(err.Error(), `Purpose"`) {
			t.Errorf("%s: simulate with a key \"Purpose\" = %v; want a refusal naming the key\n%s", name, err, out)
		}
	}
}

// TestPolicySimulateReadsLeftOutListsAsEmpty: a legal officer writes the
// expected decision of a golden file by hand, as policies/README.md
// describes decisions: a denial has no fields and no conditions ([]), a
// field listed nowhere is dropped. An expected deny that leaves the lists
// out, or writes them null, is the policy's deny, whose lists are []:
// simulate says it matches. Without it simulate said the decision DIFFERS
// (null is not []) and exited 1 on a golden file that was right. A real
// difference still differs.
func TestPolicySimulateReadsLeftOutListsAsEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "liaison"), 0o755); err != nil {
		t.Fatal(err)
	}
	rego := `package liaison

decision := {
	"outcome": "deny", "fields": {"keep": [], "generalise": [], "pseudonymise": []}, "conditions": [],
	"reasons": [{"code": "PURPOSE_PROHIBITED", "message": "Prohibited."}],
}
`
	if err := os.WriteFile(filepath.Join(dir, "liaison", "decision.rego"), []byte(rego), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "policies", "testdata", "decisions", "dk_release_notice_for_criminal_investigation.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	reasons := []any{map[string]any{"code": "PURPOSE_PROHIBITED", "message": "Prohibited."}}
	for name, w := range map[string]map[string]any{
		"left out":       {"outcome": "deny", "reasons": reasons},
		"null":           {"outcome": "deny", "fields": map[string]any{"keep": nil, "generalise": nil, "pseudonymise": nil}, "conditions": nil, "reasons": reasons},
		"fields partial": {"outcome": "deny", "fields": map[string]any{"keep": []any{}}, "conditions": []any{}, "reasons": reasons},
	} {
		g["want"] = w
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".golden")
		b, _ := json.Marshal(g)
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, err := policyCmd(t, "simulate", "-policies", dir, "-input", f)
		if err != nil || !strings.Contains(out, "The decision matches the file's expected decision.") {
			t.Errorf("%s: simulate = %v; want a match: an expected deny with its lists %s is the policy's deny\n%s", name, err, name, out)
		}
	}
	g["want"] = map[string]any{"outcome": "deny", "conditions": []any{"NO_ONWARD_DISCLOSURE"}, "reasons": reasons}
	f := filepath.Join(dir, "differs.golden")
	b, _ = json.Marshal(g)
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, err := policyCmd(t, "simulate", "-policies", dir, "-input", f); err == nil || !strings.Contains(out, "DIFFERS") {
		t.Errorf("simulate with an expected condition the deny does not have = %v; want DIFFERS\n%s", err, out)
	}
}

// goldenInput is the policy input of the golden decision name
// (policies/testdata/decisions), as JSON reads it.
func goldenInput(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "policies", "testdata", "decisions", name+".golden"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Input map[string]any `json:"input"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g.Input
}

// TestPolicySimulateReadsNullConditionsAsNone: simulate's input contract
// lets a list be null (policies.UnmarshalExact refuses null only for a
// string, a number or true/false), and policies/README.md reads a list
// left out or null as the empty list. An input whose
// provenance.conditions is null, or left out, is the same exchange as one
// with [] (what the gateway sends): the same decision. Without it the
// policy denied INVALID_PROVENANCE, a decision the gateway never makes for
// the exchange the officer meant.
func TestPolicySimulateReadsNullConditionsAsNone(t *testing.T) {
	in := goldenInput(t, "dk_police_pass_a_115_release_notice_on_refused")
	prov, ok := in["provenance"].(map[string]any)
	if !ok {
		t.Fatal("the golden input has no provenance")
	}
	simulate := func(name string, conditions any, leftOut bool) string {
		if leftOut {
			delete(prov, "conditions")
		} else {
			prov["conditions"] = conditions
		}
		doc, _ := json.Marshal(in)
		f := filepath.Join(t.TempDir(), "in.json")
		if err := os.WriteFile(f, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, err := policyCmd(t, "simulate", "-format", "json", "-input", f)
		if err != nil {
			t.Fatalf("%s: simulate = %v\n%s", name, err, out)
		}
		return out
	}
	want := simulate("[]", []any{}, false)
	if strings.Contains(want, "INVALID_PROVENANCE") {
		t.Fatalf("conditions []: %s", want)
	}
	for name, got := range map[string]string{
		"null":     simulate("null", nil, false),
		"left out": simulate("left out", nil, true),
	} {
		if got != want {
			t.Errorf("conditions %s: simulate gave\n%s\nwant the decision for [] (the gateway's input)\n%s", name, got, want)
		}
	}
}

// TestPolicySimulateRefusesAnUnknownRequesterStatus: policies/README.md
// gives a case's requester_status as lead, member, invited or none; a
// value outside that set makes the exchange's input malformed (deny,
// INVALID_CASE), as an unknown clearance or subject category does, where
// before the policy ignored it and decided as if it were not there.
func TestPolicySimulateRefusesAnUnknownRequesterStatus(t *testing.T) {
	in := goldenInput(t, "nl_police_pass_an_assessment_on_in_the_case_with_its_conditions")
	c, ok := in["case"].(map[string]any)
	if !ok {
		t.Fatal("the golden input has no case")
	}
	for status, deny := range map[string]bool{"member": false, "bogus": true} {
		c["requester_status"] = status
		doc, _ := json.Marshal(in)
		f := filepath.Join(t.TempDir(), "in.json")
		if err := os.WriteFile(f, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, err := policyCmd(t, "simulate", "-input", f)
		if err != nil {
			t.Fatalf("requester_status %q: simulate = %v\n%s", status, err, out)
		}
		if got := strings.Contains(out, "INVALID_CASE"); got != deny {
			t.Errorf("requester_status %q: INVALID_CASE in the decision = %v, want %v\n%s", status, got, deny, out)
		}
	}
}
