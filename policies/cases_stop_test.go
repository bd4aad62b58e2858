package policies_test

import (
	"slices"
	"testing"

	"github.com/liaison-gateway/liaison/policies"
)

// TestCaseEndsUnderAKindThePolicyNoLongerKnows: "an agency can always
// stop sharing, and the lead can always end the case" (policies/README.md).
// A case whose kind the policy no longer knows (a revision renamed or
// dropped it) could otherwise never be closed or left, while exchanges on
// its basis, which do not look at its kind, go on: declining, leaving,
// removing and closing are allowed, and only joining and leading are
// refused UNKNOWN_CASE_KIND.
func TestCaseEndsUnderAKindThePolicyNoLongerKnows(t *testing.T) {
	eng, err := policies.Load(t.Context(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	council := policies.Party{Agency: "nl-municipality-rotterdam", Kind: "local_authority", Jurisdiction: "NL"}
	police := policies.Party{Agency: "nl-police-rotterdam", Kind: "police", Jurisdiction: "NL"}
	probation := policies.Party{Agency: "nl-probation", Kind: "probation", Jurisdiction: "NL"}
	in := func(action string, by, target policies.Party, status string) policies.Input {
		return policies.Input{
			Action: action, Time: "2027-01-10T10:00:00Z",
			Requester: policies.Requester{Agency: by.Agency, Kind: by.Kind, Jurisdiction: by.Jurisdiction,
				Officer: policies.Officer{ID: "o", Roles: []string{"case_officer"}, Clearance: "restricted"}},
			Holder: council, Recipient: target, Purpose: "maw_case_management", Justification: "x",
			Case: &policies.Case{ID: "NL-OLD-1", Members: []string{council.Agency, police.Agency}, Lead: council.Agency,
				Kind: "nl.veiligheidshuis_oud", Jurisdiction: "NL", Invited: []string{probation.Agency}, RequesterStatus: status},
		}
	}
	for _, tc := range []struct {
		name    string
		in      policies.Input
		outcome string
	}{
		{"the lead closes", in("case_close", council, council, "lead"), policies.OutcomeAllow},
		{"a member leaves", in("case_leave", police, police, "member"), policies.OutcomeAllow},
		{"the lead removes a member", in("case_remove", council, police, "lead"), policies.OutcomeAllow},
		{"an invitee declines", in("case_decline", probation, probation, "invited"), policies.OutcomeAllow},
		{"the lead invites", in("case_invite", council, probation, "lead"), policies.OutcomeDeny},
		{"an invitee accepts", in("case_accept", probation, probation, "invited"), policies.OutcomeDeny},
		{"the lead hands over", in("case_handover", council, police, "lead"), policies.OutcomeDeny},
		{"a member closes", in("case_close", police, police, "member"), policies.OutcomeDeny},
	} {
		d, err := eng.Decide(t.Context(), tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var codes []string
		for _, r := range d.Reasons {
			codes = append(codes, r.Code)
		}
		if d.Outcome != tc.outcome {
			t.Errorf("%s: %s %v, want %s", tc.name, d.Outcome, codes, tc.outcome)
		}
		if tc.outcome == policies.OutcomeDeny && tc.name != "a member closes" && !slices.Contains(codes, "UNKNOWN_CASE_KIND") {
			t.Errorf("%s: reasons %v, want UNKNOWN_CASE_KIND", tc.name, codes)
		}
	}
}
