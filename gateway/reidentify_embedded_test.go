package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestTranslateAndReidentifyUnderTheDutchPack runs translation and
// re-identification through the embedded policy: the Dutch pack lets a
// member of the Safety House case translate its pseudonym into the case's
// domain, and lets the police have it re-identified in the case under the
// dual control of legal officers of other case members; an NGO gets no
// re-identification.
func TestTranslateAndReidentifyUnderTheDutchPack(t *testing.T) {
	const caseID, caseDomain = "NL-ZVH-RTM-0042", "case/NL-ZVH-RTM-0042"
	s := startStack(t, stackOptions{})
	police := s.exchange(t, nlPolice)
	resp, err := police.Request(t.Context(), riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	// Outside the case the police get the assessment pseudonymised.
	ps, domain := resp.GetReleased().GetSubjectPseudonym(), resp.GetReleased().GetPseudonymDomain()
	if domain != "nl-police-rotterdam/risk_management" || ps == "" {
		t.Fatalf("request released %q in %q, want a pseudonym in nl-police-rotterdam/risk_management", ps, domain)
	}

	// Translate into the case's domain, for the case.
	tr, err := police.Translate(t.Context(), &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: domain,
		Purpose: liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, CaseId: caseID, Justification: "Bring to the case conference."})
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	want, _ := s.keys.Pseudonym(caseDomain, "SYN-NL-0001")
	if tr.GetPseudonym() != want || tr.GetPseudonymDomain() != caseDomain {
		t.Errorf("Translate = %s in %s, want %s in %s", tr.GetPseudonym(), tr.GetPseudonymDomain(), want, caseDomain)
	}
	if tr.GetLegalBasis().GetId() != "nl.zvh.casusoverleg.translate" || !slices.Equal(tr.GetConditions(), []string{"CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"}) {
		t.Errorf("Translate basis %v, conditions %v", tr.GetLegalBasis(), tr.GetConditions())
	}
	if e := s.entry(t, tr.GetAuditIndex()); e.Action != "translate" || e.Outcome != "pseudonymise" || e.RecordType != "" || e.PseudonymDomain != caseDomain {
		t.Errorf("translate entry = %s %s %q %s", e.Action, e.Outcome, e.RecordType, e.PseudonymDomain)
	}
	// Not without the case, and not for another purpose than the case's.
	for _, tt := range []struct {
		caseID  string
		purpose liaisonv1.Purpose
		reason  string
	}{
		{"", liaisonv1.Purpose_PURPOSE_MAW_CASE_MANAGEMENT, "CASE_REQUIRED"},
		{caseID, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, "NO_LEGAL_BASIS"},
	} {
		_, err := police.Translate(t.Context(), &liaisonv1.TranslateRequest{Pseudonym: ps, FromDomain: domain,
			Purpose: tt.purpose, CaseId: tt.caseID, Justification: "Link to the case."})
		if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != tt.reason {
			t.Errorf("Translate(case %q, %v) reason %q, want %s", tt.caseID, tt.purpose, errorReason(st), tt.reason)
		}
	}

	// Re-identification of the case pseudonym, in the case, for risk management.
	_, err = police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{Pseudonym: want, FromDomain: caseDomain,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Imminent risk: the person must be located."})
	if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != "CASE_REQUIRED" {
		t.Errorf("re-identification without the case: reason %q, want CASE_REQUIRED", errorReason(st))
	}
	rr, err := police.RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{Pseudonym: want, FromDomain: caseDomain,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, CaseId: caseID, Justification: "Imminent risk: the person must be located."})
	if err != nil {
		t.Fatalf("RequestReidentification: %v", err)
	}
	if rr.GetQuorum() != 2 || !slices.Equal(rr.GetApproverRoles(), []string{"legal_officer"}) || rr.GetLegalBasis().GetId() != "nl.zvh.casusoverleg.reidentify" {
		t.Fatalf("request = %v", rr)
	}
	if e := s.entry(t, rr.GetAuditIndex()); e.Outcome != "pending" || e.Detail["agencies"] != "nl-municipality-rotterdam,nl-police-rotterdam,nl-probation" ||
		e.Detail["other_agency"] != "true" || e.Detail["expires_after"] != "72h0m0s" {
		t.Fatalf("request entry = %s %v", e.Outcome, e.Detail)
	}
	approve := func(o officer) (*liaisonv1.ApproveReidentificationResponse, error) {
		return s.exchange(t, o).ApproveReidentification(t.Context(), &liaisonv1.ApproveReidentificationRequest{RequestId: rr.GetRequestId(), Justification: "Checked the basis."})
	}
	refused := func(o officer, reason string) {
		t.Helper()
		_, err := approve(o)
		if st := wantStatus(t, err, codes.PermissionDenied); errorReason(st) != reason {
			t.Errorf("approval by %s/%s: reason %q, want %q", o.agency, o.id, errorReason(st), reason)
		}
	}
	// A legal officer of the requesting agency may not approve, nor one of
	// an agency outside the case.
	refused(officer{"nl-police-rotterdam", "lo.police", []string{"legal_officer"}, "secret"}, "NOT_AN_APPROVER")
	refused(officer{"nl-ngo-exit", "lo.ngo", []string{"legal_officer"}, "none"}, "NOT_AN_APPROVER")

	probationLO := officer{"nl-probation", "lo.bakker", []string{"legal_officer"}, "confidential"}
	cityLO := officer{"nl-municipality-rotterdam", "lo.visser", []string{"legal_officer"}, "confidential"}
	if a, err := approve(probationLO); err != nil || a.GetApprovals() != 1 || a.GetReleased() {
		t.Fatalf("first approval = %v, %v", a, err)
	}
	if got := inbox(t, s.exchange(t, nlPolice)); len(got) != 0 {
		t.Fatalf("released after one approval: %v", got)
	}
	a2, err := approve(cityLO)
	if err != nil || !a2.GetReleased() {
		t.Fatalf("second approval = %v, %v; want the release", a2, err)
	}
	refused(cityLO, "ALREADY_RELEASED")

	// Released once, to the requesting officer's inbox only.
	got := inbox(t, s.exchange(t, nlPolice))
	if len(got) != 1 || got[0].GetReidentified().GetSubjectId() != "SYN-NL-0001" || got[0].GetReidentified().GetLegalBasis().GetId() != "nl.zvh.casusoverleg.reidentify" {
		t.Fatalf("requester's inbox = %v", got)
	}
	if r := got[0].GetReidentified(); !slices.Equal(r.GetApprovers(), []string{"nl-probation/lo.bakker", "nl-municipality-rotterdam/lo.visser"}) {
		t.Errorf("approvers = %v", r.GetApprovers())
	}
	if other := inbox(t, s.exchange(t, officer{"nl-police-rotterdam", "insp.jansen", []string{"case_officer"}, "restricted"})); len(other) != 0 {
		t.Errorf("another officer of the agency sees %d re-identifications", len(other))
	}
	n, _ := s.store.Size(t.Context())
	releases := 0
	for i := range n {
		if e := s.entry(t, i); e.Action == "reidentify" && e.Detail["step"] == "release" {
			releases++
			if e.Outcome != "disclose" || e.Recipients[0].Agency != "nl-police-rotterdam" || e.LegalBasis.ID != "nl.zvh.casusoverleg.reidentify" {
				t.Errorf("release entry = %+v", e)
			}
		}
	}
	if releases != 1 {
		t.Errorf("%d release entries, want exactly 1", releases)
	}

	// An NGO never has a pseudonym re-identified.
	const ngoDomain = "nl-ngo-exit/maw_case_management"
	ngoPs, _ := s.keys.Pseudonym(ngoDomain, "SYN-NL-0001")
	_, err = s.exchange(t, nlNGO).RequestReidentification(t.Context(), &liaisonv1.RequestReidentificationRequest{Pseudonym: ngoPs, FromDomain: ngoDomain,
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "We want to know who this is."})
	st := wantStatus(t, err, codes.PermissionDenied)
	if errorReason(st) != "NO_LEGAL_BASIS" || !strings.Contains(st.Message(), "an NGO re-identify a pseudonym") {
		t.Errorf("NGO re-identification: %q %q, want NO_LEGAL_BASIS", errorReason(st), st.Message())
	}
	if _, e := s.lastEntry(t); e.Action != "reidentify" || e.Outcome != "deny" || e.Requester.Agency != "nl-ngo-exit" {
		t.Errorf("NGO request entry = %s %s %v", e.Action, e.Outcome, e.Requester)
	}
}
