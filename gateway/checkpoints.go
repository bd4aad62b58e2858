package gateway

import "context"

// A CheckpointSource serves the checkpoint auditors are given: a signed
// note, possibly with witnesses' cosignature lines after the log's
// signature. witness.Cosigner is one.
type CheckpointSource interface {
	Checkpoint(ctx context.Context) (size int64, signed []byte, err error)
}

// checkpoint returns the checkpoint for auditors: Config.Checkpoints', or
// the log's latest.
func (s *Server) checkpoint(ctx context.Context) (int64, []byte, error) {
	if s.cfg.Checkpoints != nil {
		return s.cfg.Checkpoints.Checkpoint(ctx)
	}
	return s.cfg.Audit.Checkpoint(ctx)
}
