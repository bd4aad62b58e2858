package console

import (
	"testing"
	"time"
)

// TestPeriodDefaults: a period without From is the 30 days up to To, and
// To is today by default. With only To given, in the past, From was 29
// days before today, and the page said "To is before From" for a period
// the officer never gave.
func TestPeriodDefaults(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := &Server{cfg: Config{Now: func() time.Time { return now }, Location: time.UTC}}
	for _, tt := range []struct{ from, to, wantFrom, wantTo string }{
		{"", "", "2026-11-06", "2026-12-05"},
		{"", "2026-03-31", "2026-03-02", "2026-03-31"},
		{"2026-01-01", "", "2026-01-01", "2026-12-05"},
	} {
		f := filter{From: tt.from, To: tt.to}
		from, to, err := s.period(&f)
		if err != nil {
			t.Errorf("from %q to %q: %v", tt.from, tt.to, err)
			continue
		}
		if got, want := from.Format(time.DateOnly)+".."+to.AddDate(0, 0, -1).Format(time.DateOnly), tt.wantFrom+".."+tt.wantTo; got != want {
			t.Errorf("from %q to %q: period %s, want %s", tt.from, tt.to, got, want)
		}
		if f.From != tt.wantFrom || f.To != tt.wantTo {
			t.Errorf("from %q to %q: the form shows %s..%s, want %s..%s", tt.from, tt.to, f.From, f.To, tt.wantFrom, tt.wantTo)
		}
	}
}

// TestPeriodInAZone: a period's dates are days where the console is
// (Config.Location): in Copenhagen 1 March begins at 23:00 UTC the day
// before, the day the clocks go forward has 23 hours, and today is
// Copenhagen's from 23:00 UTC.
func TestPeriodInAZone(t *testing.T) {
	cph, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 31, 22, 30, 0, 0, time.UTC) // 00:30 on 1 April in Copenhagen
	s := &Server{cfg: Config{Now: func() time.Time { return now }, Location: cph}}
	for _, tt := range []struct{ from, to, wantFrom, wantTo, wantForm string }{
		{"2027-03-01", "2027-03-01", "2027-02-28T23:00:00Z", "2027-03-01T23:00:00Z", "2027-03-01..2027-03-01"},
		{"2027-03-28", "2027-03-28", "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z", "2027-03-28..2027-03-28"},
		{"", "", "2027-03-02T23:00:00Z", "2027-04-01T22:00:00Z", "2027-03-03..2027-04-01"},
	} {
		f := filter{From: tt.from, To: tt.to}
		from, to, err := s.period(&f)
		if err != nil {
			t.Errorf("from %q to %q: %v", tt.from, tt.to, err)
			continue
		}
		if got, want := from.UTC().Format(time.RFC3339)+".."+to.UTC().Format(time.RFC3339), tt.wantFrom+".."+tt.wantTo; got != want {
			t.Errorf("from %q to %q in Copenhagen: period %s, want %s", tt.from, tt.to, got, want)
		}
		if got := f.From + ".." + f.To; got != tt.wantForm {
			t.Errorf("from %q to %q in Copenhagen: the form shows %s, want %s", tt.from, tt.to, got, tt.wantForm)
		}
	}
}
