package audit

import (
	"context"
	"time"
)

// A Leaser grants named, time-bound leases shared by every process on one
// database, so that exactly one replica runs a timer (and a replica that
// dies hands it on when its lease runs out). The audit stores implement it.
//
// AcquireLease takes the lease name for holder until ttl from now, or
// renews it if holder holds it already, and reports whether holder holds
// it now. It MUST be atomic across processes: of several holders asking
// for a free or lapsed lease at once, exactly one gets it. Lease times are
// the store's clock (its Now), never the legal clock of the gateway, which
// tests and exercises move by months. ReleaseLease gives a lease up early
// if holder holds it; releasing a lease one does not hold is not an error.
type Leaser interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}
