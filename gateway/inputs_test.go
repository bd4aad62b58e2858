package gateway_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestClaimedLegalBasisIsAnID: a claimed legal basis is a legal basis id,
// spelt as the policies spell one, on every exchange that takes one. A
// subject's identifier, control characters, kilobytes of text or another
// spelling of an id are refused (INVALID_ARGUMENT naming
// claimed_legal_basis), and reach neither the log nor the error.
func TestClaimedLegalBasisIsAnID(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	fx := s.fx
	rec, attrs, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	long := strings.Repeat("k", 5000)
	request := func(lb string) error {
		_, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: "SYN-NL-0001", ClaimedLegalBasis: lb,
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Planning contact after a reported meeting with a recruiter.",
		})
		return err
	}
	for _, tt := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Request: the subject's identifier", func(context.Context) error { return request("SYN-NL-0001") }},
		{"Request: a lower-case spelling of it", func(context.Context) error { return request("syn.nl.0001") }},
		{"Request: kilobytes", func(context.Context) error { return request(long) }},
		{"Request: control characters", func(context.Context) error { return request("nl.wjsr\x00.art2") }},
		{"Request: upper case", func(context.Context) error { return request("NL.WJSR.ART2") }},
		{"Request: white space", func(context.Context) error { return request(" nl.wjsr.art2") }},
		{"Disclose", func(ctx context.Context) error {
			_, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
				Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"}, ClaimedLegalBasis: "SYN-DK-0001",
				Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks; police must know.",
			})
			return err
		}},
		{"Notify", func(ctx context.Context) error {
			_, err := s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
				EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_BREACH_OF_CONDITIONS, ClaimedLegalBasis: "SYN-DK-0001",
				Record: rec, Subject: attrs, Justification: "Breach of the conditions of supervision.",
			})
			return err
		}},
		{"Match", func(ctx context.Context) error {
			_, err := s.exchange(t, nlPolice).Match(ctx, &liaisonv1.MatchRequest{
				SubjectId: "SYN-NL-0001", ClaimedLegalBasis: "SYN-NL-0001",
				RecordTypes: []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
				Purpose:     liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Does any partner know this person?",
			})
			return err
		}},
		{"Translate", func(ctx context.Context) error {
			_, err := s.exchange(t, nlPolice).Translate(ctx, &liaisonv1.TranslateRequest{
				Pseudonym: "psn:x", FromDomain: "nl-police-rotterdam/risk_management", ClaimedLegalBasis: "SYN-NL-0001",
				Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Bring to the case conference.",
			})
			return err
		}},
		{"RequestReidentification", func(ctx context.Context) error {
			_, err := s.exchange(t, nlPolice).RequestReidentification(ctx, &liaisonv1.RequestReidentificationRequest{
				Pseudonym: "psn:x", FromDomain: "nl-police-rotterdam/risk_management", ClaimedLegalBasis: long,
				Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Imminent risk.",
			})
			return err
		}},
	} {
		err := tt.call(ctx)
		st := wantStatus(t, err, codes.InvalidArgument)
		if f := badField(st); f != "claimed_legal_basis" {
			t.Errorf("%s: field %q (%v), want claimed_legal_basis", tt.name, f, err)
		}
		for _, raw := range []string{"SYN-", "syn.nl", "kkkkkkkkkk", "\x00", "WJSR"} {
			if strings.Contains(st.Message(), raw) {
				t.Errorf("%s: the error quotes the claimed basis: %q", tt.name, st.Message())
			}
		}
	}
	n, err := s.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := s.db.ReadLeaves(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range leaves {
		for _, raw := range []string{"SYN-", "syn.nl", "kkkkkkkkkk", `\u0000`, "WJSR"} {
			if bytes.Contains(l, []byte(raw)) {
				t.Errorf("entry %d holds %q: %.300s", i, raw, l)
			}
		}
	}
}

// TestAuditQueryRefusesMalformedFilters: a Query filter that no entry can
// match because of how it is spelt (an agency id in upper case, a legal
// basis that is not an id, an officer id with control characters or
// kilobytes long), a negative start, an invalid timestamp or a range that
// ends before it begins is refused with INVALID_ARGUMENT naming the field,
// and what was asked is not recorded.
func TestAuditQueryRefusesMalformedFilters(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	start, err := s.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tt := range []struct {
		req   *liaisonv1.QueryRequest
		field string
	}{
		{&liaisonv1.QueryRequest{Agency: "DK-PRISON-EAST"}, "agency"},
		{&liaisonv1.QueryRequest{Agency: "SYN-DK-0001"}, "agency"},
		{&liaisonv1.QueryRequest{Officer: strings.Repeat("\x00", 5000)}, "officer"},
		{&liaisonv1.QueryRequest{Officer: "pi.soerensen\n"}, "officer"},
		{&liaisonv1.QueryRequest{LegalBasis: "DK.RPL.115.STK1.NR3"}, "legal_basis"},
		{&liaisonv1.QueryRequest{LegalBasis: "SYN-DK-0001"}, "legal_basis"},
		{&liaisonv1.QueryRequest{Start: -1}, "start"},
		{&liaisonv1.QueryRequest{From: &timestamppb.Timestamp{Seconds: now.Unix() - 1, Nanos: 2e9}}, "from"},
		{&liaisonv1.QueryRequest{To: &timestamppb.Timestamp{Seconds: 1 << 40}}, "to"},
		{&liaisonv1.QueryRequest{From: timestamppb.New(now), To: timestamppb.New(now.Add(-time.Hour))}, "to"},
	} {
		_, err := ac.Query(ctx, tt.req)
		st, _ := status.FromError(err)
		if st.Code() != codes.InvalidArgument || badField(st) != tt.field {
			t.Errorf("Query(%.60v) = %v, want INVALID_ARGUMENT naming %s", tt.req, err, tt.field)
		}
	}
	// Well-spelt filters are answered.
	if _, err := ac.Query(ctx, &liaisonv1.QueryRequest{Agency: "dk-prison-east", Officer: "pi.soerensen", LegalBasis: "dk.rpl.115.stk1.nr3",
		From: timestamppb.New(now.Add(-time.Hour)), To: timestamppb.New(now.Add(time.Hour))}); err != nil {
		t.Fatalf("Query with well-spelt filters: %v", err)
	}
	n, _ := s.db.Size(ctx)
	leaves, err := s.db.ReadLeaves(ctx, start, n)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range leaves {
		if bytes.Contains(l, []byte("SYN-DK")) || bytes.Contains(l, []byte(`\u0000`)) || bytes.Contains(l, []byte("PRISON")) {
			t.Errorf("entry %d records what a refused query asked: %.300s", start+int64(i), l)
		}
	}
}

// TestNoticeListsRefuseMalformedFilters: the auditors' lists of notices
// refuse an agency filter not spelt as an agency id and an invalid
// timestamp (INVALID_ARGUMENT naming the field) rather than answer an
// empty list.
func TestNoticeListsRefuseMalformedFilters(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	nc := liaisonv1.NewNoticesClient(s.conn(t, dkAuditor))
	ac := liaisonv1.NewAftercareClient(s.conn(t, dkAuditor))
	for _, tt := range []struct {
		name, field string
		call        func() error
	}{
		{"ListNotices recipient", "recipient", func() error {
			_, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{Recipient: "DK-POLICE-AARHUS"})
			return err
		}},
		{"ListNotices sender", "sender", func() error {
			_, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{Sender: " dk-prison-east"})
			return err
		}},
		{"ListObligationNotices recipient", "recipient", func() error {
			_, err := ac.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{Recipient: "Dk-Police-Aarhus"})
			return err
		}},
		{"ListObligationNotices sent_before", "sent_before", func() error {
			_, err := ac.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{SentBefore: &timestamppb.Timestamp{Seconds: 1, Nanos: -1}})
			return err
		}},
	} {
		err := tt.call()
		st, _ := status.FromError(err)
		if st.Code() != codes.InvalidArgument || badField(st) != tt.field {
			t.Errorf("%s: %v, want INVALID_ARGUMENT naming %s", tt.name, err, tt.field)
		}
	}
	if _, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{Recipient: "dk-police-aarhus", Sender: "dk-prison-east"}); err != nil {
		t.Errorf("ListNotices with well-spelt filters: %v", err)
	}
	if _, err := ac.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{Recipient: "dk-police-aarhus", SentBefore: timestamppb.Now()}); err != nil {
		t.Errorf("ListObligationNotices with well-spelt filters: %v", err)
	}
}

// TestRefusedNoticeListsAreLogged: the auditors' lists of notices, whose
// every call is recorded, record a refused call too, as the Audit service
// does: one audit_read entry, outcome refused, with the reason and, for a
// malformed request, the field; a refusal for the role names its entry.
// Each entry names the list read (detail operation): list_notices for
// Notices.ListNotices, list_obligation_notices for
// Aftercare.ListObligationNotices (both were list_notices before).
func TestRefusedNoticeListsAreLogged(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	start, err := s.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = liaisonv1.NewNoticesClient(s.conn(t, nlPolice)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
	named := []string{errorInfo(err).GetMetadata()["audit_index"]}
	wantStatus(t, err, codes.PermissionDenied)
	_, err = liaisonv1.NewAftercareClient(s.conn(t, nlPolice)).ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{})
	named = append(named, errorInfo(err).GetMetadata()["audit_index"])
	wantStatus(t, err, codes.PermissionDenied)
	_, err = liaisonv1.NewNoticesClient(s.conn(t, dkAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{Limit: -1})
	wantStatus(t, err, codes.InvalidArgument)
	_, err = liaisonv1.NewAftercareClient(s.conn(t, dkAuditor)).ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{Kind: 99})
	wantStatus(t, err, codes.InvalidArgument)
	if _, err := liaisonv1.NewNoticesClient(s.conn(t, dkAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := liaisonv1.NewAftercareClient(s.conn(t, dkAuditor)).ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{}); err != nil {
		t.Fatal(err)
	}

	n, _ := s.db.Size(ctx)
	type got struct{ officer, op, outcome, reason, field string }
	var entries []got
	var indexes []string
	for i := start; i < n; i++ {
		e := s.entry(t, i)
		if e.Action != audit.ActionAuditRead {
			continue
		}
		entries = append(entries, got{e.Requester.Officer, e.Detail["operation"], e.Outcome, strings.Join(e.Reasons, ","), e.Detail["field"]})
		indexes = append(indexes, strconv.FormatInt(i, 10))
	}
	want := []got{
		{nlPolice.id, "list_notices", audit.OutcomeRefused, "ROLE_REQUIRED", ""},
		{nlPolice.id, "list_obligation_notices", audit.OutcomeRefused, "ROLE_REQUIRED", ""},
		{dkAuditor.id, "list_notices", audit.OutcomeRefused, "INVALID_ARGUMENT", "limit"},
		{dkAuditor.id, "list_obligation_notices", audit.OutcomeRefused, "INVALID_ARGUMENT", "kind"},
		{dkAuditor.id, "list_notices", audit.OutcomeOK, "", ""},
		{dkAuditor.id, "list_obligation_notices", audit.OutcomeOK, "", ""},
	}
	if !slices.Equal(entries, want) {
		t.Fatalf("audit_read entries = %+v, want %+v", entries, want)
	}
	if !slices.Equal(named, indexes[:2]) {
		t.Errorf("the refusals name entries %q, want %q", named, indexes[:2])
	}
}

// TestAuditProofErrorsSayWhatIsWrong: a negative index or tree size is
// refused with a description that says so, not with one the value meets
// ("must be below the tree size" for -1).
func TestAuditProofErrorsSayWhatIsWrong(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	check := func(name, field string, err error) {
		t.Helper()
		st := wantStatus(t, err, codes.InvalidArgument)
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) == 1 {
				if v := br.GetFieldViolations()[0]; v.GetField() != field || !strings.Contains(v.GetDescription(), "negative") {
					t.Errorf("%s: %s: %q, want %s: must not be negative", name, v.GetField(), v.GetDescription(), field)
				}
				return
			}
		}
		t.Errorf("%s: no BadRequest in %v", name, err)
	}
	_, err := ac.ProveInclusion(ctx, &liaisonv1.ProveInclusionRequest{Index: -1})
	check("ProveInclusion(index -1)", "index", err)
	_, err = ac.ProveInclusion(ctx, &liaisonv1.ProveInclusionRequest{TreeSize: -1})
	check("ProveInclusion(tree_size -1)", "tree_size", err)
	_, err = ac.ProveConsistency(ctx, &liaisonv1.ProveConsistencyRequest{OldSize: 1, NewSize: -1})
	check("ProveConsistency(new_size -1)", "new_size", err)
}

// TestRecordDatesHaveOneSpelling: a record a caller sends whose date
// field is not spelt YYYY-MM-DD is refused (INVALID_ARGUMENT naming the
// field by its path), not delivered as it is.
func TestRecordDatesHaveOneSpelling(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	rec, attrs := dkRelease(t, s)
	for _, tt := range []struct {
		edit  func(*liaisonv1.Record)
		field string
	}{
		{func(r *liaisonv1.Record) { r.GetReleaseNotice().ReleaseDate = "15.12.2026" }, "record.release_notice.release_date"},
		{func(r *liaisonv1.Record) { r.GetReleaseNotice().ReleaseDate = "2026-12-15T00:00:00Z" }, "record.release_notice.release_date"},
		{func(r *liaisonv1.Record) { r.GetReleaseNotice().ProbationUntil = "2027-6-1" }, "record.release_notice.probation_until"},
		{func(r *liaisonv1.Record) { r.GetReleaseNotice().GetSubject().DateOfBirth = "1990-02-30" }, "record.release_notice.subject.date_of_birth"},
	} {
		bad := proto.CloneOf(rec)
		tt.edit(bad)
		_, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: bad, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks; police must know.",
		})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != tt.field {
			t.Errorf("Disclose with a malformed %s: %v, want INVALID_ARGUMENT naming it", tt.field, err)
		}
		_, err = s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
			Record:    bad, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release date set.",
		})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != tt.field {
			t.Errorf("Notify with a malformed %s: %v, want INVALID_ARGUMENT naming it", tt.field, err)
		}
		_, err = liaisonv1.NewAftercareClient(s.conn(t, dkPrison)).Correct(ctx, &liaisonv1.CorrectRequest{
			Record: bad, Subject: attrs, Justification: "The release date was wrong.",
		})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != tt.field {
			t.Errorf("Correct with a malformed %s: %v, want INVALID_ARGUMENT naming it", tt.field, err)
		}
	}
	// A breach in a list is named by its index.
	pm := &liaisonv1.Record{Body: &liaisonv1.Record_ProbationMeasures{ProbationMeasures: &liaisonv1.ProbationMeasures{
		Subject:  &liaisonv1.Person{SubjectId: "SYN-DK-0001"},
		Breaches: []*liaisonv1.ProbationBreach{{Date: "2026-11-02"}, {Date: "2/11/2026"}},
	}}}
	_, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: pm, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Supervision after release.",
	})
	if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "record.probation_measures.breaches[1].date" {
		t.Errorf("Disclose with a malformed breach date: %v, want INVALID_ARGUMENT naming record.probation_measures.breaches[1].date", err)
	}
	// Well-spelt dates pass.
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks; police must know.",
	}); err != nil {
		t.Fatalf("Disclose of the sample notice: %v", err)
	}
}

// TestSubjectMunicipalityIsAName: the municipality of a subject's
// attributes, which the policy reads and the log records, is refused
// (INVALID_ARGUMENT naming subject.municipality) if it holds the
// subject's identifier, control characters, white space around it or
// kilobytes of text; none of them reaches the log.
func TestSubjectMunicipalityIsAName(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	rec, attrs := dkRelease(t, s)
	for _, m := range []string{"SYN-DK-0001", "Aarhus syn dk 0001", strings.Repeat("m", 3000), "Aar\x00hus", " Aarhus"} {
		a := proto.CloneOf(attrs)
		a.Municipality = m
		_, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: a, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks; police must know.",
		})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "subject.municipality" {
			t.Errorf("Disclose with municipality %.20q: %v, want INVALID_ARGUMENT naming subject.municipality", m, err)
		}
		_, err = s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
			Record:    rec, Subject: a, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release date set.",
		})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "subject.municipality" {
			t.Errorf("Notify with municipality %.20q: %v, want INVALID_ARGUMENT naming subject.municipality", m, err)
		}
	}
	n, _ := s.db.Size(ctx)
	leaves, err := s.db.ReadLeaves(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range leaves {
		if bytes.Contains(l, []byte("SYN-DK")) || bytes.Contains(l, []byte("syn dk")) || bytes.Contains(l, []byte("mmmmmmmm")) || bytes.Contains(l, []byte(`\u0000`)) {
			t.Errorf("entry %d holds what a refused municipality held: %.300s", i, l)
		}
	}
	if attrs.GetMunicipality() == "" {
		t.Fatal("the sample attributes name no municipality")
	}
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks; police must know.",
	}); err != nil {
		t.Fatalf("Disclose with the sample municipality: %v", err)
	}
}

// TestSubjectIDHasNoInvisibleSpelling: a subject identifier with an
// invisible or control character in it (a zero-width space, a byte-order
// mark, a C1 control, or one Go deems printable: a Hangul filler, a
// variation selector) looks like the identifier without it but would get
// a pseudonym of its own; it is refused (INVALID_ARGUMENT naming the
// field), as the error already said: "printable characters".
func TestSubjectIDHasNoInvisibleSpelling(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	for _, id := range []string{"SYN-NL-0001\u200b", "\ufeffSYN-NL-0001", "SYN-NL\u00850001", "SYN-NL-\u200e0001",
		// Printable to Go, in NFKC, but showing nothing: a Hangul filler,
		// the combining grapheme joiner, variation selectors, a Khmer
		// inherent vowel.
		"SYN-NL-0001\u1160", "SYN-NL-\u034f0001", "SYN-NL-0001\ufe0f", "SYN-NL-0001\U000e0100", "SYN-NL-\u17b40001"} {
		_, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: id,
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Planning contact after a reported meeting with a recruiter.",
		})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "subject_id" {
			t.Errorf("Request for %q: %v, want INVALID_ARGUMENT naming subject_id", id, err)
		}
		_, err = ac.AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: id})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "subject_id" {
			t.Errorf("AccessReport for %q: %v, want INVALID_ARGUMENT naming subject_id", id, err)
		}
	}
}

// TestThirdPartyIDsAreSpeltAsSubjectIDs: a third party's identifier in a
// record a caller sends (an associate, a family contact), pseudonymised in
// its own right, is spelt as a subject's must be: one too long to
// pseudonymise, or with white space around it (a second pseudonym for the
// same person), is refused naming its path.
func TestThirdPartyIDsAreSpeltAsSubjectIDs(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	_, attrs := dkRelease(t, s)
	for _, id := range []string{strings.Repeat("x", 300), " REL-1", "REL-1\u200b"} {
		rec := &liaisonv1.Record{Body: &liaisonv1.Record_PoliceObservation{PoliceObservation: &liaisonv1.PoliceObservation{
			Subject: &liaisonv1.Person{SubjectId: "SYN-DK-0001"}, ObservedOn: "2026-11-02",
			Associates: []*liaisonv1.Person{{SubjectId: "REL-2"}, {SubjectId: id}},
		}}}
		_, err := s.exchange(t, dkPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{"dk-prison-east"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Seen with an associate.",
		})
		const field = "record.police_observation.associates[1].subject_id"
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != field {
			t.Errorf("Disclose with associate %.12q: %v, want INVALID_ARGUMENT naming %s", id, err, field)
		}
	}
	// A third party without an identifier, or with a well-spelt one, passes.
	rec := &liaisonv1.Record{Body: &liaisonv1.Record_PoliceObservation{PoliceObservation: &liaisonv1.PoliceObservation{
		Subject: &liaisonv1.Person{SubjectId: "SYN-DK-0001"}, ObservedOn: "2026-11-02",
		Associates: []*liaisonv1.Person{{SubjectId: "REL-2"}, {FullName: "Unknown"}},
	}}}
	if _, err := s.exchange(t, dkPolice).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-prison-east"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Seen with an associate.",
	}); err != nil {
		t.Fatalf("Disclose with well-spelt associates: %v", err)
	}
}

// TestAuditReadRecordsTheTimesAsked: the audit_read entry of a Query or
// ListObligationNotices records the times it was bounded by as given, to
// the nanosecond: one cut to the second states another range than the
// one read.
func TestAuditReadRecordsTheTimesAsked(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	from := time.Date(2026, 11, 1, 12, 0, 0, 500_000_000, time.UTC)
	to := time.Date(2026, 12, 1, 8, 30, 15, 250, time.UTC)
	if _, err := liaisonv1.NewAuditClient(s.conn(t, dkAuditor)).Query(ctx, &liaisonv1.QueryRequest{From: timestamppb.New(from), To: timestamppb.New(to)}); err != nil {
		t.Fatal(err)
	}
	_, e := s.lastEntry(t)
	for k, want := range map[string]time.Time{"from": from, "to": to} {
		if got, err := time.Parse(time.RFC3339Nano, e.Detail[k]); err != nil || !got.Equal(want) {
			t.Errorf("Query's entry records %s %q, want %s", k, e.Detail[k], want.Format(time.RFC3339Nano))
		}
	}
	if _, err := liaisonv1.NewAftercareClient(s.conn(t, dkAuditor)).ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{SentBefore: timestamppb.New(from)}); err != nil {
		t.Fatal(err)
	}
	_, e = s.lastEntry(t)
	if got, err := time.Parse(time.RFC3339Nano, e.Detail["sent_before"]); err != nil || !got.Equal(from) {
		t.Errorf("ListObligationNotices' entry records sent_before %q, want %s", e.Detail["sent_before"], from.Format(time.RFC3339Nano))
	}
}

// TestBearerSchemeAndOneCredential: the authorization scheme is
// case-insensitive (RFC 7235), so "bearer <token>" authenticates rather
// than being refused as carrying no token; a call with two authorization
// headers is refused (MALFORMED_TOKEN) rather than run as the officer of
// the first.
func TestBearerSchemeAndOneCredential(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	mint := func(o officer) string {
		tok, err := s.pki.Issuers[o.agency].Mint(devpki.TokenSpec{Officer: o.id, Roles: o.roles, Clearance: o.clearance, Audience: "liaison"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	auditor, other := mint(dkAuditor), mint(dkPrison)
	ac := liaisonv1.NewAuditClient(s.connWith(t, "dk-prison-east", ""))
	if _, err := ac.GetCheckpoint(metadata.AppendToOutgoingContext(ctx, "authorization", "bearer "+auditor), &liaisonv1.GetCheckpointRequest{}); err != nil {
		t.Errorf("GetCheckpoint with \"bearer <token>\": %v, want it answered", err)
	}
	two := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+auditor, "authorization", "Bearer "+other)
	_, err := ac.GetCheckpoint(two, &liaisonv1.GetCheckpointRequest{})
	if wantStatus(t, err, codes.Unauthenticated); reasonOf(err) != "MALFORMED_TOKEN" {
		t.Errorf("GetCheckpoint with two authorization headers: reason %q, want MALFORMED_TOKEN", reasonOf(err))
	}
	_, e := s.lastEntry(t)
	if e.Action != audit.ActionAuthenticate || e.Outcome != audit.OutcomeRefused || e.Requester == nil || e.Requester.Agency != "dk-prison-east" {
		t.Errorf("last entry = %+v, want the refused authentication of dk-prison-east", e)
	}
}

// TestObligationNoticesPage: ListObligationNotices reads on past a full
// page (start), as Query does; without it an auditor saw the first 1000
// notices and could not learn of the rest. A negative start is refused.
func TestObligationNoticesPage(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	rec, attrs := dkRelease(t, s)
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus", "dk-social-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Release in three weeks; police must know.",
	}); err != nil {
		t.Fatal(err)
	}
	fixed := proto.CloneOf(rec)
	fixed.GetReleaseNotice().ReleaseDate = weekLater(t, rec.GetReleaseNotice().GetReleaseDate())
	moved := proto.CloneOf(attrs)
	moved.ReleaseDate = fixed.GetReleaseNotice().GetReleaseDate()
	cr, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: fixed, Subject: moved, Justification: "The release moved a week."})
	if err != nil || len(cr.GetResults()) != 2 {
		t.Fatalf("Correct = %v, %v; want two corrections", cr, err)
	}
	ac := aftercare(t, s, dkAuditor)
	var seen []int64
	start := int64(0)
	for range 3 {
		page, err := ac.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{Limit: 1, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.GetNotices()) == 0 {
			break
		}
		idx := page.GetNotices()[0].GetAuditIndex()
		seen = append(seen, idx)
		start = idx + 1
	}
	if len(seen) != 2 || seen[0] >= seen[1] {
		t.Errorf("pages of one read notices %v, want the two corrections, one a page, oldest first", seen)
	}
	_, err = ac.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{Start: -1})
	if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "start" {
		t.Errorf("ListObligationNotices(start -1): %v, want INVALID_ARGUMENT naming start", err)
	}
}

// TestApprovalJustificationNeverHoldsTheIdentity: an approver's reason
// that names the identifier behind the pseudonym (as written, or as
// people write it) is recorded with "[subject]" in its place, as the
// requester's is, for an approval that counts and for one refused; a
// reason naming someone else is recorded as written, and both are
// answered alike.
func TestApprovalJustificationNeverHoldsTheIdentity(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol")})
	ctx := t.Context()
	requester := officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer", "legal_officer"}, "confidential"}
	police := s.exchange(t, requester)
	resp, err := police.Request(ctx, riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := police.RequestReidentification(ctx, &liaisonv1.RequestReidentificationRequest{
		Pseudonym: resp.GetReleased().GetSubjectPseudonym(), FromDomain: resp.GetReleased().GetPseudonymDomain(),
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk."})
	if err != nil {
		t.Fatal(err)
	}
	probationLO := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	ap, err := s.exchange(t, probationLO).ApproveReidentification(ctx, &liaisonv1.ApproveReidentificationRequest{
		RequestId: rr.GetRequestId(), Justification: "I know SYN-NL-0001 from supervision."})
	if err != nil {
		t.Fatalf("approval: %v", err)
	}
	if j := s.entry(t, ap.GetAuditIndex()).Justification; j != "I know [subject] from supervision." {
		t.Errorf("the approval's justification is %q, want the identifier replaced", j)
	}
	// Refused (the same officer again): recorded so too.
	_, err = s.exchange(t, probationLO).ApproveReidentification(ctx, &liaisonv1.ApproveReidentificationRequest{
		RequestId: rr.GetRequestId(), Justification: "Again: syn nl 0001."})
	wantStatus(t, err, codes.PermissionDenied)
	if _, e := s.lastEntry(t); e.Justification != "Again: [subject]." {
		t.Errorf("the refused approval's justification is %q, want the identifier replaced", e.Justification)
	}
	// A reason naming someone else is not altered.
	cityLO := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	ap, err = s.exchange(t, cityLO).ApproveReidentification(ctx, &liaisonv1.ApproveReidentificationRequest{
		RequestId: rr.GetRequestId(), Justification: "Not SYN-NL-0002."})
	if err != nil {
		t.Fatalf("second approval: %v", err)
	}
	if j := s.entry(t, ap.GetAuditIndex()).Justification; j != "Not SYN-NL-0002." {
		t.Errorf("the second approval's justification is %q, want it as written", j)
	}
}

// weekLater is the date (YYYY-MM-DD) seven days after date.
func weekLater(t *testing.T, date string) string {
	t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		t.Fatal(err)
	}
	return d.AddDate(0, 0, 7).Format(time.DateOnly)
}
