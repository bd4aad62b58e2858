package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.Leaser = (*Store)(nil)

// AcquireLease takes or renews the lease name for holder until ttl from
// now. One statement: the insert, or the update of a lapsed lease or of
// holder's own, returns a row only to the holder that got it; a
// concurrent insert of the same name waits on the primary key and then
// sees the winner's row.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, errors.New("postgres: acquire lease: name, holder and a positive ttl are required")
	}
	now := s.now()
	var got string
	err := s.pool.QueryRow(ctx, `INSERT INTO aftercare_leases (name, holder, expires_ns) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ns = excluded.expires_ns
			WHERE aftercare_leases.holder = excluded.holder OR aftercare_leases.expires_ns <= $4
		RETURNING holder`, text(name), text(holder), nanos(now.Add(ttl)), nanos(now)).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: acquire lease: %w", err)
	}
	return true, nil
}

// ReleaseLease gives up the lease name if holder holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.pool.Exec(ctx, "DELETE FROM aftercare_leases WHERE name = $1 AND holder = $2", text(name), text(holder)); err != nil {
		return fmt.Errorf("postgres: release lease: %w", err)
	}
	return nil
}
