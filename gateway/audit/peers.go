package audit

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// A PeerCheckpoint is the largest checkpoint of a peer gateway's log that
// this gateway verified in one of the peer's receipts: so that a peer that
// shows this gateway two histories of its log (a split view) is caught,
// every later checkpoint of that peer must be consistent with it.
type PeerCheckpoint struct {
	Size int64
	Hash tlog.Hash
	Note []byte // the peer's signed checkpoint, as received
}

// A PeerCheckpointStore remembers, beside the log, the [PeerCheckpoint] of
// each peer gateway, so that it survives a restart and replicas sharing a
// database share it. Both stores implement it.
type PeerCheckpointStore interface {
	// PeerCheckpoint returns the checkpoint remembered for peer, with
	// Size 0 if there is none.
	PeerCheckpoint(ctx context.Context, peer string) (PeerCheckpoint, error)
	// AdvancePeerCheckpoint replaces the checkpoint remembered for peer
	// with c if the one remembered is still of size old (0: none), and
	// reports whether it did: of replicas that race, one advances and the
	// others read it again. c must be larger than old.
	AdvancePeerCheckpoint(ctx context.Context, peer string, old int64, c PeerCheckpoint) (bool, error)
}

// peerStore returns the store as a PeerCheckpointStore.
func (l *Log) peerStore() (PeerCheckpointStore, error) {
	ps, ok := l.store.(PeerCheckpointStore)
	if !ok {
		return nil, unavailable("peer checkpoint", fmt.Errorf("the %T store keeps no peer checkpoints", l.store))
	}
	return ps, nil
}

// PeerCheckpoint returns the checkpoint remembered for peer; see
// [PeerCheckpointStore].
func (l *Log) PeerCheckpoint(ctx context.Context, peer string) (PeerCheckpoint, error) {
	ps, err := l.peerStore()
	if err != nil {
		return PeerCheckpoint{}, err
	}
	c, err := ps.PeerCheckpoint(ctx, peer)
	if err != nil {
		return PeerCheckpoint{}, unavailable("peer checkpoint", err)
	}
	return c, nil
}

// AdvancePeerCheckpoint remembers c for peer if the one remembered is
// still of size old; see [PeerCheckpointStore].
func (l *Log) AdvancePeerCheckpoint(ctx context.Context, peer string, old int64, c PeerCheckpoint) (bool, error) {
	if peer == "" || c.Size <= old || c.Size <= 0 || len(c.Note) == 0 {
		return false, fmt.Errorf("audit: advance peer checkpoint: peer %q from %d to %d: want a peer and a larger, signed checkpoint", peer, old, c.Size)
	}
	ps, err := l.peerStore()
	if err != nil {
		return false, err
	}
	ok, err := ps.AdvancePeerCheckpoint(ctx, peer, old, c)
	if err != nil {
		return false, unavailable("advance peer checkpoint", err)
	}
	return ok, nil
}
