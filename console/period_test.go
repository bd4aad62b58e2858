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
	s := &Server{cfg: Config{Now: func() time.Time { return now }}}
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
