package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// requestPolicy is a policy tree that answers every request with the
// given decision (JSON, as Rego reads it) and denies everything else.
func requestPolicy(decision string) fstest.MapFS {
	return fstest.MapFS{"liaison/decision.rego": {Data: []byte(`package liaison

decision := ` + decision + ` if input.action == "request"

else := {
	"outcome": "deny", "conditions": [],
	"reasons": [{"code": "NO_LEGAL_BASIS", "message": "Nothing else may be shared."}],
}
`)}}
}

// TestPseudonymisedDecisionKeepsNoDirectIdentifierInClear: a pseudonymise
// decision whose field plan keeps a direct identifier (by its class, or by
// a name that wins over the class, such as Person.full_name) would send the
// person's name or identifier under an entry that says pseudonymise. The
// gateway treats it as a malformed decision: denied POLICY_ERROR, an entry
// deny, and the holder is not asked for the record. A plan that
// pseudonymises the key and drops the other identifiers is released.
// Without the check the record left with the name in clear.
func TestPseudonymisedDecisionKeepsNoDirectIdentifierInClear(t *testing.T) {
	const tmpl = `{
	"outcome": "pseudonymise", "pseudonym_domain": sprintf("%%s/%%s", [input.recipient.agency, input.purpose]),
	"fields": %s, "conditions": [],
	"reasons": [{"code": "PSEUDONYMISED", "message": "Pseudonymised."}],
}`
	for _, tc := range []struct {
		name, fields string
		ok           bool
	}{
		{"identifiers pseudonymised", `{"keep": ["operational"], "generalise": ["quasi_identifier"], "pseudonymise": ["direct_identifier"]}`, true},
		{"direct identifiers kept by class", `{"keep": ["operational", "direct_identifier"], "generalise": [], "pseudonymise": []}`, false},
		{"name kept by name", `{"keep": ["operational", "Person.full_name"], "generalise": [], "pseudonymise": ["direct_identifier"]}`, false},
		{"identifier kept by name", `{"keep": ["Person.subject_id"], "generalise": [], "pseudonymise": []}`, false},
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
			if tc.ok {
				if err != nil {
					t.Fatalf("Request: %v", err)
				}
				rel := resp.GetReleased()
				b, _ := proto.Marshal(rel.GetRecord())
				if rel.GetOutcome() != liaisonv1.Outcome_OUTCOME_PSEUDONYMISE || strings.Contains(string(b), "SYN-NL-0001") ||
					rel.GetRecord().GetRiskAssessment().GetSubject().GetFullName() != "" {
					t.Errorf("released %v, want it pseudonymised", rel)
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
		})
	}
}

// TestPseudonymisedRecordNamesNoIdentifierInItsTexts: a record released
// pseudonymised whose kept texts mention the person's identifier (an
// operational contact point "file SYN-DK-0001", written in another case
// and with other separators too) would name the person beside the
// pseudonym that stands for them. The mention is replaced by the person's
// pseudonym in the release's domain; the record released in full keeps
// the text as written. Without it the identifier went to the
// pseudonymised recipient in clear.
func TestPseudonymisedRecordNamesNoIdentifierInItsTexts(t *testing.T) {
	s := startStack(t, stackOptions{})
	rec, attrs := dkRelease(t, s)
	rec = proto.CloneOf(rec)
	rn := rec.GetReleaseNotice()
	rn.ContactPoint = "Release desk, file SYN-DK-0001 (also syn dk 0001)"
	rn.Facility = "Vestre, wing B"
	prison := s.exchange(t, dkPrison)
	for _, d := range []struct {
		recipient string
		purpose   liaisonv1.Purpose
		want      liaisonv1.Outcome
		reader    officer
	}{
		{"dk-police-aarhus", liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, liaisonv1.Outcome_OUTCOME_DISCLOSE, dkPolice},
		{"dk-social-aarhus", liaisonv1.Purpose_PURPOSE_STATISTICS, liaisonv1.Outcome_OUTCOME_PSEUDONYMISE, dkSocial},
	} {
		resp, err := prison.Disclose(t.Context(), &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{d.recipient},
			Purpose: d.purpose, Justification: "Release in three weeks.",
		})
		if err != nil {
			t.Fatalf("Disclose to %s: %v", d.recipient, err)
		}
		if got := resp.GetResults()[0].GetOutcome(); got != d.want {
			t.Fatalf("Disclose to %s = %v, want %v", d.recipient, got, d.want)
		}
		items := readInbox(t, s, d.reader, 0)
		if len(items) != 1 {
			t.Fatalf("%s's inbox holds %d items, want 1", d.recipient, len(items))
		}
		rel := items[0].GetReleased()
		got := rel.GetRecord().GetReleaseNotice()
		if d.want == liaisonv1.Outcome_OUTCOME_DISCLOSE {
			if got.GetContactPoint() != rn.ContactPoint {
				t.Errorf("%s (in full) got contact point %q, want it as written", d.recipient, got.GetContactPoint())
			}
			continue
		}
		ps := rel.GetSubjectPseudonym()
		want := "Release desk, file " + ps + " (also " + ps + ")"
		if got.GetContactPoint() != want || got.GetFacility() != rn.Facility {
			t.Errorf("%s (pseudonymised) got contact point %q, facility %q; want %q, %q", d.recipient, got.GetContactPoint(), got.GetFacility(), want, rn.Facility)
		}
		if b, _ := proto.Marshal(rel); strings.Contains(strings.ToLower(string(b)), "0001") {
			t.Errorf("%s (pseudonymised) received the identifier: %v", d.recipient, rel.GetRecord())
		}
	}
}

// TestReleaseSpellsThePersonOneWayAcrossARotation: the subject's
// pseudonym beside a record (Released.subject_pseudonym) is made before
// the holder is asked for it, the record's own pseudonyms after. A key
// rotation loaded between the two (here while the holder answers Fetch)
// gave the person two spellings in one release, psn:1:... beside and
// psn:2:... in the record, which a recipient comparing pseudonyms as
// strings takes for two people. The record's pseudonyms are now made
// under the key version of the one beside it.
func TestReleaseSpellsThePersonOneWayAcrossARotation(t *testing.T) {
	const decision = `{
	"outcome": "pseudonymise", "pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"fields": {"keep": ["operational"], "generalise": [], "pseudonymise": ["direct_identifier"]}, "conditions": [],
	"reasons": [{"code": "PSEUDONYMISED", "message": "Pseudonymised."}],
}`
	var s *stack
	var rotated atomic.Bool
	rotate := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if info.FullMethod == liaisonv1.RecordProvider_Fetch_FullMethodName && !rotated.Swap(true) {
			if _, err := pseudonym.RotateKeyFile(s.keyFile, time.Now()); err != nil {
				t.Error(err)
			}
			if err := s.keys.Reload(ctx); err != nil {
				t.Error(err)
			}
		}
		return h(ctx, req)
	}
	s = startStack(t, stackOptions{policy: requestPolicy(decision), holderInterceptor: rotate})
	resp, err := s.exchange(t, nlPolice).Request(t.Context(), riskReq(nil))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	rel := resp.GetReleased()
	if !rotated.Load() || s.keys.CurrentVersion() != 2 {
		t.Fatalf("the keys did not rotate while the holder answered (current version %d)", s.keys.CurrentVersion())
	}
	beside, in := rel.GetSubjectPseudonym(), rel.GetRecord().GetRiskAssessment().GetSubject().GetSubjectId()
	if beside == "" || in != beside {
		t.Errorf("the release spells the person two ways: %q beside the record, %q in it", beside, in)
	}
}

// TestNGOReceivesNoAssessmentInClear: "an NGO never receives assessment
// fields in clear", whatever a pack says (policies/README.md). The packs'
// global rule drops the class and RiskAssessment.* from an NGO's plan, but
// a field of class assessment named otherwise (FamilyContact.worries,
// ExitProgrammeStatus.engagement) went through, and a policy that does not
// apply the rule let any through. The gateway checks the plan against the
// schema: such a decision is denied POLICY_ERROR before anything is
// fetched; a plan without assessments is released.
func TestNGOReceivesNoAssessmentInClear(t *testing.T) {
	const tmpl = `{
	"outcome": "pseudonymise", "pseudonym_domain": sprintf("%%s/%%s", [input.recipient.agency, input.purpose]),
	"fields": {"keep": %s, "generalise": [], "pseudonymise": ["direct_identifier"]}, "conditions": [],
	"reasons": [{"code": "PSEUDONYMISED", "message": "Pseudonymised."}],
}`
	for _, tc := range []struct {
		name, keep string
		rt         liaisonv1.RecordType
		ok         bool
	}{
		{"no assessment", `["operational"]`, liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, true},
		{"the class", `["operational", "assessment"]`, liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, false},
		{"a risk assessment's level by name", `["RiskAssessment.level"]`, liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, false},
		{"a family's worries by name", `["operational", "FamilyContact.worries"]`, liaisonv1.RecordType_RECORD_TYPE_FAMILY_CONTACT, false},
		{"engagement by name", `["ExitProgrammeStatus.engagement"]`, liaisonv1.RecordType_RECORD_TYPE_EXIT_PROGRAMME_STATUS, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startStack(t, stackOptions{policy: requestPolicy(fmt.Sprintf(tmpl, tc.keep))})
			fetches := s.providers["nl-probation"].Fetches()
			var resp *liaisonv1.RequestResponse
			err, entries := s.grown(t, func() error {
				var err error
				resp, err = s.exchange(t, nlNGO).Request(t.Context(), riskReq(func(r *liaisonv1.RequestRequest) { r.RecordType = tc.rt }))
				return err
			})
			if len(entries) != 1 {
				t.Fatalf("the log grew by %d entries, want 1", len(entries))
			}
			if tc.ok {
				if err != nil {
					t.Fatalf("Request: %v", err)
				}
				if lvl := resp.GetReleased().GetRecord().GetRiskAssessment().GetLevel(); lvl != 0 {
					t.Errorf("the NGO received the level %v", lvl)
				}
				return
			}
			if status.Code(err) != codes.PermissionDenied || reasonOf(err) != "POLICY_ERROR" {
				t.Fatalf("Request = %v, %v; want PermissionDenied POLICY_ERROR", resp.GetReleased(), err)
			}
			if e := entries[0]; e.Outcome != audit.OutcomeDeny || len(e.FieldsDisclosed) > 0 {
				t.Errorf("entry: outcome %q, fields %v; want deny, none", e.Outcome, e.FieldsDisclosed)
			}
			if n := s.providers["nl-probation"].Fetches(); n != fetches {
				t.Errorf("the holder was asked for %d records", n-fetches)
			}
		})
	}
}

// TestSimulateShowsThePlanCheck: Policy.Simulate shows what the gateway
// would do with a decision, so a pseudonymise decision that keeps a
// direct identifier in clear, which the gateway denies POLICY_ERROR, is
// not simulated as a pseudonymised release: Simulate answers
// INVALID_ARGUMENT ("the policy could not decide"), as for a decision the
// engine refuses. Without it the legal officer saw the decision pass.
func TestSimulateShowsThePlanCheck(t *testing.T) {
	s := startStack(t, stackOptions{policy: requestPolicy(`{
	"outcome": "pseudonymise", "pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"fields": {"keep": ["operational", "Person.full_name"], "generalise": [], "pseudonymise": ["direct_identifier"]}, "conditions": [],
	"reasons": [{"code": "PSEUDONYMISED", "message": "Pseudonymised."}],
}`)})
	resp, err := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor)).Simulate(t.Context(), &liaisonv1.SimulateRequest{Input: nlRiskRequestInput(t)})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "Person.full_name") {
		t.Errorf("Simulate = %v, %v; want INVALID_ARGUMENT naming Person.full_name", resp.GetDecision(), err)
	}
}

// nlRiskRequestInput is the policy input of Rotterdam police's request of
// a risk assessment from probation, for Policy.Simulate.
func nlRiskRequestInput(t *testing.T) *structpb.Struct {
	t.Helper()
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
	return st
}

// TestSimulateShowsTheDenyOfAnEndedBasis: a release under a legal basis
// whose valid_until is before the exchange's day is denied by the gateway,
// LEGAL_BASIS_EXPIRED, whatever the policy decided (defence in depth).
// Policy.Simulate shows what the gateway would do, so it answers that
// deny, with a first explanation line saying the gateway made it, not the
// policy's pseudonymise. Without it Simulate showed a release the gateway
// refuses.
func TestSimulateShowsTheDenyOfAnEndedBasis(t *testing.T) {
	s := startStack(t, stackOptions{policy: requestPolicy(`{
	"outcome": "pseudonymise", "pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"legal_basis": {"id": "zz.ended", "citation": "A basis that ended", "valid_until": "2026-11-25"},
	"fields": {"keep": ["operational"], "generalise": [], "pseudonymise": ["direct_identifier"]}, "conditions": [],
	"reasons": [{"code": "LEGAL_BASIS_APPLIES", "message": "Applies."}],
}`)})
	resp, err := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor)).Simulate(t.Context(), &liaisonv1.SimulateRequest{Input: nlRiskRequestInput(t)})
	if err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	d := resp.GetDecision().GetFields()
	if got := d["outcome"].GetStringValue(); got != "deny" {
		t.Errorf("outcome = %q, want deny: the gateway refuses a release under a basis that ended the day before", got)
	}
	if rs := d["reasons"].GetListValue().GetValues(); len(rs) == 0 || rs[0].GetStructValue().GetFields()["code"].GetStringValue() != "LEGAL_BASIS_EXPIRED" {
		t.Errorf("reasons = %v, want LEGAL_BASIS_EXPIRED first", rs)
	}
	if x := resp.GetExplanation(); len(x) == 0 || !strings.Contains(x[0], "the gateway denies this exchange") || !strings.Contains(x[0], "zz.ended") {
		t.Errorf("explanation = %q; want a first line saying the gateway denies it under the ended zz.ended", x)
	}
}
