package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.WitnessStore = (*Store)(nil)

// PublishCheckpoint records a checkpoint taken to the witnesses and the
// cosignature lines they returned, keeping what was recorded before.
func (s *Store) PublishCheckpoint(ctx context.Context, size int64, signed []byte, cosignatures [][]byte) error {
	if size < 0 || len(signed) == 0 {
		return fmt.Errorf("sqlite: publish checkpoint: invalid size %d or empty note", size)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: publish checkpoint: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO published_checkpoints (tree_size, note, published_ns) VALUES (?, ?, ?) ON CONFLICT (tree_size) DO NOTHING",
		size, signed, s.now().UnixNano()); err != nil {
		return fmt.Errorf("sqlite: publish checkpoint: %w", err)
	}
	for _, line := range cosignatures {
		if len(line) == 0 || !bytes.HasSuffix(line, []byte("\n")) {
			return errors.New("sqlite: publish checkpoint: a cosignature line must end in a newline")
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO cosignatures (tree_size, line) VALUES (?, ?) ON CONFLICT DO NOTHING", size, line); err != nil {
			return fmt.Errorf("sqlite: publish checkpoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: publish checkpoint: commit: %w", err)
	}
	return nil
}

// PublishedCheckpoint returns the published checkpoint with the largest
// size and its cosignatures, or nil.
func (s *Store) PublishedCheckpoint(ctx context.Context) (size int64, cosigned []byte, err error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: published checkpoint: %w", err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, "SELECT tree_size, note FROM published_checkpoints ORDER BY tree_size DESC LIMIT 1").Scan(&size, &cosigned)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: published checkpoint: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT line FROM cosignatures WHERE tree_size = ? ORDER BY line", size)
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: published checkpoint: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var line []byte
		if err := rows.Scan(&line); err != nil {
			return 0, nil, fmt.Errorf("sqlite: published checkpoint: %w", err)
		}
		cosigned = append(cosigned, line...)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("sqlite: published checkpoint: %w", err)
	}
	return size, cosigned, nil
}
