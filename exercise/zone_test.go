package exercise_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// timeOfDay is how the reports print a time: "2026-11-12 09:02".
var timeOfDay = regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}`)

// TestReportsSayTheirTimesAreUTC: a report, and a comparison, that print
// times of day (a required notice's deadline) say in which zone they are.
// They printed "acknowledge by 2026-11-12 09:02" with no zone, which an
// officer in Denmark or the Netherlands reads as local time, an hour or
// two off the deadline the gateway kept (in UTC, as its simulated clock
// runs).
func TestReportsSayTheirTimesAreUTC(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	s := scenario(t, "dk-release")
	r := run(t, eng, s)
	// Against a candidate under which nothing happened: every delivery
	// of the base is a change, with its deadline.
	c := exercise.Compare(r, &exercise.Report{Scenario: s, Revision: "sha256:none"})
	for name, out := range map[string][]byte{"Markdown report": r.Markdown(), "HTML report": r.HTML(),
		"Markdown comparison": c.Markdown(), "HTML comparison": c.HTML()} {
		text := string(out)
		if !timeOfDay.MatchString(text) {
			t.Fatalf("the %s prints no time of day; the test needs one", name)
		}
		if !strings.Contains(text, "times are UTC") {
			t.Errorf("the %s prints times such as %q without saying they are UTC", name, timeOfDay.FindString(text))
		}
	}
}
