package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestForwardedNoticeFactsAreChecked: the Danish gateway forwards a
// required notice whose pending entry names, where the event, its id or
// the notice's rule go, something that is none of them (a person's
// identifier, say). The Dutch gateway took them into its entry, its
// tracked notice and the notice it delivered; it now refuses the
// forward, INVALID_ARGUMENT on forwarded.receipt, with one refused entry,
// and delivers nothing.
func TestForwardedNoticeFactsAreChecked(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h, dk := f.hostile, forwarder(t, f.dk)
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	for _, tc := range []struct{ name, key string }{
		{"Event", "event"},
		{"EventID", "event_id"},
		{"NoticeRule", "notice_rule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "kf." + strings.ToLower(tc.name)
			h.setRequest(func(method string, req proto.Message) {
				if r, ok := req.(*liaisonv1.DiscloseRequest); ok && method == "Disclose" && r.GetForwarded() != nil {
					r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) { e.Detail[tc.key] = "SYN-DK-0001 lives at Bredgade 1" }, "")
				}
			})
			defer h.setRequest(nil)
			before := len(f.nl.inbox(t, "nl-police-rotterdam"))
			_, err := f.dk.client(t, "dk-prison-east", officer).Notify(t.Context(), &liaisonv1.NotifyRequest{
				EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
				Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
				Justification: "The person will live in Rotterdam after release.",
			})
			if err == nil {
				t.Errorf("a notice forwarded with %s %q was delivered", tc.key, "SYN-DK-0001 lives at Bredgade 1")
			}
			nl := f.nl.all(t, "notify", officer)
			if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "forwarded.receipt" {
				var got []string
				for _, e := range nl {
					got = append(got, e.Outcome+" "+strings.Join(e.Reasons, ",")+" "+e.Detail["field"]+" "+e.Detail[tc.key])
				}
				t.Errorf("Dutch entries %q; want one refused on forwarded.receipt", got)
			}
			if after := len(f.nl.inbox(t, "nl-police-rotterdam")); after != before {
				t.Errorf("the Dutch police's inbox went from %d to %d items; want nothing delivered", before, after)
			}
		})
	}
}

// TestForwardedReleaseMustBeTheEntrys: the Danish gateway forwards a
// push of its release notice to the Dutch probation service whose
// pending entry records another end of the legal basis than the release
// it carries, or whose release says hit-only while it carries the record
// in full, or names another purpose than the push and its entry. The Dutch gateway took the basis (and so the day it tells the
// recipient to erase) from the entry and the outcome from the release,
// and delivered either; it now refuses the forward, INVALID_ARGUMENT on
// forwarded.receipt or forwarded.released.record, one refused entry, and
// delivers nothing.
func TestForwardedReleaseMustBeTheEntrys(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h, dk := f.hostile, forwarder(t, f.dk)
	for _, tc := range []struct {
		name, field string
		change      func(t *testing.T, r *liaisonv1.DiscloseRequest)
	}{
		{"AnotherEndOfTheBasis", "forwarded.receipt", func(t *testing.T, r *liaisonv1.DiscloseRequest) {
			r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) { e.LegalBasis.ValidUntil = "2099-12-31" }, "")
		}},
		{"AnotherPurpose", "forwarded.released.purpose", func(t *testing.T, r *liaisonv1.DiscloseRequest) {
			r.Forwarded.Released.Purpose = liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT
			r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, nil, releasedDigest(t, r.Forwarded.Released))
		}},
		{"HitOnlyWithTheRecord", "forwarded.released.record", func(t *testing.T, r *liaisonv1.DiscloseRequest) {
			r.Forwarded.Released.Outcome, r.Forwarded.Released.Fields = liaisonv1.Outcome_OUTCOME_HIT_ONLY, nil
			r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) { e.FieldsDisclosed = []string{"hit"} },
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
			if _, err := f.dk.client(t, "dk-prison-east", officer).Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)); err == nil {
				t.Errorf("the forwarded push was delivered")
			}
			nl := f.nl.all(t, "disclose", officer)
			if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != tc.field {
				var got []string
				for _, e := range nl {
					got = append(got, fmt.Sprintf("%s %v %s %+v", e.Outcome, e.Reasons, e.Detail["field"], e.LegalBasis))
				}
				t.Errorf("Dutch entries %q; want one refused on %s", got, tc.field)
			}
			if after := len(f.nl.inbox(t, "nl-probation")); after != before {
				t.Errorf("the Dutch probation service's inbox went from %d to %d items; want nothing delivered", before, after)
			}
		})
	}
}

// TestForwardedCorrectionMustBeTheEntrys: the Danish gateway forwards a
// correction of its release notice to the Dutch probation service whose
// pending entry records another end of the legal basis than the
// corrected release it carries. The Dutch gateway took the basis (the
// day it will tell the service to erase the corrected record) from the
// entry and delivered the release with its own; it now refuses the
// forward, INVALID_ARGUMENT on forwarded.receipt, one refused entry.
func TestForwardedCorrectionMustBeTheEntrys(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h, dk := f.hostile, forwarder(t, f.dk)
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push); err != nil {
		t.Fatal(err)
	}
	h.setRequest(func(method string, req proto.Message) {
		if r, ok := req.(*liaisonv1.DiscloseRequest); ok && method == "Disclose" && r.GetForwarded().GetReleased().GetRecord() != nil {
			r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, func(e *audit.Entry) { e.LegalBasis.ValidUntil = "2099-12-31" }, "")
		}
	})
	defer h.setRequest(nil)
	corrected := proto.CloneOf(push.GetRecord())
	corrected.GetReleaseNotice().Facility = "Fiktivt Fængsel Vest"
	resp, err := f.dk.aftercare(t, "dk-prison-east", "kf.correct").Correct(t.Context(),
		&liaisonv1.CorrectRequest{Record: corrected, Justification: "The person was moved to another prison."})
	if err != nil {
		t.Fatalf("Correct: %v; want the Dutch refusal in its result", err)
	}
	if rs := resp.GetResults(); len(rs) != 1 || !slices.Contains(rs[0].GetReasons(), "PEER_REFUSED") {
		t.Errorf("Danish results %v; want the correction failed, PEER_REFUSED", rs)
	}
	nl := f.nl.all(t, audit.ActionCorrect, "kf.correct")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "forwarded.receipt" {
		var got []string
		for _, e := range nl {
			got = append(got, fmt.Sprintf("%s %v %s %+v", e.Outcome, e.Reasons, e.Detail["field"], e.LegalBasis))
		}
		t.Errorf("Dutch entries %q; want one refused on forwarded.receipt", got)
	}
	if ns := f.nl.notices(t, "nl-probation"); len(ns) != 0 {
		t.Errorf("the Dutch probation service got %d notices; want none", len(ns))
	}
}

// TestForwardedWordsAreTheEntrys: a peer gateway forwards an exchange
// with another justification or claimed legal basis than its pending
// entry records (the words its own auditors read): a Danish push to the
// Dutch probation service, a Dutch request of the Danish prison. The
// answering gateway logged and decided on the words it was sent, the two
// logs disagreeing on why the exchange was made; it now refuses the
// forward, INVALID_ARGUMENT on justification or claimed_legal_basis, one
// refused entry, and delivers nothing.
func TestForwardedWordsAreTheEntrys(t *testing.T) {
	t.Run("Push", func(t *testing.T) {
		f := startFederationWith(t, fedConfig{hostile: "NL"})
		for _, tc := range []struct{ name, field string }{{"Justification", "justification"}, {"ClaimedBasis", "claimed_legal_basis"}} {
			t.Run(tc.name, func(t *testing.T) {
				officer := "kf." + strings.ToLower(tc.name)
				f.hostile.setRequest(func(method string, req proto.Message) {
					if r, ok := req.(*liaisonv1.DiscloseRequest); ok && method == "Disclose" {
						if tc.field == "justification" {
							r.Justification = "An urgent threat to life."
						} else {
							r.ClaimedLegalBasis = "nl.wpg.16"
						}
					}
				})
				defer f.hostile.setRequest(nil)
				before := len(f.nl.inbox(t, "nl-probation"))
				if _, err := f.dk.client(t, "dk-prison-east", officer).Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)); err == nil {
					t.Errorf("the forwarded push was delivered")
				}
				nl := f.nl.all(t, "disclose", officer)
				if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != tc.field {
					var got []string
					for _, e := range nl {
						got = append(got, fmt.Sprintf("%s %v %s %q %q", e.Outcome, e.Reasons, e.Detail["field"], e.Justification, e.ClaimedLegalBasis))
					}
					t.Errorf("Dutch entries %q; want one refused on %s", got, tc.field)
				}
				if after := len(f.nl.inbox(t, "nl-probation")); after != before {
					t.Errorf("the Dutch probation service's inbox went from %d to %d items; want nothing delivered", before, after)
				}
			})
		}
	})
	t.Run("Request", func(t *testing.T) {
		f := startFederationWith(t, fedConfig{hostile: "DK"})
		f.hostile.setRequest(func(method string, req proto.Message) {
			if r, ok := req.(*liaisonv1.RequestRequest); ok && method == "Request" {
				r.Justification = "An urgent threat to life."
			}
		})
		defer f.hostile.setRequest(nil)
		if _, err := f.nl.client(t, "nl-probation", "insp.words").Request(t.Context(), riskAssessmentRequest); err == nil {
			t.Errorf("the forwarded request was answered with the record")
		}
		dk := f.dk.all(t, "request", "insp.words")
		if len(dk) != 1 || dk[0].Outcome != audit.OutcomeRefused || dk[0].Detail["field"] != "justification" {
			var got []string
			for _, e := range dk {
				got = append(got, fmt.Sprintf("%s %v %s %q", e.Outcome, e.Reasons, e.Detail["field"], e.Justification))
			}
			t.Errorf("Danish entries %q; want one refused on justification", got)
		}
	})
}

// TestPeerSubjectAttributesAreChecked: a peer gateway's entry gives the
// person's attributes that this gateway decides on and logs: a category
// that is no subject category, or a release or probation date that is
// no date (a person's identifier, say). The Dutch gateway refuses a
// Danish push whose pending entry says so (INVALID_ARGUMENT on
// forwarded.receipt, one refused entry, nothing delivered), and takes no
// Danish answer to its request that says so (failed,
// PEER_RECEIPT_INVALID); neither enters its log.
func TestPeerSubjectAttributesAreChecked(t *testing.T) {
	const junk = "SYN-DK-0001"
	changes := []struct {
		name   string
		change func(e *audit.Entry)
	}{
		{"Category", func(e *audit.Entry) { e.Subject.Category = junk }},
		{"ReleaseDate", func(e *audit.Entry) { e.Subject.ReleaseDate = junk }},
		{"ProbationUntil", func(e *audit.Entry) { e.Subject.ProbationUntil = junk }},
	}
	t.Run("Push", func(t *testing.T) {
		f := startFederationWith(t, fedConfig{hostile: "NL"})
		dk := forwarder(t, f.dk)
		for _, tc := range changes {
			t.Run(tc.name, func(t *testing.T) {
				officer := "kf." + strings.ToLower(tc.name)
				f.hostile.setRequest(func(method string, req proto.Message) {
					if r, ok := req.(*liaisonv1.DiscloseRequest); ok && method == "Disclose" && r.GetForwarded() != nil {
						r.Forwarded.Receipt = dk.forge(t, r.Forwarded.Receipt, tc.change, "")
					}
				})
				defer f.hostile.setRequest(nil)
				if _, err := f.dk.client(t, "dk-prison-east", officer).Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)); err == nil {
					t.Errorf("the forwarded push was delivered")
				}
				nl := f.nl.all(t, "disclose", officer)
				if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "forwarded.receipt" || strings.Contains(fmt.Sprint(nl[0].Subject), junk) {
					var got []string
					for _, e := range nl {
						got = append(got, fmt.Sprintf("%s %v %s %+v", e.Outcome, e.Reasons, e.Detail["field"], e.Subject))
					}
					t.Errorf("Dutch entries %q; want one refused on forwarded.receipt, without %s", got, junk)
				}
			})
		}
	})
	t.Run("Request", func(t *testing.T) {
		f := startFederationWith(t, fedConfig{hostile: "DK"})
		h := f.hostile
		for _, tc := range changes {
			t.Run(tc.name, func(t *testing.T) {
				officer := "insp." + strings.ToLower(tc.name)
				h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
					if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" {
						r.Receipt = h.forge(t, r.Receipt, tc.change, "")
					}
					return resp, err
				})
				defer h.setAnswer(nil)
				if _, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest); errorReason(err) != "PEER_RECEIPT_INVALID" {
					t.Errorf("Request: %v; want reason PEER_RECEIPT_INVALID", err)
				}
				nl := f.nl.entries(t, officer)
				if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || strings.Contains(fmt.Sprint(nl[0].Subject), junk) {
					var got []string
					for _, e := range nl {
						got = append(got, fmt.Sprintf("%s %v %+v", e.Outcome, e.Reasons, e.Subject))
					}
					t.Errorf("Dutch entries %q; want one, failed, without %s", got, junk)
				}
			})
		}
	})
}

// TestForwardedRevisionWordsAreTheEntrys: a forwarded expiry revision
// whose justification is not the one the Danish pending entry records is
// refused at the Dutch gateway (INVALID_ARGUMENT on justification, one
// refused entry), and the release's end does not move there: both logs
// say alike why an end date moved.
func TestForwardedRevisionWordsAreTheEntrys(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push); err != nil {
		t.Fatal(err)
	}
	f.hostile.setRequest(func(method string, req proto.Message) {
		if r, ok := req.(*liaisonv1.ReviseExpiryRequest); ok && method == "ReviseExpiry" {
			r.Justification = "The court ordered it."
		}
	})
	defer f.hostile.setRequest(nil)
	attrs := proto.CloneOf(push.GetSubject())
	attrs.ReleaseDate = daysAfter(t, attrs.GetReleaseDate(), 14)
	rv, err := f.dk.aftercare(t, "dk-prison-east", "kf.revise").ReviseExpiry(t.Context(), &liaisonv1.ReviseExpiryRequest{SubjectId: "SYN-DK-0001",
		Subject: attrs, Justification: "The release date moved."})
	if err != nil || len(rv.GetReleases()) != 1 || rv.GetReleases()[0].GetMoved() {
		t.Errorf("ReviseExpiry with its words changed on the way = %v, %v; want one release, not moved", rv, err)
	}
	nl := f.nl.all(t, audit.ActionReviseExpiry, "kf.revise")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeRefused || nl[0].Detail["field"] != "justification" {
		var got []string
		for _, e := range nl {
			got = append(got, fmt.Sprintf("%s %v %s %q", e.Outcome, e.Reasons, e.Detail["field"], e.Justification))
		}
		t.Errorf("Dutch entries %q; want one refused on justification", got)
	}
}
