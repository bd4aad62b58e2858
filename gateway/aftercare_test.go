package gateway_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/policies/policytest"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// The tests of what happens after sharing, end to end over TLS with the
// embedded policy, on SQLite and on PostgreSQL: corrections and
// withdrawals reach every recipient, legal bases expire, receipts verify,
// and conditions bind onward use.

var (
	dkSocial  = officer{"dk-social-aarhus", "sw.nielsen", []string{"case_officer"}, "confidential"}
	nlProb    = officer{"nl-probation", "rc.bakker", []string{"case_officer"}, "confidential"}
	nlCity    = officer{"nl-municipality-rotterdam", "gm.jansen", []string{"case_officer"}, "restricted"}
	nlAuditor = officer{"nl-probation", "fg.visser", []string{"auditor"}, "confidential"}
)

// eachStore runs test on SQLite and on PostgreSQL (skipped, saying how to
// run it, without a test server).
func eachStore(t *testing.T, test func(t *testing.T, o stackOptions)) {
	t.Run("sqlite", func(t *testing.T) { test(t, stackOptions{}) })
	t.Run("postgres", func(t *testing.T) { test(t, stackOptions{postgresURL: pgtest.NewDatabase(t)}) })
}

// readInbox reads an officer's inbox after a cursor.
func readInbox(t *testing.T, s *stack, o officer, after int64) []*liaisonv1.SubscribeResponse {
	t.Helper()
	stream, err := s.exchange(t, o).Subscribe(t.Context(), &liaisonv1.SubscribeRequest{After: after, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []*liaisonv1.SubscribeResponse
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Subscribe(%s): %v", o.agency, err)
		}
		out = append(out, m)
	}
}

// entriesOf returns the log's entries of an action.
func entriesOf(t *testing.T, s *stack, action string) []audit.Record {
	t.Helper()
	recs, err := s.db.Query(t.Context(), audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func aftercare(t *testing.T, s *stack, o officer) liaisonv1.AftercareClient {
	return liaisonv1.NewAftercareClient(s.conn(t, o))
}

// dkRelease is the sample release notice the Danish prison of s holds.
func dkRelease(t *testing.T, s *stack) (*liaisonv1.Record, *liaisonv1.SubjectAttributes) {
	t.Helper()
	rec, attrs, ok := s.fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if !ok {
		t.Fatal("no sample release notice")
	}
	return rec, attrs
}

// dkReleaseToAarhusPolice is dkRelease, disclosed by the Danish prison to
// the Aarhus police for risk management (§ 115), as many tests begin.
func dkReleaseToAarhusPolice(t *testing.T, s *stack) (*liaisonv1.Record, *liaisonv1.SubjectAttributes) {
	t.Helper()
	rec, attrs := dkRelease(t, s)
	if _, err := s.exchange(t, dkPrison).Disclose(t.Context(), &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
	}); err != nil {
		t.Fatal(err)
	}
	return rec, attrs
}

// TestCorrectionsAndWithdrawalsReachEveryRecipient: the Danish prison's
// release notice goes to three recipients under three decisions (the
// Aarhus police in full under § 115, Aarhus social services pseudonymised
// for statistics, the Dutch exit NGO denied). The prison corrects it: the
// police and social services each get the correction in exactly the form
// they were entitled to; the NGO gets nothing. Then it withdraws it,
// likewise. Every step is an entry; auditors list the corrections not yet
// acknowledged; the access report shows them.
func TestCorrectionsAndWithdrawalsReachEveryRecipient(t *testing.T) {
	eachStore(t, testCorrections)
}

func testCorrections(t *testing.T, o stackOptions) {
	ctx := t.Context()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	o.serverNow = newClock(now).Now
	s := startStack(t, o)
	rec, attrs := dkRelease(t, s)
	prison := s.exchange(t, dkPrison)
	d1, err := prison.Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus", "nl-ngo-exit"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
	})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := prison.Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-social-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_STATISTICS, Justification: "Quarterly release statistics.",
	})
	if err != nil {
		t.Fatal(err)
	}
	toPolice, toNGO, toSocial := d1.GetResults()[0], d1.GetResults()[1], d2.GetResults()[0]
	if toPolice.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE || toNGO.GetOutcome() != liaisonv1.Outcome_OUTCOME_DENY ||
		toSocial.GetOutcome() != liaisonv1.Outcome_OUTCOME_PSEUDONYMISE {
		t.Fatalf("the three decisions = %v, %v, %v; want disclose, deny, pseudonymise", toPolice.GetOutcome(), toNGO.GetOutcome(), toSocial.GetOutcome())
	}
	// The police read and acknowledge theirs; social services read but
	// do not acknowledge.
	pol := readInbox(t, s, dkPolice, 0)
	soc := readInbox(t, s, dkSocial, 0)
	if len(pol) != 1 || len(soc) != 1 {
		t.Fatalf("inboxes hold %d and %d items, want 1 each", len(pol), len(soc))
	}
	if _, err := s.exchange(t, dkPolice).Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: pol[0].GetCursor()}); err != nil {
		t.Fatal(err)
	}
	origPolice, origSocial := pol[0].GetReleased(), soc[0].GetReleased()

	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Øst, probation desk Aarhus"
	corrected.GetReleaseNotice().Facility = "Fiktivt Fængsel Vest"
	cr, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{
		Record: corrected, Justification: "The release takes place from another facility; the contact point changed.",
	})
	if err != nil {
		t.Fatalf("Correct: %v", err)
	}
	if len(cr.GetResults()) != 2 {
		t.Fatalf("Correct reached %d recipients, want 2 (the NGO was refused and gets nothing): %v", len(cr.GetResults()), cr.GetResults())
	}
	byRecipient := map[string]*liaisonv1.NoticeResult{}
	for _, r := range cr.GetResults() {
		byRecipient[r.GetRecipient()] = r
		if r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION || r.GetObligation() != liaisonv1.Obligation_OBLIGATION_RECTIFY || r.GetFailure() != nil {
			t.Errorf("result for %s = %v", r.GetRecipient(), r)
		}
	}
	cp, cs := byRecipient["dk-police-aarhus"], byRecipient["dk-social-aarhus"]
	if cp.GetRefersTo() != toPolice.GetAuditIndex() || cp.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE ||
		cs.GetRefersTo() != toSocial.GetAuditIndex() || cs.GetOutcome() != liaisonv1.Outcome_OUTCOME_PSEUDONYMISE {
		t.Fatalf("corrections = %v and %v; want the police's in full for entry %d, social services' pseudonymised for entry %d",
			cp, cs, toPolice.GetAuditIndex(), toSocial.GetAuditIndex())
	}

	// Each gets the corrected record in exactly the form it holds.
	checkCorrection := func(name string, item *liaisonv1.SubscribeResponse, orig *liaisonv1.Released, refersTo int64) *liaisonv1.Released {
		t.Helper()
		n, rel := item.GetObligation(), item.GetReleased()
		if n.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION || !slices.Equal(n.GetRefersTo(), []int64{refersTo}) ||
			n.GetObligation() != liaisonv1.Obligation_OBLIGATION_RECTIFY || n.GetHolder() != "dk-prison-east" || n.GetAuditIndex() != rel.GetAuditIndex() {
			t.Errorf("%s: notice = %v", name, n)
		}
		if rel.GetOutcome() != orig.GetOutcome() || rel.GetPseudonymDomain() != orig.GetPseudonymDomain() ||
			rel.GetSubjectPseudonym() != orig.GetSubjectPseudonym() || !slices.Equal(rel.GetFields(), orig.GetFields()) {
			t.Errorf("%s: correction in form %v/%q/%q %v, want the original's %v/%q/%q %v", name,
				rel.GetOutcome(), rel.GetPseudonymDomain(), rel.GetSubjectPseudonym(), rel.GetFields(),
				orig.GetOutcome(), orig.GetPseudonymDomain(), orig.GetSubjectPseudonym(), orig.GetFields())
		}
		if rel.GetRecord().GetReleaseNotice().GetFacility() != "Fiktivt Fængsel Vest" {
			t.Errorf("%s: corrected facility = %q", name, rel.GetRecord().GetReleaseNotice().GetFacility())
		}
		if rel.GetProvenance().GetReceipt() == "" {
			t.Errorf("%s: the correction carries no receipt", name)
		}
		return rel
	}
	pol = readInbox(t, s, dkPolice, pol[0].GetCursor())
	if len(pol) != 1 {
		t.Fatalf("police inbox after the correction = %d items, want the correction", len(pol))
	}
	relP := checkCorrection("police", pol[0], origPolice, toPolice.GetAuditIndex())
	if relP.GetRecord().GetReleaseNotice().GetSubject().GetSubjectId() != "SYN-DK-0001" ||
		relP.GetRecord().GetReleaseNotice().GetContactPoint() != "Kriminalforsorgen Øst, probation desk Aarhus" {
		t.Errorf("police correction = %v, want the corrected notice in full", relP.GetRecord())
	}
	soc = readInbox(t, s, dkSocial, 0)
	if len(soc) != 1 {
		t.Fatalf("social services' inbox after the correction = %d items, want only the correction: the unread original is withdrawn", len(soc))
	}
	relS := checkCorrection("social services", soc[0], origSocial, toSocial.GetAuditIndex())
	if rn := relS.GetRecord().GetReleaseNotice(); rn.GetSubject().GetSubjectId() == "SYN-DK-0001" || rn.GetReleaseDate() != "2026" {
		t.Errorf("social services' correction = %v, want it pseudonymised with the date cut to the year, as the original", rn)
	}
	if got := readInbox(t, s, officer{"nl-ngo-exit", "mentor.jansen", []string{"case_officer"}, "none"}, 0); len(got) != 0 {
		t.Errorf("the NGO, refused at first, got %d items", len(got))
	}

	// Every step is an entry: one per recipient, in the original form.
	corr := entriesOf(t, s, audit.ActionCorrect)
	if len(corr) != 2 {
		t.Fatalf("%d correct entries, want 2", len(corr))
	}
	for _, r := range corr {
		e := r.Entry
		orig := s.entry(t, map[string]int64{"dk-police-aarhus": toPolice.GetAuditIndex(), "dk-social-aarhus": toSocial.GetAuditIndex()}[e.Recipients[0].Agency])
		checkLEDAt(t, e, now, dkPrison, audit.ActionCorrect, "dk-prison-east", e.Recipients[0].Agency, "release_notice", orig.Purpose, orig.Outcome)
		if e.Detail[audit.DetailNoticeKind] != audit.NoticeCorrection || e.PseudonymDomain != orig.PseudonymDomain ||
			!proto.Equal(planProto(e.FieldPlan), planProto(orig.FieldPlan)) || e.Detail[audit.DetailReleasedDigest] == "" {
			t.Errorf("correct entry %d = %+v; want the original's plan %+v and domain %q", r.Index, e, orig.FieldPlan, orig.PseudonymDomain)
		}
	}

	// Auditors see both open; the police acknowledge theirs.
	auditor := aftercare(t, s, dkAuditor)
	open, err := auditor.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(open.GetNotices()) != 2 {
		t.Fatalf("ListObligationNotices = %v, want the two corrections", open.GetNotices())
	}
	ack, err := aftercare(t, s, dkPolice).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: cp.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Replaced in the case file.",
	})
	if err != nil {
		t.Fatalf("AcknowledgeNotice: %v", err)
	}
	if e := s.entry(t, ack.GetAuditIndex()); e.Action != audit.ActionAcknowledgeNotice || e.Outcome != audit.OutcomeOK ||
		e.Requester.Agency != "dk-police-aarhus" || e.Detail[audit.DetailNotice] != itoa(cp.GetAuditIndex()) {
		t.Errorf("acknowledgement entry = %+v", e)
	}
	_, err = aftercare(t, s, dkPolice).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: cp.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_ERASE})
	if r := errorReason(wantStatus(t, err, codes.PermissionDenied)); r != "ALREADY_ACKNOWLEDGED" {
		t.Errorf("second acknowledgement reason = %q", r)
	}
	_, err = aftercare(t, s, dkSocial).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: cp.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY})
	wantStatus(t, err, codes.InvalidArgument) // not its notice
	_, err = aftercare(t, s, dkSocial).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: cs.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RETAIN})
	wantStatus(t, err, codes.InvalidArgument) // not what it was asked
	open, _ = auditor.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{})
	if len(open.GetNotices()) != 1 || open.GetNotices()[0].GetAuditIndex() != cs.GetAuditIndex() || open.GetNotices()[0].GetRecipient() != "dk-social-aarhus" {
		t.Fatalf("ListObligationNotices after the police acknowledged = %v, want social services' only", open.GetNotices())
	}
	all, _ := auditor.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{IncludeAcknowledged: true})
	if len(all.GetNotices()) != 2 || all.GetNotices()[0].GetAcknowledgementIndex() != ack.GetAuditIndex() {
		t.Errorf("ListObligationNotices(include acknowledged) = %v", all.GetNotices())
	}
	if _, err := aftercare(t, s, dkPolice).ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{}); err == nil {
		t.Error("ListObligationNotices without the auditor role = nil error")
	}

	// A withdrawal reaches the same two, now about the corrections.
	wr, err := aftercare(t, s, dkPrison).Withdraw(ctx, &liaisonv1.WithdrawRequest{
		SubjectId: "SYN-DK-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE,
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_UNLAWFULLY_TRANSMITTED, Justification: "Sent before the court's decision was final.",
	})
	if err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	var refs []int64
	for _, r := range wr.GetResults() {
		refs = append(refs, r.GetRefersTo())
		if r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL || r.GetObligation() != liaisonv1.Obligation_OBLIGATION_ERASE {
			t.Errorf("withdrawal result = %v", r)
		}
	}
	if !slices.Equal(refs, []int64{cp.GetAuditIndex(), cs.GetAuditIndex()}) {
		t.Fatalf("Withdraw reached releases %v, want the two corrections %d and %d", refs, cp.GetAuditIndex(), cs.GetAuditIndex())
	}
	if w := entriesOf(t, s, audit.ActionWithdraw); len(w) != 2 || w[0].Entry.Detail[audit.DetailReason] != "UNLAWFULLY_TRANSMITTED" ||
		w[0].Entry.Outcome != audit.OutcomeOK || w[0].Entry.LegalBasis == nil {
		t.Errorf("withdraw entries = %d, first %+v", len(w), w)
	}
	pol = readInbox(t, s, dkPolice, pol[0].GetCursor())
	if len(pol) != 1 || pol[0].GetObligation().GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL ||
		pol[0].GetReleased() != nil || pol[0].GetObligation().GetReason() != "UNLAWFULLY_TRANSMITTED" {
		t.Errorf("police inbox after the withdrawal = %v", pol)
	}
	if got := readInbox(t, s, officer{"nl-ngo-exit", "mentor.jansen", []string{"case_officer"}, "none"}, 0); len(got) != 0 {
		t.Errorf("the NGO got %d items", len(got))
	}
	_, err = aftercare(t, s, dkPrison).Withdraw(ctx, &liaisonv1.WithdrawRequest{
		SubjectId: "SYN-DK-0001", Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "again",
	})
	wantStatus(t, err, codes.NotFound) // nothing left to withdraw
	if _, e := s.lastEntry(t); e.Action != audit.ActionWithdraw || e.Outcome != audit.OutcomeNotFound {
		t.Errorf("last entry = %s %s, want a withdraw with outcome not_found", e.Action, e.Outcome)
	}

	// The access report shows what was sent on the person's behalf.
	rep, err := liaisonv1.NewAuditClient(s.conn(t, dkAuditor)).AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: "SYN-DK-0001"})
	if err != nil {
		t.Fatal(err)
	}
	var disclosed []int64
	for _, d := range rep.GetDisclosures() {
		disclosed = append(disclosed, d.GetIndex())
	}
	if !slices.Equal(disclosed, []int64{toPolice.GetAuditIndex(), toSocial.GetAuditIndex()}) {
		t.Errorf("report disclosures = %v, want the two releases", disclosed)
	}
	if len(rep.GetCorrections()) != 2 || len(rep.GetWithdrawals()) != 2 {
		t.Fatalf("report: %d corrections, %d withdrawals; want 2 and 2", len(rep.GetCorrections()), len(rep.GetWithdrawals()))
	}
	c0 := rep.GetCorrections()[0]
	if c0.GetKind() != "correction" || c0.GetRecipient() != "dk-police-aarhus" || c0.GetAcknowledged() == nil ||
		c0.GetOutcome() != "disclose" || !slices.Equal(c0.GetRefersTo(), []int64{toPolice.GetAuditIndex()}) {
		t.Errorf("report correction = %v", c0)
	}
	if w := rep.GetWithdrawals()[1]; w.GetRecipient() != "dk-social-aarhus" || w.GetObligation() != "erase" || w.GetReason() != "UNLAWFULLY_TRANSMITTED" || w.GetAcknowledged() != nil {
		t.Errorf("report withdrawal = %v", w)
	}
}

// checkLEDAt is checkLED for an entry made at the gateway's clock's time.
func checkLEDAt(t *testing.T, e *audit.Entry, at time.Time, who officer, action, holder, recipient, recordType, purpose, outcome string) {
	t.Helper()
	if !e.Time.Equal(at) {
		t.Errorf("entry time = %v, want the gateway's clock's %v", e.Time, at)
	}
	c := *e
	c.Time = time.Now()
	checkLED(t, &c, who, action, holder, recipient, recordType, purpose, outcome)
}

// planProto makes a field plan comparable with proto.Equal.
func planProto(p *audit.FieldPlan) *liaisonv1.Released {
	if p == nil {
		return &liaisonv1.Released{}
	}
	return &liaisonv1.Released{Fields: slices.Concat(p.Keep, []string{"|"}, p.Generalise, []string{"|"}, p.Pseudonymise, []string{"|", p.Precision})}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// probationAttrs are the Danish sample subject's attributes after release,
// on probation until the given day.
func probationAttrs(until string) *liaisonv1.SubjectAttributes {
	return &liaisonv1.SubjectAttributes{
		Category: liaisonv1.SubjectCategory_SUBJECT_CATEGORY_CONVICTED, ReleaseDate: "2026-12-15",
		ProbationUntil: until, Municipality: "Aarhus",
	}
}

const supervisionBasis = "dk.rpl.115.stk1.nr3.supervision"

// discloseUnderSupervision pushes rec to recipients under the KSP
// supervision basis, which ends with the probation.
// A record that states the last day of probation (a release notice,
// probation measures) is made to state until, in place, as the holder's
// record does: the gateway refuses attributes that give another day than
// the record states.
func discloseUnderSupervision(t *testing.T, s *stack, rec *liaisonv1.Record, until string, recipients ...string) *liaisonv1.DiscloseResponse {
	t.Helper()
	if rn := rec.GetReleaseNotice(); rn != nil {
		rn.ProbationUntil = until
	}
	if pm := rec.GetProbationMeasures(); pm != nil {
		pm.ProbationUntil = until
	}
	resp, err := s.exchange(t, dkPrison).Disclose(t.Context(), &liaisonv1.DiscloseRequest{
		Record: rec, Subject: probationAttrs(until), Recipients: recipients, ClaimedLegalBasis: supervisionBasis,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Supervision after release.",
	})
	if err != nil {
		t.Fatalf("Disclose under supervision: %v", err)
	}
	for _, r := range resp.GetResults() {
		if r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE || r.GetLegalBasis().GetValidUntil() != until {
			t.Fatalf("Disclose to %s = %v valid until %q, want disclose until %s", r.GetRecipient(), r.GetOutcome(), r.GetLegalBasis().GetValidUntil(), until)
		}
	}
	return resp
}

// TestExpiryAtProbationEnd: releases under the basis that ends with the
// probation are tracked; an extension of the probation moves their expiry;
// when it passes, each recipient gets one notice (the police may keep under
// their retention rule, social services must erase), what they have not
// read is withdrawn, and later exchanges under the basis are refused.
func TestExpiryAtProbationEnd(t *testing.T) {
	eachStore(t, testExpiry)
}

func testExpiry(t *testing.T, o stackOptions) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	o.serverNow = clk.Now
	s := startStack(t, o)
	rec, _ := dkRelease(t, s)
	fx := s.fx
	ra, _, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
	d1 := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus", "dk-social-aarhus")
	d2 := discloseUnderSupervision(t, s, ra, "2027-03-01", "dk-police-aarhus")
	pol := readInbox(t, s, dkPolice, 0)
	if len(pol) != 2 {
		t.Fatalf("police inbox = %d items, want 2", len(pol))
	}
	// The police read the release notice; the risk assessment stays unread.
	if _, err := s.exchange(t, dkPolice).Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: pol[0].GetCursor()}); err != nil {
		t.Fatal(err)
	}
	run := func(at time.Time) {
		t.Helper()
		clk.Set(at)
		if err := s.srv.RunAftercare(ctx); err != nil {
			t.Fatalf("RunAftercare at %v: %v", at, err)
		}
	}
	run(time.Date(2027, 2, 25, 0, 0, 0, 0, time.UTC))
	if n := len(entriesOf(t, s, audit.ActionExpire)); n != 0 {
		t.Fatalf("%d expiry notices before the probation ended", n)
	}

	// The court extends the probation: the expiries move.
	rv, err := aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
		SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-06-01"), Justification: "Probation extended by the court on 2027-02-24.",
	})
	if err != nil {
		t.Fatalf("ReviseExpiry: %v", err)
	}
	if len(rv.GetReleases()) != 3 {
		t.Fatalf("ReviseExpiry considered %d releases, want 3", len(rv.GetReleases()))
	}
	for _, r := range rv.GetReleases() {
		if !r.GetMoved() || r.GetValidUntilBefore() != "2027-03-01" || r.GetValidUntil() != "2027-06-01" || r.GetLegalBasis() != supervisionBasis {
			t.Errorf("revision = %v, want moved from 2027-03-01 to 2027-06-01", r)
		}
		if e := s.entry(t, r.GetAuditIndex()); e.Action != audit.ActionReviseExpiry || e.Outcome != audit.OutcomeOK ||
			e.Detail[audit.DetailMoved] != "true" || e.Requester.Agency != "dk-prison-east" || audit.Released(e.Outcome) {
			t.Errorf("revision entry = %+v", e)
		}
	}
	run(time.Date(2027, 3, 5, 0, 0, 0, 0, time.UTC))
	if n := len(entriesOf(t, s, audit.ActionExpire)); n != 0 {
		t.Fatalf("%d expiry notices after the extension, want none", n)
	}
	// Within the extension, one more release under the basis.
	d3 := discloseUnderSupervision(t, s, rec, "2027-06-01", "dk-police-aarhus")

	// The probation ends: one notice per recipient, sent once.
	end := time.Date(2027, 6, 2, 0, 0, 5, 0, time.UTC)
	run(end)
	run(end.Add(time.Minute))
	exp := entriesOf(t, s, audit.ActionExpire)
	if len(exp) != 2 {
		t.Fatalf("%d expiry notices, want one for the police and one for social services", len(exp))
	}
	police := []int64{d1.GetResults()[0].GetAuditIndex(), d2.GetResults()[0].GetAuditIndex(), d3.GetResults()[0].GetAuditIndex()}
	social := []int64{d1.GetResults()[1].GetAuditIndex()}
	for _, r := range exp {
		e := r.Entry
		want := map[string][]int64{"dk-police-aarhus": police, "dk-social-aarhus": social}[e.Recipients[0].Agency]
		if e.Detail[audit.DetailRefersTo] != audit.FormatIndexes(want) || e.Outcome != audit.OutcomeOK || e.LegalBasis.ID != supervisionBasis ||
			e.Requester.Agency != "liaison" || !slices.Contains(e.Reasons, "LEGAL_BASIS_EXPIRED") || !e.Time.Equal(end) {
			t.Errorf("expiry entry %d = %+v, want one referring to %v", r.Index, e, want)
		}
	}
	pol = readInbox(t, s, dkPolice, pol[0].GetCursor())
	if len(pol) != 1 {
		t.Fatalf("police inbox after the expiry = %d items, want only the notice: the unread ones are withdrawn", len(pol))
	}
	n := pol[0].GetObligation()
	wantUntil := time.Date(2027, 6, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1826).Format(time.DateOnly)
	if n.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY || !slices.Equal(n.GetRefersTo(), police) ||
		n.GetObligation() != liaisonv1.Obligation_OBLIGATION_RETAIN || n.GetRetention().GetId() != "dk.rhl.retention.police" ||
		n.GetRetention().GetRetainUntil() != wantUntil || n.GetLegalBasis().GetValidUntil() != "2027-06-01" {
		t.Errorf("police expiry notice = %v; want retain under dk.rhl.retention.police until %s", n, wantUntil)
	}
	soc := readInbox(t, s, dkSocial, 0)
	if len(soc) != 1 || soc[0].GetObligation().GetObligation() != liaisonv1.Obligation_OBLIGATION_ERASE || soc[0].GetObligation().GetRetention() != nil {
		t.Errorf("social services' inbox after the expiry = %v, want only a notice to erase", soc)
	}

	// Later exchanges under the basis are refused.
	_, err = s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: probationAttrs("2027-06-01"), Recipients: []string{"dk-police-aarhus"}, ClaimedLegalBasis: supervisionBasis,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "One more update.",
	})
	wantStatus(t, err, codes.PermissionDenied)
	if _, e := s.lastEntry(t); e.Outcome != audit.OutcomeDeny || !slices.Contains(e.Reasons, "LEGAL_BASIS_EXPIRED") {
		t.Errorf("refusal entry = %s %v, want deny with LEGAL_BASIS_EXPIRED", e.Outcome, e.Reasons)
	}

	// The recipients acknowledge; the auditors see nothing open.
	if _, err := aftercare(t, s, dkPolice).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: n.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RETAIN}); err != nil {
		t.Fatal(err)
	}
	if _, err := aftercare(t, s, dkSocial).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: soc[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_ERASE}); err != nil {
		t.Fatal(err)
	}
	if open, err := aftercare(t, s, dkAuditor).ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{}); err != nil || len(open.GetNotices()) != 0 {
		t.Errorf("ListObligationNotices after both acknowledged = %v, %v", open.GetNotices(), err)
	}
}

// TestExpiryOnceAcrossReplicas: two gateways on one PostgreSQL database
// run their timers at once, again and again, with a timer lease short
// enough to change hands between passes; every expiry notice goes out
// exactly once.
func TestExpiryOnceAcrossReplicas(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{postgresURL: pgtest.NewDatabase(t), serverNow: clk.Now, timerLease: 20 * time.Millisecond})
	second := s.startGateway(t)
	rec, _ := dkRelease(t, s)
	const subjects = 6
	for i := range subjects {
		r := proto.CloneOf(rec)
		r.GetReleaseNotice().GetSubject().SubjectId = "SYN-DK-10" + strconv.Itoa(i)
		discloseUnderSupervision(t, s, r, "2027-03-01", "dk-police-aarhus", "dk-social-aarhus")
	}
	clk.Set(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC))
	var wg sync.WaitGroup
	for _, g := range []*instance{{srv: s.srv}, second, {srv: s.srv}, second} {
		wg.Go(func() {
			for range 15 {
				if err := g.srv.RunAftercare(ctx); err != nil {
					t.Errorf("RunAftercare: %v", err)
				}
				time.Sleep(7 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	exp := entriesOf(t, s, audit.ActionExpire)
	if len(exp) != 2*subjects {
		t.Fatalf("%d expiry notices, want %d: one per recipient and subject", len(exp), 2*subjects)
	}
	t.Logf("notices sent by the first replica: %d, by the second: %d",
		bytes.Count(s.logs.Bytes(), []byte("obligation notice sent")), bytes.Count(second.logs.Bytes(), []byte("obligation notice sent")))
	seen := map[string]bool{}
	for _, r := range exp {
		k := r.Entry.Recipients[0].Agency + "/" + r.Entry.Detail[audit.DetailRefersTo]
		if seen[k] {
			t.Errorf("notice %s sent twice", k)
		}
		seen[k] = true
	}
	for _, o := range []officer{dkPolice, dkSocial} {
		var notices int
		for _, m := range readInbox(t, s, o, 0) {
			if m.GetObligation().GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY {
				notices++
			}
		}
		if notices != subjects {
			t.Errorf("%s holds %d expiry notices, want %d", o.agency, notices, subjects)
		}
	}
}

// TestExpiryReachesWhatWasPassedOn: social services passed a release
// notice on before the basis it received it under ended. The expiry
// notice, which obliges erasure, lists that onward release, and social
// services cannot acknowledge the erasure until they have withdrawn it,
// as for a withdrawal (GDPR Art. 19, LED Art. 16(6)).
func TestExpiryReachesWhatWasPassedOn(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	// Every basis of the packs that ends forbids onward disclosure; this
	// reading of the Danish law does not.
	s := startStack(t, stackOptions{serverNow: clk.Now, policy: policytest.Patched(t, "dk/dk.rego", `, "NO_ONWARD_DISCLOSURE"]`, "]")})
	rec, _ := dkRelease(t, s)
	d := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-social-aarhus")
	got := d.GetResults()[0].GetAuditIndex()
	social := s.exchange(t, dkSocial)
	x, err := social.Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: probationAttrs("2027-03-01"), Recipients: []string{"dk-police-aarhus"}, Provenance: &liaisonv1.Provenance{AuditIndex: got},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "The police meet the person before release.",
	})
	if err != nil || x.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("social services pass the notice on = %v, %v", x, err)
	}
	onward := x.GetResults()[0].GetAuditIndex()

	clk.Set(time.Date(2027, 3, 2, 0, 0, 5, 0, time.UTC))
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	var n *liaisonv1.ObligationNotice
	for _, it := range readInbox(t, s, dkSocial, 0) {
		if o := it.GetObligation(); o.GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY {
			n = o
		}
	}
	if n == nil || n.GetObligation() != liaisonv1.Obligation_OBLIGATION_ERASE || !slices.Equal(n.GetPassedOn(), []int64{onward}) ||
		!strings.Contains(n.GetMessage(), fmt.Sprintf("You passed it on (entry %d): withdraw that release too", onward)) {
		t.Fatalf("social services' expiry notice = %v; want erasure, naming the onward release %d", n, onward)
	}
	ack := func() error {
		_, err := aftercare(t, s, dkSocial).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: n.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_ERASE})
		return err
	}
	if st := wantStatus(t, ack(), codes.FailedPrecondition); errorReason(st) != "PASSED_ON_NOT_CORRECTED" ||
		!strings.Contains(st.Message(), fmt.Sprintf("(entry %d)", onward)) {
		t.Errorf("erasure acknowledged before what was passed on was withdrawn: %q %s", errorReason(st), st.Message())
	}
	w, err := aftercare(t, s, dkSocial).Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001",
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_ERASED_AT_SOURCE, Justification: "The basis we received it under ended."})
	if err != nil || len(w.GetResults()) != 1 || w.GetResults()[0].GetRefersTo() != onward {
		t.Fatalf("social services' withdrawal = %v, %v; want one, of entry %d", w, err, onward)
	}
	if err := ack(); err != nil {
		t.Errorf("erasure acknowledged once what was passed on was withdrawn: %v", err)
	}
}

// TestErasedAtExpiryIsNoLongerCorrected: the basis the prison's release
// notice went to the police and to social services under ended; the
// police may keep it under their retention rule, social services were
// told to erase it. When the prison later corrects the notice (the person
// is under a new probation order, so today's law would let it go), only
// the police get the correction: social services hold nothing to
// correct, and sending them the record would disclose it afresh. Nor does
// a later withdrawal reach them: they were told to erase it already.
// Naming their release is refused, saying why.
func TestErasedAtExpiryIsNoLongerCorrected(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	d := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus", "dk-social-aarhus")
	police, social := d.GetResults()[0].GetAuditIndex(), d.GetResults()[1].GetAuditIndex()
	clk.Set(time.Date(2027, 3, 2, 0, 0, 5, 0, time.UTC))
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	erasedBy := int64(-1)
	for _, r := range entriesOf(t, s, audit.ActionExpire) {
		if r.Entry.Recipients[0].Agency == "dk-social-aarhus" && r.Entry.Detail[audit.DetailObligation] == audit.ObligationErase {
			erasedBy = r.Index
		}
	}
	if erasedBy < 0 {
		t.Fatal("social services got no expiry notice obliging erasure")
	}

	clk.Set(time.Date(2027, 4, 1, 9, 0, 0, 0, time.UTC))
	prison := aftercare(t, s, dkPrison)
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus, afdeling Nord"
	corrected.GetReleaseNotice().ProbationUntil = "2028-01-01" // the new order, as the attributes say
	correct := func(corrects ...int64) (*liaisonv1.CorrectResponse, error) {
		return prison.Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Subject: probationAttrs("2028-01-01"), Corrects: corrects,
			Justification: "The contact point was wrong; a new probation order runs to 2028."})
	}
	c, err := correct()
	if err != nil {
		t.Fatalf("Correct: %v", err)
	}
	if rs := c.GetResults(); len(rs) != 1 || rs[0].GetRecipient() != "dk-police-aarhus" || rs[0].GetRefersTo() != police ||
		rs[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("correction results = %v; want one, a correction to the police, who retain the record", rs)
	}
	for _, it := range readInbox(t, s, dkSocial, 0) {
		if k := it.GetObligation().GetKind(); it.GetReleased() != nil || k != liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY {
			t.Errorf("social services' inbox holds %v (kind %v) after the correction; want only the expiry notice", it, k)
		}
	}
	_, err = correct(social)
	if st := wantStatus(t, err, codes.InvalidArgument); !strings.Contains(st.Message(), "corrects[0]") ||
		!strings.Contains(st.Message(), fmt.Sprintf("told to erase it (entry %d)", erasedBy)) {
		t.Errorf("correcting the erased release: %s", st.Message())
	}

	w, err := prison.Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001", Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT,
		Justification: "The notice was of another release."})
	if err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	if rs := w.GetResults(); len(rs) != 1 || rs[0].GetRecipient() != "dk-police-aarhus" || rs[0].GetRefersTo() != c.GetResults()[0].GetAuditIndex() {
		t.Errorf("withdrawal results = %v; want one, of the police's correction %d", rs, c.GetResults()[0].GetAuditIndex())
	}
	_, err = prison.Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001", Withdraws: []int64{social},
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "The notice was of another release."})
	if st := wantStatus(t, err, codes.InvalidArgument); !strings.Contains(st.Message(), "withdraws[0]") ||
		!strings.Contains(st.Message(), fmt.Sprintf("(entry %d)", erasedBy)) {
		t.Errorf("withdrawing the erased release: %s", st.Message())
	}
	// The police's release was corrected, and the correction withdrawn:
	// each is refused for what happened to it.
	withdrawnBy := w.GetResults()[0].GetAuditIndex()
	_, err = correct(police)
	if st := wantStatus(t, err, codes.InvalidArgument); !strings.Contains(st.Message(),
		fmt.Sprintf("was already corrected (entry %d)", c.GetResults()[0].GetAuditIndex())) {
		t.Errorf("correcting the corrected release: %s", st.Message())
	}
	_, err = correct(c.GetResults()[0].GetAuditIndex())
	if st := wantStatus(t, err, codes.InvalidArgument); !strings.Contains(st.Message(), fmt.Sprintf("was withdrawn (entry %d)", withdrawnBy)) ||
		strings.Contains(st.Message(), "latest release") {
		t.Errorf("correcting the withdrawn correction: %s", st.Message())
	}
}

// TestReviseExpiryInTheCaseAsItIsNow: under a reading of the Danish law
// in which the supervision basis holds only inside a KSP case, the prison
// releases its notice in the case to the police (who lead it) and to
// social services, which then leave the case. The court extends the
// probation: the police's release moves to the new end, social services'
// does not (they are no longer in the case that gave them the basis).
// When the extension is quashed and the probation turns out to have ended
// already, both ends move back, decided as of the releases.
func TestReviseExpiryInTheCaseAsItIsNow(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now, policy: policytest.Patched(t, "dk/dk.rego",
		"\"validity\": {\"type\": \"probation\"},\n\t\t\"requires_case\": false,", "\"validity\": {\"type\": \"probation\"},\n\t\t\"requires_case\": true,")})
	const id = "DK-KSP-AAR-0007"
	police := s.cases(t, dkPolice)
	if _, err := police.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "dk.ksp", SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-03-01"),
		Justification: "KSP around the release."}); err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	for _, o := range []officer{dkPrison, dkSocial} {
		if _, err := police.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: "Needed in the case."}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.cases(t, o).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
			t.Fatal(err)
		}
	}
	rec, _ := dkRelease(t, s)
	rec.GetReleaseNotice().ProbationUntil = "2027-03-01" // as the attributes say
	d, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: probationAttrs("2027-03-01"), Recipients: []string{"dk-police-aarhus", "dk-social-aarhus"}, CaseId: id,
		ClaimedLegalBasis: supervisionBasis, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Supervision after release.",
	})
	if err != nil {
		t.Fatalf("Disclose in the case: %v", err)
	}
	for _, r := range d.GetResults() {
		if r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE || r.GetLegalBasis().GetId() != supervisionBasis || r.GetLegalBasis().GetValidUntil() != "2027-03-01" {
			t.Fatalf("Disclose in the case to %s = %v", r.GetRecipient(), r)
		}
	}
	if _, err := s.cases(t, dkSocial).LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "Our part is done."}); err != nil {
		t.Fatal(err)
	}

	clk.Set(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	rv, err := aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
		SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-06-01"), Justification: "Probation extended by the court on 2027-02-19.",
	})
	if err != nil || len(rv.GetReleases()) != 2 {
		t.Fatalf("ReviseExpiry = %v, %v; want both releases considered", rv, err)
	}
	for _, r := range rv.GetReleases() {
		switch r.GetRecipient() {
		case "dk-police-aarhus":
			if !r.GetMoved() || r.GetValidUntil() != "2027-06-01" {
				t.Errorf("the police's release: %v; want it moved to 2027-06-01", r)
			}
		case "dk-social-aarhus":
			if r.GetMoved() || r.GetValidUntil() != "2027-03-01" || !slices.Contains(r.GetReasons(), "NOT_A_CASE_MEMBER") {
				t.Errorf("social services' release: %v; want it kept to 2027-03-01, NOT_A_CASE_MEMBER", r)
			}
			if e := s.entry(t, r.GetAuditIndex()); e.Detail[audit.DetailMoved] != "false" || e.Case == nil || slices.Contains(e.Case.Members, "dk-social-aarhus") {
				t.Errorf("its revision entry: detail %v, case %+v; want not moved, decided in the case without social services", e.Detail, e.Case)
			}
		}
	}

	// The court's order is quashed: the probation ended on 2027-02-15.
	// Today's law covers neither release; decided as of each release, in
	// the case as it was then, both bases ended that day, and both ends
	// move back: leaving the case never kept a basis longer.
	rv, err = aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
		SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-02-15"), Justification: "The extension was quashed; probation ended on 2027-02-15.",
	})
	if err != nil || len(rv.GetReleases()) != 2 {
		t.Fatalf("ReviseExpiry = %v, %v; want both releases considered", rv, err)
	}
	for _, r := range rv.GetReleases() {
		if !r.GetMoved() || r.GetValidUntil() != "2027-02-15" {
			t.Errorf("%s's release: %v; want it moved back to 2027-02-15", r.GetRecipient(), r)
		}
	}
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, r := range entriesOf(t, s, audit.ActionExpire) {
		to = append(to, r.Entry.Recipients[0].Agency)
	}
	if slices.Sort(to); !slices.Equal(to, []string{"dk-police-aarhus", "dk-social-aarhus"}) {
		t.Errorf("expiry notices to %v; want one to each recipient", to)
	}
}

// TestCorrectionLivesAsARelease: the prison corrects the release notice
// it sent the police under the supervision basis; the correction is the
// release the police hold now, tracked to the basis's end. When the
// probation is extended, the correction's end moves; when it ends, the
// police get the expiry notice for it with what their law lets them keep,
// as for any release.
func TestCorrectionLivesAsARelease(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus")
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus, afdeling Nord"
	c, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Justification: "The contact point was wrong."})
	if err != nil || len(c.GetResults()) != 1 || c.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("Correct = %v, %v; want one correction", c, err)
	}
	ci := c.GetResults()[0].GetAuditIndex()

	clk.Set(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	rv, err := aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
		SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-06-01"), Justification: "Probation extended by the court on 2027-02-19.",
	})
	if err != nil {
		t.Fatalf("ReviseExpiry: %v", err)
	}
	if rs := rv.GetReleases(); len(rs) != 1 || rs[0].GetReleaseIndex() != ci || !rs[0].GetMoved() || rs[0].GetValidUntil() != "2027-06-01" {
		t.Fatalf("revision = %v; want the correction %d moved to 2027-06-01", rs, ci)
	}

	clk.Set(time.Date(2027, 6, 2, 0, 0, 5, 0, time.UTC))
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	exp := entriesOf(t, s, audit.ActionExpire)
	if len(exp) != 1 || exp[0].Entry.Detail[audit.DetailRefersTo] != itoa(ci) {
		t.Fatalf("%d expiry notices; want one, for the correction %d", len(exp), ci)
	}
	if e := exp[0].Entry; e.Detail[audit.DetailObligation] != audit.ObligationRetain || e.Detail[audit.DetailRetention] != "dk.rhl.retention.police" {
		t.Errorf("expiry notice for the correction: detail %v, reasons %v; want retain under dk.rhl.retention.police", e.Detail, e.Reasons)
	}
}

// TestCorrectionAfterARevisionKeepsItsDates: a correction that gives no
// attributes is decided with those the holder last gave for the release,
// and a revision (ReviseExpiry) gave newer ones than the release's. The
// prison extends the probation to 1 June, then corrects the release notice
// it sent the police (until 1 March) without attributes: on 25 February
// the correction carries the basis until 1 June, and no expiry notice goes
// on 2 March (without the fix: the correction was decided with the old
// dates, tracked until 1 March, and the police were told on 2 March that
// the basis had ended); a second correction on 10 March is a correction
// (without the fix: a withdrawal obliging erasure, CORRECTION_NOT_ALLOWED,
// LEGAL_BASIS_EXPIRED, though the basis is in force until 1 June).
func TestCorrectionAfterARevisionKeepsItsDates(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus")
	clk.Set(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	if rv, err := aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
		SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-06-01"), Justification: "Probation extended by the court on 2027-02-19.",
	}); err != nil || len(rv.GetReleases()) != 1 || !rv.GetReleases()[0].GetMoved() {
		t.Fatalf("ReviseExpiry = %v, %v; want the release moved to 2027-06-01", rv, err)
	}
	correct := func(contact string) *liaisonv1.NoticeResult {
		t.Helper()
		corrected := proto.CloneOf(rec)
		corrected.GetReleaseNotice().ContactPoint = contact
		// A record that states no last day of probation: the correction
		// takes it from the attributes the holder last gave.
		corrected.GetReleaseNotice().ProbationUntil = ""
		c, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Justification: "The contact point was wrong."})
		if err != nil || len(c.GetResults()) != 1 {
			t.Fatalf("Correct = %v, %v; want one result", c, err)
		}
		res := c.GetResults()[0]
		e := s.entry(t, res.GetAuditIndex())
		if res.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION || res.GetObligation() != liaisonv1.Obligation_OBLIGATION_RECTIFY ||
			e.LegalBasis == nil || e.LegalBasis.ValidUntil != "2027-06-01" || e.Subject == nil || e.Subject.ProbationUntil != "2027-06-01" {
			t.Errorf("correction = %v, entry basis %+v, subject %+v, reasons %v; want a correction under the basis until 2027-06-01, decided with the revised dates",
				res, e.LegalBasis, e.Subject, e.Reasons)
		}
		return res
	}

	clk.Set(time.Date(2027, 2, 25, 9, 0, 0, 0, time.UTC))
	correct("Kriminalforsorgen Aarhus, afdeling Nord")
	clk.Set(time.Date(2027, 3, 2, 0, 0, 5, 0, time.UTC))
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	if exp := entriesOf(t, s, audit.ActionExpire); len(exp) != 0 {
		t.Fatalf("expiry notices on 2 March = %+v; want none, the probation running to 1 June", exp[0].Entry)
	}
	clk.Set(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	correct("Kriminalforsorgen Aarhus, afdeling Syd")
}

// TestReviseExpiryIntoThePast: the probation ended earlier than the date
// the releases were made with (the court cut it short, and the prison
// learns it afterwards). The revision moves their end back to the real
// one, though today's law no longer covers them, and the next timer pass
// sends the recipient its expiry notice.
func TestReviseExpiryIntoThePast(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	d := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus")
	clk.Set(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	rv, err := aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
		SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-02-10"), Justification: "The probation ended on 2027-02-10; we learnt it today.",
	})
	if err != nil {
		t.Fatalf("ReviseExpiry: %v", err)
	}
	if rs := rv.GetReleases(); len(rs) != 1 || !rs[0].GetMoved() || rs[0].GetValidUntil() != "2027-02-10" || rs[0].GetValidUntilBefore() != "2027-03-01" {
		t.Fatalf("revision = %v, want the release moved back from 2027-03-01 to 2027-02-10", rs)
	}
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	exp := entriesOf(t, s, audit.ActionExpire)
	if len(exp) != 1 || exp[0].Entry.Detail[audit.DetailRefersTo] != audit.FormatIndexes([]int64{d.GetResults()[0].GetAuditIndex()}) ||
		exp[0].Entry.LegalBasis == nil || exp[0].Entry.LegalBasis.ValidUntil != "2027-02-10" {
		t.Fatalf("expiry notices = %+v, want one for the police's release, ended 2027-02-10", exp)
	}
}

// TestNotifyFindsEarlierRecipientsByTheEndAsItStandsNow: Notify routes an
// event to the agencies that received records about the person under a
// basis still in force, and the end of that basis is the one as it stands
// now, as for the expiry notices and onward use. The Aarhus police received
// the release notice under supervision until 1 March; the probation is
// extended to 1 June, and a breach on 10 March reaches them as an earlier
// recipient (without the fix: NO_RECIPIENTS, the release's own 1 March
// having passed). Aarhus social services, whose release of another person's
// record is cut short into the past, is told of nothing more (without the
// fix it was found by the release's original end and sent the event).
func TestNotifyFindsEarlierRecipientsByTheEndAsItStandsNow(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	d := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus")
	notify := func(until string) (*liaisonv1.NotifyResponse, error) {
		r := proto.CloneOf(rec)
		r.GetReleaseNotice().ProbationUntil = until // the record states the probation as it stands
		return s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_BREACH_OF_CONDITIONS,
			Record:    r, Subject: probationAttrs(until), Justification: "Breach of the conditions of supervision.",
		})
	}

	clk.Set(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	if rv, err := aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
		SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-06-01"), Justification: "Probation extended by the court on 2027-02-19.",
	}); err != nil || len(rv.GetReleases()) != 1 || !rv.GetReleases()[0].GetMoved() {
		t.Fatalf("ReviseExpiry = %v, %v; want the release moved to 2027-06-01", rv, err)
	}
	clk.Set(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	nr, err := notify("2027-06-01")
	if err != nil {
		t.Fatalf("Notify after the extension: %v (%s); want the police reached as an earlier recipient, their basis in force until 2027-06-01", err, reasonOf(err))
	}
	if rs := nr.GetResults(); len(rs) != 1 || rs[0].GetRecipient() != "dk-police-aarhus" || !releasedResult(rs[0]) ||
		rs[0].GetRoutes()[0].GetRole() != liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT ||
		rs[0].GetRoutes()[0].GetEarlierAuditIndex() != d.GetResults()[0].GetAuditIndex() {
		t.Errorf("Notify after the extension = %v; want the police reached by their release %d", rs, d.GetResults()[0].GetAuditIndex())
	}

	// The other way: a probation cut short. Social services received the
	// release notice of another person under supervision until 1 March;
	// on 20 February the prison learns the probation ended on 10 February.
	clk.Set(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	other := proto.CloneOf(rec)
	other.GetReleaseNotice().Subject.SubjectId = "SYN-DK-0777"
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: other, Subject: probationAttrs("2027-03-01"), Recipients: []string{"dk-social-aarhus"}, ClaimedLegalBasis: supervisionBasis,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Supervision after release.",
	}); err != nil {
		t.Fatalf("Disclose to social services: %v", err)
	}
	clk.Set(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	if rv, err := aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
		SubjectId: "SYN-DK-0777", Subject: probationAttrs("2027-02-10"), Justification: "The probation ended on 2027-02-10; we learnt it today.",
	}); err != nil || len(rv.GetReleases()) != 1 || rv.GetReleases()[0].GetValidUntil() != "2027-02-10" {
		t.Fatalf("ReviseExpiry = %v, %v; want the release moved back to 2027-02-10", rv, err)
	}
	ended := proto.CloneOf(other)
	ended.GetReleaseNotice().ProbationUntil = "2027-02-10" // as the attributes say
	_, err = s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_PROBATION_ENDED,
		Record:    ended, Subject: probationAttrs("2027-02-10"), Justification: "Probation ended.",
	})
	if st := wantStatus(t, err, codes.InvalidArgument); errorReason(st) != "NO_RECIPIENTS" {
		t.Errorf("Notify after the basis was cut short: %v (%s); want NO_RECIPIENTS, social services' basis having ended on 2027-02-10", st.Message(), errorReason(st))
	}

	// A correction is what its recipient holds now: the police received a
	// third person's release notice until 1 March, corrected on 25
	// February with the probation extended to 1 June; a breach on 10 March
	// reaches them by the correction (without the fix: NO_RECIPIENTS, a
	// correction counting as no receipt).
	clk.Set(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	third := proto.CloneOf(rec)
	third.GetReleaseNotice().Subject.SubjectId = "SYN-DK-0888"
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: third, Subject: probationAttrs("2027-03-01"), Recipients: []string{"dk-police-aarhus"}, ClaimedLegalBasis: supervisionBasis,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Supervision after release.",
	}); err != nil {
		t.Fatalf("Disclose to the police: %v", err)
	}
	clk.Set(time.Date(2027, 2, 25, 9, 0, 0, 0, time.UTC))
	corrected := proto.CloneOf(third)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus, afdeling Nord"
	corrected.GetReleaseNotice().ProbationUntil = "2027-06-01" // as the attributes say
	c, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Subject: probationAttrs("2027-06-01"),
		Justification: "The contact point was wrong; the probation was extended."})
	if err != nil || len(c.GetResults()) != 1 || c.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("Correct = %v, %v; want one correction", c, err)
	}
	clk.Set(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	nr, err = s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_BREACH_OF_CONDITIONS,
		Record:    corrected, Subject: probationAttrs("2027-06-01"), Justification: "Breach of the conditions of supervision.",
	})
	if err != nil {
		t.Fatalf("Notify after the correction: %v (%s); want the police reached by the correction", err, reasonOf(err))
	}
	if rs := nr.GetResults(); len(rs) != 1 || rs[0].GetRecipient() != "dk-police-aarhus" ||
		rs[0].GetRoutes()[0].GetEarlierAuditIndex() != c.GetResults()[0].GetAuditIndex() {
		t.Errorf("Notify after the correction = %v; want the police reached by the correction %d", rs, c.GetResults()[0].GetAuditIndex())
	}
}

// TestAcknowledgeNoticeOnceAtOnce: eight acknowledgements of one
// withdrawal notice, sent at the same moment: exactly one is recorded
// (ok), and each of the others ends in an entry of its own, refused with
// ALREADY_ACKNOWLEDGED, as a second acknowledgement made later is; the
// notice lists the one acknowledgement.
func TestAcknowledgeNoticeOnceAtOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		s := startStack(t, o)
		dkReleaseToAarhusPolice(t, s)
		w, err := aftercare(t, s, dkPrison).Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001",
			Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "The date was wrong."})
		if err != nil || len(w.GetResults()) != 1 {
			t.Fatalf("Withdraw = %v, %v; want one notice", w, err)
		}
		notice := w.GetResults()[0].GetAuditIndex()

		const calls = 8
		resps := make([]*liaisonv1.AcknowledgeNoticeResponse, calls)
		errs := atOnce(t, s, dkPolice, calls, func(i int, c *grpc.ClientConn) (err error) {
			resps[i], err = liaisonv1.NewAftercareClient(c).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{
				NoticeIndex: notice, Done: liaisonv1.Obligation_OBLIGATION_ERASE, Note: "Erased."})
			return err
		})

		ok := int64(-1)
		refused := map[string]bool{} // the refused calls' entries, as their errors name them
		for i, err := range errs {
			if err == nil {
				if ok >= 0 {
					t.Errorf("acknowledgements %d and another both recorded", i)
				}
				ok = resps[i].GetAuditIndex()
				continue
			}
			st := wantStatus(t, err, codes.PermissionDenied)
			if r := errorReason(st); r != "ALREADY_ACKNOWLEDGED" {
				t.Errorf("acknowledgement %d: reason %q, want ALREADY_ACKNOWLEDGED", i, r)
			}
			for _, d := range st.Details() {
				if ei, isInfo := d.(*errdetails.ErrorInfo); isInfo {
					refused[ei.GetMetadata()["audit_index"]] = true
				}
			}
		}
		if ok < 0 {
			t.Fatalf("none of %d acknowledgements recorded: %v", calls, errs)
		}
		if len(refused) != calls-1 {
			t.Errorf("the refused calls name %d distinct entries, want %d", len(refused), calls-1)
		}
		acks := entriesOf(t, s, audit.ActionAcknowledgeNotice)
		if len(acks) != calls {
			t.Fatalf("%d acknowledge_notice entries for %d calls", len(acks), calls)
		}
		var oks int
		for _, r := range acks {
			e := r.Entry
			switch {
			case e.Detail[audit.DetailNotice] != itoa(notice):
				t.Errorf("entry %d names notice %s, want %d", r.Index, e.Detail[audit.DetailNotice], notice)
			case e.Outcome == audit.OutcomeOK:
				oks++
				if r.Index != ok {
					t.Errorf("the ok entry is %d, the answer said %d", r.Index, ok)
				}
			case e.Outcome != audit.OutcomeRefused || !slices.Equal(e.Reasons, []string{"ALREADY_ACKNOWLEDGED"}) || !refused[itoa(r.Index)]:
				t.Errorf("entry %d = %s %v; want refused ALREADY_ACKNOWLEDGED, named by a refused call", r.Index, e.Outcome, e.Reasons)
			}
		}
		if oks != 1 {
			t.Errorf("%d acknowledgements recorded ok, want exactly 1", oks)
		}
		all, err := aftercare(t, s, dkAuditor).ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{IncludeAcknowledged: true})
		if err != nil || len(all.GetNotices()) != 1 || all.GetNotices()[0].GetAcknowledgementIndex() != ok {
			t.Errorf("ListObligationNotices = %v, %v; want the notice acknowledged by entry %d", all.GetNotices(), err, ok)
		}
	})
}

// atOnce makes n calls at the same moment, call i as officer i of o's
// agency (with o's roles) on a connection of its own, set up before, and
// returns their errors.
func atOnce(t *testing.T, s *stack, o officer, n int, call func(i int, c *grpc.ClientConn) error) []error {
	t.Helper()
	conns := make([]*grpc.ClientConn, n)
	for i := range conns {
		conns[i] = s.conn(t, officer{o.agency, fmt.Sprintf("%s.%d", o.id, i), o.roles, o.clearance})
	}
	return callsAtOnce(t, conns, call)
}

// callsAtOnce connects each of conns, then makes call on each at the same
// moment, and returns their errors.
func callsAtOnce(t *testing.T, conns []*grpc.ClientConn, call func(i int, c *grpc.ClientConn) error) []error {
	t.Helper()
	for _, c := range conns {
		c.Connect()
		for st := c.GetState(); st != connectivity.Ready; st = c.GetState() {
			if !c.WaitForStateChange(t.Context(), st) {
				t.Fatal(t.Context().Err())
			}
		}
	}
	start := make(chan struct{})
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			<-start
			errs[i] = call(i, c)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestCorrectionOfAKeptRecordRestricts: the police keep the prison's
// release notice under their own retention rule since the basis ended
// (expiry notice: retain). When the prison corrects it and today's law no
// longer lets the police have the corrected record, they are not told to
// erase what their law lets them keep: the withdrawal obliges restriction
// (keep it marked wrong), and social services, told to erase at expiry,
// are not reached at all.
func TestCorrectionOfAKeptRecordRestricts(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	d := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-police-aarhus", "dk-social-aarhus")
	police := d.GetResults()[0].GetAuditIndex()
	clk.Set(time.Date(2027, 3, 2, 0, 0, 5, 0, time.UTC))
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	kept := int64(-1)
	for _, r := range entriesOf(t, s, audit.ActionExpire) {
		if r.Entry.Recipients[0].Agency == "dk-police-aarhus" && r.Entry.Detail[audit.DetailObligation] == audit.ObligationRetain {
			kept = r.Index
		}
	}
	if kept < 0 {
		t.Fatal("the police got no expiry notice letting them retain the record")
	}

	clk.Set(time.Date(2027, 4, 1, 9, 0, 0, 0, time.UTC))
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus, afdeling Nord"
	c, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Subject: probationAttrs("2027-03-01"),
		Justification: "The contact point was wrong."})
	if err != nil {
		t.Fatalf("Correct: %v", err)
	}
	rs := c.GetResults()
	if len(rs) != 1 || rs[0].GetRecipient() != "dk-police-aarhus" || rs[0].GetRefersTo() != police ||
		rs[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL || rs[0].GetObligation() != liaisonv1.Obligation_OBLIGATION_RESTRICT ||
		!slices.Contains(rs[0].GetReasons(), "CORRECTION_NOT_ALLOWED") {
		t.Fatalf("correction results = %v; want one withdrawal to the police obliging restriction (CORRECTION_NOT_ALLOWED)", rs)
	}
	e := s.entry(t, rs[0].GetAuditIndex())
	if e.Outcome != audit.OutcomeOK || e.Detail[audit.DetailObligation] != audit.ObligationRestrict || e.Detail[audit.DetailNoticeKind] != audit.NoticeWithdrawal ||
		len(e.FieldsDisclosed) != 0 {
		t.Errorf("the notice's entry = %s %v fields %v; want ok, a withdrawal obliging restriction, nothing disclosed", e.Outcome, e.Detail, e.FieldsDisclosed)
	}
	var got *liaisonv1.ObligationNotice
	for _, it := range readInbox(t, s, dkPolice, 0) {
		if n := it.GetObligation(); n.GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
			if it.GetReleased() != nil {
				t.Errorf("the withdrawal came with a record: %v", it.GetReleased())
			}
			got = n
		}
	}
	if got == nil || got.GetObligation() != liaisonv1.Obligation_OBLIGATION_RESTRICT || !strings.Contains(got.GetMessage(), fmt.Sprintf("(entry %d)", kept)) {
		t.Fatalf("the police's withdrawal notice = %v; want restrict, naming the expiry notice %d", got, kept)
	}
	if _, err := aftercare(t, s, dkPolice).AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: got.GetAuditIndex(),
		Done: liaisonv1.Obligation_OBLIGATION_RESTRICT}); err != nil {
		t.Errorf("acknowledging the restriction: %v", err)
	}
}

// TestExpiryNoticeOnceAfterAStall: a replica read the log, found a
// release due, and stalled past its claim on the notice while another
// replica sent it (here: the notice's exchange made again after the
// timers sent it, as the stalled replica would make it). The second is
// refused with the append (NOTICE_SENT_ALREADY): one notice in the
// recipient's inbox, one ok expire entry, and the stalled attempt's own
// entry refused. Before, both were sent and logged ok.
func TestExpiryNoticeOnceAfterAStall(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
		o.serverNow = clk.Now
		s := startStack(t, o)
		rec, _ := dkRelease(t, s)
		d := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-social-aarhus")
		release := d.GetResults()[0].GetAuditIndex()
		clk.Set(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC))
		if err := s.srv.RunAftercare(ctx); err != nil {
			t.Fatalf("RunAftercare: %v", err)
		}
		if n := len(entriesOf(t, s, audit.ActionExpire)); n != 1 {
			t.Fatalf("%d expiry notices sent by the timers; want 1", n)
		}
		orig := s.entry(t, release)
		err := s.srv.SendExpiryNotice(ctx, orig, []int64{release}, "2027-03-01")
		if status.Code(err) != codes.FailedPrecondition || errorReason(status.Convert(err)) != gateway.ReasonNoticeSentAlready {
			t.Fatalf("the stalled replica's notice = %v; want FailedPrecondition, %s", err, gateway.ReasonNoticeSentAlready)
		}
		exp := entriesOf(t, s, audit.ActionExpire)
		if len(exp) != 2 || exp[0].Entry.Outcome != audit.OutcomeOK || exp[1].Entry.Outcome != audit.OutcomeRefused ||
			!slices.Contains(exp[1].Entry.Reasons, gateway.ReasonNoticeSentAlready) {
			var got []string
			for _, r := range exp {
				got = append(got, r.Entry.Outcome+" "+strings.Join(r.Entry.Reasons, ","))
			}
			t.Fatalf("expire entries %v; want one ok, then one refused %s", got, gateway.ReasonNoticeSentAlready)
		}
		var notices int
		for _, m := range readInbox(t, s, dkSocial, 0) {
			if m.GetObligation().GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY {
				notices++
			}
		}
		if notices != 1 {
			t.Errorf("social services hold %d expiry notices; want 1", notices)
		}
	})
}
