package gateway_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestGetReceiptRefusalIsLogged: asking for the receipt of a release to
// another agency, or of an index beyond the log, is refused and is one
// audit_read entry of its own (outcome refused, operation get_receipt,
// the field), as the read it asked for would have been. Without the fix
// a refused call left the log unchanged: an agency could probe other
// agencies' releases without a trace.
func TestGetReceiptRefusalIsLogged(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{})
	resp, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Planning contact.",
	})
	if err != nil {
		t.Fatal(err)
	}
	release := resp.GetReleased().GetAuditIndex()
	for name, idx := range map[string]int64{"another agency's release": release, "beyond the log": release + 1000, "negative": -1} {
		err, entries := s.grown(t, func() error {
			_, err := aftercare(t, s, dkPolice).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: idx})
			return err
		})
		wantStatus(t, err, codes.InvalidArgument)
		if len(entries) != 1 {
			t.Errorf("%s: %d entries, want one refused audit_read", name, len(entries))
			continue
		}
		e := entries[0]
		if e.Action != audit.ActionAuditRead || e.Outcome != audit.OutcomeRefused || e.Detail["operation"] != "get_receipt" ||
			e.Detail["field"] != "audit_index" || len(e.Reasons) != 1 || e.Requester == nil || e.Requester.Agency != "dk-police-aarhus" {
			t.Errorf("%s: entry = %s %s %v %v, want audit_read refused, operation get_receipt, field audit_index", name, e.Action, e.Outcome, e.Reasons, e.Detail)
		}
	}
	// The receipt of its own release is one audit_read entry, ok.
	err, entries := s.grown(t, func() error {
		_, err := aftercare(t, s, nlPolice).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: release})
		return err
	})
	if err != nil || len(entries) != 1 || entries[0].Outcome != audit.OutcomeOK || entries[0].Detail["operation"] != "get_receipt" {
		t.Errorf("GetReceipt of its own release = %v, entries %+v", err, entries)
	}
}
