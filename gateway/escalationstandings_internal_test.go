package gateway

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestEveryEscalationStandingHasWords: every recipient_standing an
// escalation's entry records, which ListNotices gives as
// TrackedNotice.escalation_recipient_standing, has its words in
// audit.EscalationStandings, every sender_standing
// (TrackedNotice.escalation_sender_standing) has its words in
// audit.SenderStandings, and every forward_pending_reason the
// listings give has its words in audit.ForwardWaits: the command's and
// the console's listings of notices say them in those words, so that a
// reader tells "the recipient did not acknowledge it" from "it was
// offboarded" or "the peer says it offboarded us", and "the sender was
// told" from "it was not".
func TestEveryEscalationStandingHasWords(t *testing.T) {
	for _, c := range []struct {
		name  string
		words map[string]string
		codes []string
	}{
		{"audit.EscalationStandings", audit.EscalationStandings,
			[]string{standingOffboarded, standingUnregistered, standingUntracked, standingOffboardedAtPeer, standingUnknownAtPeer}},
		{"audit.SenderStandings", audit.SenderStandings,
			[]string{standingOffboarded, standingUnregistered}},
		{"audit.ForwardWaits", audit.ForwardWaits,
			[]string{reasonPeerOffboarded, reasonPeerNotRegistered, reasonPeerUnavailable, reasonUnknownAtPeer, reasonOffboardedAtPeer,
				reasonAgencyUnknownAtPeer, reasonAgencyOffboardedAtPeer}},
	} {
		for _, code := range c.codes {
			if c.words[code] == "" {
				t.Errorf("%s has no words for %q", c.name, code)
			}
		}
		if len(c.words) != len(c.codes) {
			t.Errorf("%s has %d values, the gateway gives %d: %v", c.name, len(c.words), len(c.codes), c.codes)
		}
	}
}
