package gateway_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

func TestTranslateAndDualControlReidentification(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), serverNow: clock})
	requester := officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer", "legal_officer"}, "confidential"}
	police := s.exchange(t, requester)
	resp, err := police.Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	ps, domain := resp.GetReleased().GetSubjectPseudonym(), resp.GetReleased().GetPseudonymDomain()

	// Translate into the case's domain: the case members' pseudonym.
	tr, err := police.Translate(t.Context(), &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: domain,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: "NL-ZVH-RTM-0042", Justification: "Bring to the case conference."})
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	want, _ := s.keys.Pseudonym("case/NL-ZVH-RTM-0042", "SYN-NL-0001")
	if tr.GetPseudonym() != want || tr.GetPseudonymDomain() != "case/NL-ZVH-RTM-0042" {
		t.Errorf("Translate = %s in %s, want %s in case/NL-ZVH-RTM-0042", tr.GetPseudonym(), tr.GetPseudonymDomain(), want)
	}
	if e := s.entry(t, tr.GetAuditIndex()); e.Action != "translate" || e.Outcome != "pseudonymise" || e.Detail["from_domain"] != domain {
		t.Errorf("translate entry = %s %s %v", e.Action, e.Outcome, e.Detail)
	}
	// Not for someone else's domain, nor without the case.
	_, err = s.exchange(t, dkPolice).Translate(t.Context(), &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: domain,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: "NL-ZVH-RTM-0042", Justification: "Not mine."})
	wantStatus(t, err, codes.InvalidArgument)
	_, err = police.Translate(t.Context(), &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: domain,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "No case."})
	wantStatus(t, err, codes.PermissionDenied)

	// Re-identification under dual control.
	rr, err := police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{Pseudonym: ps, FromDomain: domain,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk: the person must be located."})
	if err != nil {
		t.Fatalf("RequestReidentification: %v", err)
	}
	if rr.GetQuorum() != 2 || s.entry(t, rr.GetAuditIndex()).Outcome != "pending" {
		t.Fatalf("request = %v", rr)
	}
	approve := func(o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
		return s.exchange(t, o).ApproveReidentification(t.Context(), &liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked the basis."})
	}
	refused := func(o officer, reason string) {
		t.Helper()
		before, _ := s.store.Size(t.Context())
		_, err := approve(o)
		if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != reason {
			t.Errorf("approval by %s: reason %q, want %q", o.id, errorReason(st), reason)
		}
		if _, e := s.lastEntry(t); e.Outcome != "refused" || e.Reasons[0] != reason || e.Detail["step"] != "approve" {
			t.Errorf("refused approval not audited: %+v", e)
		} else if n, _ := s.store.Size(t.Context()); n != before+1 {
			t.Errorf("refused approval wrote %d entries", n-before)
		}
	}
	refused(requester, "SELF_APPROVAL")
	refused(officer{"nl-probation", "po.case", []string{"case_officer"}, "confidential"}, "NOT_AN_APPROVER")
	refused(officer{"nl-police-rotterdam", "lo.police", []string{"legal_officer"}, "secret"}, "NOT_AN_APPROVER")

	probationLO := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	cityLO := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	first, err := approve(probationLO)
	if err != nil || first.GetApprovals() != 1 || first.GetReleased() {
		t.Fatalf("first approval = %v, %v", first, err)
	}
	refused(probationLO, "ALREADY_APPROVED")
	// A log written before approvals were claimed with their entries may
	// hold the same officer's approval twice (two replicas took it at the
	// same moment): it counts once.
	dup := *s.entry(t, first.GetAuditIndex())
	dup.RequestID = "other-replica"
	if _, err := s.log.Append(t.Context(), &dup); err != nil {
		t.Fatal(err)
	}
	list, err := s.exchange(t, cityLO).ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{})
	if err != nil || len(list.GetRequests()) != 1 || list.GetRequests()[0].GetApprovals() != 1 {
		t.Fatalf("ListReidentifications for the second approver = %v, %v", list, err)
	}
	if strings.Contains(list.String(), "SYN-NL-0001") {
		t.Error("the pending list shows the identity")
	}
	a2, err := approve(cityLO)
	if err != nil || !a2.GetReleased() {
		t.Fatalf("second approval = %v, %v; want the release", a2, err)
	}
	refused(officer{"nl-ngo-exit", "lo.ngo", []string{"legal_officer"}, "none"}, "ALREADY_RELEASED")

	// Another officer of the agency acknowledging the agency's inbox, up
	// to the identity's cursor (the agency has read that far: the
	// requester has), does not take the identity away from the requester.
	got := inbox(t, s.exchange(t, requester))
	if len(got) != 1 {
		t.Fatalf("requester's inbox = %v", got)
	}
	colleague := s.exchange(t, officer{"nl-police-rotterdam", "insp.jansen", []string{"case_officer"}, "confidential"})
	if _, err := colleague.Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: got[0].GetCursor()}); err != nil {
		t.Fatal(err)
	}
	// The identity reached the requester, and only them.
	got = inbox(t, s.exchange(t, requester))
	if len(got) != 1 || got[0].GetReidentified().GetSubjectId() != "SYN-NL-0001" {
		t.Fatalf("requester's inbox = %v", got)
	}
	if other := inbox(t, s.exchange(t, officer{"nl-police-rotterdam", "insp.jansen", []string{"case_officer"}, "confidential"})); len(other) != 0 {
		t.Errorf("another officer of the agency sees %d re-identifications", len(other))
	}
	n, _ := s.store.Size(t.Context())
	releases := 0
	for i := range n {
		e := s.entry(t, i)
		if e.Action == "reidentify" && e.Detail["step"] == "release" {
			releases++
			if e.Outcome != "disclose" || !slices.Equal(e.FieldsDisclosed, []string{"Person.subject_id"}) || e.Recipients[0].Agency != requester.agency {
				t.Errorf("release entry = %+v", e)
			}
		}
	}
	if releases != 1 {
		t.Errorf("%d release entries, want exactly 1", releases)
	}

	// An approval after the request's window is refused.
	rr2, err := police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{Pseudonym: ps, FromDomain: domain,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Second request."})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	_, err = s.exchange(t, probationLO).ApproveReidentification(t.Context(), &liaisonv1.ApproveReidentificationRequest{RequestId: rr2.GetRequestId(), Justification: "Late."})
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "REQUEST_EXPIRED" {
		t.Errorf("late approval reason = %q, want REQUEST_EXPIRED", errorReason(st))
	}
	// A guessed identifier in the justification does not tell whether the
	// guess is right: the right one and a wrong one are answered alike,
	// and the right one is recorded as "[subject]".
	for _, guess := range []string{"SYN-NL-0002", "SYN-NL-0001"} {
		tr, err := police.Translate(t.Context(), &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: domain,
			Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: "NL-ZVH-RTM-0042", Justification: "Is it " + guess + "?"})
		if err != nil || tr.GetPseudonym() != want {
			t.Fatalf("Translate with %s in the justification = %v, %v; want it translated as without", guess, tr, err)
		}
		e := s.entry(t, tr.GetAuditIndex())
		if strings.Contains(e.Justification, "SYN-NL-0001") || (guess == "SYN-NL-0001") != strings.Contains(e.Justification, "[subject]") {
			t.Errorf("with %s, the entry's justification is %q", guess, e.Justification)
		}
	}
	rq, err := police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{Pseudonym: ps, FromDomain: domain,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Is it SYN-NL-0001?"})
	if err != nil {
		t.Fatalf("RequestReidentification with the identifier in the justification: %v; want it opened as without", err)
	}
	if j := s.entry(t, rq.GetAuditIndex()).Justification; j != "Is it [subject]?" {
		t.Errorf("the re-identification request's justification is %q", j)
	}
}

// inbox reads every re-identification in an officer's inbox.
func inbox(t *testing.T, ex liaisonv1.ExchangeClient) []*liaisonv1.SubscribeResponse {
	t.Helper()
	st, err := ex.Subscribe(t.Context(), &liaisonv1.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*liaisonv1.SubscribeResponse
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.GetReidentified() != nil {
			out = append(out, m)
		}
	}
}

// TestReidentificationEndsWithTheCase: a re-identification asked in a case
// (of a pseudonym of the case's domain) stands only while the requester is
// a member of the open case: once the requester is out of it, approvals
// are refused and the identity is never released.
func TestReidentificationEndsWithTheCase(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol")})
	rr, resp := reidentificationInCase(t, s)
	requester := officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"}
	police := s.exchange(t, requester)
	const caseID = reidCaseID
	approve := func(o officer) error {
		_, err := s.exchange(t, o).ApproveReidentification(t.Context(), &liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked."})
		return err
	}
	if err := approve(officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}); err != nil {
		t.Fatal(err)
	}
	// The registry file takes the police out of the case.
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Cases {
			if f.Cases[i].ID == caseID {
				f.Cases[i].Members = slices.DeleteFunc(f.Cases[i].Members, func(m string) bool { return m == requester.agency })
			}
		}
	})
	eventually(t, "the police out of the case", func() bool {
		_, err := police.Translate(t.Context(), &liaisonv1.TranslateRequest{Pseudonym: resp.GetReleased().GetSubjectPseudonym(),
			FromDomain: resp.GetReleased().GetPseudonymDomain(), Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: caseID,
			Justification: "Still in?"})
		return err != nil
	})
	city := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	if l, err := s.exchange(t, city).ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{}); err != nil {
		t.Fatal(err)
	} else if slices.ContainsFunc(l.GetRequests(), func(p *liaisonv1.PendingReidentification) bool { return p.GetRequestId() == rr.GetRequestId() }) {
		t.Error("the municipality is still shown the request, which ended when the requester left the case")
	}
	if r := errorReason(status.Convert(approve(city))); r != "NOT_A_CASE_MEMBER" {
		t.Fatalf("the second approval, the requester out of the case: reason %q, want NOT_A_CASE_MEMBER", r)
	}
	if got := inbox(t, police); len(got) != 0 {
		t.Errorf("the requester, out of the case, got %v", got)
	}
	if _, e := s.lastEntry(t); e.Outcome != "refused" || e.Detail["step"] != "approve" || !slices.Equal(e.Reasons, []string{"NOT_A_CASE_MEMBER"}) {
		t.Errorf("the refused approval's entry = %s %v %v", e.Outcome, e.Reasons, e.Detail)
	}
}

// replicaPair starts two gateways on one PostgreSQL database with the
// dual-control test policy, and opens a re-identification request there
// as the Rotterdam police's legal officer; request makes another.
func replicaPair(t *testing.T) (s *stack, second *instance, request func() string) {
	t.Helper()
	s = startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), postgresURL: pgtest.NewDatabase(t)})
	second = s.startGateway(t)
	police := s.exchange(t, officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer", "legal_officer"}, "confidential"})
	resp, err := police.Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	return s, second, func() string {
		t.Helper()
		rr, err := police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{
			Pseudonym: resp.GetReleased().GetSubjectPseudonym(), FromDomain: resp.GetReleased().GetPseudonymDomain(),
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk.",
		})
		if err != nil {
			t.Fatal(err)
		}
		return rr.GetRequestId()
	}
}

// connAt dials the gateway at addr as officer o.
func connAt(t *testing.T, s *stack, addr string, o officer) *grpc.ClientConn {
	t.Helper()
	tok, err := s.pki.Issuers[o.agency].Mint(devpki.TokenSpec{Officer: o.id, Roles: o.roles, Clearance: o.clearance, Audience: "liaison"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(s.pki.Path("agencies", o.agency+".pem"), s.pki.Path("agencies", o.agency+".key"))
	if err != nil {
		t.Fatal(err)
	}
	return s.dial(t, addr, []tls.Certificate{cert}, tok)
}

// reidSteps returns the entries of a re-identification's steps.
func reidSteps(t *testing.T, s *stack, id, step string) []audit.Record {
	t.Helper()
	var out []audit.Record
	for _, r := range entriesOf(t, s, "reidentify") {
		if r.Entry.Detail["reid_request"] == id && r.Entry.Detail["step"] == step {
			out = append(out, r)
		}
	}
	return out
}

// TestReidentificationApprovedOnceAcrossReplicas: one officer's approval
// of a request, sent eight times at once to two replicas on one
// PostgreSQL: it is recorded once (ok), and each other call ends in an
// entry of its own, refused with ALREADY_APPROVED, as a second approval
// made later is.
func TestReidentificationApprovedOnceAcrossReplicas(t *testing.T) {
	s, second, request := replicaPair(t)
	lo := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	for round := range 3 {
		id := request()
		conns := make([]*grpc.ClientConn, 8)
		for i := range conns {
			conns[i] = connAt(t, s, []string{s.addr, second.addr}[i%2], lo)
		}
		resps := make([]*liaisonv1.ApproveReidentificationResponse, len(conns))
		errs := callsAtOnce(t, conns, func(i int, c *grpc.ClientConn) (err error) {
			resps[i], err = liaisonv1.NewExchangeClient(c).ApproveReidentification(t.Context(),
				&liaisonv1.ApproveReidentificationRequest{RequestId: id, Justification: "Checked the basis."})
			return err
		})
		var ok int
		for i, err := range errs {
			if err == nil {
				ok++
				if resps[i].GetApprovals() != 1 || resps[i].GetReleased() {
					t.Errorf("round %d: the approval's answer = %v, want 1 approval, nothing released", round, resps[i])
				}
				continue
			}
			if r := errorReason(wantStatus(t, err, codes.PermissionDenied)); r != "ALREADY_APPROVED" {
				t.Errorf("round %d: call %d refused with %q, want ALREADY_APPROVED", round, i, r)
			}
		}
		var oks, refused int
		for _, r := range reidSteps(t, s, id, "approve") {
			switch e := r.Entry; {
			case e.Outcome == audit.OutcomeOK:
				oks++
			case e.Outcome == audit.OutcomeRefused && slices.Equal(e.Reasons, []string{"ALREADY_APPROVED"}):
				refused++
			default:
				t.Errorf("round %d: approval entry %d = %s %v", round, r.Index, e.Outcome, e.Reasons)
			}
		}
		if ok != 1 || oks != 1 || refused != len(conns)-1 {
			t.Fatalf("round %d: %d calls ok, %d approvals logged ok and %d refused; want 1, 1 and %d", round, ok, oks, refused, len(conns)-1)
		}
	}
}

// TestReidentificationQuorumMetAcrossReplicas: the two approvals a
// request needs arrive at the same moment at two replicas on one
// PostgreSQL. Whichever is recorded last sees the other and releases the
// identity, once, at once (not at the next retry of the timers).
func TestReidentificationQuorumMetAcrossReplicas(t *testing.T) {
	s, second, request := replicaPair(t)
	approvers := []officer{
		{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"},
		{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"},
	}
	for round := range 5 {
		id := request()
		conns := []*grpc.ClientConn{connAt(t, s, s.addr, approvers[round%2]), connAt(t, s, second.addr, approvers[1-round%2])}
		resps := make([]*liaisonv1.ApproveReidentificationResponse, len(conns))
		errs := callsAtOnce(t, conns, func(i int, c *grpc.ClientConn) (err error) {
			resps[i], err = liaisonv1.NewExchangeClient(c).ApproveReidentification(t.Context(),
				&liaisonv1.ApproveReidentificationRequest{RequestId: id, Justification: "Checked the basis."})
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: approval %d: %v", round, i, err)
			}
		}
		if !resps[0].GetReleased() && !resps[1].GetReleased() {
			t.Errorf("round %d: neither approval released the identity: %v; %v", round, resps[0], resps[1])
		}
		if rel := reidSteps(t, s, id, "release"); len(rel) != 1 || rel[0].Entry.Outcome != audit.OutcomeDisclose {
			t.Errorf("round %d: %d release entries, want exactly 1 (disclose)", round, len(rel))
		}
	}
}

// TestReidentificationApproverStanding: the approvers of a
// re-identification asked in a case are judged when they approve, not
// when it was asked: where the policy named the case's members as
// approvers, an agency taken out of the case since may not approve
// (NOT_A_CASE_MEMBER, one refused entry) and is not shown the request,
// while the request stands for the members.
func TestReidentificationApproverStanding(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol")})
	rr, _ := reidentificationInCase(t, s)
	const caseID = reidCaseID
	probationLO := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	listed := func(o officer) bool {
		l, err := s.exchange(t, o).ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(l.GetRequests(), func(p *liaisonv1.PendingReidentification) bool { return p.GetRequestId() == rr.GetRequestId() })
	}
	if !listed(probationLO) {
		t.Fatal("the probation service's legal officer, a member of the case, is not shown the request")
	}
	// The registry file takes the probation service out of the case.
	probationInCase(t, s, false)
	approve := func(o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
		return s.exchange(t, o).ApproveReidentification(t.Context(), &liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked."})
	}
	for _, c := range []struct {
		o      officer
		reason string
	}{
		{probationLO, "NOT_A_CASE_MEMBER"}, // a member when asked, taken out since
		{officer{"nl-ngo-exit", "lo.ngo", []string{"legal_officer"}, "none"}, "NOT_AN_APPROVER"}, // never a member: not among the approvers the policy named
	} {
		o := c.o
		before, _ := s.store.Size(t.Context())
		_, err := approve(o)
		if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != c.reason || c.reason == "NOT_A_CASE_MEMBER" && !strings.Contains(st.Message(), caseID) {
			t.Errorf("approval by %s, not a member of the case: %q %q; want %s", o.agency, errorReason(st), st.Message(), c.reason)
		}
		if _, e := s.lastEntry(t); e.Outcome != "refused" || e.Detail["step"] != "approve" || !slices.Equal(e.Reasons, []string{c.reason}) ||
			e.Requester.Agency != o.agency {
			t.Errorf("the refused approval's entry = %s %v %v by %v", e.Outcome, e.Reasons, e.Detail, e.Requester)
		} else if n, _ := s.store.Size(t.Context()); n != before+1 {
			t.Errorf("the refused approval wrote %d entries", n-before)
		}
		if listed(o) {
			t.Errorf("%s, not a member of the case, is shown the request", o.agency)
		}
	}
	// The request stands: a member's approval counts.
	a, err := approve(officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"})
	if err != nil || a.GetApprovals() != 1 || a.GetReleased() {
		t.Errorf("the municipality's approval = %v, %v; want it counted, the first of two", a, err)
	}
}

// TestReidentificationApprovalLapses: an approval counts while its
// agency has the standing a new approval needs. The probation service
// approves while a member of the case; taken out of the case, its
// approval no longer counts, and the municipality's approval does not
// meet the quorum on it: the identity is not released. Back in the case,
// the approval counts again, and the release names both approvers.
func TestReidentificationApprovalLapses(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol")})
	rr, _ := reidentificationInCase(t, s)
	probation := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	municipality := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	approve := func(o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
		return s.exchange(t, o).ApproveReidentification(t.Context(), &liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked."})
	}
	if a, err := approve(probation); err != nil || a.GetApprovals() != 1 || a.GetReleased() {
		t.Fatalf("the probation service's approval = %v, %v; want the first of two", a, err)
	}
	probationInCase(t, s, false)
	a, err := approve(municipality)
	if err != nil || a.GetApprovals() != 1 || a.GetReleased() {
		t.Fatalf("the municipality's approval after the probation service left the case = %v, %v; want one approval counted, nothing released", a, err)
	}
	n, _ := s.store.Size(t.Context())
	for i := range n {
		if e := s.entry(t, i); e.Action == "reidentify" && e.Detail["step"] == "release" {
			t.Fatalf("entry %d: a release (%s) on an approval that no longer counts", i, e.Outcome)
		}
	}

	probationInCase(t, s, true)
	a, err = approve(municipality) // the approval stands: this call retries the release
	if err != nil || a.GetApprovals() != 2 || !a.GetReleased() {
		t.Fatalf("the municipality's call with the probation service back in the case = %v, %v; want two approvals, released", a, err)
	}
	_, e := s.lastEntry(t)
	if e.Detail["step"] != "release" || e.Outcome != "disclose" || e.Detail["approvers"] != "nl-probation/lo.bakker,nl-municipality-rotterdam/lo.visser" {
		t.Errorf("the release = %s %s approvers %q; want disclose, by both", e.Detail["step"], e.Outcome, e.Detail["approvers"])
	}
}

// reidCaseID is the sample case the dual-control tests ask in.
const reidCaseID = "NL-ZVH-RTM-0042"

// reidentificationInCase has the Rotterdam police (insp.de.vries) request
// a risk assessment, translate its pseudonym into the case's domain and
// ask, in the case, for the identity behind it. It returns the request
// and the risk assessment's release.
func reidentificationInCase(t *testing.T, s *stack) (*liaisonv1.RequestReidentificationResponse, *liaisonv1.RequestResponse) {
	t.Helper()
	police := s.exchange(t, officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"})
	resp, err := police.Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := police.Translate(t.Context(), &liaisonv1.TranslateRequest{Pseudonym: resp.GetReleased().GetSubjectPseudonym(),
		FromDomain: resp.GetReleased().GetPseudonymDomain(), Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: reidCaseID,
		Justification: "Bring to the case conference."})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{Pseudonym: tr.GetPseudonym(),
		FromDomain: tr.GetPseudonymDomain(), CaseId: reidCaseID, Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT,
		ClaimedLegalBasis: "test.reid", Justification: "The case conference must know who this is."})
	if err != nil {
		t.Fatalf("RequestReidentification in the case: %v", err)
	}
	return rr, resp
}

// probationInCase puts the probation service in the case (or takes it
// out) through the registry file, and waits until the gateway sees it.
func probationInCase(t *testing.T, s *stack, in bool) {
	t.Helper()
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Cases {
			if f.Cases[i].ID != reidCaseID {
				continue
			}
			f.Cases[i].Members = slices.DeleteFunc(f.Cases[i].Members, func(m string) bool { return m == "nl-probation" })
			if in {
				f.Cases[i].Members = append(f.Cases[i].Members, "nl-probation")
			}
		}
	})
	ownPs, err := s.keys.Pseudonym("nl-probation/risk_management", "SYN-NL-0001")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, fmt.Sprintf("the probation service in the case: %v", in), func() bool {
		_, err := s.exchange(t, officer{"nl-probation", "po.probe", []string{"case_officer"}, "confidential"}).Translate(t.Context(),
			&liaisonv1.TranslateRequest{Pseudonym: ownPs, FromDomain: "nl-probation/risk_management", Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT,
				CaseId: reidCaseID, Justification: "Still in?"})
		return (err == nil) == in
	})
}

// TestReidentificationNotReleasedToAnOffboardedRequester: the gateway
// delivers nothing to an offboarded agency, and a re-identification is no
// exception. The Rotterdam police ask, the probation service approves, the
// police are offboarded; the municipality's approval, which would meet the
// quorum, is refused REQUESTER_OFFBOARDED (one entry), nothing is released,
// and the request is no longer listed.
func TestReidentificationNotReleasedToAnOffboardedRequester(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol")})
	requester := officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"}
	police := s.exchange(t, requester)
	resp, err := police.Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{
		Pseudonym: resp.GetReleased().GetSubjectPseudonym(), FromDomain: resp.GetReleased().GetPseudonymDomain(),
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk: the person must be located."})
	if err != nil {
		t.Fatal(err)
	}
	approve := func(o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
		return s.exchange(t, o).ApproveReidentification(t.Context(), &liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked."})
	}
	if a, err := approve(officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}); err != nil || a.GetApprovals() != 1 {
		t.Fatalf("first approval = %v, %v", a, err)
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == requester.agency {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	eventually(t, "the police offboarded", func() bool {
		_, err := police.Request(t.Context(), riskRequest)
		return status.Code(err) == codes.PermissionDenied
	})
	city := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	if l, err := s.exchange(t, city).ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{}); err != nil {
		t.Fatal(err)
	} else if len(l.GetRequests()) != 0 {
		t.Errorf("the municipality is shown %v, a request of an offboarded agency", l.GetRequests())
	}
	before, _ := s.store.Size(t.Context())
	a, err := approve(city)
	if st := status.Convert(err); err == nil || st.Code() != codes.PermissionDenied || errorReason(st) != "REQUESTER_OFFBOARDED" {
		t.Errorf("the approval that would meet the quorum, the requester offboarded = %v, %v; want PermissionDenied REQUESTER_OFFBOARDED", a, err)
	}
	n, _ := s.store.Size(t.Context())
	if n != before+1 {
		t.Errorf("the refused approval wrote %d entries, want 1", n-before)
	}
	for i := range n {
		if e := s.entry(t, i); e.Action == "reidentify" && e.Detail["step"] == "release" {
			t.Errorf("entry %d: a release (%s, %v) to an offboarded agency", i, e.Outcome, e.Recipients)
		}
	}
	if _, e := s.lastEntry(t); e.Outcome != "refused" || e.Detail["step"] != "approve" || !slices.Equal(e.Reasons, []string{"REQUESTER_OFFBOARDED"}) {
		t.Errorf("the refused approval's entry = %s %v %v", e.Outcome, e.Reasons, e.Detail)
	}
}

// TestClosedCaseDomainNoLongerResolves: after CloseCase no exchange rests
// on the case, and that includes its pseudonyms. A former member that
// holds a pseudonym of the closed case's domain can neither translate it
// into another case it is in (which would carry the person over from the
// closed case) nor have it re-identified: both are refused
// FailedPrecondition CASE_CLOSED, each in one refused entry, which names
// the closed case when the call cites no other.
func TestClosedCaseDomainNoLongerResolves(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const closedID = "NL-ZVH-RTM-0300"
	council, police := s.cases(t, nlCouncil), s.cases(t, nlPolice)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: closedID, Kind: "nl.zvh", SubjectId: "SYN-NL-0001",
		Subject: nlSubject(), Justification: "Case consultation."}); err != nil {
		t.Fatal(err)
	}
	if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: closedID, Agency: nlPolice.agency, Justification: "Police part."}); err != nil {
		t.Fatal(err)
	}
	if _, err := police.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: closedID, Justification: "We take part."}); err != nil {
		t.Fatal(err)
	}
	// The police hold a pseudonym of the case's domain (as a release in the
	// case gives them).
	ps, err := s.keys.Pseudonym("case/"+closedID, "SYN-NL-0001")
	if err != nil {
		t.Fatal(err)
	}
	translate := func() (*liaisonv1.TranslateResponse, error) {
		return s.exchange(t, nlPolice).Translate(ctx, &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: "case/" + closedID,
			Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: reidCaseID, Justification: "Bring to the other case."})
	}
	if _, err := translate(); err != nil {
		t.Fatalf("Translate out of the open case: %v", err)
	}
	if _, err := council.CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: closedID, Justification: "Done."}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		call func() error
	}{
		{"translate", func() error { _, err := translate(); return err }},
		{"reidentify", func() error {
			_, err := s.exchange(t, nlPolice).RequestReidentification(ctx, &liaisonv1.RequestReidentificationRequest{Pseudonym: ps,
				FromDomain: "case/" + closedID, CaseId: reidCaseID, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
				Justification: "Who is it?"})
			return err
		}},
	} {
		before, _ := s.store.Size(ctx)
		err := c.call()
		if st := status.Convert(err); err == nil || st.Code() != codes.FailedPrecondition || errorReason(st) != "CASE_CLOSED" {
			t.Errorf("%s out of the closed case's domain: %v; want FailedPrecondition CASE_CLOSED", c.what, err)
		}
		if n, _ := s.store.Size(ctx); n != before+1 {
			t.Errorf("%s: %d entries, want 1", c.what, n-before)
		}
		if _, e := s.lastEntry(t); e.Action != c.what || e.Outcome != "refused" || !slices.Equal(e.Reasons, []string{"CASE_CLOSED"}) {
			t.Errorf("%s: entry %s %s %v; want refused CASE_CLOSED", c.what, e.Action, e.Outcome, e.Reasons)
		}
	}
	// Refused on the closed case's account before any decision, the entry
	// of a call that cites no case of its own names the closed case, as
	// the Cases service says of such refusals (it named none).
	_, err = s.exchange(t, nlPolice).Translate(ctx, &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: "case/" + closedID,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, Justification: "Bring it here."})
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || errorReason(st) != "CASE_CLOSED" {
		t.Errorf("Translate out of the closed case's domain, no case_id: %v; want FailedPrecondition CASE_CLOSED", err)
	}
	if _, e := s.lastEntry(t); e.Case == nil || e.Case.ID != closedID {
		t.Errorf("Translate out of the closed case's domain, no case_id: the refused entry names case %+v, want %s", e.Case, closedID)
	}
	// An agency that was never in the case learns nothing of its state.
	_, err = s.exchange(t, nlProbation).Translate(ctx, &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: "case/" + closedID,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: reidCaseID, Justification: "Not ours."})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || errorReason(st) == "CASE_CLOSED" {
		t.Errorf("a non-member's Translate out of the closed case = %v; want InvalidArgument on from_domain", err)
	}
}

// TestListReidentificationsOldestFirst: pending requests are listed in
// the order they were made. They were sorted by their creation time to
// the second, from a map: requests made in one second came in any order.
func TestListReidentificationsOldestFirst(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol")})
	rr, resp := reidentificationInCase(t, s)
	police := s.exchange(t, officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"})
	tr, err := police.Translate(t.Context(), &liaisonv1.TranslateRequest{Pseudonym: resp.GetReleased().GetSubjectPseudonym(),
		FromDomain: resp.GetReleased().GetPseudonymDomain(), Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: reidCaseID,
		Justification: "Bring to the case conference."})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{rr.GetRequestId()}
	for i := range 7 {
		r, err := police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{Pseudonym: tr.GetPseudonym(),
			FromDomain: tr.GetPseudonymDomain(), CaseId: reidCaseID, Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT,
			ClaimedLegalBasis: "test.reid", Justification: fmt.Sprintf("Request %d: the case conference must know who this is.", i+2)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r.GetRequestId())
	}
	city := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	for range 3 {
		l, err := s.exchange(t, city).ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range l.GetRequests() {
			got = append(got, p.GetRequestId())
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ListReidentifications = %v; want the requests as made, %v", got, want)
		}
	}
}
