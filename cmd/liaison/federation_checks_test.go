package main

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestForwardedCorrectionIsARelease: a correction forwarded by the
// holder's gateway carries the corrected record as the holder's law
// released it, so its outcome is a release (disclose, pseudonymise), as a
// forwarded push's must be (forwarded.released.outcome). A correction
// whose released record said deny, or no outcome, with the record beside
// it was logged by the Dutch gateway with that outcome ("deny", or none)
// and the record delivered into the inbox: the log said one thing and the
// recipient got another. It is refused, INVALID_ARGUMENT on
// forwarded.released.outcome, one refused entry, nothing delivered.
func TestForwardedCorrectionIsARelease(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h, dk := f.hostile, forwarder(t, f.dk)
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		outcome liaisonv1.Outcome
	}{
		{"Deny", liaisonv1.Outcome_OUTCOME_DENY},
		{"NoOutcome", liaisonv1.Outcome_OUTCOME_UNSPECIFIED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "kf.correct." + strings.ToLower(tc.name)
			h.setRequest(func(method string, req proto.Message) {
				r, ok := req.(*liaisonv1.DiscloseRequest)
				if !ok || method != "Disclose" || r.GetForwarded().GetReleased().GetRecord() == nil {
					return
				}
				r.Forwarded.Released.Outcome = tc.outcome
				r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(*audit.Entry) {}, releasedDigest(t, r.Forwarded.Released))
			})
			defer h.setRequest(nil)
			corrected := proto.CloneOf(push.GetRecord())
			corrected.GetReleaseNotice().Facility = "Fiktivt Fængsel " + tc.name
			cr, err := f.dk.aftercare(t, "dk-prison-east", officer).Correct(t.Context(),
				&liaisonv1.CorrectRequest{Record: corrected, Justification: "The person was moved to another prison."})
			if err != nil {
				t.Fatalf("Correct: %v; want the Dutch refusal in its result", err)
			}
			nl := f.nl.all(t, audit.ActionCorrect, officer)
			if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "forwarded.released.outcome" {
				var got []string
				for _, e := range nl {
					got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"])
				}
				t.Errorf("Dutch entries %q; want one refused on forwarded.released.outcome", got)
			}
			if rs := cr.GetResults(); len(rs) != 1 || !slices.Contains(rs[0].GetReasons(), "PEER_REFUSED") {
				t.Errorf("Danish results %v; want the correction failed, PEER_REFUSED", rs)
			}
			if ns := f.nl.notices(t, "nl-probation"); len(ns) != 0 {
				t.Errorf("Dutch inbox: %d notices; want none delivered", len(ns))
			}
		})
	}
}

// TestForwardedDiscloseWithRecipientRoles: a disclosure a peer gateway
// forwards names its one recipient in recipients, and its recipient_roles
// are empty (DiscloseRequest.forwarded), as its case_id is. One that also
// named recipients by role was taken, the roles dropped unseen. It is
// refused, INVALID_ARGUMENT on recipient_roles, one refused entry that
// names the Danish pending entry (detail.peer_index and peer_receipt, as
// every entry the answering gateway makes for a forwarded exchange does;
// a call refused before its receipt was checked in full named none), and
// nothing is delivered; the Danish gateway's final entry says the peer
// refused it.
func TestForwardedDiscloseWithRecipientRoles(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h := f.hostile
	h.setRequest(func(method string, req proto.Message) {
		if r, ok := req.(*liaisonv1.DiscloseRequest); ok && method == "Disclose" && r.GetForwarded() != nil {
			r.RecipientRoles = []*liaisonv1.RecipientRole{{Role: &liaisonv1.RecipientRole_Competent{Competent: &liaisonv1.CompetentAgency{
				Kind: liaisonv1.AgencyKind_AGENCY_KIND_POLICE, Municipality: "Rotterdam"}}}}
		}
	})
	defer h.setRequest(nil)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.roles").Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION))
	if err == nil && (len(resp.GetResults()) != 1 || resp.GetResults()[0].GetFailure() == nil) {
		t.Errorf("Disclose = %v; want the Dutch refusal", resp)
	}
	nl := f.nl.all(t, "disclose", "kf.roles")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "recipient_roles" {
		var got []string
		for _, e := range nl {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"])
		}
		t.Errorf("Dutch entries %q; want one refused on recipient_roles", got)
	}
	dk := f.dk.all(t, "disclose", "kf.roles")
	if len(dk) != 2 || dk[1].Outcome != audit.OutcomeFailed || !slices.Contains(dk[1].Reasons, "PEER_REFUSED") {
		t.Errorf("Danish entries %v; want pending, failed PEER_REFUSED", outcomes(dk))
	} else if len(nl) == 1 && (nl[0].Detail["peer_index"] != dk[1].Detail["pending_index"] || nl[0].Detail["peer_receipt"] == "") {
		// Every entry the answering gateway makes for a forwarded
		// exchange names the forwarding gateway's pending entry.
		t.Errorf("Dutch refused entry names peer_index %q (receipt %t); want the Danish pending entry %q with its receipt",
			nl[0].Detail["peer_index"], nl[0].Detail["peer_receipt"] != "", dk[1].Detail["pending_index"])
	}
	if ns := f.nl.notices(t, "nl-probation"); len(ns) != 0 {
		t.Errorf("Dutch inbox: %d items; want nothing delivered", len(ns))
	}
}

// TestForwardedRequestCarriesNoRecord: a request a peer gateway forwards
// carries the receipt of its pending entry and no released record
// (PeerForward.released is for a disclosure only: empty for a Request).
// One that carried a record was taken, the record dropped unseen. It is
// refused, INVALID_ARGUMENT on forwarded.released, one refused entry; the
// holder is not asked, and the Dutch gateway's final entry says the peer
// refused it.
func TestForwardedRequestCarriesNoRecord(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	h.setRequest(func(method string, req proto.Message) {
		if r, ok := req.(*liaisonv1.RequestRequest); ok && method == "Request" && r.GetForwarded() != nil {
			r.Forwarded.Released = &liaisonv1.Released{Holder: "dk-prison-east", RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
				Outcome: liaisonv1.Outcome_OUTCOME_DISCLOSE}
		}
	})
	defer h.setRequest(nil)
	if _, err := f.nl.client(t, "nl-probation", "insp.released").Request(t.Context(), riskAssessmentRequest); err == nil {
		t.Errorf("Request with a record in its forward was answered")
	}
	dk := f.dk.all(t, "request", "insp.released")
	if len(dk) != 1 || dk[0].Outcome != audit.OutcomeRefused || dk[0].Detail["field"] != "forwarded.released" {
		var got []string
		for _, e := range dk {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"])
		}
		t.Errorf("Danish entries %q; want one refused on forwarded.released", got)
	}
	if nl := f.nl.all(t, "request", "insp.released"); len(nl) != 2 || nl[1].Outcome != audit.OutcomeFailed || !slices.Contains(nl[1].Reasons, "PEER_REFUSED") {
		t.Errorf("Dutch entries %v; want pending, failed PEER_REFUSED", outcomes(nl))
	}
}
