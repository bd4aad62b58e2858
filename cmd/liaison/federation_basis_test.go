package main

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// basisChanges are legal bases and conditions a peer gateway's entry
// could give a release that no policy's decision gives one: a last day
// that is no date, one of a year the policy does not read, a citation
// with a control character, and conditions that are no reason codes (one
// names the person).
var basisChanges = []struct {
	name   string
	change func(lb *liaisonv1.LegalBasis, conditions *[]string)
}{
	{"LastDayNoDate", func(lb *liaisonv1.LegalBasis, _ *[]string) { lb.ValidUntil = "2020-02-30" }},
	{"LastDayOutOfRange", func(lb *liaisonv1.LegalBasis, _ *[]string) { lb.ValidUntil = "2400-01-01" }},
	{"CitationWithControl", func(lb *liaisonv1.LegalBasis, _ *[]string) { lb.Citation += "\x1b[2J" }},
	{"ConditionNamesThePerson", func(_ *liaisonv1.LegalBasis, c *[]string) { *c = append(*c, "SYN-DK-0001 lives at Bredgade 1") }},
}

// changeBasis applies a basisChanges change to a release and to the
// entry that records it, alike: the entry still records the release.
func changeBasis(rel *liaisonv1.Released, e *audit.Entry, change func(*liaisonv1.LegalBasis, *[]string)) {
	if rel.LegalBasis == nil {
		rel.LegalBasis = &liaisonv1.LegalBasis{Id: "dk.led.5", Citation: "Lov om retshåndhævende myndigheders behandling af personoplysninger § 5"}
	}
	change(rel.LegalBasis, &rel.Conditions)
	if e != nil {
		lb := rel.GetLegalBasis()
		e.LegalBasis = &audit.LegalBasis{ID: lb.GetId(), Citation: lb.GetCitation(), ValidUntil: lb.GetValidUntil()}
		e.Conditions = slices.Clone(rel.GetConditions())
	}
}

// TestPeerBasisIsADecisions: the legal basis and conditions a peer
// gateway's entry gives a release enter this log as they are, and this
// gateway tracks the release to the basis's last day. They were taken
// unchecked: a last day that is no date (2020-02-30) was tracked and found
// due, and each expiry notice for it failed (EXPIRY_DATE_INVALID) on every
// pass of the timers, the recipient never told; a condition naming the
// person entered the log and bound the recipient. Now they must be spelt
// as a policy's decision gives them: an answer to a Request with such a
// basis fails PEER_RECEIPT_INVALID, nothing delivered, and a forwarded
// push with one is refused, INVALID_ARGUMENT on forwarded.receipt, one
// refused entry, nothing delivered.
func TestPeerBasisIsADecisions(t *testing.T) {
	awayFromMidnight(t)
	t.Run("RequestAnswer", func(t *testing.T) {
		f := startFederationWith(t, fedConfig{hostile: "DK"})
		h := f.hostile
		for _, tc := range basisChanges {
			t.Run(tc.name, func(t *testing.T) {
				officer := "insp.basis." + strings.ToLower(tc.name)
				h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
					if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" {
						changeBasis(r.Released, nil, tc.change)
						r.Receipt = h.forge(t, r.Receipt, func(e *audit.Entry) {
							changeBasis(proto.CloneOf(r.Released), e, func(*liaisonv1.LegalBasis, *[]string) {})
						},
							releasedDigest(t, r.Released))
					}
					return resp, err
				})
				defer h.setAnswer(nil)
				resp, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest)
				if err == nil {
					t.Fatalf("Request = %v under %v, conditions %q; want nothing delivered", resp.GetReleased().GetOutcome(),
						resp.GetReleased().GetLegalBasis(), resp.GetReleased().GetConditions())
				}
				if errorReason(err) != "PEER_RECEIPT_INVALID" {
					t.Errorf("Request: %v; want reason PEER_RECEIPT_INVALID", err)
				}
				nl := f.nl.entries(t, officer)
				if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Contains(nl[0].Reasons, "PEER_RECEIPT_INVALID") || nl[0].LegalBasis != nil ||
					len(nl[0].Conditions) != 0 {
					var got []string
					for _, e := range nl {
						got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+strings.Join(e.Conditions, ","))
					}
					t.Errorf("Dutch entries %q; want one, failed PEER_RECEIPT_INVALID, with no basis or conditions", got)
				}
			})
		}
	})
	t.Run("ForwardedPush", func(t *testing.T) {
		f := startFederationWith(t, fedConfig{hostile: "NL"})
		h, dk := f.hostile, forwarder(t, f.dk)
		for _, tc := range basisChanges {
			t.Run(tc.name, func(t *testing.T) {
				officer := "kf.basis." + strings.ToLower(tc.name)
				h.setRequest(func(method string, req proto.Message) {
					r, ok := req.(*liaisonv1.DiscloseRequest)
					if !ok || method != "Disclose" || r.GetForwarded().GetReleased() == nil {
						return
					}
					changeBasis(r.Forwarded.Released, nil, tc.change)
					rel := r.Forwarded.Released
					r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) {
						changeBasis(proto.CloneOf(rel), e, func(*liaisonv1.LegalBasis, *[]string) {})
					}, releasedDigest(t, rel))
				})
				defer h.setRequest(nil)
				before := len(f.nl.inbox(t, "nl-probation"))
				resp, err := f.dk.client(t, "dk-prison-east", officer).Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION))
				if err == nil && (len(resp.GetResults()) != 1 || resp.GetResults()[0].GetFailure() == nil) {
					t.Errorf("Disclose = %v; want the Dutch refusal", resp)
				}
				nl := f.nl.all(t, "disclose", officer)
				if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "forwarded.receipt" {
					var got []string
					for _, e := range nl {
						got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"])
					}
					t.Errorf("Dutch entries %q; want one refused on forwarded.receipt", got)
				}
				if after := len(f.nl.inbox(t, "nl-probation")); after != before {
					t.Errorf("Dutch inbox: %d items, %d before; want nothing delivered", after, before)
				}
				// The Dutch timers have nothing of it to track: no expiry
				// notice of it fails.
				if err := f.nl.gw.Server.RunAftercare(t.Context()); err != nil {
					t.Errorf("the Dutch timers: %v", err)
				}
				for _, e := range f.nl.all(t, audit.ActionExpire, "aftercare-timer") {
					if e.Outcome == audit.OutcomeFailed {
						t.Errorf("a Dutch expiry notice failed: %v", e.Reasons)
					}
				}
			})
		}
	})
}

// TestPeerRevisionIsOfTheReleasesBasis: the Danish prison moves the end
// of its release to the Dutch probation service; the Danish gateway
// forwards the revision with the receipt of its pending entry, which
// records the release's legal basis with the new last day. The Dutch
// gateway took a pending entry of any basis: one of another basis than
// the release's, or whose basis ends on another day than the one the
// revision moves the release to, moved the release's expiry and was
// logged as the revision of it under that basis. Both are refused,
// INVALID_ARGUMENT on forwarded.receipt, one refused entry, the expiry
// where it was.
func TestPeerRevisionIsOfTheReleasesBasis(t *testing.T) {
	awayFromMidnight(t)
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h, dk := f.hostile, forwarder(t, f.dk)
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push)
	if err != nil {
		t.Fatal(err)
	}
	pushed := f.nl.inbox(t, "nl-probation")[0].GetReleased().GetAuditIndex()
	end := resp.GetResults()[0].GetLegalBasis().GetValidUntil()
	if end == "" {
		t.Fatal("the release notice's basis has no last day to revise")
	}
	tracked := func() string { return f.nl.trackedUntil(t, pushed) }
	for i, tc := range []struct {
		name   string
		change func(lb *audit.LegalBasis)
	}{
		{"AnotherBasis", func(lb *audit.LegalBasis) { lb.ID = "dk.other.basis" }},
		{"AnotherLastDay", func(lb *audit.LegalBasis) { lb.ValidUntil = daysAfter(t, lb.ValidUntil, 100) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "kf.revise." + strings.ToLower(tc.name)
			h.setRequest(func(method string, req proto.Message) {
				if r, ok := req.(*liaisonv1.ReviseExpiryRequest); ok && method == "ReviseExpiry" {
					r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) {
						if e.LegalBasis == nil {
							t.Fatal("the Danish pending revision records no legal basis")
						}
						tc.change(e.LegalBasis)
					}, "")
				}
			})
			defer h.setRequest(nil)
			attrs := proto.CloneOf(push.GetSubject())
			attrs.ReleaseDate = daysAfter(t, attrs.GetReleaseDate(), 14*(i+1))
			rv, err := f.dk.aftercare(t, "dk-prison-east", officer).ReviseExpiry(t.Context(), &liaisonv1.ReviseExpiryRequest{SubjectId: "SYN-DK-0001",
				Subject: attrs, Justification: "The release date moved."})
			if err != nil || len(rv.GetReleases()) != 1 {
				t.Fatalf("ReviseExpiry: %v, %v", rv, err)
			}
			if r := rv.GetReleases()[0]; r.GetMoved() {
				t.Errorf("revision: %v; want not moved", r)
			}
			nl := f.nl.all(t, audit.ActionReviseExpiry, officer)
			if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "forwarded.receipt" {
				var got []string
				for _, e := range nl {
					got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"]+" "+e.Detail[audit.DetailValidUntil])
				}
				t.Errorf("Dutch entries %q; want one refused on forwarded.receipt", got)
			}
			if got := tracked(); got != end {
				t.Errorf("the Dutch gateway tracks the release to %s; want %s, where it was", got, end)
			}
		})
	}
}
