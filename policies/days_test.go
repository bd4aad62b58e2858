package policies

import (
	"testing"
	"time"
)

// TestBasisEnded: the gateway's reading of a basis's last day (the
// aftercare timers, the notice timers, routing, DenyExpiredBasis) is the
// policy's: the end of that day in the time zone of the pack whose key
// begins the basis's id; UTC for a pack that names none or no pack.
func TestBasisEnded(t *testing.T) {
	e := loadEmbedded(t)
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		id, until, time string
		ended           bool
	}{
		{"dk.rpl.115.stk1.nr3", "2027-03-01", "2027-03-01T22:59:59Z", false},
		{"dk.rpl.115.stk1.nr3", "2027-03-01", "2027-03-01T23:00:00Z", true},
		{"dk.rpl.115.stk1.nr3", "2027-07-01", "2027-07-01T21:59:59Z", false},
		{"dk.rpl.115.stk1.nr3", "2027-07-01", "2027-07-01T22:00:00Z", true},
		{"nl.zvh.casusoverleg", "2027-03-01", "2027-03-01T23:00:00Z", true},
		{"de_by.stgb.68a", "2027-03-01", "2027-03-01T23:00:00Z", true},
		{"dk.rpl.115.stk1.nr3", "", "2099-01-01T00:00:00Z", false},
		{"xx.unknown", "2027-03-01", "2027-03-01T23:59:59Z", false},
		{"xx.unknown", "2027-03-01", "2027-03-02T00:00:00Z", true},
	} {
		if got := e.BasisEnded(tt.id, tt.until, at(tt.time)); got != tt.ended {
			t.Errorf("BasisEnded(%s, %q, %s) = %v, want %v", tt.id, tt.until, tt.time, got, tt.ended)
		}
	}
	if got := e.LatestDay(at("2027-03-01T23:30:00Z")); got != "2027-03-02" {
		t.Errorf("LatestDay at 23:30 UTC on 1 March = %s, want 2027-03-02 (Copenhagen's)", got)
	}
	var none *Engine
	if none.BasisEnded("dk.x", "2027-03-01", at("2027-03-01T23:30:00Z")) || none.LatestDay(at("2027-03-01T23:30:00Z")) != "2027-03-01" {
		t.Error("a nil engine does not count UTC days")
	}
}
