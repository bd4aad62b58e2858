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

// TestAcknowledgeNoticeSupersededMeanwhile: the Aarhus police acknowledge
// the Danish prison's correction of its release notice, and the prison
// replaces it after the gateway read the notice open and before it
// commits the acknowledgement: first with a second correction, then (of
// the second) with a withdrawal. Each time the log holds the replacing
// notice first, so the acknowledgement is refused NOTICE_SUPERSEDED,
// naming it, in one refused entry and no acknowledged one; auditors list
// the notice superseded and not acknowledged, on both stores. The race
// is forced: the replacing notice is sent right after the gateway's read
// of the notices (raceStore.armSent). Without the fix the commit checked
// only that nobody had acknowledged the notice: both were recorded, the
// notice acknowledged and superseded.
func TestAcknowledgeNoticeSupersededMeanwhile(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now
		o.race = &raceStore{}
		s := startStack(t, o)
		rec, _ := dkReleaseToAarhusPolice(t, s)
		prison, police, auditor := aftercare(t, s, dkPrison), aftercare(t, s, dkPolice), aftercare(t, s, dkAuditor)
		correct := func(contact string) (int64, error) {
			c := proto.CloneOf(rec)
			c.GetReleaseNotice().ContactPoint = contact
			r, err := prison.Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Justification: "The contact point changed."})
			if err != nil || len(r.GetResults()) != 1 || r.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
				return -1, fmt.Errorf("Correct = %v, %v; want one correction", r, err)
			}
			return r.GetResults()[0].GetAuditIndex(), nil
		}
		first, err := correct("Kriminalforsorgen Aarhus")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			replace func() (int64, error) // sends the notice that supersedes the one acknowledged
		}{
			{"corrected again", func() (int64, error) { return correct("Kriminalforsorgen Aarhus, probation desk") }},
			{"withdrawn", func() (int64, error) {
				w, err := prison.Withdraw(ctx, &liaisonv1.WithdrawRequest{
					SubjectId: "SYN-DK-0001", Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "Sent in error.",
				})
				if err != nil || len(w.GetResults()) != 1 {
					return -1, fmt.Errorf("Withdraw = %v, %v; want one withdrawal", w, err)
				}
				return w.GetResults()[0].GetAuditIndex(), nil
			}},
		} {
			notice := first
			by := int64(-1)
			t.Run(tc.name, func(t *testing.T) {
				o.race.armSent(func() {
					var err error
					if by, err = tc.replace(); err != nil {
						t.Errorf("%s: %v", tc.name, err)
					}
				})
				err, entries := s.grown(t, func() error {
					_, err := police.AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: notice, Done: liaisonv1.Obligation_OBLIGATION_RECTIFY})
					return err
				})
				if by < 0 {
					t.Fatalf("%s: no notice replaced %d during its acknowledgement", tc.name, notice)
				}
				if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "NOTICE_SUPERSEDED" ||
					!strings.Contains(st.Message(), fmt.Sprintf("by notice %d", by)) {
					t.Errorf("%s: acknowledging %d = %v; want NOTICE_SUPERSEDED naming %d", tc.name, notice, st, by)
				}
				var acks []*audit.Entry
				for _, e := range entries {
					if e.Action == audit.ActionAcknowledgeNotice {
						acks = append(acks, e)
					}
				}
				if len(acks) != 1 || acks[0].Outcome != audit.OutcomeRefused || !slices.Equal(acks[0].Reasons, []string{"NOTICE_SUPERSEDED"}) {
					for _, e := range acks {
						t.Logf("%s: entry %s %s %v", tc.name, e.Action, e.Outcome, e.Reasons)
					}
					t.Errorf("%s: %d acknowledge_notice entries; want one, refused NOTICE_SUPERSEDED", tc.name, len(acks))
				}
				r, err := auditor.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{IncludeAcknowledged: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range r.GetNotices() {
					if n.GetAuditIndex() == notice && (n.GetSupersededBy() != by || n.GetAcknowledgementIndex() != 0) {
						t.Errorf("%s: notice %d as listed = %v; want it superseded by %d, not acknowledged", tc.name, notice, n, by)
					}
				}
			})
			if by < 0 {
				t.FailNow()
			}
			first = by // the withdrawal replaces the second correction
		}
	})
}
