package gateway_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestApprovalAfterTheQuorumIsNotCounted: a request that needs two
// approvals has them while the keys are unavailable, so that its release
// waits. A third officer's approval is refused PERMISSION_DENIED,
// QUORUM_MET, in one refused approve entry (the call retries the release
// still due, in an entry of its own, as any further approval call does),
// and the release, once the keys are back, names the two approvals the
// quorum took. Without the fix the third approval was recorded ok, as if
// it counted: the log showed three approvals counted for a quorum of two,
// and the release named three approvers.
func TestApprovalAfterTheQuorumIsNotCounted(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), keyRefresh: 100 * time.Millisecond, keyMaxStale: 2 * time.Second})
	ctx := t.Context()
	police := s.exchange(t, officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"})
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
	id := rr.GetRequestId()
	approve := func(o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
		return s.exchange(t, o).ApproveReidentification(ctx, &liaisonv1.ApproveReidentificationRequest{RequestId: id, Justification: "Checked the basis."})
	}
	first := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	second := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	late := officer{"nl-probation", "lo.jansen", []string{"legal_officer"}, "confidential"}
	if a, err := approve(first); err != nil || a.GetApprovals() != 1 {
		t.Fatalf("the first approval = %v, %v", a, err)
	}
	keys, err := os.ReadFile(s.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.keyFile, []byte("{not keys"), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the keys pass their staleness bound", func() bool {
		_, err := s.keys.Pseudonym(resp.GetReleased().GetPseudonymDomain(), "SYN-NL-0001")
		return err != nil
	})
	if a, err := approve(second); err != nil || a.GetApprovals() != 2 || a.GetReleased() || a.GetReleasePendingReason() != "KEYS_UNAVAILABLE" {
		t.Fatalf("the approval meeting the quorum = %v, %v; want 2 approvals, release pending KEYS_UNAVAILABLE", a, err)
	}
	lateApproval := func(what, release string) {
		t.Helper()
		err, entries := s.grown(t, func() error { _, err := approve(late); return err })
		if r := errorReason(wantStatus(t, err, codes.PermissionDenied)); r != "QUORUM_MET" {
			t.Errorf("%s: refused %q, want QUORUM_MET", what, r)
		}
		var approvals, releases []*audit.Entry
		for _, e := range entries {
			switch {
			case e.Action == "reidentify" && e.Detail["step"] == "approve":
				approvals = append(approvals, e)
			case e.Action == "reidentify" && e.Detail["step"] == "release":
				releases = append(releases, e)
			default:
				t.Errorf("%s: entry %s %s %v", what, e.Action, e.Outcome, e.Detail)
			}
		}
		if len(approvals) != 1 || approvals[0].Outcome != audit.OutcomeRefused || !slices.Equal(approvals[0].Reasons, []string{"QUORUM_MET"}) ||
			approvals[0].Requester.Officer != late.id {
			for _, e := range approvals {
				t.Logf("%s: approval entry %s %v by %s", what, e.Outcome, e.Reasons, e.Requester.Officer)
			}
			t.Fatalf("%s: %d approve entries, want one refused QUORUM_MET by %s", what, len(approvals), late.id)
		}
		if len(releases) != 1 || releases[0].Outcome != release {
			t.Fatalf("%s: %d release entries (%v), want one %s", what, len(releases), releases, release)
		}
	}
	lateApproval("a third approval while the keys are unavailable", audit.OutcomeFailed)
	if err := os.WriteFile(s.keyFile, keys, 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the keys are back", func() bool {
		_, err := s.keys.Pseudonym(resp.GetReleased().GetPseudonymDomain(), "SYN-NL-0001")
		return err == nil
	})
	lateApproval("a third approval once the keys are back", audit.OutcomeDisclose)
	var oks int
	for _, r := range reidSteps(t, s, id, "approve") {
		if r.Entry.Outcome == audit.OutcomeOK {
			oks++
		}
	}
	rel := reidSteps(t, s, id, "release")
	if oks != 2 || rel[len(rel)-1].Entry.Detail["approvers"] != "nl-probation/lo.bakker,nl-municipality-rotterdam/lo.visser" {
		t.Errorf("%d approvals logged ok, release approvers %q; want 2, lo.bakker and lo.visser", oks, rel[len(rel)-1].Entry.Detail["approvers"])
	}
	if _, err := approve(late); err == nil || errorReason(wantStatus(t, err, codes.PermissionDenied)) != "ALREADY_RELEASED" {
		t.Errorf("an approval after the release: %v, want ALREADY_RELEASED", err)
	}
}

// TestApprovalsAtOnceCountNoMoreThanTheQuorum: three officers approve a
// request that needs two, at the same moment, at two replicas on one
// PostgreSQL. Exactly two approvals are recorded ok; the third is refused
// (QUORUM_MET, or ALREADY_RELEASED once the release is made), and the one
// release names the two.
func TestApprovalsAtOnceCountNoMoreThanTheQuorum(t *testing.T) {
	s, second, request := replicaPair(t)
	approvers := []officer{
		{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"},
		{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"},
		{"nl-probation", "lo.jansen", []string{"legal_officer"}, "confidential"},
	}
	for round := range 4 {
		id := request()
		conns := make([]*grpc.ClientConn, len(approvers))
		for i, o := range approvers {
			conns[i] = connAt(t, s, []string{s.addr, second.addr}[(i+round)%2], o)
		}
		errs := callsAtOnce(t, conns, func(i int, c *grpc.ClientConn) error {
			_, err := liaisonv1.NewExchangeClient(c).ApproveReidentification(t.Context(),
				&liaisonv1.ApproveReidentificationRequest{RequestId: id, Justification: "Checked the basis."})
			return err
		})
		var refused int
		for i, err := range errs {
			if err == nil {
				continue
			}
			refused++
			if r := errorReason(wantStatus(t, err, codes.PermissionDenied)); r != "QUORUM_MET" && r != "ALREADY_RELEASED" {
				t.Errorf("round %d: approval %d refused %q, want QUORUM_MET or ALREADY_RELEASED", round, i, r)
			}
		}
		var oks int
		for _, r := range reidSteps(t, s, id, "approve") {
			if r.Entry.Outcome == audit.OutcomeOK {
				oks++
			}
		}
		rel := reidSteps(t, s, id, "release")
		if oks != 2 || refused != 1 || len(rel) != 1 || rel[0].Entry.Outcome != audit.OutcomeDisclose {
			t.Fatalf("round %d: %d approvals ok, %d calls refused, %d releases; want 2, 1 and one disclosure", round, oks, refused, len(rel))
		}
		if n := len(strings.Split(rel[0].Entry.Detail["approvers"], ",")); n != 2 {
			t.Errorf("round %d: the release names %d approvers (%s), want 2", round, n, rel[0].Entry.Detail["approvers"])
		}
	}
}
