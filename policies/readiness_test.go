package policies

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// readinessTree is a small tree with one pack, ZZ, whose decision is
// undefined for a notify, a release under a basis that ended in 2020 for
// a disclose for resocialisation, a pseudonymise for a disclose for
// family support, and a deny for everything else.
var readinessTree = fstest.MapFS{
	"zz/zz.rego": {Data: []byte(`package liaison.jurisdictions.zz

code := "ZZ"

law_name := "Test law"

bases := {}

practice := {
	"maw": "A test practice.", "case_lead": "local_authority",
	"risk_assessors": {"before_release": "prison", "after_release": "probation"},
	"exit_programme_kinds": ["ngo"], "family_contact_kinds": ["social_services"],
	"source": "none", "assumption": "Not law.",
}
`)},
	"liaison/decision.rego": {Data: []byte(`package liaison

decision := {
	"outcome": "disclose", "pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"legal_basis": {"id": "zz.ended", "citation": "A basis that ended", "valid_until": "2020-01-01"},
	"fields": {"keep": ["operational"], "generalise": [], "pseudonymise": []}, "conditions": [],
	"reasons": [{"code": "LEGAL_BASIS_APPLIES", "message": "Applies."}],
} if {
	input.action == "disclose"
	input.purpose == "resocialisation"
} else := {
	"outcome": "pseudonymise", "pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"fields": {"keep": ["direct_identifier", "operational"], "generalise": [], "pseudonymise": []}, "conditions": [],
	"reasons": [{"code": "PSEUDONYMISED", "message": "Pseudonymised."}],
} if {
	input.action == "disclose"
	input.purpose == "family_support"
} else := {
	"outcome": "deny", "fields": {"keep": [], "generalise": [], "pseudonymise": []}, "conditions": [],
	"reasons": [{"code": "NO_LEGAL_BASIS", "message": "No basis."}],
} if {
	input.action != "notify"
}
`)},
}

// TestReadinessAnswersAsTheGatewayDecides: each readiness answer is the
// decision the gateway acts on, as replay shows it. An exchange the policy
// cannot decide (here every notify: undefined) is the gateway's deny,
// POLICY_UNDEFINED, in the report, not a report that stops at the first
// one; a release under a basis that ended before the exchange's day is
// its deny, LEGAL_BASIS_EXPIRED, not a release under that basis; and
// with the gateway's check of the plan, a decision it refuses is a deny,
// POLICY_ERROR. Without it the report of such a candidate failed as a
// whole ("decision is undefined") and showed a release the gateway
// refuses.
func TestReadinessAnswersAsTheGatewayDecides(t *testing.T) {
	e, err := Load(t.Context(), readinessTree)
	if err != nil {
		t.Fatal(err)
	}
	refuse := func(in Input, d Decision) error {
		if d.Outcome == OutcomePseudonymise {
			return fmt.Errorf("%w: outcome pseudonymise passes the direct identifier Person.full_name in clear", ErrMalformed)
		}
		return nil
	}
	r, err := e.ReadinessChecked(t.Context(), "ZZ", refuse)
	if err != nil {
		t.Fatalf("readiness of a tree undefined for every notify: %v; want the gateway's denies in the report", err)
	}
	seen := map[string]int{}
	for _, q := range r.Questions {
		for _, a := range q.Answers {
			switch {
			case a.Input.Action == "notify":
				if a.Outcome != OutcomeDeny || len(a.Reasons) == 0 || a.Reasons[0] != "POLICY_UNDEFINED" {
					t.Errorf("%s, %s: %s %v; want deny, POLICY_UNDEFINED", a.Exchange, a.When, a.Outcome, a.Reasons)
				}
				seen["undefined"]++
			case a.Input.Purpose == "resocialisation":
				if a.Outcome != OutcomeDeny || len(a.Reasons) == 0 || a.Reasons[0] != "LEGAL_BASIS_EXPIRED" || a.LegalBasis != "" {
					t.Errorf("%s, %s: %s under %q %v; want deny, LEGAL_BASIS_EXPIRED", a.Exchange, a.When, a.Outcome, a.LegalBasis, a.Reasons)
				}
				seen["expired"]++
			case a.Input.Purpose == "family_support":
				if a.Outcome != OutcomeDeny || len(a.Reasons) == 0 || a.Reasons[0] != "POLICY_ERROR" || !strings.Contains(a.Why, "Person.full_name") {
					t.Errorf("%s, %s: %s %v %q; want deny, POLICY_ERROR, naming the field", a.Exchange, a.When, a.Outcome, a.Reasons, a.Why)
				}
				seen["checked"]++
			}
		}
	}
	if seen["undefined"] == 0 || seen["expired"] == 0 || seen["checked"] == 0 {
		t.Errorf("answers seen %v; want notifies, releases for resocialisation and for family support", seen)
	}
	var sb strings.Builder
	if err := r.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	if out := sb.String(); !strings.Contains(out, "deny (POLICY_UNDEFINED)") || !strings.Contains(out, "deny (LEGAL_BASIS_EXPIRED)") || strings.Contains(out, "under zz.ended") {
		t.Errorf("the report does not show the gateway's denies:\n%s", out)
	}

	// Without the check (Readiness), the rest is as before.
	if r, err = e.Readiness(t.Context(), "ZZ"); err != nil || len(r.Questions) == 0 {
		t.Errorf("Readiness(ZZ) = %v; want the report", err)
	}
	if _, err := e.Readiness(t.Context(), "XX"); err == nil || errors.Is(err, ErrUndefined) {
		t.Errorf("readiness of a jurisdiction without a pack = %v; want an error saying so", err)
	}
}
