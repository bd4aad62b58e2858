package gateway_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// holdDescribes is a holder interceptor that holds every Describe until
// its caller gives up (or 10 s), after telling asked that it was called.
func holdDescribes(asked chan<- struct{}) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if strings.HasSuffix(info.FullMethod, "/Describe") {
			select {
			case asked <- struct{}{}:
			default:
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
			}
		}
		return h(ctx, req)
	}
}

// TestMatchEndingWhileHoldersAreAskedIsNoHolderOutage: a Match whose own
// deadline passed, or whose caller hung up, while a holder was asked was
// recorded as the holder's outage: each answer not yet given an entry
// failed HOLDER_UNAVAILABLE, and the gateway's log warned "record provider
// unavailable", though the holder was up (its Describe was held until the
// caller gave up, far within the match's deadline_ms and the holder's own
// bound). Each answer's one entry now says what happened, failed
// DEADLINE_EXCEEDED or CANCELED, as Request's does. A holder that does not
// answer within deadline_ms is still unavailable (TestMatchFiveHolders).
func TestMatchEndingWhileHoldersAreAskedIsNoHolderOutage(t *testing.T) {
	types := []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE}
	for _, tc := range []struct {
		name    string
		code    codes.Code
		reasons []string
	}{
		// The caller's end of the call may reset it before the gateway's
		// timer for the same deadline fires: the gateway then sees it
		// canceled.
		{"deadline", codes.DeadlineExceeded, []string{"DEADLINE_EXCEEDED", "CANCELED"}},
		{"hang up", codes.Canceled, []string{"CANCELED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := make(chan struct{}, 1)
			s := startStack(t, stackOptions{holderInterceptor: holdDescribes(asked)})
			police := s.exchange(t, nlPolice)
			// Authenticates (and caches) the officer, without an exchange.
			if _, err := police.ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{}); err != nil {
				t.Fatal(err)
			}
			before, err := s.db.Size(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var ctx context.Context
			var cancel context.CancelFunc
			if tc.code == codes.DeadlineExceeded {
				ctx, cancel = context.WithTimeout(t.Context(), 1500*time.Millisecond)
			} else {
				ctx, cancel = context.WithCancel(t.Context())
				go func() {
					select {
					case <-asked:
						cancel() // the caller hangs up while the holder is asked
					case <-time.After(20 * time.Second):
					}
				}()
			}
			defer cancel()
			_, err = police.Match(ctx, &liaisonv1.MatchRequest{
				SubjectId: "SYN-NL-0001", RecordTypes: types, Holders: []string{"nl-probation"},
				Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
				Justification: "Stopped in a routine check; does any partner know this person?",
				DeadlineMs:    20000, // the call's own end comes first
			})
			if status.Code(err) != tc.code {
				t.Fatalf("Match: %v, want %v", err, tc.code)
			}
			if tc.code == codes.DeadlineExceeded {
				select {
				case <-asked:
				default:
					t.Fatal("the holder was not asked before the call's deadline")
				}
			}
			eventually(t, "the answers' entries", func() bool { n, _ := s.db.Size(t.Context()); return n >= before+int64(len(types)) })
			time.Sleep(100 * time.Millisecond) // no further entry follows
			if n, _ := s.db.Size(t.Context()); n != before+int64(len(types)) {
				t.Fatalf("the match left %d entries, want one per record type (%d)", n-before, len(types))
			}
			for i := range int64(len(types)) {
				e := s.entry(t, before+i)
				last := ""
				if len(e.Reasons) > 0 {
					last = e.Reasons[len(e.Reasons)-1]
				}
				// The policy allowed the question: its reasons come first.
				if e.Action != "match" || e.Outcome != "failed" || !slices.Contains(tc.reasons, last) ||
					slices.Contains(e.Reasons, "HOLDER_UNAVAILABLE") || len(e.FieldsDisclosed) > 0 || e.Detail["answer"] != "" {
					t.Errorf("entry %d: %s %s %v detail %v, want a match failed %s", before+i, e.Action, e.Outcome, e.Reasons, e.Detail, strings.Join(tc.reasons, " or "))
				}
			}
			if bytes.Contains(s.logs.Bytes(), []byte("record provider unavailable")) {
				t.Error("the gateway's log says the holder was unavailable")
			}
		})
	}
}

// TestMatchReferenceOfARetiredKeyVersion: a match reference sealed under a
// key version that retired within the reference's day (an operator may
// retire a version early, or run a short transition window) was refused
// MATCH_REFERENCE_INVALID, "not one this gateway issued", like a forged
// one, though this gateway issued it. It is now refused KEY_VERSION_RETIRED
// (PermissionDenied, one refused entry), as a re-identification of a
// pseudonym of a retired version is; within the transition window it
// still opens.
func TestMatchReferenceOfARetiredKeyVersion(t *testing.T) {
	ctx := t.Context()
	path := t.TempDir() + "/keys.json"
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	var keyClock atomic.Int64
	keyClock.Store(time.Now().UnixNano())
	src := pseudonym.FileKeys{Path: path, TransitionWindow: time.Hour, Now: func() time.Time { return time.Unix(0, keyClock.Load()) }}
	s := startStack(t, stackOptions{keySource: src, keyRefresh: time.Hour})
	police := s.exchange(t, nlPolice)
	match := func() string {
		t.Helper()
		resp, err := police.Match(ctx, &liaisonv1.MatchRequest{
			SubjectId: "SYN-NL-0001", Holders: []string{"nl-probation"},
			RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
			Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Stopped in a routine check; does any partner know this person?",
		})
		if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetAnswer() != liaisonv1.MatchAnswer_MATCH_ANSWER_HIT {
			t.Fatalf("Match = %v, %v; want one hit", resp, err)
		}
		return resp.GetResults()[0].GetReference()
	}
	step2 := func(ref string) error {
		_, err := police.Request(ctx, &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: "SYN-NL-0001",
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "The match showed a hit; the assessment is needed to plan the contact.", MatchReference: ref,
		})
		return err
	}
	reload := func() {
		t.Helper()
		if err := s.keys.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	first, second := match(), match()
	// The keys rotate: within the transition window, a reference sealed
	// under version 1 still opens.
	if _, err := pseudonym.RotateKeyFile(path, time.Unix(0, keyClock.Load())); err != nil {
		t.Fatal(err)
	}
	reload()
	if err := step2(first); err != nil {
		t.Fatalf("step two within the transition window: %v", err)
	}
	// Version 1 retires, within the reference's day.
	keyClock.Add(int64(2 * time.Hour))
	reload()
	err, e := s.one(t, "step two after the key version retired", "request", "refused", func() error { return step2(second) })
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "KEY_VERSION_RETIRED" || !strings.Contains(st.Message(), "match again") {
		t.Errorf("step two after the key version retired: %v (%s); want PermissionDenied KEY_VERSION_RETIRED", st.Message(), errorReason(st))
	}
	if !slices.Equal(e.Reasons, []string{"KEY_VERSION_RETIRED"}) {
		t.Errorf("the refusal's entry: reasons %v; want KEY_VERSION_RETIRED", e.Reasons)
	}
	// A reference sealed under the current version opens; one naming a
	// version above it may be another replica's, sealed under a version
	// this one has not loaded yet: it cannot be checked here yet
	// (TestMatchReferenceOfAVersionNotLoadedYet).
	if err := step2(match()); err != nil {
		t.Fatalf("step two after a new match: %v", err)
	}
	if err := step2("mref1.AAAAAwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); reasonOf(err) != "KEYS_UNAVAILABLE" {
		t.Errorf("a reference naming version 3: %v; want KEYS_UNAVAILABLE", err)
	}
}

// TestMatchIsCountedPerAnswer: liaison_requests_total counts an exchange
// once per entry, a Match once per holder and record type. A valid Match
// was counted once more, failed AUDIT_UNAVAILABLE (the call's own
// exchange, whose entry is never written), so that every Match fired the
// LiaisonAuditUnavailable alert (deploy/prometheus/alerts.yaml).
func TestMatchIsCountedPerAnswer(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := startStack(t, stackOptions{metrics: reg})
	resp, err := s.exchange(t, nlPolice).Match(t.Context(), &liaisonv1.MatchRequest{
		SubjectId:     "SYN-NL-0001",
		RecordTypes:   []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE},
		Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Stopped in a routine check; does any partner know this person?",
		Holders:       []string{"nl-probation"},
	})
	if err != nil || len(resp.GetResults()) != 2 {
		t.Fatalf("Match = %v, %v; want two answers", resp, err)
	}
	method := strings.TrimPrefix(liaisonv1.Exchange_Match_FullMethodName, "/")
	// The call's duration is observed after its answers are counted.
	var counts map[string]float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		counts = gatherCounts(t, reg)
		if counts["liaison_request_duration_seconds "+method] >= 1 || time.Now().After(deadline) {
			break
		}
	}
	var total, hits float64
	for key, v := range counts {
		if strings.HasPrefix(key, "liaison_requests_total "+method+" ") {
			total += v
			if strings.HasPrefix(key, "liaison_requests_total "+method+" hit_only ") {
				hits += v
			}
			if strings.HasSuffix(key, " AUDIT_UNAVAILABLE") {
				t.Errorf("%s = %v: the audit log was up", key, v)
			}
		}
	}
	if total != 2 || hits != 2 {
		t.Errorf("the Match counted %v times (%v hit_only), want twice, once per answer: %v", total, hits, counts)
	}
}

// TestMatchOnACaseClosedWhileHoldersAreAsked: a Match within a case is
// decided on the case and committed once the holder has answered; a case
// closed meanwhile stops each answer at its commit, as it stops a
// Request: the answer is denied (reason CASE_CLOSED, no reference), its
// entry refused and without the holder's answer. MatchAnswer's and
// MatchResult's comments said a denied answer is the law's and the holder
// was not asked, its entry deny; they now say this too.
func TestMatchOnACaseClosedWhileHoldersAreAsked(t *testing.T) {
	asked, release := make(chan struct{}, 1), make(chan struct{})
	gate := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if info.FullMethod == liaisonv1.RecordProvider_Describe_FullMethodName {
			select {
			case asked <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-time.After(30 * time.Second):
			}
		}
		return h(ctx, req)
	}
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now, holderInterceptor: gate})
	ctx := t.Context()
	council, police, probation := s.cases(t, nlCouncil), s.cases(t, nlPolice), s.cases(t, nlProbation)
	const id = "NL-ZVH-RTM-0301"
	why := "Case consultation before the release."
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001",
		Subject: nlSubject(), Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		agency string
		c      liaisonv1.CasesClient
	}{{"nl-police-rotterdam", police}, {"nl-probation", probation}} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: m.agency, Justification: why}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.c.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We take part."}); err != nil {
			t.Fatal(err)
		}
	}
	var resp *liaisonv1.MatchResponse
	var merr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, merr = s.exchange(t, nlPolice).Match(ctx, &liaisonv1.MatchRequest{
			SubjectId: "SYN-NL-0001", CaseId: id, Holders: []string{"nl-probation"},
			RecordTypes: []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
			Purpose:     liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Does the probation service know this person?",
			DeadlineMs: 30000,
		})
	}()
	select {
	case <-asked:
	case <-done:
		t.Fatalf("the Match ended before the holder was asked: %v, %v", resp, merr)
	case <-time.After(20 * time.Second):
		t.Fatal("the holder was never asked")
	}
	if _, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "Supervision ended."}); err != nil {
		t.Fatal(err)
	}
	close(release)
	<-done
	if merr != nil || len(resp.GetResults()) != 1 {
		t.Fatalf("Match = %v, %v; want one answer", resp, merr)
	}
	r := resp.GetResults()[0]
	if r.GetAnswer() != liaisonv1.MatchAnswer_MATCH_ANSWER_DENIED || !slices.Equal(r.GetReasons(), []string{"CASE_CLOSED"}) ||
		r.GetReference() != "" || r.GetReferenceExpiresAt() != "" {
		t.Errorf("answer %v reasons %v reference %q; want denied CASE_CLOSED, no reference", r.GetAnswer(), r.GetReasons(), r.GetReference())
	}
	e := s.entry(t, r.GetAuditIndex())
	if e.Action != "match" || e.Outcome != "refused" || !slices.Equal(e.Reasons, []string{"CASE_CLOSED"}) ||
		len(e.FieldsDisclosed) > 0 || e.Detail["answer"] != "" || e.Detail["reference_expires_at"] != "" {
		t.Errorf("entry %s %s %v fields %v detail %v; want a match refused CASE_CLOSED without the holder's answer",
			e.Action, e.Outcome, e.Reasons, e.FieldsDisclosed, e.Detail)
	}
}
