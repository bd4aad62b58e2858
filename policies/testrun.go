package policies

import (
	"context"
	"fmt"
	"io/fs"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/tester"
)

// A TestRun is the outcome of a tree's own tests.
type TestRun struct {
	// Results are the tests' results in the order they finished.
	Results []*tester.Result
	// Coverage covers the policy modules (not the tests); nil unless asked.
	Coverage *cover.Report
}

// Failed counts the tests that failed or raised an error.
func (r *TestRun) Failed() int {
	n := 0
	for _, res := range r.Results {
		if res.Fail || res.Error != nil {
			n++
		}
	}
	return n
}

// RunTests runs the *_test.rego tests of the tree in fsys as [Load] does:
// compiled in strict mode with the policy modules, built-in errors raised.
// run, if not empty, is a regular expression that selects tests by name,
// as opa test -r does. With coverage, the run also reports which lines of
// the policy modules the tests reach. A failing test is a result, not an
// error; RunTests fails only if the tree cannot be read or compiled.
func RunTests(ctx context.Context, fsys fs.FS, run string, coverage bool) (*TestRun, error) {
	mods, tests, _, err := parseTree(fsys)
	if err != nil {
		return nil, err
	}
	all := make(map[string]*ast.Module, len(mods)+len(tests))
	policy := make(map[string]*ast.Module, len(mods))
	for _, m := range slices.Concat(mods, tests) {
		all[m.path] = m.parsed
	}
	for _, m := range mods {
		policy[m.path] = m.parsed
	}
	runner := tester.NewRunner().
		SetCompiler(newCompiler().WithStrict(true).WithEnablePrintStatements(true)).
		SetModules(all).
		RaiseBuiltinErrors(true).
		CapturePrintOutput(true).
		SetTimeout(testTimeout).
		Filter(run)
	var cov *cover.Cover
	if coverage {
		cov = cover.New()
		runner = runner.SetCoverageQueryTracer(cov)
	}
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("policies: test: %w", explainForbidden(err))
	}
	out := &TestRun{}
	for r := range ch {
		out.Results = append(out.Results, r)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cov != nil {
		rep := cov.Report(policy)
		out.Coverage = &rep
	}
	return out, nil
}
