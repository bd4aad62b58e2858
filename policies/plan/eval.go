package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
)

// A flow is how a statement or block ended: done (on to the next
// statement), ret (a function returned), or a break of that many blocks
// (0: the innermost; an undefined statement is a break of 0).
type flow int

const (
	done flow = -1
	ret  flow = -2
)

// An eval is the state of one evaluation.
type eval struct {
	p      *Program
	input  *ast.Term
	data   *ast.Term
	memo   []*ast.Term // by function index, for memoised functions
	known  []bool      // memo[i] is worked out
	stack  []*ast.Term
	sp     int
	bctx   topdown.BuiltinContext
	out    *ast.Term
	outSet bool
	iter   func(*ast.Term) error
	args   []*ast.Term
	result []*ast.Term
	ticks  uint32 // elements scanned, for the look at ctx (scan)
}

func (e *eval) setOut(t *ast.Term) error {
	e.out, e.outSet = t, true
	return nil
}

// scanCheck is how many scanned elements pass between two looks at the
// context (about a millisecond's work, or much less).
const scanCheck = 1024

// errConflict is the error of a rule or function with two values.
var errConflict = errors.New("plan: conflicting values (complete rule or function with more than one value)")

// Eval evaluates the program with input (nil for none) and returns its
// single value, [ErrUndefined] if it has none, or the error of a
// built-in or of conflicting values. ctx is given to the built-ins and
// looked at before and after the plan and every scanCheck elements its
// scans go through, so that a long evaluation stops with ctx's error
// when ctx is done; a panic of the interpreter is returned as an error.
func (p *Program) Eval(ctx context.Context, input ast.Value) (_ ast.Value, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plan: internal error: %v", r)
		}
	}()
	e, _ := p.evals.Get().(*eval)
	if e == nil {
		e = &eval{
			p:     p,
			memo:  make([]*ast.Term, len(p.funcs)),
			known: make([]bool, len(p.funcs)),
			stack: make([]*ast.Term, p.stack),
			data:  ast.NewTerm(ast.NewObject()),
		}
		e.iter = e.setOut
	}
	defer func() {
		clear(e.memo)
		clear(e.known)
		clear(e.result)
		e.result = e.result[:0]
		e.input, e.bctx, e.sp, e.ticks = nil, topdown.BuiltinContext{}, 0, 0
		p.evals.Put(e)
	}()
	if input != nil {
		e.input = ast.NewTerm(input)
	}
	e.bctx = topdown.BuiltinContext{Context: ctx, Cache: builtins.Cache{}}
	fr := e.frame(p.planLocals)
	fr[ir.Input], fr[ir.Data] = e.input, e.data
	for _, b := range p.plan.Blocks {
		f, err := e.block(fr, b)
		if err != nil {
			return nil, err
		}
		if f > 0 {
			return nil, fmt.Errorf("plan: break of %d blocks out of the plan", f)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	switch len(e.result) {
	case 0:
		return nil, ErrUndefined
	case 1:
		obj, ok := e.result[0].Value.(ast.Object)
		if !ok {
			return nil, fmt.Errorf("plan: result %v is not an object", e.result[0])
		}
		v := obj.Get(p.result)
		if v == nil {
			return nil, ErrUndefined
		}
		return v.Value, nil
	default:
		return nil, fmt.Errorf("plan: %d results, want 1", len(e.result))
	}
}

// frame takes n locals, all undefined, off the stack (New sizes the
// stack for the deepest chain of calls; a frame beyond it is allocated).
func (e *eval) frame(n int) []*ast.Term {
	if e.sp+n > len(e.stack) {
		return make([]*ast.Term, n)
	}
	fr := e.stack[e.sp : e.sp+n : e.sp+n]
	clear(fr)
	e.sp += n
	return fr
}

// read is the value of operand o in frame fr (nil: undefined).
func (e *eval) read(fr []*ast.Term, o ir.Operand) *ast.Term {
	switch v := o.Value.(type) {
	case ir.Local:
		return fr[v]
	case ir.StringIndex:
		return e.p.strings[v]
	case ir.Bool:
		return ast.InternedTerm(bool(v))
	}
	return nil
}

// block runs the statements of b: done if all ran, ret if one returned,
// else the number of blocks a break leaves counting b as 0.
func (e *eval) block(fr []*ast.Term, b *ir.Block) (flow, error) {
	for _, s := range b.Stmts {
		f, err := e.stmt(fr, s)
		if err != nil {
			return 0, err
		}
		if f != done {
			return f, nil
		}
	}
	return done, nil
}

func (e *eval) stmt(fr []*ast.Term, s ir.Stmt) (flow, error) {
	switch s := s.(type) {
	case *callFunc:
		v, err := e.call(fr, s)
		if err != nil {
			return 0, err
		}
		if v == nil {
			return 0, nil
		}
		fr[s.result] = v
	case *callBuiltin:
		args := e.args[:0]
		for _, a := range s.args {
			t := e.read(fr, a)
			if t == nil {
				return 0, nil
			}
			args = append(args, t)
		}
		e.args = args
		e.out, e.outSet = nil, false
		if err := s.f(e.bctx, args, e.iter); err != nil {
			if h, ok := err.(topdown.Halt); ok {
				err = h.Err
			}
			return 0, err
		}
		clear(e.args)
		if !e.outSet {
			return 0, nil
		}
		fr[s.result] = e.out
	case *constStmt:
		for i, l := range s.locals {
			fr[l] = s.values[i]
		}
	case *ir.BlockStmt:
		for _, b := range s.Blocks {
			f, err := e.block(fr, b)
			if err != nil {
				return 0, err
			}
			switch {
			case f == done || f == 0:
			case f == ret:
				return ret, nil
			default:
				return f - 1, nil
			}
		}
	case *ir.ScanStmt:
		return e.scan(fr, s)
	case *ir.NotStmt:
		f, err := e.block(fr, s.Block)
		if err != nil {
			return 0, err
		}
		switch {
		case f == done:
			return 0, nil
		case f == 0:
		case f == ret:
			return ret, nil
		default:
			return f - 1, nil
		}
	case *ir.BreakStmt:
		return flow(s.Index), nil
	case *ir.ReturnLocalStmt:
		return ret, nil
	case *ir.NopStmt:
	case *ir.DotStmt:
		src, ok := s.Source.Value.(ir.Local)
		if !ok {
			return 0, nil
		}
		v := dot(fr[src], e.read(fr, s.Key))
		if v == nil {
			return 0, nil
		}
		fr[s.Target] = v
	case *ir.LenStmt:
		t := e.read(fr, s.Source)
		if t == nil {
			return 0, nil
		}
		var n int
		switch v := t.Value.(type) {
		case ast.Object:
			n = v.Len()
		case *ast.Array:
			n = v.Len()
		case ast.Set:
			n = v.Len()
		case ast.String:
			n = len([]rune(string(v)))
		default:
			return 0, nil
		}
		fr[s.Target] = ast.InternedTerm(n)
	case *ir.AssignIntStmt:
		fr[s.Target] = ast.InternedTerm(int(s.Value))
	case *ir.AssignVarStmt:
		fr[s.Target] = e.read(fr, s.Source)
	case *ir.AssignVarOnceStmt:
		v := e.read(fr, s.Source)
		if old := fr[s.Target]; old != nil && v != nil && old.Value.Compare(v.Value) != 0 {
			return 0, errConflict
		}
		fr[s.Target] = v
	case *ir.ResetLocalStmt:
		fr[s.Target] = nil
	case *ir.MakeNullStmt:
		fr[s.Target] = ast.InternedNullTerm
	case *ir.MakeNumberIntStmt:
		fr[s.Target] = ast.InternedTerm(int(s.Value))
	case *ir.MakeNumberRefStmt:
		fr[s.Target] = e.p.numbers[s.Index]
	case *ir.MakeArrayStmt:
		fr[s.Target] = ast.NewTerm(ast.NewArrayWithCapacity(int(s.Capacity)))
	case *ir.MakeObjectStmt:
		fr[s.Target] = ast.NewTerm(ast.NewObject())
	case *ir.MakeSetStmt:
		fr[s.Target] = ast.NewTerm(ast.NewSet())
	case *ir.EqualStmt:
		a, b := e.read(fr, s.A), e.read(fr, s.B)
		if a == nil || b == nil || a.Value.Compare(b.Value) != 0 {
			return 0, nil
		}
	case *ir.NotEqualStmt:
		a, b := e.read(fr, s.A), e.read(fr, s.B)
		if a == nil || b == nil || a.Value.Compare(b.Value) == 0 {
			return 0, nil
		}
	case *ir.IsArrayStmt:
		if t := e.read(fr, s.Source); t == nil {
			return 0, nil
		} else if _, ok := t.Value.(*ast.Array); !ok {
			return 0, nil
		}
	case *ir.IsObjectStmt:
		if t := e.read(fr, s.Source); t == nil {
			return 0, nil
		} else if _, ok := t.Value.(ast.Object); !ok {
			return 0, nil
		}
	case *ir.IsSetStmt:
		if t := e.read(fr, s.Source); t == nil {
			return 0, nil
		} else if _, ok := t.Value.(ast.Set); !ok {
			return 0, nil
		}
	case *ir.IsDefinedStmt:
		if fr[s.Source] == nil {
			return 0, nil
		}
	case *ir.IsUndefinedStmt:
		if fr[s.Source] != nil {
			return 0, nil
		}
	case *ir.ArrayAppendStmt:
		t := fr[s.Array]
		t.Value = t.Value.(*ast.Array).Append(e.read(fr, s.Value))
	case *ir.ObjectInsertStmt:
		fr[s.Object].Value.(ast.Object).Insert(e.read(fr, s.Key), e.read(fr, s.Value))
	case *ir.ObjectInsertOnceStmt:
		obj := fr[s.Object].Value.(ast.Object)
		k, v := e.read(fr, s.Key), e.read(fr, s.Value)
		if old := obj.Get(k); old != nil {
			if old.Value.Compare(v.Value) != 0 {
				return 0, errConflict
			}
			return done, nil
		}
		obj.Insert(k, v)
	case *ir.ObjectMergeStmt:
		fr[s.Target] = merge(fr[s.A], fr[s.B])
	case *ir.SetAddStmt:
		fr[s.Set].Value.(ast.Set).Add(e.read(fr, s.Value))
	case *ir.ResultSetAddStmt:
		e.result = append(e.result, fr[s.Value])
	case *ir.CallDynamicStmt:
		return e.callDynamic(fr, s)
	default:
		return 0, fmt.Errorf("plan: statement %T not supported", s)
	}
	return done, nil
}

// scan runs s's block for each element of its source, if a collection.
func (e *eval) scan(fr []*ast.Term, s *ir.ScanStmt) (flow, error) {
	src := fr[s.Source]
	if src == nil {
		return done, nil
	}
	// each runs the block for one element: stop is true when the scan
	// ends, with f its flow.
	each := func(k, v *ast.Term) (f flow, stop bool, err error) {
		// A plan loops only by scanning (Rego has no recursion): a look
		// at ctx every scanCheck elements stops a long evaluation when
		// the call ends, as topdown's cancellation does.
		if e.ticks++; e.ticks%scanCheck == 0 {
			if err := e.bctx.Context.Err(); err != nil {
				return 0, true, err
			}
		}
		fr[s.Key], fr[s.Value] = k, v
		f, err = e.block(fr, s.Block)
		switch {
		case err != nil:
			return 0, true, err
		case f == done || f == 0:
			return done, false, nil
		case f == ret:
			return ret, true, nil
		case f == 1:
			return done, true, nil
		default:
			return f - 2, true, nil
		}
	}
	switch c := src.Value.(type) {
	case *ast.Array:
		for i := range c.Len() {
			if f, stop, err := each(ast.InternedTerm(i), c.Elem(i)); stop {
				return f, err
			}
		}
	case ast.Object:
		ki := c.KeysIterator()
		for k, more := ki.Next(); more; k, more = ki.Next() {
			if f, stop, err := each(k, c.Get(k)); stop {
				return f, err
			}
		}
	case ast.Set:
		for _, x := range c.Slice() {
			if f, stop, err := each(x, x); stop {
				return f, err
			}
		}
	}
	return done, nil
}

// call calls the function of s: its value, nil if undefined.
func (e *eval) call(fr []*ast.Term, s *callFunc) (*ast.Term, error) {
	f := s.f
	if f.constant {
		if c := f.value.Load(); c != nil {
			return c.t, nil
		}
	} else if f.memo && e.known[f.index] {
		return e.memo[f.index], nil
	}
	sp := e.sp
	callee := e.frame(f.locals)
	for i, a := range s.args {
		callee[f.fn.Params[i]] = e.read(fr, a)
	}
	v, err := e.run(f, callee)
	e.sp = sp
	if err != nil {
		return nil, err
	}
	switch {
	case f.constant:
		f.value.Store(&constValue{t: v})
	case f.memo:
		e.memo[f.index], e.known[f.index] = v, true
	}
	return v, nil
}

// run runs the blocks of f in frame fr and returns the value it returns
// (nil: undefined).
func (e *eval) run(f *function, fr []*ast.Term) (*ast.Term, error) {
	for _, b := range f.fn.Blocks {
		fl, err := e.block(fr, b)
		if err != nil {
			return nil, err
		}
		switch {
		case fl == ret:
			return fr[f.fn.Return], nil
		case fl > 0:
			return nil, fmt.Errorf("plan: %s: break of %d blocks out of the function", f.fn.Name, fl)
		}
	}
	return fr[f.fn.Return], nil
}

// callDynamic calls the function its path names, if one: the statement
// is undefined if none (the plan then looks in data), and leaves three
// more blocks if the function's value is undefined (as OPA's Wasm does).
func (e *eval) callDynamic(fr []*ast.Term, s *ir.CallDynamicStmt) (flow, error) {
	var sb strings.Builder
	for i, o := range s.Path {
		t := e.read(fr, o)
		if t == nil {
			return 0, nil
		}
		str, ok := t.Value.(ast.String)
		if !ok {
			return 0, nil
		}
		if i > 0 {
			sb.WriteByte(0)
		}
		sb.WriteString(string(str))
	}
	f := e.p.byPath[sb.String()]
	if f == nil {
		return 0, nil
	}
	args := make([]ir.Operand, len(s.Args))
	for i, a := range s.Args {
		args[i] = ir.Operand{Value: a}
	}
	v, err := e.call(fr, &callFunc{f: f, args: args, result: s.Result})
	if err != nil {
		return 0, err
	}
	if v == nil {
		return 3, nil
	}
	fr[s.Result] = v
	return done, nil
}

// dot is the element of collection c at key k, nil if none.
func dot(c, k *ast.Term) *ast.Term {
	if c == nil || k == nil {
		return nil
	}
	switch v := c.Value.(type) {
	case ast.Object:
		return v.Get(k)
	case *ast.Array:
		n, ok := k.Value.(ast.Number)
		if !ok {
			return nil
		}
		i, ok := n.Int()
		if !ok || i < 0 || i >= v.Len() {
			return nil
		}
		return v.Elem(i)
	case ast.Set:
		if v.Contains(k) {
			return k
		}
	}
	return nil
}

// merge merges objects a and b recursively, a's values first where both
// have a key and they are not both objects, as OPA's Wasm does.
func merge(a, b *ast.Term) *ast.Term {
	if a == nil {
		return b
	}
	oa, ok1 := a.Value.(ast.Object)
	ob, ok2 := b.Value.(ast.Object)
	if !ok1 || !ok2 {
		return a
	}
	out := ast.NewObject()
	oa.Foreach(func(k, v *ast.Term) {
		if w := ob.Get(k); w != nil {
			out.Insert(k, merge(v, w))
		} else {
			out.Insert(k, v)
		}
	})
	ob.Foreach(func(k, v *ast.Term) {
		if oa.Get(k) == nil {
			out.Insert(k, v)
		}
	})
	return ast.NewTerm(out)
}
