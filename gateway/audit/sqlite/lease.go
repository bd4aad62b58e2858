package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.Leaser = (*Store)(nil)

// AcquireLease takes or renews the lease name for holder until ttl from
// now, in a BEGIN IMMEDIATE transaction, so that processes sharing the
// file take it in turn.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, errors.New("sqlite: acquire lease: name, holder and a positive ttl are required")
	}
	now := s.now()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: acquire lease: %w", err)
	}
	defer tx.Rollback()
	var cur string
	var exp int64
	err = tx.QueryRowContext(ctx, "SELECT holder, expires_ns FROM aftercare_leases WHERE name = ?", name).Scan(&cur, &exp)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, fmt.Errorf("sqlite: acquire lease: %w", err)
	case cur != holder && exp > now.UnixNano():
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO aftercare_leases (name, holder, expires_ns) VALUES (?, ?, ?)",
		name, holder, now.Add(ttl).UnixNano()); err != nil {
		return false, fmt.Errorf("sqlite: acquire lease: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: acquire lease: %w", err)
	}
	return true, nil
}

// ReleaseLease gives up the lease name if holder holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.w.ExecContext(ctx, "DELETE FROM aftercare_leases WHERE name = ? AND holder = ?", name, holder); err != nil {
		return fmt.Errorf("sqlite: release lease: %w", err)
	}
	return nil
}
