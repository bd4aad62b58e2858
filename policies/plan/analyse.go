package plan

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ir"
)

// walk calls visit for every statement of blocks, nested ones included.
func walk(blocks []*ir.Block, visit func(ir.Stmt)) {
	for _, b := range blocks {
		for _, s := range b.Stmts {
			visit(s)
			switch s := s.(type) {
			case *ir.BlockStmt:
				walk(s.Blocks, visit)
			case *ir.ScanStmt:
				walk([]*ir.Block{s.Block}, visit)
			case *ir.NotStmt:
				walk([]*ir.Block{s.Block}, visit)
			case *ir.WithStmt:
				walk([]*ir.Block{s.Block}, visit)
			}
		}
	}
}

// mutatesOnlyOwn checks that the statements that change a value in place
// (array appends, object inserts, set adds) change only values the same
// function has made: the statement before them, in the order they are
// written, that sets the local they change is a MakeArray, MakeObject or
// MakeSet. Values are shared between evaluations (the input's terms,
// constant functions' values) and between locals, so a plan that changed
// any other value could change another decision's. (The planner reuses
// locals from one block to the next, hence the order.)
func mutatesOnlyOwn(blocks []*ir.Block) error {
	made := map[ir.Local]bool{}
	var bad []ir.Local
	mutate := func(l ir.Local) {
		if !made[l] {
			bad = append(bad, l)
		}
	}
	walk(blocks, func(s ir.Stmt) {
		if l, ok := mutated(s); ok {
			mutate(l)
		}
		switch s.(type) {
		case *ir.MakeArrayStmt, *ir.MakeObjectStmt, *ir.MakeSetStmt:
			l, _ := target(s)
			made[l] = true
			return
		}
		for _, l := range setLocals(s) {
			made[l] = false
		}
	})
	if len(bad) > 0 {
		return fmt.Errorf("changes in place local %d, which may hold a value it did not make", bad[0])
	}
	return nil
}

// setLocals are the locals statement s itself sets (not those of the
// blocks it holds).
func setLocals(s ir.Stmt) []ir.Local {
	switch s := s.(type) {
	case *ir.MakeArrayStmt:
		return []ir.Local{s.Target}
	case *ir.MakeObjectStmt:
		return []ir.Local{s.Target}
	case *ir.MakeSetStmt:
		return []ir.Local{s.Target}
	case *callFunc:
		return []ir.Local{s.result}
	case *callBuiltin:
		return []ir.Local{s.result}
	case *ir.CallDynamicStmt:
		return []ir.Local{s.Result}
	case *ir.ScanStmt:
		return []ir.Local{s.Key, s.Value}
	case *ir.DotStmt:
		return []ir.Local{s.Target}
	case *ir.AssignVarStmt:
		return []ir.Local{s.Target}
	case *ir.AssignVarOnceStmt:
		return []ir.Local{s.Target}
	case *ir.ObjectMergeStmt:
		return []ir.Local{s.Target}
	case *ir.MakeNullStmt:
		return []ir.Local{s.Target}
	case *ir.MakeNumberIntStmt:
		return []ir.Local{s.Target}
	case *ir.MakeNumberRefStmt:
		return []ir.Local{s.Target}
	case *ir.AssignIntStmt:
		return []ir.Local{s.Target}
	case *ir.LenStmt:
		return []ir.Local{s.Target}
	case *ir.ResetLocalStmt:
		return []ir.Local{s.Target}
	case *constStmt:
		return s.locals
	}
	return nil
}

// setsLocal reports whether statement s itself sets local l.
func setsLocal(s ir.Stmt, l ir.Local) bool {
	for _, x := range setLocals(s) {
		if x == l {
			return true
		}
	}
	return false
}

// markConstants marks the functions of the input and data alone that do
// not read the input, however indirectly, as constant.
func markConstants(funcs []*function) {
	reads := map[*function]bool{}
	for _, f := range funcs {
		f.constant = f.memo && !readsInput(f, reads)
	}
}

// readsInput is true if f may read its input parameter (the first): any
// use of it except passing it on as the input of a function that does not
// read it, and any dynamic call. reads memoises the answer; the call graph
// of a plan has no cycles.
func readsInput(f *function, reads map[*function]bool) bool {
	if v, ok := reads[f]; ok {
		return v
	}
	in := f.fn.Params[0]
	isIn := func(o ir.Operand) bool {
		l, ok := o.Value.(ir.Local)
		return ok && l == in
	}
	v := false
	walk(f.fn.Blocks, func(s ir.Stmt) {
		if v {
			return
		}
		switch s := s.(type) {
		case *callFunc:
			for i, a := range s.args {
				if isIn(a) && (i != 0 || readsInput(s.f, reads)) {
					v = true
				}
			}
		case *callBuiltin:
			for _, a := range s.args {
				v = v || isIn(a)
			}
		case *ir.CallDynamicStmt:
			v = true
		case *ir.WithStmt:
			v = true
		default:
			v = usesLocal(s, in)
		}
	})
	reads[f] = v
	return v
}

// usesLocal is true if statement s (not a call) reads or writes local l.
func usesLocal(s ir.Stmt, l ir.Local) bool {
	op := func(o ir.Operand) bool {
		x, ok := o.Value.(ir.Local)
		return ok && x == l
	}
	switch s := s.(type) {
	case *ir.ScanStmt:
		return s.Source == l || s.Key == l || s.Value == l
	case *ir.ReturnLocalStmt:
		return s.Source == l
	case *ir.DotStmt:
		return op(s.Source) || op(s.Key) || s.Target == l
	case *ir.LenStmt:
		return op(s.Source) || s.Target == l
	case *ir.AssignVarStmt:
		return op(s.Source) || s.Target == l
	case *ir.AssignVarOnceStmt:
		return op(s.Source) || s.Target == l
	case *ir.EqualStmt:
		return op(s.A) || op(s.B)
	case *ir.NotEqualStmt:
		return op(s.A) || op(s.B)
	case *ir.IsArrayStmt:
		return op(s.Source)
	case *ir.IsObjectStmt:
		return op(s.Source)
	case *ir.IsSetStmt:
		return op(s.Source)
	case *ir.IsDefinedStmt:
		return s.Source == l
	case *ir.IsUndefinedStmt:
		return s.Source == l
	case *ir.ArrayAppendStmt:
		return op(s.Value) || s.Array == l
	case *ir.ObjectInsertStmt:
		return op(s.Key) || op(s.Value) || s.Object == l
	case *ir.ObjectInsertOnceStmt:
		return op(s.Key) || op(s.Value) || s.Object == l
	case *ir.ObjectMergeStmt:
		return s.A == l || s.B == l || s.Target == l
	case *ir.SetAddStmt:
		return op(s.Value) || s.Set == l
	case *ir.ResultSetAddStmt:
		return s.Value == l
	case *ir.ResetLocalStmt:
		return s.Target == l
	case *ir.MakeNullStmt:
		return s.Target == l
	case *ir.MakeNumberIntStmt:
		return s.Target == l
	case *ir.MakeNumberRefStmt:
		return s.Target == l
	case *ir.MakeArrayStmt:
		return s.Target == l
	case *ir.MakeObjectStmt:
		return s.Target == l
	case *ir.MakeSetStmt:
		return s.Target == l
	case *ir.AssignIntStmt:
		return s.Target == l
	}
	return false
}

// stackSize is the most locals the frames of the functions blocks call
// take at once. A dynamic call may call any function with a path.
func stackSize(funcs []*function, blocks []*ir.Block, memo map[*function]int) int {
	n := 0
	walk(blocks, func(s ir.Stmt) {
		switch s := s.(type) {
		case *callFunc:
			n = max(n, frameChain(funcs, s.f, memo))
		case *ir.CallDynamicStmt:
			for _, f := range funcs {
				if len(f.fn.Path) > 0 {
					n = max(n, frameChain(funcs, f, memo))
				}
			}
		}
	})
	return n
}

func frameChain(funcs []*function, f *function, memo map[*function]int) int {
	if n, ok := memo[f]; ok {
		return n
	}
	// A dynamic call makes the graph look cyclic: an estimate that is
	// too low costs frames allocated, never a wrong answer.
	memo[f] = f.locals
	n := f.locals + stackSize(funcs, f.fn.Blocks, memo)
	memo[f] = n
	return n
}
