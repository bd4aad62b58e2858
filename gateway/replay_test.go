package gateway_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
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

// TestReplaySkipsTheGatewaysOwnDenials: a Request the policy allowed but
// the gateway then refused by its own rule (the holder's system served
// content the holder had received through the gateway:
// UNDECLARED_ONWARD_DISCLOSURE) is logged as a deny, with the policy's
// revision. Replay read it as the policy's denial, so replaying the log
// under the very policy that made it reported a flip (deny → disclose)
// that no policy change causes. It is skipped, and counted, instead.
func TestReplaySkipsTheGatewaysOwnDenials(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{})
	fx := s.fx
	ra, nlAttrs, _ := fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
	if r, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: ra, Subject: nlAttrs, Recipients: []string{"nl-probation"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Moves to Rotterdam.",
	}); err != nil || r.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("prison to Dutch probation = %v, %v", r, err)
	}
	_, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Planning contact.",
	})
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "UNDECLARED_ONWARD_DISCLOSURE" {
		t.Fatalf("Request of received content refused with %q: %s", errorReason(st), st.Message())
	}
	last, e := s.lastEntry(t)
	if e.Outcome != audit.OutcomeDeny || e.PolicyRevision == "" {
		t.Fatalf("entry of the refused request = %s, revision %q; want a deny the policy's revision is on", e.Outcome, e.PolicyRevision)
	}

	eng, err := policies.Load(ctx, policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	r := gateway.NewReplayer(eng, nil)
	var recs []policies.Recorded
	for i := range last + 1 {
		if rec, skip := gateway.RecordedFromEntry(i, s.entry(t, i)); skip != "" {
			r.Skip(skip)
		} else {
			recs = append(recs, rec)
		}
	}
	if err := r.AddAll(ctx, recs); err != nil {
		t.Fatal(err)
	}
	rep := r.Report()
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if len(rep.Changes) != 0 || rep.Replayed != 1 {
		t.Errorf("the log replayed under the policy that made it: %d replayed, %d changes; want the disclosure replayed, unchanged:\n%s",
			rep.Replayed, len(rep.Changes), buf.String())
	}
	if _, skip := gateway.RecordedFromEntry(last, e); !strings.Contains(skip, "UNDECLARED_ONWARD_DISCLOSURE") {
		t.Errorf("the gateway's own denial is skipped as %q; want it named", skip)
	}
}

// TestReplaySkipsActionsOnACase: the policy decides actions on a case, and
// their entries record its outcome and revision, but replay does not
// decide them again: it counts them apart rather than as entries
// "without a policy decision", which they are not. The gateway records
// an action the policy allowed as ok (done), not allow: such entries, all
// of the demo's case_open, case_invite and case_accept, were counted
// "without a policy decision" by policy replay and the console's impact
// page.
func TestReplaySkipsActionsOnACase(t *testing.T) {
	for _, outcome := range []string{audit.OutcomeOK, policies.OutcomeAllow, policies.OutcomeDeny} {
		e := &audit.Entry{
			Action: "case_invite", Outcome: outcome, PolicyRevision: "sha256:0000",
			Requester:  &audit.Requester{Agency: "nl-municipality-rotterdam", Kind: "local_authority", Jurisdiction: "NL"},
			Holder:     &audit.Party{Agency: "nl-municipality-rotterdam", Kind: "local_authority", Jurisdiction: "NL"},
			Recipients: []audit.Party{{Agency: "nl-ngo-exit", Kind: "ngo", Jurisdiction: "NL"}},
			Purpose:    "maw_case_management",
			Case:       &audit.Case{ID: "NL-ZVH-RTM-0107", Members: []string{"nl-municipality-rotterdam"}, Lead: "nl-municipality-rotterdam"},
		}
		if _, skip := gateway.RecordedFromEntry(7, e); skip != "deciding an action on a case (not replayed)" {
			t.Errorf("a case_invite decided %s is skipped as %q; want it counted as an action on a case", outcome, skip)
		}
	}
	refused := &audit.Entry{Action: "case_invite", Outcome: audit.OutcomeRefused}
	if _, skip := gateway.RecordedFromEntry(8, refused); skip != "without a policy decision" {
		t.Errorf("a refused case_invite is skipped as %q; want \"without a policy decision\"", skip)
	}
}

// TestReplayAppliesThePlanCheck: a policy whose pseudonymise decision
// keeps Person.full_name in clear; the gateway checks the plan against the
// record schema and denies the request POLICY_ERROR. Replaying the log
// under that very policy must change nothing (the gateway would deny it
// again); replay did not check the plan and reported a flip deny →
// pseudonymise, a release the gateway never makes. Against a policy that
// pseudonymises the name (-active), the gateway's denial is the change,
// and the report says what the check found (the field, as Simulate does),
// as the change's PlanCheck and the "plan check:" line; it said
// POLICY_ERROR only.
func TestReplayAppliesThePlanCheck(t *testing.T) {
	ctx := t.Context()
	const tmpl = `{
	"outcome": "pseudonymise", "pseudonym_domain": sprintf("%%s/%%s", [input.recipient.agency, input.purpose]),
	"fields": {"keep": %s, "generalise": [], "pseudonymise": ["direct_identifier"]}, "conditions": [],
	"reasons": [{"code": "PSEUDONYMISED", "message": "Pseudonymised."}],
}`
	keepsName := requestPolicy(fmt.Sprintf(tmpl, `["operational", "Person.full_name"]`))
	s := startStack(t, stackOptions{policy: keepsName})
	_, err := s.exchange(t, nlPolice).Request(ctx, riskReq(nil))
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "POLICY_ERROR" {
		t.Fatalf("Request refused with %q; want POLICY_ERROR", errorReason(st))
	}
	last, e := s.lastEntry(t)
	if e.Outcome != audit.OutcomeDeny || !slices.Equal(e.Reasons, []string{"POLICY_ERROR"}) {
		t.Fatalf("entry: %s %v; want deny [POLICY_ERROR]", e.Outcome, e.Reasons)
	}
	rec, skip := gateway.RecordedFromEntry(last, e)
	if skip != "" {
		t.Fatalf("the entry is skipped: %s", skip)
	}
	load := func(fsys fs.FS) *policies.Engine {
		t.Helper()
		eng, err := policies.Load(ctx, fsys)
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	pseudonymisesName := load(requestPolicy(fmt.Sprintf(tmpl, `["operational"]`)))
	for _, tt := range []struct {
		name                string
		candidate, baseline *policies.Engine
		flip                string
	}{
		{"the policy that made the log, against the log", load(keepsName), nil, ""},
		{"the policy that made the log, against itself", load(keepsName), load(keepsName), ""},
		{"the policy that made the log, against one that pseudonymises the name", load(keepsName), pseudonymisesName, "pseudonymise→deny"},
		{"one that pseudonymises the name, against the log", pseudonymisesName, nil, "deny→pseudonymise"},
		// replay -active: the active policy's decision is the one the check
		// refuses, and the report says why it was a deny.
		{"one that pseudonymises the name, against the policy that made the log", pseudonymisesName, load(keepsName), "deny→pseudonymise (before)"},
	} {
		r := gateway.NewReplayer(tt.candidate, tt.baseline)
		if err := r.Add(ctx, rec); err != nil {
			t.Fatal(err)
		}
		rep := r.Report()
		var buf bytes.Buffer
		_ = rep.WriteText(&buf)
		switch {
		case tt.flip == "" && len(rep.Changes) != 0:
			t.Errorf("%s: %d changes, want none:\n%s", tt.name, len(rep.Changes), buf.String())
		case tt.flip != "" && (len(rep.Groups) != 1 || rep.Groups[0].Flips[strings.TrimSuffix(tt.flip, " (before)")] != 1):
			t.Errorf("%s: want the flip %s:\n%s", tt.name, tt.flip, buf.String())
		}
		for _, line := range strings.Split(buf.String(), "\n") {
			if strings.Contains(line, "Person.full_name") && !strings.HasPrefix(strings.TrimSpace(line), "plan check") {
				t.Errorf("%s: Person.full_name is shown other than as the plan check's finding: %q\n%s", tt.name, line, buf.String())
			}
		}
		const found = "outcome pseudonymise passes the direct identifier Person.full_name in clear"
		if tt.flip == "deny→pseudonymise (before)" {
			c := rep.Changes[0]
			if c.BeforePlanCheck != found || c.PlanCheck != "" || !strings.Contains(buf.String(), "\n      plan check, before: "+found+"\n") {
				t.Errorf("%s: plan check before %q, after %q; want before %q, said in the report:\n%s", tt.name, c.BeforePlanCheck, c.PlanCheck, found, buf.String())
			}
		} else if tt.flip == "pseudonymise→deny" {
			c := rep.Changes[0]
			if !slices.Equal(c.Reasons, []string{"POLICY_ERROR"}) || c.PlanCheck != found || rep.Groups[0].PlanChecks[found] != 1 {
				t.Errorf("%s: reasons %v, plan check %q (group: %v); want [POLICY_ERROR], %q", tt.name, c.Reasons, c.PlanCheck, rep.Groups[0].PlanChecks, found)
			}
			if !strings.Contains(buf.String(), "→ deny [POLICY_ERROR]\n      plan check: "+found+"\n") || !strings.Contains(buf.String(), "\n      plan check ×1: "+found+"\n") {
				t.Errorf("%s: the report does not say what the plan check found:\n%s", tt.name, buf.String())
			}
		} else if strings.Contains(buf.String(), "plan check") || (len(rep.Changes) > 0 && (rep.Changes[0].PlanCheck != "" || rep.Changes[0].BeforePlanCheck != "")) {
			t.Errorf("%s: a plan check shown where the candidate's plan passes:\n%s", tt.name, buf.String())
		}
	}
}

// TestPlanCheckNamesTheFieldNeverAValue: what the gateway's plan check
// finds is shown by replay (liaison policy replay, the console's impact
// page) and by Simulate. It names the field and the rule only: for every
// record type, a pseudonymise, and a disclose to an NGO, that keeps every
// field in clear, with an input whose every string is a marker (as a raw
// identifier or a token in an officer's id, a case or a justification
// would be), the message is one of the two sentences, naming a schema
// field, and holds no marker.
func TestPlanCheckNamesTheFieldNeverAValue(t *testing.T) {
	const mark = "SYN-MARK-0001"
	shape := regexp.MustCompile(`^policies: malformed decision: (outcome pseudonymise passes the direct identifier|the assessment) [A-Z][A-Za-z]*\.[a-z_]+(~[a-z]+)? (in clear|passes to an NGO in clear)$`)
	body := (&liaisonv1.Record{}).ProtoReflect().Descriptor().Oneofs().ByName("body").Fields()
	checked := 0
	for i := range body.Len() {
		rt, _ := proto.GetExtension(body.Get(i).Message().Options(), liaisonv1.E_Record).(*liaisonv1.RecordRule)
		if rt.GetRecordType() == "" {
			continue
		}
		for _, d := range []policies.Decision{
			{Outcome: policies.OutcomePseudonymise, Fields: policies.Fields{Keep: []string{"operational", "direct_identifier", "assessment", "quasi_identifier", "special_category"}}},
			{Outcome: policies.OutcomeDisclose, Fields: policies.Fields{Keep: []string{"operational", "direct_identifier", "assessment", "quasi_identifier", "special_category"}}},
		} {
			in := policies.Input{
				Action: "request", Time: "2026-11-26T10:00:00Z", RecordType: rt.GetRecordType(), Purpose: mark, Justification: "About " + mark + ".",
				Requester:         policies.Requester{Agency: mark, Kind: "police", Jurisdiction: "NL", Officer: policies.Officer{ID: mark, Roles: []string{mark}, Clearance: mark}},
				Holder:            policies.Party{Agency: mark, Kind: mark, Jurisdiction: mark},
				Recipient:         policies.Party{Agency: mark, Kind: "ngo", Jurisdiction: mark},
				Subject:           policies.Subject{Category: mark, Municipality: mark, ReleaseDate: mark},
				Case:              &policies.Case{ID: mark, Members: []string{mark}, Lead: mark},
				ClaimedLegalBasis: mark,
			}
			err := gateway.CheckPlan(in, d)
			if err == nil {
				continue // a record type with no such field
			}
			checked++
			if msg := err.Error(); strings.Contains(msg, mark) || !shape.MatchString(msg) {
				t.Errorf("%s %s: the plan check says %q; want a field named, no value", rt.GetRecordType(), d.Outcome, msg)
			}
		}
	}
	if checked < 4 {
		t.Errorf("the plan check refused %d plans; want one or two a record type", checked)
	}
}
