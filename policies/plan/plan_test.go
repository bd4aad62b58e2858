package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// TestAgreesWithTopdown plans small policies that use the constructs the
// planner turns into blocks, breaks, scans, negation, dynamic calls and
// conflicts, and checks that the interpreter gives what OPA's topdown
// evaluator gives (built-in errors raised, as the engine raises them) for
// each input: the same value, both undefined, or both an error.
func TestAgreesWithTopdown(t *testing.T) {
	for _, c := range []struct {
		name   string
		module string
		inputs []string
	}{
		{"else and default", `package t
default r := "none"
r := "a" if input.x == 1
else := "b" if input.x == 2
else := "c" if input.x > 2`, []string{`{"x": 1}`, `{"x": 2}`, `{"x": 3}`, `{"x": 0}`, `{}`}},
		{"not, every and some", `package t
r if {
	not input.no
	every x in input.xs { x > 0 }
	some y in input.xs
	y == 3
}`, []string{`{"xs": [1, 2, 3]}`, `{"xs": [1, 2]}`, `{"xs": [0, 3]}`, `{"no": true, "xs": [3]}`, `{"xs": []}`}},
		{"comprehensions and partial rules", `package t
s contains x if {
	some x in input.xs
	x > 1
}
o[k] := v if some k, v in input.obj
r := {"a": [v | some v in input.obj], "s": s, "o": o, "c": count({k | some k, _ in input.obj}), "n": {k: v | some k, v in input.obj; v != 2}}`,
			[]string{`{"xs": [1, 2, 3, 3], "obj": {"b": 2, "a": 1, "c": 3}}`, `{"xs": [], "obj": {}}`, `{}`}},
		{"functions", `package t
f(x) := "big" if x > 10
f(x) := "small" if x <= 10
g(x, y) := x + y
r := [f(input.n), g(input.n, 1), object.get(input, "m", "none")]`, []string{`{"n": 11}`, `{"n": 3, "m": "x"}`, `{"n": "s"}`}},
		{"conflict", `package t
f(x) := 1 if x > 0
f(x) := 2 if x > 1
r := f(input.n)`, []string{`{"n": 1}`, `{"n": 2}`, `{"n": 0}`}},
		{"built-in error", `package t
r := to_number(input.s)`, []string{`{"s": "10"}`, `{"s": "ten"}`}},
		{"dynamic call and constants", `package t
k := {"a": 1, "b": 2}
packs.a.v := k.a + 1
packs.b.v := input.x
r := [packs[input.p].v, k]`, []string{`{"p": "a"}`, `{"p": "b", "x": 7}`, `{"p": "c"}`, `{"p": "b"}`}},
		// Literals New builds once (cases named "hoist" must have some).
		{"hoist: a literal used twice in one evaluation", `package t
f(x) := {"k": x, "l": [1, 2, {"m": true}]}
g(x) := [1, 2, {"m": true}] if x > 0
g(x) := [1, 2, {"m": false}] if x <= 0
r := [f(input.a), f(input.b), g(input.a), g(input.b), g(input.a) == f(input.b).l]`,
			[]string{`{"a": 1, "b": 2}`, `{"a": 1, "b": -2}`, `{"a": 0}`, `{}`}},
		{"hoist: a literal built then extended from the input", `package t
r := {
	"a": [1, 2, input.x],
	"o": {"a": 1, "b": input.x, "c": [3]},
	"s": {1, 2, input.x},
	"u": object.union({"a": {"b": 1}}, object.get(input, "o", {})),
	"c": array.concat([1, 2], object.get(input, "xs", [])),
	"k": [x | some x in [3, 1, 2]; x != input.x],
	"m": {"z": [1]} == {"z": [input.x]},
}`, []string{`{"x": 1}`, `{"x": [1, 2], "o": {"a": {"c": 2}, "d": 4}, "xs": [9]}`, `{}`}},
		{"hoist: a literal in a loop body", `package t
r := {
	"a": [{"v": x, "c": [1, 2]} | some x in input.xs],
	"b": [[1, {"d": null}] | some _ in input.xs],
	"c": {x: {"e": {1, 2}} | some x in input.xs},
	"d": count([y | some x in input.xs; some y in [x, "q", {"r": 1}]]),
	"e": {{"f": [1]} | some _ in input.xs},
}`, []string{`{"xs": [1, 2, 2]}`, `{"xs": []}`, `{"xs": {"a": 1}}`, `{}`}},
		{"hoist: a literal in one branch, its local reused for a set built in another", `package t
f(x) := {"a": ["b", {"c": 1}]}[x] if x == "a"
else := {y | some y in input.ys}
r := [f(input.k), f("a"), f("z")]`, []string{`{"k": "a"}`, `{"k": "b", "ys": [1, 2]}`, `{"k": "a", "ys": [3]}`, `{}`}},
		{"hoist: nested literals", `package t
r := [input.x, {"a": {"b": [1, {"c": {2, 3}}, [[]]]}, "n": null, "f": false, "s": set(), "o": {}, 1.5: "x", "big": 12345678901234567890}]`,
			[]string{`{"x": 1}`, `{}`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := ast.ParseModuleWithOpts("t.rego", c.module, ast.ParserOptions{RegoVersion: ast.RegoV1})
			if err != nil {
				t.Fatal(err)
			}
			p, err := Build(t.Context(), map[string]*ast.Module{"t.rego": m.Copy()}, ast.CapabilitiesForThisVersion(), "t/r")
			if err != nil {
				t.Fatal(err)
			}
			dynamic := false
			for _, f := range p.Funcs.Funcs {
				walk(f.Blocks, func(s ir.Stmt) {
					_, ok := s.(*ir.CallDynamicStmt)
					dynamic = dynamic || ok
				})
			}
			if want := strings.HasPrefix(c.name, "dynamic"); dynamic != want {
				t.Fatalf("dynamic call planned: %v, want %v", dynamic, want)
			}
			prog, err := New(p)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(c.name, "hoist") && prog.Hoisted() == 0 {
				t.Fatal("no literal built once")
			}
			compiler := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
			if compiler.Compile(map[string]*ast.Module{"t.rego": m}); compiler.Failed() {
				t.Fatal(compiler.Errors)
			}
			query := ast.MustParseBody("__r__ = data.t.r")
			store := inmem.New()
			// Twice: constants worked out in the first round must be
			// what the second finds.
			for range 2 {
				for _, in := range c.inputs {
					input := ast.MustParseTerm(in).Value
					got, gerr := prog.Eval(t.Context(), input)
					txn := storage.NewTransactionOrDie(t.Context(), store)
					var want ast.Value
					werr := topdown.NewQuery(query).WithCompiler(compiler).WithStore(store).WithTransaction(txn).
						WithStrictBuiltinErrors(true).WithInput(ast.NewTerm(input)).
						Iter(t.Context(), func(qr topdown.QueryResult) error {
							want = qr[ast.Var("__r__")].Value
							return nil
						})
					store.Abort(t.Context(), txn)
					undefined := errors.Is(gerr, ErrUndefined)
					if undefined {
						gerr = nil
					}
					switch {
					case werr != nil || gerr != nil:
						if werr == nil || gerr == nil {
							t.Errorf("%s: topdown error %v, plan error %v", in, werr, gerr)
						}
					case want == nil:
						if !undefined {
							t.Errorf("%s: topdown undefined, plan %v", in, got)
						}
					default:
						if undefined || want.Compare(got) != 0 {
							t.Errorf("%s: topdown %v, plan %v", in, want, got)
						}
					}
				}
			}
		})
	}
}

// TestLiteralsBuiltOnce: a decision that returns a literal with a part
// of the input allocates about as much whatever the literal's size, for New
// builds the constant part once; and its value is what topdown gives
// (TestAgreesWithTopdown's "hoist" cases).
func TestLiteralsBuiltOnce(t *testing.T) {
	allocs := func(n int) float64 {
		var elems []string
		for i := range n {
			elems = append(elems, fmt.Sprintf(`{"k%d": [%d, "s", null, true, {%d}]}`, i, i, i))
		}
		prog := programOf(t, fmt.Sprintf("package t\nr := [input.x, [%s]]", strings.Join(elems, ", ")))
		input := ast.MustParseTerm(`{"x": 1}`).Value
		v, err := prog.Eval(t.Context(), input)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.(*ast.Array).Elem(1).Value.(*ast.Array).Len(); got != n {
			t.Fatalf("%d elements, want %d", got, n)
		}
		return testing.AllocsPerRun(20, func() {
			if _, err := prog.Eval(t.Context(), input); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Built on each decision, the 99 more elements would take over 1,000
	// more allocations; the slack is for the pool of evaluations, which
	// the race detector empties at random.
	small, large := allocs(1), allocs(100)
	if large > small+50 {
		t.Errorf("a decision with a literal of 100 elements allocates %v times, with 1 element %v: the literal is built on each decision", large, small)
	}
}

// TestEvaluationStopsWhenTheCallEnds: the interpreter looked at its
// context only before and after the plan, so a long evaluation (a legal
// officer's rule that counts over nine million pairs, about five seconds
// here) ran to its end after the call had given up, holding an
// evaluator. It now looks every scanCheck scanned elements and stops
// with the context's error.
func TestEvaluationStopsWhenTheCallEnds(t *testing.T) {
	prog := programOf(t, `package t
r := count([1 | some x in numbers.range(1, 3000); some y in numbers.range(1, 3000); x * y == input.n])`)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := prog.Eval(ctx, ast.MustParseTerm(`{"n": -1}`).Value)
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 2*time.Second {
		t.Errorf("Eval with a deadline of 20 ms = %v after %v; want the deadline's error within well under 2 s", err, took)
	}
}

// programOf plans data.t.r of the module src (package t) and prepares it.
func programOf(t *testing.T, src string) *Program {
	t.Helper()
	m, err := ast.ParseModuleWithOpts("t.rego", src, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(t.Context(), map[string]*ast.Module{"t.rego": m}, ast.CapabilitiesForThisVersion(), "t/r")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}
