package exercise_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// TestCorrectionRequiredNotice: a correction that moves the release date
// carries a required notice the recipient must acknowledge in time
// (NoticeResult.notice_id), tracked by the gateway as a Notify's. The
// report shows it as it shows a Notify's: the deadline on the holder's
// row, the escalation and the late acknowledgement in the recipient's
// timeline, and the gap of a notice acknowledged after its deadline. It
// showed none of them: the police acknowledging two weeks late read as in
// order.
func TestCorrectionRequiredNotice(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	s, err := exercise.Parse([]byte(`name: a corrected release date
start: "2026-09-01"
end_day: 100
subject: {category: convicted, in_custody: true, release_date: "2026-12-15", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [release_notice]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 30, action: notify, by: dk-prison-east, event: release_date_set, to_competent: [police], purpose: risk_management}
  - {day: 31, action: acknowledge, by: dk-police-aarhus}
  - {day: 70, action: update, subject: {release_date: "2026-12-22"}}
  - {day: 70, action: correct, by: dk-prison-east, record: release_notice}
  - {day: 85, action: acknowledge, by: dk-police-aarhus}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, eng, s)
	var sent, escalated, late bool
	for _, it := range r.Items {
		switch {
		case it.Agency == "dk-prison-east" && it.What == "sent" && it.Counterpart == "dk-police-aarhus":
			sent = it.AckBy != ""
		case it.Agency == "dk-police-aarhus" && strings.HasPrefix(it.Text, "escalated to its duty role: required notice of release_date_changed"):
			escalated = true
		case it.Agency == "dk-police-aarhus" && strings.HasPrefix(it.Text, "did not acknowledge in time the required notice of release_date_changed"):
			late = true
		}
	}
	if !sent || !escalated || !late {
		t.Errorf("the correction's required notice: deadline on the holder's row %v, escalated %v, overdue %v in the timelines; want all three:\n%s", sent, escalated, late, r.Markdown())
	}
	gap := ""
	for _, g := range r.Gaps {
		if strings.HasPrefix(g.Key, "notice/dk-police-aarhus/release_date_changed/") {
			gap = g.Text
		}
	}
	if !strings.HasPrefix(gap, "required notice acknowledged late: dk-police-aarhus acknowledged the notice of release_date_changed from dk-prison-east (day 70") {
		t.Errorf("gap %q, want the correction's notice acknowledged late (day 85, due day 72); gaps: %v", gap, r.Gaps)
	}
}

// TestCorrectionMeetsEventExpectation: the recipient of a correction that
// moves the release date learns the new date from it, with the required
// notice of release_date_changed, as from a Notify of the change (no
// separate Notify is needed). An expectation that it learns of that event
// is met by the correction when acknowledged in time; the report said it
// "never received the notice of release_date_changed".
func TestCorrectionMeetsEventExpectation(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ackDay int
		gap    string
	}{
		{71, ""},
		{85, "dk-police-aarhus did not acknowledge the notice of release_date_changed in time"},
	} {
		t.Run(fmt.Sprint("acknowledged on day ", tt.ackDay), func(t *testing.T) {
			t.Parallel()
			s, err := exercise.Parse([]byte(fmt.Sprintf(`name: a corrected release date, expected
start: "2026-09-01"
end_day: 100
subject: {category: convicted, in_custody: true, release_date: "2026-12-15", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [release_notice]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 30, action: notify, by: dk-prison-east, event: release_date_set, to_competent: [police], purpose: risk_management}
  - {day: 31, action: acknowledge, by: dk-police-aarhus}
  - {day: 70, action: update, subject: {release_date: "2026-12-22"}}
  - {day: 70, action: correct, by: dk-prison-east, record: release_notice}
  - {day: %d, action: acknowledge, by: dk-police-aarhus}
expect:
  - {name: police know the new date, agency: dk-police-aarhus, event: release_date_changed, by_day: 90, form: full, acknowledged: true}
`, tt.ackDay)))
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
				t.Errorf("gap %q: the correction told the police of the new date, acknowledged in time", got)
			case tt.gap != "" && !strings.HasSuffix(got, tt.gap):
				t.Errorf("gap %q, want one ending %q", got, tt.gap)
			}
		})
	}
}

// TestReplacedNoticeIsOwedByItsReplacement: a required notice that a
// correction replaced before it was acknowledged (the correction moved the
// release date and carries a notice of its own: the recipient must
// acknowledge the new date, not the old one) was taken as "closed because
// the release was withdrawn", which meets an expectation that asks for an
// acknowledgement: the police were counted as having acknowledged the
// release date in time although they acknowledged neither notice. The
// acknowledgement owed moves to the replacing notice: the expectation is
// met when that one is acknowledged by its deadline.
func TestReplacedNoticeIsOwedByItsReplacement(t *testing.T) {
	t.Parallel()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ack string // the police's acknowledgement, if any
		gap string
	}{
		{"", "dk-police-aarhus did not acknowledge the notice of release_date_set in time"},
		{"  - {day: 32, action: acknowledge, by: dk-police-aarhus}\n", ""},
		{"  - {day: 50, action: acknowledge, by: dk-police-aarhus}\n", "dk-police-aarhus did not acknowledge the notice of release_date_set in time"},
	} {
		t.Run(fmt.Sprintf("ack %q", strings.TrimSpace(tt.ack)), func(t *testing.T) {
			t.Parallel()
			s, err := exercise.Parse([]byte(`name: a release date corrected before it was acknowledged
start: "2026-09-01"
end_day: 60
subject: {category: convicted, in_custody: true, release_date: "2026-12-15", probation_until: "2029-12-15", municipality: Aarhus, country: DK}
agencies:
  - {id: dk-prison-east, kind: prison, jurisdiction: DK, holds: [release_notice]}
  - {id: dk-police-aarhus, kind: police, jurisdiction: DK, areas: [Aarhus]}
events:
  - {day: 30, action: notify, by: dk-prison-east, event: release_date_set, to_competent: [police], purpose: risk_management}
  - {day: 31, action: update, subject: {release_date: "2026-12-22"}}
  - {day: 31, action: correct, by: dk-prison-east, record: release_notice}
` + tt.ack + `expect:
  - {name: police acknowledged the release date, agency: dk-police-aarhus, event: release_date_set, by_day: 40, form: full, acknowledged: true}
`))
			if err != nil {
				t.Fatal(err)
			}
			r := run(t, eng, s)
			// The police's timeline says the first notice was replaced by
			// the correction's, not withdrawn unread.
			if md := string(r.Markdown()); strings.Contains(md, "withdrawn unread") ||
				!strings.Contains(md, "no longer has to acknowledge the required notice of release_date_set from dk-prison-east (rule dk.notice.release.police, acknowledge by 2026-10-03 09:01): the required notice of release_date_changed with the correction (day 31) replaced it") {
				t.Errorf("the police's timeline does not say the correction's notice replaced the first:\n%s", md)
			}
			got := ""
			for _, g := range r.Gaps {
				if g.Key == "expect/0" {
					got = g.Text
				}
			}
			switch {
			case tt.gap == "" && got != "":
				t.Errorf("gap %q: the police acknowledged the correction's notice in time\n%s", got, r.Markdown())
			case tt.gap != "" && !strings.HasSuffix(got, tt.gap):
				t.Errorf("gap %q, want one ending %q\n%s", got, tt.gap, r.Markdown())
			}
		})
	}
}
