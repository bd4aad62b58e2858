package main

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// routeLawOld and routeLawNew make the Dutch reading of the law one under
// which a notice crosses the border only to an earlier recipient: the
// route decides the outcome on receipt.
const (
	routeLawOld = "_recipient_law_refuses if {\n\t_cross_border\n\tnot _receipt_id\n}"
	routeLawNew = routeLawOld + "\n\n_recipient_law_refuses if {\n\t_cross_border\n\t_action == \"notify\"\n\t_route_role != \"earlier_recipient\"\n}"
)

// TestForwardedNoticeRouteIsReplayed: the Danish prison's Notify reaches
// the Dutch probation service as an earlier recipient (it received the
// release notice before), and the Dutch gateway decides it on receipt with
// that route, which the Danish pending entry records. Its own entry
// records the route too (detail route, route_basis), so that `policy
// replay` of the Dutch log decides the notice as it was decided: with
// the policy in force, nothing changes. The Dutch entry used to record no
// route, and replay decided the notice as one to a named recipient, which
// this Dutch law refuses: a flip from disclose to deny that no policy
// change made.
func TestForwardedNoticeRouteIsReplayed(t *testing.T) {
	f := startFederation(t, nil, patchedEngine(t, "liaison/crossborder.rego", routeLawOld, routeLawNew))
	ctx := t.Context()
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(ctx, d); err != nil {
		t.Fatalf("Disclose through both gateways: %v", err)
	}
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(ctx, &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Justification: d.GetJustification(),
	})
	if err != nil {
		t.Fatalf("Notify through both gateways: %v", err)
	}
	var r *liaisonv1.RecipientResult
	for _, x := range resp.GetResults() {
		if x.GetRecipient() == "nl-probation" {
			r = x
		}
	}
	if r == nil || r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE || len(r.GetRoutes()) == 0 ||
		r.GetRoutes()[0].GetRole() != liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT {
		t.Fatalf("results %v; want the notice disclosed to nl-probation as an earlier recipient", resp.GetResults())
	}
	dk, nl := f.dk.all(t, "notify", "kf.notice"), f.nl.all(t, "notify", "kf.notice")
	if len(dk) != 2 || len(nl) != 1 || nl[0].Outcome != audit.OutcomeDisclose {
		t.Fatalf("Danish notify entries %v, Dutch %v; want pending and disclose, and one disclose", outcomes(dk), outcomes(nl))
	}
	if nd, dd := nl[0].Detail, dk[0].Detail; nd["route"] != "earlier_recipient" || dd["route_basis"] == "" || nd["route_basis"] != dd["route_basis"] {
		t.Errorf("the Dutch entry's route %q, basis %q; want the Danish pending entry's earlier_recipient, basis %q",
			nd["route"], nd["route_basis"], dd["route_basis"])
	}
	out, _, err := policyCmd(t, "replay", "-candidate", patchedPolicies(t, "liaison/crossborder.rego", routeLawOld, routeLawNew),
		"-since", "1h", "-audit-db", f.nl.opts.AuditDB, "-format", "json")
	var rep policies.ReplayReport
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("policy replay of the Dutch log = %v\n%s", err, out)
	}
	// Nor does it list the fields the holder's gateway chose as newly
	// disclosed (TestReceivedReleaseReplaysAsDecided).
	for _, c := range rep.Changes {
		t.Errorf("policy replay of the Dutch log under the policy in force changes entry %d (%s): %s -> %s %v, newly disclosed %v; want the decision made",
			c.Index, c.Action, c.Before, c.After, c.Reasons, c.NewlyDisclosed)
	}
	if rep.Replayed < 2 {
		t.Errorf("policy replay of the Dutch log replayed %d entries; want the disclosure and the notice", rep.Replayed)
	}
}

// TestForwardedRouteIsSpelledAsOurs: the Danish gateway forwards a notice
// whose pending entry names a route whose area is no municipality as one
// is spelled (a Hangul filler in it, a second spelling of Aarhus), or
// whose legal basis is no legal basis id (a person's identifier, say). The
// Dutch gateway decides with the route and records it in its entry, so it
// refuses the forward, INVALID_ARGUMENT on forwarded.receipt, one refused
// entry, nothing delivered, and neither its entry nor its answer repeats
// what the peer wrote there.
func TestForwardedRouteIsSpelledAsOurs(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h, dk := f.hostile, forwarder(t, f.dk)
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	for _, tc := range []struct{ name, role, key, value string }{
		{"Area", "competent", "route_area", "Aar\u3164hus"},
		{"Basis", "earlier_recipient", "route_basis", "SYN-DK-0001 lives at Bredgade 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "kf.route" + strings.ToLower(tc.name)
			h.setRequest(func(method string, req proto.Message) {
				if r, ok := req.(*liaisonv1.DiscloseRequest); ok && method == "Disclose" && r.GetForwarded() != nil {
					r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) { e.Detail["route"], e.Detail[tc.key] = tc.role, tc.value }, "")
				}
			})
			defer h.setRequest(nil)
			before := len(f.nl.inbox(t, "nl-probation"))
			_, err := f.dk.client(t, "dk-prison-east", officer).Notify(t.Context(), &liaisonv1.NotifyRequest{
				EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
				Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: d.GetRecipients(),
				Justification: d.GetJustification(),
			})
			if err == nil {
				t.Errorf("a notice forwarded with %s %q was delivered", tc.key, tc.value)
			} else if strings.Contains(err.Error(), tc.value) {
				t.Errorf("the error repeats the peer's %s: %v", tc.key, err)
			}
			nl := f.nl.all(t, "notify", officer)
			if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "forwarded.receipt" || nl[0].Detail[tc.key] != "" {
				var got []string
				for _, e := range nl {
					got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"]+" "+e.Detail[tc.key])
				}
				t.Errorf("Dutch entries %q; want one refused on forwarded.receipt, without the peer's %s", got, tc.key)
			}
			if after := len(f.nl.inbox(t, "nl-probation")); after != before {
				t.Errorf("the Dutch probation service's inbox went from %d to %d items; want nothing delivered", before, after)
			}
		})
	}
}

// TestForwardedReleaseWordsAreSpelledAsOurs: the Danish gateway forwards
// a push whose release names as its pseudonym domain, or among its fields,
// something that is neither (a person's name, say), its pending entry
// recording the same. The Dutch gateway wrote both into its entry of the
// delivery as they were; it now refuses the forward, INVALID_ARGUMENT on
// forwarded.released.pseudonym_domain or forwarded.released.fields, one
// refused entry, nothing delivered, and neither its entry nor its answer
// repeats the words. An honest peer's are spelled so: its policy's
// decision names the recipient's domain (<recipient>/<purpose>, or a case
// of its own), and its gateway the fields.
func TestForwardedReleaseWordsAreSpelledAsOurs(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h, dk := f.hostile, forwarder(t, f.dk)
	const words = "Jens Jensen, Bredgade 1"
	for _, tc := range []struct {
		name, field string
		change      func(t *testing.T, r *liaisonv1.DiscloseRequest)
	}{
		{"PseudonymDomain", "forwarded.released.pseudonym_domain", func(t *testing.T, r *liaisonv1.DiscloseRequest) {
			r.Forwarded.Released.PseudonymDomain = words
			r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, nil, releasedDigest(t, r.Forwarded.Released))
		}},
		{"PseudonymDomainOfAnotherAgency", "forwarded.released.pseudonym_domain", func(t *testing.T, r *liaisonv1.DiscloseRequest) {
			r.Forwarded.Released.PseudonymDomain = "nl-police-rotterdam/resocialisation"
			r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, nil, releasedDigest(t, r.Forwarded.Released))
		}},
		{"Field", "forwarded.released.fields", func(t *testing.T, r *liaisonv1.DiscloseRequest) {
			r.Forwarded.Released.Fields = append(r.Forwarded.Released.Fields, "Person.full_name="+words)
			r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) { e.FieldsDisclosed = r.Forwarded.Released.Fields },
				releasedDigest(t, r.Forwarded.Released))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "kf." + strings.ToLower(tc.name)
			h.setRequest(func(method string, req proto.Message) {
				if r, ok := req.(*liaisonv1.DiscloseRequest); ok && method == "Disclose" && r.GetForwarded().GetReleased() != nil {
					tc.change(t, r)
				}
			})
			defer h.setRequest(nil)
			before := len(f.nl.inbox(t, "nl-probation"))
			_, err := f.dk.client(t, "dk-prison-east", officer).Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION))
			if err == nil {
				t.Errorf("the forwarded push was delivered")
			} else if strings.Contains(err.Error(), words) {
				t.Errorf("the error repeats the peer's words: %v", err)
			}
			nl := f.nl.all(t, "disclose", officer)
			if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != tc.field ||
				strings.Contains(nl[0].PseudonymDomain+strings.Join(nl[0].FieldsDisclosed, ","), words) {
				var got []string
				for _, e := range nl {
					got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"]+" "+e.PseudonymDomain)
				}
				t.Errorf("Dutch entries %q; want one refused on %s, without the peer's words", got, tc.field)
			}
			if after := len(f.nl.inbox(t, "nl-probation")); after != before {
				t.Errorf("the Dutch probation service's inbox went from %d to %d items; want nothing delivered", before, after)
			}
		})
	}
}

// TestPeerAnswerFieldsAreChecked: the Danish gateway answers a Dutch
// request with a release whose fields name something that is no field (a
// person's name, say), its entry recording the same. The Dutch gateway
// wrote them into its entry as the fields disclosed; it now takes no such
// answer (failed, PEER_RECEIPT_INVALID), and its entry does not hold them.
func TestPeerAnswerFieldsAreChecked(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	const words = "Jens Jensen, Bredgade 1"
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" && r.GetReleased() != nil {
			r.Released.Fields = append(r.Released.Fields, "RiskAssessment.level="+words)
			r.Receipt = h.forge(t, r.Receipt, func(e *audit.Entry) { e.FieldsDisclosed = r.Released.Fields }, releasedDigest(t, r.Released))
		}
		return resp, err
	})
	if _, err := f.nl.client(t, "nl-probation", "insp.fields").Request(t.Context(), riskAssessmentRequest); errorReason(err) != "PEER_RECEIPT_INVALID" {
		t.Errorf("Request: %v; want reason PEER_RECEIPT_INVALID", err)
	}
	nl := f.nl.entries(t, "insp.fields")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || strings.Contains(strings.Join(nl[0].FieldsDisclosed, ","), words) {
		var got []string
		for _, e := range nl {
			got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+strings.Join(e.FieldsDisclosed, ","))
		}
		t.Errorf("Dutch entries %q; want one, failed, without the peer's fields", got)
	}
}
