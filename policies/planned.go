package policies

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/liaison-gateway/liaison/policies/plan"
)

// planDecision plans data.liaison.decision with OPA's planner over the
// folded policy modules compiled by compiler (not in use by another
// goroutine meanwhile) and prepares the plan for package plan's
// interpreter.
//
// The interpreter evaluates OPA's plan with OPA's values and topdown's
// built-ins; it decides the golden inputs and the equivalence log as
// topdown does (TestPlannedDecisionsAgree), about nine times as fast at
// the median (docs/performance.md).
func planDecision(ctx context.Context, compiler *ast.Compiler) (*plan.Program, error) {
	p, err := plan.Compiled(ctx, compiler, "liaison/decision")
	if err != nil {
		return nil, err
	}
	return plan.New(p)
}

// checkPlanned decides every sample input with topdown and with the plan:
// if any decision differs (a value, undefined, or an error where the
// other has none), the engine does not use the plan.
func (e *Engine) checkPlanned(ctx context.Context) {
	for _, s := range samples {
		want, werr := e.decision.eval(ctx, s.in.value())
		got, gerr := e.planned.Eval(ctx, s.in.value())
		if errors.Is(gerr, plan.ErrUndefined) {
			gerr = ErrUndefined
		}
		if (werr == nil) != (gerr == nil) || errors.Is(werr, ErrUndefined) != errors.Is(gerr, ErrUndefined) ||
			(werr == nil && want.Compare(got) != 0) {
			e.planned, e.unplanned = nil, fmt.Errorf("policies: the planned decision of sample %q is not topdown's", s.name)
			return
		}
	}
}

// decide evaluates data.liaison.decision for input: with the plan if the
// engine has one and it gives a value, else (no plan, undefined, an error)
// with topdown, so that an undefined decision or an error is always
// topdown's.
func (e *Engine) decide(ctx context.Context, input ast.Value) (ast.Value, error) {
	if e.planned != nil {
		if v, err := evalPlanned(ctx, e.planned, input); err == nil {
			return v, nil
		}
	}
	return e.decision.eval(ctx, input)
}
