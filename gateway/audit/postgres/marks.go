package postgres

import (
	"bytes"
	"context"
	"fmt"
	"maps"

	"github.com/jackc/pgx/v5"
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

// SwapMarks sets the trust marks of marks (by kind, then key) if the
// marks kept of each kind of old and of marks are exactly those of old
// (none, for a kind old lacks), and reports whether it did: in one
// transaction, so every mark of marks is set or none is. It implements
// authn.MarkStore. The transaction locks trust_marks against writes from
// its read on (reads go on): another process's swap waits for it, then
// reads what it kept.
func (s *Store) SwapMarks(ctx context.Context, old, marks map[string]map[string][]byte) (bool, error) {
	kinds := make([]string, 0, len(old)+len(marks))
	for k := range old {
		kinds = append(kinds, k)
	}
	for k := range marks {
		if _, ok := old[k]; !ok {
			kinds = append(kinds, k)
		}
	}
	done := false
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE trust_marks IN EXCLUSIVE MODE"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT kind, key, mark FROM trust_marks WHERE kind = ANY($1)", kinds)
		if err != nil {
			return err
		}
		cur := map[string]map[string][]byte{}
		for rows.Next() {
			var kind, key string
			var m []byte
			if err := rows.Scan(&kind, &key, &m); err != nil {
				rows.Close()
				return err
			}
			if cur[kind] == nil {
				cur[kind] = map[string][]byte{}
			}
			cur[kind][key] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, kind := range kinds {
			if !maps.EqualFunc(cur[kind], old[kind], bytes.Equal) {
				return nil // not the marks the caller read
			}
		}
		now := nanos(s.now())
		for kind, m := range marks {
			for key, mark := range m {
				if _, err := tx.Exec(ctx, `INSERT INTO trust_marks (kind, key, mark, updated_ns) VALUES ($1, $2, $3, $4)
					ON CONFLICT (kind, key) DO UPDATE SET mark = excluded.mark, updated_ns = excluded.updated_ns`,
					kind, key, mark, now); err != nil {
					return err
				}
			}
		}
		done = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: keep trust marks: %v", err)
	}
	return done, nil
}
