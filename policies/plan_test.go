package policies

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/liaison-gateway/liaison/policies/plan"
)

// TestPlannedDecisionsAgree: the embedded tree's decisions are planned
// (its samples decided alike at load), and every golden input and every
// input of the equivalence log (12,000 generated ones) gets the same
// decision from OPA's topdown evaluator and from the interpreter of OPA's
// plan: the same values, or both undefined, or both an error.
func TestPlannedDecisionsAgree(t *testing.T) {
	e := loadEmbedded(t)
	if e.planned == nil {
		t.Fatalf("the embedded tree is not planned: %v", e.unplanned)
	}
	prog := e.planned
	// The folded packs' literals, built once when the plan is prepared
	// (57,932 of the plan's 66,448 statements on 6 December 2026), not
	// on every decision.
	if n := prog.Hoisted(); n < 20000 {
		t.Errorf("%d statements of the plan build literals once, want most (over 20,000)", n)
	}
	var ins []Input
	for _, g := range readGolden(t) {
		ins = append(ins, g.Input)
	}
	for _, x := range readEquivalenceLog(t) {
		ins = append(ins, x.Input)
	}
	differ := 0
	for i, in := range ins {
		want, werr := e.decision.eval(t.Context(), in.value())
		got, gerr := prog.Eval(t.Context(), in.value())
		if errors.Is(gerr, plan.ErrUndefined) {
			gerr = ErrUndefined
		}
		switch {
		case werr != nil || gerr != nil:
			if (werr == nil) != (gerr == nil) || errors.Is(werr, ErrUndefined) != errors.Is(gerr, ErrUndefined) {
				differ++
				t.Errorf("input %d (%s): topdown %v, plan %v", i, in.Purpose, werr, gerr)
			}
		case want.Compare(got) != 0:
			differ++
			t.Errorf("input %d (%s): topdown %v\nplan %v", i, in.Purpose, want, got)
		}
		if differ > 5 {
			t.Fatal("more than 5 differ")
		}
	}
}

// TestUnplannedTreeDecidesWithTopdown: a tree whose decision the
// interpreter cannot run (here a `with`, which it does not have) loads,
// and its decisions are topdown's.
func TestUnplannedTreeDecidesWithTopdown(t *testing.T) {
	tree := fstest.MapFS{"liaison/decision.rego": {Data: []byte(`package liaison

_deny := {
	"outcome": "deny",
	"fields": {"keep": [], "generalise": [], "pseudonymise": []},
	"conditions": [],
	"reasons": [{"code": "NO_LEGAL_BASIS", "message": concat(" ", ["Nothing", "for", input.purpose])}],
}

decision := d if {
	d := _deny with input.purpose as "anyone"
}
`)}}
	e, err := Load(t.Context(), tree)
	if err != nil {
		t.Fatal(err)
	}
	if e.planned != nil || e.unplanned == nil || !strings.Contains(e.unplanned.Error(), "WithStmt") {
		t.Fatalf("planned %v, unplanned %v; want no plan, for the with", e.planned != nil, e.unplanned)
	}
	d, err := e.Decide(t.Context(), sampleDKRelease("risk_management"))
	if err != nil || d.Outcome != OutcomeDeny || len(d.Reasons) != 1 || d.Reasons[0].Message != "Nothing for anyone" {
		t.Errorf("Decide = %+v, %v; want topdown's deny, nothing for anyone", d, err)
	}
}
