package gateway

import (
	"errors"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestForwardedAckTime: the time of an acknowledgement a peer gateway
// forwards is its pending entry's, or, for one forwarded after the fact,
// the time that entry names, in UTC as gateways write it and never after
// the entry itself; any other value is refused as the forwarded receipt's
// fault.
func TestForwardedAckTime(t *testing.T) {
	t.Parallel()
	pending := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, named string // named: detail acknowledged_at, "" for none
		want        time.Time
		refused     bool
	}{
		{name: "none named", want: pending},
		{name: "earlier", named: "2026-12-03T10:15:30.123456789Z", want: time.Date(2026, 12, 3, 10, 15, 30, 123456789, time.UTC)},
		{name: "in another zone", named: "2026-12-03T11:15:30+01:00", refused: true}, // one spelling: UTC
		{name: "trailing zeros", named: "2026-12-03T10:15:30.500Z", refused: true},
		{name: "the entry's own", named: "2026-12-03T12:00:00Z", want: pending},
		{name: "after the entry", named: "2026-12-03T12:00:00.000000001Z", refused: true},
		{name: "not a time", named: "yesterday", refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Receipt{Entry: &audit.Entry{Time: pending, Detail: map[string]string{}}}
			if tc.named != "" {
				got.Entry.Detail[audit.DetailAcknowledgedAt] = tc.named
			}
			e := &audit.Entry{Detail: map[string]string{}}
			at, err := forwardedAckTime(e, got)
			var bad *badRequest
			if tc.refused {
				if !errors.As(err, &bad) || bad.field != "forwarded.receipt" || len(e.Detail) != 0 {
					t.Fatalf("forwardedAckTime(%q) = %v, %v, detail %v; want the receipt refused, nothing recorded", tc.named, at, err, e.Detail)
				}
				return
			}
			if err != nil || !at.Equal(tc.want) || at.Location() != time.UTC {
				t.Fatalf("forwardedAckTime(%q) = %v, %v; want %v, in UTC", tc.named, at, err, tc.want)
			}
			if v, ok := e.Detail[audit.DetailAcknowledgedAt]; ok != (tc.named != "") || ok && v != tc.want.Format(time.RFC3339Nano) {
				t.Errorf("entry detail %v; want acknowledged_at %s only when the pending entry named one", e.Detail, tc.want.Format(time.RFC3339Nano))
			}
		})
	}
}
