package gateway_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestExpiryRetentionPerRelease: the police receive, under the KSP
// supervision basis, the release notice (which the Danish police
// retention rule lets them keep) and the family contact record (which no
// rule lets them keep). When the probation ends, each release gets the
// retention answer the policy gives for it: the release notice may be
// kept, the family contact must be erased, whatever order they were
// released in. One notice naming both with the first one's answer told
// the police to keep the family contact record (or to erase the release
// notice).
func TestExpiryRetentionPerRelease(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	fx := s.fx
	rn, _, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	fc, _, ok := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_FAMILY_CONTACT)
	if !ok {
		t.Fatal("no sample family contact record")
	}
	kept := discloseUnderSupervision(t, s, rn, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()
	erased := discloseUnderSupervision(t, s, fc, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()

	clk.Set(time.Date(2027, 3, 2, 0, 0, 5, 0, time.UTC))
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	obligation := map[int64]string{} // release -> what its expiry notice obliges
	for _, r := range entriesOf(t, s, audit.ActionExpire) {
		refs, _ := audit.ParseIndexes(r.Entry.Detail[audit.DetailRefersTo])
		for _, x := range refs {
			if _, twice := obligation[x]; twice {
				t.Errorf("release %d is in two expiry notices", x)
			}
			obligation[x] = r.Entry.Detail[audit.DetailObligation]
		}
		if ob := r.Entry.Detail[audit.DetailObligation]; ob == audit.ObligationRetain && slices.Contains(refs, erased) {
			t.Errorf("expiry entry %d lets the police retain the family contact record (%d): %v", r.Index, erased, r.Entry.Reasons)
		}
	}
	if obligation[kept] != audit.ObligationRetain || obligation[erased] != audit.ObligationErase {
		t.Errorf("expiry obligations = %v; want the release notice (%d) retained, the family contact (%d) erased", obligation, kept, erased)
	}
	// The police's inbox says the same.
	for _, it := range readInbox(t, s, dkPolice, 0) {
		n := it.GetObligation()
		if n.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY {
			continue
		}
		if slices.Contains(n.GetRefersTo(), erased) && n.GetObligation() != liaisonv1.Obligation_OBLIGATION_ERASE {
			t.Errorf("the police's notice about the family contact record = %v, want erase", n)
		}
		if slices.Contains(n.GetRefersTo(), kept) && n.GetObligation() != liaisonv1.Obligation_OBLIGATION_RETAIN {
			t.Errorf("the police's notice about the release notice = %v, want retain", n)
		}
	}
}

// TestNotifyPassesOverWithdrawnReceipts: the prison disclosed the release
// notice to the police and to social services, then withdrew the police's
// copy as unlawfully transmitted (erase it). A later event reaches social
// services as an earlier recipient, and not the police: a receipt its
// holder withdrew is no receipt in force (before the fix the police were
// routed the new record by the very release they were told to erase).
func TestNotifyPassesOverWithdrawnReceipts(t *testing.T) {
	clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	d := discloseUnderSupervision(t, s, rec, "2027-06-01", "dk-police-aarhus", "dk-social-aarhus")
	police, social := d.GetResults()[0].GetAuditIndex(), d.GetResults()[1].GetAuditIndex()
	withdrawThenNotify(t, s, clk, rec, police, social, "release")
}

// TestNotifyPassesOverAWithdrawnCorrection: the prison disclosed the
// release notice to the police and to social services, corrected it (each
// got a correction, which replaces the release it corrects), then
// withdrew the police's correction as unlawfully transmitted: the police
// must erase what they hold, the corrected record, which is all they
// hold of it. A later event reaches social services as an earlier
// recipient, by their correction, and not the police: before the fix the
// police were routed the new record by the original release, which the
// correction had replaced and the withdrawal of that correction had not
// named.
func TestNotifyPassesOverAWithdrawnCorrection(t *testing.T) {
	eachStore(t, testNotifyPassesOverAWithdrawnCorrection)
}

func testNotifyPassesOverAWithdrawnCorrection(t *testing.T, o stackOptions) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	o.serverNow = clk.Now
	s := startStack(t, o)
	rec, _ := dkRelease(t, s)
	discloseUnderSupervision(t, s, rec, "2027-06-01", "dk-police-aarhus", "dk-social-aarhus")
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus"
	c, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Subject: probationAttrs("2027-06-01"),
		Justification: "The contact point changed."})
	if err != nil || len(c.GetResults()) != 2 {
		t.Fatalf("Correct = %v, %v; want corrections to the police and social services", c, err)
	}
	var police, social int64 = -1, -1
	for _, r := range c.GetResults() {
		if r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
			t.Fatalf("correction to %s = %v, want a correction", r.GetRecipient(), r)
		}
		switch r.GetRecipient() {
		case "dk-police-aarhus":
			police = r.GetAuditIndex()
		case "dk-social-aarhus":
			social = r.GetAuditIndex()
		}
	}
	withdrawThenNotify(t, s, clk, corrected, police, social, "correction")
}

// withdrawThenNotify withdraws what the police hold (withdrawn, their
// release or correction: held) as unlawfully transmitted, then, nine days
// on, has the prison notify a breach with rec: the notice must reach
// social services as an earlier recipient by social, their release or
// correction, and not the police.
func withdrawThenNotify(t *testing.T, s *stack, clk *clock, rec *liaisonv1.Record, withdrawn, social int64, held string) {
	t.Helper()
	ctx := t.Context()
	w, err := aftercare(t, s, dkPrison).Withdraw(ctx, &liaisonv1.WithdrawRequest{
		SubjectId: "SYN-DK-0001", Withdraws: []int64{withdrawn}, Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_UNLAWFULLY_TRANSMITTED,
		Justification: "Sent to the police by mistake.",
	})
	if err != nil || len(w.GetResults()) != 1 || w.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
		t.Fatalf("Withdraw = %v, %v; want one withdrawal to the police", w, err)
	}
	clk.Set(time.Date(2027, 2, 10, 9, 0, 0, 0, time.UTC))
	nr, err := s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_BREACH_OF_CONDITIONS,
		Record:    rec, Subject: probationAttrs("2027-06-01"), Justification: "Breach of the conditions of supervision.",
	})
	if err != nil {
		t.Fatalf("Notify: %v (%s)", err, reasonOf(err))
	}
	var got []string
	for _, r := range nr.GetResults() {
		got = append(got, r.GetRecipient())
		if r.GetRecipient() == "dk-police-aarhus" {
			t.Errorf("Notify reached the police (%v), whose %s (%d) was withdrawn as unlawfully transmitted", r.GetRoutes(), held, withdrawn)
		}
		if r.GetRecipient() == "dk-social-aarhus" && r.GetRoutes()[0].GetEarlierAuditIndex() != social {
			t.Errorf("Notify reached social services by %v, want their %s %d", r.GetRoutes(), held, social)
		}
	}
	if !slices.Contains(got, "dk-social-aarhus") {
		t.Errorf("Notify reached %v; want social services, an earlier recipient", got)
	}
}

// TestExpiryOfRestrictedReleasesStaysOutOfTheAccessReport: the police and
// social services hold, under the supervision basis, releases of which
// some are restricted under LED Art. 15 (appended here as a policy that
// marks them would log them). When the basis ends, the access report
// lists the expiry notices of the unrestricted releases, and nothing
// that names a restricted one: an expiry notice shared by both, with the
// first release's conditions, either named the restricted release's
// index in a listed notice (the police: unrestricted first) or hid the
// unrestricted release's notice along with the restricted one (social
// services: restricted first).
func TestExpiryOfRestrictedReleasesStaysOutOfTheAccessReport(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	restrictedCopy := func(of int64, recipient audit.Party) int64 {
		t.Helper()
		e := s.entry(t, of)
		e.RequestID += "-restricted"
		e.Recipients = []audit.Party{recipient}
		e.Conditions = append(slices.Clone(e.Conditions), audit.ConditionRestricted)
		idx, err := s.log.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	p0 := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()
	police := s.entry(t, p0).Recipients[0]
	social := audit.Party{Agency: "dk-social-aarhus", Kind: "social_services", Jurisdiction: police.Jurisdiction}
	rs := restrictedCopy(p0, social)
	d := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus", "dk-social-aarhus")
	p1, s1 := d.GetResults()[0].GetAuditIndex(), d.GetResults()[1].GetAuditIndex()
	rp := restrictedCopy(p0, police)

	clk.Set(time.Date(2027, 3, 2, 0, 0, 5, 0, time.UTC))
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := liaisonv1.NewAuditClient(s.conn(t, dkAuditor)).AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: "SYN-DK-0001"})
	if err != nil {
		t.Fatal(err)
	}
	var listed []int64
	for _, n := range rep.GetWithdrawals() {
		if n.GetKind() != audit.NoticeExpiry {
			continue
		}
		for _, x := range n.GetRefersTo() {
			if x == rp || x == rs {
				t.Errorf("the access report's expiry notice %d names the restricted release %d", n.GetIndex(), x)
			}
		}
		listed = append(listed, n.GetRefersTo()...)
	}
	slices.Sort(listed)
	if want := []int64{p0, p1, s1}; !slices.Equal(listed, want) {
		t.Errorf("the access report's expiry notices name releases %v; want the unrestricted ones %v (restricted: %d, %d)", listed, want, rp, rs)
	}
}
