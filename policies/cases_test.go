package policies

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// TestInputValueMatchesJSONWithCaseEventAndRoute extends
// TestInputValueMatchesJSON to the fields that cases and notices add.
func TestInputValueMatchesJSONWithCaseEventAndRoute(t *testing.T) {
	base := samples[0].in
	for _, in := range []Input{
		func() Input {
			in := base
			in.Action = "notify"
			in.Event = &Event{Type: "release_date_changed"}
			in.Route = &Route{Role: "competent", Area: "Aarhus"}
			return in
		}(),
		func() Input {
			in := base
			in.Route = &Route{Role: "earlier_recipient", Basis: "dk.rpl.115.stk1.nr3"}
			in.Case = &Case{ID: "C", Members: []string{"a", "b"}, Lead: "a", Kind: "dk.ksp", Jurisdiction: "DK", Invited: []string{"c"}, RequesterStatus: "lead"}
			return in
		}(),
		func() Input {
			in := base
			in.Case = &Case{ID: "C", Members: []string{"a"}, Lead: "a", Kind: "dk.ksp"}
			in.Route = &Route{Role: "case_member", Case: "C"}
			return in
		}(),
	} {
		want, err := ast.InterfaceToValue(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := in.value(); got.Compare(want) != 0 {
			t.Errorf("Input.value() =\n%v\nwant (JSON)\n%v", got, want)
		}
	}
}

// TestDecisionContractForCasesAndNotices checks what Decide refuses as
// malformed: allow outside an action on a case, or on one in any domain
// but the case's, anything but allow or deny on one, a notice where none
// can be, and a translation into any domain but the case's.
func TestDecisionContractForCasesAndNotices(t *testing.T) {
	// An exchange to agency a for purpose b, whose pseudonyms are made
	// in domain a/b.
	toAB := func(action string) Input { return Input{Action: action, Recipient: Party{Agency: "a"}, Purpose: "b"} }
	basis := &LegalBasis{ID: "zz.cell", Citation: "ZZ Act"}
	reasons := []Reason{{Code: "X", Message: "x"}}
	notice := &Notice{Required: true, Rule: "zz.n", Citation: "ZZ Act", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00Z"}
	for _, tc := range []struct {
		name string
		in   Input
		d    Decision
		ok   bool
	}{
		{"allow on a case", Input{Action: "case_invite", Case: &Case{ID: "C"}}, Decision{Outcome: OutcomeAllow, LegalBasis: basis, PseudonymDomain: "case/C", Reasons: reasons}, true},
		{"allow without a pseudonym domain", Input{Action: "case_invite", Case: &Case{ID: "C"}}, Decision{Outcome: OutcomeAllow, LegalBasis: basis, Reasons: reasons}, false},
		{"allow in another case's domain", Input{Action: "case_invite", Case: &Case{ID: "C"}}, Decision{Outcome: OutcomeAllow, LegalBasis: basis, PseudonymDomain: "case/D", Reasons: reasons}, false},
		{"allow in an agency's domain", Input{Action: "case_open", Case: &Case{ID: "C"}}, Decision{Outcome: OutcomeAllow, LegalBasis: basis, PseudonymDomain: "zz-police/maw_case_management", Reasons: reasons}, false},
		{"deny on a case", Input{Action: "case_invite"}, Decision{Outcome: OutcomeDeny, Reasons: reasons}, true},
		{"allow without a basis", Input{Action: "case_open"}, Decision{Outcome: OutcomeAllow, PseudonymDomain: "case/C", Reasons: reasons}, false},
		{"disclose on a case", Input{Action: "case_open"}, Decision{Outcome: OutcomeDisclose, LegalBasis: basis, PseudonymDomain: "case/C", Reasons: reasons}, false},
		{"allow on a disclose", Input{Action: "disclose"}, Decision{Outcome: OutcomeAllow, LegalBasis: basis, PseudonymDomain: "case/C", Reasons: reasons}, false},
		{"notice on a notify", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons, Notice: notice}, true},
		{"notice on a denial", Input{Action: "notify"}, Decision{Outcome: OutcomeDeny, Reasons: reasons, Notice: notice}, false},
		{"notice on a disclose", toAB("disclose"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons, Notice: notice}, false},
		{"escalation after the deadline", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "c", AcknowledgeBy: "2027-01-12T10:00:00Z", EscalateAt: "2027-01-13T10:00:00Z"}}, false},
		{"deadline with an offset", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "c", AcknowledgeBy: "2027-01-13T12:00:00+02:00", EscalateAt: "2027-01-12T10:00:00Z"}}, false},
		{"escalation with an offset", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "c", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00+00:00"}}, false},
		{"deadline with a fraction of a second", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "c", AcknowledgeBy: "2027-01-13T10:00:00.25Z", EscalateAt: "2027-01-12T10:00:00Z"}}, true},
		{"notice without a rule", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Citation: "c", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00Z"}}, false},
		// The rule and the citation are printable, none invisible, as a
		// legal basis's id and citation are.
		{"notice citation with a Hangul filler", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "ZZ Act\u3164", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00Z"}}, false},
		{"notice citation with a variation selector", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "ZZ Act \u00a7 4\ufe0f", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00Z"}}, false},
		{"notice citation with a control character", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "ZZ\x00 Act", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00Z"}}, false},
		{"notice citation with a no-break space", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "ZZ\u00a0Act", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00Z"}}, false},
		{"notice citation not UTF-8", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "ZZ \xff Act", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00Z"}}, false},
		{"notice rule with a Hangul filler", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n\u3164", Citation: "ZZ Act", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00Z"}}, false},
		{"notice citation in another script", toAB("notify"), Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "a/b", Reasons: reasons,
			Notice: &Notice{Required: true, Rule: "zz.n", Citation: "Retshåndhævelsesloven § 4, stk. 2 (법)", AcknowledgeBy: "2027-01-13T10:00:00Z", EscalateAt: "2027-01-12T10:00:00Z"}}, true},
		{"translate into the case", Input{Action: "translate", Case: &Case{ID: "C-1"}}, Decision{Outcome: OutcomePseudonymise, LegalBasis: basis, PseudonymDomain: "case/C-1", Reasons: reasons}, true},
		{"translate denied", Input{Action: "translate"}, Decision{Outcome: OutcomeDeny, Reasons: reasons}, true},
		{"translate into another case", Input{Action: "translate", Case: &Case{ID: "C-1"}}, Decision{Outcome: OutcomePseudonymise, LegalBasis: basis, PseudonymDomain: "case/C-2", Reasons: reasons}, false},
		{"translate into an agency's domain", Input{Action: "translate", Case: &Case{ID: "C-1"}}, Decision{Outcome: OutcomePseudonymise, LegalBasis: basis, PseudonymDomain: "zz-police/risk_management", Reasons: reasons}, false},
		{"translate without a case", Input{Action: "translate"}, Decision{Outcome: OutcomePseudonymise, LegalBasis: basis, PseudonymDomain: "case/", Reasons: reasons}, false},
		{"translate disclosed", Input{Action: "translate", Case: &Case{ID: "C-1"}}, Decision{Outcome: OutcomeDisclose, LegalBasis: basis, PseudonymDomain: "case/C-1", Reasons: reasons}, false},
		{"translate hit-only", Input{Action: "translate", Case: &Case{ID: "C-1"}}, Decision{Outcome: OutcomeHitOnly, PseudonymDomain: "case/C-1", Reasons: reasons}, false},
		{"reidentify pseudonymised", Input{Action: "reidentify"}, Decision{Outcome: OutcomePseudonymise, LegalBasis: basis, PseudonymDomain: "zz-police/risk_management", Reasons: reasons}, false},
		{"reidentify hit-only", Input{Action: "reidentify"}, Decision{Outcome: OutcomeHitOnly, PseudonymDomain: "zz-police/risk_management", Reasons: reasons}, false},
		{"reidentify denied", Input{Action: "reidentify"}, Decision{Outcome: OutcomeDeny, Reasons: reasons}, true},
	} {
		err := tc.d.validateFor(tc.in)
		if tc.ok && err != nil {
			t.Errorf("%s: validateFor = %v, want nil", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: validateFor = %v, want ErrMalformed", tc.name, err)
		}
	}
}

// TestCaseAndNoticeVocabularyMatchesTheRego keeps the Go lists of case
// actions, event types and route roles equal to the Rego's.
func TestCaseAndNoticeVocabularyMatchesTheRego(t *testing.T) {
	var opts []func(*rego.Rego)
	err := fs.WalkDir(Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		b, err := fs.ReadFile(Embedded(), p)
		opts = append(opts, rego.Module(p, string(b)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"data.liaison.case_actions", CaseActions},
		{"data.liaison.event_types", EventTypes},
		{"data.liaison.route_roles", RouteRoles},
	} {
		rs, err := rego.New(append(opts, rego.Query(tc.query), rego.SetRegoVersion(ast.RegoV1))...).Eval(t.Context())
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s: %d results, %v", tc.query, len(rs), err)
		}
		var got []string
		for _, v := range rs[0].Expressions[0].Value.([]any) {
			got = append(got, v.(string))
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", tc.query, got, want)
		}
	}
}
