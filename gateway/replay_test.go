package gateway_test

import (
	"slices"
	"testing"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// An audited exchange carries enough to be decided again, the same way,
// without personal data; and the schema-level field list of its decision
// covers every field that actually left.
func TestEntryReplaysToTheSameDecision(t *testing.T) {
	s := startStack(t, stackOptions{})
	resp, err := s.exchange(t, nlPolice).Request(t.Context(), &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Replay source.",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := s.entry(t, resp.GetReleased().GetAuditIndex())
	in, ok := gateway.InputFromEntry(e)
	if !ok {
		t.Fatal("InputFromEntry: not a decision entry")
	}
	eng, err := policies.Load(t.Context(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	d, err := eng.Decide(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != e.Outcome || d.PseudonymDomain != e.PseudonymDomain {
		t.Errorf("replayed decision %s/%s, audited %s/%s", d.Outcome, d.PseudonymDomain, e.Outcome, e.PseudonymDomain)
	}
	if e.FieldPlan == nil || !slices.Equal(e.FieldPlan.Keep, d.Fields.Keep) {
		t.Errorf("entry field plan = %+v, replayed %+v", e.FieldPlan, d.Fields)
	}
	planned := gateway.PlanFields(e.RecordType, d)
	for _, f := range e.FieldsDisclosed {
		if !slices.Contains(planned, f) {
			t.Errorf("field %s left the gateway but PlanFields(%v) = %v lacks it", f, d.Fields, planned)
		}
	}
	if gateway.PlanFields(e.RecordType, policies.Decision{Outcome: policies.OutcomeDeny}) != nil {
		t.Error("a denial plans fields")
	}
}
