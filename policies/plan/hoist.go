package plan

import (
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// constStmt stands for a run of statements that build constant values
// (see hoistLiterals): it sets each of locals to its value, built once
// when the plan was prepared and shared by every evaluation.
type constStmt struct {
	ir.Location
	locals []ir.Local
	values []*ast.Term
}

// hoistLiterals replaces, in blocks (a function's or the plan's), each run
// of statements that builds a constant value by a constStmt that sets the
// run's locals to the values the run gives them, worked out once here
// instead of on every evaluation. It returns the number of statements
// replaced.
//
// A run is a sequence of statements of one block, each a MakeArray,
// MakeObject, MakeSet, MakeNull, MakeNumberInt or MakeNumberRef, or an
// ArrayAppend, ObjectInsert or SetAdd into a local made earlier in the run
// of a value that is static (a string or a bool) or a local set earlier in
// the run; the run makes at least one collection. Such a run always gives
// its locals the same values, whatever the input. Its values are shared
// once hoisted, so a run is left as it is if any local it sets is changed
// in place (appended, inserted or added to) by any statement of blocks
// other than a run's, wherever it is (conservative: no reasoning about
// the order statements run in). Other ways to change a value in place are
// refused by mutatesOnlyOwn: a local that may hold a value not made by a
// Make statement (a copy of a hoisted value among them) is never changed.
func hoistLiterals(p *Program, blocks []*ir.Block, locals int) int {
	type run struct {
		b          *ir.Block
		start, end int // b.Stmts[start:end]
	}
	var runs []run
	inRun := map[ir.Stmt]bool{}
	var find func(blocks []*ir.Block)
	find = func(blocks []*ir.Block) {
		for _, b := range blocks {
			for i := 0; i < len(b.Stmts); {
				n, collections := runLength(b.Stmts[i:])
				if n > 0 && collections {
					runs = append(runs, run{b: b, start: i, end: i + n})
					for _, s := range b.Stmts[i : i+n] {
						inRun[s] = true
					}
				}
				i += max(n, 1)
			}
			for _, s := range b.Stmts {
				switch s := s.(type) {
				case *ir.BlockStmt:
					find(s.Blocks)
				case *ir.ScanStmt:
					find([]*ir.Block{s.Block})
				case *ir.NotStmt:
					find([]*ir.Block{s.Block})
				}
			}
		}
	}
	find(blocks)
	if len(runs) == 0 {
		return 0
	}
	// The locals changed in place outside runs, anywhere in blocks.
	changed := map[ir.Local]bool{}
	walk(blocks, func(s ir.Stmt) {
		if inRun[s] {
			return
		}
		switch s := s.(type) {
		case *ir.ArrayAppendStmt:
			changed[s.Array] = true
		case *ir.ObjectInsertStmt:
			changed[s.Object] = true
		case *ir.ObjectInsertOnceStmt:
			changed[s.Object] = true
		case *ir.SetAddStmt:
			changed[s.Set] = true
		}
	})
	e := &eval{p: p}
	hoisted := 0
	// Replace from the last run to the first, so that the indices of the
	// runs still to replace in the same block hold.
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		stmts := r.b.Stmts[r.start:r.end]
		set := map[ir.Local]bool{}
		var order []ir.Local
		for _, s := range stmts {
			if l, ok := target(s); ok && !set[l] {
				set[l] = true
				order = append(order, l)
			}
		}
		ok := true
		for _, l := range order {
			ok = ok && !changed[l]
		}
		if !ok {
			continue
		}
		fr := make([]*ast.Term, locals)
		for _, s := range stmts {
			if f, err := e.stmt(fr, s); err != nil || f != done {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		c := &constStmt{Location: *stmts[0].GetLocation(), locals: order}
		for _, l := range order {
			c.values = append(c.values, fr[l])
		}
		r.b.Stmts = append(r.b.Stmts[:r.start:r.start], append([]ir.Stmt{c}, r.b.Stmts[r.end:]...)...)
		hoisted += len(stmts)
	}
	return hoisted
}

// target is the local statement s of a run sets or changes.
func target(s ir.Stmt) (ir.Local, bool) {
	switch s := s.(type) {
	case *ir.MakeArrayStmt:
		return s.Target, true
	case *ir.MakeObjectStmt:
		return s.Target, true
	case *ir.MakeSetStmt:
		return s.Target, true
	case *ir.MakeNullStmt:
		return s.Target, true
	case *ir.MakeNumberIntStmt:
		return s.Target, true
	case *ir.MakeNumberRefStmt:
		return s.Target, true
	}
	return 0, false
}

// runLength is the length of the run of constant statements stmts begin
// with (see hoistLiterals), and whether it makes a collection.
func runLength(stmts []ir.Stmt) (int, bool) {
	// made: locals made as collections in the run; set: all locals set
	// in the run.
	made := map[ir.Local]bool{}
	set := map[ir.Local]bool{}
	static := func(o ir.Operand) bool {
		switch v := o.Value.(type) {
		case ir.StringIndex, ir.Bool:
			return true
		case ir.Local:
			return set[v]
		}
		return false
	}
	collections := false
	for i, s := range stmts {
		switch s := s.(type) {
		case *ir.MakeArrayStmt, *ir.MakeObjectStmt, *ir.MakeSetStmt:
			l, _ := target(s)
			made[l], set[l] = true, true
			collections = true
		case *ir.MakeNullStmt, *ir.MakeNumberIntStmt, *ir.MakeNumberRefStmt:
			l, _ := target(s)
			made[l], set[l] = false, true
		case *ir.ArrayAppendStmt:
			if !made[s.Array] || !static(s.Value) {
				return i, collections
			}
		case *ir.ObjectInsertStmt:
			if !made[s.Object] || !static(s.Key) || !static(s.Value) {
				return i, collections
			}
		case *ir.SetAddStmt:
			if !made[s.Set] || !static(s.Value) {
				return i, collections
			}
		default:
			return i, collections
		}
	}
	return len(stmts), collections
}
