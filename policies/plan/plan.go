// Package plan evaluates a query planned by OPA's planner (its
// intermediate representation, package ir) with a small interpreter
// whose values are OPA's own (ast.Value, as terms) and whose built-ins are
// OPA's topdown built-ins, so that a planned decision has the semantics
// of topdown's.
//
// The interpreter follows the execution model OPA's Wasm compiler gives
// the IR: a statement that is undefined ends the innermost block; a break
// of index n leaves n+1 enclosing blocks, a scan counting as two (its
// loop and the block around it), a function body's blocks each as one.
// Functions of the input and data alone (two parameters) are memoised
// for an evaluation; those that cannot read the input, however
// indirectly, are worked out once and kept for every evaluation; so are
// the literals the plan builds of constants alone, which [New] builds
// once and every evaluation shares (never changed in place). A plan
// with a WithStmt (a `with` on the query's path) is refused by [New].
package plan

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// ErrUndefined is returned by [Program.Eval] when the plan has no result.
var ErrUndefined = errors.New("plan: undefined")

// A Program is a prepared plan. It is safe for concurrent use.
type Program struct {
	plan    *ir.Plan
	funcs   []*function
	byPath  map[string]*function // by Func.Path joined with "\x00"
	strings []*ast.Term
	numbers []*ast.Term // Static.Strings parsed as numbers, where they are
	result  *ast.Term   // the key of a result set's element
	// planLocals is the size of the plan's frame, stack the most locals
	// the frames of an evaluation take at once.
	planLocals, stack int
	// hoisted is the number of statements replaced by constStmts.
	hoisted int
	evals   sync.Pool // of *eval
}

// A function is a planned function, prepared.
type function struct {
	index  int
	fn     *ir.Func
	locals int // the size of its frame
	// memo: a function of the input and data alone, worked out at most
	// once per evaluation.
	memo bool
	// constant: a memoised function that does not read the input,
	// however indirectly; worked out once for all evaluations.
	constant bool
	value    atomic.Pointer[constValue]
}

// A constValue is the value of a constant function (nil: undefined).
type constValue struct{ t *ast.Term }

// callFunc is a CallStmt to a planned function, resolved.
type callFunc struct {
	ir.Location
	f      *function
	args   []ir.Operand
	result ir.Local
}

// callBuiltin is a CallStmt to a built-in, resolved.
type callBuiltin struct {
	ir.Location
	f      topdown.BuiltinFunc
	args   []ir.Operand
	result ir.Local
}

// New prepares p, which it takes over (it rewrites p's calls). It fails if the plan uses a statement or a built-in
// the interpreter does not have, or does something the interpreter's
// sharing of values would make unsafe (see mutatesOnlyOwn).
func New(p *ir.Policy) (*Program, error) {
	if p.Plans == nil || len(p.Plans.Plans) != 1 {
		return nil, errors.New("plan: want exactly one plan")
	}
	prog := &Program{
		plan:   p.Plans.Plans[0],
		byPath: map[string]*function{},
		result: ast.StringTerm("result"),
	}
	if p.Static != nil {
		for _, s := range p.Static.Strings {
			prog.strings = append(prog.strings, ast.StringTerm(s.Value))
			var n *ast.Term
			if t, err := ast.ParseTerm(s.Value); err == nil {
				if _, ok := t.Value.(ast.Number); ok {
					n = t
				}
			}
			prog.numbers = append(prog.numbers, n)
		}
	}
	byName := map[string]*function{}
	if p.Funcs != nil {
		for i, f := range p.Funcs.Funcs {
			fn := &function{index: i, fn: f, memo: len(f.Params) == 2}
			prog.funcs = append(prog.funcs, fn)
			byName[f.Name] = fn
			if len(f.Path) > 0 {
				prog.byPath[strings.Join(f.Path, "\x00")] = fn
			}
		}
	}
	r := resolver{prog: prog, byName: byName}
	for _, f := range prog.funcs {
		r.max = 0
		for _, l := range f.fn.Params {
			r.local(l)
		}
		r.local(f.fn.Return)
		for _, b := range f.fn.Blocks {
			if err := r.block(b); err != nil {
				return nil, fmt.Errorf("plan: %s: %w", f.fn.Name, err)
			}
		}
		f.locals = r.max + 1
		if err := mutatesOnlyOwn(f.fn.Blocks); err != nil {
			return nil, fmt.Errorf("plan: %s: %w", f.fn.Name, err)
		}
	}
	r.max = int(ir.Data)
	for _, b := range prog.plan.Blocks {
		if err := r.block(b); err != nil {
			return nil, fmt.Errorf("plan: %s: %w", prog.plan.Name, err)
		}
	}
	if err := mutatesOnlyOwn(prog.plan.Blocks); err != nil {
		return nil, fmt.Errorf("plan: %s: %w", prog.plan.Name, err)
	}
	prog.planLocals = r.max + 1
	markConstants(prog.funcs)
	prog.stack = prog.planLocals + stackSize(prog.funcs, prog.plan.Blocks, map[*function]int{})
	for _, f := range prog.funcs {
		prog.hoisted += hoistLiterals(prog, f.fn.Blocks, f.locals)
		// Checked again with the hoisted values (which it counts as
		// values a function did not make): hoisting never lets a
		// function change a shared value.
		if err := mutatesOnlyOwn(f.fn.Blocks); err != nil {
			return nil, fmt.Errorf("plan: %s: literals built once: %w", f.fn.Name, err)
		}
	}
	prog.hoisted += hoistLiterals(prog, prog.plan.Blocks, prog.planLocals)
	if err := mutatesOnlyOwn(prog.plan.Blocks); err != nil {
		return nil, fmt.Errorf("plan: %s: literals built once: %w", prog.plan.Name, err)
	}
	return prog, nil
}

// Hoisted is the number of the plan's statements that build constant
// values (literals) which New replaced by the values, built once.
func (p *Program) Hoisted() int { return p.hoisted }

// A resolver rewrites the calls of a plan into callFunc and callBuiltin
// and checks that every statement is one the interpreter runs.
type resolver struct {
	prog   *Program
	byName map[string]*function
	max    int
}

func (r *resolver) local(l ir.Local) {
	r.max = max(r.max, int(l))
}

// operand checks o and makes its value a plain ir.Local, ir.StringIndex
// or ir.Bool (a plan read from JSON has pointers to them).
func (r *resolver) operand(o *ir.Operand) error {
	switch v := o.Value.(type) {
	case *ir.Local:
		o.Value = *v
	case *ir.StringIndex:
		o.Value = *v
	case *ir.Bool:
		o.Value = *v
	}
	switch v := o.Value.(type) {
	case ir.Local:
		r.local(v)
	case ir.StringIndex:
		if int(v) < 0 || int(v) >= len(r.prog.strings) {
			return fmt.Errorf("string %d out of range", v)
		}
	case ir.Bool:
	default:
		return fmt.Errorf("operand %T", v)
	}
	return nil
}

func (r *resolver) operands(ops ...*ir.Operand) error {
	for _, o := range ops {
		if err := r.operand(o); err != nil {
			return err
		}
	}
	return nil
}

func (r *resolver) block(b *ir.Block) error {
	for i, s := range b.Stmts {
		var err error
		switch s := s.(type) {
		case *ir.CallStmt:
			r.local(s.Result)
			for i := range s.Args {
				if err := r.operand(&s.Args[i]); err != nil {
					return err
				}
			}
			if f, ok := r.byName[s.Func]; ok {
				if len(s.Args) != len(f.fn.Params) {
					return fmt.Errorf("call of %s with %d arguments, want %d", s.Func, len(s.Args), len(f.fn.Params))
				}
				b.Stmts[i] = &callFunc{Location: s.Location, f: f, args: s.Args, result: s.Result}
				continue
			}
			bf := topdown.GetBuiltin(s.Func)
			if bf == nil {
				return fmt.Errorf("unknown function %s", s.Func)
			}
			b.Stmts[i] = &callBuiltin{Location: s.Location, f: bf, args: s.Args, result: s.Result}
		case *ir.CallDynamicStmt:
			r.local(s.Result)
			for _, a := range s.Args {
				r.local(a)
			}
			for i := range s.Path {
				if err := r.operand(&s.Path[i]); err != nil {
					return err
				}
			}
		case *ir.BlockStmt:
			for _, b := range s.Blocks {
				if err := r.block(b); err != nil {
					return err
				}
			}
		case *ir.ScanStmt:
			r.local(s.Source)
			r.local(s.Key)
			r.local(s.Value)
			err = r.block(s.Block)
		case *ir.NotStmt:
			err = r.block(s.Block)
		case *ir.ReturnLocalStmt:
			r.local(s.Source)
		case *ir.BreakStmt, *ir.NopStmt:
		case *ir.DotStmt:
			r.local(s.Target)
			err = r.operands(&s.Source, &s.Key)
		case *ir.LenStmt:
			r.local(s.Target)
			err = r.operand(&s.Source)
		case *ir.AssignIntStmt:
			r.local(s.Target)
		case *ir.AssignVarStmt:
			r.local(s.Target)
			err = r.operand(&s.Source)
		case *ir.AssignVarOnceStmt:
			r.local(s.Target)
			err = r.operand(&s.Source)
		case *ir.ResetLocalStmt:
			r.local(s.Target)
		case *ir.MakeNullStmt:
			r.local(s.Target)
		case *ir.MakeNumberIntStmt:
			r.local(s.Target)
		case *ir.MakeNumberRefStmt:
			r.local(s.Target)
			if s.Index < 0 || s.Index >= len(r.prog.numbers) || r.prog.numbers[s.Index] == nil {
				return fmt.Errorf("number %d is not a number", s.Index)
			}
		case *ir.MakeArrayStmt:
			r.local(s.Target)
		case *ir.MakeObjectStmt:
			r.local(s.Target)
		case *ir.MakeSetStmt:
			r.local(s.Target)
		case *ir.EqualStmt:
			err = r.operands(&s.A, &s.B)
		case *ir.NotEqualStmt:
			err = r.operands(&s.A, &s.B)
		case *ir.IsArrayStmt:
			err = r.operand(&s.Source)
		case *ir.IsObjectStmt:
			err = r.operand(&s.Source)
		case *ir.IsSetStmt:
			err = r.operand(&s.Source)
		case *ir.IsDefinedStmt:
			r.local(s.Source)
		case *ir.IsUndefinedStmt:
			r.local(s.Source)
		case *ir.ArrayAppendStmt:
			r.local(s.Array)
			err = r.operand(&s.Value)
		case *ir.ObjectInsertStmt:
			r.local(s.Object)
			err = r.operands(&s.Key, &s.Value)
		case *ir.ObjectInsertOnceStmt:
			r.local(s.Object)
			err = r.operands(&s.Key, &s.Value)
		case *ir.ObjectMergeStmt:
			r.local(s.A)
			r.local(s.B)
			r.local(s.Target)
		case *ir.SetAddStmt:
			r.local(s.Set)
			err = r.operand(&s.Value)
		case *ir.ResultSetAddStmt:
			r.local(s.Value)
		default:
			// WithStmt among others: not run by this interpreter.
			return fmt.Errorf("statement %T not supported", s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
