package gateway_test

import (
	"crypto/tls"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCaseRefusesOffboardedAgencies: the lead of a case cannot hand the
// lead over to a member that has been offboarded (whose calls the gateway
// refuses: the case would be left with a lead that can neither close it
// nor remove anyone), nor invite an offboarded agency (which can never
// answer). Each is refused InvalidArgument on agency, AGENCY_OFFBOARDED,
// in one entry, and the case is unchanged; the offboarded member can
// still be removed.
func TestCaseRefusesOffboardedAgencies(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0500", "Case consultation before the release."
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0500", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlProbation.agency, Justification: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cases(t, nlProbation).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
		t.Fatal(err)
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == nlProbation.agency || f.Agencies[i].ID == nlPolice.agency {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	eventually(t, "probation offboarded", func() bool {
		_, err := s.exchange(t, nlProbation).ListReidentifications(ctx, &liaisonv1.ListReidentificationsRequest{})
		return status.Code(err) == codes.PermissionDenied
	})
	for _, tc := range []struct {
		name, action string
		call         func() error
	}{
		{"hand over to an offboarded member", "case_handover", func() error {
			_, err := council.HandOverLead(ctx, &liaisonv1.HandOverLeadRequest{CaseId: id, Agency: nlProbation.agency, Justification: why})
			return err
		}},
		{"invite an offboarded agency", "case_invite", func() error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why})
			return err
		}},
	} {
		err, e := s.one(t, tc.name, tc.action, "refused", tc.call)
		st := wantStatus(t, err, codes.InvalidArgument)
		if errorReason(st) != "AGENCY_OFFBOARDED" || badField(st) != "agency" || len(e.Reasons) != 1 || e.Reasons[0] != "AGENCY_OFFBOARDED" {
			t.Errorf("%s: reason %q field %q, entry reasons %v; want AGENCY_OFFBOARDED on agency", tc.name, errorReason(st), badField(st), e.Reasons)
		}
	}
	got, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.GetCase(); c.GetLead() != nlCouncil.agency || c.GetVersion() != 3 || memberStatus(c, nlPolice.agency) != liaisonv1.MemberStatus_MEMBER_STATUS_UNSPECIFIED {
		t.Fatalf("case after the refusals: lead %s, version %d, police %v; want the council leading, version 3, the police never invited",
			c.GetLead(), c.GetVersion(), memberStatus(c, nlPolice.agency))
	}
	// The lead can still take the offboarded member out of the case, and
	// the gateway delivers nothing to it: no CaseUpdate of its removal.
	before, err := s.db.Inbox(ctx, nlProbation.agency, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	s.one(t, "remove the offboarded member", "case_remove", "ok", func() error {
		_, err := council.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlProbation.agency, Justification: "Offboarded."})
		return err
	})
	after, err := s.db.Inbox(ctx, nlProbation.agency, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("the offboarded agency's inbox grew from %d to %d items with its removal; the gateway delivers nothing to it", len(before), len(after))
	}
}

// TestImportRefusesAKindThePolicyDoesNotKnow: a registry case imported
// under a kind the policy of its jurisdiction does not know would be a
// case nobody could join or lead (UNKNOWN_CASE_KIND). ImportRegistryCases
// skips it, saying why, and the file keeps serving it.
func TestImportRefusesAKindThePolicyDoesNotKnow(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	const id = "NL-ZVH-RTM-0042" // the sample registry's case, led by a Dutch municipality
	reg, err := gateway.LoadRegistry(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policies.Load(ctx, policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	got, err := gateway.ImportRegistryCases(ctx, s.db, eng, reg, "dk.ksp", caseStart) // a Danish kind
	if err != nil || len(got) != 1 || got[0].Skipped == "" || got[0].AuditIndex != -1 || !strings.Contains(got[0].Skipped, "nl.zvh") {
		t.Fatalf("ImportRegistryCases(kind dk.ksp) = %+v, %v; want the case skipped, naming the kinds NL law knows", got, err)
	}
	c, err := s.cases(t, nlCouncil).GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil || !c.GetCase().GetManagedByRegistry() {
		t.Fatalf("GetCase after the skipped import = %v, %v; want the file's case", c, err)
	}
	// Under a kind NL law knows, it is imported and the lead can close it.
	if got, err = gateway.ImportRegistryCases(ctx, s.db, eng, reg, "nl.zvh", caseStart); err != nil || len(got) != 1 || got[0].Skipped != "" {
		t.Fatalf("ImportRegistryCases(kind nl.zvh) = %+v, %v", got, err)
	}
	if _, err := s.cases(t, nlCouncil).CloseCase(ctx, &liaisonv1.CloseCaseRequest{CaseId: id, Justification: "Done."}); err != nil {
		t.Fatalf("CloseCase of the imported case: %v", err)
	}
}

// racingClock is a gateway clock that, while armed, has another change of
// a case committed (through a second replica) each time the gateway reads
// it: every change the first replica decides meanwhile then finds its
// case changed when it commits.
type racingClock struct {
	*caseClock
	armed, busy atomic.Bool
	race        func()
}

func (c *racingClock) Now() time.Time {
	if c.armed.Load() && c.busy.CompareAndSwap(false, true) {
		c.race()
		c.busy.Store(false)
	}
	return c.caseClock.Now()
}

// TestCaseChangedEntryClaimsNoChange: a change that kept finding its case
// changed by another replica when it committed, and so was refused
// CASE_CHANGED, is one refused entry that records the case as it was
// read, not the change that was never made: no case_version or
// case_status_after of a version never written, and no members after it.
func TestCaseChangedEntryClaimsNoChange(t *testing.T) {
	clk := &racingClock{caseClock: newCaseClock(caseStart)}
	s := startStack(t, stackOptions{serverNow: clk.Now})
	second := s.startGateway(t)
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0600", "Case consultation before the release."
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0600", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlProbation.agency, Justification: why}); err != nil {
		t.Fatal(err)
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
	n := 0
	clk.race = func() {
		// The lead, on the other replica, invites the police and takes
		// the invitation back, in turn.
		var err error
		if n%2 == 0 {
			_, err = onSecond.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why})
		} else {
			_, err = onSecond.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: why})
		}
		if err != nil {
			t.Errorf("the other replica's change %d: %v", n, err)
		}
		n++
	}
	probation := s.cases(t, nlProbation)
	clk.armed.Store(true)
	err, entries := s.grown(t, func() error {
		_, err := probation.AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."})
		return err
	})
	clk.armed.Store(false)
	if st := wantStatus(t, err, codes.FailedPrecondition); errorReason(st) != "CASE_CHANGED" {
		t.Fatalf("accept while the case kept changing: reason %q, want CASE_CHANGED", errorReason(st))
	}
	var mine []*audit.Entry
	for _, e := range entries {
		if e.Action == "case_accept" {
			mine = append(mine, e)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("%d case_accept entries, want 1", len(mine))
	}
	e := mine[0]
	if e.Outcome != "refused" || !slices.Equal(e.Reasons, []string{"CASE_CHANGED"}) {
		t.Errorf("entry %s %v, want refused CASE_CHANGED", e.Outcome, e.Reasons)
	}
	if v, ok := e.Detail["case_version"]; ok {
		t.Errorf("refused entry records case_version %s: a version it never wrote", v)
	}
	if st, ok := e.Detail["case_status_after"]; ok {
		t.Errorf("refused entry records case_status_after %q: a standing probation never had", st)
	}
	if e.Case == nil || slices.Contains(e.Case.Members, nlProbation.agency) {
		t.Errorf("refused entry's case %+v names probation a member", e.Case)
	}
	got, err := council.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
	if err != nil || memberStatus(got.GetCase(), nlProbation.agency) != liaisonv1.MemberStatus_MEMBER_STATUS_INVITED {
		t.Errorf("probation after the refused accept: %v, %v; want still invited", memberStatus(got.GetCase(), nlProbation.agency), err)
	}
}

// TestCaseChangeJustificationNeverHoldsTheSubject: the justification of a
// change of a case goes to the log; one that names the person the case is
// about (as the case was opened with it, in any case, with or without
// separators) is recorded with the identifier replaced by "[subject]",
// as Translate's is: refusing it would tell any caller whether a guess is
// whom the case is about.
func TestCaseChangeJustificationNeverHoldsTheSubject(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, subject = "NL-ZVH-RTM-0700", "SYN-NL-0700"
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: subject, Subject: nlSubject(),
		Justification: "Case consultation before the release."}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ why, want string }{
		{"The police know SYN-NL-0700 from 2019.", "The police know [subject] from 2019."},
		{"Police: syn nl 0700's family moved.", "Police: [subject]'s family moved."},
		{"Nothing about the person here.", "Nothing about the person here."},
	} {
		_, e := s.one(t, "invite: "+tc.why, "case_invite", "ok", func() error {
			_, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: tc.why})
			return err
		})
		if e.Justification != tc.want {
			t.Errorf("justification %q recorded as %q, want %q", tc.why, e.Justification, tc.want)
		}
		if _, err := council.RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlPolice.agency, Justification: "Not needed."}); err != nil {
			t.Fatal(err)
		}
	}
	// A refused change is recorded the same way.
	_, e := s.one(t, "leave by an agency outside the case", "case_leave", "deny", func() error {
		_, err := s.cases(t, nlProbation).LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "We never had SYN-NL-0700."})
		return err
	})
	if e.Justification != "We never had [subject]." {
		t.Errorf("refused leave: justification recorded as %q", e.Justification)
	}
}
