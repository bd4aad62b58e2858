package console

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestOneIsSingular: the console wrote "1 entries over 1 days" under a
// chart, "1 hours past the deadline" on the notices page, and "1
// decisions replayed: 1 flip, 1 change fields ... 1 entries read" on the
// impact page. One of anything is singular, and so is its verb.
func TestOneIsSingular(t *testing.T) {
	t.Parallel()
	one := []series{{Label: "2026-12-01", Counts: map[string]int{"disclose": 1}}}
	if got, want := describe(one, "day", "days"), "1 entry over 1 day; the most, 1, for 2026-12-01."; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
	two := append(one, series{Label: "2026-12-02", Counts: map[string]int{"deny": 2}})
	if got, want := describe(two, "day", "days"), "3 entries over 2 days; the most, 2, for 2026-12-02."; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		late time.Duration
		want string
	}{
		{90 * time.Minute, "1 hour past the deadline"},
		{150 * time.Minute, "2 hours past the deadline"},
		{50 * time.Hour, "2 days past the deadline"},
	} {
		if got := lateness(now.Add(-c.late), now); got != c.want {
			t.Errorf("lateness(%s) = %q, want %q", c.late, got, c.want)
		}
	}

	pages, err := parsePages(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	d := impactData{From: "2026-12-01", To: "2026-12-05", Report: &impact{
		Candidate: "sha256:00", Source: "dir:cand", Read: 1, Replayed: 1, Flips: 1, FieldOnly: 1, ConditionsOnly: 1,
	}}
	if err := pages["impact"].ExecuteTemplate(&buf, "layout", page{Title: "Impact", Nav: "impact", Data: d}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(buf.String()), " ")
	if want := "1 decision replayed: 1 flips, 1 changes fields or legal basis only, 1 changes conditions only, 0 unchanged.</strong> 1 entry read."; !strings.Contains(got, want) {
		t.Errorf("the impact page's summary of one decision; want %q in:\n%s", want, got)
	}
}
