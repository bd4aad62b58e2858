package gateway

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestPeerNoticeTimesHaveOneSpelling: a required notice a peer gateway
// forwards carries its deadline and escalation time as a gateway writes
// them, RFC 3339 in UTC to the second. One written with an offset
// (+02:00), in lower case or with a fraction of a second was converted and
// tracked: the same deadline in a second spelling, or, with a fraction, a
// deadline that the entry (written to the second) no longer states. It is
// refused naming forwarded.receipt, as a notice with another bad field is.
func TestPeerNoticeTimesHaveOneSpelling(t *testing.T) {
	d := func(by, esc string) map[string]string {
		return map[string]string{"notice_id": "ntc-abcdefghijklmnopqrst", "notice_rule": "dk.notice.release.police",
			"event": "release_date_set", "acknowledge_by": by, "escalate_at": esc}
	}
	created := time.Date(2027, 1, 10, 10, 0, 0, 0, time.UTC)
	n, err := peerNotice(d("2027-01-13T10:00:00Z", "2027-01-12T10:00:00Z"), "dk-police-aarhus", "dk-prison", created)
	if err != nil || !n.Deadline.Equal(time.Date(2027, 1, 13, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("peerNotice with times as a gateway writes them: %+v, %v", n, err)
	}
	for _, c := range [][2]string{
		{"2027-01-13T12:00:00+02:00", "2027-01-12T10:00:00Z"},
		{"2027-01-13T10:00:00Z", "2027-01-12T12:00:00+02:00"},
		{"2027-01-13T10:00:00+00:00", "2027-01-12T10:00:00Z"},
		{"2027-01-13T10:00:00.5Z", "2027-01-12T10:00:00Z"},
		{"2027-01-13t10:00:00z", "2027-01-12T10:00:00Z"},
	} {
		_, err := peerNotice(d(c[0], c[1]), "dk-police-aarhus", "dk-prison", created)
		var br *badRequest
		if !errors.As(err, &br) || br.field != "forwarded.receipt" {
			t.Errorf("peerNotice with acknowledge_by %q, escalate_at %q: %v, want INVALID_ARGUMENT on forwarded.receipt", c[0], c[1], err)
		}
	}
}

// TestPeerSubjectMunicipalityIsSpeltAsACallers: a peer gateway's entry
// gives the person's attributes, which enter this log and the policy input
// as they are. The category and dates were checked as a caller's are; the
// municipality was not, so one with a control character (an escape
// sequence), a decomposed letter or white space around it entered the
// log as written. The peer's answer is refused as with a bad date.
func TestPeerSubjectMunicipalityIsSpeltAsACallers(t *testing.T) {
	for _, m := range []string{"", "Aarhus", "\u00c5rhus", "Den Haag"} {
		if !validPeerSubject(&audit.Subject{Municipality: m}) {
			t.Errorf("municipality %+q refused", m)
		}
	}
	for _, m := range []string{"A\u030arhus", "Aar\x1b[31mhus", "Aar\u009bhus", "Aar\u200bhus", " Aarhus", "Aarhus\n", strings.Repeat("a", 129)} {
		if validPeerSubject(&audit.Subject{Municipality: m}) {
			t.Errorf("municipality %+q taken from a peer's entry", m)
		}
	}
}

// TestPeerMessageIsAtMost500Bytes: a peer's status message reaches the
// caller "without control characters, at most 500 bytes" (README, "A
// refusal by the peer is not its law"). A longer one was cut to 500 bytes
// and then given an ellipsis: 503 bytes.
func TestPeerMessageIsAtMost500Bytes(t *testing.T) {
	for _, m := range []string{strings.Repeat("a", 1000), strings.Repeat("å", 400), strings.Repeat("a", 499) + "\x1b[31m" + strings.Repeat("b", 10)} {
		got := peerMessage(m)
		if len(got) > 500 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Errorf("peerMessage of %d bytes: %d bytes (valid UTF-8 %v), want at most 500 ending in an ellipsis", len(m), len(got), utf8.ValidString(got))
		}
	}
	if got := peerMessage("refused\x00: not a case member"); got != "refused: not a case member" {
		t.Errorf("peerMessage kept a control character: %q", got)
	}
}
