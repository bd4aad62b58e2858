package gateway

import "context"

// ReloadTrust runs one reload of the trust files, as WatchTrust's ticker
// does, and reports whether it applied a change.
func (s *Server) ReloadTrust(ctx context.Context) (bool, error) { return s.trust.reload(ctx, s, false) }
