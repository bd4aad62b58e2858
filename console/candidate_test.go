package console_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/policies"
)

// writeCandidate writes the embedded policy tree to dir with one
// deliberate change: the Dutch fallback no longer pseudonymises risk
// assessments for the police outside a case, and the tests that expected
// it are changed with it (as cmd/liaison's replay test does).
func writeCandidate(t *testing.T, dir string) {
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
	edits := map[string]string{
		"nl/nl.rego": replace(read("nl/nl.rego"),
			`"recipient_kinds": ["police", "probation", "local_authority"],`, `"recipient_kinds": ["probation", "local_authority"],`),
		"nl/nl_test.rego": cut(read("nl/nl_test.rego"),
			"test_outside_a_case_police_get_a_pseudonymised_assessment if {", "test_ngo_gets_nothing_of_a_risk_assessment if {",
			"test_outside_a_case_police_get_nothing if {\n\tdecide(police_request).outcome == \"deny\"\n}\n\n"),
		"eu/eu_test.rego": cut(read("eu/eu_test.rego"),
			"test_a_pseudonymised_fallback_crosses_on_the_same_terms if {", "test_family_work_crosses_only_between_social_services if {", ""),
	}
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

// writeReleaseWindowCandidate writes the embedded policy tree to dir with
// the change exercise's TestCompareOneRule makes: the Bavarian prison may
// tell the police of a release 365 days before it instead of 180 (and the
// test of the window moves with it).
func writeReleaseWindowCandidate(t *testing.T, dir string) {
	t.Helper()
	edits := map[string][2]string{
		"de_by/de_by.rego":      {`"days_before": 180`, `"days_before": 365`},
		"de_by/de_by_test.rego": {`"time": "2026-09-01T21:59:59Z"`, `"time": "2026-02-28T22:59:59Z"`}, // the second before midnight in Munich
	}
	err := fs.WalkDir(policies.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			return err
		}
		if e, ok := edits[p]; ok {
			if !strings.Contains(string(b), e[0]) {
				t.Fatalf("the policy changed: %s has no %q", p, e[0])
			}
			b = []byte(strings.Replace(string(b), e[0], e[1], 1))
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
