package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// bulkSizes are the rows per statement of the multi-row INSERTs an append
// uses, largest first: a batch of n rows runs at most a few statements
// instead of n, each bound once. The driver's cost per statement (binding,
// stepping, resetting) is larger than SQLite's per row.
var bulkSizes = []int{64, 16, 4, 1}

// A bulkInsert inserts rows of one table with multi-row INSERT statements
// prepared once on the writer connection.
type bulkInsert struct {
	cols  int
	stmts []*sql.Stmt // one per bulkSizes
}

// prepareBulk prepares head (INSERT ... INTO t (c1, ..., cn) VALUES) for
// each of bulkSizes rows of cols columns.
func prepareBulk(ctx context.Context, db *sql.DB, head string, cols int) (*bulkInsert, error) {
	b := &bulkInsert{cols: cols}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for _, n := range bulkSizes {
		st, err := db.PrepareContext(ctx, head+" "+strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", "))
		if err != nil {
			b.close()
			return nil, err
		}
		b.stmts = append(b.stmts, st)
	}
	return b, nil
}

// exec inserts the rows whose values args holds, cols per row, in tx.
func (b *bulkInsert) exec(ctx context.Context, tx *sql.Tx, args []any) error {
	if len(args)%b.cols != 0 {
		return fmt.Errorf("bulk insert: %d values for rows of %d", len(args), b.cols)
	}
	for i, n := range bulkSizes {
		var st *sql.Stmt
		for len(args) >= n*b.cols {
			if st == nil {
				st = tx.StmtContext(ctx, b.stmts[i]) // reuses the statement prepared on this connection
				defer st.Close()
			}
			if _, err := st.ExecContext(ctx, args[:n*b.cols]...); err != nil {
				return err
			}
			args = args[n*b.cols:]
		}
	}
	return nil
}

func (b *bulkInsert) close() error {
	if b == nil {
		return nil
	}
	var errs []error
	for _, st := range b.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// appendStmts are the statements of an append, prepared once.
type appendStmts struct {
	size                          *sql.Stmt
	leaves, agencies, hashes, box *bulkInsert
}

func prepareAppend(ctx context.Context, db *sql.DB) (*appendStmts, error) {
	var a appendStmts
	var err error
	a.size, err = db.PrepareContext(ctx, "SELECT (SELECT COALESCE(MAX(idx)+1, 0) FROM leaves), (SELECT COALESCE(MAX(idx)+1, 0) FROM hashes)")
	if err == nil {
		a.leaves, err = prepareBulk(ctx, db, `INSERT INTO leaves
			(idx, leaf, time_ns, action, requester_agency, officer, holder_agency, subject, legal_basis, outcome, record_type) VALUES`, 11)
	}
	if err == nil {
		a.agencies, err = prepareBulk(ctx, db, "INSERT OR IGNORE INTO leaf_agencies (agency, idx) VALUES", 2)
	}
	if err == nil {
		a.hashes, err = prepareBulk(ctx, db, "INSERT INTO hashes (idx, hash) VALUES", 2)
	}
	if err == nil {
		a.box, err = prepareBulk(ctx, db, "INSERT INTO inbox (recipient, audit_idx, kind, payload, created_ns, expires_ns) VALUES", 6)
	}
	if err != nil {
		a.close()
		return nil, fmt.Errorf("sqlite: open: prepare append: %v", err)
	}
	return &a, nil
}

func (a *appendStmts) close() error {
	if a == nil {
		return nil
	}
	var errs []error
	if a.size != nil {
		errs = append(errs, a.size.Close())
	}
	return errors.Join(append(errs, a.leaves.close(), a.agencies.close(), a.hashes.close(), a.box.close())...)
}
