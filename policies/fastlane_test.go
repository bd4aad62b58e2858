package policies

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
)

// TestFastLaneDecidesAsTheStages checks the fast lane of the shared rules
// (_fast_result and _fast_bases in policies/liaison/decision.rego, the
// checks of the stages written out for speed) against the stages they
// stand for, on the golden inputs and every third request of the
// equivalence log: where the fast lane decides, the stages decide the
// same; the bases it finds in scope and applicable are those
// _parties_covered and _basis_ok accept; and it does decide the ordinary
// requests. Unlike TestDecisionsUnchanged, this holds after any change to
// the policy, intended or not.
func TestFastLaneDecidesAsTheStages(t *testing.T) {
	e := loadEmbedded(t)
	c := e.decision.compiler
	q := func(ref string) *query {
		t.Helper()
		pq, err := prepareQuery(c, ref)
		if err != nil {
			t.Fatal(err)
		}
		return pq
	}
	fast, staged, bases := q("data.liaison._fast_result"), q("data.liaison._staged_result"), q("data.liaison._fast_bases")
	// The bases in scope and applicable as the functions find them.
	body, err := c.QueryCompiler().Compile(ast.MustParseBody(`
		s := {id | some id in data.liaison._candidates; v := data.liaison._basis_views[data.liaison._pack_key][id]; data.liaison._parties_covered(v)}
		a := {id | some id in s; data.liaison._basis_ok(data.liaison._basis_views[data.liaison._pack_key][id])}
		__result__ = {"in_scope": s, "applicable": a}`))
	if err != nil {
		t.Fatal(err)
	}
	general := &query{compiler: c, body: body, store: e.decision.store}

	var ins []Input
	for _, g := range readGolden(t) {
		ins = append(ins, g.Input)
	}
	for i, x := range readEquivalenceLog(t) {
		if i%3 == 0 {
			ins = append(ins, x.Input)
		}
	}
	decided, found := 0, 0
	for n, in := range ins {
		v := in.value()
		if b, err := bases.eval(t.Context(), v); err == nil {
			found++
			g, err := general.eval(t.Context(), v)
			if err != nil {
				t.Fatalf("input %d: bases by the functions: %v", n, err)
			}
			if b.Compare(g) != 0 {
				t.Errorf("input %+v: bases in scope and applicable:\n%v\nby the functions:\n%v", in, b, g)
			}
		} else if !errors.Is(err, ErrUndefined) {
			t.Fatalf("input %d: fast bases: %v", n, err)
		}
		f, err := fast.eval(t.Context(), v)
		if errors.Is(err, ErrUndefined) {
			continue
		}
		if err != nil {
			t.Fatalf("input %d: fast lane: %v", n, err)
		}
		decided++
		s, err := staged.eval(t.Context(), v)
		if err != nil {
			t.Fatalf("input %d: stages: %v", n, err)
		}
		if d := cmp.Diff(s.String(), f.String()); d != "" {
			t.Errorf("input %+v: the fast lane decides otherwise than the stages (-stages +fast lane):\n%s", in, d)
		}
	}
	if decided < len(ins)/10 {
		t.Errorf("the fast lane decided %d of %d requests; want at least a tenth", decided, len(ins))
	}
	if found < len(ins)/2 {
		t.Errorf("the fast lane found the bases of %d of %d requests; want at least half", found, len(ins))
	}
	t.Logf("of %d requests, the fast lane found the bases of %d as the functions do, and decided %d as the stages do", len(ins), found, decided)
}
