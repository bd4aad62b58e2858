package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestNoticeToAnEarlierRecipientWhileTheCaseChanges: a Notify reaches an
// agency that received records about the person within a case only
// while that case is open and the agency a member (earlierRecipients):
// the case imported from the registry file has no subject, so its
// members are found as earlier recipients, not as members of the
// person's cases. The gateway reads the case when it routes the notice
// and commits the entry later; the case changed in between must stop
// it, as it stops an exchange on the case's basis. Probation gave the
// Rotterdam police its assessment, pseudonymised, in the imported case;
// its breach notice then goes to them as an earlier recipient. The race
// is forced, the same every run: the case changes right after the
// Notify read it (raceStore.armed). The police leave the case: the
// notice to them is refused FAILED_PRECONDITION,
// CASE_CHANGED_MEANWHILE, in one refused entry that describes no
// release and no tracked notice, and nothing reaches them; called
// again, nobody is left to notify. They join again, and the lead closes
// the case while the next notice is under way: refused so too. Without
// the fix both notices reached the police, whose receipt had stopped
// counting before the entry committed.
func TestNoticeToAnEarlierRecipientWhileTheCaseChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newCaseClock(caseStart).Now
		o.race = &raceStore{}
		s := startStack(t, o)
		const id = "NL-ZVH-RTM-0042" // the sample registry's case: the municipality leads, the police and probation are members
		importRotterdamCase(t, s)
		council, police := s.cases(t, nlCouncil), s.cases(t, nlPolice)
		_, _, notify, policeItems := policeReceiptInCase(t, s, id)

		refused := func(what string, change func(), message string) {
			t.Helper()
			before := policeItems()
			o.race.armed = change
			var nr *liaisonv1.NotifyResponse
			err, entries := s.grown(t, func() (err error) {
				nr, err = notify()
				return err
			})
			if o.race.armed != nil {
				t.Fatalf("%s: the Notify never read the case", what)
			}
			if nr != nil {
				t.Fatalf("%s: the notice went: %v", what, nr)
			}
			wantChangedMeanwhile(t, what, id, message, err)
			var notices []*audit.Entry
			for _, e := range entries {
				if e.Action == "notify" {
					notices = append(notices, e)
				}
			}
			if len(entries) != 2 || len(notices) != 1 {
				t.Fatalf("%s: the log grew by %v, want the case's change and one notify entry", what, entries)
			}
			wantNoticeEntryRefused(t, what, notices[0])
			if n := policeItems(); n != before {
				t.Errorf("%s: the police's inbox grew from %d to %d items: the refused notice reached them", what, before, n)
			}
		}

		// 1. The police leave the case while the notice is under way.
		refused("the police leave", func() {
			if _, err := police.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "Our part is done."}); err != nil {
				t.Errorf("leaving the case during the notice: %v", err)
			}
		}, "left the case")
		// Their receipt no longer counts: nobody is left to notify.
		if _, err := notify(); errorReason(wantStatus(t, err, codes.InvalidArgument)) != "NO_RECIPIENTS" {
			t.Errorf("the notice after the police left: %v, want NO_RECIPIENTS", err)
		}

		// 2. Back in the case, the lead closes it while the next notice
		// is under way.
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: "Needed again."}); err != nil {
			t.Fatal(err)
		}
		if _, err := police.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We take part."}); err != nil {
			t.Fatal(err)
		}
		refused("the lead closes the case", func() {
			if _, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "The consultation ended."}); err != nil {
				t.Errorf("closing the case during the notice: %v", err)
			}
		}, "the case was closed")
	})
}

// TestANoticeToAnEarlierRecipientWithinTheCaseOfItsReceipt: probation
// gave the Rotterdam police its assessment in the imported case (which
// has no subject, so the police are found as earlier recipients) for
// maw_case_management, on the Safety House basis, which requires the
// case. Its breach notice, the caller naming no case (or naming it),
// reaches the police decided within the case of their receipt, the case
// as it stands, and is released on that basis; without the fix it was
// decided without the case and denied CASE_REQUIRED. The notice names
// the case in its entry: it is a receipt within the case, so once the
// police leave the case neither it nor the assessment makes them an
// earlier recipient (nobody is left to notify: a new fact is a new
// disclosure), while a correction of the assessment they received still
// reaches them (GDPR Art. 19, LED Art. 16). The same holds of an
// assessment given in the case for risk_management, on a basis that needs
// no case: without the fix the notice, released, was a receipt with no
// case, which kept the police an earlier recipient after they left, and
// the next notice reached them.
func TestANoticeToAnEarlierRecipientWithinTheCaseOfItsReceipt(t *testing.T) {
	for _, tt := range []struct {
		purpose liaisonv1.Purpose
		basis   string // "" for any
	}{
		{liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, "nl.zvh.casusoverleg"},
		{liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ""},
	} {
		t.Run(strings.ToLower(strings.TrimPrefix(tt.purpose.String(), "PURPOSE_")), func(t *testing.T) { noticeWithinTheCaseOfItsReceipt(t, tt.purpose, tt.basis) })
	}
}

func noticeWithinTheCaseOfItsReceipt(t *testing.T, purpose liaisonv1.Purpose, basis string) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		o.serverNow = newCaseClock(caseStart).Now
		s := startStack(t, o)
		const id = "NL-ZVH-RTM-0042"
		importRotterdamCase(t, s)
		police := s.cases(t, nlPolice)
		ra, attrs, _ := s.fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
		d, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: ra, Subject: attrs, Recipients: []string{nlPolice.agency}, CaseId: id,
			Purpose: purpose, Justification: "For the case consultation.",
		})
		if err != nil || !releasedResult(d.GetResults()[0]) {
			t.Fatalf("probation to the police in case %s = %v, %v", id, d, err)
		}
		want := d.GetResults()[0].GetLegalBasis().GetId()
		if basis != "" && want != basis {
			t.Fatalf("the police's receipt rests on %q, want %s", want, basis)
		}
		if e := s.entry(t, d.GetResults()[0].GetAuditIndex()); e.Case == nil || e.Case.ID != id {
			t.Fatalf("the police's receipt: case %v, want %s", e.Case, id)
		}
		notify := func(caseID string) (*liaisonv1.NotifyResponse, error) {
			return s.exchange(t, nlProb).Notify(ctx, &liaisonv1.NotifyRequest{
				EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_BREACH_OF_CONDITIONS,
				Record:    ra, Subject: attrs, CaseId: caseID, Justification: "He missed three appointments.",
			})
		}
		for _, caseID := range []string{"", id} {
			nr, err := notify(caseID)
			if err != nil || len(nr.GetResults()) != 1 || !releasedResult(nr.GetResults()[0]) {
				t.Fatalf("the notice (case_id %q) to the police = %v, %v; want released within case %s", caseID, nr, err, id)
			}
			e := s.entry(t, nr.GetResults()[0].GetAuditIndex())
			if e.Case == nil || e.Case.ID != id || e.Detail["route"] != "earlier_recipient" || e.Purpose != strings.ToLower(strings.TrimPrefix(purpose.String(), "PURPOSE_")) ||
				(basis != "" && (e.LegalBasis == nil || e.LegalBasis.ID != basis)) {
				t.Errorf("the notice's entry (case_id %q): case %v, route %s, purpose %s, basis %v; want case %s, earlier_recipient, %s, %s",
					caseID, e.Case, e.Detail["route"], e.Purpose, e.LegalBasis, id, strings.ToLower(strings.TrimPrefix(purpose.String(), "PURPOSE_")), basis)
			}
		}

		// The police leave: neither their receipt nor the notices they got
		// within the case count any more.
		if _, err := police.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "Our part is done."}); err != nil {
			t.Fatal(err)
		}
		if nr, err := notify(""); errorReason(wantStatus(t, err, codes.InvalidArgument)) != "NO_RECIPIENTS" {
			t.Errorf("the notice after the police left: %v, %v; want NO_RECIPIENTS", nr, err)
		}
		// A correction of what they received still reaches them.
		cr, err := liaisonv1.NewAftercareClient(s.conn(t, nlProb)).Correct(ctx, &liaisonv1.CorrectRequest{
			Record: ra, Subject: attrs, Corrects: []int64{d.GetResults()[0].GetAuditIndex()}, Justification: "The assessment was wrong.",
		})
		if err != nil {
			t.Fatalf("the correction after the police left: %v", err)
		}
		reached := false
		for _, r := range cr.GetResults() {
			reached = reached || r.GetRecipient() == nlPolice.agency
		}
		if !reached {
			t.Errorf("the correction after the police left: %v; want it to reach the police", cr)
		}
	})
}

// importRotterdamCase imports the sample registry's one Dutch case,
// NL-ZVH-RTM-0042 (the municipality leads, the police and probation are
// members), into the stack's store, as liaison case import does.
func importRotterdamCase(t *testing.T, s *stack) {
	t.Helper()
	reg, err := gateway.LoadRegistry(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := embeddedEngine()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := gateway.ImportRegistryCases(t.Context(), s.db, eng, reg, "nl.zvh", caseStart); err != nil || len(got) != 1 || got[0].Skipped != "" {
		t.Fatalf("ImportRegistryCases = %+v, %v", got, err)
	}
}

// policeReceiptInCase has probation disclose its risk assessment of the
// Dutch sample subject to the Rotterdam police within case id, and
// returns the record with notify, probation's breach notice about it
// (which reaches the police as an earlier recipient, route
// earlier_recipient), and policeItems, which counts the records in the
// police's inbox (a case's changes reach them as case updates, which
// hold none).
func policeReceiptInCase(t *testing.T, s *stack, id string) (ra *liaisonv1.Record, attrs *liaisonv1.SubjectAttributes,
	notify func() (*liaisonv1.NotifyResponse, error), policeItems func() int) {
	t.Helper()
	ctx := t.Context()
	ra, attrs, _ = s.fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
	d, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: ra, Subject: attrs, Recipients: []string{nlPolice.agency}, CaseId: id,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Planning contact in the case consultation.",
	})
	if err != nil || !releasedResult(d.GetResults()[0]) {
		t.Fatalf("probation to the police in case %s = %v, %v", id, d, err)
	}
	if e := s.entry(t, d.GetResults()[0].GetAuditIndex()); e.Case == nil || e.Case.ID != id {
		t.Fatalf("the police's receipt names case %v, want %s", e.Case, id)
	}
	notify = func() (*liaisonv1.NotifyResponse, error) {
		return s.exchange(t, nlProb).Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_BREACH_OF_CONDITIONS,
			Record:    ra, Subject: attrs, Justification: "He missed three appointments.",
		})
	}
	policeItems = func() (n int) {
		t.Helper()
		for _, it := range inboxItems(t, s.exchange(t, nlPolice)) {
			if it.GetReleased() != nil || it.GetNotice() != nil {
				n++
			}
		}
		return n
	}
	return ra, attrs, notify, policeItems
}

// wantChangedMeanwhile checks that err refuses an exchange because case
// id changed while it was under way: FAILED_PRECONDITION,
// CASE_CHANGED_MEANWHILE, its message saying message and naming the case.
func wantChangedMeanwhile(t *testing.T, what, id, message string, err error) {
	t.Helper()
	st := wantStatus(t, err, codes.FailedPrecondition)
	if errorReason(st) != "CASE_CHANGED_MEANWHILE" || !strings.Contains(st.Message(), message) || !strings.Contains(st.Message(), id) {
		t.Errorf("%s: %q %s; want CASE_CHANGED_MEANWHILE saying %q of case %s", what, errorReason(st), st.Message(), message, id)
	}
}

// wantNoticeEntryRefused checks the notify entry of a notice to the
// police as an earlier recipient that the case's change refused: refused,
// CASE_CHANGED_MEANWHILE, describing no release and no tracked notice.
func wantNoticeEntryRefused(t *testing.T, what string, e *audit.Entry) {
	t.Helper()
	if e.Outcome != audit.OutcomeRefused || !slices.Equal(e.Reasons, []string{"CASE_CHANGED_MEANWHILE"}) || len(e.FieldsDisclosed) > 0 ||
		e.Detail[audit.DetailReleasedDigest] != "" || e.Detail["notice_id"] != "" || e.Detail["acknowledge_by"] != "" ||
		e.Recipients[0].Agency != nlPolice.agency || e.Detail["route"] != "earlier_recipient" {
		t.Errorf("%s: entry %s %v (fields %v, detail %v), want refused CASE_CHANGED_MEANWHILE to the police, no release, no notice",
			what, e.Outcome, e.Reasons, e.FieldsDisclosed, e.Detail)
	}
}
