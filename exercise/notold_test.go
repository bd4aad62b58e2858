package exercise_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// TestEveryRecipientNotToldForItsOwnReasons: a disclose that no
// recipient received was decided for each recipient, and each was denied
// for reasons of its own. The report gives each recipient's row the
// reasons and words of its own entry, as it does when someone received
// it. It gave every recipient the first denial's reason instead (the
// call's status carries only that one): the Danish police were "not told"
// the prison's assessment for statistics because "risk assessments are
// never shared with an NGO", the NGO's reason, not theirs.
func TestEveryRecipientNotToldForItsOwnReasons(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	s, err := exercise.Parse([]byte(`name: a disclose nobody receives
start: "2026-09-01"
end_day: 40
subject: {category: convicted, in_custody: true, release_date: "2026-12-15", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [risk_assessment]}
  - {id: dk-ngo-exit, kind: ngo, jurisdiction: DK}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 30, action: disclose, by: dk-prison-east, record: risk_assessment, to: [dk-ngo-exit, dk-police-aarhus], purpose: statistics}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, eng, s)
	rows := map[string]exercise.Item{}
	for _, it := range r.Items {
		if it.Day == 30 {
			if _, dup := rows[it.Agency]; dup {
				t.Errorf("two rows for %s on day 30", it.Agency)
			}
			rows[it.Agency] = it
		}
	}
	ngo, police := rows["dk-ngo-exit"], rows["dk-police-aarhus"]
	if ngo.What != "withheld" || !slices.Equal(ngo.Reasons, []string{"ASSESSMENT_TO_NGO"}) {
		t.Errorf("the NGO's row: %s %v, want not told, ASSESSMENT_TO_NGO", ngo.What, ngo.Reasons)
	}
	if police.What != "withheld" || len(police.Reasons) == 0 || slices.Contains(police.Reasons, "ASSESSMENT_TO_NGO") ||
		strings.Contains(police.Message, "NGO") {
		t.Errorf("the police's row: %s %v %q, want not told for the police's own reasons, not the NGO's", police.What, police.Reasons, police.Message)
	}
	if _, ok := rows["dk-prison-east"]; ok {
		t.Errorf("a row for the prison on day 30: %+v; its call was decided for each recipient, not refused as a whole", rows["dk-prison-east"])
	}
}
