package gateway_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestPlanNamingNoFieldIsRefused: a field plan names a field to treat it
// otherwise than its class (policies/README.md, "fields"). A name that is
// no field of the record schema matched nothing, so the field meant got
// its class's treatment: a plan that keeps direct identifiers and meant
// to pseudonymise the key, spelt Person.subject_ld, released the subject's
// identifier in clear, and one that meant to keep RiskAssessment.level,
// spelt RiskAssessment.levle, silently dropped it. A name of a part
// (RiskAssessment.subject, a Person) treats nothing either. The gateway
// now denies such a decision POLICY_ERROR before the holder is asked,
// and Policy.Simulate says so naming the name; a plan with the names
// spelt right is released as planned.
func TestPlanNamingNoFieldIsRefused(t *testing.T) {
	const tmpl = `{
	"outcome": "disclose", "pseudonym_domain": sprintf("%%s/%%s", [input.recipient.agency, input.purpose]),
	"legal_basis": {"id": "zz.basis", "citation": "A basis"},
	"fields": %s, "conditions": [],
	"reasons": [{"code": "LEGAL_BASIS_APPLIES", "message": "Applies."}],
}`
	for _, tc := range []struct {
		name, fields, found string
	}{
		{"spelt right", `{"keep": ["direct_identifier", "operational", "RiskAssessment.level"], "generalise": [], "pseudonymise": ["Person.subject_id"]}`, ""},
		{"the key misspelt", `{"keep": ["direct_identifier", "operational"], "generalise": [], "pseudonymise": ["Person.subject_ld"]}`,
			"fields.pseudonymise names Person.subject_ld, which is no field of the record schema"},
		{"the level misspelt", `{"keep": ["operational", "RiskAssessment.levle"], "generalise": [], "pseudonymise": ["Person.subject_id"]}`,
			"fields.keep names RiskAssessment.levle, which is no field of the record schema"},
		{"a part named", `{"keep": ["operational"], "generalise": [], "pseudonymise": ["RiskAssessment.subject"]}`,
			"fields.pseudonymise names RiskAssessment.subject, which holds a Person, not a value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startStack(t, stackOptions{policy: requestPolicy(fmt.Sprintf(tmpl, tc.fields))})
			fetches := s.providers["nl-probation"].Fetches()
			var resp *liaisonv1.RequestResponse
			err, entries := s.grown(t, func() error {
				var err error
				resp, err = s.exchange(t, nlPolice).Request(t.Context(), riskReq(nil))
				return err
			})
			if len(entries) != 1 {
				t.Fatalf("the log grew by %d entries, want 1", len(entries))
			}
			e := entries[0]
			sim, serr := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor)).Simulate(t.Context(), &liaisonv1.SimulateRequest{Input: nlRiskRequestInput(t)})
			if tc.found == "" {
				if err != nil || serr != nil {
					t.Fatalf("Request: %v; Simulate: %v", err, serr)
				}
				rel := resp.GetReleased()
				ra := rel.GetRecord().GetRiskAssessment()
				b, _ := proto.Marshal(rel.GetRecord())
				if rel.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE || strings.Contains(string(b), "SYN-NL-0001") ||
					ra.GetSubject().GetFullName() == "" || ra.GetLevel() == liaisonv1.RiskLevel_RISK_LEVEL_UNSPECIFIED {
					t.Errorf("released %v; want the key pseudonymised, the name and the level kept", rel)
				}
				return
			}
			if status.Code(err) != codes.PermissionDenied || reasonOf(err) != "POLICY_ERROR" {
				t.Fatalf("Request = %v, %v; want PermissionDenied POLICY_ERROR", resp.GetReleased(), err)
			}
			if e.Outcome != audit.OutcomeDeny || len(e.Reasons) != 1 || e.Reasons[0] != "POLICY_ERROR" || len(e.FieldsDisclosed) > 0 {
				t.Errorf("entry: outcome %q, reasons %v, fields %v; want deny [POLICY_ERROR], none", e.Outcome, e.Reasons, e.FieldsDisclosed)
			}
			if n := s.providers["nl-probation"].Fetches(); n != fetches {
				t.Errorf("the holder was asked for %d records", n-fetches)
			}
			if status.Code(serr) != codes.InvalidArgument || !strings.Contains(status.Convert(serr).Message(), tc.found) {
				t.Errorf("Simulate = %v, %v; want INVALID_ARGUMENT saying %q", sim.GetDecision(), serr, tc.found)
			}
		})
	}
}

// TestPlanNamesAreTheWholeSchemas: a pack's plan serves every record type
// of its basis or fallback rule (the Dutch fallback keeps
// RiskAssessment.level for all seven), so a name of another record type's
// field is no error; a name of no record's field is, and a class is left
// to the engine.
func TestPlanNamesAreTheWholeSchemas(t *testing.T) {
	in := policies.Input{Action: "request", RecordType: "release_notice", Recipient: policies.Party{Kind: "police"}}
	for _, tc := range []struct {
		keep []string
		ok   bool
	}{
		{[]string{"operational", "RiskAssessment.level", "Person.full_name", "Address.street"}, true},
		{[]string{"operational", "ReleaseNotice.release_dates"}, false},
		{[]string{"Record.release_notice"}, false},
		{[]string{"Person.address.street"}, false},
		{[]string{"ReleaseNotice.subject"}, false},
	} {
		d := policies.Decision{Outcome: policies.OutcomeDisclose, Fields: policies.Fields{Keep: tc.keep}}
		if err := gateway.CheckPlan(in, d); (err == nil) != tc.ok {
			t.Errorf("keep %v: CheckPlan = %v; want ok %v", tc.keep, err, tc.ok)
		}
	}
}
