package main

import (
	"os"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestFederatedHitOnlyRequestHidesWhetherTheHolderKnowsTheSubject: a
// hit-only Request through a peer gateway answers the caller alike, a
// no-hit, whether the holder behind it does not know the subject at all
// or knows the subject but holds no record of the type, and both
// gateways log the one bit: hit_only, fields [hit], detail.answer no_hit.
func TestFederatedHitOnlyRequestHidesWhetherTheHolderKnowsTheSubject(t *testing.T) {
	eng, err := policies.Load(t.Context(), os.DirFS("../../gateway/testdata/hitonly"))
	if err != nil {
		t.Fatal(err)
	}
	f := startFederation(t, eng, eng)
	ask := func(officer, subject string) *liaisonv1.Released {
		t.Helper()
		req := proto.CloneOf(riskAssessmentRequest)
		req.SubjectId = subject
		req.RecordType = liaisonv1.RecordType_RECORD_TYPE_CASE_PLAN // the Danish prison holds none about SYN-DK-0001
		resp, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), req)
		if err != nil {
			t.Fatalf("Request(%s) through both gateways: %v; want a no-hit", subject, err)
		}
		rel := resp.GetReleased()
		if rel.GetOutcome() != liaisonv1.Outcome_OUTCOME_HIT_ONLY || rel.GetHit() || rel.GetRecord() != nil {
			t.Errorf("Request(%s) released %v; want a no-hit", subject, rel)
		}
		for name, c := range map[string]*country{"Dutch": f.nl, "Danish": f.dk} {
			es := c.entries(t, officer)
			if len(es) != 1 {
				t.Fatalf("%s entries %v; want one", name, outcomes(es))
			}
			if e := es[0]; e.Outcome != audit.OutcomeHitOnly || !slices.Equal(e.FieldsDisclosed, []string{"hit"}) || e.Detail["answer"] != "no_hit" {
				t.Errorf("Request(%s): %s entry outcome %q reasons %v fields %v answer %q; want hit_only, [hit], no_hit",
					subject, name, e.Outcome, e.Reasons, e.FieldsDisclosed, e.Detail["answer"])
			}
		}
		rel = proto.CloneOf(rel)
		rel.SubjectPseudonym, rel.AuditIndex, rel.Provenance = "", 0, nil
		return rel
	}
	known, unknown := ask("insp.known", "SYN-DK-0001"), ask("insp.unknown", "SYN-DK-0404")
	if !proto.Equal(known, unknown) {
		t.Errorf("the caller can tell the two no-hits apart:\n known subject:   %v\n unknown subject: %v", known, unknown)
	}
}
