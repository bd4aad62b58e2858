package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.PeerCheckpointStore = (*Store)(nil)

// PeerCheckpoint returns the checkpoint remembered for peer.
func (s *Store) PeerCheckpoint(ctx context.Context, peer string) (audit.PeerCheckpoint, error) {
	var c audit.PeerCheckpoint
	var root []byte
	err := s.pool.QueryRow(ctx, "SELECT tree_size, root, note FROM peer_checkpoints WHERE peer = $1", peer).Scan(&c.Size, &root, &c.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.PeerCheckpoint{}, nil
	}
	if err != nil {
		return audit.PeerCheckpoint{}, fmt.Errorf("postgres: peer checkpoint: %w", err)
	}
	if len(root) != len(c.Hash) {
		return audit.PeerCheckpoint{}, fmt.Errorf("postgres: peer checkpoint: root of %d bytes", len(root))
	}
	copy(c.Hash[:], root)
	return c, nil
}

// AdvancePeerCheckpoint remembers c for peer if the one remembered is
// still of size old (0: none).
func (s *Store) AdvancePeerCheckpoint(ctx context.Context, peer string, old int64, c audit.PeerCheckpoint) (bool, error) {
	var tag pgconn.CommandTag
	var err error
	if old == 0 {
		tag, err = s.pool.Exec(ctx, "INSERT INTO peer_checkpoints (peer, tree_size, root, note, updated_ns) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (peer) DO NOTHING",
			peer, c.Size, c.Hash[:], c.Note, s.now().UnixNano())
	} else {
		tag, err = s.pool.Exec(ctx, "UPDATE peer_checkpoints SET tree_size = $1, root = $2, note = $3, updated_ns = $4 WHERE peer = $5 AND tree_size = $6",
			c.Size, c.Hash[:], c.Note, s.now().UnixNano(), peer, old)
	}
	if err != nil {
		return false, fmt.Errorf("postgres: advance peer checkpoint: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
