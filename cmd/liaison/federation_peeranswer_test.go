package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// noRawSubject fails t if err or one of es names the subject's raw
// identifier.
func noRawSubject(t *testing.T, subject string, err error, es ...*audit.Entry) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), subject) {
		t.Errorf("the caller's error names the subject: %v", err)
	}
	for _, e := range es {
		b, merr := e.Marshal()
		if merr != nil {
			t.Fatal(merr)
		}
		if strings.Contains(string(b), subject) {
			t.Errorf("an entry names the subject: %s", b)
		}
	}
}

// TestPeerHitOnlyAnswerWithoutItsAnswer: the Danish gateway answers a
// hit-only Request with a no-hit, and a receipt that verifies, but of an
// entry that does not say which answer went out (no detail.answer, or an
// empty one). Every gateway's entry of a hit-only Request says it, and
// the Dutch entry would take the answer from the release alone: the
// answer is malformed. The Dutch gateway delivers nothing: the officer
// gets INTERNAL, PEER_RECEIPT_INVALID, and its one entry says failed
// with that reason. Without the fix the no-hit was delivered and logged.
func TestPeerHitOnlyAnswerWithoutItsAnswer(t *testing.T) {
	eng, err := policies.Load(t.Context(), os.DirFS("../../gateway/testdata/hitonly"))
	if err != nil {
		t.Fatal(err)
	}
	f := startFederationWith(t, fedConfig{dkEngine: eng, nlEngine: eng, hostile: "DK"})
	h := f.hostile
	req := proto.CloneOf(riskAssessmentRequest)
	req.RecordType = liaisonv1.RecordType_RECORD_TYPE_CASE_PLAN // the Danish prison holds none: a no-hit
	// An honest no-hit first: the fix refuses only the answer without its
	// answer logged.
	if resp, err := f.nl.client(t, "nl-probation", "insp.honest").Request(t.Context(), req); err != nil ||
		resp.GetReleased().GetOutcome() != liaisonv1.Outcome_OUTCOME_HIT_ONLY {
		t.Fatalf("an honest hit-only Request = %v, %v; want a no-hit", resp.GetReleased().GetOutcome(), err)
	}
	for _, tc := range []struct {
		name   string
		change func(e *audit.Entry)
	}{
		{"NoAnswer", func(e *audit.Entry) { delete(e.Detail, "answer") }},
		{"EmptyAnswer", func(e *audit.Entry) { e.Detail["answer"] = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "insp." + strings.ToLower(tc.name)
			h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
				if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" {
					if r.GetReleased().GetOutcome() != liaisonv1.Outcome_OUTCOME_HIT_ONLY {
						t.Errorf("the Danish answer is %v; want hit_only", r.GetReleased().GetOutcome())
					}
					r.Receipt = h.forge(t, r.Receipt, tc.change, "")
				}
				return resp, err
			})
			defer h.setAnswer(nil)
			resp, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), req)
			if err == nil {
				t.Fatalf("Request = %v (hit %v); want nothing delivered", resp.GetReleased().GetOutcome(), resp.GetReleased().GetHit())
			}
			if status.Code(err) != codes.Internal || errorReason(err) != "PEER_RECEIPT_INVALID" {
				t.Errorf("Request: %v; want INTERNAL, reason PEER_RECEIPT_INVALID", err)
			}
			nl := f.nl.entries(t, officer)
			if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Contains(nl[0].Reasons, "PEER_RECEIPT_INVALID") {
				t.Fatalf("Dutch entries %v; want one, failed PEER_RECEIPT_INVALID", outcomes(nl))
			}
			if a := nl[0].Detail["answer"]; a != "" {
				t.Errorf("the failed Dutch entry records answer %q; nothing was delivered", a)
			}
			noRawSubject(t, req.GetSubjectId(), err, nl...)
		})
	}
}
