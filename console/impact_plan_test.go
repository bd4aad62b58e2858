package console_test

import (
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/policies"
)

// TestConsoleImpactShowsThePlanCheck: the candidate's Dutch fallback
// keeps Person.full_name in clear in a pseudonymised record, which the
// engine accepts and the gateway denies POLICY_ERROR (its check of the
// plan against the record schema). The impact page showed the Dutch
// police's requests outside a case as still pseudonymised, with the name
// newly disclosed; it shows the gateway's denial.
func TestConsoleImpactShowsThePlanCheck(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	cand := filepath.Join(t.TempDir(), "candidate")
	keep := [2]string{`"keep": ["operational", "RiskAssessment.level"],`, `"keep": ["operational", "RiskAssessment.level", "Person.full_name"],`}
	edits := map[string][2]string{"nl/nl.rego": keep, "nl/nl_test.rego": keep}
	err := fs.WalkDir(policies.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			return err
		}
		if e, ok := edits[p]; ok {
			if strings.Count(string(b), e[0]) != 1 {
				t.Fatalf("the policy changed: %s has not one %q", p, e[0])
			}
			b = []byte(strings.Replace(string(b), e[0], e[1], 1))
		}
		if err := os.MkdirAll(filepath.Join(cand, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(cand, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := startConsole(t, f, dkAuditor, nil)
	hc := c.client(t)
	_, page := get(t, hc, c.url+"/impact")
	resp, body := post(t, hc, c.url+"/impact", url.Values{"csrf": {csrfOf(t, page)}, "candidate": {cand}}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("impact = %s:\n%s", resp.Status, body)
	}
	flips := regexp.MustCompile(`<span class="flip">pseudonymise → deny ×(\d+)</span>`).FindStringSubmatch(body)
	if flips == nil || !strings.Contains(body, "[POLICY_ERROR]") {
		t.Errorf("the impact shows no pseudonymise → deny flip with POLICY_ERROR:\n%s", body)
	}
	if strings.Contains(body, "Person.full_name") {
		t.Errorf("the impact shows Person.full_name disclosed:\n%s", body)
	}
}
