package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestAcknowledgeNoticePassedOnMeanwhile: probation gave the Rotterdam
// police its risk assessment and corrected it. The police acknowledge the
// correction, and pass the assessment on (in a case plan to the
// municipality, naming probation's first release as its provenance) after
// the gateway read the log for what they passed on and before it commits
// the acknowledgement. As when the plan went first, the acknowledgement
// is refused PASSED_ON_NOT_CORRECTED naming the plan's release, in one
// refused entry and no acknowledged one, on both stores. The race is
// forced: the plan is sent right after the gateway's query of the
// police's releases about the person (raceStore.armQuery). Without the
// fix the check read the log only before the commit: the acknowledgement
// was recorded while the municipality held the uncorrected plan.
func TestAcknowledgeNoticePassedOnMeanwhile(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now
		o.race = &raceStore{}
		s := startStack(t, o)
		ra, attrs, _ := s.fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
		const caseID = "NL-ZVH-RTM-0042"
		d, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: ra, Subject: attrs, Recipients: []string{"nl-police-rotterdam"}, CaseId: caseID,
			Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case consultation.",
		})
		if err != nil || d.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
			t.Fatalf("probation to police = %v, %v", d, err)
		}
		p := d.GetResults()[0].GetAuditIndex()
		c := proto.CloneOf(ra)
		c.GetRiskAssessment().Level = liaisonv1.RiskLevel_RISK_LEVEL_MODERATE
		r, err := aftercare(t, s, nlProb).Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Justification: "The level was mistyped."})
		if err != nil || len(r.GetResults()) != 1 || r.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
			t.Fatalf("probation's correction = %v, %v; want one correction, to the police", r, err)
		}
		notice := r.GetResults()[0].GetAuditIndex()

		onward := int64(-1)
		o.race.armQuery(func(f audit.Filter) bool { return f.Agency == "nl-police-rotterdam" && f.Subject != "" }, func() {
			plan := &liaisonv1.Record{Body: &liaisonv1.Record_CasePlan{CasePlan: &liaisonv1.CasePlan{
				Subject: &liaisonv1.Person{SubjectId: "SYN-NL-0001"}, CaseId: caseID, LeadAgency: "nl-municipality-rotterdam",
				MemberAgencies: []string{"nl-police-rotterdam", "nl-probation", "nl-municipality-rotterdam"},
				Measures:       []*liaisonv1.CaseMeasure{{Description: "Weekly contact with the mentor, as probation's assessment advises", OwnerAgency: "nl-municipality-rotterdam"}},
			}}}
			x, err := s.exchange(t, nlPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: plan, Subject: attrs, Recipients: []string{"nl-municipality-rotterdam"}, CaseId: caseID,
				Provenance: &liaisonv1.Provenance{AuditIndex: p},
				Purpose:    liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "The plan agreed in the consultation.",
			})
			if err != nil || x.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
				t.Errorf("police to municipality = %v, %v", x, err)
				return
			}
			onward = x.GetResults()[0].GetAuditIndex()
		})
		police := aftercare(t, s, nlPolice)
		err, entries := s.grown(t, func() error {
			_, err := police.AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: notice, Done: liaisonv1.Obligation_OBLIGATION_RECTIFY})
			return err
		})
		if onward < 0 {
			t.Fatalf("nothing was passed on during the acknowledgement of %d", notice)
		}
		if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "PASSED_ON_NOT_CORRECTED" ||
			!strings.Contains(st.Message(), fmt.Sprintf("(entry %d)", onward)) {
			t.Errorf("acknowledging %d = %v; want PASSED_ON_NOT_CORRECTED naming %d", notice, st, onward)
		}
		var acks []*audit.Entry
		for _, e := range entries {
			if e.Action == audit.ActionAcknowledgeNotice {
				acks = append(acks, e)
			}
		}
		if len(acks) != 1 || acks[0].Outcome != audit.OutcomeRefused || !slices.Equal(acks[0].Reasons, []string{"PASSED_ON_NOT_CORRECTED"}) {
			for _, e := range acks {
				t.Logf("entry %s %s %v", e.Action, e.Outcome, e.Reasons)
			}
			t.Errorf("%d acknowledge_notice entries; want one, refused PASSED_ON_NOT_CORRECTED", len(acks))
		}
		// As when the plan went first: refused again, until the police
		// correct it.
		_, err = police.AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: notice, Done: liaisonv1.Obligation_OBLIGATION_RECTIFY})
		if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "PASSED_ON_NOT_CORRECTED" {
			t.Errorf("acknowledging %d again = %v; want PASSED_ON_NOT_CORRECTED", notice, st)
		}
	})
}
