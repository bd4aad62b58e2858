package exercise_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// TestWithdrawnNoticeNeedsNoAcknowledgement: a required notice whose
// release the holder withdraws before its deadline, unacknowledged, is
// closed by the gateway: the recipient no longer has to acknowledge it. An
// expectation that the recipient learns it and acknowledges in time is not
// reported unmet for the acknowledgement it was released from; one
// withdrawn only after the deadline it missed still is.
func TestWithdrawnNoticeNeedsNoAcknowledgement(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		withdrawDay int
		gap         string
	}{
		{30, ""}, // the same day, before the deadline (day 32, 09:01)
		{35, "did not acknowledge the notice of release_date_set in time"},
	} {
		t.Run(fmt.Sprint("withdrawn on day ", tt.withdrawDay), func(t *testing.T) {
			t.Parallel()
			s, err := exercise.Parse([]byte(fmt.Sprintf(`name: a withdrawn required notice
start: "2026-09-01"
end_day: 60
subject: {category: convicted, in_custody: true, release_date: "2026-12-15", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [release_notice]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 30, action: notify, by: dk-prison-east, event: release_date_set, to_competent: [police], purpose: risk_management}
  - {day: %d, action: withdraw, by: dk-prison-east, record: release_notice}
  - {day: 36, action: acknowledge, by: dk-police-aarhus}
expect:
  - {name: police told, agency: dk-police-aarhus, event: release_date_set, by_day: 40, acknowledged: true}
`, tt.withdrawDay)))
			if err != nil {
				t.Fatal(err)
			}
			r := run(t, eng, s)
			got := ""
			for _, g := range r.Gaps {
				if g.Key == "expect/0" {
					got = g.Text
				}
			}
			switch {
			case tt.gap == "" && got != "":
				t.Errorf("gap %q for a notice withdrawn before its deadline: the police no longer had to acknowledge it", got)
			case tt.gap != "" && !strings.Contains(got, tt.gap):
				t.Errorf("gap %q, want one saying %q", got, tt.gap)
			}
		})
	}
}
