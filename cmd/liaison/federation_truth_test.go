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

// TestPeerAcknowledgementOfAnotherDeed: the Dutch probation service
// acknowledges, at its own gateway, the Danish prison's correction as
// rectified; the Danish gateway answers with a receipt, which verifies,
// of an entry that records another deed (retained). The Dutch gateway
// would close the notice with the two logs disagreeing on what was done;
// it takes no such answer: its acknowledgement fails
// PEER_RECEIPT_INVALID, and the notice stays open there.
func TestPeerAcknowledgementOfAnotherDeed(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.Facility = "Fiktivt Fængsel Vest" }, "The person was moved to another prison.")
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if r, ok := resp.(*liaisonv1.AcknowledgeNoticeResponse); ok && method == "AcknowledgeNotice" {
			r.Receipt = h.forge(t, r.Receipt, func(e *audit.Entry) { e.Detail[audit.DetailDone] = audit.ObligationRetain }, "")
		}
		return resp, err
	})
	defer h.setAnswer(nil)
	_, err := f.nl.aftercare(t, "nl-probation", "insp.bakker").AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: ns[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Replaced in our file."})
	if errorReason(err) != "PEER_RECEIPT_INVALID" {
		t.Errorf("AcknowledgeNotice: %v; want reason PEER_RECEIPT_INVALID", err)
	}
	nl := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.bakker")
	if len(nl) != 2 || nl[1].Outcome != audit.OutcomeFailed || !slices.Contains(nl[1].Reasons, "PEER_RECEIPT_INVALID") {
		var got []string
		for _, e := range nl {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail[audit.DetailDone])
		}
		t.Errorf("Dutch acknowledgements %q; want pending, failed PEER_RECEIPT_INVALID", got)
	}
}

// TestForwardedAcknowledgementNoteIsTheEntrys: the Dutch gateway forwards
// the Dutch probation service's acknowledgement of a Danish correction
// with another note than its pending entry records. The Danish gateway
// logged the note it was sent, the two logs disagreeing on what the
// service said it did; it now refuses the forward, INVALID_ARGUMENT on
// note, one refused entry, and the notice stays open there.
func TestForwardedAcknowledgementNoteIsTheEntrys(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.Facility = "Fiktivt Fængsel Vest" }, "The person was moved to another prison.")
	f.hostile.setRequest(func(method string, req proto.Message) {
		if r, ok := req.(*liaisonv1.AcknowledgeNoticeRequest); ok && method == "AcknowledgeNotice" {
			r.Note = "Nothing was done."
		}
	})
	defer f.hostile.setRequest(nil)
	if _, err := f.nl.aftercare(t, "nl-probation", "insp.note").AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: ns[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Replaced in our file."}); err == nil {
		t.Errorf("an acknowledgement forwarded with another note was taken")
	}
	dk := f.dk.all(t, audit.ActionAcknowledgeNotice, "insp.note")
	if len(dk) != 1 || dk[0].Outcome != audit.OutcomeRefused || dk[0].Detail["field"] != "note" {
		var got []string
		for _, e := range dk {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"]+" "+e.Justification)
		}
		t.Errorf("Danish acknowledgements %q; want one refused on note", got)
	}
}
