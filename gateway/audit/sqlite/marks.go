package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
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

// SwapMarks sets the trust marks of marks (by kind, then key) if the
// marks kept of each kind of old and of marks are exactly those of old
// (none, for a kind old lacks), and reports whether it did: in one
// transaction, which holds the database's write lock from its read on,
// so every mark of marks is set or none is. It implements
// authn.MarkStore.
func (s *Store) SwapMarks(ctx context.Context, old, marks map[string]map[string][]byte) (bool, error) {
	tx, err := s.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: no other writer until it ends
	if err != nil {
		return false, fmt.Errorf("sqlite: keep trust marks: %v", err)
	}
	defer tx.Rollback()
	for _, kind := range markKinds(old, marks) {
		cur, err := kindMarks(ctx, tx, kind)
		if err != nil {
			return false, fmt.Errorf("sqlite: keep trust marks: %v", err)
		}
		if !sameMarks(cur, old[kind]) {
			return false, nil // not the marks the caller read
		}
	}
	now := s.now().UnixNano()
	for kind, m := range marks {
		for key, mark := range m {
			if _, err := tx.ExecContext(ctx, `INSERT INTO trust_marks (kind, key, mark, updated_ns) VALUES (?, ?, ?, ?)
				ON CONFLICT (kind, key) DO UPDATE SET mark = excluded.mark, updated_ns = excluded.updated_ns`,
				kind, key, mark, now); err != nil {
				return false, fmt.Errorf("sqlite: keep trust marks: %v", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: keep trust marks: %v", err)
	}
	return true, nil
}

func kindMarks(ctx context.Context, tx *sql.Tx, kind string) (map[string][]byte, error) {
	rows, err := tx.QueryContext(ctx, "SELECT key, mark FROM trust_marks WHERE kind = ?", kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var m []byte
		if err := rows.Scan(&k, &m); err != nil {
			return nil, err
		}
		out[k] = m
	}
	return out, rows.Err()
}

// markKinds returns the kinds of old and of marks, sorted.
func markKinds(old, marks map[string]map[string][]byte) []string {
	var kinds []string
	for k := range old {
		kinds = append(kinds, k)
	}
	for k := range marks {
		if _, ok := old[k]; !ok {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// sameMarks reports whether a and b hold the same keys with the same marks.
func sameMarks(a, b map[string][]byte) bool {
	return maps.EqualFunc(a, b, bytes.Equal)
}
