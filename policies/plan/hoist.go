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
// once hoisted, so a run is cut short before it makes any local that a
// statement outside runs may change in place (appended, inserted or added
// to) while the local holds the run's value (see sharedMutations), and
// left as it is if what remains makes no collection. Other ways to change
// a value in place are refused by mutatesOnlyOwn: a local that may hold a
// value not made by a Make statement (a copy of a hoisted value among
// them) is never changed.
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
	// A run whose value a statement outside runs may change in place (see
	// sharedMutations) is cut short before it makes that value (the
	// statements cut off run as before, and may change the run's other
	// values in turn), until no run's value is changed: a literal is
	// often followed, in the same run, by the array of a call's
	// arguments, filled from the input.
	for {
		shared, unknown := sharedMutations(blocks, inRun)
		cut := false
		for i := range runs {
			r := &runs[i]
			for j := r.start; j < r.end; j++ {
				if l, ok := target(r.b.Stmts[j]); ok && (shared[r.b.Stmts[j]] || unknown[l]) {
					for _, s := range r.b.Stmts[j:r.end] {
						delete(inRun, s)
					}
					r.end, cut = j, true
					break
				}
			}
		}
		if !cut {
			break
		}
	}
	e := &eval{p: p}
	hoisted := 0
	// Replace from the last run to the first, so that the indices of the
	// runs still to replace in the same block hold.
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		stmts := r.b.Stmts[r.start:r.end]
		if !makesCollection(stmts) {
			continue
		}
		set := map[ir.Local]bool{}
		var order []ir.Local
		for _, s := range stmts {
			if l, ok := target(s); ok && !set[l] {
				set[l] = true
				order = append(order, l)
			}
		}
		ok := true
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

// sharedMutations finds, for each statement of blocks outside runs
// (inRun) that changes a local in place (appends, inserts, adds), the
// statement that last set that local before it, on every way to it: the
// statements before it in its block, then those before that block's
// statement in the enclosing block, and so on out to the function's
// blocks (a statement holding blocks that set the local counts as a
// setter). If that setter is a Make outside runs, the value changed is
// fresh; if it is a Make of a run, the run's value would be changed: it
// is among shared, so that the run is cut short before it. Otherwise (no
// Make found, or another setter first, or a setter other than a Make
// anywhere in an enclosing scan's body, which runs again) the local is
// among unknown, and no run may make it. The planner reuses a local from
// one block to the next, so a local a run makes is often changed
// elsewhere, holding another value.
func sharedMutations(blocks []*ir.Block, inRun map[ir.Stmt]bool) (shared map[ir.Stmt]bool, unknown map[ir.Local]bool) {
	type pos struct {
		b    *ir.Block
		i    int  // the statement on the way in b
		loop bool // b is a scan's body
	}
	isMake := func(s ir.Stmt, l ir.Local) bool {
		switch s.(type) {
		case *ir.MakeArrayStmt, *ir.MakeObjectStmt, *ir.MakeSetStmt:
			t, _ := target(s)
			return t == l
		}
		return false
	}
	sets := func(s ir.Stmt, l ir.Local) bool {
		set := false
		walk([]*ir.Block{{Stmts: []ir.Stmt{s}}}, func(s ir.Stmt) { set = set || setsLocal(s, l) })
		return set
	}
	// setter is the Make that last set l before the end of path, or nil
	// if that is not certainly a Make.
	setter := func(path []pos, l ir.Local) ir.Stmt {
		for k := len(path) - 1; k >= 0; k-- {
			p := path[k]
			if p.loop {
				ok := true
				walk([]*ir.Block{p.b}, func(s ir.Stmt) {
					if setsLocal(s, l) && (!isMake(s, l) || inRun[s]) {
						ok = false
					}
				})
				if !ok {
					return nil
				}
			}
			for j := p.i - 1; j >= 0; j-- {
				s := p.b.Stmts[j]
				if isMake(s, l) {
					return s
				}
				if sets(s, l) {
					return nil
				}
			}
		}
		return nil
	}
	shared, unknown = map[ir.Stmt]bool{}, map[ir.Local]bool{}
	var visit func(b *ir.Block, loop bool, path []pos)
	visit = func(b *ir.Block, loop bool, path []pos) {
		for i, s := range b.Stmts {
			here := append(path[:len(path):len(path)], pos{b: b, i: i, loop: loop})
			if l, ok := mutated(s); ok && !inRun[s] {
				switch m := setter(here, l); {
				case m == nil:
					unknown[l] = true
				case inRun[m]:
					shared[m] = true
				}
			}
			switch s := s.(type) {
			case *ir.BlockStmt:
				for _, nb := range s.Blocks {
					visit(nb, false, here)
				}
			case *ir.ScanStmt:
				visit(s.Block, true, here)
			case *ir.NotStmt:
				visit(s.Block, false, here)
			case *ir.WithStmt:
				visit(s.Block, false, here)
			}
		}
	}
	for _, b := range blocks {
		visit(b, false, nil)
	}
	return shared, unknown
}

// mutated is the local statement s changes in place, if it does.
func mutated(s ir.Stmt) (ir.Local, bool) {
	switch s := s.(type) {
	case *ir.ArrayAppendStmt:
		return s.Array, true
	case *ir.ObjectInsertStmt:
		return s.Object, true
	case *ir.ObjectInsertOnceStmt:
		return s.Object, true
	case *ir.SetAddStmt:
		return s.Set, true
	}
	return 0, false
}

// makesCollection reports whether stmts make an array, object or set.
func makesCollection(stmts []ir.Stmt) bool {
	for _, s := range stmts {
		switch s.(type) {
		case *ir.MakeArrayStmt, *ir.MakeObjectStmt, *ir.MakeSetStmt:
			return true
		}
	}
	return false
}
