package gateway_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

func (f *faultStore) MatchFingerprints(ctx context.Context, recipient, subject string, fps [][32]byte) ([]audit.FingerprintMatch, error) {
	if err := f.fault("MatchFingerprints", recipient); err != nil {
		return nil, err
	}
	return f.testStore.MatchFingerprints(ctx, recipient, subject, fps)
}

func (f *faultStore) HasFingerprints(ctx context.Context, recipient, subject string) (bool, error) {
	if err := f.fault("HasFingerprints", recipient); err != nil {
		return false, err
	}
	return f.testStore.HasFingerprints(ctx, recipient, subject)
}

// TestOnwardCheckLooksOnlyWhereSomethingWasReceived: the onward check
// looks a record's content up only where the sending agency was released
// something about the subject (audit.AftercareStore.HasFingerprints).
// With the lookup failing, the prison, which received nothing about the
// person, still discloses its release notice; the police, who received
// it, cannot disclose even a record of their own about the person until
// the lookup works again: their exchange fails UNAVAILABLE, in one failed
// entry, rather than going out unchecked. The gateway remembers that the
// police were released something about the person: their next
// disclosure goes straight to the lookup, and goes with the store's
// HasFingerprints failing.
func TestOnwardCheckLooksOnlyWhereSomethingWasReceived(t *testing.T) {
	fs := &faultStore{}
	s := startStack(t, stackOptions{serverNow: newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now, faults: fs})
	ctx := t.Context()
	fs.arm("MatchFingerprints", errors.New("fingerprint lookup unavailable"), nil)

	rec, attrs := dkRelease(t, s)
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
	}); err != nil {
		t.Fatalf("the prison's release notice, with the fingerprint lookup failing: %v; want it disclosed, the prison having received nothing about the person", err)
	}

	own := &liaisonv1.Record{Body: &liaisonv1.Record_PoliceObservation{PoliceObservation: &liaisonv1.PoliceObservation{
		Subject: &liaisonv1.Person{SubjectId: "SYN-DK-0001"}, ObservedOn: "2026-11-20", Grading: "B2",
		ReportingUnit: "Østjyllands Politi, Forebyggelse", Description: "Seen at the youth club with his mentor.",
	}}}
	observe := func() (*liaisonv1.DiscloseResponse, error) {
		return s.exchange(t, dkPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: own, Subject: attrs, Recipients: []string{"dk-social-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Social services should know.",
		})
	}
	_, err := observe()
	wantStatus(t, err, codes.Unavailable)
	if _, e := s.lastEntry(t); e.Outcome != audit.OutcomeFailed || e.Requester == nil || e.Requester.Agency != "dk-police-aarhus" {
		t.Errorf("entry of the police's disclosure with the lookup failing = %s by %+v, want failed by the police", e.Outcome, e.Requester)
	}
	fs.disarm()
	if r, err := observe(); err != nil || r.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Errorf("the police's own observation once the lookup works = %v, %v; want it disclosed", r, err)
	}
	fs.arm("HasFingerprints", errors.New("fingerprint existence unavailable"), nil)
	if r, err := observe(); err != nil || r.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Errorf("the police's observation again, HasFingerprints failing = %v, %v; want it disclosed, the gateway knowing they received something", r, err)
	}
}
