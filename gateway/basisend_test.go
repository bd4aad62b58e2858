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

// TestBasisEndsAtMidnightInCopenhagen: a Danish basis valid until 1 March
// 2027 (the KSP supervision basis, which ends with the probation) is in
// force to the end of that day in Copenhagen, 23:00 UTC, for the policy
// and the gateway alike. The prison released the Aarhus police one
// person's release notice under it, and Aarhus social services another's.
// At 22:30 UTC (23:30 there) it is in force: no expiry notice, and the
// prison may still release under it. At 23:30 UTC (00:30 on 2 March
// there) it has ended: the policy refuses a release under it
// (LEGAL_BASIS_EXPIRED) and the police's passing the record back
// (PROVENANCE_BASIS_ENDED); the gateway no longer finds social services
// as an earlier recipient of the other person (NO_RECIPIENTS), and the
// aftercare timers send each recipient its expiry notice, the police's
// kept from 2 March, the first day the basis no longer covers. Without the
// fix the gateway counted UTC days: at 23:30 UTC it sent no expiry notice
// and sent social services the notice of the probation's end under the
// release window, as an earlier recipient whose basis the policy held
// ended.
func TestBasisEndsAtMidnightInCopenhagen(t *testing.T) {
	eachStore(t, testBasisEndsAtMidnightInCopenhagen)
}

func testBasisEndsAtMidnightInCopenhagen(t *testing.T, o stackOptions) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	o.serverNow = clk.Now
	s := startStack(t, o)
	rec, _ := dkRelease(t, s)
	other := proto.CloneOf(rec)
	other.GetReleaseNotice().GetSubject().SubjectId = "SYN-DK-0777"
	toPolice := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()
	toSocial := discloseUnderSupervision(t, s, other, "2027-03-01", "dk-social-aarhus").GetResults()[0].GetAuditIndex()
	expiries := func() []audit.Record {
		t.Helper()
		if err := s.srv.RunAftercare(ctx); err != nil {
			t.Fatalf("RunAftercare at %v: %v", clk.Now(), err)
		}
		return entriesOf(t, s, audit.ActionExpire)
	}

	clk.Set(time.Date(2027, 3, 1, 22, 30, 0, 0, time.UTC)) // 23:30 on 1 March in Copenhagen
	if n := len(expiries()); n != 0 {
		t.Fatalf("%d expiry notices at 23:30 on the basis's last day in Copenhagen, want none", n)
	}
	again := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()

	clk.Set(time.Date(2027, 3, 1, 23, 30, 0, 0, time.UTC)) // 00:30 on 2 March in Copenhagen
	_, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: probationAttrs("2027-03-01"), Recipients: []string{"dk-police-aarhus"}, ClaimedLegalBasis: supervisionBasis,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "One more update.",
	})
	wantStatus(t, err, codes.PermissionDenied)
	if _, e := s.lastEntry(t); e.Outcome != audit.OutcomeDeny || !slices.Contains(e.Reasons, "LEGAL_BASIS_EXPIRED") {
		t.Errorf("release under the basis at 00:30 on 2 March in Copenhagen: %s %v, want deny with LEGAL_BASIS_EXPIRED", e.Outcome, e.Reasons)
	}
	_, err = s.exchange(t, dkPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: probationAttrs("2027-03-01"), Recipients: []string{"dk-prison-east"}, Provenance: &liaisonv1.Provenance{AuditIndex: toPolice},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "The prison should see what we hold.",
	})
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "PROVENANCE_BASIS_ENDED" {
		t.Errorf("the police passing the record back at 00:30 on 2 March in Copenhagen: %s %s, want PROVENANCE_BASIS_ENDED", errorReason(st), st.Message())
	}
	ended := proto.CloneOf(other)
	ended.GetReleaseNotice().ProbationUntil = "2027-03-01"
	_, err = s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_PROBATION_ENDED,
		Record:    ended, Subject: probationAttrs("2027-03-01"), Justification: "Probation ended.",
	})
	if st := wantStatus(t, err, codes.InvalidArgument); errorReason(st) != "NO_RECIPIENTS" {
		t.Errorf("Notify at 00:30 on 2 March in Copenhagen: %v (%s); want NO_RECIPIENTS, social services' basis having ended", st.Message(), errorReason(st))
	}

	exp := expiries()
	if len(exp) != 2 {
		t.Fatalf("%d expiry notices at 00:30 on 2 March in Copenhagen, want one for the police and one for social services", len(exp))
	}
	want := map[string][]int64{"dk-police-aarhus": {toPolice, again}, "dk-social-aarhus": {toSocial}}
	for _, r := range exp {
		e := r.Entry
		if e.Detail[audit.DetailRefersTo] != audit.FormatIndexes(want[e.Recipients[0].Agency]) || e.LegalBasis.ValidUntil != "2027-03-01" ||
			!e.Time.Equal(clk.Now()) {
			t.Errorf("expiry entry %d = %+v, want one referring to %v, the basis valid until 2027-03-01", r.Index, e, want[e.Recipients[0].Agency])
		}
	}
	pol := readInbox(t, s, dkPolice, 0)
	n := pol[len(pol)-1].GetObligation()
	wantUntil := time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1826).Format(time.DateOnly)
	if n.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY || n.GetRetention().GetRetainUntil() != wantUntil {
		t.Errorf("the police's expiry notice = %v; want to retain until %s, counted from 2 March", n, wantUntil)
	}
}
