package main

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestPeerEntryMustRecordItsRelease: the Danish gateway answers a Dutch
// request for the Danish prison's risk assessment with the record, and a
// receipt that verifies, of an entry that records something else than it
// released: a hit-only answer (while the record goes out in full), other
// fields, other conditions, another legal basis, or another outcome. The
// Dutch gateway would log what the Danish entry says beside a record
// that says otherwise; it delivers nothing: its final entry says failed,
// PEER_RECEIPT_INVALID, and the officer gets no record.
func TestPeerEntryMustRecordItsRelease(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	for _, tc := range []struct {
		name   string
		change func(e *audit.Entry)
	}{
		{"HitOnly", func(e *audit.Entry) {
			e.Outcome, e.FieldsDisclosed, e.Detail["answer"] = audit.OutcomeHitOnly, []string{"hit"}, "hit"
		}},
		{"FewerFields", func(e *audit.Entry) { e.FieldsDisclosed = e.FieldsDisclosed[:1] }},
		{"OtherConditions", func(e *audit.Entry) { e.Conditions = []string{"NO_ONWARD_TRANSFER"} }},
		{"OtherLegalBasis", func(e *audit.Entry) { e.LegalBasis.ID = "dk.rhl.other" }},
		{"OtherOutcome", func(e *audit.Entry) {
			if e.Outcome == audit.OutcomeDisclose {
				e.Outcome = audit.OutcomePseudonymise
			} else {
				e.Outcome = audit.OutcomeDisclose
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "insp." + strings.ToLower(tc.name)
			h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
				if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" {
					r.Receipt = h.forge(t, r.Receipt, tc.change, "")
				}
				return resp, err
			})
			defer h.setAnswer(nil)
			resp, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest)
			if err == nil {
				t.Fatalf("Request = %v with record %v; want nothing delivered", resp.GetReleased().GetOutcome(), resp.GetReleased().GetRecord() != nil)
			}
			if errorReason(err) != "PEER_RECEIPT_INVALID" {
				t.Errorf("Request: %v; want reason PEER_RECEIPT_INVALID", err)
			}
			nl := f.nl.entries(t, officer)
			if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Contains(nl[0].Reasons, "PEER_RECEIPT_INVALID") {
				var got []string
				for _, e := range nl {
					got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+strings.Join(e.FieldsDisclosed, ","))
				}
				t.Errorf("Dutch entries %q; want one, failed PEER_RECEIPT_INVALID", got)
			}
		})
	}
}
