package policies

import (
	"errors"
	"strings"
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

// ruleEntries counts the rules (and function definitions) an evaluation
// enters, by path.
type ruleEntries map[string]int

func (ruleEntries) Enabled() bool               { return true }
func (ruleEntries) Config() topdown.TraceConfig { return topdown.TraceConfig{} }
func (n ruleEntries) TraceEvent(e topdown.Event) {
	if r, ok := e.Node.(*ast.Rule); ok && e.Op == topdown.EnterOp {
		n[r.Module.Package.Path.Extend(r.Head.Ref().GroundPrefix()).String()]++
	}
}

// TestDecisionsSkipWhatCannotApply checks, on the decision of each golden
// input, that the rules which cannot apply to it are not entered (each
// costs about 25 allocations, docs/performance.md): _pre_applies for an
// exchange with no event, no route and not on a case; the onward stage's
// reasons without a provenance; every definition of _failure_message for
// a message (OPA indexes the code compared in the body, not one written
// in the head); and, for a notify, the pack's own
// rules (the notice rules read the pack from _notice_packs, folded at
// load).
func TestDecisionsSkipWhatCannotApply(t *testing.T) {
	e := loadEmbedded(t)
	q := e.decision
	messages := len(q.compiler.GetRules(ast.MustParseRef("data.liaison._failure_message")))
	for _, g := range readGolden(t) {
		in := g.Input
		n := ruleEntries{}
		txn, err := q.store.NewTransaction(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		err = topdown.NewQuery(q.body).WithCompiler(q.compiler).WithStore(q.store).WithTransaction(txn).
			WithStrictBuiltinErrors(true).WithEarlyExit(true).WithIndexing(true).
			WithInput(ast.NewTerm(in.value())).WithQueryTracer(n).
			Iter(t.Context(), func(topdown.QueryResult) error { return nil })
		q.store.Abort(t.Context(), txn)
		if err != nil {
			t.Fatal(err)
		}
		plain := in.Event == nil && in.Route == nil && !strings.HasPrefix(in.Action, "case_")
		if got := n["data.liaison._pre_applies"]; plain && got > 0 {
			t.Errorf("%s: enters _pre_applies %d times; want none for an exchange with no event, route or case action", g.Name, got)
		}
		if got := n["data.liaison._onward_reasons"]; in.Provenance == nil && got > 0 {
			t.Errorf("%s: enters _onward_reasons %d times; want none without a provenance", g.Name, got)
		}
		if got := n["data.liaison._failure_message"]; got >= messages {
			t.Errorf("%s: enters _failure_message %d times; want fewer than its %d definitions (the one or two for each code asked)", g.Name, got, messages)
		}
		for rule, times := range n {
			if in.Action == "notify" && strings.HasPrefix(rule, "data.liaison.jurisdictions.") {
				t.Errorf("%s: enters the pack's rule %s %d times; want the pack read from a folded table", g.Name, rule, times)
			}
		}
	}
}
