package main

import (
	"encoding/json"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestReceivedReleaseReplaysAsDecided: the Danish prison pushes a release
// notice to the Dutch probation service, and the Dutch probation service
// requests a Danish risk assessment. The Dutch gateway decided each on
// receipt with its own law (detail receipt_outcome, receipt_legal_basis);
// the holder's law chose the fields and conditions, which its entry
// records as released (fields_disclosed, conditions); the push's entry
// records no field plan. `policy replay` of the Dutch log under the very policy in
// force must show no change at all. It compared the Dutch decision with
// the holder's outcome and legal basis, and the fields and conditions of
// the Dutch decision, which chose none, with the holder's: every field of
// the record was listed as newly disclosed, and a legal basis and the
// conditions changed, although nothing would.
func TestReceivedReleaseReplaysAsDecided(t *testing.T) {
	f := startFederation(t, nil, nil)
	ctx := t.Context()
	if _, err := f.dk.client(t, "dk-prison-east", "kf.replay").Disclose(ctx, releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)); err != nil {
		t.Fatalf("Disclose through both gateways: %v", err)
	}
	if _, err := f.nl.client(t, "nl-probation", "insp.replay").Request(ctx, riskAssessmentRequest); err != nil {
		t.Fatalf("Request through both gateways: %v", err)
	}
	for _, e := range append(f.nl.all(t, "disclose", "kf.replay"), f.nl.all(t, "request", "insp.replay")...) {
		if e.Outcome == audit.OutcomePending {
			continue
		}
		if e.Detail["receipt_outcome"] == "" || len(e.FieldsDisclosed) == 0 {
			t.Fatalf("Dutch %s entry: receipt outcome %q, fields %v; want a release received, decided on receipt",
				e.Action, e.Detail["receipt_outcome"], e.FieldsDisclosed)
		}
	}
	for _, active := range [][]string{nil, {"-active", "../../policies"}} {
		args := append([]string{"replay", "-candidate", "../../policies", "-since", "1h", "-audit-db", f.nl.opts.AuditDB, "-format", "json"}, active...)
		out, _, err := policyCmd(t, args...)
		var rep policies.ReplayReport
		if err != nil || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("policy %v = %v\n%s", args, err, out)
		}
		if rep.Replayed < 2 {
			t.Errorf("policy %v replayed %d entries; want the push and the answer received", active, rep.Replayed)
		}
		for _, c := range rep.Changes {
			t.Errorf("policy replay %v of the Dutch log under the policy in force changes entry %d (%s %s): %s -> %s, basis %q -> %q, newly disclosed %v, withdrawn %v, conditions added %v, dropped %v; want no change",
				active, c.Index, c.Action, c.RecordType, c.Before, c.After, c.BeforeBasis, c.AfterBasis, c.NewlyDisclosed, c.Withdrawn, c.ConditionsAdded, c.ConditionsDropped)
		}
	}
}

// refusedOnReceiptOld and refusedOnReceiptNew make the Dutch reading of
// Danish law one that covers suspects only: the Dutch gateway refuses on
// receipt what the Danish gateway releases of a convicted person, which
// it learns the person is from the Danish entry.
const (
	refusedOnReceiptOld = `"subject": {"categories": ["convicted"]},`
	refusedOnReceiptNew = `"subject": {"categories": ["suspect"]},`
)

// TestRefusedOnReceiptReplaysAsDecided: the Danish prison pushes a
// release notice to the Dutch probation service, and the Dutch probation
// service requests a Danish risk assessment; Danish law releases both,
// and the Dutch gateway refuses each on receipt. Its entries record that
// refusal (outcome deny, detail receipt_outcome deny) beside the Danish
// entry of the release (detail peer_receipt). `policy replay` of the
// Dutch log compares with what the Dutch gateway decided: under the
// policy in force, nothing changes; under one that would take them (the
// embedded policies), each flips from deny and newly discloses exactly
// the fields the Danish law released, with its conditions. Replay took
// the refusals for decisions of the Dutch gateway's own plan, and listed
// that plan's fields and conditions, which no Dutch decision could pass:
// the holder's law chose what would have arrived.
func TestRefusedOnReceiptReplaysAsDecided(t *testing.T) {
	inForce := patchedPolicies(t, "dk/dk.rego", refusedOnReceiptOld, refusedOnReceiptNew)
	f := startFederation(t, nil, patchedEngine(t, "dk/dk.rego", refusedOnReceiptOld, refusedOnReceiptNew))
	ctx := t.Context()
	if _, err := f.dk.client(t, "dk-prison-east", "kf.refused").Disclose(ctx, releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Disclose = %v; want PermissionDenied by the Dutch law on receipt", err)
	}
	if _, err := f.nl.client(t, "nl-probation", "insp.refused").Request(ctx, riskAssessmentRequest); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Request = %v; want PermissionDenied by the Dutch law on receipt", err)
	}
	type release struct{ fields, conditions []string }
	released := map[string]release{} // by the Dutch entry's action
	for _, e := range append(f.nl.all(t, "disclose", "kf.refused"), f.nl.entries(t, "insp.refused")...) {
		pe, err := audit.Unmarshal([]byte(receiptIn(t, e).GetEntry()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Outcome != audit.OutcomeDeny || e.Detail["receipt_outcome"] != policies.OutcomeDeny || len(e.FieldsDisclosed) != 0 ||
			!audit.Released(pe.Outcome) && pe.Outcome != audit.OutcomePending || len(pe.FieldsDisclosed) == 0 {
			t.Errorf("Dutch %s entry: %s, receipt outcome %q, fields %v; the Danish entry %s, fields %v; want a Danish release refused on Dutch receipt",
				e.Action, e.Outcome, e.Detail["receipt_outcome"], e.FieldsDisclosed, pe.Outcome, pe.FieldsDisclosed)
		}
		released[e.Action] = release{pe.FieldsDisclosed, pe.Conditions}
	}
	if len(released) != 2 {
		t.Fatalf("Dutch refusals of %v; want the push and the answer", released)
	}
	replay := func(candidate string) *policies.ReplayReport {
		t.Helper()
		args := []string{"replay", "-candidate", candidate, "-since", "1h", "-audit-db", f.nl.opts.AuditDB, "-format", "json"}
		out, _, err := policyCmd(t, args...)
		var rep policies.ReplayReport
		if err != nil || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("policy %v = %v\n%s", args, err, out)
		}
		return &rep
	}
	if rep := replay(inForce); len(rep.Changes) != 0 || rep.Replayed < 2 {
		t.Errorf("policy replay of the Dutch log under the policy in force: %d replayed, changes %+v; want the two refusals, unchanged", rep.Replayed, rep.Changes)
	}
	rep := replay("../../policies")
	var changed []string
	for _, c := range rep.Changes {
		want, ok := released[c.Action]
		changed = append(changed, c.Action)
		if !ok || c.Before != policies.OutcomeDeny || !audit.Released(c.After) || !slices.Equal(c.NewlyDisclosed, sorted(want.fields)) ||
			len(c.Withdrawn) != 0 || !slices.Equal(c.ConditionsAdded, sorted(want.conditions)) || len(c.ConditionsDropped) != 0 {
			t.Errorf("policy replay of the Dutch %s refusal under a law that takes it: %s -> %s, newly disclosed %v, withdrawn %v, conditions added %v, dropped %v; want deny -> a release of the fields %v and conditions %v the Danish law released",
				c.Action, c.Before, c.After, c.NewlyDisclosed, c.Withdrawn, c.ConditionsAdded, c.ConditionsDropped, want.fields, want.conditions)
		}
	}
	if slices.Sort(changed); !slices.Equal(changed, []string{"disclose", "request"}) {
		t.Errorf("policy replay under a law that takes them changes %v; want the push and the answer refused on receipt", changed)
	}
}

// sorted returns a sorted copy of xs (nil if empty), as replay lists fields.
func sorted(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(xs))
}

// TestPeerDenialIsNotReplayedAsThisPolicys: the Danish prison pushes a
// release notice that the Dutch law refuses on receipt (the Dutch receipt
// rule without release notices), and the Dutch probation service requests
// a risk assessment that the Danish law refuses (no Danish basis for it).
// Each forwarding gateway logs a deny of the other's law (detail
// peer_denial); its own policy let the exchange go. `policy replay` of
// either log under the policy in force must not take that deny for its
// policy's decision: it skips it, saying why. The Danish replay showed a
// flip from deny to disclose, newly disclosing every field of the
// release notice, under the very policy that had disclosed it.
func TestPeerDenialIsNotReplayedAsThisPolicys(t *testing.T) {
	nlReceipt := [3]string{"nl/nl.rego",
		`"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],`,
		`"record_types": ["risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],`}
	dkBasis := [3]string{"dk/dk.rego", `"release_notice", "risk_assessment", `, `"release_notice", `}
	f := startFederation(t, patchedEngine(t, dkBasis[0], dkBasis[1], dkBasis[2]), patchedEngine(t, nlReceipt[0], nlReceipt[1], nlReceipt[2]))
	ctx := t.Context()
	if _, err := f.dk.client(t, "dk-prison-east", "kf.denied").Disclose(ctx, releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Disclose = %v; want PermissionDenied by the Dutch law on receipt", err)
	}
	if _, err := f.nl.client(t, "nl-probation", "insp.denied").Request(ctx, riskAssessmentRequest); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Request = %v; want PermissionDenied by the Danish law", err)
	}
	for _, tc := range []struct {
		c       *country
		action  string
		officer string
		policy  [3]string
	}{
		{f.dk, "disclose", "kf.denied", dkBasis},
		{f.nl, "request", "insp.denied", nlReceipt},
	} {
		es := tc.c.all(t, tc.action, tc.officer)
		if len(es) != 2 || es[1].Outcome != audit.OutcomeDeny || es[1].Detail["peer_denial"] != "verified" {
			t.Fatalf("%s %s entries %v; want pending, then a deny of the peer's law", tc.c.Jurisdiction, tc.action, outcomes(es))
		}
		args := []string{"replay", "-candidate", patchedPolicies(t, tc.policy[0], tc.policy[1], tc.policy[2]),
			"-since", "1h", "-audit-db", tc.c.opts.AuditDB, "-format", "json"}
		out, _, err := policyCmd(t, args...)
		var rep policies.ReplayReport
		if err != nil || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("policy %v = %v\n%s", args, err, out)
		}
		for _, c := range rep.Changes {
			t.Errorf("policy replay of the %s log under the policy in force changes entry %d (%s): %s -> %s, newly disclosed %v; want the peer's deny skipped",
				tc.c.Jurisdiction, c.Index, c.Action, c.Before, c.After, c.NewlyDisclosed)
		}
		if n := rep.Skipped["denied by the peer gateway's law, not this policy"]; n != 1 {
			t.Errorf("policy replay of the %s log skipped %v; want the peer's deny skipped as not this policy's", tc.c.Jurisdiction, rep.Skipped)
		}
	}
}
