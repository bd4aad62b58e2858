package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// bulkSizes are the numbers of rows of a bulkInsert's statements, largest
// first: a batch of the log's group commit (up to a few hundred entries)
// goes in a few statements instead of one per row (n rows take at most
// n/64 + 6 statements), well under SQLite's limit of 32,766 parameters.
var bulkSizes = []int{64, 32, 16, 8, 4, 2, 1}

// A bulkInsert inserts rows into one table with multi-row INSERT
// statements, prepared once on the writer connection and reused by every
// transaction (tx.StmtContext), so that an append neither parses SQL nor
// compiles the table's triggers again.
//
// The statements are prepared by prepareBulk, before any transaction:
// the writer has one connection, which a transaction holds, so preparing
// on the pool inside one would wait for ever.
type bulkInsert struct {
	stmts []*sql.Stmt // one for each of bulkSizes
	cols  int
}

// prepareBulk prepares the multi-row INSERT statements on db: into is
// what follows INSERT ("INTO t", "OR IGNORE INTO t"), cols the columns.
func prepareBulk(ctx context.Context, db *sql.DB, into string, cols ...string) (*bulkInsert, error) {
	b := &bulkInsert{cols: len(cols)}
	head := fmt.Sprintf("INSERT %s (%s) VALUES ", into, strings.Join(cols, ", "))
	tuple := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
	for _, n := range bulkSizes {
		st, err := db.PrepareContext(ctx, head+tuple+strings.Repeat(", "+tuple, n-1))
		if err != nil {
			b.close()
			return nil, fmt.Errorf("sqlite: prepare INSERT %s: %v", into, err)
		}
		b.stmts = append(b.stmts, st)
	}
	return b, nil
}

// exec inserts the rows in args (b.cols values a row, in column order)
// within tx, a transaction of the connection the statements were prepared
// on.
func (b *bulkInsert) exec(ctx context.Context, tx *sql.Tx, args []any) error {
	if len(args)%b.cols != 0 {
		return fmt.Errorf("sqlite: %d values for rows of %d columns", len(args), b.cols)
	}
	for i, n := range bulkSizes {
		for len(args) >= n*b.cols {
			if _, err := tx.StmtContext(ctx, b.stmts[i]).ExecContext(ctx, args[:n*b.cols]...); err != nil {
				return err
			}
			args = args[n*b.cols:]
		}
	}
	return nil
}

// close closes the prepared statements. Calling it more than once, or on
// nil, is safe.
func (b *bulkInsert) close() error {
	if b == nil {
		return nil
	}
	var errs []error
	for _, st := range b.stmts {
		errs = append(errs, st.Close())
	}
	b.stmts = nil
	return errors.Join(errs...)
}
