package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// faultStore is a store whose reads fail while armed: the next read by
// the named method whose argument the fault's match accepts (any, if
// match is nil) returns the fault's error, and so does every later one
// until disarm. Appends always pass, so that a read's entry can be
// written while the read fails.
type faultStore struct {
	testStore
	mu     sync.Mutex
	faults map[string]storeFault // by method: Query, ReadLeaves, Notices, SentNotices, Append
}

type storeFault struct {
	err   error
	match func(arg any) bool
}

func (f *faultStore) arm(method string, err error, match func(arg any) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.faults == nil {
		f.faults = map[string]storeFault{}
	}
	f.faults[method] = storeFault{err, match}
}

func (f *faultStore) disarm() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

func (f *faultStore) fault(method string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ft, ok := f.faults[method]; ok && (ft.match == nil || ft.match(arg)) {
		return ft.err
	}
	return nil
}

func (f *faultStore) Query(ctx context.Context, fl audit.Filter) ([]audit.Record, error) {
	if err := f.fault("Query", fl); err != nil {
		return nil, err
	}
	return f.testStore.Query(ctx, fl)
}

func (f *faultStore) ReadLeaves(ctx context.Context, start, end int64) ([][]byte, error) {
	if err := f.fault("ReadLeaves", [2]int64{start, end}); err != nil {
		return nil, err
	}
	return f.testStore.ReadLeaves(ctx, start, end)
}

func (f *faultStore) Append(ctx context.Context, batch []audit.Pending) (int64, error) {
	if err := f.fault("Append", batch); err != nil {
		return 0, err
	}
	return f.testStore.Append(ctx, batch)
}

func (f *faultStore) Notices(ctx context.Context, fl audit.NoticeFilter) ([]audit.Notice, error) {
	if err := f.fault("Notices", fl); err != nil {
		return nil, err
	}
	return f.testStore.Notices(ctx, fl)
}

func (f *faultStore) SentNotices(ctx context.Context, fl audit.SentNoticeFilter) ([]audit.SentNotice, error) {
	if err := f.fault("SentNotices", fl); err != nil {
		return nil, err
	}
	return f.testStore.SentNotices(ctx, fl)
}

// TestFailedReadOfTheLogIsOneFailedEntry: a read of the log whose store
// read fails (the database does not answer, or the query index does not
// match the entries) gives the auditor an error and nothing of the log,
// and leaves exactly one audit_read entry saying so: outcome failed, the
// reason the auditor's status carries (AUDIT_UNAVAILABLE,
// AUDIT_INDEX_TAMPERED), and what was asked; the auditor's error says the
// log could not be read, not that "this exchange" could not be recorded.
// Without the fix the unary
// reads wrote their entry, outcome ok, before reading, so that the log
// said the auditor had read what they never got; GetReceipt, whose entry
// could not be read, wrote no entry at all.
func TestFailedReadOfTheLogIsOneFailedEntry(t *testing.T) {
	fs := &faultStore{}
	s := startStack(t, stackOptions{faults: fs})
	ctx := t.Context()
	resp, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Planning contact.",
	})
	if err != nil {
		t.Fatal(err)
	}
	release := resp.GetReleased().GetAuditIndex()
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	nc := liaisonv1.NewNoticesClient(s.conn(t, dkAuditor))
	afc := aftercare(t, s, dkAuditor)
	subjectPsn, err := s.keys.AuditPseudonym(pseudonym.SubjectID("SYN-NL-0001"))
	if err != nil {
		t.Fatal(err)
	}
	disk := errors.New("disk I/O error")
	tampered := fmt.Errorf("%w: entry 1, column agency", audit.ErrTampered)
	police := func(arg any) bool { f, ok := arg.(audit.Filter); return ok && f.Agency == "nl-police-rotterdam" }
	for _, tc := range []struct {
		name, method string
		err          error
		match        func(any) bool
		call         func() error
		code         codes.Code
		reason       string
		detail       map[string]string // detail the entry must hold ("*": any value)
	}{
		{name: "query, store down", method: "Query", err: disk, match: police, call: func() error {
			_, err := ac.Query(ctx, &liaisonv1.QueryRequest{Agency: "nl-police-rotterdam", Limit: 7})
			return err
		}, code: codes.Unavailable, reason: "AUDIT_UNAVAILABLE", detail: map[string]string{"operation": "query", "agency": "nl-police-rotterdam", "limit": "7"}},
		{name: "query, index tampered", method: "Query", err: tampered, match: police, call: func() error {
			_, err := ac.Query(ctx, &liaisonv1.QueryRequest{Agency: "nl-police-rotterdam"})
			return err
		}, code: codes.DataLoss, reason: "AUDIT_INDEX_TAMPERED", detail: map[string]string{"operation": "query", "agency": "nl-police-rotterdam"}},
		{name: "access report", method: "Query", err: disk, match: func(arg any) bool { f, ok := arg.(audit.Filter); return ok && f.Subject != "" },
			call: func() error {
				_, err := ac.AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: "SYN-NL-0001"})
				return err
			}, code: codes.Unavailable, reason: "AUDIT_UNAVAILABLE", detail: map[string]string{"operation": "access_report", "subject": subjectPsn}},
		{name: "prove inclusion", method: "ReadLeaves", err: disk, call: func() error {
			_, err := ac.ProveInclusion(ctx, &liaisonv1.ProveInclusionRequest{Index: release})
			return err
		}, code: codes.Unavailable, reason: "AUDIT_UNAVAILABLE", detail: map[string]string{"operation": "prove_inclusion", "index": fmt.Sprint(release), "tree_size": "*"}},
		{name: "list notices", method: "Notices", err: disk, call: func() error {
			_, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{Limit: 5})
			return err
		}, code: codes.Unavailable, reason: "AUDIT_UNAVAILABLE", detail: map[string]string{"operation": "list_notices", "limit": "5"}},
		{name: "list obligation notices", method: "SentNotices", err: disk, call: func() error {
			_, err := afc.ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{Limit: 5})
			return err
		}, code: codes.Unavailable, reason: "AUDIT_UNAVAILABLE", detail: map[string]string{"operation": "list_obligation_notices", "limit": "5"}},
		{name: "get receipt", method: "ReadLeaves", err: disk, call: func() error {
			_, err := aftercare(t, s, nlPolice).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: release})
			return err
		}, code: codes.Unavailable, reason: "AUDIT_UNAVAILABLE", detail: map[string]string{"operation": "get_receipt", "index": fmt.Sprint(release)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs.arm(tc.method, tc.err, tc.match)
			err, entries := s.grown(t, tc.call)
			fs.disarm()
			st := wantStatus(t, err, tc.code)
			if errorReason(st) != tc.reason {
				t.Errorf("status reason %q, want %q", errorReason(st), tc.reason)
			}
			// An auditor's read is no exchange: the message must not say
			// that one could not be recorded.
			if strings.Contains(st.Message(), "exchange") {
				t.Errorf("status message %q speaks of an exchange", st.Message())
			}
			if len(entries) != 1 {
				t.Fatalf("the log grew by %d entries, want exactly one: %+v", len(entries), entries)
			}
			e := entries[0]
			if e.Action != audit.ActionAuditRead || e.Outcome != audit.OutcomeFailed || !slices.Equal(e.Reasons, []string{tc.reason}) {
				t.Errorf("entry = %s %s %v, want audit_read failed [%s]", e.Action, e.Outcome, e.Reasons, tc.reason)
			}
			for k, v := range tc.detail {
				if got, ok := e.Detail[k]; !ok || got != v && v != "*" {
					t.Errorf("entry detail %s = %q, want %q (detail %v)", k, e.Detail[k], v, e.Detail)
				}
			}
			if e.Requester == nil || e.Requester.Officer == "" {
				t.Errorf("entry names no requester: %+v", e)
			}
			if strings.Contains(fmt.Sprint(e.Detail), "SYN-NL-0001") {
				t.Errorf("entry holds the raw subject id: %v", e.Detail)
			}
		})
	}
}

// TestReadEntryRecordsTheLimit: the entry of a read that fills a page
// records the page's limit, when one is given, beside start: without it
// the log said an auditor read from start on, not how far.
func TestReadEntryRecordsTheLimit(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	for _, tc := range []struct {
		name  string
		call  func() error
		limit string
	}{
		{"query", func() error {
			_, err := ac.Query(ctx, &liaisonv1.QueryRequest{Start: 1, Limit: 3})
			return err
		}, "3"},
		{"query, no limit", func() error {
			_, err := ac.Query(ctx, &liaisonv1.QueryRequest{})
			return err
		}, ""},
		{"list notices", func() error {
			_, err := liaisonv1.NewNoticesClient(s.conn(t, dkAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{Limit: 4})
			return err
		}, "4"},
		{"list obligation notices", func() error {
			_, err := aftercare(t, s, dkAuditor).ListObligationNotices(ctx, &liaisonv1.ListObligationNoticesRequest{Limit: 6})
			return err
		}, "6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, entries := s.grown(t, tc.call)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Outcome != audit.OutcomeOK || entries[0].Detail["limit"] != tc.limit {
				t.Fatalf("entries = %+v, want one audit_read, ok, limit %q", entries, tc.limit)
			}
		})
	}
}

// TestExportThatCannotBeginIsOneFailedEntry: an Export whose checkpoint
// cannot be signed (its entry comes first, but the checkpoint it names
// comes before it) is one entry too, outcome failed, AUDIT_UNAVAILABLE.
// Without the fix it left no entry at all: the log did not show the
// attempt.
func TestExportThatCannotBeginIsOneFailedEntry(t *testing.T) {
	t.Run("export, checkpoint unsigned", func(t *testing.T) {
		var failing atomic.Bool
		s := startStack(t, stackOptions{signer: func(n note.Signer) note.Signer { return failingSigner{n, &failing} }})
		ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
		if _, err := ac.Query(t.Context(), &liaisonv1.QueryRequest{}); err != nil { // the log grows past its checkpoint
			t.Fatal(err)
		}
		failing.Store(true)
		err, entries := s.grown(t, func() error {
			st, err := ac.Export(t.Context(), &liaisonv1.ExportRequest{})
			if err != nil {
				return err
			}
			for {
				if _, err := st.Recv(); err != nil {
					return err
				}
			}
		})
		if st := wantStatus(t, err, codes.Unavailable); errorReason(st) != "AUDIT_UNAVAILABLE" {
			t.Errorf("status reason %q, want AUDIT_UNAVAILABLE", errorReason(st))
		}
		if len(entries) != 1 || entries[0].Action != audit.ActionAuditRead || entries[0].Outcome != audit.OutcomeFailed ||
			!slices.Equal(entries[0].Reasons, []string{"AUDIT_UNAVAILABLE"}) || entries[0].Detail["operation"] != "export" {
			t.Errorf("entries = %+v, want one audit_read, failed, AUDIT_UNAVAILABLE, operation export", entries)
		}
	})
}

// TestReadWhoseEntryCannotBeWrittenAnswersNothing: a read done while its
// entry cannot be written (the store takes no append) answers
// AUDIT_UNAVAILABLE and nothing of what it read: the read is held until
// its entry is durable, never returned before.
func TestReadWhoseEntryCannotBeWrittenAnswersNothing(t *testing.T) {
	fs := &faultStore{}
	s := startStack(t, stackOptions{faults: fs})
	ctx := t.Context()
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	if _, err := ac.Query(ctx, &liaisonv1.QueryRequest{}); err != nil { // authenticates the auditor
		t.Fatal(err)
	}
	fs.arm("Append", errors.New("disk full"), nil)
	defer fs.disarm()
	for name, call := range map[string]func() (any, error){
		"query":           func() (any, error) { return ac.Query(ctx, &liaisonv1.QueryRequest{}) },
		"prove inclusion": func() (any, error) { return ac.ProveInclusion(ctx, &liaisonv1.ProveInclusionRequest{Index: 0}) },
	} {
		var resp any
		err, entries := s.grown(t, func() (err error) { resp, err = call(); return err })
		if st := wantStatus(t, err, codes.Unavailable); errorReason(st) != "AUDIT_UNAVAILABLE" {
			t.Errorf("%s: status reason %q, want AUDIT_UNAVAILABLE", name, errorReason(st))
		}
		if len(entries) != 0 || !reflect.ValueOf(resp).IsNil() {
			t.Errorf("%s: answered %v with %d entries written", name, resp, len(entries))
		}
	}
}

// TestExportBrokenOffKeepsItsOneEntry: an Export whose store read fails
// after its entry was written (ok, with the tree size: an export begun)
// adds no second entry, and its error says it broke off after the
// entries sent, not that nothing was returned. Without the fix the
// error said "the audit log cannot record this exchange; nothing was
// disclosed", of an export that had sent its checkpoint and had been
// recorded.
func TestExportBrokenOffKeepsItsOneEntry(t *testing.T) {
	fs := &faultStore{}
	s := startStack(t, stackOptions{faults: fs})
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	if _, err := ac.Query(t.Context(), &liaisonv1.QueryRequest{}); err != nil { // authenticates the auditor
		t.Fatal(err)
	}
	fs.arm("ReadLeaves", errors.New("disk I/O error"), nil)
	defer fs.disarm()
	var got int
	err, entries := s.grown(t, func() error {
		st, err := ac.Export(t.Context(), &liaisonv1.ExportRequest{})
		if err != nil {
			return err
		}
		for {
			m, err := st.Recv()
			if err != nil {
				return err
			}
			if m.GetCheckpoint() != nil {
				got++
			}
		}
	})
	st := wantStatus(t, err, codes.Unavailable)
	if errorReason(st) != "AUDIT_UNAVAILABLE" || !strings.Contains(st.Message(), "broke off after 0 of its") || strings.Contains(st.Message(), "nothing") {
		t.Errorf("status %q (%s), want AUDIT_UNAVAILABLE saying the export broke off after 0 entries", st.Message(), errorReason(st))
	}
	if got != 1 {
		t.Errorf("the checkpoint came %d times before the stream broke off, want once", got)
	}
	if len(entries) != 1 || entries[0].Outcome != audit.OutcomeOK || entries[0].Detail["operation"] != "export" || entries[0].Detail["tree_size"] == "" {
		t.Errorf("entries = %+v, want the export's one entry, ok, with its tree size", entries)
	}
}

// TestReadAboutASubjectIsIndexedByIt: a Query by subject_id and an
// AccessReport name the person they asked about, by audit pseudonym, in
// their audit_read entry's subject (the query index's subject column), as
// well as in its detail, so that an auditor's Query by that subject_id
// lists who looked at the person; a read that names no person (a query
// without subject_id) has no subject.
func TestReadAboutASubjectIsIndexedByIt(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	ac := liaisonv1.NewAuditClient(s.conn(t, dkAuditor))
	const subject = "SYN-NL-0001"
	var ps string
	for _, tc := range []struct {
		op   string
		call func() error
	}{
		{"query", func() error {
			_, err := ac.Query(ctx, &liaisonv1.QueryRequest{SubjectId: subject})
			return err
		}},
		{"access_report", func() error {
			r, err := ac.AccessReport(ctx, &liaisonv1.AccessReportRequest{SubjectId: subject})
			ps = r.GetSubjectPseudonym()
			return err
		}},
	} {
		err, entries := s.grown(t, tc.call)
		if err != nil {
			t.Fatalf("%s: %v", tc.op, err)
		}
		if len(entries) != 1 || entries[0].Action != audit.ActionAuditRead || entries[0].Detail["operation"] != tc.op {
			t.Fatalf("%s: entries %+v, want its one audit_read", tc.op, entries)
		}
		e := entries[0]
		if e.Subject == nil || !strings.HasPrefix(e.Subject.Pseudonym, "apsn:") || e.Subject.Pseudonym != e.Detail["subject"] {
			t.Errorf("%s: entry subject %+v, detail subject %q; want the audit pseudonym in both", tc.op, e.Subject, e.Detail["subject"])
		}
		if b, err := e.Marshal(); err != nil || strings.Contains(string(b), subject) {
			t.Errorf("%s: the entry holds the identifier (or cannot be encoded: %v)", tc.op, err)
		}
	}
	err, entries := s.grown(t, func() error { _, err := ac.Query(ctx, &liaisonv1.QueryRequest{}); return err })
	if err != nil || len(entries) != 1 || entries[0].Subject != nil {
		t.Errorf("query without subject_id: %v, entries %+v; want one entry naming no subject", err, entries)
	}
	// Who looked at the person: the log's index finds both reads.
	resp, err := ac.Query(ctx, &liaisonv1.QueryRequest{SubjectId: subject, Action: audit.ActionAuditRead})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, r := range resp.GetEntries() {
		e, err := audit.Unmarshal([]byte(r.GetJson()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Subject == nil || e.Subject.Pseudonym != ps {
			t.Errorf("entry %d: subject %+v, want %s", r.GetIndex(), e.Subject, ps)
		}
		ops = append(ops, e.Detail["operation"])
	}
	if !slices.Equal(ops, []string{"query", "access_report"}) {
		t.Errorf("audit_read entries about the subject: %v, want the query and the access report", ops)
	}
}
