package exercise_test

import (
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// TestErasedOnExpiryNeedsNoCorrection: an agency whose basis ended and
// that the gateway's expiry notice told to erase the record no longer
// holds it; a later correction the gateway does not send it is not a gap
// (the police, who keep their copy under their own retention rule, are
// sent the correction).
func TestErasedOnExpiryNeedsNoCorrection(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	s, err := exercise.Parse([]byte(`name: a correction after the basis ended
start: "2026-09-01"
end_day: 40
subject: {category: convicted, in_custody: false, release_date: "2025-09-05", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [release_notice]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
  - {id: dk-social-aarhus, kind: social_services, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 1, action: disclose, by: dk-prison-east, to_competent: [police, social_services], record: release_notice, purpose: risk_management}
  - {day: 20, action: correct, by: dk-prison-east, record: release_notice}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, eng, s)
	var told []string
	for _, it := range r.Items {
		if it.What == "notice" && strings.HasPrefix(it.Text, "expiry notice") {
			told = append(told, it.Agency)
		}
	}
	if len(told) != 2 {
		t.Fatalf("expiry notices to %v; the test needs both recipients told the basis ended on day 5", told)
	}
	for _, g := range r.Gaps {
		if strings.HasPrefix(g.Key, "correction/") {
			t.Errorf("gap %q: dk-social-aarhus was told to erase the release notice on day 5", g.Text)
		}
	}
}

// TestCorrectionMovesTheEnd: a correction that moves the release date
// moves the end of the Danish basis (365 days after the release) for the
// releases it corrects; the gateway sends the expiry notices the day after
// the new end. The exercise ran the expiry timers only on the days after
// the ends the first deliveries gave, so when the new end came it ran
// none, and the report showed neither recipient told: it now takes the
// ends from the releases the gateway tracks.
func TestCorrectionMovesTheEnd(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	s, err := exercise.Parse([]byte(`name: a corrected release date moves the end
start: "2026-09-01"
end_day: 60
subject: {category: convicted, in_custody: false, release_date: "2025-09-20", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [release_notice]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
  - {id: dk-social-aarhus, kind: social_services, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 1, action: disclose, by: dk-prison-east, to_competent: [police, social_services], record: release_notice, purpose: risk_management}
  - {day: 10, action: update, subject: {release_date: "2025-10-20"}}
  - {day: 10, action: correct, by: dk-prison-east, record: release_notice}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, eng, s)
	var told []string
	for _, it := range r.Items {
		if it.What == "notice" && strings.HasPrefix(it.Text, "expiry notice") {
			if it.Day != 50 || !strings.Contains(it.Text, "ended on 2026-10-20") {
				t.Errorf("%s told on day %d: %s; want day 50, of the end the correction moved to 2026-10-20", it.Agency, it.Day, it.Text)
			}
			told = append(told, it.Agency)
		}
	}
	if len(told) != 2 {
		t.Errorf("expiry notices to %v, want both recipients told on day 50:\n%s", told, r.Markdown())
	}
}
