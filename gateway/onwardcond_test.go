package gateway_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestOnwardUseUnderTheCorrectionsConditions: the conditions a record
// goes on under are those of what its recipient holds now. The prison
// released a release notice to the police under supervision and then
// corrected it, the correction adding STATISTICS_ONLY. The police
// passing the record on, naming the first release, are bound by the
// correction's conditions (as a correction of theirs is, correctOne):
// they were held to the first release's only, and the record went back
// for risk management.
func TestOnwardUseUnderTheCorrectionsConditions(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	p := discloseUnderSupervision(t, s, rec, "2027-06-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()

	// The prison's correction of it, as the log records one, with a
	// condition the release did not carry.
	c := s.entry(t, p)
	if slices.Contains(c.Conditions, "STATISTICS_ONLY") {
		t.Fatalf("release conditions %v already hold STATISTICS_ONLY", c.Conditions)
	}
	c.Action, c.RequestID, c.Time = audit.ActionCorrect, "test-correction-conditions", c.Time.Add(time.Minute)
	c.Conditions = append(slices.Clone(c.Conditions), "STATISTICS_ONLY")
	c.Detail = map[string]string{audit.DetailNoticeKind: audit.NoticeCorrection, audit.DetailRefersTo: itoa(p),
		audit.DetailReason: "CORRECTED", audit.DetailObligation: audit.ObligationRectify}
	ci, err := s.log.Append(ctx, c)
	if err != nil {
		t.Fatal(err)
	}

	clk.Set(time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC))
	back := proto.CloneOf(rec)
	_, err = s.exchange(t, dkPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: back, Subject: probationAttrs("2027-06-01"), Recipients: []string{"dk-prison-east"}, Provenance: &liaisonv1.Provenance{AuditIndex: p},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "The prison should see what we hold.",
	})
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "STATISTICS_ONLY" {
		t.Errorf("passed on for risk management after a correction added STATISTICS_ONLY (entry %d): %q %s", ci, errorReason(st), st.Message())
	}
	if _, e := s.lastEntry(t); e.Provenance == nil || e.Provenance.Index != p || !slices.Contains(e.Provenance.Conditions, "STATISTICS_ONLY") {
		t.Errorf("entry of the onward exchange: provenance %+v; want entry %d with the correction's conditions", e.Provenance, p)
	}
}
