package policies

import (
	"errors"
	"fmt"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/liaison-gateway/liaison/policies/plan"
)

// plannedDecision plans data.liaison.decision over the embedded tree's
// folded modules, as the engine compiles them, for the interpreter of
// package plan.
func plannedDecision(tb testing.TB) *plan.Program {
	tb.Helper()
	mods, _, _, err := parseTree(Embedded())
	if err != nil {
		tb.Fatal(err)
	}
	folded, _, err := fold(tb.Context(), mods)
	if err != nil {
		tb.Fatal(err)
	}
	byName := map[string]*ast.Module{}
	for i, m := range folded {
		byName[fmt.Sprintf("%03d.rego", i)] = m
	}
	p, err := plan.Build(tb.Context(), byName, capabilities(), "liaison/decision")
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := plan.New(p)
	if err != nil {
		tb.Fatal(err)
	}
	return prog
}

// TestPlannedDecisionsAgree decides every golden input and every input of
// the equivalence log (12,000 generated ones) with OPA's topdown
// evaluator and with the interpreter of OPA's plan: the decisions must
// be the same values, or both fail.
func TestPlannedDecisionsAgree(t *testing.T) {
	e := loadEmbedded(t)
	prog := plannedDecision(t)
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
