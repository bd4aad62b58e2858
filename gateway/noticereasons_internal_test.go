package gateway

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestEveryNoticeReasonHasWords: every reason code a correction,
// withdrawal or expiry notice of this gateway carries, the holder's
// (Withdraw) and the gateway's own, has its words in audit.NoticeReasons,
// which the access reports of the command and the console give. Before,
// each kept its own list, and the command's lacked two of the gateway's
// codes, which it then misreported.
func TestEveryNoticeReasonHasWords(t *testing.T) {
	codes := []string{reasonCorrected, reasonCorrectionNotAllowd, reasonNarrowed, reasonSourceWithdrawn, reasonExpired}
	for _, c := range withdrawalReasons {
		codes = append(codes, c)
	}
	for _, c := range codes {
		if w := audit.NoticeReasons[c]; w == "" {
			t.Errorf("notice reason %s has no words in audit.NoticeReasons", c)
		}
	}
	if len(audit.NoticeReasons) != len(codes) {
		t.Errorf("audit.NoticeReasons has %d codes, the gateway sends %d: %v", len(audit.NoticeReasons), len(codes), codes)
	}
}
