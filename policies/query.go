package policies

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/liaison-gateway/liaison/policies/plan"
)

// A query is a compiled query of the policy, evaluated by OPA's evaluator
// (topdown) directly rather than through the rego package: a decision then
// costs no result conversion to Go values and back through JSON, no
// metrics and no goroutine to watch the context, and the result stays a
// Rego value that decodeDecision reads as it is.
type query struct {
	compiler *ast.Compiler
	body     ast.Body // __result__ = <the query>, compiled
	store    storage.Store
}

// resultVar is the variable the value of a query is bound to.
var resultVar = ast.Var("__result__")

// compileModules compiles the (folded) policy modules once for all queries.
// The modules as written have passed the strict compile of runTests; folding
// can leave an import or a variable unused, so this compile is not strict.
func compileModules(mods []*ast.Module) (*ast.Compiler, error) {
	byName := moduleNames(mods)
	c := newCompiler().
		WithEnablePrintStatements(false)
	c.Compile(byName)
	if c.Failed() {
		return nil, fmt.Errorf("policies: load: compile: %w", explainForbidden(c.Errors))
	}
	return c, nil
}

// moduleNames names each module by its file, as a compiler wants them.
func moduleNames(mods []*ast.Module) map[string]*ast.Module {
	byName := make(map[string]*ast.Module, len(mods))
	for i, m := range mods {
		name := fmt.Sprintf("%03d", i)
		if m.Package != nil && m.Package.Location != nil && m.Package.Location.File != "" {
			name = m.Package.Location.File
		}
		if _, dup := byName[name]; dup {
			name = fmt.Sprintf("%s#%03d", name, i)
		}
		byName[name] = m
	}
	return byName
}

// prepareQuery compiles q (a reference such as data.liaison.decision)
// against compiler.
func prepareQuery(compiler *ast.Compiler, q string) (*query, error) {
	ref, err := ast.ParseRef(q)
	if err != nil {
		return nil, fmt.Errorf("policies: load: prepare %s: %w", q, err)
	}
	body, err := compiler.QueryCompiler().
		WithEnablePrintStatements(false).
		Compile(ast.NewBody(ast.Equality.Expr(ast.NewTerm(resultVar), ast.NewTerm(ref))))
	if err != nil {
		return nil, fmt.Errorf("policies: load: prepare %s: %w", q, err)
	}
	return &query{compiler: compiler, body: body, store: inmem.New()}, nil
}

// eval evaluates q with input (nil for none) and returns its single value,
// [ErrUndefined] if it has none, and an error if evaluation fails, with
// built-in errors raised (e.g. to_number("ten") is an error, not undefined).
// Evaluation stops when ctx is done.
//
// The evaluation runs on one of a few long-lived goroutines (evaluators).
// OPA's evaluator recurses deeply: a decision needs a stack of several
// hundred kilobytes, and a goroutine starts with a few; grown in a new
// goroutine (as every gRPC request is) it is copied at each doubling, which
// costs more than the decision itself. An evaluator keeps the stack it has
// grown.
func (q *query) eval(ctx context.Context, input ast.Value) (ast.Value, error) {
	return evaluate(ctx, q, input)
}

// evalPlanned evaluates p with input on the calling goroutine, at most
// as many at once as the Go scheduler runs goroutines (planned; others
// wait their turn). Its errors are package plan's.
//
// Unlike topdown, the interpreter recurses shallowly enough that a
// caller's stack serves it (the gateway decides on its deepStacks
// workers, gateway/deepstack.go, whose stacks the collector leaves grown).
// Handing the plan to an evaluator instead cost an idle decision about as
// much as the plan itself (the evaluator woken on another thread, and the
// plan's values cold in that core's cache); the bound keeps as few
// evaluations live at once as the evaluators did, so that a busy gateway
// does not hold a decision's working set for every call in flight.
func evalPlanned(ctx context.Context, p *plan.Program, input ast.Value) (ast.Value, error) {
	select {
	case planned <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("policies: evaluate: %w", ctx.Err())
	}
	defer func() { <-planned }()
	return p.Eval(ctx, input)
}

// planned holds a token for each planned evaluation under way.
var planned = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// evaluate evaluates q on an evaluator.
func evaluate(ctx context.Context, q *query, input ast.Value) (ast.Value, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("policies: evaluate: %w", err)
	}
	j := jobs.Get().(*evalJob)
	defer jobs.Put(j)
	j.ctx, j.q, j.input = ctx, q, input
	select {
	case evaluators() <- j:
	case <-ctx.Done():
		j.ctx, j.q, j.input = nil, nil, nil
		return nil, fmt.Errorf("policies: evaluate: %w", ctx.Err())
	}
	<-j.done
	v, err, panicked := j.value, j.err, j.panicked
	*j = evalJob{done: j.done}
	if panicked != nil {
		panic(panicked)
	}
	return v, err
}

// An evalJob is one evaluation handed to an evaluator.
type evalJob struct {
	ctx      context.Context
	q        *query
	input    ast.Value
	value    ast.Value
	err      error
	panicked any
	done     chan struct{}
}

var jobs = sync.Pool{New: func() any { return &evalJob{done: make(chan struct{}, 1)} }}

// evaluators starts the evaluators, as many as the Go scheduler runs
// goroutines at once (evaluation is all CPU; more would only wait), and
// returns the channel they take jobs from.
var evaluators = sync.OnceValue(func() chan *evalJob {
	ch := make(chan *evalJob)
	for range max(2, runtime.GOMAXPROCS(0)) {
		go func() {
			for j := range ch {
				j.run()
			}
		}()
	}
	return ch
})

func (j *evalJob) run() {
	defer func() {
		if p := recover(); p != nil {
			j.panicked = p
		}
		j.done <- struct{}{}
	}()
	j.value, j.err = j.q.evalHere(j.ctx, j.input)
}

// noMetrics is given to every query: without it, topdown makes a set of
// metrics and a timer for each (about 6 allocations) that no one reads.
var noMetrics = metrics.NoOp()

// evalHere is eval, on the calling goroutine.
func (q *query) evalHere(ctx context.Context, input ast.Value) (ast.Value, error) {
	txn, err := q.store.NewTransaction(ctx)
	if err != nil {
		return nil, fmt.Errorf("policies: evaluate: %w", err)
	}
	defer q.store.Abort(ctx, txn)

	tq := topdown.NewQuery(q.body).
		WithCompiler(q.compiler).
		WithStore(q.store).
		WithTransaction(txn).
		WithStrictBuiltinErrors(true).
		WithEarlyExit(true).
		WithIndexing(true).
		WithMetrics(noMetrics)
	if input != nil {
		tq = tq.WithInput(ast.NewTerm(input))
	}
	if ctx.Done() != nil {
		cancel := topdown.NewCancel()
		stop := context.AfterFunc(ctx, cancel.Cancel)
		defer stop()
		tq = tq.WithCancel(cancel)
	}
	var (
		value ast.Value
		n     int
	)
	err = tq.Iter(ctx, func(qr topdown.QueryResult) error {
		n++
		if t := qr[resultVar]; t != nil {
			value = t.Value
		}
		return nil
	})
	switch {
	case err != nil:
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("policies: evaluate: %w", ctxErr)
		}
		return nil, fmt.Errorf("policies: evaluate: %w", err)
	case n == 0 || value == nil:
		return nil, ErrUndefined
	case n > 1:
		return nil, fmt.Errorf("policies: evaluate: %d results, want 1", n)
	}
	return value, nil
}
