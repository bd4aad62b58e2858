package policies

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// fold returns the policy modules with every rule whose value does not
// depend on the input replaced by that value, worked out once.
//
// OPA evaluates each rule a query reaches anew for every query, even one
// that only reads constants. The shared rules derive such constants from
// the packs (the bases as sets, indexed by the keys a request fixes; see
// liaison/index.rego); folding them at load turns each decision's walk
// over the packs into a few lookups in a literal, as `opa build -O`
// does for a bundle. A rule is folded only if nothing it uses, however
// indirectly, reads the input, the clock or randomness, so that folding
// changes no decision, and only if it has one constant value. Rules that
// are already literals, functions, rules that read the input directly and
// rules under another rule are left as they are. Then every reference to a
// constant rule is replaced by its value (inlineConstants). The tests run
// against the modules as written, never folded.
//
// The returned modules are copies; mods is not changed. folded lists the
// paths of the rules folded, sorted.
func fold(ctx context.Context, mods []module) (out []*ast.Module, folded []string, err error) {
	byPath := make(map[string]*ast.Module, len(mods))
	for _, m := range mods {
		byPath[m.path] = m.parsed.Copy()
	}
	// Strict, as rego.New would compile them: a policy that strict mode
	// refuses is refused here.
	compiler := newCompiler().
		WithStrict(true).
		WithUseTypeCheckAnnotations(true)
	compiler.Compile(byPath)
	if compiler.Failed() {
		return nil, nil, fmt.Errorf("policies: load: compile: %w", explainForbidden(compiler.Errors))
	}
	// From here on the compiled modules: their rules are the nodes of the
	// compiler's dependency graph, and their references are resolved.
	byPath = compiler.Modules

	// The rules of each document, by the ground prefix of their heads.
	type group struct {
		path  ast.Ref
		rules []*ast.Rule
	}
	groups := map[string]*group{}
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		for _, r := range byPath[p].Rules {
			path := r.Module.Package.Path.Extend(r.Head.Ref().GroundPrefix())
			k := path.String()
			if groups[k] == nil {
				groups[k] = &group{path: path}
			}
			groups[k].rules = append(groups[k].rules, r)
		}
	}
	paths := slices.SortedFunc(maps.Keys(groups), func(a, b string) int {
		return groups[a].path.Compare(groups[b].path)
	})
	var replace []*group
	var values []*ast.Term
	variable := map[*ast.Rule]bool{}
	for _, k := range paths {
		g := groups[k]
		if !foldable(g.rules) || hasAncestor(g.path, groups) {
			continue
		}
		v, ok, err := constantValue(ctx, compiler, variable, g.rules, g.path)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			replace = append(replace, g)
			values = append(values, v)
		}
	}

	for i, g := range replace {
		// The rules of the document and of any document under it go;
		// one rule with the value takes their place.
		gone := map[*ast.Rule]bool{}
		for _, k := range paths {
			if groups[k].path.HasPrefix(g.path) {
				for _, r := range groups[k].rules {
					gone[r] = true
				}
			}
		}
		m := g.rules[0].Module
		// The head is the path under the package, starting with a name.
		rel := g.path[len(m.Package.Path):].Copy()
		name, ok := rel[0].Value.(ast.String)
		if !ok {
			return nil, nil, fmt.Errorf("policies: load: fold %s: not a rule name", g.path)
		}
		rel[0] = ast.VarTerm(string(name))
		head := ast.RefHead(rel, values[i])
		head.Assign = true
		head.Location = g.rules[0].Location
		r := &ast.Rule{
			Head:     head,
			Body:     ast.NewBody(ast.NewExpr(ast.BooleanTerm(true))),
			Module:   m,
			Location: g.rules[0].Location,
		}
		for _, mod := range byPath {
			mod.Rules = slices.DeleteFunc(mod.Rules, func(r *ast.Rule) bool { return gone[r] })
		}
		m.Rules = append(m.Rules, r)
		folded = append(folded, g.path.String())
	}
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		out = append(out, byPath[p])
	}
	if err := inlineConstants(out); err != nil {
		return nil, nil, err
	}
	return out, folded, nil
}

// inlineConstants replaces every reference to a constant rule (one rule
// whose value is a literal, as written or folded) by its value, so that a
// decision does not look such rules up: OPA evaluates a rule anew, with
// its index, cache and bindings, even when all it does is return a literal.
// References to documents under a rule, to packages (the packs are read
// by key) and from rules that replace data with `with` are left alone.
func inlineConstants(mods []*ast.Module) error {
	rules := map[string][]*ast.Rule{}
	for _, m := range mods {
		for _, r := range m.Rules {
			k := r.Module.Package.Path.Extend(r.Head.Ref().GroundPrefix()).String()
			rules[k] = append(rules[k], r)
		}
	}
	constants := map[string]*ast.Term{}
	for k, rs := range rules {
		r := rs[0]
		if len(rs) != 1 || len(r.Head.Args) > 0 || r.Else != nil || r.Head.Value == nil || r.Head.Key != nil ||
			!r.Body.Equal(ast.NewBody(ast.NewExpr(ast.BooleanTerm(true)))) ||
			!r.Head.Value.IsGround() || !ast.IsConstant(r.Head.Value.Value) {
			continue
		}
		if termCount(r.Head.Value) > maxInlined {
			continue
		}
		constants[k] = r.Head.Value
	}
	// A constant with a rule under it is not all of its document.
	for k := range rules {
		ref := rules[k][0].Module.Package.Path.Extend(rules[k][0].Head.Ref().GroundPrefix())
		for i := len(ref) - 1; i > 0; i-- {
			delete(constants, ref[:i].String())
		}
	}
	withData := false
	for _, m := range mods {
		ast.WalkExprs(m, func(e *ast.Expr) bool {
			for _, w := range e.With {
				if w.Target.Value.(ast.Ref).HasPrefix(ast.DefaultRootRef) {
					withData = true
				}
			}
			return withData
		})
	}
	if withData || len(constants) == 0 {
		return nil
	}
	for _, m := range mods {
		for i, r := range m.Rules {
			// TransformRefs writes every term it visits in place, and a
			// parsed rule shares OPA's interned terms (small numbers,
			// booleans) with every evaluation running in the process, on
			// the active policy included, and with the tree's own tests,
			// compiled meanwhile from the same modules: transform a copy.
			r = r.Copy()
			m.Rules[i] = r
			if _, err := ast.TransformRefs(r, func(ref ast.Ref) (ast.Value, error) {
				if !ref.HasPrefix(ast.DefaultRootRef) {
					return ref, nil
				}
				for n := len(ref); n > 2; n-- {
					if !ref[:n].IsGround() {
						continue
					}
					c, ok := constants[ref[:n].String()]
					if !ok {
						continue
					}
					// A copy each time: Transform goes on into what this
					// returns, writing its terms in place too.
					c = c.Copy()
					if n == len(ref) {
						return c.Value, nil
					}
					return append(ast.Ref{c}, ref[n:]...), nil
				}
				return ref, nil
			}); err != nil {
				return fmt.Errorf("policies: load: inline: %w", err)
			}
		}
	}
	return nil
}

// maxInlined is the size (in terms) of the largest constant inlined.
// Larger ones (the pack index) are looked up once per decision anyway,
// and copying them into every reference would slow compilation down.
const maxInlined = 1000

func termCount(t *ast.Term) int {
	n := 0
	ast.WalkTerms(t, func(*ast.Term) bool {
		n++
		return n > maxInlined
	})
	return n
}

// foldable is true for the rules of a document that may be worth folding:
// no function, not just a literal, no direct reference to the input.
func foldable(rules []*ast.Rule) bool {
	literal := len(rules) == 1
	for _, r := range rules {
		if len(r.Head.Args) > 0 {
			return false
		}
		if r.Else != nil || !r.Body.Equal(ast.NewBody(ast.NewExpr(ast.BooleanTerm(true)))) ||
			r.Head.Value == nil || !r.Head.Value.IsGround() || !ast.IsConstant(r.Head.Value.Value) ||
			len(r.Head.Ref()) != len(r.Head.Ref().GroundPrefix()) {
			literal = false
		}
		readsInput := false
		ast.WalkRefs(r, func(ref ast.Ref) bool {
			if ref.HasPrefix(ast.InputRootRef) {
				readsInput = true
			}
			return readsInput
		})
		if readsInput {
			return false
		}
	}
	return !literal
}

// hasAncestor is true if another document's rules define a document that
// contains path (a rule under a rule is folded with it, or not at all).
func hasAncestor[G any](path ast.Ref, groups map[string]G) bool {
	for n := len(path) - 1; n > 0; n-- {
		if _, ok := groups[path[:n].String()]; ok {
			return true
		}
	}
	return false
}

// constantValue evaluates the document at path if it cannot depend on the
// input: neither its rules nor any rule or function they use, however
// indirectly, read the input, replace data with `with`, or call a
// non-deterministic built-in (time.now_ns, http.send, ...). ok is true if
// it has exactly one value.
//
// variable remembers, across calls, which rules were found to depend on
// the input (true) or not (false).
func constantValue(ctx context.Context, c *ast.Compiler, variable map[*ast.Rule]bool, rules []*ast.Rule, path ast.Ref) (*ast.Term, bool, error) {
	for _, r := range rules {
		if dependsOnInput(c, variable, r) {
			return nil, false, nil
		}
	}

	query, err := c.QueryCompiler().Compile(ast.NewBody(ast.Equality.Expr(ast.VarTerm("__folded__"), ast.NewTerm(path))))
	if err != nil {
		return nil, false, nil //nolint:nilerr // not folding is always safe
	}
	store := inmem.New()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, false, err
	}
	defer store.Abort(ctx, txn)
	var values []*ast.Term
	err = topdown.NewQuery(query).
		WithCompiler(c).
		WithStore(store).
		WithTransaction(txn).
		WithStrictBuiltinErrors(true).
		Iter(ctx, func(qr topdown.QueryResult) error {
			values = append(values, qr[ast.Var("__folded__")])
			return nil
		})
	if err != nil || len(values) != 1 || values[0] == nil || !ast.IsConstant(values[0].Value) {
		// Undefined, more than one value, or an error (a built-in error,
		// a conflict): left to happen, or not, as it would.
		return nil, false, nil //nolint:nilerr // not folding is always safe
	}
	return values[0], true, nil
}

// dependsOnInput is true if rule r, its else branches, or a rule or
// function they use, however indirectly, reads the input, replaces data
// with `with` or calls a non-deterministic built-in. The graph of a
// compiled policy has no cycles (Rego forbids recursion).
func dependsOnInput(c *ast.Compiler, memo map[*ast.Rule]bool, r *ast.Rule) bool {
	if r == nil {
		return false
	}
	if v, ok := memo[r]; ok {
		return v
	}
	memo[r] = false // a cycle would not reach here again; see above
	v := readsInput(r) || dependsOnInput(c, memo, r.Else)
	for d := range c.Graph.Dependencies(r) {
		if v {
			break
		}
		if dr, ok := d.(*ast.Rule); ok {
			v = dependsOnInput(c, memo, dr)
		}
	}
	memo[r] = v
	return v
}

// readsInput is true if rule r itself reads the input, replaces data with
// `with` or calls a non-deterministic built-in.
func readsInput(r *ast.Rule) bool {
	found := false
	ast.WalkRefs(r, func(ref ast.Ref) bool {
		found = found || ref.HasPrefix(ast.InputRootRef)
		return found
	})
	ast.WalkVars(r, func(v ast.Var) bool {
		found = found || v.Equal(ast.InputRootDocument.Value)
		return found
	})
	ast.WalkExprs(r, func(e *ast.Expr) bool {
		if len(e.With) > 0 || (e.IsCall() && nondeterministic(e.Operator())) {
			found = true
		}
		return found
	})
	ast.WalkTerms(r, func(t *ast.Term) bool {
		if call, ok := t.Value.(ast.Call); ok && len(call) > 0 {
			if ref, ok := call[0].Value.(ast.Ref); ok && nondeterministic(ref) {
				found = true
			}
		}
		return found
	})
	return found
}

func nondeterministic(op ast.Ref) bool {
	b, ok := ast.BuiltinMap[op.String()]
	return ok && b.Nondeterministic
}
