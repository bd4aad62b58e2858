package gateway_test

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
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
// an approver counted twice; so in fullwidth letters, which a directory
// that ignores width (as it ignores case) signs in as the same person.
// Ids are now compared by Unicode's compatibility caseless match.
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
	// In fullwidth letters, as a directory that ignores width signs in.
	refused(officer{"nl-probation", "\u0390.\uFF2C\uFF2F", []string{"legal_officer"}, "confidential"}, "ALREADY_APPROVED")
	refused(officer{"nl-police-rotterdam", "\u0390.\uFF50\uFF41\uFF50\uFF41\uFF44\uFF4F\uFF50\uFF4F\uFF55\uFF4C\uFF4F\uFF55", []string{"legal_officer"}, "confidential"}, "SELF_APPROVAL")
	if a, err := approve(officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}); err != nil || !a.GetReleased() {
		t.Errorf("second approval by another officer = %v, %v; want the release", a, err)
	}
}

// TestOneOfficerOfASharedIssuerIsOneOfficerInEveryAgency: agencies may
// share an identity provider (a national one for several police forces),
// whose sub names a person, whichever of its agencies the token is for.
// Dual control told officers apart per agency: the requester, holding a
// token for a second force of their identity provider, approved their
// own request there ("from another agency" let it through), and one
// approver's approvals through two agencies of one issuer met a quorum of
// two and released the identity. Officers are now one per issuer; the
// same id at another issuer is another person.
func TestOneOfficerOfASharedIssuerIsOneOfficerInEveryAgency(t *testing.T) {
	const (
		rtm       = "nl-police-rotterdam"
		ams       = "nl-police-amsterdam" // shares Rotterdam's issuer
		probation = "nl-probation"
		city      = "nl-municipality-rotterdam" // shares probation's issuer
		ngo       = "nl-ngo-exit"               // an issuer of its own
	)
	s := startStack(t, stackOptions{policy: os.DirFS("testdata/dualcontrol"), beforeStart: func(st *stack) {
		editRegistry(t, st, func(f *gateway.RegistryFile) {
			byID := map[string]gateway.AgencyFile{}
			for _, a := range f.Agencies {
				byID[a.ID] = a
			}
			for i, a := range f.Agencies {
				from := map[string]string{ams: rtm, city: probation}[a.ID]
				if from != "" {
					f.Agencies[i].Issuer, f.Agencies[i].JWKSFile = byID[from].Issuer, byID[from].JWKSFile
				}
			}
		})
	}})
	ctx := t.Context()
	issuerOf := map[string]string{rtm: rtm, ams: rtm, probation: probation, city: probation, ngo: ngo}
	// as is a call by officer sub with roles, through agency's certificate
	// and a token of its issuer naming the agency.
	as := func(agency, sub string, roles ...string) liaisonv1.ExchangeClient {
		tok := s.sign(t, issuerOf[agency], func(_ map[string]any, c jwt.MapClaims) {
			c["sub"], c["roles"], c["liaison_agency_id"] = sub, roles, agency
		})
		return liaisonv1.NewExchangeClient(s.connWith(t, agency, tok))
	}
	id := dualControlRequest(t, as(rtm, "insp.de.vries", "case_officer", "legal_officer"))
	approve := func(ex liaisonv1.ExchangeClient) (*liaisonv1.ApproveReidentificationResponse, error) {
		return ex.ApproveReidentification(ctx, &liaisonv1.ApproveReidentificationRequest{RequestId: id, Justification: "Checked the basis."})
	}
	refused := func(what string, ex liaisonv1.ExchangeClient, reason string) {
		t.Helper()
		before, _ := s.db.Size(ctx)
		a, err := approve(ex)
		if status.Code(err) != codes.PermissionDenied || reasonOf(err) != reason {
			t.Errorf("%s: approvals %d, released %t, %v; want PERMISSION_DENIED %s", what, a.GetApprovals(), a.GetReleased(), err, reason)
		}
		if after, _ := s.db.Size(ctx); after != before+1 {
			t.Errorf("%s wrote %d entries, want one", what, after-before)
		} else if e := s.entry(t, before); e.Outcome != "refused" || len(e.Reasons) == 0 || e.Reasons[0] != reason || e.Detail["step"] != "approve" {
			t.Errorf("%s: entry %s %v %v, want a refused approval, %s", what, e.Outcome, e.Reasons, e.Detail, reason)
		}
	}
	refused("the requester through the other force of their identity provider", as(ams, "insp.de.vries", "legal_officer"), "SELF_APPROVAL")
	refused("the requester through the other force, in capitals", as(ams, "INSP.DE.VRIES", "legal_officer"), "SELF_APPROVAL")
	if a, err := approve(as(probation, "lo.bakker", "legal_officer")); err != nil || a.GetApprovals() != 1 {
		t.Fatalf("first approval = %v, %v", a, err)
	}
	refused("the first approver again, through another agency of their identity provider", as(city, "lo.bakker", "legal_officer"), "ALREADY_APPROVED")
	list, err := as(city, "lo.visser", "legal_officer").ListReidentifications(ctx, &liaisonv1.ListReidentificationsRequest{})
	if err != nil || len(list.GetRequests()) != 1 || list.GetRequests()[0].GetApprovals() != 1 {
		t.Fatalf("ListReidentifications = %v, %v; want the request, one approval", list, err)
	}
	if list, err := as(city, "lo.bakker", "legal_officer").ListReidentifications(ctx, &liaisonv1.ListReidentificationsRequest{}); err != nil || len(list.GetRequests()) != 0 {
		t.Errorf("ListReidentifications for the first approver through another agency = %v, %v; want nothing to approve", list, err)
	}
	// The same id at an identity provider of its own is another person.
	if a, err := approve(as(ngo, "lo.bakker", "legal_officer")); err != nil || !a.GetReleased() || a.GetApprovals() != 2 {
		t.Errorf("approval by the same id at another issuer = %v, %v; want the second approval and the release", a, err)
	}
}

// TestEndedReidentificationRefusedOnceAcrossReplicas: a request that met
// its quorum but was not released (here the approval that met it is in
// the log by another way than a call, as a replica that stopped before
// its release would leave it) ends when its requester is offboarded: the
// release the gateway would make is refused, one entry. Two replicas
// retrying their due releases at the same moment each refused it: the
// refusal took no claim, as the release does, and the log held it twice.
func TestEndedReidentificationRefusedOnceAcrossReplicas(t *testing.T) {
	s, second, request := replicaPair(t)
	lo := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	var ids []string
	for range 4 {
		id := request()
		a, err := s.exchange(t, lo).ApproveReidentification(t.Context(), &liaisonv1.ApproveReidentificationRequest{RequestId: id, Justification: "Checked the basis."})
		if err != nil || a.GetReleased() {
			t.Fatalf("first approval = %v, %v", a, err)
		}
		// The second approval, recorded without its release.
		dup := *s.entry(t, a.GetAuditIndex())
		dup.RequestID = "stopped-replica"
		rq := *dup.Requester
		rq.Agency, rq.Officer = "nl-municipality-rotterdam", "lo.visser"
		dup.Requester = &rq
		if _, err := s.log.Append(t.Context(), &dup); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == "nl-police-rotterdam" {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	for _, addr := range []string{s.addr, second.addr} {
		eventually(t, "each replica sees the requester offboarded", func() bool {
			_, err := liaisonv1.NewExchangeClient(connAt(t, s, addr, officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "confidential"})).
				ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{})
			return status.Code(err) == codes.PermissionDenied
		})
	}
	for range 3 {
		var wg sync.WaitGroup
		for _, srv := range []*gateway.Server{s.srv, second.srv} {
			wg.Go(func() { srv.ReleasePending(t.Context()) })
		}
		wg.Wait()
	}
	for _, id := range ids {
		rel := reidSteps(t, s, id, "release")
		if len(rel) != 1 || rel[0].Entry.Outcome != audit.OutcomeRefused || !slices.Equal(rel[0].Entry.Reasons, []string{"REQUESTER_OFFBOARDED"}) {
			var got []string
			for _, r := range rel {
				got = append(got, fmt.Sprintf("%s %v", r.Entry.Outcome, r.Entry.Reasons))
			}
			t.Errorf("request %s: release entries %v; want exactly one, refused REQUESTER_OFFBOARDED", id, got)
		}
	}
}
