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

// TestWithdrawCorrectedMeanwhile: the Danish prison withdraws its release
// notice to the Aarhus police while (another officer of) the prison
// corrects it: the correction commits after the withdrawal read the
// prison's open releases and before it commits. The withdrawal of the
// release the correction replaced is refused RELEASE_CLOSED_MEANWHILE,
// naming the correction, in one refused entry; the correction, the
// release the police hold now, is left open, and the next withdrawal
// withdraws it. The race is forced: the correction is sent right after
// the gateway's query of the prison's releases about the person
// (raceStore.armQuery). Without the fix the withdrawal of the replaced
// release was recorded, and the correction (and its notice) stayed open
// as if nothing had been withdrawn.
func TestWithdrawCorrectedMeanwhile(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now
		o.race = &raceStore{}
		s := startStack(t, o)
		rec, attrs := dkRelease(t, s)
		d, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
		})
		if err != nil {
			t.Fatal(err)
		}
		r := d.GetResults()[0].GetAuditIndex()
		prison := aftercare(t, s, dkPrison)
		corrected := int64(-1)
		o.race.armQuery(func(f audit.Filter) bool { return f.Agency == dkPrison.agency && f.Subject != "" }, func() {
			c := proto.CloneOf(rec)
			c.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus"
			cr, err := prison.Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Justification: "The contact point changed."})
			if err != nil || len(cr.GetResults()) != 1 || cr.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
				t.Errorf("Correct = %v, %v; want one correction", cr, err)
				return
			}
			corrected = cr.GetResults()[0].GetAuditIndex()
		})
		withdraw := func() (*liaisonv1.WithdrawResponse, error) {
			return prison.Withdraw(ctx, &liaisonv1.WithdrawRequest{
				SubjectId: "SYN-DK-0001", Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "Sent in error.",
			})
		}
		var w *liaisonv1.WithdrawResponse
		err, entries := s.grown(t, func() error {
			var err error
			w, err = withdraw()
			return err
		})
		if corrected < 0 {
			t.Fatalf("nothing corrected %d during its withdrawal", r)
		}
		if err != nil || len(w.GetResults()) != 1 {
			t.Fatalf("Withdraw = %v, %v; want one result", w, err)
		}
		if res := w.GetResults()[0]; res.GetRefersTo() != r || !slices.Equal(res.GetReasons(), []string{"RELEASE_CLOSED_MEANWHILE"}) ||
			!strings.Contains(res.GetFailure().GetMessage(), fmt.Sprintf("entry %d", corrected)) {
			t.Errorf("withdrawal of %d = %v; want refused RELEASE_CLOSED_MEANWHILE naming the correction %d", r, res, corrected)
		}
		var ws []*audit.Entry
		for _, e := range entries {
			if e.Action == audit.ActionWithdraw {
				ws = append(ws, e)
			}
		}
		if len(ws) != 1 || ws[0].Outcome != audit.OutcomeRefused || !slices.Equal(ws[0].Reasons, []string{"RELEASE_CLOSED_MEANWHILE"}) {
			for _, e := range ws {
				t.Logf("entry %s %s %v %v", e.Action, e.Outcome, e.Reasons, e.Detail)
			}
			t.Errorf("%d withdraw entries; want one, refused RELEASE_CLOSED_MEANWHILE", len(ws))
		}
		// The police hold the correction: the next withdrawal is of it.
		w, err = withdraw()
		if err != nil || len(w.GetResults()) != 1 || w.GetResults()[0].GetRefersTo() != corrected ||
			w.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
			t.Errorf("the next Withdraw = %v, %v; want the withdrawal of %d", w, err, corrected)
		}
		_, err = withdraw()
		wantStatus(t, err, codes.NotFound)
	})
}

// TestCorrectWithdrawnMeanwhile: the Danish prison corrects its release
// notice to the Aarhus police while (another officer of) the prison
// withdraws it: the withdrawal commits after the correction read the
// prison's open releases and before it commits. The correction is
// refused RELEASE_CLOSED_MEANWHILE, naming the withdrawal, in one refused
// entry, and nothing is delivered: the police were told to erase the
// record, and a correction would disclose it to them afresh. The race is
// forced as in TestWithdrawCorrectedMeanwhile. Without the fix the
// correction of the withdrawn release was recorded and delivered.
func TestCorrectWithdrawnMeanwhile(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now
		o.race = &raceStore{}
		s := startStack(t, o)
		rec, attrs := dkRelease(t, s)
		d, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
		})
		if err != nil {
			t.Fatal(err)
		}
		r := d.GetResults()[0].GetAuditIndex()
		prison := aftercare(t, s, dkPrison)
		withdrawn := int64(-1)
		o.race.armQuery(func(f audit.Filter) bool { return f.Agency == dkPrison.agency && f.Subject != "" }, func() {
			w, err := prison.Withdraw(ctx, &liaisonv1.WithdrawRequest{
				SubjectId: "SYN-DK-0001", Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "Sent in error.",
			})
			if err != nil || len(w.GetResults()) != 1 || w.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
				t.Errorf("Withdraw = %v, %v; want one withdrawal", w, err)
				return
			}
			withdrawn = w.GetResults()[0].GetAuditIndex()
		})
		c := proto.CloneOf(rec)
		c.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus"
		var cr *liaisonv1.CorrectResponse
		err, entries := s.grown(t, func() error {
			var err error
			cr, err = prison.Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Justification: "The contact point changed."})
			return err
		})
		if withdrawn < 0 {
			t.Fatalf("nothing withdrew %d during its correction", r)
		}
		if err != nil || len(cr.GetResults()) != 1 {
			t.Fatalf("Correct = %v, %v; want one result", cr, err)
		}
		if res := cr.GetResults()[0]; res.GetRefersTo() != r || !slices.Equal(res.GetReasons(), []string{"RELEASE_CLOSED_MEANWHILE"}) ||
			!strings.Contains(res.GetFailure().GetMessage(), fmt.Sprintf("entry %d", withdrawn)) {
			t.Errorf("correction of %d = %v; want refused RELEASE_CLOSED_MEANWHILE naming the withdrawal %d", r, res, withdrawn)
		}
		var cs []*audit.Entry
		for _, e := range entries {
			if e.Action == audit.ActionCorrect {
				cs = append(cs, e)
			}
		}
		if len(cs) != 1 || cs[0].Outcome != audit.OutcomeRefused || !slices.Equal(cs[0].Reasons, []string{"RELEASE_CLOSED_MEANWHILE"}) {
			for _, e := range cs {
				t.Logf("entry %s %s %v %v", e.Action, e.Outcome, e.Reasons, e.Detail)
			}
			t.Errorf("%d correct entries; want one, refused RELEASE_CLOSED_MEANWHILE", len(cs))
		}
		for _, it := range readInbox(t, s, dkPolice, 0) {
			if n := it.GetObligation(); n.GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
				t.Errorf("the police's inbox holds a correction (entry %d) of the withdrawn release", n.GetAuditIndex())
			}
		}
		_, err = prison.Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Justification: "The contact point changed."})
		wantStatus(t, err, codes.NotFound)
	})
}
