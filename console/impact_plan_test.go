package console_test

import (
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/policies"
)

// TestConsoleImpactShowsThePlanCheck: the candidate's Dutch fallback
// keeps Person.full_name in clear in a pseudonymised record, which the
// engine accepts and the gateway denies POLICY_ERROR (its check of the
// plan against the record schema). The impact page showed the Dutch
// police's requests outside a case as still pseudonymised, with the name
// newly disclosed; it shows the gateway's denial. And it says what the
// check found, naming the field: under each example, and counted for the
// group (its examples stop at three). It said POLICY_ERROR only.
func TestConsoleImpactShowsThePlanCheck(t *testing.T) {
	f := startGateway(t)
	traffic := f.traffic(t)
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
	table := regexp.MustCompile(`(?s)<table id="flips">.*?</table>`).FindString(body)
	if table == "" || strings.Contains(table, "Person.full_name") {
		t.Errorf("the impact's table shows Person.full_name disclosed (or no table):\n%s", body)
	}
	// What the gateway's plan check found, under each example of a
	// POLICY_ERROR flip, and counted for the group.
	const found = "outcome pseudonymise passes the direct identifier Person.full_name in clear"
	examples := regexp.MustCompile(`(?s)<li><a href="/entry/\d+">.*?</li>`).FindAllString(body, -1)
	n := 0
	for _, ex := range examples {
		if !strings.Contains(ex, "[POLICY_ERROR]") {
			continue
		}
		n++
		if !strings.Contains(ex, `the gateway's plan check: <span class="plan-check">`+found+`</span>`) {
			t.Errorf("an example of a POLICY_ERROR flip does not say what the plan check found: %s", ex)
		}
	}
	if flips == nil || n == 0 || strconv.Itoa(n) != flips[1] {
		t.Errorf("%d examples with POLICY_ERROR, flips %v", n, flips)
	}
	if flips != nil && !strings.Contains(body, `<li><span class="plan-check">`+found+`</span> ×`+flips[1]+`</li>`) {
		t.Errorf("the group does not count what the plan check found (×%s):\n%s", flips[1], body)
	}
	for _, ex := range traffic {
		if strings.Contains(body, ex.subject) {
			t.Errorf("the impact shows the subject's identifier %s", ex.subject)
		}
	}
}
