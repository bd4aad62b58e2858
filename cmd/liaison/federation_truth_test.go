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

// TestRequestAnswerEntryRecordsTheRelease: a Dutch officer's request is
// answered by the Danish gateway, whose law chose the fields and the
// pseudonym domain of what arrives; the Dutch law decided on receipt only
// whether the officer may have it (detail receipt_outcome). The Dutch
// entry records what was applied: the Danish release's outcome, fields
// and pseudonym domain, as its Released says, and no field plan, since
// none of its own was applied. It recorded the Dutch decision's field
// plan and pseudonym domain beside the Danish release, as if the Dutch
// plan had made it: an auditor reading the entry, and the expiry and
// withdrawal notices that take the domain from it, were told of a
// transformation that never happened. And since the domain now enters
// the Dutch log from the release, one not spelled as a policy names the
// officer's agency's (a person's name, say) is refused, failed
// PEER_RECEIPT_INVALID, as the release's fields are.
func TestRequestAnswerEntryRecordsTheRelease(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	for _, tc := range []struct{ agency, officer string }{
		{"nl-probation", "insp.plan"},
		{"nl-police-rotterdam", "insp.domain"},
	} {
		resp, err := f.nl.client(t, tc.agency, tc.officer).Request(t.Context(), riskAssessmentRequest)
		if err != nil {
			t.Fatalf("%s: Request through both gateways: %v", tc.agency, err)
		}
		rel := resp.GetReleased()
		nl, dk := f.nl.entries(t, tc.officer), f.dk.entries(t, tc.officer)
		if len(nl) != 1 || len(dk) != 1 || nl[0].Detail["receipt_outcome"] == "" {
			t.Fatalf("%s: entries %d Dutch, %d Danish; want one each, the Dutch one decided on receipt", tc.agency, len(nl), len(dk))
		}
		e := nl[0]
		if e.FieldPlan != nil {
			t.Errorf("%s: the Dutch entry records the field plan %+v; want none: the Danish law's release arrived as it was", tc.agency, *e.FieldPlan)
		}
		if e.PseudonymDomain != rel.GetPseudonymDomain() || e.PseudonymDomain != dk[0].PseudonymDomain {
			t.Errorf("%s: the Dutch entry records pseudonym domain %q; want the release's %q, as the Danish entry records it (%q)",
				tc.agency, e.PseudonymDomain, rel.GetPseudonymDomain(), dk[0].PseudonymDomain)
		}
		if e.Outcome != dk[0].Outcome || !slices.Equal(e.FieldsDisclosed, rel.GetFields()) {
			t.Errorf("%s: the Dutch entry records %s, fields %v; want the Danish release, %s, fields %v", tc.agency, e.Outcome, e.FieldsDisclosed, dk[0].Outcome, rel.GetFields())
		}
	}
	const words = "nl-probation/Jens Jensen"
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" && r.GetReleased() != nil {
			r.Released.PseudonymDomain = words
			r.Receipt = h.forge(t, r.Receipt, func(e *audit.Entry) { e.PseudonymDomain = words }, releasedDigest(t, r.Released))
		}
		return resp, err
	})
	if _, err := f.nl.client(t, "nl-probation", "insp.words").Request(t.Context(), riskAssessmentRequest); errorReason(err) != "PEER_RECEIPT_INVALID" {
		t.Errorf("Request answered with pseudonym domain %q: %v; want reason PEER_RECEIPT_INVALID", words, err)
	}
	if nl := f.nl.entries(t, "insp.words"); len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || nl[0].PseudonymDomain == words {
		t.Errorf("Dutch entries %v (domain %q); want one, failed, without the peer's domain", outcomes(nl), nl[0].PseudonymDomain)
	}
}
