package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
)

// pluginTarget is the rego target under which a prepared query hands its plan
// to capture: the way OPA offers its planner to a program outside OPA
// (rego.TargetPlugin) with the modules it has already compiled, and the
// plan as Go values, not JSON.
const pluginTarget = "liaison-plan"

func init() { rego.RegisterPlugin(pluginTarget, capture{}) }

// capture is the TargetPlugin that keeps the plan a query is prepared
// with, in the *ir.Policy the preparing context carries (planKey).
type capture struct{}

type planKey struct{}

func (capture) IsTarget(t string) bool { return t == pluginTarget }

func (capture) PrepareForEval(ctx context.Context, p *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	dst, ok := ctx.Value(planKey{}).(**ir.Policy)
	if !ok {
		return nil, errors.New("plan: prepared outside plan.Compiled")
	}
	*dst = p
	return refused{}, nil
}

// refused is the captured query's evaluator, never used: the plan is
// evaluated by a Program.
type refused struct{}

func (refused) Eval(context.Context, *rego.EvalContext, ast.Value) (ast.Value, error) {
	return nil, errors.New("plan: a planning query is not evaluated")
}

// Compiled plans the query `result = data.<entrypoint>` (entrypoint a
// slash-separated path under data, such as "liaison/decision") with
// OPA's planner over compiler, already compiled; OPA's planner plans only
// the rules the query reaches. compiler must not be in use by another
// goroutine meanwhile: preparing a query for a planner sets, and Compiled
// sets back, the compiler's evaluation mode.
func Compiled(ctx context.Context, compiler *ast.Compiler, entrypoint string) (*ir.Policy, error) {
	ref := ast.DefaultRootRef.Copy()
	for _, s := range strings.Split(entrypoint, "/") {
		ref = append(ref, ast.StringTerm(s))
	}
	if len(compiler.GetRules(ref)) == 0 {
		return nil, fmt.Errorf("plan: %q is not a rule", entrypoint)
	}
	var p *ir.Policy
	_, err := rego.New(
		rego.Compiler(compiler),
		rego.Target(pluginTarget),
		// Preparing for a target plugin puts the compiler in IR mode
		// (no rule or comprehension indices for later compiles); put
		// it back for topdown's queries.
		rego.EvalMode(ast.EvalModeTopdown),
		rego.ParsedQuery(ast.NewBody(ast.Equality.Expr(ast.VarTerm("result"), ast.NewTerm(ref)))),
	).PrepareForEval(context.WithValue(ctx, planKey{}, &p))
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if p == nil {
		return nil, errors.New("plan: the planner gave no plan")
	}
	return p, nil
}

// Build compiles mods (in place: give copies) with caps and plans
// entrypoint over them (see [Compiled]).
func Build(ctx context.Context, mods map[string]*ast.Module, caps *ast.Capabilities, entrypoint string) (*ir.Policy, error) {
	c := ast.NewCompiler().WithCapabilities(caps)
	if c.Compile(mods); c.Failed() {
		return nil, fmt.Errorf("plan: %w", c.Errors)
	}
	return Compiled(ctx, c, entrypoint)
}
