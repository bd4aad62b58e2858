package audit_test

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

func TestReportListsOnlyRealUnrestrictedReleases(t *testing.T) {
	ctx := t.Context()
	l := newLog(t, audit.Config{})
	const anna, bert = "apsn:anna", "apsn:bert"
	about := func(i int, subject, outcome string, edit ...func(*audit.Entry)) int64 {
		e := entry(i)
		e.Subject = &audit.Subject{Pseudonym: subject}
		e.Recipients = []audit.Party{{Agency: "police-nl"}}
		e.Outcome = outcome
		for _, f := range edit {
			f(e)
		}
		idx, err := l.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	var want []int64
	for i, o := range audit.Outcomes {
		idx := about(i, anna, o)
		if audit.Released(o) {
			want = append(want, idx)
		}
	}
	about(20, anna, audit.OutcomeDisclose, func(e *audit.Entry) { e.Conditions = []string{"NO_ONWARD_DISCLOSURE", audit.ConditionRestricted} })
	about(21, anna, audit.OutcomePseudonymise, func(e *audit.Entry) { e.Reasons = []string{"NOT_FOUND"} }) // an older gateway's not_found
	about(22, anna, audit.OutcomeOK, func(e *audit.Entry) { e.Action = audit.ActionAuditRead })
	about(23, bert, audit.OutcomeDisclose)
	about(24, bert, audit.OutcomeNotFound)
	want = append(want, about(25, anna, audit.OutcomeDisclose, func(e *audit.Entry) {
		e.LegalBasis = &audit.LegalBasis{ID: "nl.wjsg.39f", Citation: "Art. 39f Wjsg"}
		e.FieldsDisclosed = []string{"RiskAssessment.level"}
	}))

	r, err := audit.Report(ctx, l, anna, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, d := range r.Disclosures {
		got = append(got, d.Index)
		if d.Officer != "" {
			t.Errorf("disclosure %d names officer %q; officers are withheld by default", d.Index, d.Officer)
		}
		if !audit.Released(d.Outcome) || d.Requester != "police-nl" || !slices.Equal(d.Recipients, []string{"police-nl"}) {
			t.Errorf("disclosure %+v", d)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("report lists entries %v, want exactly the unrestricted releases %v", got, want)
	}
	if !r.OfficersWithheld || r.Subject != anna {
		t.Errorf("report = %+v", r)
	}
	last := r.Disclosures[len(r.Disclosures)-1]
	if last.LegalBasis == nil || last.LegalBasis.Citation != "Art. 39f Wjsg" || !slices.Equal(last.Fields, []string{"RiskAssessment.level"}) {
		t.Errorf("last disclosure = %+v, want its legal basis and fields", last)
	}

	r, err = audit.Report(ctx, l, anna, true)
	if err != nil || r.OfficersWithheld || len(r.Disclosures) != len(want) || r.Disclosures[0].Officer != "officer-7" {
		t.Errorf("report with officers = %+v, %v", r, err)
	}

	r, err = audit.Report(ctx, l, "apsn:nobody", false)
	if err != nil || len(r.Disclosures) != 0 {
		t.Errorf("report of a subject never seen = %+v, %v", r, err)
	}
}

func TestReportPagesThroughLongHistories(t *testing.T) {
	ctx := t.Context()
	l := newLog(t, audit.Config{})
	const n = 2100 // more than two pages of the store's queries
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { // concurrent, so that the log commits in groups
			e := entry(i)
			e.Subject = &audit.Subject{Pseudonym: "apsn:anna"}
			if i%2 == 1 {
				e.Outcome = audit.OutcomeNotFound
			}
			if _, err := l.Append(ctx, e); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r, err := audit.Report(ctx, l, "apsn:anna", false)
	if err != nil || len(r.Disclosures) != n/2 {
		t.Fatalf("Report() = %d disclosures, %v; want %d", len(r.Disclosures), err, n/2)
	}
}

// TestReportAcknowledgedAtTheTimeMade: a correction acknowledged at the
// recipient's gateway while this one did not answer, forwarded here later,
// is reported acknowledged at the time the recipient made it (the entry's
// acknowledged_at), not when the forward arrived.
func TestReportAcknowledgedAtTheTimeMade(t *testing.T) {
	ctx := t.Context()
	l := newLog(t, audit.Config{})
	const anna = "apsn:anna"
	appendAs := func(e *audit.Entry) int64 {
		t.Helper()
		e.Subject, e.Recipients = &audit.Subject{Pseudonym: anna}, []audit.Party{{Agency: "police-nl"}}
		idx, err := l.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	rel := appendAs(entry(0))
	corr := entry(1)
	corr.Action = audit.ActionCorrect
	corr.Detail = map[string]string{audit.DetailNoticeKind: audit.NoticeCorrection, audit.DetailRefersTo: audit.FormatIndexes([]int64{rel}),
		audit.DetailReason: "CORRECTED", audit.DetailObligation: audit.ObligationRectify}
	notice := appendAs(corr)
	made := entry(2).Time // at the recipient's gateway
	ack := entry(3600)    // the forward, an hour later
	ack.Action, ack.Outcome = audit.ActionAcknowledgeNotice, audit.OutcomeOK
	ack.Detail = map[string]string{audit.DetailNotice: strconv.FormatInt(notice, 10), audit.DetailDone: audit.ObligationRectify,
		audit.DetailAcknowledgedAt: made.UTC().Format(time.RFC3339Nano)}
	appendAs(ack)

	r, err := audit.Report(ctx, l, anna, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Corrections) != 1 || !r.Corrections[0].Acknowledged.Equal(made) {
		t.Fatalf("report corrections %+v; want the one correction, acknowledged at %v", r.Corrections, made)
	}
}

// TestReportNamesNoRestrictedRelease: a notice about a release restricted
// under LED Art. 15 is left out of the report as that release is, and a
// notice about restricted and unrestricted releases at once (an expiry
// notice an older gateway grouped so) lists only the unrestricted ones:
// before, both named the restricted release's index, and the correction
// its recipient.
func TestReportNamesNoRestrictedRelease(t *testing.T) {
	ctx := t.Context()
	l := newLog(t, audit.Config{})
	const anna = "apsn:anna"
	appendAs := func(e *audit.Entry) int64 {
		t.Helper()
		e.Subject, e.Recipients = &audit.Subject{Pseudonym: anna}, []audit.Party{{Agency: "police-nl"}}
		idx, err := l.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	open := appendAs(entry(0))
	restricted := entry(1)
	restricted.Conditions = []string{audit.ConditionRestricted}
	hidden := appendAs(restricted)
	notice := func(i int, action, kind string, refs ...int64) int64 {
		e := entry(i)
		e.Action, e.Outcome = action, audit.OutcomeOK
		e.Detail = map[string]string{audit.DetailNoticeKind: kind, audit.DetailRefersTo: audit.FormatIndexes(refs),
			audit.DetailReason: "X", audit.DetailObligation: audit.ObligationErase}
		return appendAs(e)
	}
	corr := entry(2)
	corr.Action = audit.ActionCorrect
	corr.Detail = map[string]string{audit.DetailNoticeKind: audit.NoticeCorrection, audit.DetailRefersTo: audit.FormatIndexes([]int64{hidden}),
		audit.DetailReason: "CORRECTED", audit.DetailObligation: audit.ObligationRectify}
	corrected := appendAs(corr) // a correction, itself a release, not marked restricted
	withdrawn := notice(3, audit.ActionWithdraw, audit.NoticeWithdrawal, corrected)
	expired := notice(4, audit.ActionExpire, audit.NoticeExpiry, open, hidden)

	r, err := audit.Report(ctx, l, anna, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Corrections) != 0 {
		t.Errorf("report corrections %+v; want none: the only one corrected a restricted release (%d)", r.Corrections, hidden)
	}
	if len(r.Withdrawals) != 1 || r.Withdrawals[0].Index != expired || !slices.Equal(r.Withdrawals[0].RefersTo, []int64{open}) {
		t.Errorf("report withdrawals %+v; want only the expiry notice %d, naming only %d (not %d, nor the withdrawal %d of its correction)",
			r.Withdrawals, expired, open, hidden, withdrawn)
	}
}

// TestReportSaysWhichNoticeSupersededAnother: a correction corrected again
// before its recipient acknowledged it is superseded by the later one (it
// is closed without an acknowledgement, as the stores record it), and the
// report says by which, rather than leaving it "not acknowledged"; one
// acknowledged before the later correction is not superseded, nor is a
// notice to another recipient.
func TestReportSaysWhichNoticeSupersededAnother(t *testing.T) {
	ctx := t.Context()
	l := newLog(t, audit.Config{})
	const anna = "apsn:anna"
	appendTo := func(e *audit.Entry, recipient string) int64 {
		t.Helper()
		e.Subject, e.Recipients = &audit.Subject{Pseudonym: anna}, []audit.Party{{Agency: recipient}}
		idx, err := l.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	correct := func(i int, recipient string, of int64) int64 {
		e := entry(i)
		e.Action = audit.ActionCorrect
		e.Detail = map[string]string{audit.DetailNoticeKind: audit.NoticeCorrection, audit.DetailRefersTo: audit.FormatIndexes([]int64{of}),
			audit.DetailReason: "CORRECTED", audit.DetailObligation: audit.ObligationRectify}
		return appendTo(e, recipient)
	}
	acknowledge := func(i int, recipient string, notice int64) {
		e := entry(i)
		e.Action, e.Outcome = audit.ActionAcknowledgeNotice, audit.OutcomeOK
		e.Detail = map[string]string{audit.DetailNotice: strconv.FormatInt(notice, 10), audit.DetailDone: audit.ObligationRectify}
		appendTo(e, recipient)
	}
	toPolice := appendTo(entry(0), "police-nl")
	first := correct(1, "police-nl", toPolice)
	second := correct(2, "police-nl", first) // before the police acknowledged the first
	acknowledge(3, "police-nl", second)
	toProbation := appendTo(entry(4), "probation-nl")
	acked := correct(5, "probation-nl", toProbation)
	acknowledge(6, "probation-nl", acked)
	again := correct(7, "probation-nl", acked) // after the acknowledgement

	r, err := audit.Report(ctx, l, anna, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]int64{first: second, second: 0, acked: 0, again: 0}
	if len(r.Corrections) != len(want) {
		t.Fatalf("report corrections %+v; want %d", r.Corrections, len(want))
	}
	for _, c := range r.Corrections {
		if c.SupersededBy != want[c.Index] {
			t.Errorf("correction %d superseded by %d, want %d", c.Index, c.SupersededBy, want[c.Index])
		}
		if c.Index == first && !c.Acknowledged.IsZero() {
			t.Errorf("the superseded correction %d is reported acknowledged at %v", first, c.Acknowledged)
		}
	}
}
