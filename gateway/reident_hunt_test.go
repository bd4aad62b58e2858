package gateway_test

import (
	"os"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// dualControlRequest has o (through their agency's own token) ask for the
// identity behind a pseudonym of a record their agency requested, under
// the dual-control test policy: two legal officers of other agencies.
func dualControlRequest(t *testing.T, ex liaisonv1.ExchangeClient) string {
	t.Helper()
	resp, err := ex.Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := ex.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{
		Pseudonym: resp.GetReleased().GetSubjectPseudonym(), FromDomain: resp.GetReleased().GetPseudonymDomain(),
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, ClaimedLegalBasis: "test.reid", Justification: "Imminent risk: the person must be located."})
	if err != nil || rr.GetQuorum() != 2 {
		t.Fatalf("RequestReidentification = %v, %v; want a quorum of two", rr, err)
	}
	return rr.GetRequestId()
}

// TestOfficerIdIsOneOfficerInEveryCanonicalCase: authn takes officer ids
// in NFC, and dual control compared them case folded. Case folding keeps
// no normal form: "ΐ" (U+0390) and its capital "Ϊ́" (U+03AA U+0301), both
// NFC, fold to canonically equivalent strings of different bytes, so the
// requester approved their own request under the capital spelling, and
// an approver counted twice. Ids are now compared by Unicode's canonical
// caseless match.
func TestOfficerIdIsOneOfficerInEveryCanonicalCase(t *testing.T) {
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol")})
	ctx := t.Context()
	requester := officer{"nl-police-rotterdam", "\u0390.papadopoulou", []string{"case_officer", "legal_officer"}, "confidential"}
	id := dualControlRequest(t, s.exchange(t, requester))
	approve := func(o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
		return s.exchange(t, o).ApproveReidentification(ctx, &liaisonv1.ApproveReidentificationRequest{RequestId: id, Justification: "Checked the basis."})
	}
	refused := func(o officer, reason string) {
		t.Helper()
		before, _ := s.db.Size(ctx)
		a, err := approve(o)
		if status.Code(err) != codes.PermissionDenied || reasonOf(err) != reason {
			t.Errorf("approval by %q of %s: released %t, %v; want PERMISSION_DENIED %s", o.id, o.agency, a.GetReleased(), err, reason)
		}
		if after, _ := s.db.Size(ctx); after != before+1 {
			t.Errorf("the refused approval wrote %d entries, want one", after-before)
		} else if e := s.entry(t, before); e.Outcome != "refused" || len(e.Reasons) == 0 || e.Reasons[0] != reason || e.Detail["step"] != "approve" {
			t.Errorf("entry %s %v %v, want a refused approval, %s", e.Outcome, e.Reasons, e.Detail, reason)
		}
	}
	refused(officer{"nl-police-rotterdam", "\u03AA\u0301.PAPADOPOULOU", []string{"legal_officer"}, "confidential"}, "SELF_APPROVAL")
	if a, err := approve(officer{"nl-probation", "\u0390.lo", []string{"legal_officer"}, "confidential"}); err != nil || a.GetApprovals() != 1 {
		t.Fatalf("first approval = %v, %v", a, err)
	}
	refused(officer{"nl-probation", "\u03AA\u0301.LO", []string{"legal_officer"}, "confidential"}, "ALREADY_APPROVED")
	if a, err := approve(officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}); err != nil || !a.GetReleased() {
		t.Errorf("second approval by another officer = %v, %v; want the release", a, err)
	}
}
