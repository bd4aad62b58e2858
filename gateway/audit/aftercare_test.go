package audit_test

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestReleasesBehindAPeerAreNotTracked: a release to an agency of another
// country's gateway is tracked to the end of its basis by that gateway,
// from its own entry; this gateway's entry of it is not tracked, so that
// its timers do not send an expiry notice that has no inbox here. The
// four entries are the two sides of a push and of a request between two
// gateways, as federation logs them.
func TestReleasesBehindAPeerAreNotTracked(t *testing.T) {
	entry := func(action string, detail map[string]string) *audit.Entry {
		return &audit.Entry{Action: action, Outcome: audit.OutcomeDisclose, Detail: detail,
			Holder: &audit.Party{Agency: "dk-prison-east"}, Recipients: []audit.Party{{Agency: "nl-probation"}},
			Subject: &audit.Subject{Pseudonym: "apsn:x"}, LegalBasis: &audit.LegalBasis{ID: "dk.rpl.115", ValidUntil: "2027-12-15"}}
	}
	// Before the not_found outcome, a gateway recorded a request the holder
	// could not answer under the policy's outcome, with the reason
	// NOT_FOUND: it released nothing, so no expiry notice is owed for it.
	notFound := func(e *audit.Entry) *audit.Entry { e.Reasons = []string{"NOT_FOUND"}; return e }
	for _, c := range []struct {
		name    string
		e       *audit.Entry
		tracked bool
	}{
		{"a push forwarded to the peer (holder's side)", entry("disclose", map[string]string{"peer": "nl-gateway", "pending_index": "0"}), false},
		{"a push received from the peer (recipient's side)", entry("disclose", map[string]string{"via_peer": "dk-gateway", "peer_index": "0"}), true},
		{"a request the peer forwarded (holder's side)", entry("request", map[string]string{"via_peer": "nl-gateway", "peer_index": "0"}), false},
		{"a request forwarded to the peer (recipient's side)", entry("request", map[string]string{"peer": "dk-gateway", "pending_index": "0"}), true},
		{"a correction forwarded to the peer", entry(audit.ActionCorrect, map[string]string{"peer": "nl-gateway", audit.DetailNoticeKind: audit.NoticeCorrection, audit.DetailRefersTo: "1"}), false},
		{"a correction received from the peer", entry(audit.ActionCorrect, map[string]string{"via_peer": "dk-gateway", audit.DetailNoticeKind: audit.NoticeCorrection, audit.DetailRefersTo: "1"}), true},
		{"a release at home", entry("disclose", nil), true},
		{"an older gateway's request the holder could not answer", notFound(entry("request", nil)), false},
	} {
		ch := audit.ProjectAftercare([]audit.Record{{Index: 7, Entry: c.e}})
		if got := len(ch.Releases) == 1; got != c.tracked {
			t.Errorf("%s: tracked %v, want %v", c.name, got, c.tracked)
		}
	}
}

// SubjectTag takes the 8 bytes after "apsn:", as the migrations' SQL does
// (substr from the 6th byte, 8 long): fewer from a shorter pseudonym,
// none from one of 5 bytes or fewer.
func TestSubjectTag(t *testing.T) {
	for in, want := range map[string]string{
		"apsn:ABCDEFGHIJKLMNOPQRSTUVWXYZ": "ABCDEFGH",
		"apsn:s1":                         "s1",
		"apsn:":                           "",
		"apsn":                            "",
		"":                                "",
	} {
		if got := audit.SubjectTag(in); string(got) != want || got == nil {
			t.Errorf("SubjectTag(%q) = %q, want %q (not nil)", in, got, want)
		}
	}
}
