package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestSimulateExplains: Policy.Simulate returns, with the decision and its
// explanation, the stage that decided and the assumptions it rests on, as
// `liaison policy simulate` prints them.
func TestSimulateExplains(t *testing.T) {
	s := startStack(t, stackOptions{})
	pc := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor))
	in := map[string]any{}
	if err := json.Unmarshal([]byte(`{
		"action": "request", "time": "2026-11-26T10:00:00Z",
		"requester": {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL",
			"officer": {"id": "o", "roles": ["case_officer"], "clearance": "confidential"}},
		"holder": {"agency": "nl-probation", "kind": "probation", "jurisdiction": "NL"},
		"recipient": {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL"},
		"subject": {"category": "convicted", "in_custody": false, "release_date": "2026-05-04", "probation_until": "2028-05-03", "municipality": "Rotterdam"},
		"record_type": "risk_assessment", "purpose": "risk_management", "claimed_legal_basis": "", "justification": "Risk review."
	}`), &in); err != nil {
		t.Fatal(err)
	}
	st, err := structpb.NewStruct(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := pc.Simulate(t.Context(), &liaisonv1.SimulateRequest{Input: st})
	if err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	if got := resp.GetDecision().GetFields()["outcome"].GetStringValue(); got != "pseudonymise" {
		t.Errorf("outcome = %q, want pseudonymise", got)
	}
	if resp.GetStage() != "fallback" {
		t.Errorf("stage = %q, want fallback", resp.GetStage())
	}
	if len(resp.GetAssumptions()) == 0 || !strings.Contains(strings.Join(resp.GetAssumptions(), " "), "not verified") {
		t.Errorf("assumptions = %q, want the pack's unverified reading of Dutch law", resp.GetAssumptions())
	}
	if len(resp.GetExplanation()) == 0 || resp.GetRevision() == "" {
		t.Errorf("explanation %q, revision %q: want both", resp.GetExplanation(), resp.GetRevision())
	}
}

// TestSimulateReadsKeysAsSpelt: Policy.Simulate reads the input as the
// policy does, key by key as spelt: "Purpose" beside "purpose" is not the
// purpose (OPA ignores it), so Simulate refuses the input naming the key
// rather than deciding on it.
func TestSimulateReadsKeysAsSpelt(t *testing.T) {
	s := startStack(t, stackOptions{})
	pc := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor))
	in := map[string]any{}
	if err := json.Unmarshal([]byte(`{
		"action": "disclose", "time": "2026-11-26T10:00:00Z",
		"requester": {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK",
			"officer": {"id": "o", "roles": ["release_officer"], "clearance": "confidential"}},
		"holder": {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK"},
		"recipient": {"agency": "dk-police-aarhus", "kind": "police", "jurisdiction": "DK"},
		"subject": {"category": "convicted", "in_custody": true, "release_date": "2026-12-15", "probation_until": "", "municipality": "Aarhus"},
		"record_type": "release_notice", "purpose": "risk_management", "Purpose": "criminal_investigation",
		"claimed_legal_basis": "", "justification": "Release scheduled."
	}`), &in); err != nil {
		t.Fatal(err)
	}
	st, err := structpb.NewStruct(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := pc.Simulate(t.Context(), &liaisonv1.SimulateRequest{Input: st})
	sts := wantStatus(t, err, codes.InvalidArgument)
	if f := badField(sts); f != "input" || !strings.Contains(sts.Message(), `"Purpose"`) {
		t.Errorf("Simulate with a key \"Purpose\" = %v (field %q), %v; want InvalidArgument on input naming the key", err, f, resp.GetDecision())
	}
}
