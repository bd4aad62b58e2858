package gateway_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// orphanCase opens case id led by the council, with the probation
// service, the police and the exit NGO as members and the Amsterdam
// police invited, and offboards the council: its lead can no longer act.
// It returns the gateway's registry as the operator loads it.
func orphanCase(t *testing.T, s *stack, id string) *gateway.Registry {
	t.Helper()
	ctx := t.Context()
	const why = "Case consultation before the release."
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0700", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []officer{nlProbation, nlPolice, nlNGO, nlPoliceAms} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: why}); err != nil {
			t.Fatal(err)
		}
		if o.agency == nlPoliceAms.agency {
			continue // invited only
		}
		if _, err := s.cases(t, o).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
			t.Fatal(err)
		}
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			f.Agencies[i].Offboarded = f.Agencies[i].Offboarded || f.Agencies[i].ID == nlCouncil.agency
		}
	})
	eventually(t, "council offboarded", func() bool {
		_, err := s.exchange(t, nlCouncil).ListReidentifications(ctx, &liaisonv1.ListReidentificationsRequest{})
		return status.Code(err) == codes.PermissionDenied
	})
	reg, err := gateway.LoadRegistry(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// caseUpdatesOf are the CaseUpdates in an officer's inbox, read with
// Subscribe over TLS as the agency reads them.
func caseUpdatesOf(t *testing.T, s *stack, o officer, caseID string) []*liaisonv1.SubscribeResponse {
	t.Helper()
	var out []*liaisonv1.SubscribeResponse
	for _, m := range inboxItems(t, s.exchange(t, o)) {
		if m.GetCaseUpdate().GetCase().GetId() == caseID {
			out = append(out, m)
		}
	}
	return out
}

// TestOperatorCloseTellsTheMembers: when the operator closes a case whose
// lead was offboarded (liaison case close-orphaned), its members learn it
// as they learn a lead's close: a CaseUpdate in their inboxes, delivered
// with the one entry, saying the operator closed it and why (the lead is
// offboarded), with the closed case and the entry's index, and nothing of
// the person but what a lead's close carries. The offboarded lead gets
// nothing, as the gateway delivers nothing to an offboarded agency.
func TestOperatorCloseTellsTheMembers(t *testing.T) {
	onEachStore(t, stackOptions{serverNow: newCaseClock(caseStart).Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		const id = "NL-ZVH-RTM-0700"
		reg := orphanCase(t, s, id)
		before := map[string]int{}
		for _, o := range []officer{nlProbation, nlPolice} {
			before[o.agency] = len(caseUpdatesOf(t, s, o, id))
		}
		leadBefore, err := s.db.Inbox(ctx, nlCouncil.agency, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		op := &gateway.CaseOperator{Store: s.db, Registry: reg, Pseudonyms: s.keys, Name: "ops.jansen", Now: s.opts.serverNow}
		var idx int64
		_, e := s.one(t, "operator close", "case_operator_close", "ok", func() (err error) {
			_, idx, err = op.CloseOrphanedCase(context.WithoutCancel(ctx), id)
			return err
		})
		if e.Detail["lead_standing"] != "offboarded" || e.Detail["by_operator"] != "ops.jansen" {
			t.Errorf("the close's entry: detail %v", e.Detail)
		}
		for _, o := range []officer{nlProbation, nlPolice} {
			got := caseUpdatesOf(t, s, o, id)
			if len(got) != before[o.agency]+1 {
				t.Fatalf("%s has %d CaseUpdates of case %s after the operator's close, want %d", o.agency, len(got), id, before[o.agency]+1)
			}
			m := got[len(got)-1]
			u := m.GetCaseUpdate()
			if u.GetChange() != "case_operator_close" || !u.GetByOperator() || u.GetLeadStanding() != "offboarded" || u.GetAgency() != nlCouncil.agency ||
				m.GetSender() != "" || u.GetAuditIndex() != idx || u.GetCase().GetStatus() != liaisonv1.CaseStatus_CASE_STATUS_CLOSED ||
				u.GetCase().GetLead() != nlCouncil.agency || u.GetCase().GetAuditIndex() != idx {
				t.Errorf("%s's CaseUpdate of the operator's close (entry %d): %v", o.agency, idx, prototext.Format(m))
			}
			if txt := prototext.Format(m); strings.Contains(txt, "SYN-NL") {
				t.Errorf("%s's CaseUpdate names the person: %s", o.agency, txt)
			}
		}
		leadAfter, err := s.db.Inbox(ctx, nlCouncil.agency, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(leadAfter) != len(leadBefore) {
			t.Errorf("the offboarded lead's inbox grew from %d to %d items; the gateway delivers nothing to it", len(leadBefore), len(leadAfter))
		}
		// The deliveries were committed with the entry, under its index.
		items, err := s.db.Inbox(ctx, nlPolice.agency, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if last := items[len(items)-1]; last.AuditIndex != idx {
			t.Errorf("the police's last inbox item is of entry %d, want the close's, %d", last.AuditIndex, idx)
		}
	})
}

// TestOperatorHandOver: when a case's lead is offboarded, the operator
// can hand its lead to a member (liaison case handover-orphaned), so that
// the case goes on rather than be closed. Every attempt is exactly one
// entry naming the operator: a member that is only invited, the lead
// itself, an agency the registry does not know, a malformed operator
// name, a case the gateway does not hold are refused with the argument
// at fault; a member the policy does not let lead a Safety House case
// (the exit NGO) is denied with the policy's reason; a lead the registry
// no longer lists cannot be described to the policy and is refused. None
// changes the case. The hand-over to the probation service is decided by
// the Dutch policy, commits one entry with the decision, and tells every
// member the gateway delivers to, the new lead included, with a
// CaseUpdate; the new lead then leads (it removes the former lead), and
// the operator can no longer act on the case (LEAD_CAN_ACT).
func TestOperatorHandOver(t *testing.T) {
	onEachStore(t, stackOptions{serverNow: newCaseClock(caseStart).Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		const id = "NL-ZVH-RTM-0701"
		reg := orphanCase(t, s, id)
		eng, err := policies.Load(ctx, policies.Embedded())
		if err != nil {
			t.Fatal(err)
		}
		op := &gateway.CaseOperator{Store: s.db, Registry: reg, Pseudonyms: s.keys, Policy: eng, Name: "ops.jansen", Now: s.opts.serverNow}
		unregistered, err := gateway.LoadRegistry(s.pki.Registry)
		if err != nil {
			t.Fatal(err)
		}
		delete(unregistered.Agencies, nlCouncil.agency)
		for _, tc := range []struct {
			name          string
			op            *gateway.CaseOperator
			id, lead      string
			outcome       string
			reason, field string
		}{
			{"an invited agency", op, id, nlPoliceAms.agency, "refused", "NEW_LEAD_NOT_A_MEMBER", "lead"},
			{"the lead itself", op, id, nlCouncil.agency, "refused", "AGENCY_OFFBOARDED", "lead"},
			{"an unknown agency", op, id, "nl-nobody", "refused", "INVALID_ARGUMENT", "lead"},
			{"no agency", op, id, "", "refused", "INVALID_ARGUMENT", "lead"},
			{"a case the gateway does not hold", op, "NL-ZVH-RTM-0799", nlProbation.agency, "refused", "INVALID_ARGUMENT", "id"},
			{"a malformed case id", op, "NL ZVH", nlProbation.agency, "refused", "INVALID_ARGUMENT", "id"},
			{"a malformed operator", &gateway.CaseOperator{Store: s.db, Registry: reg, Pseudonyms: s.keys, Policy: eng, Name: "ops jansen"}, id, nlProbation.agency, "refused", "INVALID_ARGUMENT", "operator"},
			{"an unregistered lead", &gateway.CaseOperator{Store: s.db, Registry: unregistered, Pseudonyms: s.keys, Policy: eng, Name: "ops.jansen"}, id, nlProbation.agency, "refused", "LEAD_UNREGISTERED", ""},
			{"a member that may not lead", op, id, nlNGO.agency, "deny", "LEAD_KIND_NOT_ALLOWED", ""},
		} {
			var err error
			_, e := s.one(t, tc.name, "case_operator_handover", tc.outcome, func() error {
				_, _, err = tc.op.HandOverOrphanedCase(ctx, tc.id, tc.lead)
				return err
			})
			r, ok := errors.AsType[*gateway.OperatorRefusal](err)
			if !ok || r.Reason != tc.reason || r.Field != tc.field || r.Denied != (tc.outcome == "deny") || r.AuditIndex < 0 {
				t.Errorf("%s: error %#v, want a refusal %s on %q", tc.name, err, tc.reason, tc.field)
				continue
			}
			if len(e.Reasons) == 0 || e.Reasons[0] != tc.reason || e.Detail["field"] != tc.field || e.Detail["by_operator"] != tc.op.Name && tc.field != "operator" {
				t.Errorf("%s: entry reasons %v, detail %v", tc.name, e.Reasons, e.Detail)
			}
			if tc.field == "operator" && e.Detail["by_operator"] != "" {
				t.Errorf("%s: the entry records the malformed operator name %q", tc.name, e.Detail["by_operator"])
			}
			if tc.outcome == "deny" && (e.PolicyRevision == "" || e.Recipients[0].Agency != nlNGO.agency) {
				t.Errorf("%s: the denial's entry has policy revision %q, recipients %v", tc.name, e.PolicyRevision, e.Recipients)
			}
		}
		police := s.cases(t, nlPolice)
		got, err := police.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
		if err != nil {
			t.Fatal(err)
		}
		version := got.GetCase().GetVersion()
		if got.GetCase().GetLead() != nlCouncil.agency {
			t.Fatalf("after the refusals the case is led by %s, want the council still", got.GetCase().GetLead())
		}
		before := map[string]int{}
		for _, o := range []officer{nlProbation, nlPolice, nlNGO} {
			before[o.agency] = len(caseUpdatesOf(t, s, o, id))
		}
		leadBefore, err := s.db.Inbox(ctx, nlCouncil.agency, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}

		var idx int64
		_, e := s.one(t, "hand over to the probation service", "case_operator_handover", "ok", func() (err error) {
			_, idx, err = op.HandOverOrphanedCase(ctx, id, nlProbation.agency)
			return err
		})
		if e.Detail["by_operator"] != "ops.jansen" || e.Detail["lead_standing"] != "offboarded" || e.Holder == nil || e.Holder.Agency != nlCouncil.agency ||
			len(e.Recipients) != 1 || e.Recipients[0].Agency != nlProbation.agency || e.LegalBasis == nil || e.LegalBasis.ID != "nl.zvh" ||
			e.PolicyRevision == "" || e.Case == nil || e.Case.Lead != nlProbation.agency || strings.Contains(e.Justification, "SYN-NL") {
			t.Errorf("the hand-over's entry: %+v", e)
		}
		got, err = police.GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
		if err != nil {
			t.Fatal(err)
		}
		if c := got.GetCase(); c.GetLead() != nlProbation.agency || c.GetVersion() != version+1 || c.GetAuditIndex() != idx ||
			memberStatus(c, nlCouncil.agency) != liaisonv1.MemberStatus_MEMBER_STATUS_MEMBER {
			t.Errorf("the case after the hand-over: %v", prototext.Format(c))
		}
		for _, o := range []officer{nlProbation, nlPolice, nlNGO} {
			ups := caseUpdatesOf(t, s, o, id)
			if len(ups) != before[o.agency]+1 {
				t.Fatalf("%s has %d CaseUpdates of case %s after the hand-over, want %d", o.agency, len(ups), id, before[o.agency]+1)
			}
			m := ups[len(ups)-1]
			if u := m.GetCaseUpdate(); u.GetChange() != "case_operator_handover" || !u.GetByOperator() || u.GetLeadStanding() != "offboarded" ||
				u.GetAgency() != nlProbation.agency || m.GetSender() != "" || u.GetAuditIndex() != idx || u.GetCase().GetLead() != nlProbation.agency {
				t.Errorf("%s's CaseUpdate of the hand-over (entry %d): %v", o.agency, idx, prototext.Format(m))
			}
		}
		leadAfter, err := s.db.Inbox(ctx, nlCouncil.agency, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(leadAfter) != len(leadBefore) {
			t.Errorf("the offboarded former lead's inbox grew from %d to %d items", len(leadBefore), len(leadAfter))
		}

		// The case goes on under its new lead.
		if _, err := s.cases(t, nlProbation).RemoveMember(ctx, &liaisonv1.RemoveMemberRequest{CaseId: id, Agency: nlCouncil.agency,
			Justification: "The council was offboarded."}); err != nil {
			t.Errorf("the new lead removes the former lead: %v", err)
		}
		// Its lead can act: the operator can no longer hand over or close.
		for _, tc := range []struct {
			action string
			call   func() error
		}{
			{"case_operator_handover", func() error { _, _, err := op.HandOverOrphanedCase(ctx, id, nlPolice.agency); return err }},
			{"case_operator_close", func() error { _, _, err := op.CloseOrphanedCase(ctx, id); return err }},
		} {
			err, _ := s.one(t, tc.action+" under a lead that can act", tc.action, "refused", tc.call)
			if r, ok := errors.AsType[*gateway.OperatorRefusal](err); !ok || r.Reason != "LEAD_CAN_ACT" {
				t.Errorf("%s under a lead that can act: %v, want LEAD_CAN_ACT", tc.action, err)
			}
		}
	})
}

// raceStore is a store on which, once armed, another change of the case
// is committed through the gateway right after the operator reads it.
// As a gateway's aftercare store (stackOptions.race), it commits another
// change right after the gateway next reads its notices (armSent).
type raceStore struct {
	testStore
	armed func() // run once, after the next Case

	mu         sync.Mutex
	armedSent  func() // run once, after the next SentNotices
	armedQuery func() // run once, after the next Query that queryMatch matches
	queryMatch func(audit.Filter) bool
	armedFP    func() // run once, after the next MatchFingerprints
}

// armQuery has f run once, right after the next query of the log that
// match matches (the first gateway's log reads its store through r).
func (r *raceStore) armQuery(match func(audit.Filter) bool, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armedQuery, r.queryMatch = f, match
}

func (r *raceStore) Query(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	recs, err := r.testStore.Query(ctx, f)
	r.mu.Lock()
	var run func()
	if r.armedQuery != nil && r.queryMatch(f) {
		run, r.armedQuery = r.armedQuery, nil
	}
	r.mu.Unlock()
	if run != nil && err == nil {
		run()
	}
	return recs, err
}

// armSent has f run once, right after the next SentNotices.
func (r *raceStore) armSent(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armedSent = f
}

func (r *raceStore) SentNotices(ctx context.Context, f audit.SentNoticeFilter) ([]audit.SentNotice, error) {
	ns, err := r.testStore.SentNotices(ctx, f)
	r.mu.Lock()
	run := r.armedSent
	r.armedSent = nil
	r.mu.Unlock()
	if run != nil && err == nil {
		run()
	}
	return ns, err
}

func (r *raceStore) Case(ctx context.Context, id string) (*audit.CaseState, error) {
	c, err := r.testStore.Case(ctx, id)
	if f := r.armed; f != nil && err == nil {
		r.armed = nil
		f()
	}
	return c, err
}

// TestOperatorChangeRefusedWhenTheCaseChanged: a case the gateway changes
// between the operator's reading it and committing the change (an agency
// accepts its invitation meanwhile) is not changed by the operator: the
// attempt is one entry, refused CASE_CHANGED, that records no new
// version, and nothing is delivered of it.
func TestOperatorChangeRefusedWhenTheCaseChanged(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id = "NL-ZVH-RTM-0702"
	reg := orphanCase(t, s, id)
	eng, err := policies.Load(ctx, policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	rs := &raceStore{testStore: s.db}
	op := &gateway.CaseOperator{Store: rs, Registry: reg, Pseudonyms: s.keys, Policy: eng, Name: "ops.jansen", Now: s.opts.serverNow}
	for _, tc := range []struct {
		action string
		call   func() error
		change func() error // the gateway's change meanwhile
	}{
		{"case_operator_handover", func() error { _, _, err := op.HandOverOrphanedCase(ctx, id, nlProbation.agency); return err }, func() error {
			_, err := s.cases(t, nlPoliceAms).DeclineInvitation(ctx, &liaisonv1.DeclineInvitationRequest{CaseId: id, Justification: "Not ours."})
			return err
		}},
		{"case_operator_close", func() error { _, _, err := op.CloseOrphanedCase(ctx, id); return err }, func() error {
			_, err := s.cases(t, nlNGO).LeaveCase(ctx, &liaisonv1.LeaveCaseRequest{CaseId: id, Justification: "We leave."})
			return err
		}},
	} {
		before := len(caseUpdatesOf(t, s, nlPolice, id))
		got, err := s.cases(t, nlPolice).GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
		if err != nil {
			t.Fatal(err)
		}
		version := got.GetCase().GetVersion()
		rs.armed = func() {
			if err := tc.change(); err != nil {
				t.Error(err)
			}
		}
		err, entries := s.grown(t, tc.call)
		if len(entries) != 2 || entries[1].Action != tc.action || entries[1].Outcome != "refused" || len(entries[1].Reasons) != 1 ||
			entries[1].Reasons[0] != "CASE_CHANGED" || entries[1].Detail["case_version"] != "" {
			t.Fatalf("%s on a case changed meanwhile: %d entries, last %+v; want the change by the gateway and one refused CASE_CHANGED", tc.action, len(entries), entries[len(entries)-1])
		}
		if r, ok := errors.AsType[*gateway.OperatorRefusal](err); !ok || r.Reason != "CASE_CHANGED" || !strings.Contains(r.Message, "run the command again") {
			t.Errorf("%s on a case changed meanwhile: %v", tc.action, err)
		}
		got, err = s.cases(t, nlPolice).GetCase(ctx, &liaisonv1.GetCaseRequest{CaseId: id})
		if err != nil {
			t.Fatal(err)
		}
		if c := got.GetCase(); c.GetVersion() != version+1 || c.GetLead() != nlCouncil.agency || c.GetStatus() != liaisonv1.CaseStatus_CASE_STATUS_OPEN {
			t.Errorf("%s: the case after the refusal: version %d (want %d), lead %s, %v", tc.action, c.GetVersion(), version+1, c.GetLead(), c.GetStatus())
		}
		for _, m := range caseUpdatesOf(t, s, nlPolice, id)[before:] {
			if m.GetCaseUpdate().GetByOperator() {
				t.Errorf("%s: refused, it delivered %v", tc.action, prototext.Format(m))
			}
		}
	}
}

// TestCaseUpdatesSkipUnregisteredMembers: a member the registry no longer
// lists gets no CaseUpdate of a later change (no one could read its
// inbox), as an offboarded one gets none; the other members do.
func TestCaseUpdatesSkipUnregisteredMembers(t *testing.T) {
	s := startStack(t, stackOptions{serverNow: newCaseClock(caseStart).Now})
	ctx := t.Context()
	const id, why = "NL-ZVH-RTM-0703", "Case consultation before the release."
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0703", Subject: nlSubject(),
		Justification: why}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []officer{nlProbation, nlPolice} {
		if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: o.agency, Justification: why}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.cases(t, o).AcceptInvitation(ctx, &liaisonv1.AcceptInvitationRequest{CaseId: id, Justification: "We join."}); err != nil {
			t.Fatal(err)
		}
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == nlProbation.agency {
				f.Agencies = append(f.Agencies[:i], f.Agencies[i+1:]...)
				break
			}
		}
		for i := range f.Cases { // the file's own cases name registered agencies only
			f.Cases[i].Members = slices.DeleteFunc(f.Cases[i].Members, func(m string) bool { return m == nlProbation.agency })
		}
	})
	eventually(t, "probation unregistered", func() bool {
		_, err := s.exchange(t, nlProbation).ListReidentifications(ctx, &liaisonv1.ListReidentificationsRequest{})
		return err != nil
	})
	count := func(agency string) int {
		items, err := s.db.Inbox(ctx, agency, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	probation, police := count(nlProbation.agency), count(nlPolice.agency)
	if _, err := council.InviteMember(ctx, &liaisonv1.InviteMemberRequest{CaseId: id, Agency: nlNGO.agency, Justification: why}); err != nil {
		t.Fatal(err)
	}
	if got := count(nlProbation.agency); got != probation {
		t.Errorf("the unregistered member's inbox grew from %d to %d items with the invitation", probation, got)
	}
	if got := count(nlPolice.agency); got != police+1 {
		t.Errorf("the police's inbox has %d items after the invitation, want %d", got, police+1)
	}
}
