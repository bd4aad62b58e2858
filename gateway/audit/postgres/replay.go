package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// pruneBatch caps the expired token ids each Remember drops.
const pruneBatch = 100

// Remember records binding for a token id unless the id is known and not
// expired, and returns the binding recorded first. It implements
// authn.ReplayStore; every process using this database shares the set.
//
// Two processes remembering one id at the same time both get the binding
// that committed first: the insert of the second waits for the first on
// the primary key, then finds the id taken.
func (s *Store) Remember(ctx context.Context, id, binding [32]byte, expires time.Time) (first [32]byte, err error) {
	now := s.now().UnixNano()
	for range 3 {
		var got []byte
		// Insert, or take over an expired row; prune a few other expired
		// ids on the way, skipping those another process is pruning.
		err := s.pool.QueryRow(ctx, `WITH pruned AS (
				DELETE FROM token_ids WHERE id IN (
					SELECT id FROM token_ids WHERE expires_ns <= $4 AND id <> $1
					ORDER BY expires_ns LIMIT $5 FOR UPDATE SKIP LOCKED)
			)
			INSERT INTO token_ids (id, binding, expires_ns) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET binding = excluded.binding, expires_ns = excluded.expires_ns
				WHERE token_ids.expires_ns <= $4
			RETURNING binding`, id[:], binding[:], nanos(expires), now, pruneBatch).Scan(&got)
		if err == nil {
			return binding, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return first, fmt.Errorf("postgres: remember token: %v", err)
		}
		// The id is known and live: return what it is bound to. This is a
		// new statement, so it sees a row committed while we waited.
		err = s.pool.QueryRow(ctx, "SELECT binding FROM token_ids WHERE id = $1", id[:]).Scan(&got)
		if err == nil {
			if len(got) != len(first) {
				return first, fmt.Errorf("postgres: remember token: stored binding has %d bytes", len(got))
			}
			copy(first[:], got)
			return first, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return first, fmt.Errorf("postgres: remember token: %v", err)
		}
		// Pruned as expired in between, by another process: start again.
	}
	return first, errors.New("postgres: remember token: the id keeps expiring under us")
}
