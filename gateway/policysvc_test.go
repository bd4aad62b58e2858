package gateway_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies/policytest"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestSimulateExplains: Policy.Simulate returns, with the decision and its
// explanation, the stage that decided and the assumptions it rests on, as
// `liaison policy simulate` prints them.
func TestSimulateExplains(t *testing.T) {
	s := startStack(t, stackOptions{})
	pc := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor))
	in := map[string]any{}
	if err := json.Unmarshal([]byte(`{
		"action": "request", "time": "2026-11-26T10:00:00Z",
		"requester": {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL",
			"officer": {"id": "o", "roles": ["case_officer"], "clearance": "confidential"}},
		"holder": {"agency": "nl-probation", "kind": "probation", "jurisdiction": "NL"},
		"recipient": {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL"},
		"subject": {"category": "convicted", "in_custody": false, "release_date": "2026-05-04", "probation_until": "2028-05-03", "municipality": "Rotterdam"},
		"record_type": "risk_assessment", "purpose": "risk_management", "claimed_legal_basis": "", "justification": "Risk review."
	}`), &in); err != nil {
		t.Fatal(err)
	}
	st, err := structpb.NewStruct(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := pc.Simulate(t.Context(), &liaisonv1.SimulateRequest{Input: st})
	if err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	if got := resp.GetDecision().GetFields()["outcome"].GetStringValue(); got != "pseudonymise" {
		t.Errorf("outcome = %q, want pseudonymise", got)
	}
	if resp.GetStage() != "fallback" {
		t.Errorf("stage = %q, want fallback", resp.GetStage())
	}
	if len(resp.GetAssumptions()) == 0 || !strings.Contains(strings.Join(resp.GetAssumptions(), " "), "not verified") {
		t.Errorf("assumptions = %q, want the pack's unverified reading of Dutch law", resp.GetAssumptions())
	}
	if len(resp.GetExplanation()) == 0 || resp.GetRevision() == "" {
		t.Errorf("explanation %q, revision %q: want both", resp.GetExplanation(), resp.GetRevision())
	}
}

// TestSimulateReadsKeysAsSpelt: Policy.Simulate reads the input as the
// policy does, key by key as spelt: "Purpose" beside "purpose" is not the
// purpose (OPA ignores it), so Simulate refuses the input naming the key
// rather than deciding on it.
func TestSimulateReadsKeysAsSpelt(t *testing.T) {
	s := startStack(t, stackOptions{})
	pc := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor))
	in := map[string]any{}
	if err := json.Unmarshal([]byte(`{
		"action": "disclose", "time": "2026-11-26T10:00:00Z",
		"requester": {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK",
			"officer": {"id": "o", "roles": ["release_officer"], "clearance": "confidential"}},
		"holder": {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK"},
		"recipient": {"agency": "dk-police-aarhus", "kind": "police", "jurisdiction": "DK"},
		"subject": {"category": "convicted", "in_custody": true, "release_date": "2026-12-15", "probation_until": "", "municipality": "Aarhus"},
		"record_type": "release_notice", "purpose": "risk_management", "Purpose": "criminal_investigation",
		"claimed_legal_basis": "", "justification": "Release scheduled."
	}`), &in); err != nil {
		t.Fatal(err)
	}
	st, err := structpb.NewStruct(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := pc.Simulate(t.Context(), &liaisonv1.SimulateRequest{Input: st})
	sts := wantStatus(t, err, codes.InvalidArgument)
	if f := badField(sts); f != "input" || !strings.Contains(sts.Message(), `"Purpose"`) {
		t.Errorf("Simulate with a key \"Purpose\" = %v (field %q), %v; want InvalidArgument on input naming the key", err, f, resp.GetDecision())
	}
}

// TestReloadNamesItsCaller: Policy.Reload's policy_activate entry names
// the legal officer who asked, agency and officer, as its requester (so
// that Audit.Query by agency or officer finds it); it said only
// detail.by, an officer id without its agency, and no query found it. A
// Reload by a caller without the legal_officer role is refused and
// recorded too, refused ROLE_REQUIRED: it left no entry.
func TestReloadNamesItsCaller(t *testing.T) {
	s := startStack(t, stackOptions{})
	lo := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	rr, err := liaisonv1.NewPolicyClient(s.conn(t, lo)).Reload(t.Context(), &liaisonv1.ReloadRequest{})
	if err != nil || !rr.GetActivation().GetOk() {
		t.Fatalf("Reload = %v, %v", rr, err)
	}
	_, err = liaisonv1.NewPolicyClient(s.conn(t, dkAuditor)).Reload(t.Context(), &liaisonv1.ReloadRequest{})
	wantStatus(t, err, codes.PermissionDenied)

	n, err := s.store.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range n {
		e := s.entry(t, i)
		if e.Action != "policy_activate" || e.Detail["by"] == "start" {
			continue
		}
		r := e.Requester
		if r == nil {
			t.Errorf("entry %d (%s %v, by %q) names no requester", i, e.Outcome, e.Reasons, e.Detail["by"])
			continue
		}
		got = append(got, strings.Join([]string{e.Outcome, strings.Join(e.Reasons, ","), r.Agency, r.Officer, e.Detail["by"]}, " "))
	}
	want := []string{"ok  nl-probation lo.bakker lo.bakker", "refused ROLE_REQUIRED dk-prison-east dpo.kristensen dpo.kristensen"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the Reload entries say\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStatusTellsTheStartOnTheGatewaysClock: Policy.GetStatus says when
// the policy the gateway started with became active on the gateway's
// clock (Config.Now), as every other time it reports and records: it
// gave the wall clock's time, which under a simulated clock (a tabletop
// exercise, these tests) is another day than the log's.
func TestStatusTellsTheStartOnTheGatewaysClock(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	st, err := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor)).GetStatus(t.Context(), &liaisonv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetActivatedAt() != "2026-11-26T10:00:00Z" || st.GetLastAttempt().GetTime() != "2026-11-26T10:00:00Z" {
		t.Errorf("GetStatus: activated at %s, last attempt at %s; want 2026-11-26T10:00:00Z, the gateway's clock", st.GetActivatedAt(), st.GetLastAttempt().GetTime())
	}
}

// hungUp is the context of a call whose caller hangs up as soon as the
// gateway reads from it who they are, at the very start of the call.
type hungUp struct {
	context.Context
	hangUp context.CancelFunc
}

func (h hungUp) Value(key any) any {
	h.hangUp()
	return h.Context.Value(key)
}

// TestReloadOutlivesItsCaller: Policy.Reload activated the candidate on
// the call's context, so a legal officer who hung up (or whose deadline
// passed) while the candidate's own tests ran had a good candidate
// refused as "context canceled", and the entry said failed
// POLICY_NOT_ACTIVATED of a policy that nothing was wrong with. The
// activation now runs to its end without the caller: the candidate is
// active, and the entry says ok with its revision.
func TestReloadOutlivesItsCaller(t *testing.T) {
	// The gateway starts on a revision other than the embedded policy,
	// which Reload reads (the configured source).
	s := startStack(t, stackOptions{policy: policytest.Patched(t, "nl/nl.rego",
		"package liaison.jurisdictions.nl\n", "package liaison.jurisdictions.nl\n\n# before the reload\n")})
	pc := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor))
	before, err := pc.GetStatus(t.Context(), &liaisonv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}

	lo := authn.Caller{Agency: &authn.Agency{ID: "nl-probation", Kind: "probation", Jurisdiction: "NL"},
		Officer: authn.Officer{ID: "lo.bakker", Roles: []string{"legal_officer"}, Clearance: "confidential"}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rr, err := s.srv.Reload(hungUp{authn.NewContext(ctx, lo), cancel}, &liaisonv1.ReloadRequest{})
	if ctx.Err() == nil {
		t.Fatal("the caller did not hang up: the test shows nothing")
	}
	a := rr.GetActivation()
	if err != nil || !a.GetOk() || a.GetRevision() == before.GetRevision() {
		t.Fatalf("Reload whose caller hung up = %v, %v; want the embedded policy activated, not %s", a, err, before.GetRevision())
	}
	st, err := pc.GetStatus(t.Context(), &liaisonv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetRevision() != a.GetRevision() {
		t.Errorf("active revision after the Reload = %s, want %s", st.GetRevision(), a.GetRevision())
	}
	n, err := s.store.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e := s.entry(t, n-1)
	if e.Action != "policy_activate" || e.Outcome != "ok" || e.PolicyRevision != a.GetRevision() || e.Detail["by"] != "lo.bakker" || e.Detail["error"] != "" {
		t.Errorf("the Reload's entry: %s %s %v revision %s by %q, error %q; want policy_activate ok, revision %s, by lo.bakker",
			e.Action, e.Outcome, e.Reasons, e.PolicyRevision, e.Detail["by"], e.Detail["error"], a.GetRevision())
	}
}

// begun is the context of a call that says on began when the gateway
// first reads from it who the caller is, at the start of the call.
type begun struct {
	context.Context
	began chan<- struct{}
	once  *sync.Once
}

func (b begun) Value(key any) any {
	b.once.Do(func() { close(b.began) })
	return b.Context.Value(key)
}

// TestReloadEndsWithTheGateway: since a Reload's activation outlives its
// caller, a gateway that stopped while a legal officer's Reload was still
// loading the candidate returned from Close at once, and closed its log
// under the Reload: its entry could not be written, and the attempt was
// in no entry. Close now ends the activation and waits for its entry,
// which says the gateway stopped before the activation ended.
func TestReloadEndsWithTheGateway(t *testing.T) {
	s := startStack(t, stackOptions{policy: policytest.Patched(t, "nl/nl.rego",
		"package liaison.jurisdictions.nl\n", "package liaison.jurisdictions.nl\n\n# before the reload\n")})
	lo := authn.Caller{Agency: &authn.Agency{ID: "nl-probation", Kind: "probation", Jurisdiction: "NL"},
		Officer: authn.Officer{ID: "lo.bakker", Roles: []string{"legal_officer"}, Clearance: "confidential"}}
	n0, err := s.store.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	began := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.srv.Reload(begun{authn.NewContext(t.Context(), lo), began, new(sync.Once)}, &liaisonv1.ReloadRequest{})
		done <- err
	}()
	<-began
	t0 := time.Now()
	s.srv.Close() // as liaison serve's Stop does, before it closes the log
	stopped := time.Since(t0)
	n, err := s.store.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != n0+1 {
		t.Fatalf("the log holds %d entries after Close, %d before the Reload; want the Reload's one entry written before Close returned", n, n0)
	}
	e := s.entry(t, n-1)
	if e.Action != "policy_activate" || e.Detail["by"] != "lo.bakker" {
		t.Fatalf("the last entry is %s by %q; want the Reload's policy_activate by lo.bakker", e.Action, e.Detail["by"])
	}
	// The embedded policy's tests take seconds: a Reload that ended in
	// the time Close took was ended by it, and says so.
	if e.Outcome == "ok" {
		t.Logf("the activation ended before Close (%v): nothing to show about a stopped one", stopped)
	} else if e.Outcome != "failed" || !slices.Equal(e.Reasons, []string{"POLICY_NOT_ACTIVATED"}) || !strings.Contains(e.Detail["error"], "the gateway stopped before the activation ended") {
		t.Errorf("the Reload's entry: %s %v, error %q; want failed POLICY_NOT_ACTIVATED, the gateway stopped", e.Outcome, e.Reasons, e.Detail["error"])
	}
	if err := <-done; err != nil {
		t.Errorf("Reload = %v; want its activation reported", err)
	}
}

// TestPolicyServiceRolesAreNamed: the Policy service's reads (GetStatus,
// Simulate, GetReadiness) take the legal_officer or the auditor role, and
// Reload the legal_officer role alone. A caller with neither was refused
// "this service needs the legal_officer role", though an auditor may read
// it too; the refusal now names every role that would do.
func TestPolicyServiceRolesAreNamed(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	auditor := liaisonv1.NewPolicyClient(s.conn(t, dkAuditor))
	if _, err := auditor.GetStatus(ctx, &liaisonv1.GetStatusRequest{}); err != nil {
		t.Errorf("GetStatus as an auditor: %v", err)
	}
	if _, err := auditor.GetReadiness(ctx, &liaisonv1.GetReadinessRequest{Jurisdiction: "DK"}); err != nil {
		t.Errorf("GetReadiness as an auditor: %v", err)
	}
	officer := liaisonv1.NewPolicyClient(s.conn(t, dkPrison))
	for name, call := range map[string]func() error{
		"GetStatus": func() error { _, err := officer.GetStatus(ctx, &liaisonv1.GetStatusRequest{}); return err },
		"Simulate":  func() error { _, err := officer.Simulate(ctx, &liaisonv1.SimulateRequest{}); return err },
		"GetReadiness": func() error {
			_, err := officer.GetReadiness(ctx, &liaisonv1.GetReadinessRequest{Jurisdiction: "DK"})
			return err
		},
	} {
		st := wantStatus(t, call(), codes.PermissionDenied)
		if errorReason(st) != "ROLE_REQUIRED" || !strings.Contains(st.Message(), "legal_officer or auditor") {
			t.Errorf("%s as a case officer: %q (reason %s), want ROLE_REQUIRED naming legal_officer or auditor", name, st.Message(), errorReason(st))
		}
	}
	_, err := auditor.Reload(ctx, &liaisonv1.ReloadRequest{})
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "ROLE_REQUIRED" || !strings.Contains(st.Message(), "legal_officer role") ||
		strings.Contains(st.Message(), "auditor") {
		t.Errorf("Reload as an auditor: %q, want ROLE_REQUIRED naming legal_officer alone", st.Message())
	}
}
