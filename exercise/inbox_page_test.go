package exercise_test

import (
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// TestInboxReadInPages: the exercise reads an agency's whole inbox, page
// by page (Exchange.Subscribe gives at most 1,000 items a call). It read
// one page: an obligation notice behind a full page of earlier items was
// never seen, so neither shown nor acknowledged. The page is made two
// items long here (the test does not run in parallel with the others,
// which read it).
func TestInboxReadInPages(t *testing.T) {
	t.Cleanup(exercise.SetInboxPage(2))
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	s, err := exercise.Parse([]byte(`name: a long inbox
start: "2026-09-01"
end_day: 90
subject: {category: convicted, in_custody: true, release_date: "2026-12-15", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [release_notice]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 30, action: notify, by: dk-prison-east, event: release_date_set, to_competent: [police], purpose: risk_management}
  - {day: 40, action: update, subject: {release_date: "2026-12-20"}}
  - {day: 40, action: notify, by: dk-prison-east, event: release_date_changed, to_competent: [police], purpose: risk_management}
  - {day: 50, action: update, subject: {release_date: "2026-12-22"}}
  - {day: 50, action: notify, by: dk-prison-east, event: release_date_changed, to_competent: [police], purpose: risk_management}
  - {day: 60, action: withdraw, by: dk-prison-east, record: release_notice}
  - {day: 61, action: acknowledge, by: dk-police-aarhus}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := exercise.Run(t.Context(), eng, s)
	if err != nil {
		t.Fatal(err)
	}
	// Three releases of the notice to the police (days 30, 40 and 50),
	// each withdrawn: three withdrawal notices, each read and acknowledged.
	var told, acked int
	for _, it := range r.Items {
		switch {
		case it.Agency != "dk-police-aarhus":
		case strings.HasPrefix(it.Text, "withdrawal notice: "):
			told++
		case strings.HasPrefix(it.Text, "acknowledged the withdrawal notice of release_notice"):
			acked++
		}
	}
	if told != 3 || acked != 3 {
		t.Errorf("the police were shown %d withdrawal notices and acknowledged %d, want 3 and 3 (the withdrawn unread required notices leave the three obligation notices alone in the inbox, over two pages):\n%s", told, acked, r.Markdown())
	}
}
