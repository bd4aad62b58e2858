package postgres

import (
	"context"
	"fmt"
)

// Marks returns the trust marks of kind, by key. It implements
// authn.MarkStore: every process using this database shares the marks.
func (s *Store) Marks(ctx context.Context, kind string) (map[string][]byte, error) {
	rows, err := s.pool.Query(ctx, "SELECT key, mark FROM trust_marks WHERE kind = $1", kind)
	if err != nil {
		return nil, fmt.Errorf("postgres: read trust marks: %v", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var m []byte
		if err := rows.Scan(&k, &m); err != nil {
			return nil, fmt.Errorf("postgres: read trust marks: %v", err)
		}
		out[k] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read trust marks: %v", err)
	}
	return out, nil
}

// SwapMark sets the trust mark of kind and key to mark if the one kept is
// old (nil: if none is kept), and reports whether it did. Of two
// processes swapping the same old mark, the second's statement waits for
// the first's on the row, then finds it changed.
func (s *Store) SwapMark(ctx context.Context, kind, key string, old, mark []byte) (bool, error) {
	var q string
	args := []any{kind, key, mark, nanos(s.now())}
	if old == nil {
		q = `INSERT INTO trust_marks (kind, key, mark, updated_ns) VALUES ($1, $2, $3, $4)
			ON CONFLICT (kind, key) DO NOTHING`
	} else {
		q = `UPDATE trust_marks SET mark = $3, updated_ns = $4 WHERE kind = $1 AND key = $2 AND mark = $5`
		args = append(args, old)
	}
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("postgres: keep trust mark: %v", err)
	}
	return tag.RowsAffected() == 1, nil
}
