package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestOnwardDisclosure: the Aarhus police received the prison's release
// notice under § 115 with NO_ONWARD_DISCLOSURE. Passing it to a third
// agency is refused when they name its provenance, and refused as an
// undeclared onward disclosure when they send the same content without
// it (also changed a little); a record of their own goes. In the Dutch
// Safety House case, the police pass what they received on to another
// member, which the conditions allow, and the conditions go with it. The
// fingerprint store holds no identifier and no content.
func TestOnwardDisclosure(t *testing.T) {
	eachStore(t, testOnward)
}

func testOnward(t *testing.T, o stackOptions) {
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
	items := readInbox(t, s, dkPolice, 0)
	if len(items) != 1 {
		t.Fatalf("police inbox = %d items", len(items))
	}
	got := items[0].GetReleased()
	prov := got.GetProvenance()
	if prov.GetAuditIndex() != d.GetResults()[0].GetAuditIndex() || prov.GetReceipt() == "" {
		t.Fatalf("release provenance = %v, want the entry %d and a receipt", prov, d.GetResults()[0].GetAuditIndex())
	}
	police := s.exchange(t, dkPolice)
	onward := func(record *liaisonv1.Record, p *liaisonv1.Provenance, to ...string) (*liaisonv1.DiscloseResponse, error) {
		return police.Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: record, Subject: attrs, Recipients: to, Provenance: p,
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Social services should know of the release.",
		})
	}

	// Declared: the condition refuses it.
	_, err = onward(got.GetRecord(), &liaisonv1.Provenance{AuditIndex: prov.GetAuditIndex()}, "dk-social-aarhus")
	st := wantStatus(t, err, codes.PermissionDenied)
	if errorReason(st) != "ONWARD_DISCLOSURE_PROHIBITED" || !strings.Contains(st.Message(), "dk-prison-east") {
		t.Errorf("declared onward disclosure refused with %q: %s", errorReason(st), st.Message())
	}
	_, e := s.lastEntry(t)
	if e.Outcome != audit.OutcomeDeny || e.Provenance == nil || e.Provenance.Index != prov.GetAuditIndex() ||
		e.Provenance.Holder.Agency != "dk-prison-east" || !slices.Contains(e.Provenance.Conditions, "NO_ONWARD_DISCLOSURE") {
		t.Errorf("entry of the refused onward disclosure = %+v, provenance %+v", e, e.Provenance)
	}

	// Undeclared: the same content, and the same changed a little.
	changed := proto.CloneOf(got.GetRecord())
	changed.GetReleaseNotice().ContactPoint = "Østjyllands Politi, SSP desk"
	changed.GetReleaseNotice().PreviousReleaseDate = "2026-12-16"
	for _, r := range []*liaisonv1.Record{got.GetRecord(), changed} {
		_, err = onward(r, nil, "dk-social-aarhus")
		st = wantStatus(t, err, codes.PermissionDenied)
		if errorReason(st) != "UNDECLARED_ONWARD_DISCLOSURE" || !strings.Contains(st.Message(), fmt.Sprintf("entry %d", prov.GetAuditIndex())) {
			t.Errorf("undeclared onward disclosure refused with %q: %s", errorReason(st), st.Message())
		}
		if _, e := s.lastEntry(t); e.Outcome != audit.OutcomeDeny || !slices.Equal(e.Reasons, []string{"UNDECLARED_ONWARD_DISCLOSURE"}) ||
			e.Detail["matches_release"] != itoa(prov.GetAuditIndex()) || e.PolicyRevision != "" {
			t.Errorf("entry of the undeclared onward disclosure = %s %v %v", e.Outcome, e.Reasons, e.Detail)
		}
	}
	// A provenance that is not the police's own release is refused.
	_, err = onward(got.GetRecord(), &liaisonv1.Provenance{AuditIndex: 0}, "dk-social-aarhus")
	if prov.GetAuditIndex() != 0 {
		wantStatus(t, err, codes.InvalidArgument)
	}
	_, err = onward(got.GetRecord(), &liaisonv1.Provenance{AuditIndex: 9999}, "dk-social-aarhus")
	wantStatus(t, err, codes.InvalidArgument)

	// The police's own observation goes, under § 115.
	own := &liaisonv1.Record{Body: &liaisonv1.Record_PoliceObservation{PoliceObservation: &liaisonv1.PoliceObservation{
		Subject: &liaisonv1.Person{SubjectId: "SYN-DK-0001"}, ObservedOn: "2026-11-20", Grading: "B2",
		ReportingUnit: "Østjyllands Politi, Forebyggelse", Description: "Seen at the youth club with his mentor.",
	}}}
	if r, err := onward(own, nil, "dk-social-aarhus"); err != nil || r.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Errorf("the police's own observation = %v, %v; want it disclosed", r, err)
	}
	// Back to the prison it may go, naming where it came from.
	back, err := onward(got.GetRecord(), &liaisonv1.Provenance{AuditIndex: prov.GetAuditIndex()}, "dk-prison-east")
	if err != nil || back.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Errorf("back to the prison = %v, %v", back, err)
	}
	// Once the prison has withdrawn it, it goes nowhere, named or not.
	if _, err := aftercare(t, s, dkPrison).Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001",
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Justification: "Wrong release date."}); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	_, err = onward(got.GetRecord(), &liaisonv1.Provenance{AuditIndex: prov.GetAuditIndex()}, "dk-prison-east")
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "PROVENANCE_WITHDRAWN" {
		t.Errorf("a withdrawn release passed on: reason %q (%s)", errorReason(st), st.Message())
	}
	if _, e := s.lastEntry(t); e.Outcome != audit.OutcomeRefused || !slices.Equal(e.Reasons, []string{"PROVENANCE_WITHDRAWN"}) {
		t.Errorf("entry of the refused onward disclosure = %s %v", e.Outcome, e.Reasons)
	}

	// The Dutch Safety House case: probation shares its risk assessment
	// with the police in the case; the police bring it into the case plan
	// they send the municipality, naming where it came from.
	fx := s.fx
	ra, nlAttrs, _ := fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
	const caseID = "NL-ZVH-RTM-0042"
	dn, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: ra, Subject: nlAttrs, Recipients: []string{"nl-police-rotterdam"}, CaseId: caseID,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case consultation.",
	})
	if err != nil || dn.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("probation to police in the case = %v, %v", dn, err)
	}
	nlItems := readInbox(t, s, nlPolice, 0)
	if len(nlItems) != 1 {
		t.Fatalf("Dutch police inbox = %d items", len(nlItems))
	}
	received := nlItems[0].GetReleased()
	plan := &liaisonv1.Record{Body: &liaisonv1.Record_CasePlan{CasePlan: &liaisonv1.CasePlan{
		Subject: &liaisonv1.Person{SubjectId: "SYN-NL-0001"}, CaseId: caseID, LeadAgency: "nl-municipality-rotterdam",
		MemberAgencies: []string{"nl-police-rotterdam", "nl-probation", "nl-municipality-rotterdam"},
		Measures:       []*liaisonv1.CaseMeasure{{Description: "Weekly contact with the mentor, as probation's assessment advises", OwnerAgency: "nl-municipality-rotterdam"}},
	}}}
	nlOnward := func(to string) (*liaisonv1.DiscloseResponse, error) {
		return s.exchange(t, nlPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: plan, Subject: nlAttrs, Recipients: []string{to}, CaseId: caseID,
			Provenance: &liaisonv1.Provenance{AuditIndex: received.GetProvenance().GetAuditIndex()},
			Purpose:    liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "The plan agreed in the consultation.",
		})
	}
	ok, err := nlOnward("nl-municipality-rotterdam")
	if err != nil {
		t.Fatalf("onward within the case: %v", err)
	}
	r0 := ok.GetResults()[0]
	for _, c := range received.GetConditions() {
		if !slices.Contains(r0.GetConditions(), c) {
			t.Errorf("onward conditions %v lack %s, which the record came with", r0.GetConditions(), c)
		}
	}
	if r0.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE || !slices.Contains(r0.GetConditions(), "LED_ART7_ASSESSMENT_NOT_FACT") {
		t.Errorf("onward within the case = %v; want disclosed, carrying LED_ART7_ASSESSMENT_NOT_FACT from the assessment", r0)
	}
	city := readInbox(t, s, nlCity, 0)
	if len(city) != 1 || !slices.Equal(city[0].GetReleased().GetConditions(), r0.GetConditions()) {
		t.Errorf("municipality inbox = %v, want the plan with the conditions %v", city, r0.GetConditions())
	}
	if e := s.entry(t, r0.GetAuditIndex()); e.Provenance == nil || e.Provenance.Index != received.GetProvenance().GetAuditIndex() || e.Provenance.CaseID != caseID {
		t.Errorf("onward entry provenance = %+v", e.Provenance)
	}
	_, err = nlOnward("nl-ngo-exit")
	if r := errorReason(wantStatus(t, err, codes.PermissionDenied)); r != "ONWARD_DISCLOSURE_PROHIBITED" && r != "OUTSIDE_THE_CASE" {
		t.Errorf("onward outside the case refused with %q", r)
	}

	// The same assessment received twice: passing it on, naming either
	// release, is declared (the other release carries nothing more).
	again, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: ra, Subject: nlAttrs, Recipients: []string{"nl-police-rotterdam"}, CaseId: caseID,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "Again, for the second consultation.",
	})
	if err != nil || again.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("probation to police again = %v, %v", again, err)
	}
	for _, from := range []int64{received.GetProvenance().GetAuditIndex(), again.GetResults()[0].GetAuditIndex()} {
		r, err := s.exchange(t, nlPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: received.GetRecord(), Subject: nlAttrs, Recipients: []string{"nl-municipality-rotterdam"}, CaseId: caseID,
			Provenance: &liaisonv1.Provenance{AuditIndex: from},
			Purpose:    liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "The assessment for the measure plan.",
		})
		if err != nil || r.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
			t.Errorf("the assessment passed on, naming entry %d = %v, %v", from, r, err)
		}
	}

	// A holder's system that serves, to a Request, content the holder
	// received through the gateway is caught too: here the Danish prison
	// sent the Dutch probation service the assessment its own system holds.
	if r, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: ra, Subject: nlAttrs, Recipients: []string{"nl-probation"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Moves to Rotterdam.",
	}); err != nil || r.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("prison to Dutch probation = %v, %v", r, err)
	}
	_, err = s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Planning contact.",
	})
	st = wantStatus(t, err, codes.PermissionDenied)
	// The message tells the requester what the holder could do: a
	// Request names no provenance.
	if errorReason(st) != "UNDECLARED_ONWARD_DISCLOSURE" || !strings.Contains(st.Message(), "nl-probation received") ||
		!strings.Contains(st.Message(), "not in answer to a Request") {
		t.Errorf("Request of received content refused with %q: %s", errorReason(st), st.Message())
	}
	if _, e := s.lastEntry(t); e.Action != "request" || e.Outcome != audit.OutcomeDeny || !slices.Equal(e.Reasons, []string{"UNDECLARED_ONWARD_DISCLOSURE"}) {
		t.Errorf("entry of the refused request = %s %s %v", e.Action, e.Outcome, e.Reasons)
	}

	scanFingerprints(t, s, o, []proto.Message{rec, ra, plan, changed, own})
}

// scanFingerprints reads every row of the fingerprint store, as an
// administrator of the database could, and fails if any column holds a
// subject's identifier, a value of the records released (at least four
// characters long), or an unkeyed SHA-256 of one.
func scanFingerprints(t *testing.T, s *stack, o stackOptions, records []proto.Message) {
	t.Helper()
	var rows [][][]byte
	const q = "SELECT recipient, fp, request_id, after_idx, audit_idx FROM aftercare_fingerprints"
	if o.postgresURL != "" {
		conn, err := pgx.Connect(t.Context(), o.postgresURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.WithoutCancel(t.Context()))
		rs, err := conn.Query(t.Context(), "SELECT recipient, fp, request_id, after_idx::text, coalesce(audit_idx::text, '') FROM aftercare_fingerprints")
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var a, c, d, e string
			var b []byte
			if err := rs.Scan(&a, &b, &c, &d, &e); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, [][]byte{[]byte(a), b, []byte(c), []byte(d), []byte(e)})
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
	} else {
		db, err := sql.Open("sqlite", "file:"+s.dbPath+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rs, err := db.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var a, c string
			var b []byte
			var d int64
			var e sql.NullInt64
			if err := rs.Scan(&a, &b, &c, &d, &e); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, [][]byte{[]byte(a), b, []byte(c), fmt.Append(nil, d), fmt.Append(nil, e.Int64)})
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(rows) < 10 {
		t.Fatalf("the fingerprint store holds %d rows; the releases should have left more", len(rows))
	}
	var secrets []string
	for _, m := range records {
		collectStrings(m.ProtoReflect(), &secrets)
	}
	// Agency and case ids name the parties, which the store must name; they
	// are not about the person.
	secrets = slices.DeleteFunc(secrets, func(v string) bool {
		return v == "NL-ZVH-RTM-0042" || slices.ContainsFunc(sample.SampleAgencies, func(a sample.SampleAgency) bool { return a.ID == v })
	})
	secrets = append(secrets, "SYN-DK-0001", "SYN-NL-0001")
	forbidden := map[[32]byte]string{}
	for _, v := range secrets {
		forbidden[sha256.Sum256([]byte(v))] = v
	}
	checked, found := 0, 0
	for _, row := range rows {
		for _, col := range row {
			for _, v := range secrets {
				if len(v) >= 4 && bytes.Contains(col, []byte(v)) {
					t.Errorf("the fingerprint store holds %q", v)
					found++
				}
			}
			if len(col) == 32 {
				if v, ok := forbidden[[32]byte(col)]; ok {
					t.Errorf("the fingerprint store holds an unkeyed hash of %q", v)
					found++
				}
			}
			checked++
		}
	}
	t.Logf("scanned %d fingerprint rows (%d values) for %d identifiers and record values: %d found", len(rows), checked, len(secrets), found)
}

// collectStrings gathers every string value of a message, at any depth.
func collectStrings(m protoreflect.Message, out *[]string) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				collectStrings(v.List().Get(i).Message(), out)
			}
		case fd.IsList() && fd.Kind() == protoreflect.StringKind:
			for i := range v.List().Len() {
				*out = append(*out, v.List().Get(i).String())
			}
		case fd.Message() != nil:
			collectStrings(v.Message(), out)
		case fd.Kind() == protoreflect.StringKind:
			*out = append(*out, v.String())
		}
		return true
	})
}

// TestNotifyPassesOnNoReceivedRecord: a Notify states a fact its caller
// holds. The Aarhus police received the prison's release notice with
// NO_ONWARD_DISCLOSURE; sending the same record to social services as a
// notice of the release date is an undeclared onward disclosure, refused
// as a Disclose of it without provenance is (one deny entry, nothing
// delivered). Without the fix the notice went, with the prison's
// conditions copied onto a release the prison never made.
func TestNotifyPassesOnNoReceivedRecord(t *testing.T) {
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
	got := readInbox(t, s, dkPolice, 0)[0].GetReleased()
	before := len(readInbox(t, s, dkSocial, 0))
	err, entries := s.grown(t, func() error {
		_, err := s.exchange(t, dkPolice).Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET, Record: got.GetRecord(), Subject: attrs,
			Recipients: []string{"dk-social-aarhus"}, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Social services should know of the release.",
		})
		return err
	})
	st := wantStatus(t, err, codes.PermissionDenied)
	release := d.GetResults()[0].GetAuditIndex()
	if errorReason(st) != "UNDECLARED_ONWARD_DISCLOSURE" || !strings.Contains(st.Message(), fmt.Sprintf("entry %d", release)) {
		t.Errorf("Notify of a received record: %s (%s); want UNDECLARED_ONWARD_DISCLOSURE naming entry %d", st.Message(), errorReason(st), release)
	}
	if len(entries) != 1 || entries[0].Action != "notify" || entries[0].Outcome != audit.OutcomeDeny ||
		!slices.Equal(entries[0].Reasons, []string{"UNDECLARED_ONWARD_DISCLOSURE"}) || entries[0].Detail["matches_release"] != itoa(release) {
		t.Errorf("entries = %+v; want one notify entry, deny UNDECLARED_ONWARD_DISCLOSURE matching %d", entries, release)
	}
	if n := len(readInbox(t, s, dkSocial, 0)); n != before {
		t.Errorf("social services' inbox grew by %d items, want none", n-before)
	}
}

// TestReceiptVerifiesOffline: a recipient checks the receipt of what it
// received with docs/receipt, a program that uses only note and tlog, and
// the gateway's verifier key; a changed release fails. A Request's answer
// carries a receipt too, and GetReceipt gives a fresh one.
func TestReceiptVerifiesOffline(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{})
	_, vkey, err := audit.LoadOrCreateSignerKey(filepath.Join(filepath.Dir(s.dbPath), "audit.key"), "test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	rec, attrs := dkRelease(t, s)
	for range 5 { // a log of some size, so that the inclusion proof has hashes to check
		if _, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks.",
		}); err != nil {
			t.Fatal(err)
		}
	}
	rel := readInbox(t, s, dkPolice, 0)[2].GetReleased()
	if len(rel.GetProvenance().GetInclusionProof()) == 0 {
		t.Fatalf("provenance of entry %d has no inclusion proof: %v", rel.GetAuditIndex(), rel.GetProvenance())
	}
	dir := t.TempDir()
	writeReceipt(t, dir, rel)
	out, err := exec.Command("go", "run", "../docs/receipt", "-key", vkey, "-recipient", "dk-police-aarhus", dir).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "OK: entry") {
		t.Fatalf("docs/receipt = %v\n%s", err, out)
	}
	t.Logf("docs/receipt: %s", out)
	if e := s.entry(t, rel.GetAuditIndex()); e.Detail[audit.DetailReleasedDigest] != rel.GetProvenance().GetReleasedDigest() {
		t.Errorf("entry digest %q, provenance digest %q", e.Detail[audit.DetailReleasedDigest], rel.GetProvenance().GetReleasedDigest())
	}

	// A changed release, another recipient, another key: each fails.
	forged := proto.CloneOf(rel)
	forged.GetRecord().GetReleaseNotice().ReleaseDate = "2027-06-30"
	writeReceipt(t, dir, forged)
	if out, err := exec.Command("go", "run", "../docs/receipt", "-key", vkey, dir).CombinedOutput(); err == nil {
		t.Errorf("docs/receipt accepted a changed release:\n%s", out)
	}
	writeReceipt(t, dir, rel)
	if out, err := exec.Command("go", "run", "../docs/receipt", "-key", vkey, "-recipient", "dk-social-aarhus", dir).CombinedOutput(); err == nil {
		t.Errorf("docs/receipt accepted the receipt for another recipient:\n%s", out)
	}
	_, otherKey, _ := audit.GenerateSignerKey("test.liaison")
	if out, err := exec.Command("go", "run", "../docs/receipt", "-key", otherKey, dir).CombinedOutput(); err == nil {
		t.Errorf("docs/receipt accepted another key:\n%s", out)
	}

	// Request: the answer's receipt, checked in process.
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Planning contact.",
	})
	if err != nil {
		t.Fatal(err)
	}
	checkProvenance(t, resp.GetReleased(), "nl-police-rotterdam", v)
	fresh, err := aftercare(t, s, nlPolice).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: resp.GetReleased().GetAuditIndex()})
	if err != nil {
		t.Fatal(err)
	}
	r2 := proto.CloneOf(resp.GetReleased())
	r2.Provenance = fresh.GetProvenance()
	checkProvenance(t, r2, "nl-police-rotterdam", v)
	_, err = aftercare(t, s, dkPolice).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: resp.GetReleased().GetAuditIndex()})
	wantStatus(t, err, codes.InvalidArgument) // not a release to the Danish police
}

// writeReceipt writes what came with a release as docs/receipt reads it.
func writeReceipt(t *testing.T, dir string, rel *liaisonv1.Released) {
	t.Helper()
	p := rel.GetProvenance()
	var proof strings.Builder
	for _, h := range p.GetInclusionProof() {
		fmt.Fprintln(&proof, base64.StdEncoding.EncodeToString(h))
	}
	c := proto.CloneOf(rel)
	c.AuditIndex, c.Provenance = 0, nil
	released, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"receipt": []byte(p.GetReceipt()), "checkpoint": []byte(p.GetCheckpoint()),
		"proof": []byte(proof.String()), "released": released} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkProvenance verifies a release's receipt with the audit package.
func checkProvenance(t *testing.T, rel *liaisonv1.Released, recipient string, v note.Verifier) {
	t.Helper()
	p := rel.GetProvenance()
	var proof tlog.RecordProof
	for _, h := range p.GetInclusionProof() {
		proof = append(proof, tlog.Hash(h))
	}
	b, err := audit.VerifyReceipt([]byte(p.GetReceipt()), []byte(p.GetCheckpoint()), proof, v)
	if err != nil {
		t.Fatalf("VerifyReceipt = %v", err)
	}
	c := proto.CloneOf(rel)
	c.AuditIndex, c.Provenance = 0, nil
	raw, _ := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	sum := sha256.Sum256(raw)
	if b.Index != rel.GetAuditIndex() || b.Recipient != recipient || b.Digest != fmt.Sprintf("sha256:%x", sum) || b.Digest != p.GetReleasedDigest() {
		t.Errorf("receipt = %+v, want index %d, recipient %s, digest of the release", b, rel.GetAuditIndex(), recipient)
	}
}

// TestCorrectionsAlongTheChain: in the Dutch Safety House case, probation
// gave the police its risk assessment, and the police passed it on in the
// case plan they sent the municipality. When probation corrects the
// assessment, the police's notice names that onward release, and their
// correction of it goes out with the conditions of the corrected
// assessment; when probation withdraws it, the police's notice names
// their correction, and correcting it again sends the municipality a
// withdrawal. A correction that failed for a recipient closes nothing.
func TestCorrectionsAlongTheChain(t *testing.T) {
	eachStore(t, testCorrectionChain)
}

func testCorrectionChain(t *testing.T, o stackOptions) {
	ctx := t.Context()
	o.serverNow = newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now
	s := startStack(t, o)
	fx := s.fx
	ra, attrs, _ := fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
	const caseID = "NL-ZVH-RTM-0042"
	d, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: ra, Subject: attrs, Recipients: []string{"nl-police-rotterdam"}, CaseId: caseID,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case consultation.",
	})
	if err != nil || d.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("probation to police = %v, %v", d, err)
	}
	p := d.GetResults()[0].GetAuditIndex()
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
		t.Fatalf("police to municipality = %v, %v", x, err)
	}
	onward := x.GetResults()[0].GetAuditIndex()

	// A correction that failed for the police, as the gateway records one
	// when the keys are unavailable: it reached nobody and closes nothing.
	failed := s.entry(t, p)
	failed.Action, failed.Outcome, failed.Reasons, failed.RequestID = audit.ActionCorrect, audit.OutcomeFailed, []string{"KEYS_UNAVAILABLE"}, "test-failed-correction"
	failed.Time = s.entry(t, p).Time.Add(time.Minute)
	failed.FieldsDisclosed, failed.FieldPlan = nil, nil
	failed.Detail = map[string]string{audit.DetailNoticeKind: audit.NoticeCorrection, audit.DetailRefersTo: itoa(p),
		audit.DetailReason: "CORRECTED", audit.DetailObligation: audit.ObligationRectify}
	if _, err := s.log.Append(ctx, failed); err != nil {
		t.Fatal(err)
	}

	// Probation corrects the assessment twice before the police act.
	prob := aftercare(t, s, nlProb)
	correct := func(level liaisonv1.RiskLevel) *liaisonv1.NoticeResult {
		t.Helper()
		c := proto.CloneOf(ra)
		c.GetRiskAssessment().Level = level
		r, err := prob.Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Justification: "The level was mistyped."})
		if err != nil || len(r.GetResults()) != 1 || r.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
			t.Fatalf("probation's correction = %v, %v; want one correction, to the police", r, err)
		}
		return r.GetResults()[0]
	}
	policeNotice := func(index int64) *liaisonv1.ObligationNotice {
		t.Helper()
		for _, it := range readInbox(t, s, nlPolice, 0) {
			if n := it.GetObligation(); n.GetAuditIndex() == index {
				return n
			}
		}
		t.Fatalf("the police's inbox holds no notice %d", index)
		return nil
	}
	q1 := correct(liaisonv1.RiskLevel_RISK_LEVEL_MODERATE)
	if q1.GetRefersTo() != p {
		t.Errorf("the first correction refers to %d, want %d (the failed one closed nothing)", q1.GetRefersTo(), p)
	}
	// Each notice names the plan's release. The first is read before the
	// second supersedes it (and withdraws it from the inbox unread).
	namesPlan := func(q *liaisonv1.NoticeResult) {
		t.Helper()
		n := policeNotice(q.GetAuditIndex())
		if !slices.Equal(n.GetPassedOn(), []int64{onward}) || !strings.Contains(n.GetMessage(), fmt.Sprintf("You passed it on (entry %d): correct or withdraw", onward)) {
			t.Errorf("notice %d passed_on %v, message %q; want the plan's release %d", q.GetAuditIndex(), n.GetPassedOn(), n.GetMessage(), onward)
		}
	}
	namesPlan(q1)
	q2 := correct(liaisonv1.RiskLevel_RISK_LEVEL_LOW)
	namesPlan(q2)
	// Done means passed on too: the police cannot say so before.
	police := aftercare(t, s, nlPolice)
	ack := func() error {
		_, err := police.AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: q2.GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY})
		return err
	}
	if st := wantStatus(t, ack(), codes.FailedPrecondition); errorReason(st) != "PASSED_ON_NOT_CORRECTED" ||
		!strings.Contains(st.Message(), fmt.Sprintf("(entry %d)", onward)) {
		t.Errorf("acknowledged before passing it on: %q %s", errorReason(st), st.Message())
	}
	if _, e := s.lastEntry(t); e.Action != audit.ActionAcknowledgeNotice || e.Outcome == audit.OutcomeOK {
		t.Errorf("entry of the refused acknowledgement = %s %s", e.Action, e.Outcome)
	}

	// The police correct the plan: it goes under the latest correction.
	plan2 := proto.CloneOf(plan)
	plan2.GetCasePlan().Measures[0].Description = "Monthly contact with the mentor, as probation's corrected assessment advises"
	pc, err := police.Correct(ctx, &liaisonv1.CorrectRequest{Record: plan2, Corrects: []int64{onward}, Justification: "Probation corrected the assessment."})
	if err != nil || len(pc.GetResults()) != 1 || pc.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("the police's correction = %v, %v", pc, err)
	}
	y := pc.GetResults()[0].GetAuditIndex()
	ey := s.entry(t, y)
	if ey.Provenance == nil || ey.Provenance.Index != q2.GetAuditIndex() || ey.Provenance.Holder.Agency != "nl-probation" ||
		!slices.Contains(ey.Conditions, "LED_ART7_ASSESSMENT_NOT_FACT") {
		t.Errorf("the police's correction: provenance %+v, conditions %v; want entry %d, with LED_ART7_ASSESSMENT_NOT_FACT",
			ey.Provenance, ey.Conditions, q2.GetAuditIndex())
	}
	var got *liaisonv1.SubscribeResponse
	for _, it := range readInbox(t, s, nlCity, 0) {
		if it.GetObligation().GetAuditIndex() == y {
			got = it
		}
	}
	if got.GetObligation().GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION ||
		!slices.Contains(got.GetReleased().GetConditions(), "LED_ART7_ASSESSMENT_NOT_FACT") || len(got.GetObligation().GetPassedOn()) != 0 {
		t.Errorf("the municipality's notice = %v", got)
	}
	if err := ack(); err != nil {
		t.Errorf("acknowledged once passed on: %v", err)
	}

	// Probation withdraws the assessment: the police's notice names their
	// correction, the open release of what they passed on.
	w, err := prob.Withdraw(ctx, &liaisonv1.WithdrawRequest{SubjectId: "SYN-NL-0001", Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT,
		Justification: "The assessment was of another person."})
	if err != nil || len(w.GetResults()) != 1 || w.GetResults()[0].GetRefersTo() != q2.GetAuditIndex() {
		t.Fatalf("probation's withdrawal = %v, %v; want one, of entry %d", w, err, q2.GetAuditIndex())
	}
	n := policeNotice(w.GetResults()[0].GetAuditIndex())
	if !slices.Equal(n.GetPassedOn(), []int64{y}) || !strings.Contains(n.GetMessage(), fmt.Sprintf("You passed it on (entry %d): withdraw", y)) {
		t.Errorf("withdrawal notice passed_on %v, message %q; want %d", n.GetPassedOn(), n.GetMessage(), y)
	}
	ackWithdrawal := func() error {
		_, err := police.AcknowledgeNotice(ctx, &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: w.GetResults()[0].GetAuditIndex(),
			Done: liaisonv1.Obligation_OBLIGATION_ERASE})
		return err
	}
	if st := wantStatus(t, ackWithdrawal(), codes.FailedPrecondition); errorReason(st) != "PASSED_ON_NOT_CORRECTED" {
		t.Errorf("erasure acknowledged before the correction passed on was withdrawn: %q", errorReason(st))
	}
	// Correcting it again now withdraws it: its source is gone.
	pc, err = police.Correct(ctx, &liaisonv1.CorrectRequest{Record: plan2, Justification: "Probation withdrew the assessment."})
	if err != nil || len(pc.GetResults()) != 1 {
		t.Fatalf("the police's second correction = %v, %v", pc, err)
	}
	r := pc.GetResults()[0]
	if r.GetRefersTo() != y || r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL || !slices.Equal(r.GetReasons(), []string{"SOURCE_WITHDRAWN"}) {
		t.Errorf("the police's second correction = %v; want a withdrawal of %d, SOURCE_WITHDRAWN", r, y)
	}
	if e := s.entry(t, r.GetAuditIndex()); e.Outcome != audit.OutcomeOK || e.Provenance != nil || e.Detail[audit.DetailReason] != "SOURCE_WITHDRAWN" {
		t.Errorf("its entry = %s %v %+v", e.Outcome, e.Detail, e.Provenance)
	}
	// Passed on: the police may now confirm they erased it.
	if err := ackWithdrawal(); err != nil {
		t.Errorf("acknowledging the withdrawal once passed on: %v", err)
	}
}

// TestOnwardUseAfterTheEndMoved: the Aarhus police received two release
// notices from the prison under the basis that ends with the probation,
// on 2027-03-01; they may pass them back to the prison (NO_ONWARD_DISCLOSURE
// lets a record go back to its source) while that basis lasts. The
// probation of one person turns out to have ended on 2027-02-10: once the
// prison has revised it, that record goes nowhere, before and after the
// expiry notice. The other person's probation is extended to 2027-06-01,
// then to 2027-09-01, which the prison's correction of the notice
// carries: the record goes back after 2027-03-01 and after 2027-06-01,
// named by the release the police first received. The onward rules read the basis's end as it
// stands now, not as the release recorded it.
func TestOnwardUseAfterTheEndMoved(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	extended, _ := dkRelease(t, s)
	cut := proto.CloneOf(extended)
	cut.GetReleaseNotice().GetSubject().SubjectId = "SYN-DK-0002"
	pExt := discloseUnderSupervision(t, s, extended, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()
	pCut := discloseUnderSupervision(t, s, cut, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()
	prison := aftercare(t, s, dkPrison)
	revise := func(id, until string) {
		t.Helper()
		rv, err := prison.ReviseExpiry(ctx, &liaisonv1.ReviseExpiryRequest{SubjectId: id, Subject: probationAttrs(until),
			Justification: "The court changed the probation."})
		if err != nil || len(rv.GetReleases()) != 1 || !rv.GetReleases()[0].GetMoved() || rv.GetReleases()[0].GetValidUntil() != until {
			t.Fatalf("ReviseExpiry(%s, %s) = %v, %v; want the one open release moved", id, until, rv, err)
		}
	}
	back := func(rec *liaisonv1.Record, from int64, until string) (*liaisonv1.DiscloseResponse, error) {
		rec = proto.CloneOf(rec)
		rec.GetReleaseNotice().ProbationUntil = until // the record states the probation as it stands
		return s.exchange(t, dkPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: probationAttrs(until), Recipients: []string{"dk-prison-east"}, Provenance: &liaisonv1.Provenance{AuditIndex: from},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "The prison should see what we hold.",
		})
	}
	wantEnded := func(err error, until string) {
		t.Helper()
		if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "PROVENANCE_BASIS_ENDED" || !strings.Contains(st.Message(), "ended on "+until) {
			t.Errorf("passed back after the basis ended on %s: %q %s", until, errorReason(st), st.Message())
		}
		if _, e := s.lastEntry(t); e.Provenance == nil || e.Provenance.ValidUntil != until {
			t.Errorf("entry of the refusal: provenance %+v, want valid until %s", e.Provenance, until)
		}
	}
	wantBack := func(r *liaisonv1.DiscloseResponse, err error, from int64, until string) {
		t.Helper()
		if err != nil || r.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
			t.Fatalf("passed back within the basis (until %s) = %v, %v", until, r, err)
		}
		if e := s.entry(t, r.GetResults()[0].GetAuditIndex()); e.Provenance == nil || e.Provenance.Index != from ||
			e.Provenance.ValidUntil != until || e.Provenance.LegalBasis != supervisionBasis {
			t.Errorf("onward entry provenance = %+v; want entry %d, %s until %s", e.Provenance, from, supervisionBasis, until)
		}
	}

	// Cut short, learnt afterwards: the end moves back into the past.
	clk.Set(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	revise("SYN-DK-0002", "2027-02-10")
	_, err := back(cut, pCut, "2027-03-01")
	wantEnded(err, "2027-02-10")
	// Extended: the end moves on.
	revise("SYN-DK-0001", "2027-06-01")

	clk.Set(time.Date(2027, 4, 1, 9, 0, 0, 0, time.UTC))
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	if exp := entriesOf(t, s, audit.ActionExpire); len(exp) != 1 || exp[0].Entry.Detail[audit.DetailRefersTo] != itoa(pCut) {
		t.Fatalf("expiry notices = %+v, want one, for entry %d", exp, pCut)
	}
	_, err = back(cut, pCut, "2027-03-01")
	wantEnded(err, "2027-02-10")
	r, err := back(extended, pExt, "2027-06-01")
	wantBack(r, err, pExt, "2027-06-01")

	// The probation is extended again, and the prison corrects the notice
	// with the new date: the correction's end is what the police hold the
	// record under now, whichever release they name.
	corrected := proto.CloneOf(extended)
	corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Aarhus, afdeling Nord"
	corrected.GetReleaseNotice().ProbationUntil = "2027-09-01" // as the attributes say
	c, err := prison.Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Subject: probationAttrs("2027-09-01"),
		Justification: "The contact point was wrong; the probation now runs to 2027-09-01."})
	if err != nil || len(c.GetResults()) != 1 || c.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("Correct = %v, %v; want one correction", c, err)
	}
	clk.Set(time.Date(2027, 7, 1, 9, 0, 0, 0, time.UTC))
	r, err = back(corrected, pExt, "2027-09-01")
	wantBack(r, err, pExt, "2027-09-01")
}

// TestCorrectionInAStoredCase: a release made in a case the Cases service
// manages is corrected as a disclose in that case, as it is today; once
// the case is closed, no exchange rests on it, and the correction becomes
// a withdrawal.
func TestCorrectionInAStoredCase(t *testing.T) {
	ctx := t.Context()
	s := startStack(t, stackOptions{serverNow: newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)).Now})
	const id = "NL-ZVH-RTM-0777"
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001", Subject: nlSubject(),
		Justification: "Return to Rotterdam."}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []officer{nlPolice, nlProb} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: "Needed in the case."}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.cases(t, o).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
			t.Fatal(err)
		}
	}
	fx := s.fx
	ra, attrs, _ := fx.Record("nl-probation", "SYN-NL-0001", liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT)
	d, err := s.exchange(t, nlProb).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: ra, Subject: attrs, Recipients: []string{"nl-police-rotterdam"}, CaseId: id,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "For the case consultation.",
	})
	if err != nil || d.GetResults()[0].GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Fatalf("probation to police in the case = %v, %v", d, err)
	}
	correct := func() *liaisonv1.NoticeResult {
		t.Helper()
		c := proto.CloneOf(ra)
		c.GetRiskAssessment().Level = liaisonv1.RiskLevel_RISK_LEVEL_LOW
		r, err := aftercare(t, s, nlProb).Correct(ctx, &liaisonv1.CorrectRequest{Record: c, Justification: "The level was mistyped."})
		if err != nil || len(r.GetResults()) != 1 {
			t.Fatalf("correction = %v, %v", r, err)
		}
		return r.GetResults()[0]
	}
	r := correct()
	if r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION || r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DISCLOSE {
		t.Errorf("correction in the open case = %v; want the corrected record, in full", r)
	}
	if e := s.entry(t, r.GetAuditIndex()); e.Case == nil || e.Case.ID != id || e.LegalBasis == nil || e.LegalBasis.ID != "nl.zvh.casusoverleg" {
		t.Errorf("its entry: case %+v, basis %+v", e.Case, e.LegalBasis)
	}
	if _, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "Settled."}); err != nil {
		t.Fatal(err)
	}
	if r := correct(); r.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL || !slices.Contains(r.GetReasons(), "CORRECTION_NOT_ALLOWED") {
		t.Errorf("correction after the case closed = %v; want a withdrawal, CORRECTION_NOT_ALLOWED", r)
	}
}
