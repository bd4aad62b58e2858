package gateway_test

import (
	"slices"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestExpiryRetentionPerRelease: the police receive, under the KSP
// supervision basis, the release notice (which the Danish police
// retention rule lets them keep) and the family contact record (which no
// rule lets them keep). When the probation ends, each release gets the
// retention answer the policy gives for it: the release notice may be
// kept, the family contact must be erased, whatever order they were
// released in. One notice naming both with the first one's answer told
// the police to keep the family contact record (or to erase the release
// notice).
func TestExpiryRetentionPerRelease(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	fx, err := sample.ParseFixtures(sample.Sample())
	if err != nil {
		t.Fatal(err)
	}
	rn, _, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	fc, _, ok := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_FAMILY_CONTACT)
	if !ok {
		t.Fatal("no sample family contact record")
	}
	kept := discloseUnderSupervision(t, s, rn, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()
	erased := discloseUnderSupervision(t, s, fc, "2027-03-01", "dk-police-aarhus").GetResults()[0].GetAuditIndex()

	clk.Set(time.Date(2027, 3, 2, 0, 0, 5, 0, time.UTC))
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatal(err)
	}
	obligation := map[int64]string{} // release -> what its expiry notice obliges
	for _, r := range entriesOf(t, s, audit.ActionExpire) {
		refs, _ := audit.ParseIndexes(r.Entry.Detail[audit.DetailRefersTo])
		for _, x := range refs {
			if _, twice := obligation[x]; twice {
				t.Errorf("release %d is in two expiry notices", x)
			}
			obligation[x] = r.Entry.Detail[audit.DetailObligation]
		}
		if ob := r.Entry.Detail[audit.DetailObligation]; ob == audit.ObligationRetain && slices.Contains(refs, erased) {
			t.Errorf("expiry entry %d lets the police retain the family contact record (%d): %v", r.Index, erased, r.Entry.Reasons)
		}
	}
	if obligation[kept] != audit.ObligationRetain || obligation[erased] != audit.ObligationErase {
		t.Errorf("expiry obligations = %v; want the release notice (%d) retained, the family contact (%d) erased", obligation, kept, erased)
	}
	// The police's inbox says the same.
	for _, it := range readInbox(t, s, dkPolice, 0) {
		n := it.GetObligation()
		if n.GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY {
			continue
		}
		if slices.Contains(n.GetRefersTo(), erased) && n.GetObligation() != liaisonv1.Obligation_OBLIGATION_ERASE {
			t.Errorf("the police's notice about the family contact record = %v, want erase", n)
		}
		if slices.Contains(n.GetRefersTo(), kept) && n.GetObligation() != liaisonv1.Obligation_OBLIGATION_RETAIN {
			t.Errorf("the police's notice about the release notice = %v, want retain", n)
		}
	}
}
