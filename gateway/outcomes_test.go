package gateway_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// grown runs call and returns its error and the entries it appended.
func (s *stack) grown(t *testing.T, call func() error) (error, []*audit.Entry) {
	t.Helper()
	before, err := s.db.Size(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	callErr := call()
	after, err := s.db.Size(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []*audit.Entry
	for i := before; i < after; i++ {
		// A registry case is opened in the store when first used: that is
		// a state change of its own (case_sync), not the call's entry.
		if e := s.entry(t, i); e.Action != "case_sync" {
			out = append(out, e)
		}
	}
	return callErr, out
}

// path is one way an exchange can end, with the one entry it must leave.
type path struct {
	name    string
	call    func(ctx context.Context) error
	code    codes.Code // codes.OK for a success
	reason  string     // the status's ErrorInfo reason, if any
	outcome string     // the entry's outcome
	entry   string     // a reason the entry must list ("" for none)
	field   string     // for a refusal: the field the entry names
}

func (s *stack) checkPaths(t *testing.T, paths []path) {
	t.Helper()
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			err, entries := s.grown(t, func() error { return p.call(t.Context()) })
			if p.code == codes.OK {
				if err != nil {
					t.Fatalf("call: %v, want success", err)
				}
			} else {
				st := wantStatus(t, err, p.code)
				if p.reason != "" && errorReason(st) != p.reason {
					t.Errorf("status reason = %q, want %q", errorReason(st), p.reason)
				}
				// An outage says when to send the call again; nothing else does.
				if d := retryAfter(st); (p.code == codes.Unavailable) != (d > 0) {
					t.Errorf("%s status carries RetryInfo %v; want one exactly for Unavailable", p.code, d)
				}
			}
			if len(entries) != 1 {
				t.Fatalf("the log grew by %d entries, want exactly 1: %+v", len(entries), entries)
			}
			e := entries[0]
			if e.Outcome != p.outcome {
				t.Errorf("entry outcome = %q (reasons %v), want %q", e.Outcome, e.Reasons, p.outcome)
			}
			if p.entry != "" && !slices.Contains(e.Reasons, p.entry) {
				t.Errorf("entry reasons = %v, want %s among them", e.Reasons, p.entry)
			}
			if p.field != "" && e.Detail["field"] != p.field {
				t.Errorf("entry names field %q, want %q", e.Detail["field"], p.field)
			}
			if !audit.Released(e.Outcome) && len(e.FieldsDisclosed) > 0 {
				t.Errorf("outcome %s lists disclosed fields %v", e.Outcome, e.FieldsDisclosed)
			}
			if e.Requester == nil || e.Requester.Agency == "" || e.RequestID == "" {
				t.Errorf("entry does not name the requester: %+v", e)
			}
			b, _ := json.Marshal(e)
			for _, id := range []string{"SYN-NL-0001", "SYN-DK-0001", "SYN-NL-0404"} {
				if strings.Contains(string(b), id) {
					t.Errorf("entry holds the raw identifier %s: %s", id, b)
				}
			}
		})
	}
}

func riskReq(edit func(*liaisonv1.RequestRequest)) *liaisonv1.RequestRequest {
	r := &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Planning contact after a reported meeting with a recruiter.",
	}
	if edit != nil {
		edit(r)
	}
	return r
}

func noticeReq(s *stack, edit func(*liaisonv1.DiscloseRequest)) *liaisonv1.DiscloseRequest {
	r := releaseNotice(s)
	r.Justification = "Release scheduled; the local police must be told."
	if edit != nil {
		edit(r)
	}
	return r
}

// TestEveryPathEndsInOneTruthfulEntry walks every way a Request or a
// Disclose can end and checks that each leaves exactly one entry whose
// outcome says what really happened.
func TestEveryPathEndsInOneTruthfulEntry(t *testing.T) {
	s := startStack(t, stackOptions{})
	police, prison, ngo := s.exchange(t, nlPolice), s.exchange(t, dkPrison), s.exchange(t, nlNGO)
	request := func(c liaisonv1.ExchangeClient, r *liaisonv1.RequestRequest) func(context.Context) error {
		return func(ctx context.Context) error { _, err := c.Request(ctx, r); return err }
	}
	disclose := func(r *liaisonv1.DiscloseRequest) func(context.Context) error {
		return func(ctx context.Context) error { _, err := prison.Disclose(ctx, r); return err }
	}
	s.checkPaths(t, []path{
		{name: "request/missing subject", call: request(police, riskReq(func(r *liaisonv1.RequestRequest) { r.SubjectId = "" })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "subject_id"},
		{name: "request/subject with a trailing space", call: request(police, riskReq(func(r *liaisonv1.RequestRequest) { r.SubjectId = "SYN-NL-0001 " })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "subject_id"},
		{name: "request/unknown record type", call: request(police, riskReq(func(r *liaisonv1.RequestRequest) { r.RecordType = 99 })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "record_type"},
		{name: "request/no purpose", call: request(police, riskReq(func(r *liaisonv1.RequestRequest) { r.Purpose = 0 })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "purpose"},
		{name: "request/unknown holder", call: request(police, riskReq(func(r *liaisonv1.RequestRequest) { r.Holder = "xx-nobody" })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "holder"},
		{name: "request/identifier in justification", call: request(police, riskReq(func(r *liaisonv1.RequestRequest) { r.Justification = "about SYN-NL-0001" })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "justification"},
		{name: "request/unknown case", call: request(police, riskReq(func(r *liaisonv1.RequestRequest) { r.CaseId = "NL-NOPE" })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "case_id"},
		{name: "request/unknown subject", call: request(police, riskReq(func(r *liaisonv1.RequestRequest) { r.SubjectId = "SYN-NL-0404" })),
			code: codes.NotFound, outcome: "not_found", entry: "NOT_FOUND"},
		{name: "request/record not held", call: request(police, riskReq(func(r *liaisonv1.RequestRequest) {
			r.RecordType = liaisonv1.RecordType_RECORD_TYPE_POLICE_OBSERVATION
		})), code: codes.NotFound, outcome: "not_found", entry: "NOT_FOUND"},
		{name: "request/policy deny", call: request(ngo, riskReq(nil)), code: codes.PermissionDenied, outcome: "deny"},
		{name: "request/pseudonymised", call: request(police, riskReq(nil)), code: codes.OK, outcome: "pseudonymise"},

		{name: "disclose/no record", call: disclose(noticeReq(s, func(r *liaisonv1.DiscloseRequest) { r.Record = nil })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "record"},
		{name: "disclose/no subject attributes", call: disclose(noticeReq(s, func(r *liaisonv1.DiscloseRequest) { r.Subject = nil })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "subject"},
		{name: "disclose/no subject category", call: disclose(noticeReq(s, func(r *liaisonv1.DiscloseRequest) { r.Subject.Category = 0 })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "subject.category"},
		{name: "disclose/unknown recipient", call: disclose(noticeReq(s, func(r *liaisonv1.DiscloseRequest) { r.Recipients = []string{"xx-nobody"} })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "recipients[0]"},
		{name: "disclose/identifier in justification", call: disclose(noticeReq(s, func(r *liaisonv1.DiscloseRequest) { r.Justification = "SYN-DK-0001 leaves" })),
			code: codes.InvalidArgument, outcome: "refused", entry: "INVALID_ARGUMENT", field: "justification"},
		{name: "disclose/policy deny", call: disclose(noticeReq(s, func(r *liaisonv1.DiscloseRequest) { r.Recipients = []string{"nl-ngo-exit"} })),
			code: codes.PermissionDenied, outcome: "deny"},
		{name: "disclose/disclosed", call: disclose(noticeReq(s, nil)), code: codes.OK, outcome: "disclose"},
	})

	// A Request whose holder does not know the subject, under a policy
	// that allows the exchange, ends as not_found.
	t.Run("request/not found under an allowing decision", func(t *testing.T) {
		err, entries := s.grown(t, func() error {
			_, err := police.Request(t.Context(), riskReq(func(r *liaisonv1.RequestRequest) {
				r.RecordType = liaisonv1.RecordType_RECORD_TYPE_EXIT_PROGRAMME_STATUS
			}))
			return err
		})
		if len(entries) != 1 {
			t.Fatalf("%d entries, want 1", len(entries))
		}
		e := entries[0]
		switch {
		case err == nil:
			t.Fatal("a record the holder does not hold was released")
		case e.Outcome == "deny":
			// The pack refuses this record type outright: also truthful.
		case e.Outcome != "not_found" || !slices.Contains(e.Reasons, "NOT_FOUND") || len(e.FieldsDisclosed) > 0:
			t.Errorf("entry outcome %q reasons %v fields %v, want not_found", e.Outcome, e.Reasons, e.FieldsDisclosed)
		}
	})

	// A Disclose to several recipients is one exchange each.
	t.Run("disclose/two recipients, two entries", func(t *testing.T) {
		var resp *liaisonv1.DiscloseResponse
		err, entries := s.grown(t, func() error {
			var err error
			resp, err = prison.Disclose(t.Context(), noticeReq(s, func(r *liaisonv1.DiscloseRequest) {
				r.Recipients = []string{"dk-police-aarhus", "nl-ngo-exit"}
			}))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Outcome != "disclose" || entries[1].Outcome != "deny" {
			t.Fatalf("entries = %d (%v), want a disclose and a deny", len(entries), entries)
		}
		r := resp.GetResults()
		if r[0].GetAuditIndex() == r[1].GetAuditIndex() || r[1].GetOutcome() != liaisonv1.Outcome_OUTCOME_DENY || r[1].GetFailure() != nil {
			t.Errorf("results = %v", r)
		}
		// The denial says why in words, as a call to that recipient alone
		// would; the delivery says nothing.
		_, alone := prison.Disclose(t.Context(), noticeReq(s, func(r *liaisonv1.DiscloseRequest) { r.Recipients = []string{"nl-ngo-exit"} }))
		if m := r[1].GetMessage(); m == "" || m != status.Convert(alone).Message() || r[0].GetMessage() != "" {
			t.Errorf("messages = %q and %q; want none for the delivery, and the denial's words %q", r[0].GetMessage(), m, status.Convert(alone).Message())
		}
	})

	// A Disclose that no recipient received is refused as a whole, and
	// its status still carries every recipient's result and entry.
	t.Run("disclose/nobody received, every result in the status", func(t *testing.T) {
		err, entries := s.grown(t, func() error {
			_, err := prison.Disclose(t.Context(), noticeReq(s, func(r *liaisonv1.DiscloseRequest) {
				r.Recipients = []string{"nl-ngo-exit", "nl-municipality-rotterdam"}
			}))
			return err
		})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("err = %v, want PermissionDenied", err)
		}
		var got *liaisonv1.DiscloseResponse
		for _, d := range status.Convert(err).Details() {
			if r, ok := d.(*liaisonv1.DiscloseResponse); ok {
				got = r
			}
		}
		if got == nil {
			t.Fatalf("status details %v carry no DiscloseResponse", status.Convert(err).Details())
		}
		if len(entries) != 2 || len(got.GetResults()) != 2 {
			t.Fatalf("%d entries, %d results, want 2 and 2", len(entries), len(got.GetResults()))
		}
		for i, r := range got.GetResults() {
			e := s.entry(t, r.GetAuditIndex())
			if want := []string{"nl-ngo-exit", "nl-municipality-rotterdam"}[i]; r.GetRecipient() != want || e.Recipients[0].Agency != want ||
				r.GetOutcome() != liaisonv1.Outcome_OUTCOME_DENY || e.Outcome != "deny" || len(r.GetReasons()) == 0 || !slices.Equal(r.GetReasons(), e.Reasons) {
				t.Errorf("result %d = %v, entry %d outcome %q reasons %v", i, r, r.GetAuditIndex(), e.Outcome, e.Reasons)
			}
		}
	})
}

// TestHolderUnavailableAndAuditUnavailable: the paths that depend on
// another system failing.
func TestHolderUnavailableAndAuditUnavailable(t *testing.T) {
	s := startStack(t, stackOptions{})
	police, prison := s.exchange(t, nlPolice), s.exchange(t, dkPrison)
	if _, err := police.Request(t.Context(), riskReq(nil)); err != nil { // authenticates and caches the officer
		t.Fatal(err)
	}
	if _, err := prison.Disclose(t.Context(), noticeReq(s, nil)); err != nil {
		t.Fatal(err)
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == "nl-probation" {
				f.Agencies[i].Provider = "127.0.0.1:1"
			}
		}
	})
	eventually(t, "the registry names the unreachable provider", func() bool {
		_, err := police.Request(t.Context(), riskReq(nil))
		return err != nil
	})
	s.checkPaths(t, []path{{name: "holder unavailable", call: func(ctx context.Context) error {
		_, err := police.Request(ctx, riskReq(nil))
		return err
	}, code: codes.Unavailable, reason: "HOLDER_UNAVAILABLE", outcome: "failed", entry: "HOLDER_UNAVAILABLE"}})

	// The audit store fails: nothing can be logged, so nothing leaves.
	if _, err := prison.Disclose(t.Context(), noticeReq(s, nil)); err != nil { // caches the officer under today's trust
		t.Fatal(err)
	}
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := prison.Disclose(t.Context(), noticeReq(s, nil))
	if st := wantStatus(t, err, codes.Unavailable); errorReason(st) != "AUDIT_UNAVAILABLE" || resp != nil || retryAfter(st) <= 0 {
		t.Errorf("Disclose with the store down: %v, reason %q, retry after %v; want AUDIT_UNAVAILABLE and a RetryInfo", resp, errorReason(st), retryAfter(st))
	}
}

// TestKeyOutagePaths: with the pseudonymisation keys past their staleness
// bound, a pseudonymising Request fails before the holder is asked for the
// record, and a Translate and a RequestReidentification each leave one
// entry naming KEYS_UNAVAILABLE.
//
// The keys are refreshed every 100 ms and go stale after 2 s without a
// refresh: short enough to wait for, long enough that a loaded machine
// (the whole suite on 2 cores) does not let them go stale before the
// first, successful Request (with 300 ms it did, once).
func TestKeyOutagePaths(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), keyRefresh: 100 * time.Millisecond, keyMaxStale: 2 * time.Second})
	requester := officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer", "legal_officer"}, "confidential"}
	police := s.exchange(t, requester)
	resp, err := police.Request(t.Context(), riskReq(nil))
	if err != nil {
		t.Fatal(err)
	}
	ps, domain := resp.GetReleased().GetSubjectPseudonym(), resp.GetReleased().GetPseudonymDomain()
	keys, err := os.ReadFile(s.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.keyFile, []byte("{not keys"), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the keys pass their staleness bound", func() bool {
		_, err := s.keys.Pseudonym(domain, "SYN-NL-0001")
		return err != nil
	})
	fetches := s.providers["nl-probation"].Fetches()
	s.checkPaths(t, []path{
		{name: "request", call: func(ctx context.Context) error { _, err := police.Request(ctx, riskReq(nil)); return err },
			code: codes.Unavailable, reason: "KEYS_UNAVAILABLE", outcome: "failed", entry: "KEYS_UNAVAILABLE"},
		{name: "translate", call: func(ctx context.Context) error {
			_, err := police.Translate(ctx, &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: domain,
				Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: "NL-ZVH-RTM-0042", Justification: "Bring to the case conference."})
			return err
		}, code: codes.Unavailable, reason: "KEYS_UNAVAILABLE", outcome: "failed", entry: "KEYS_UNAVAILABLE"},
		{name: "request reidentification", call: func(ctx context.Context) error {
			_, err := police.RequestReidentification(ctx, &liaisonv1.RequestReidentificationRequest{Pseudonym: ps, FromDomain: domain,
				Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk."})
			return err
		}, code: codes.Unavailable, reason: "KEYS_UNAVAILABLE", outcome: "failed", entry: "KEYS_UNAVAILABLE"},
	})
	if n := s.providers["nl-probation"].Fetches(); n != fetches {
		t.Errorf("the holder was asked for %d records it could not release", n-fetches)
	}
	if err := os.WriteFile(s.keyFile, keys, 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the keys recover", func() bool {
		_, err := police.Request(t.Context(), riskReq(nil))
		return err == nil
	})
}
