package exercise_test

import (
	"os"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
	"github.com/liaison-gateway/liaison/policies"
)

// TestCompareCorrections: a candidate that narrows the Danish release
// window (100 days before the release instead of 180) lets the first
// notice of the release date through as before, but no longer lets a
// correction that moves the date 125 days ahead through: the police are
// sent a withdrawal instead of the corrected record. Compare listed no
// changed delivery (what a correction sends was not compared); it lists
// it now, as the police's, from the prison.
func TestCompareCorrections(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	dir := candidate(t, map[string][][2]string{
		"dk/dk.rego": {{`"days_before": 180`, `"days_before": 100`}},
		"dk/dk_test.rego": {{`"time": "2026-06-17T21:59:59Z"`, `"time": "2026-09-05T21:59:59Z"`}, // midnight in Copenhagen, summer time
			{`"time": "2026-06-17T22:00:00Z"`, `"time": "2026-09-05T22:00:00Z"`}},
	})
	cand, err := policies.Load(t.Context(), os.DirFS(dir))
	if err != nil {
		t.Fatalf("the candidate does not load: %v", err)
	}
	s, err := exercise.Parse([]byte(`name: a correction under a narrower window
start: "2026-09-01"
end_day: 100
subject: {category: convicted, in_custody: true, release_date: "2026-12-15", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [release_notice]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 30, action: notify, by: dk-prison-east, event: release_date_set, to_competent: [police], purpose: risk_management}
  - {day: 31, action: acknowledge, by: dk-police-aarhus}
  - {day: 70, action: update, subject: {release_date: "2027-03-15"}}
  - {day: 70, action: correct, by: dk-prison-east, record: release_notice}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := exercise.Compare(run(t, eng, s), run(t, cand, s))
	var got []exercise.Change
	for _, ch := range c.Changes {
		if ch.Day == 70 {
			got = append(got, ch)
		}
	}
	if len(got) != 1 || got[0].Agency != "dk-police-aarhus" || got[0].Exchange != "correct release_notice from dk-prison-east" ||
		!strings.HasPrefix(got[0].Base, "sent the correction") || !strings.HasPrefix(got[0].Candidate, "sent a withdrawal instead of the correction") {
		t.Errorf("the changes of day 70: %+v; want the police's correction sent as a withdrawal under the candidate:\n%s", got, c.Markdown())
	}
	for _, ch := range c.Changes {
		if ch.Day == 30 {
			t.Errorf("a change on day 30, where both windows let the notice through: %+v", ch)
		}
	}
}
