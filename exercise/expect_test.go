package exercise_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// TestUnmetExpectationSaysWhatCameClosest: an expectation (the police have
// the assessment in full by day 8) that the exercise does not meet because
// the police got it in full only on day 10 says so, even when they had
// got something less (a pseudonymised copy) before: the gap names what
// came closest to meeting it, not merely what came first.
func TestUnmetExpectationSaysWhatCameClosest(t *testing.T) {
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "nl-case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(b), "events:\n", "events:\n  - {day: 2, action: request, by: nl-police-rotterdam, holder: nl-probation, record: risk_assessment, purpose: risk_management}\n", 1)
	y = strings.Replace(y, "expect:\n", "expect:\n  - {name: the police have the assessment in full, agency: nl-police-rotterdam, record: risk_assessment, by_day: 8, form: full}\n", 1)
	s, err := exercise.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, eng, s)
	var forms []string
	for _, it := range r.Items {
		if it.Agency == "nl-police-rotterdam" && it.Record == "risk_assessment" && it.What == "received" {
			forms = append(forms, it.Form())
		}
	}
	if strings.Join(forms, ",") != "pseudonymised,full" {
		t.Fatalf("the police received the assessment as %v; the test needs a pseudonymised copy on day 2 and the full one later", forms)
	}
	for _, g := range r.Gaps {
		if g.Key != "expect/0" {
			continue
		}
		if !strings.Contains(g.Text, "received risk_assessment only on day 10") {
			t.Errorf("gap %q, want it to say the police received the assessment in full only on day 10", g.Text)
		}
		return
	}
	t.Fatalf("no gap for the expectation; gaps %v", r.Gaps)
}
