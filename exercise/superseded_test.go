package exercise_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// TestSupersededNoticeIsNoGap: a holder corrects a record twice before
// the recipient acknowledges; the second correction replaces the first
// (the gateway closes the first as superseded, takes it out of the inbox
// and refuses its acknowledgement), so the recipient acknowledges the
// second only. The report gave the first as "obligation notice not
// acknowledged when the exercise ends", a duty no one could meet; it now
// says in the recipient's timeline that the later notice replaced it, and
// only a notice still open is a gap.
func TestSupersededNoticeIsNoGap(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ack  string
		gaps []string // the obligation gaps, by day of the notice
	}{
		{"  - {day: 80, action: acknowledge, by: dk-police-aarhus}\n", nil},
		{"", []string{"(day 75)"}},
	} {
		t.Run(fmt.Sprint("acknowledged ", tt.ack != ""), func(t *testing.T) {
			t.Parallel()
			s, err := exercise.Parse([]byte(`name: corrected twice
start: "2026-09-01"
end_day: 100
subject: {category: convicted, in_custody: true, release_date: "2026-12-15", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [risk_assessment]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 30, action: disclose, by: dk-prison-east, to: [dk-police-aarhus], record: risk_assessment, purpose: risk_management}
  - {day: 70, action: correct, by: dk-prison-east, record: risk_assessment}
  - {day: 75, action: correct, by: dk-prison-east, record: risk_assessment}
` + tt.ack))
			if err != nil {
				t.Fatal(err)
			}
			r := run(t, eng, s)
			var gaps []string
			for _, g := range r.Gaps {
				if strings.HasPrefix(g.Key, "obligation/") {
					gaps = append(gaps, g.Text[strings.LastIndex(g.Text, "("):])
				}
			}
			if fmt.Sprint(gaps) != fmt.Sprint(tt.gaps) {
				t.Errorf("obligation gaps of the notices of %v, want %v:\n%s", gaps, tt.gaps, r.Markdown())
			}
			replaced := false
			for _, it := range r.Items {
				if it.Agency == "dk-police-aarhus" && it.Day == 75 &&
					it.Text == "no longer has to acknowledge the correction notice of risk_assessment (day 70): the correction notice of risk_assessment (day 75) replaced it before it was acknowledged" {
					replaced = true
				}
				if it.What == "refused" {
					t.Errorf("refused row %q: the replaced notice is not to be acknowledged", it.Text)
				}
			}
			if !replaced {
				t.Errorf("the police's timeline does not say the day-70 notice was replaced:\n%s", r.Markdown())
			}
		})
	}
}
