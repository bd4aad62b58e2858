package main

import (
	"encoding/json"
	"testing"

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
