package gateway_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// TestAccessReportOverGRPC calls Audit.AccessReport as any client could,
// with a plain gRPC client over TLS, not the command line: the server
// applies the LED Art. 15 restriction and the officer rule itself, and
// lists exactly the real releases.
func TestAccessReportOverGRPC(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	const anna, bert = "SYN-NL-0001", "SYN-NL-9999" // bert: no holder knows him
	apsn := func(id string) string {
		p, err := s.keys.AuditPseudonym(pseudonym.SubjectID(id))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	appendEntry := func(subject, outcome string, edit ...func(*audit.Entry)) int64 {
		t.Helper()
		e := &audit.Entry{
			Time: time.Now(), Action: "disclose", RequestID: "test-" + outcome,
			Requester:  &audit.Requester{Agency: "dk-prison-east", Officer: "kf.release.coordinator"},
			Holder:     &audit.Party{Agency: "dk-prison-east"},
			Recipients: []audit.Party{{Agency: "dk-police-aarhus"}},
			Subject:    &audit.Subject{Pseudonym: apsn(subject)},
			RecordType: "release_notice", Purpose: "risk_management", Outcome: outcome,
			LegalBasis: &audit.LegalBasis{ID: "dk.rpl.115.stk1.nr3", Citation: "Retsplejeloven § 115, stk. 1, nr. 3"},
		}
		for _, f := range edit {
			f(e)
		}
		idx, err := s.log.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}

	// Anna: one real exchange, pseudonymised, and entries of every outcome.
	if _, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: anna,
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Risk review before the release.",
	}); err != nil {
		t.Fatal(err)
	}
	exchanged, _ := s.lastEntry(t)
	want := []int64{exchanged}
	for _, o := range audit.Outcomes {
		idx := appendEntry(anna, o)
		if audit.Released(o) {
			want = append(want, idx)
		}
	}
	restricted := appendEntry(anna, audit.OutcomeDisclose, func(e *audit.Entry) {
		e.Conditions = []string{"NO_ONWARD_DISCLOSURE", "LED_ART15_RESTRICTED"}
		e.Recipients = []audit.Party{{Agency: "dk-intelligence"}}
	})

	// Bert: the holder does not know him; his only requests end NotFound.
	for range 2 {
		_, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: bert,
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Is he known to probation?",
		})
		wantStatus(t, err, codes.NotFound)
		if _, e := s.lastEntry(t); e.Subject == nil || e.Subject.Pseudonym != apsn(bert) {
			t.Fatalf("the NotFound request left no entry about the subject: %+v", e)
		}
	}
	appendEntry(bert, audit.OutcomeNotFound)

	_, err := liaisonv1.NewAuditClient(s.conn(t, nlPolice)).AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: anna})
	wantStatus(t, err, codes.PermissionDenied)

	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	_, err = ac.AccessReport(ctx, &liaisonv1.AccessReportRequest{})
	if badField(wantStatus(t, err, codes.InvalidArgument)) != "subject_id" {
		t.Errorf("AccessReport without a subject: %v, want a violation of subject_id", err)
	}

	resp, err := ac.AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: anna})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, d := range resp.GetDisclosures() {
		got = append(got, d.GetIndex())
		if d.GetOfficer() != "" {
			t.Errorf("disclosure %d names officer %q; officers are withheld by default (C-579/21)", d.GetIndex(), d.GetOfficer())
		}
		if slices.Contains(d.GetRecipients(), "dk-intelligence") {
			t.Errorf("the report shows the restricted disclosure %d", d.GetIndex())
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("report lists entries %v, want exactly the real, unrestricted releases %v (restricted: %d)", got, want, restricted)
	}
	if !resp.GetOfficersWithheld() || resp.GetSubjectPseudonym() != apsn(anna) {
		t.Errorf("report = officers withheld %v, pseudonym %q", resp.GetOfficersWithheld(), resp.GetSubjectPseudonym())
	}
	first := resp.GetDisclosures()[0]
	if first.GetHolder() != "nl-probation" || !slices.Equal(first.GetRecipients(), []string{"nl-police-rotterdam"}) ||
		first.GetOutcome() != "pseudonymise" || first.GetRecordType() != "risk_assessment" || len(first.GetFields()) == 0 {
		t.Errorf("the exchange's disclosure = %v", first)
	}
	if lb := resp.GetDisclosures()[1].GetLegalBasis(); lb.GetId() != "dk.rpl.115.stk1.nr3" || lb.GetCitation() == "" {
		t.Errorf("the second disclosure's legal basis = %v", lb)
	}
	text := prototext.Format(resp)
	for _, leak := range []string{anna, nlPolice.id, "kf.release.coordinator", "LED_ART15", "dk-intelligence"} {
		if strings.Contains(text, leak) {
			t.Errorf("the report holds %q", leak)
		}
	}
	_, e := s.lastEntry(t)
	if e.Action != audit.ActionAuditRead || e.Detail["operation"] != "access_report" || e.Detail["subject"] != apsn(anna) ||
		e.Requester.Officer != dkAuditor.id || e.Detail["with_officers"] != "" {
		t.Errorf("last entry = %+v, want the auditor's read of the report", e)
	}

	resp, err = ac.AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: anna, WithOfficers: true})
	if err != nil || resp.GetOfficersWithheld() || len(resp.GetDisclosures()) != len(want) ||
		resp.GetDisclosures()[0].GetOfficer() != nlPolice.id || resp.GetDisclosures()[1].GetOfficer() != "kf.release.coordinator" {
		t.Errorf("report with officers = %v, %v", resp, err)
	}
	if _, e := s.lastEntry(t); e.Detail["with_officers"] != "true" {
		t.Errorf("the read that named officers is logged as %+v", e.Detail)
	}

	resp, err = ac.AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: bert})
	if err != nil || len(resp.GetDisclosures()) != 0 {
		t.Errorf("report of a subject whose requests all ended NotFound = %v, %v; want no disclosure", resp, err)
	}
}

// badField returns the field named by a status's BadRequest detail.
func badField(st interface{ Details() []any }) string {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br.GetFieldViolations()[0].GetField()
		}
	}
	return ""
}

func TestAuditQueryRefusesUnknownFilterValues(t *testing.T) {
	s := startStack(t, stackOptions{})
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	for _, tt := range []struct {
		req   *liaisonv1.QueryRequest
		field string
	}{
		{&liaisonv1.QueryRequest{Outcome: "OUTCOME_DENY"}, "outcome"},
		{&liaisonv1.QueryRequest{Outcome: "denied"}, "outcome"},
		{&liaisonv1.QueryRequest{RecordType: "RECORD_TYPE_RISK_ASSESSMENT"}, "record_type"},
		{&liaisonv1.QueryRequest{Action: "approve"}, "action"},
	} {
		_, err := ac.Query(t.Context(), tt.req)
		st := wantStatus(t, err, codes.InvalidArgument)
		if badField(st) != tt.field {
			t.Errorf("Query(%v): violation of %q, want %q", tt.req, badField(st), tt.field)
		}
		for _, v := range gateway.QueryFilterValues()[tt.field] {
			if !strings.Contains(st.Message(), v) {
				t.Errorf("Query(%v) = %q; want the accepted value %q listed", tt.req, st.Message(), v)
			}
		}
	}
	for _, req := range []*liaisonv1.QueryRequest{
		{Outcome: "not_found"}, {Outcome: "pending"}, {RecordType: "police_observation"}, {Action: "audit_read"}, {Action: "reidentify"},
	} {
		if _, err := ac.Query(t.Context(), req); err != nil {
			t.Errorf("Query(%v) = %v, want it accepted", req, err)
		}
	}
	if got := gateway.QueryFilterValues()["outcome"]; !slices.Equal(got, audit.Outcomes) {
		t.Errorf("accepted outcomes = %v, want audit.Outcomes", got)
	}
	if got := gateway.QueryFilterValues()["record_type"]; len(got) != 7 || !slices.Contains(got, "exit_programme_status") {
		t.Errorf("accepted record types = %v, want the seven of the contract", got)
	}
}

// TestRefusedAuditCallsAreLogged: a call to the Audit service that is
// refused (no auditor role, a malformed request) ends in one audit_read
// entry, outcome refused, with the reason and the field but nothing the
// request asked for; a refusal for the role names its entry.
func TestRefusedAuditCallsAreLogged(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	start, err := s.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = liaisonv1.NewAuditClient(s.conn(t, nlPolice)).Query(ctx, &liaisonv1.QueryRequest{SubjectId: "SYN-NL-0001"})
	st := wantStatus(t, err, codes.PermissionDenied)
	if reasonOf(err) != "ROLE_REQUIRED" {
		t.Fatalf("Query without the auditor role: reason %q", reasonOf(err))
	}
	var named string
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			named = i.GetMetadata()["audit_index"]
		}
	}
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	_, err = ac.ProveConsistency(ctx, &liaisonv1.ProveConsistencyRequest{OldSize: 1, NewSize: 1 << 40})
	if f := badField(wantStatus(t, err, codes.InvalidArgument)); f != "new_size" {
		t.Errorf("ProveConsistency(new_size too large): field %q, want new_size", f)
	}
	_, err = ac.ProveInclusion(ctx, &liaisonv1.ProveInclusionRequest{Index: 0, TreeSize: 1 << 40})
	if f := badField(wantStatus(t, err, codes.InvalidArgument)); f != "tree_size" {
		t.Errorf("ProveInclusion(tree_size too large): field %q, want tree_size", f)
	}
	recs, err := s.db.Query(ctx, audit.Filter{Action: audit.ActionAuditRead, Outcome: audit.OutcomeRefused, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	type got struct{ officer, op, reason, field string }
	var entries []got
	for _, r := range recs {
		e := r.Entry
		entries = append(entries, got{e.Requester.Officer, e.Detail["operation"], strings.Join(e.Reasons, ","), e.Detail["field"]})
		if strings.Contains(string(r.Leaf), "SYN-NL-0001") {
			t.Errorf("entry %d holds the subject identifier the refused query named: %s", r.Index, r.Leaf)
		}
	}
	want := []got{
		{nlPolice.id, "query", "ROLE_REQUIRED", ""},
		{dkAuditor.id, "prove_consistency", "INVALID_ARGUMENT", "new_size"},
		{dkAuditor.id, "prove_inclusion", "INVALID_ARGUMENT", "tree_size"},
	}
	if !slices.Equal(entries, want) {
		t.Fatalf("refused audit_read entries = %+v, want %+v", entries, want)
	}
	if named != strconv.FormatInt(recs[0].Index, 10) {
		t.Errorf("the refusal names entry %q, want %d", named, recs[0].Index)
	}
}
