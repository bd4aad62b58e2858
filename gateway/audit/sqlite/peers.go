package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.PeerCheckpointStore = (*Store)(nil)

// PeerCheckpoint returns the checkpoint remembered for peer.
func (s *Store) PeerCheckpoint(ctx context.Context, peer string) (audit.PeerCheckpoint, error) {
	var c audit.PeerCheckpoint
	var root []byte
	err := s.r.QueryRowContext(ctx, "SELECT tree_size, root, note FROM peer_checkpoints WHERE peer = ?", peer).Scan(&c.Size, &root, &c.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.PeerCheckpoint{}, nil
	}
	if err != nil {
		return audit.PeerCheckpoint{}, fmt.Errorf("sqlite: peer checkpoint: %w", err)
	}
	if len(root) != len(c.Hash) {
		return audit.PeerCheckpoint{}, fmt.Errorf("sqlite: peer checkpoint: root of %d bytes", len(root))
	}
	copy(c.Hash[:], root)
	return c, nil
}

// AdvancePeerCheckpoint remembers c for peer if the one remembered is
// still of size old (0: none), in one write transaction.
func (s *Store) AdvancePeerCheckpoint(ctx context.Context, peer string, old int64, c audit.PeerCheckpoint) (bool, error) {
	var res sql.Result
	var err error
	if old == 0 {
		res, err = s.w.ExecContext(ctx, "INSERT INTO peer_checkpoints (peer, tree_size, root, note, updated_ns) VALUES (?, ?, ?, ?, ?) ON CONFLICT (peer) DO NOTHING",
			peer, c.Size, c.Hash[:], c.Note, s.now().UnixNano())
	} else {
		res, err = s.w.ExecContext(ctx, "UPDATE peer_checkpoints SET tree_size = ?, root = ?, note = ?, updated_ns = ? WHERE peer = ? AND tree_size = ?",
			c.Size, c.Hash[:], c.Note, s.now().UnixNano(), peer, old)
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: advance peer checkpoint: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: advance peer checkpoint: %w", err)
	}
	return n == 1, nil
}
