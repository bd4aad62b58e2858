package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.WitnessStore = (*Store)(nil)

// PublishCheckpoint records a checkpoint taken to the witnesses and the
// cosignature lines they returned, keeping what was recorded before.
func (s *Store) PublishCheckpoint(ctx context.Context, size int64, signed []byte, cosignatures [][]byte) error {
	if size < 0 || len(signed) == 0 {
		return fmt.Errorf("postgres: publish checkpoint: invalid size %d or empty note", size)
	}
	for _, line := range cosignatures {
		if len(line) == 0 || !bytes.HasSuffix(line, []byte("\n")) {
			return errors.New("postgres: publish checkpoint: a cosignature line must end in a newline")
		}
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO published_checkpoints (tree_size, note, published_ns) VALUES ($1, $2, $3) ON CONFLICT (tree_size) DO NOTHING",
			size, signed, s.now().UnixNano()); err != nil {
			return err
		}
		for _, line := range cosignatures {
			if _, err := tx.Exec(ctx, "INSERT INTO cosignatures (tree_size, line) VALUES ($1, $2) ON CONFLICT DO NOTHING", size, line); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: publish checkpoint: %w", err)
	}
	return nil
}

// PublishedCheckpoint returns the published checkpoint with the largest
// size and its cosignatures, or nil.
func (s *Store) PublishedCheckpoint(ctx context.Context) (size int64, cosigned []byte, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, "SELECT tree_size, note FROM published_checkpoints ORDER BY tree_size DESC LIMIT 1").Scan(&size, &cosigned)
		if err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, "SELECT line FROM cosignatures WHERE tree_size = $1 ORDER BY line", size)
		var line []byte
		_, err = pgx.ForEachRow(rows, []any{&line}, func() error {
			cosigned = append(cosigned, line...)
			return nil
		})
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("postgres: published checkpoint: %w", err)
	}
	return size, cosigned, nil
}
