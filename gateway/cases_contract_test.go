package gateway_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// caseUpdatesIn lists the CaseUpdates of case id in an officer's inboxes,
// as "change agency".
func caseUpdatesIn(t *testing.T, s *stack, o officer, id string) []string {
	t.Helper()
	var out []string
	for _, it := range inboxItems(t, s.exchange(t, o)) {
		if u := it.GetCaseUpdate(); u != nil && u.GetCase().GetId() == id {
			out = append(out, u.GetChange()+" "+u.GetAgency())
		}
	}
	return out
}

// TestOpenCaseIDInOtherLetterCase: an OpenCase whose id differs from an
// existing case's only in letter case, of the store or of the registry
// file, is refused AlreadyExists CASE_EXISTS before any decision, as
// the same id is: whoever asks, an agency the policy would not let lead
// the case too, one refused entry.
func TestOpenCaseIDInOtherLetterCase(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, subject, why = "NL-ZVH-RTM-0800", "SYN-NL-0800", "Case consultation before the release."
	if _, err := s.cases(t, nlCouncil).OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: subject,
		Subject: nlSubject(), Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    officer
		id   string
	}{
		{"the same id, by the police", nlPolice, id},
		{"in lower case, by the police", nlPolice, strings.ToLower(id)},
		{"in lower case, by the council", nlCouncil, strings.ToLower(id)},
		{"the registry file's case in lower case, by the police", nlPolice, "nl-zvh-rtm-0042"},
	} {
		err, e := s.one(t, tc.name, "case_open", "refused", func() error {
			_, err := s.cases(t, tc.o).OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: tc.id, Kind: "nl.zvh", SubjectId: subject,
				Subject: nlSubject(), Justification: why})
			return err
		})
		if st := wantStatus(t, err, codes.AlreadyExists); errorReason(st) != "CASE_EXISTS" || !slices.Equal(e.Reasons, []string{"CASE_EXISTS"}) {
			t.Errorf("%s: reason %q, entry reasons %v; want CASE_EXISTS", tc.name, errorReason(st), e.Reasons)
		}
		if e.LegalBasis != nil {
			t.Errorf("%s: refused entry names the legal basis %+v of a decision, but the gateway refuses it before any", tc.name, e.LegalBasis)
		}
	}
}

// TestCaseReadsAreNotAuditEntries: GetCase refuses an empty or malformed
// case_id InvalidArgument on case_id, answers NotFound for a well-formed
// id of no case or of one the caller may not see; ListCases refuses an
// unknown status on status. None of them is an audit entry.
func TestCaseReadsAreNotAuditEntries(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id = "NL-ZVH-RTM-0810"
	council, ngo := s.cases(t, nlCouncil), s.cases(t, nlNGO)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0810",
		Subject: nlSubject(), Justification: "Case consultation before the release."}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		call  func() error
		code  codes.Code
		field string
	}{
		{"GetCase without an id", func() error { _, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{}); return err }, codes.InvalidArgument, "case_id"},
		{"GetCase of a malformed id", func() error {
			_, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: "no such case!"})
			return err
		}, codes.InvalidArgument, "case_id"},
		{"GetCase of no case", func() error {
			_, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: "NL-ZVH-RTM-9999"})
			return err
		}, codes.NotFound, ""},
		{"GetCase of another's case", func() error { _, err := ngo.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id}); return err }, codes.NotFound, ""},
		{"GetCase of one's own", func() error { _, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id}); return err }, codes.OK, ""},
		{"ListCases", func() error { _, err := council.ListCases(ctx, &liaisonv1.ListCasesRequest{}); return err }, codes.OK, ""},
		{"ListCases of an unknown status", func() error {
			_, err := council.ListCases(ctx, &liaisonv1.ListCasesRequest{Status: 7})
			return err
		}, codes.InvalidArgument, "status"},
	} {
		err, entries := s.grown(t, tc.call)
		if len(entries) != 0 {
			t.Errorf("%s: %d audit entries, want none", tc.name, len(entries))
		}
		if tc.code == codes.OK {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if st := wantStatus(t, err, tc.code); badField(st) != tc.field {
			t.Errorf("%s: field %q, want %q", tc.name, badField(st), tc.field)
		}
	}
}

// TestCaseUpdateRecipients: a change goes to the members after it and to
// the agency it concerns, not to the agency that made it, nor to an
// agency only invited.
func TestCaseUpdateRecipients(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0820", "Case consultation before the release."
	council, probation, police := s.cases(t, nlCouncil), s.cases(t, nlProbation), s.cases(t, nlPolice)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0820",
		Subject: nlSubject(), Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{nlProbation.agency, nlPolice.agency} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: a, Justification: why}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := probation.DeclineInvitation(ctx, &liaisonv1.DeclineInvitationRequest{CaseId: id, Justification: "Not ours."}); err != nil {
		t.Fatal(err)
	}
	if _, err := council.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: "Not needed."}); err != nil {
		t.Fatal(err)
	}
	// Invited again, the police accept and then leave.
	if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := police.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
		t.Fatal(err)
	}
	if _, err := police.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "Done."}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		o    officer
		want []string
	}{
		{nlCouncil, []string{"case_decline " + nlProbation.agency, "case_accept " + nlPolice.agency, "case_leave " + nlPolice.agency}},
		{nlProbation, []string{"case_invite " + nlProbation.agency}},
		{nlPolice, []string{"case_invite " + nlPolice.agency, "case_remove " + nlPolice.agency, "case_invite " + nlPolice.agency}},
	} {
		if got := caseUpdatesIn(t, s, w.o, id); !slices.Equal(got, w.want) {
			t.Errorf("%s's CaseUpdates: %q, want %q", w.o.agency, got, w.want)
		}
	}
}

// TestCaseChangeOfARegistryCase: a case of the registry file is changed
// there, not through the service: FailedPrecondition
// CASE_MANAGED_BY_REGISTRY, one refused entry.
func TestCaseChangeOfARegistryCase(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id = "NL-ZVH-RTM-0042"
	err, e := s.one(t, "close a registry case", "case_close", "refused", func() error {
		_, err := s.cases(t, nlCouncil).CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "Done."})
		return err
	})
	if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "CASE_MANAGED_BY_REGISTRY" || !slices.Equal(e.Reasons, []string{"CASE_MANAGED_BY_REGISTRY"}) {
		t.Errorf("reason %q, entry reasons %v; want CASE_MANAGED_BY_REGISTRY", errorReason(st), e.Reasons)
	}
	got, err := s.cases(t, nlCouncil).GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if c := got.GetCase(); err != nil || !c.GetManagedByRegistry() || c.GetVersion() != 0 || c.GetAuditIndex() != -1 || c.GetOpened() != "" {
		t.Errorf("GetCase(%s) = %v, %v; want the file's case: managed_by_registry, version 0, audit_index -1, no opened", id, c, err)
	}
}

// TestCaseCallsNeverShowTheSubject: the subject's identifier, given to
// OpenCase and named in the justifications, case ids and kinds of the
// calls, is in no error, log line or audit entry of them.
func TestCaseCallsNeverShowTheSubject(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, subject = "NL-ZVH-RTM-0830", "SYN-NL-0830"
	council, police := s.cases(t, nlCouncil), s.cases(t, nlPolice)
	open := func(o liaisonv1.CasesClient, edit func(*liaisonv1.OpenCaseRequest)) func() error {
		return func() error {
			r := &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: subject, Subject: nlSubject(), Justification: "Case consultation."}
			edit(r)
			_, err := o.OpenCase(ctx, r)
			return err
		}
	}
	var entries []*audit.Entry
	var errs []error
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"justification naming the subject", open(council, func(r *liaisonv1.OpenCaseRequest) { r.Justification = "About SYN-NL-0830." }), "justification"},
		{"case id holding the subject", open(council, func(r *liaisonv1.OpenCaseRequest) { r.CaseId = "X-" + subject }), "case_id"},
		{"kind holding the subject", open(council, func(r *liaisonv1.OpenCaseRequest) { r.Kind = "nl.syn_nl_0830" }), "kind"},
		{"municipality holding the subject", open(council, func(r *liaisonv1.OpenCaseRequest) { r.Subject.Municipality = subject }), "subject.municipality"},
		{"denied opening", open(police, func(*liaisonv1.OpenCaseRequest) {}), ""},
		{"opening", open(council, func(*liaisonv1.OpenCaseRequest) {}), ""},
		{"invite", func() error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: "Knows syn-nl-0830."})
			return err
		}, ""},
		{"denied invite", func() error {
			_, err := police.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlProbation.agency, Justification: "Knows SYN NL 0830."})
			return err
		}, ""},
		{"accept", func() error {
			_, err := police.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We know SYN-NL-0830."})
			return err
		}, ""},
		{"hand over", func() error {
			_, err := council.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: id, Agency: nlPolice.agency, Justification: "SYN-NL-0830 moved."})
			return err
		}, ""},
		{"close", func() error {
			_, err := police.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "SYN-NL-0830 is settled."})
			return err
		}, ""},
	} {
		err, es := s.grown(t, tc.call)
		if len(es) != 1 {
			t.Fatalf("%s: %d entries, want 1", tc.name, len(es))
		}
		if tc.field != "" {
			if st := wantStatus(t, err, codes.InvalidArgument); badField(st) != tc.field {
				t.Errorf("%s: field %q, want %q", tc.name, badField(st), tc.field)
			}
		}
		entries, errs = append(entries, es...), append(errs, err)
	}
	folds := []string{subject, strings.ToLower(subject), "SYN NL 0830", "syn nl 0830", "synnl0830"}
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range folds {
			if bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(f))) {
				t.Errorf("entry %s holds the subject's identifier: %s", e.Action, b)
			}
		}
	}
	for _, err := range errs {
		for _, f := range folds {
			if err != nil && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(f)) {
				t.Errorf("error %v holds the subject's identifier", err)
			}
		}
	}
	for _, f := range folds {
		if bytes.Contains(bytes.ToLower(s.logs.Bytes()), []byte(strings.ToLower(f))) {
			t.Errorf("the gateway's log holds the subject's identifier (%q)", f)
		}
	}
}

// afterDecisionClock is a gateway clock that, while armed, runs race once,
// when a change of a case reads the time after its decision (changeCase
// reads it to stamp the change): another change committed then is one the
// decision did not see.
type afterDecisionClock struct {
	*caseClock
	armed atomic.Bool
	race  func()
}

func (c *afterDecisionClock) Now() time.Time {
	if c.armed.Load() && calledFrom("changeCase") && c.armed.CompareAndSwap(true, false) {
		c.race()
	}
	return c.caseClock.Now()
}

// calledFrom reports whether the gateway's Server.now was called directly
// from the gateway function fn.
func calledFrom(fn string) bool {
	pc := make([]uintptr, 16)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	for {
		f, more := frames.Next()
		switch {
		case strings.HasSuffix(f.Function, "gateway.(*Server).now"), strings.Contains(f.Function, "gateway_test."),
			strings.HasSuffix(f.Function, "-fm"):
		default:
			return strings.HasSuffix(f.Function, "gateway.(*Server)."+fn)
		}
		if !more {
			return false
		}
	}
}

// oneOf is one, for a call during which another replica changes the same
// log: of the entries appended, exactly one has the call's action.
func (s *stack) oneOf(t *testing.T, what, action, outcome string, call func() error) (error, *audit.Entry) {
	t.Helper()
	err, entries := s.grown(t, call)
	var mine []*audit.Entry
	for _, e := range entries {
		if e.Action == action {
			mine = append(mine, e)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("%s: %d %s entries, want exactly 1", what, len(mine), action)
	}
	if e := mine[0]; e.Outcome != outcome {
		t.Errorf("%s: entry %s -> %s (reasons %v), want %s (call error %v)", what, e.Action, e.Outcome, e.Reasons, outcome, err)
	}
	return err, mine[0]
}

// TestCaseChangeRefusedWhenTheCaseChangedAfterTheDecision: a change the
// policy allowed, whose case then changed so that it can no longer be made
// (the lead handed over, the invitation withdrawn, on another replica), is
// refused FailedPrecondition NOT_CASE_LEAD or NOT_INVITED, one entry
// "refused" with that reason, and changes nothing.
func TestCaseChangeRefusedWhenTheCaseChangedAfterTheDecision(t *testing.T) {
	clk := &afterDecisionClock{caseClock: newCaseClock(caseStart)}
	s := startStack(t, stackOptions{serverNow: clk.Now})
	second := s.startGateway(t)
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0840", "Case consultation before the release."
	council, probation := s.cases(t, nlCouncil), s.cases(t, nlProbation)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0840", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{nlProbation.agency, nlPolice.agency} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: a, Justification: why}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := s.pki.Issuers[nlCouncil.agency].Mint(devpki.TokenSpec{Officer: nlCouncil.id, Roles: nlCouncil.roles, Clearance: nlCouncil.clearance, Audience: "liaison"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(s.pki.Path("agencies", nlCouncil.agency+".pem"), s.pki.Path("agencies", nlCouncil.agency+".key"))
	if err != nil {
		t.Fatal(err)
	}
	onSecond := liaisonv1.NewCasesClient(s.dial(t, second.addr, []tls.Certificate{cert}, tok))

	// The police's invitation is withdrawn after their acceptance was decided.
	clk.race = func() {
		if _, err := onSecond.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why}); err != nil {
			t.Errorf("withdrawing the invitation on the other replica: %v", err)
		}
	}
	clk.armed.Store(true)
	err, e := s.oneOf(t, "accept a withdrawn invitation", "case_accept", "refused", func() error {
		_, err := s.cases(t, nlPolice).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."})
		return err
	})
	if clk.armed.Load() {
		t.Fatal("the race never ran")
	}
	if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "NOT_INVITED" || !slices.Equal(e.Reasons, []string{"NOT_INVITED"}) {
		t.Errorf("accept of an invitation withdrawn after the decision: reason %q, entry reasons %v; want NOT_INVITED", errorReason(st), e.Reasons)
	}

	// Probation joins; the lead goes to it after the council's invitation
	// of the NGO was decided.
	if _, err := probation.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
		t.Fatal(err)
	}
	clk.race = func() {
		if _, err := onSecond.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: id, Agency: nlProbation.agency, Justification: why}); err != nil {
			t.Errorf("handing over on the other replica: %v", err)
		}
	}
	clk.armed.Store(true)
	err, e = s.oneOf(t, "invite after the lead was handed over", "case_invite", "refused", func() error {
		_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why})
		return err
	})
	if clk.armed.Load() {
		t.Fatal("the race never ran")
	}
	if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "NOT_CASE_LEAD" || !slices.Equal(e.Reasons, []string{"NOT_CASE_LEAD"}) {
		t.Errorf("invite after the lead was handed over: reason %q, entry reasons %v; want NOT_CASE_LEAD", errorReason(st), e.Reasons)
	}
	got, err := probation.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.GetCase(); c.GetLead() != nlProbation.agency || memberStatus(c, nlPolice.agency) != liaisonv1.MemberStatus_MEMBER_STATUS_REMOVED {
		t.Errorf("case after the refusals: lead %s, police %v; want probation leading, the police's invitation withdrawn", c.GetLead(), memberStatus(c, nlPolice.agency))
	}
}

// TestCaseRoleRefusals: only the lead invites, removes, hands over and
// closes (PermissionDenied NOT_CASE_LEAD); the lead does not leave
// (LEAD_CANNOT_LEAVE); nobody answers another's invitation, the lead
// included (NOT_INVITED). Each is one entry "deny" with that reason.
func TestCaseRoleRefusals(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0860", "Case consultation before the release."
	council, probation := s.cases(t, nlCouncil), s.cases(t, nlProbation)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0860", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{nlProbation.agency, nlPolice.agency} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: a, Justification: why}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := probation.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, action, reason string
		call                 func() error
	}{
		{"a member invites", "case_invite", "NOT_CASE_LEAD", func() error {
			_, err := probation.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlNGO.agency, Justification: why})
			return err
		}},
		{"a member removes", "case_remove", "NOT_CASE_LEAD", func() error {
			_, err := probation.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why})
			return err
		}},
		{"a member hands over", "case_handover", "NOT_CASE_LEAD", func() error {
			_, err := probation.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: id, Agency: nlProbation.agency, Justification: why})
			return err
		}},
		{"a member closes", "case_close", "NOT_CASE_LEAD", func() error {
			_, err := probation.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: why})
			return err
		}},
		{"the lead leaves", "case_leave", "LEAD_CANNOT_LEAVE", func() error {
			_, err := council.LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: why})
			return err
		}},
		{"the lead declines for the police", "case_decline", "NOT_INVITED", func() error {
			_, err := council.DeclineInvitation(ctx, &liaisonv1.DeclineInvitationRequest{CaseId: id, Justification: why})
			return err
		}},
	} {
		err, e := s.one(t, tc.name, tc.action, "deny", tc.call)
		if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != tc.reason || !slices.Contains(e.Reasons, tc.reason) {
			t.Errorf("%s: reason %q, entry reasons %v; want %s", tc.name, errorReason(st), e.Reasons, tc.reason)
		}
	}
	got, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil || got.GetCase().GetVersion() != 4 {
		t.Errorf("case after the refusals: %v, %v; want version 4, unchanged", got.GetCase(), err)
	}
}

// TestListCasesBeyondOnePart: ListCases lists every case of the agency,
// by id, however many: the store answers at most 1000 cases a read, and
// ListCases read once, so that an agency in more cases than that was told
// of the first thousand only.
func TestListCasesBeyondOnePart(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	council := s.cases(t, nlCouncil)
	before, err := council.ListCases(ctx, &liaisonv1.ListCasesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1001
	ids := make(chan string, n)
	for i := range n {
		ids <- fmt.Sprintf("NL-ZVH-LIST-%04d", i)
	}
	close(ids)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range 8 {
		wg.Go(func() {
			for id := range ids {
				if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0801",
					Subject: nlSubject(), Justification: "Case consultation before the release."}); err != nil {
					errs <- fmt.Errorf("OpenCase %s: %w", id, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, st := range []liaisonv1.CaseStatus{liaisonv1.CaseStatus_CASE_STATUS_UNSPECIFIED, liaisonv1.CaseStatus_CASE_STATUS_OPEN} {
		after, err := council.ListCases(ctx, &liaisonv1.ListCasesRequest{Status: st})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range after.GetCases() {
			got = append(got, c.GetId())
		}
		if st == liaisonv1.CaseStatus_CASE_STATUS_UNSPECIFIED && len(got) != len(before.GetCases())+n {
			t.Errorf("ListCases lists %d cases after %d more were opened, want %d", len(got), n, len(before.GetCases())+n)
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("ListCases(%v) is not by id, each once", st)
		}
		for _, want := range []string{"NL-ZVH-LIST-0000", "NL-ZVH-LIST-0999", "NL-ZVH-LIST-1000"} {
			if !slices.Contains(got, want) {
				t.Errorf("ListCases(%v) leaves out %s", st, want)
			}
		}
	}
}

// decideHook is a span processor that runs race once, in the call's own
// goroutine, when the next "decide" span ends: after the policy decided,
// before the exchange commits its entry.
type decideHook struct {
	armed atomic.Bool
	race  func()
}

func (h *decideHook) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (h *decideHook) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.Name() == "decide" && h.armed.CompareAndSwap(true, false) {
		h.race()
	}
}
func (h *decideHook) Shutdown(context.Context) error   { return nil }
func (h *decideHook) ForceFlush(context.Context) error { return nil }

// TestOpenCaseTakenAfterTheDecision: an OpenCase whose id another OpenCase
// took after its check and before its commit is refused as one whose id
// was taken before: AlreadyExists, ErrorInfo reason CASE_EXISTS, and one
// entry, refused CASE_EXISTS, that records the attempt truthfully: the id
// it was to open, and no case_version or members of a case it never made
// (the case is the other call's).
func TestOpenCaseTakenAfterTheDecision(t *testing.T) {
	hook := &decideHook{}
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now,
		tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(hook))})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0850", "Case consultation before the release."
	var other error
	hook.race = func() {
		_, other = s.cases(t, nlCouncil).OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: strings.ToLower(id), Kind: "nl.zvh",
			SubjectId: "SYN-NL-0851", Subject: nlSubject(), Justification: why})
	}
	hook.armed.Store(true)
	err, entries := s.grown(t, func() error {
		_, err := s.cases(t, nlCouncil).OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0850",
			Subject: nlSubject(), Justification: why})
		return err
	})
	if hook.armed.Load() {
		t.Fatal("the race never ran")
	}
	if other != nil {
		t.Fatalf("the other OpenCase: %v", other)
	}
	var mine []*audit.Entry
	for _, e := range entries {
		if e.Case != nil && e.Case.ID == id {
			mine = append(mine, e)
		}
	}
	if len(entries) != 2 || len(mine) != 1 {
		t.Fatalf("%d entries, %d of them naming %s; want 2: the other opening's and this one's", len(entries), len(mine), id)
	}
	e := mine[0]
	if e.Action != "case_open" || e.Outcome != "refused" || !slices.Equal(e.Reasons, []string{"CASE_EXISTS"}) {
		t.Errorf("entry %s %s %v, want case_open refused CASE_EXISTS", e.Action, e.Outcome, e.Reasons)
	}
	if v, ok := e.Detail["case_version"]; ok {
		t.Errorf("refused entry records case_version %s: a version it never wrote", v)
	}
	if len(e.Case.Members) > 0 || e.Case.Lead != "" {
		t.Errorf("refused entry's case %+v names members or a lead of a case it never made", e.Case)
	}
	if st := wantStatus(t, err, codes.AlreadyExists); errorReason(st) != "CASE_EXISTS" {
		t.Errorf("open of an id taken after the decision: reason %q, want CASE_EXISTS", errorReason(st))
	}
}
