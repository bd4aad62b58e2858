package plan

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/compile"
	"github.com/open-policy-agent/opa/v1/ir"
)

// Build plans entrypoint (a slash-separated path under data, such as
// "liaison/decision") over mods with OPA's planner (through the compile
// package's "plan" target, rules the entrypoint does not use pruned).
// mods are compiled in place: give copies.
func Build(ctx context.Context, mods map[string]*ast.Module, caps *ast.Capabilities, entrypoint string) (*ir.Policy, error) {
	b := &bundle.Bundle{}
	b.SetRegoVersion(ast.RegoV1)
	b.Manifest.Init()
	for name, m := range mods {
		// The compile package formats each module's Raw for a bundle,
		// never written here; compiled modules do not always format (a
		// formatter's panic, or an error on internal.member_2 with three
		// operands), so Raw is a stand-in.
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: name, Path: name, Parsed: m, Raw: []byte("package unused\n")})
	}
	c := compile.New().
		WithTarget(compile.TargetPlan).
		WithRegoVersion(ast.RegoV1).
		WithCapabilities(caps).
		WithEntrypoints(entrypoint).
		WithPruneUnused(true).
		WithBundle(b)
	if err := c.Build(ctx); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	out := c.Bundle()
	if len(out.PlanModules) != 1 {
		return nil, fmt.Errorf("plan: %d plans, want 1", len(out.PlanModules))
	}
	var p ir.Policy
	if err := json.Unmarshal(out.PlanModules[0].Raw, &p); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return &p, nil
}
