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

// TestOnwardUseWhileTheSourceChanges: a record passed on goes under its
// source as the gateway read it when it decided; a source withdrawn or
// corrected after that read, before the onward exchange commits, stops
// it. The Rotterdam police pass probation's assessment on to the
// municipality in the case, naming the release as provenance, and
// probation withdraws that release right after the gateway read it (the
// race is forced: the withdrawal runs right after the gateway's query of
// what probation sent since, raceStore.armQuery). The Disclose is refused
// PROVENANCE_CHANGED_MEANWHILE, in one refused entry that describes no
// release, and nothing reaches the municipality; called again, it is
// refused PROVENANCE_WITHDRAWN. Then the police correct what they passed
// on of a later release while probation withdraws the correction they
// hold: the police's correction is refused so too (nothing delivered,
// the release left open), and sent again it reaches the municipality as
// a withdrawal (SOURCE_WITHDRAWN). Without the fix, the plan reached the
// municipality under the withdrawn assessment's provenance, and the
// correction delivered a record whose source had just been withdrawn.
func TestOnwardUseWhileTheSourceChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now
		o.race = &raceStore{}
		s := startStack(t, o)
		ra, attrs, _ := s.fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
		const caseID = "NL-ZVH-RTM-0042"
		prob, police := aftercare(t, s, nlProb), aftercare(t, s, nlPolice)
		toPolice := func() int64 {
			t.Helper()
			d, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: ra, Subject: attrs, Recipients: []string{"nl-police-rotterdam"}, CaseId: caseID,
				Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case consultation.",
			})
			if err != nil || d.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
				t.Fatalf("probation to police = %v, %v", d, err)
			}
			return d.GetResults()[0].GetAuditIndex()
		}
		plan := &liaisonv1.Record{Body: &liaisonv1.Record_CasePlan{CasePlan: &liaisonv1.CasePlan{
			Subject: &liaisonv1.Person{SubjectId: "SYN-NL-0001"}, CaseId: caseID, LeadAgency: "nl-municipality-rotterdam",
			MemberAgencies: []string{"nl-police-rotterdam", "nl-probation", "nl-municipality-rotterdam"},
			Measures:       []*liaisonv1.CaseMeasure{{Description: "Weekly contact with the mentor, as probation's assessment advises", OwnerAgency: "nl-municipality-rotterdam"}},
		}}}
		passOn := func(from int64) (*liaisonv1.DiscloseResponse, error) {
			return s.exchange(t, nlPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: plan, Subject: attrs, Recipients: []string{"nl-municipality-rotterdam"}, CaseId: caseID,
				Provenance: &liaisonv1.Provenance{AuditIndex: from},
				Purpose:    liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "The plan agreed in the consultation.",
			})
		}
		// armSource has change run right after the gateway's next read of
		// what probation sent since release p (currentSource).
		armSource := func(p int64, change func()) {
			o.race.armQuery(func(f audit.Filter) bool {
				return f.Agency == "nl-probation" && f.Subject != "" && f.Start == p+1 && f.Action == ""
			}, change)
		}
		withdraw := func(x int64) {
			w, err := prob.Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-NL-0001", Withdraws: []int64{x},
				Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "Sent in error."})
			if err != nil || len(w.GetResults()) != 1 || w.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
				t.Errorf("probation's withdrawal of %d = %v, %v", x, w, err)
			}
		}
		cityItems := func() int { t.Helper(); return len(readInbox(t, s, nlCity, 0)) }
		// one is the one entry of action among entries, refused
		// PROVENANCE_CHANGED_MEANWHILE and describing no release.
		one := func(what string, entries []*audit.Entry, action string) *audit.Entry {
			t.Helper()
			var got []*audit.Entry
			for _, e := range entries {
				if e.Action == action {
					got = append(got, e)
				}
			}
			if len(got) != 1 {
				t.Fatalf("%s: %d %s entries, want one", what, len(got), action)
			}
			e := got[0]
			if e.Outcome != audit.OutcomeRefused || !slices.Equal(e.Reasons, []string{"PROVENANCE_CHANGED_MEANWHILE"}) ||
				len(e.FieldsDisclosed) > 0 || e.Detail[audit.DetailReleasedDigest] != "" {
				t.Errorf("%s: entry %s %v (fields %v, detail %v), want refused PROVENANCE_CHANGED_MEANWHILE and no release",
					what, e.Outcome, e.Reasons, e.FieldsDisclosed, e.Detail)
			}
			return e
		}

		// 1. The assessment is withdrawn while the police pass it on.
		p := toPolice()
		before := cityItems()
		armSource(p, func() { withdraw(p) })
		var d *liaisonv1.DiscloseResponse
		err, entries := s.grown(t, func() error {
			var err error
			d, err = passOn(p)
			return err
		})
		if d.GetResults() != nil && d.GetResults()[0].GetOutcome() == liaisonv1.Outcome_OUTCOME_DISCLOSE {
			t.Fatalf("the plan went to the municipality under release %d, withdrawn while it was under way", p)
		}
		if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "PROVENANCE_CHANGED_MEANWHILE" ||
			!strings.Contains(st.Message(), fmt.Sprintf("release %d", p)) {
			t.Errorf("passed on while withdrawn: %q %s; want PROVENANCE_CHANGED_MEANWHILE naming release %d", errorReason(st), st.Message(), p)
		}
		if len(entries) != 2 {
			t.Errorf("the log grew by %d entries, want the withdrawal's and the Disclose's", len(entries))
		}
		one("passed on while withdrawn", entries, "disclose")
		if n := cityItems(); n != before {
			t.Errorf("the municipality's inbox grew from %d to %d items: the refused plan reached it", before, n)
		}
		if _, err := passOn(p); errorReason(wantStatus(t, err, codes.PermissionDenied)) != "PROVENANCE_WITHDRAWN" {
			t.Errorf("passed on again: %v, want PROVENANCE_WITHDRAWN", err)
		}

		// 2. The police correct what they passed on of a later release
		// while probation withdraws the correction the police hold.
		p2 := toPolice()
		x, err := passOn(p2)
		if err != nil || x.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
			t.Fatalf("police to municipality = %v, %v", x, err)
		}
		onward := x.GetResults()[0].GetAuditIndex()
		c := proto.CloneOf(ra)
		c.GetRiskAssessment().Level = liaisonv1.RiskLevel_RISK_LEVEL_LOW
		r, err := prob.Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Corrects: []int64{p2}, Justification: "The level was mistyped."})
		if err != nil || len(r.GetResults()) != 1 || r.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
			t.Fatalf("probation's correction = %v, %v", r, err)
		}
		q := r.GetResults()[0].GetAuditIndex()
		plan2 := proto.CloneOf(plan)
		plan2.GetCasePlan().Measures[0].Description = "Monthly contact with the mentor, as probation's corrected assessment advises"
		correct := func() (*liaisonv1.NoticeResult, error) {
			pc, err := police.Correct(ctx, &liaisonv1.CorrectRequest{Record: plan2, Corrects: []int64{onward}, Justification: "Probation corrected the assessment."})
			if err != nil || len(pc.GetResults()) != 1 {
				return nil, fmt.Errorf("the police's correction = %v, %v", pc, err)
			}
			return pc.GetResults()[0], nil
		}
		before = cityItems()
		armSource(p2, func() { withdraw(q) })
		var res *liaisonv1.NoticeResult
		err, entries = s.grown(t, func() error {
			var err error
			res, err = correct()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_UNSPECIFIED || res.GetFailure().GetReason() != "PROVENANCE_CHANGED_MEANWHILE" {
			t.Errorf("the police's correction while its source was withdrawn = %v; want nothing sent, PROVENANCE_CHANGED_MEANWHILE", res)
		}
		one("correction while its source was withdrawn", entries, audit.ActionCorrect)
		if n := cityItems(); n != before {
			t.Errorf("the municipality's inbox grew from %d to %d items: the refused correction reached it", before, n)
		}
		// Sent again, the release still open: the source is withdrawn,
		// so the municipality is told to erase the plan.
		res, err = correct()
		if err != nil || res.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL || !slices.Equal(res.GetReasons(), []string{"SOURCE_WITHDRAWN"}) {
			t.Errorf("the police's correction sent again = %v, %v; want a withdrawal, SOURCE_WITHDRAWN", res, err)
		}
	})
}
