package gateway

import (
	"errors"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestSettleKeepsNoAnswer: an exchange that ends refused or failed after
// a hit/no-hit answer was written into its entry (a match whose reference
// could not be sealed, a Request answered hit_only whose release could not
// be remembered) keeps nothing of the answer: nothing was released. The
// entry kept detail.answer, so a failed entry still told the log's readers
// that the holder held a record of the person.
func TestSettleKeepsNoAnswer(t *testing.T) {
	for _, err := range []error{
		failed("ENCODE_FAILED", errors.New("seal")),
		audit.ErrUnavailable,
		&stateRefusal{reason: "CASE_CLOSED"},
	} {
		ex := &exchange{entry: &audit.Entry{FieldsDisclosed: []string{"hit"}, Detail: map[string]string{
			"answer": "hit", "reference_expires_at": "2026-12-06T10:00:00Z", audit.DetailReleasedDigest: "sha256:00", "phase": "kept",
		}}}
		ex.settle(err)
		e := ex.entry
		if len(e.FieldsDisclosed) > 0 || e.Detail["answer"] != "" || e.Detail["reference_expires_at"] != "" || e.Detail[audit.DetailReleasedDigest] != "" {
			t.Errorf("%v: entry %s, fields %v, detail %v: it still describes a release", err, e.Outcome, e.FieldsDisclosed, e.Detail)
		}
		if e.Detail["phase"] != "kept" {
			t.Errorf("%v: detail %v lost what does not describe a release", err, e.Detail)
		}
	}
}
