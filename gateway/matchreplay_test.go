package gateway_test

import (
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestMatchEntryReplaysAsDecided: a match is decided before any holder is
// asked, so without the subject's attributes; its entry must say so, or
// replay decides it again with attributes the decision never saw and
// reports flips no policy change made. The entry recorded the holder's
// attributes from its Describe, given after the decision.
func TestMatchEntryReplaysAsDecided(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.now})
	ctx := t.Context()
	eng, err := policies.Load(ctx, policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, tc := range []struct {
		o       officer
		subject string
		holders []string
		purpose liaisonv1.Purpose
	}{
		{nlPolice, "SYN-NL-0001", []string{"nl-probation"}, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT},
		{dkPolice, "SYN-DK-0001", []string{"dk-prison-east"}, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT},
	} {
		resp, err := s.exchange(t, tc.o).Match(ctx, &liaisonv1.MatchRequest{
			SubjectId: tc.subject, Holders: tc.holders, Purpose: tc.purpose,
			RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE},
			Justification: "Stopped in a routine check; does any partner know this person?",
		})
		if err != nil {
			t.Fatalf("Match by %s: %v", tc.o.agency, err)
		}
		for _, r := range resp.GetResults() {
			e := s.entry(t, r.GetAuditIndex())
			if e.Outcome != audit.OutcomeHitOnly {
				continue
			}
			if sub := e.Subject; sub == nil || sub.Pseudonym == "" || sub.Category != "" || sub.ReleaseDate != "" || sub.ProbationUntil != "" ||
				sub.Municipality != "" || sub.InCustody {
				t.Errorf("%s at %s (%s): the entry records the subject as %+v, which the decision did not see", tc.o.agency, r.GetHolder(), e.RecordType, sub)
			}
			checked++
			rec, skip := gateway.RecordedFromEntry(r.GetAuditIndex(), e)
			if skip != "" {
				t.Fatalf("entry %d skipped: %s", r.GetAuditIndex(), skip)
			}
			d, err := eng.Decide(ctx, rec.Input)
			if err != nil {
				t.Fatal(err)
			}
			basis := ""
			if d.LegalBasis != nil {
				basis = d.LegalBasis.ID
			}
			if d.Outcome != rec.Outcome || basis != rec.LegalBasis {
				t.Errorf("%s at %s (%s): replayed as %s under %q, decided %s under %q", tc.o.agency, r.GetHolder(), e.RecordType,
					d.Outcome, basis, rec.Outcome, rec.LegalBasis)
			}
		}
	}
	if checked < 2 {
		t.Fatalf("%d matches answered hit or no-hit, want at least 2 to check", checked)
	}
}
