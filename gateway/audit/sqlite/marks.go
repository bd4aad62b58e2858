package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Marks returns the trust marks of kind, by key. It implements
// authn.MarkStore: every process using this database shares the marks.
func (s *Store) Marks(ctx context.Context, kind string) (map[string][]byte, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT key, mark FROM trust_marks WHERE kind = ?", kind)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read trust marks: %v", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var m []byte
		if err := rows.Scan(&k, &m); err != nil {
			return nil, fmt.Errorf("sqlite: read trust marks: %v", err)
		}
		out[k] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read trust marks: %v", err)
	}
	return out, nil
}

// SwapMark sets the trust mark of kind and key to mark if the one kept is
// old (nil: if none is kept), and reports whether it did.
func (s *Store) SwapMark(ctx context.Context, kind, key string, old, mark []byte) (bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: keep trust mark: %v", err)
	}
	defer tx.Rollback()
	var cur []byte
	err = tx.QueryRowContext(ctx, "SELECT mark FROM trust_marks WHERE kind = ? AND key = ?", kind, key).Scan(&cur)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if old != nil {
			return false, nil // none kept: not the one the caller read
		}
	case err != nil:
		return false, fmt.Errorf("sqlite: keep trust mark: %v", err)
	case old == nil || !bytes.Equal(cur, old):
		return false, nil // not the one the caller read
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO trust_marks (kind, key, mark, updated_ns) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, key) DO UPDATE SET mark = excluded.mark, updated_ns = excluded.updated_ns`,
		kind, key, mark, s.now().UnixNano()); err != nil {
		return false, fmt.Errorf("sqlite: keep trust mark: %v", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: keep trust mark: %v", err)
	}
	return true, nil
}
