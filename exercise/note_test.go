package exercise_test

import (
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// TestAcknowledgementShowsItsNote: an acknowledge event's note is shown on
// the rows it makes, as every other event's is: the acknowledgement of the
// required notice, and of the correction notice as done. The report
// dropped it (a notice's row never showed a note), so the worked
// scenarios' "Release date corrected in our system" and the like were in
// no report.
func TestAcknowledgementShowsItsNote(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	s, err := exercise.Parse([]byte(`name: an acknowledgement with a note
start: "2026-09-01"
end_day: 60
subject: {category: convicted, in_custody: true, release_date: "2026-12-15", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [release_notice]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 30, action: notify, by: dk-prison-east, event: release_date_set, to_competent: [police], purpose: risk_management}
  - {day: 31, action: acknowledge, by: dk-police-aarhus, note: "Entered in the release plan."}
  - {day: 40, action: correct, by: dk-prison-east, record: release_notice}
  - {day: 41, action: acknowledge, by: dk-police-aarhus, note: "Corrected in our files."}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, eng, s)
	var police []exercise.TimelineRow
	for _, tl := range r.Timelines() {
		if tl.Agency.ID == "dk-police-aarhus" {
			police = tl.Rows
		}
	}
	for _, want := range []struct{ what, note string }{
		{"acknowledged the required notice of release_date_set", "Entered in the release plan."},
		{"acknowledged the correction notice of release_notice", "Corrected in our files."},
	} {
		found := false
		for _, row := range police {
			if strings.HasPrefix(row.What, want.what) {
				found = true
				if !strings.Contains(row.Detail, want.note) {
					t.Errorf("the row %q says %q, without the acknowledge event's note %q", row.What, row.Detail, want.note)
				}
			}
		}
		if !found {
			t.Errorf("no row %q in the police's timeline:\n%s", want.what, r.Markdown())
		}
	}
	// The note is the acknowledgement's, not the notice's: the delivery
	// before it carries none.
	for _, row := range police {
		if strings.HasPrefix(row.What, "learned") && row.Detail != "" && strings.Contains(row.Detail, "release plan") {
			t.Errorf("the delivery %q carries the acknowledgement's note: %q", row.What, row.Detail)
		}
	}
}
