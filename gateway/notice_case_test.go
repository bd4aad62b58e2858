package gateway_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCorrectionsReachTheRecipientWhileTheCaseChanges: probation gave the
// Rotterdam police its risk assessment in a case. A correction, or a
// withdrawal, of that release is an order to rectify or erase what the
// police already hold, not an exchange made on the case's basis: it must
// reach them even if the case is closed, or they leave it, while the
// correction is under way. The race is forced, the same every run: the
// case changes right after the correction's exchange read it
// (raceStore.armed). Without the fix the notice committed under the
// case's hold and was refused CASE_CLOSED or NOT_A_CASE_MEMBER: the police
// kept the wrong fact.
func TestCorrectionsReachTheRecipientWhileTheCaseChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newCaseClock(caseStart).Now
		o.race = &raceStore{}
		s := startStack(t, o)
		council := s.cases(t, nlCouncil)
		ra, attrs, _ := s.fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
		const why = "Case consultation before the release."
		release := func(id string) int64 {
			t.Helper()
			if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001",
				Subject: nlSubject(), Justification: why}); err != nil {
				t.Fatal(err)
			}
			for _, m := range []officer{nlPolice, nlProbation} {
				if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: m.agency, Justification: why}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.cases(t, m).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We take part."}); err != nil {
					t.Fatal(err)
				}
			}
			d, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: ra, Subject: attrs, Recipients: []string{nlPolice.agency}, CaseId: id,
				Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case consultation.",
			})
			if err != nil || d.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
				t.Fatalf("probation to the police in case %s = %v, %v", id, d, err)
			}
			return d.GetResults()[0].GetAuditIndex()
		}
		// delivered checks that the police's inbox holds the notice of
		// entry idx, of kind k, referring to release.
		delivered := func(what string, k liaisonv1.ObligationKind, idx, release int64) {
			t.Helper()
			for _, it := range inboxItems(t, s.exchange(t, nlPolice)) {
				if n := it.GetObligation(); n != nil && n.GetKind() == k && len(n.GetRefersTo()) == 1 && n.GetRefersTo()[0] == release {
					return
				}
			}
			t.Errorf("%s (entry %d): the police's inbox holds no %v of release %d", what, idx, k, release)
		}

		// The lead closes the case while probation corrects its release.
		first := release("NL-ZVH-RTM-0310")
		o.race.armed = func() {
			if _, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: "NL-ZVH-RTM-0310", Justification: "Supervision ended."}); err != nil {
				t.Errorf("closing the case during the correction: %v", err)
			}
		}
		c := proto.CloneOf(ra)
		c.GetRiskAssessment().Level = liaisonv1.RiskLevel_RISK_LEVEL_MODERATE
		r, err := aftercare(t, s, nlProb).Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Corrects: []int64{first}, Justification: "The level was mistyped."})
		if o.race.armed != nil {
			t.Fatal("the correction never read the case")
		}
		if err != nil || len(r.GetResults()) != 1 || r.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION ||
			r.GetResults()[0].GetFailure() != nil {
			t.Fatalf("a correction while the case is closed = %v, %v; want a correction delivered to the police", r, err)
		}
		delivered("the correction while the case closed", liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION, r.GetResults()[0].GetAuditIndex(), first)

		// The police leave the case while probation withdraws its release.
		second := release("NL-ZVH-RTM-0311")
		o.race.armed = func() {
			if _, err := s.cases(t, nlPolice).LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: "NL-ZVH-RTM-0311", Justification: "Our part is done."}); err != nil {
				t.Errorf("leaving the case during the withdrawal: %v", err)
			}
		}
		w, err := aftercare(t, s, nlProb).Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-NL-0001",
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Withdraws: []int64{second},
			Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Obligation: liaisonv1.Obligation_OBLIGATION_ERASE,
			Justification: "The assessment was of another person."})
		if o.race.armed != nil {
			t.Fatal("the withdrawal never read the case")
		}
		if err != nil || len(w.GetResults()) != 1 || w.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL ||
			w.GetResults()[0].GetFailure() != nil {
			t.Fatalf("a withdrawal while the recipient leaves the case = %v, %v; want a withdrawal delivered to the police", w, err)
		}
		delivered("the withdrawal while the police left", liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL, w.GetResults()[0].GetAuditIndex(), second)
	})
}

// TestRevisionWhileTheCaseCloses: the Danish prison released its notice
// to the Aarhus police in a KSP case, under the supervision basis that
// ends with the probation. The court changes the probation, and the
// police (the case's lead) close the case while the prison's ReviseExpiry
// is under way, right after it read the case (raceStore.armed).
//
// Shortened: a revision that brings the end forward lets the police keep
// nothing longer: as a correction or withdrawal does, it commits however
// the case stands, and the end moves. Without the fix it committed under
// the case's hold and was refused CASE_CLOSED: the police kept the record
// to the old end, and the result said moved beside the refusal.
//
// Extended: a revision that moves the end later rests on the case, as a
// disclosure in it does: refused CASE_CLOSED, and the result says the end
// did not move (without the fix: moved true, valid_until the new day).
func TestRevisionWhileTheCaseCloses(t *testing.T) {
	for _, tc := range []struct {
		name, until, want, reason string
		moved                     bool
	}{
		{"Shortened", "2027-02-25", "2027-02-25", "", true},
		{"Extended", "2027-06-01", "2027-03-01", "CASE_CLOSED", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, o stackOptions) {
				ctx := t.Context()
				clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
				o.serverNow = clk.Now
				o.race = &raceStore{}
				s := startStack(t, o)
				const id = "DK-KSP-AAR-0008"
				police := s.cases(t, dkPolice)
				if _, err := police.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "dk.ksp", SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-03-01"),
					Justification: "KSP around the release."}); err != nil {
					t.Fatalf("OpenCase: %v", err)
				}
				if _, err := police.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: dkPrison.agency, Justification: "Needed in the case."}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.cases(t, dkPrison).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
					t.Fatal(err)
				}
				rec, _ := dkRelease(t, s)
				rec.GetReleaseNotice().ProbationUntil = "2027-03-01"
				d, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
					Record: rec, Subject: probationAttrs("2027-03-01"), Recipients: []string{"dk-police-aarhus"}, CaseId: id,
					ClaimedLegalBasis: supervisionBasis, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Supervision after release.",
				})
				if err != nil || d.GetResults()[0].GetLegalBasis().GetValidUntil() != "2027-03-01" {
					t.Fatalf("Disclose in the case = %v, %v", d, err)
				}
				clk.Set(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
				o.race.armed = func() {
					if _, err := police.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "Supervision ends."}); err != nil {
						t.Errorf("closing the case during the revision: %v", err)
					}
				}
				rv, err := aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
					SubjectId: "SYN-DK-0001", Subject: probationAttrs(tc.until), Justification: "Probation changed by the court on 2027-02-19.",
				})
				if o.race.armed != nil {
					t.Fatal("the revision never read the case")
				}
				if err != nil || len(rv.GetReleases()) != 1 {
					t.Fatalf("ReviseExpiry = %v, %v; want the release considered", rv, err)
				}
				r := rv.GetReleases()[0]
				if r.GetMoved() != tc.moved || r.GetValidUntil() != tc.want || strings.Join(r.GetReasons(), ",") != tc.reason {
					t.Errorf("revision to %s while the case closed = %v; want moved %v, valid until %s, reasons %q", tc.until, r, tc.moved, tc.want, tc.reason)
				}
				wantOutcome := audit.OutcomeOK
				if !tc.moved {
					wantOutcome = audit.OutcomeRefused
				}
				if e := s.entry(t, r.GetAuditIndex()); e.Outcome != wantOutcome {
					t.Errorf("revision entry = outcome %s, detail %v; want %s", e.Outcome, e.Detail, wantOutcome)
				}
			})
		})
	}
}
