package policies

import (
	"errors"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// ruleCounter counts the rules (and functions) an evaluation enters.
type ruleCounter struct{ rules int }

func (*ruleCounter) Enabled() bool               { return true }
func (*ruleCounter) Config() topdown.TraceConfig { return topdown.TraceConfig{} }
func (c *ruleCounter) TraceEvent(e topdown.Event) {
	if _, ok := e.Node.(*ast.Rule); ok && e.Op == topdown.EnterOp {
		c.rules++
	}
}

// maxFastLaneRules bounds the rules a decision the fast lane takes
// enters. Each rule OPA enters costs about 25 allocations, more than a
// dozen expressions (docs/performance.md); the checks of the fast lane's
// path are written out rather than asked of small rules. It was 24 for
// dk_release_notice_to_police before _valid_input, _invalid_case and
// _invalid_provenance wrote out _time_valid, _case_given and
// _provenance_given.
const maxFastLaneRules = 19

// TestFastLaneEntersFewRules counts the rules entered by the decisions of
// the golden inputs the fast lane decides that are ordinary exchanges:
// disclose, request or match, with no case or provenance (a notify adds
// its notice, a pseudonym action its approval, a case or provenance the
// rules that check them).
func TestFastLaneEntersFewRules(t *testing.T) {
	e := loadEmbedded(t)
	fast, err := prepareQuery(e.decision.compiler, "data.liaison._fast_result")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range readGolden(t) {
		in := g.Input
		if in.Case != nil || in.Provenance != nil || in.Event != nil || in.Route != nil ||
			(in.Action != "disclose" && in.Action != "request" && in.Action != "match") {
			continue
		}
		v := in.value()
		if _, err := fast.evalHere(t.Context(), v); errors.Is(err, ErrUndefined) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		c := &ruleCounter{}
		q := e.decision
		txn, err := q.store.NewTransaction(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		err = topdown.NewQuery(q.body).WithCompiler(q.compiler).WithStore(q.store).WithTransaction(txn).
			WithStrictBuiltinErrors(true).WithEarlyExit(true).WithIndexing(true).
			WithInput(ast.NewTerm(v)).WithQueryTracer(c).
			Iter(t.Context(), func(topdown.QueryResult) error { return nil })
		q.store.Abort(t.Context(), txn)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d rules", g.Name, c.rules)
		if c.rules > maxFastLaneRules {
			t.Errorf("%s: the decision enters %d rules; want at most %d", g.Name, c.rules, maxFastLaneRules)
		}
	}
	if n < 4 {
		t.Errorf("the fast lane decided %d golden inputs without a case or provenance; want at least 4", n)
	}
}
