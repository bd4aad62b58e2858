package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Remember records binding for a token id unless the id is known and not
// expired, and returns the binding recorded first. It implements
// authn.ReplayStore; every process using this database shares the set.
func (s *Store) Remember(ctx context.Context, id, binding [32]byte, expires time.Time) (first [32]byte, err error) {
	now := s.now().UnixNano()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return first, fmt.Errorf("sqlite: remember token: %v", err)
	}
	defer tx.Rollback()
	var got []byte
	var exp int64
	err = tx.QueryRowContext(ctx, "SELECT binding, expires_ns FROM token_ids WHERE id = ?", id[:]).Scan(&got, &exp)
	switch {
	case err == nil && exp > now:
		copy(first[:], got)
		return first, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return first, fmt.Errorf("sqlite: remember token: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO token_ids (id, binding, expires_ns) VALUES (?, ?, ?)",
		id[:], binding[:], expires.UnixNano()); err != nil {
		return first, fmt.Errorf("sqlite: remember token: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM token_ids WHERE expires_ns <= ?", now); err != nil {
		return first, fmt.Errorf("sqlite: remember token: %v", err)
	}
	if err := tx.Commit(); err != nil {
		return first, fmt.Errorf("sqlite: remember token: %v", err)
	}
	return binding, nil
}
