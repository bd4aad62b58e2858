package gateway_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/text/unicode/norm"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestGetReceiptRefusalIsLogged: asking for the receipt of a release to
// another agency, or of an index beyond the log, is refused and is one
// audit_read entry of its own (outcome refused, operation get_receipt,
// the field), as the read it asked for would have been. Without the fix
// a refused call left the log unchanged: an agency could probe other
// agencies' releases without a trace.
func TestGetReceiptRefusalIsLogged(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{})
	resp, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Planning contact.",
	})
	if err != nil {
		t.Fatal(err)
	}
	release := resp.GetReleased().GetAuditIndex()
	for name, idx := range map[string]int64{"another agency's release": release, "beyond the log": release + 1000, "negative": -1} {
		err, entries := s.grown(t, func() error {
			_, err := aftercare(t, s, dkPolice).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: idx})
			return err
		})
		wantStatus(t, err, codes.InvalidArgument)
		if len(entries) != 1 {
			t.Errorf("%s: %d entries, want one refused audit_read", name, len(entries))
			continue
		}
		e := entries[0]
		if e.Action != audit.ActionAuditRead || e.Outcome != audit.OutcomeRefused || e.Detail["operation"] != "get_receipt" ||
			e.Detail["field"] != "audit_index" || len(e.Reasons) != 1 || e.Requester == nil || e.Requester.Agency != "dk-police-aarhus" {
			t.Errorf("%s: entry = %s %s %v %v, want audit_read refused, operation get_receipt, field audit_index", name, e.Action, e.Outcome, e.Reasons, e.Detail)
		}
	}
	// The receipt of its own release is one audit_read entry, ok.
	err, entries := s.grown(t, func() error {
		_, err := aftercare(t, s, nlPolice).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: release})
		return err
	})
	if err != nil || len(entries) != 1 || entries[0].Outcome != audit.OutcomeOK || entries[0].Detail["operation"] != "get_receipt" {
		t.Errorf("GetReceipt of its own release = %v, entries %+v", err, entries)
	}
}

// TestUndeclaredOnwardRetyped: the Aarhus police received the prison's
// release notice with NO_ONWARD_DISCLOSURE. Sending its content on,
// re-typed (other case, doubled or trailing white space, a decomposed
// accent, a zero-width space), without naming where it came from, is an
// undeclared onward disclosure, refused as the record as received is:
// one deny entry, nothing delivered. Without the fix the fingerprints
// were of the values byte for byte, so the re-typed copy went out, under
// the police's own basis, without the prison's conditions.
func TestUndeclaredOnwardRetyped(t *testing.T) {
	eachStore(t, testUndeclaredOnwardRetyped)
}

func testUndeclaredOnwardRetyped(t *testing.T, o stackOptions) {
	ctx := t.Context()
	o.serverNow = newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now
	s := startStack(t, o)
	rec, attrs := dkRelease(t, s)
	d, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
	})
	if err != nil {
		t.Fatal(err)
	}
	release := d.GetResults()[0].GetAuditIndex()
	got := readInbox(t, s, dkPolice, 0)[0].GetReleased().GetRecord()
	rn := got.GetReleaseNotice()
	if rn == nil || rn.GetFacility() == "" || rn.GetContactPoint() == "" {
		t.Fatalf("the police received %v; want the release notice with its facility and contact point", got)
	}
	retyped := map[string]func(string) string{
		"upper case":      strings.ToUpper,
		"white space":     func(v string) string { return "  " + strings.ReplaceAll(v, " ", "   ") + "\n" },
		"decomposed":      func(v string) string { return norm.NFD.String(strings.ReplaceAll(v, "Ø", "O\u0338")) + "\u00a0" },
		"zero-width":      func(v string) string { return strings.Replace(v, " ", " \u200b", 1) },
		"mixed, in notes": func(v string) string { return strings.ToLower(v) + " " },
	}
	before := len(readInbox(t, s, dkSocial, 0))
	for name, f := range retyped {
		c := proto.CloneOf(got)
		n := c.GetReleaseNotice()
		n.Facility, n.ContactPoint, n.Notes, n.OffenceCategory = f(n.Facility), f(n.ContactPoint), f(n.Notes), f(n.OffenceCategory)
		for i, lc := range n.LicenceConditions {
			n.LicenceConditions[i] = f(lc)
		}
		err, entries := s.grown(t, func() error {
			_, err := s.exchange(t, dkPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: c, Subject: attrs, Recipients: []string{"dk-social-aarhus"},
				Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Social services should know of the release.",
			})
			return err
		})
		st := wantStatus(t, err, codes.PermissionDenied)
		if errorReason(st) != "UNDECLARED_ONWARD_DISCLOSURE" {
			t.Errorf("%s: refused with %q (%s); want UNDECLARED_ONWARD_DISCLOSURE", name, errorReason(st), st.Message())
		}
		if len(entries) != 1 || entries[0].Outcome != audit.OutcomeDeny || entries[0].Detail["matches_release"] != itoa(release) {
			t.Errorf("%s: entries = %+v; want one deny entry matching release %d", name, entries, release)
		}
	}
	if n := len(readInbox(t, s, dkSocial, 0)); n != before {
		t.Errorf("social services' inbox grew by %d items, want none", n-before)
	}
}

// TestUndeclaredContentBesideANamedProvenance: in the Dutch Safety House
// case, probation gave the police its risk assessment; outside the case,
// the police requested probation's measures, which came with
// NO_ONWARD_DISCLOSURE. Passing the assessment on in the case, naming
// where it came from, goes; slipping the measures' values into it goes
// no further than the measures would alone: refused as an undeclared
// onward disclosure naming the request's release. Without the fix the
// values the named provenance accounted for counted in the half, so two
// values from another release hid among seven declared ones and went to
// the municipality without the condition they came with.
func TestUndeclaredContentBesideANamedProvenance(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{serverNow: newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now})
	const caseID = "NL-ZVH-RTM-0042"
	ra, nlAttrs, _ := s.fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
	if d, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: ra, Subject: nlAttrs, Recipients: []string{"nl-police-rotterdam"}, CaseId: caseID,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case consultation.",
	}); err != nil || d.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("probation to police in the case = %v, %v", d, err)
	}
	received := readInbox(t, s, nlPolice, 0)[0].GetReleased()
	pm, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_PROBATION_MEASURES,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Planning contact.",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := pm.GetReleased().GetRecord().GetProbationMeasures()
	if !slices.Contains(pm.GetReleased().GetConditions(), "NO_ONWARD_DISCLOSURE") || m.GetSupervisingOffice() == "" || len(m.GetReportingFrequency()) < 4 {
		t.Fatalf("the police's request got %v; want the measures with NO_ONWARD_DISCLOSURE, office and frequency", pm.GetReleased())
	}
	onward := func(record *liaisonv1.Record) (error, []*audit.Entry) {
		return s.grown(t, func() error {
			_, err := s.exchange(t, nlPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: record, Subject: nlAttrs, Recipients: []string{"nl-municipality-rotterdam"}, CaseId: caseID,
				Provenance: &liaisonv1.Provenance{AuditIndex: received.GetProvenance().GetAuditIndex()},
				Purpose:    liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "The assessment for the measure plan.",
			})
			return err
		})
	}
	if err, _ := onward(received.GetRecord()); err != nil {
		t.Fatalf("the assessment passed on in the case, naming its provenance: %v", err)
	}
	mixed := proto.CloneOf(received.GetRecord())
	a := mixed.GetRiskAssessment()
	a.Actions = append(a.Actions, m.GetSupervisingOffice(), m.GetReportingFrequency())
	err, entries := onward(mixed)
	st := wantStatus(t, err, codes.PermissionDenied)
	if errorReason(st) != "UNDECLARED_ONWARD_DISCLOSURE" || !strings.Contains(st.Message(), fmt.Sprintf("entry %d", pm.GetReleased().GetAuditIndex())) {
		t.Errorf("refused with %q (%s); want UNDECLARED_ONWARD_DISCLOSURE naming entry %d", errorReason(st), st.Message(), pm.GetReleased().GetAuditIndex())
	}
	if len(entries) != 1 || entries[0].Outcome != audit.OutcomeDeny || entries[0].Detail["matches_release"] != itoa(pm.GetReleased().GetAuditIndex()) {
		t.Errorf("entries = %+v; want one deny entry matching release %d", entries, pm.GetReleased().GetAuditIndex())
	}
}

// TestExpiryNoticeAfterTheEndMovedMeanwhile: the timers found social
// services' release due (probation ended 2027-03-01) and stalled; while
// they did, the prison told the gateway the court had extended the
// probation to 2027-06-01 (ReviseExpiry, moved). The stalled notice is
// refused (END_MOVED_MEANWHILE): one refused expire entry, no expiry
// notice in the inbox, and the release is still tracked to the new end.
// Then the prison withdraws the release while another stalled pass is
// under way: that notice is refused too (RELEASE_CLOSED_MEANWHILE), as a
// correction or withdrawal is. Without the fix both went out: social
// services were told to erase a record whose basis the court had just
// extended, and told again after the withdrawal.
func TestExpiryNoticeAfterTheEndMovedMeanwhile(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
		o.serverNow = clk.Now
		s := startStack(t, o)
		rec, _ := dkRelease(t, s)
		d := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-social-aarhus")
		release := d.GetResults()[0].GetAuditIndex()
		clk.Set(time.Date(2027, 3, 2, 0, 0, 5, 0, time.UTC))
		expiryNotices := func() int {
			n := 0
			for _, m := range readInbox(t, s, dkSocial, 0) {
				if m.GetObligation().GetKind() == liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY {
					n++
				}
			}
			return n
		}

		read, err := s.db.Size(ctx) // the stalled pass read the log up to here
		if err != nil {
			t.Fatal(err)
		}
		rv, err := aftercare(t, s, dkPrison).ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{
			SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-06-01"), Justification: "Probation extended by the court on 2027-03-01.",
		})
		if err != nil || len(rv.GetReleases()) != 1 || !rv.GetReleases()[0].GetMoved() {
			t.Fatalf("ReviseExpiry = %v, %v; want the release moved to 2027-06-01", rv, err)
		}
		err = s.srv.SendExpiryNoticeReadAt(ctx, s.entry(t, release), []int64{release}, "2027-03-01", read)
		if status.Code(err) != codes.FailedPrecondition || errorReason(status.Convert(err)) != gateway.ReasonEndMovedMeanwhile {
			t.Errorf("the stalled expiry notice after the extension = %v; want FailedPrecondition, %s", err, gateway.ReasonEndMovedMeanwhile)
		}
		_, e := s.lastEntry(t)
		if e.Action != audit.ActionExpire || e.Outcome != audit.OutcomeRefused || !slices.Contains(e.Reasons, gateway.ReasonEndMovedMeanwhile) {
			t.Errorf("last entry = %s %s %v; want the expiry notice refused, %s", e.Action, e.Outcome, e.Reasons, gateway.ReasonEndMovedMeanwhile)
		}
		if n := expiryNotices(); n != 0 {
			t.Errorf("social services hold %d expiry notices; want none, the basis was extended", n)
		}
		if err := s.srv.RunAftercare(ctx); err != nil {
			t.Fatalf("RunAftercare: %v", err)
		}
		if n := expiryNotices(); n != 0 {
			t.Errorf("after the timers' pass social services hold %d expiry notices; want none until 2027-06-02", n)
		}

		// Withdrawn, on the day after the new end, while another stalled
		// pass is under way.
		clk.Set(time.Date(2027, 6, 2, 0, 0, 5, 0, time.UTC))
		if read, err = s.db.Size(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := aftercare(t, s, dkPrison).Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001",
			Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "Wrong release date."}); err != nil {
			t.Fatalf("Withdraw: %v", err)
		}
		err = s.srv.SendExpiryNoticeReadAt(ctx, s.entry(t, release), []int64{release}, "2027-06-01", read)
		if status.Code(err) != codes.FailedPrecondition || errorReason(status.Convert(err)) != gateway.ReasonReleaseClosedMeanwhile {
			t.Errorf("the stalled expiry notice after the withdrawal = %v; want FailedPrecondition, %s", err, gateway.ReasonReleaseClosedMeanwhile)
		}
		if n := expiryNotices(); n != 0 {
			t.Errorf("social services hold %d expiry notices; want none, the record was withdrawn", n)
		}
	})
}

// TestUndeclaredOnwardInOtherFields: the Aarhus police received the
// prison's release notice with NO_ONWARD_DISCLOSURE, and put its content
// into an observation of their own where no content goes: the names of
// associates and the street of the location. Sent to social services
// without naming where it came from, it is refused as an undeclared
// onward disclosure, as the same values in the observation's own content
// fields would be. Without the fix only content fields were looked at,
// so the copy went out under the police's own basis.
func TestUndeclaredOnwardInOtherFields(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{serverNow: newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now})
	rec, attrs := dkRelease(t, s)
	d, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
	})
	if err != nil {
		t.Fatal(err)
	}
	release := d.GetResults()[0].GetAuditIndex()
	rn := readInbox(t, s, dkPolice, 0)[0].GetReleased().GetRecord().GetReleaseNotice()
	if rn.GetFacility() == "" || rn.GetContactPoint() == "" || rn.GetOffenceCategory() == "" {
		t.Fatalf("the police received %v; want facility, contact point and offence category", rn)
	}
	send := func(o *liaisonv1.PoliceObservation) (error, []*audit.Entry) {
		return s.grown(t, func() error {
			_, err := s.exchange(t, dkPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: &liaisonv1.Record{Body: &liaisonv1.Record_PoliceObservation{PoliceObservation: o}}, Subject: attrs,
				Recipients: []string{"dk-social-aarhus"}, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
				Justification: "Social services should know of the observation.",
			})
			return err
		})
	}
	own := func() *liaisonv1.PoliceObservation {
		return &liaisonv1.PoliceObservation{
			Subject: &liaisonv1.Person{SubjectId: "SYN-DK-0001"}, ObservedOn: "2026-11-20", Grading: "B2",
			ReportingUnit: "Østjyllands Politi, Forebyggelse", Description: "Seen at the youth club with his mentor.",
			Location: &liaisonv1.Address{Street: "Klostergade 2", Municipality: "Aarhus", Country: "DK"},
		}
	}
	if err, _ := send(own()); err != nil {
		t.Fatalf("the police's own observation: %v", err)
	}
	o := own()
	o.Associates = []*liaisonv1.Person{{FullName: rn.GetContactPoint()}, {FullName: rn.GetFacility()}}
	o.Location.Street = rn.GetOffenceCategory()
	err, entries := send(o)
	st := wantStatus(t, err, codes.PermissionDenied)
	if errorReason(st) != "UNDECLARED_ONWARD_DISCLOSURE" || !strings.Contains(st.Message(), fmt.Sprintf("entry %d", release)) {
		t.Errorf("refused with %q (%s); want UNDECLARED_ONWARD_DISCLOSURE naming entry %d", errorReason(st), st.Message(), release)
	}
	if len(entries) != 1 || entries[0].Outcome != audit.OutcomeDeny || entries[0].Detail["matches_release"] != itoa(release) {
		t.Errorf("entries = %+v; want one deny entry matching release %d", entries, release)
	}
}

// TestRevisionAfterTheExpiryNoticeMeanwhile: the prison's ReviseExpiry
// read social services' and the police's releases open (probation to
// 2027-03-01), and stalled; meanwhile the timers sent the expiry notices
// (erase for social services, retain for the police: the end came all
// the same). For each, the
// revision does not then say the end moved to 2027-06-01: its entry is
// refused (RELEASE_CLOSED_MEANWHILE), moved false, and the release stays
// ended. Without the fix the revision was logged moved, and its result
// said so, for a release whose recipient had been told to erase it.
func TestRevisionAfterTheExpiryNoticeMeanwhile(t *testing.T) {
	eachStore(t, func(t *testing.T, o stackOptions) {
		ctx := t.Context()
		clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
		o.serverNow = clk.Now
		s := startStack(t, o)
		rec, _ := dkRelease(t, s)
		// Social services must erase; the police may keep the release
		// notice under their retention rule: either way the basis ended.
		d := discloseUnderSupervision(t, s, rec, "2027-03-01", "dk-social-aarhus", "dk-police-aarhus")
		clk.Set(time.Date(2027, 3, 2, 0, 0, 5, 0, time.UTC))
		read, err := s.db.Size(ctx) // the revision read the releases open here
		if err != nil {
			t.Fatal(err)
		}
		if err := s.srv.RunAftercare(ctx); err != nil {
			t.Fatalf("RunAftercare: %v", err)
		}
		exp := entriesOf(t, s, audit.ActionExpire)
		if len(exp) != 2 {
			t.Fatalf("%d expiry notices; want 2", len(exp))
		}
		obligations := map[string]bool{}
		for _, r := range exp {
			obligations[r.Entry.Detail[audit.DetailObligation]] = true
		}
		if !obligations[audit.ObligationErase] || !obligations[audit.ObligationRetain] {
			t.Fatalf("expiry obligations %v; want one erase, one retain", obligations)
		}
		for _, r := range d.GetResults() {
			release := r.GetAuditIndex()
			res, err := s.srv.ReviseReleaseReadAt(ctx, dkPrison.id, &liaisonv1.ReviseExpiryRequest{
				SubjectId: "SYN-DK-0001", Subject: probationAttrs("2027-06-01"), Justification: "Probation extended by the court on 2027-03-01.",
			}, release, read)
			if status.Code(err) != codes.FailedPrecondition || errorReason(status.Convert(err)) != gateway.ReasonReleaseClosedMeanwhile ||
				res.GetMoved() || res.GetValidUntil() != "2027-03-01" {
				t.Errorf("the stalled revision = %v, %v; want FailedPrecondition, %s, not moved", res, err, gateway.ReasonReleaseClosedMeanwhile)
			}
			_, e := s.lastEntry(t)
			if e.Action != audit.ActionReviseExpiry || e.Outcome != audit.OutcomeRefused || e.Detail[audit.DetailMoved] == "true" ||
				!slices.Contains(e.Reasons, gateway.ReasonReleaseClosedMeanwhile) {
				t.Errorf("revision entry = %s %s %v %v; want refused, %s, not moved", e.Action, e.Outcome, e.Reasons, e.Detail, gateway.ReasonReleaseClosedMeanwhile)
			}
		}
	})
}

// failingSigner signs as its inner signer does until failing is set.
type failingSigner struct {
	note.Signer
	failing *atomic.Bool
}

func (f failingSigner) Sign(msg []byte) ([]byte, error) {
	if f.failing.Load() {
		return nil, errors.New("the signer does not answer")
	}
	return f.Signer.Sign(msg)
}

// TestGetReceiptUnsignedIsFailed: a receipt the checkpoint signer cannot
// sign now is UNAVAILABLE, and its one entry says so (outcome failed,
// AUDIT_UNAVAILABLE), not ok: the read was logged ok before the receipt
// was made, so the log said the police got a receipt they never got.
func TestGetReceiptUnsignedIsFailed(t *testing.T) {
	ctx := t.Context()
	var failing atomic.Bool
	s := startStack(t, stackOptions{signer: func(n note.Signer) note.Signer { return failingSigner{n, &failing} }})
	resp, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Planning contact.",
	})
	if err != nil {
		t.Fatal(err)
	}
	release := resp.GetReleased().GetAuditIndex()
	failing.Store(true)
	err, entries := s.grown(t, func() error {
		_, err := aftercare(t, s, nlPolice).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: release})
		return err
	})
	wantStatus(t, err, codes.Unavailable)
	if len(entries) != 1 || entries[0].Action != audit.ActionAuditRead || entries[0].Outcome != audit.OutcomeFailed ||
		!slices.Equal(entries[0].Reasons, []string{"AUDIT_UNAVAILABLE"}) || entries[0].Detail["operation"] != "get_receipt" {
		t.Errorf("an unsigned receipt's entries = %+v; want one audit_read, failed, AUDIT_UNAVAILABLE, operation get_receipt", entries)
	}
	failing.Store(false)
	err, entries = s.grown(t, func() error {
		r, err := aftercare(t, s, nlPolice).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: release})
		if err == nil && r.GetProvenance().GetReceipt() == "" {
			return errors.New("no receipt")
		}
		return err
	})
	if err != nil || len(entries) != 1 || entries[0].Outcome != audit.OutcomeOK {
		t.Errorf("GetReceipt once the signer answers = %v, entries %+v; want a receipt and one ok entry", err, entries)
	}
}
