package gateway_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/liaison-gateway/liaison/gateway"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// orphanCase opens case id led by the council, with the probation service
// and the police as members, and offboards the council: its lead can no
// longer act. It returns the gateway's registry as the operator loads it.
func orphanCase(t *testing.T, s *stack, id string) *gateway.Registry {
	t.Helper()
	ctx := t.Context()
	const why = "Case consultation before the release."
	council := s.cases(t, nlCouncil)
	if _, err := council.OpenCase(ctx, &liaisonv1.OpenCaseRequest{CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0700", Subject: nlSubject(),
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
