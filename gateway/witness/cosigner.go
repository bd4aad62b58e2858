package witness

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// CosignerConfig configures a [Cosigner]. Log, Store and Witnesses are
// required.
type CosignerConfig struct {
	// Log is the log whose checkpoints the witnesses cosign. Required.
	Log *audit.Log
	// Store keeps the published checkpoints with their cosignatures:
	// the log's own store. Required.
	Store audit.WitnessStore
	// Witnesses are asked to cosign each new checkpoint. Required.
	Witnesses []Endpoint
	// HTTPClient reaches the witnesses. If nil, one with TLS 1.3 at
	// least and the system's roots.
	HTTPClient *http.Client
	// Timeout bounds each witness's answer. If zero, ten seconds.
	Timeout time.Duration
	// Interval is how often Run takes a new checkpoint to the witnesses
	// while the log grows. If zero, one second.
	Interval time.Duration
	// Lease, if set, lets one replica at a time take checkpoints to the
	// witnesses: Run cuts time into terms of LeaseTerm, and in each term
	// only the replica whose claim Lease recorded first sends; the others
	// wait for a term they win. Every replica's Cosigner must be given the
	// same Lease: the audit store they share. If nil, Run always sends
	// (a witness still answers a replica that is behind with 409).
	Lease Claims
	// LeaseTerm is how long a won claim lasts. If zero, 30 seconds.
	LeaseTerm time.Duration
	// Now returns the current time, for the lease. If nil, time.Now.
	Now func() time.Time
	// Logger receives operational logs. If nil, slog.Default().
	Logger *slog.Logger
}

// Claims is a first-writer-wins set the replicas share; the audit stores
// implement it. Remember records binding for id unless id is known, and
// returns the binding recorded first; it may forget id after expires.
type Claims interface {
	Remember(ctx context.Context, id, binding [32]byte, expires time.Time) (first [32]byte, err error)
}

// A Cosigner takes the log's checkpoints to its witnesses and publishes
// each with the cosignatures it got. Its methods are safe for concurrent
// use. On PostgreSQL every replica may run one: with a Lease only one
// replica sends in each term; without, a witness answers a replica that is
// behind with 409 and the replica skips that checkpoint.
type Cosigner struct {
	cfg CosignerConfig
	log *slog.Logger

	me    [32]byte         // this replica's binding in Lease
	mu    sync.Mutex       // serialises rounds; guards known and done
	known map[string]int64 // per witness (name+hash): the size it cosigned last, as far as we know
	done  map[string]int64 // per witness: the largest size it cosigned for us
}

// NewCosigner validates cfg and returns a Cosigner.
func NewCosigner(cfg CosignerConfig) (*Cosigner, error) {
	switch {
	case cfg.Log == nil:
		return nil, errors.New("witness: CosignerConfig.Log is required")
	case cfg.Store == nil:
		return nil, errors.New("witness: CosignerConfig.Store is required")
	case len(cfg.Witnesses) == 0:
		return nil, errors.New("witness: CosignerConfig.Witnesses names no witness")
	}
	seen := map[string]bool{}
	for _, e := range cfg.Witnesses {
		if e.URL == "" || e.Verifier == nil {
			return nil, errors.New("witness: a witness needs a URL and a verifier key")
		}
		if seen[id(e)] {
			return nil, fmt.Errorf("witness: witness %s named twice", id(e))
		}
		seen[id(e)] = true
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true}}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	if cfg.LeaseTerm == 0 {
		cfg.LeaseTerm = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Cosigner{cfg: cfg, log: cfg.Logger, known: map[string]int64{}, done: map[string]int64{}}
	rand.Read(c.me[:])
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

func id(e Endpoint) string { return fmt.Sprintf("%s+%08x", e.Verifier.Name(), e.Verifier.KeyHash()) }

// Round takes the log's latest checkpoint to every witness that has not
// cosigned it yet, in parallel, and publishes it with the cosignatures
// the witnesses returned, even none: a published checkpoint is one the
// witnesses were asked about, so auditors see the log's newest state and
// whether it was witnessed. It returns the number of witnesses whose
// cosignature of that checkpoint is now published and an error joining
// the failures of the others.
func (c *Cosigner) Round(ctx context.Context) (cosigned int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	size, signed, err := c.cfg.Log.Checkpoint(ctx)
	if err != nil {
		return 0, err
	}
	var todo []Endpoint
	for _, e := range c.cfg.Witnesses {
		if c.known[id(e)] > size {
			continue // another replica's larger tree is cosigned already
		}
		if d, ok := c.done[id(e)]; !ok || d < size {
			todo = append(todo, e)
		}
	}
	todo = c.skipPublished(ctx, size, signed, todo)
	lines := make([][]byte, len(todo))
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, e := range todo {
		old := c.known[id(e)]
		wg.Go(func() { lines[i], errs[i] = c.ask(ctx, e, old, size, signed) })
	}
	wg.Wait()
	var got [][]byte
	for i, e := range todo {
		if errs[i] != nil {
			if ce, ok := errors.AsType[*ConflictError](errs[i]); ok {
				c.known[id(e)] = ce.Known
			}
			continue
		}
		c.known[id(e)], c.done[id(e)] = size, size
		got = append(got, lines[i])
	}
	if err := c.cfg.Store.PublishCheckpoint(ctx, size, signed, got); err != nil {
		return 0, fmt.Errorf("witness: publish the checkpoint of size %d: %w", size, err)
	}
	for _, e := range c.cfg.Witnesses {
		if d, ok := c.done[id(e)]; ok && d == size {
			cosigned++
		}
	}
	return cosigned, errors.Join(errs...)
}

// skipPublished returns the witnesses of todo whose cosignature of signed,
// the checkpoint of size, is not published yet, and marks the others done:
// a Cosigner that has just started (a restart, or another replica taking
// the lease) does not know what its predecessor got, and asking again
// would publish one more line of the same witness for the same checkpoint
// at each start. If the published checkpoint cannot be read, it asks them
// all.
func (c *Cosigner) skipPublished(ctx context.Context, size int64, signed []byte, todo []Endpoint) []Endpoint {
	if len(todo) == 0 {
		return todo
	}
	psize, published, err := c.cfg.Store.PublishedCheckpoint(ctx)
	if err != nil || published == nil || psize != size {
		return todo
	}
	body, _, _ := bytes.Cut(signed, []byte("\n\n"))
	pbody, _, _ := bytes.Cut(published, []byte("\n\n"))
	if !bytes.Equal(body, pbody) {
		return todo
	}
	return slices.DeleteFunc(todo, func(e Endpoint) bool {
		if _, err := audit.OpenNote(published, note.VerifierList(e.Verifier)); err != nil {
			return false
		}
		c.known[id(e)] = max(c.known[id(e)], size)
		c.done[id(e)] = size
		return true
	})
}

// ask asks one witness, learning the size it knows from a 409: it asks
// again from that size while the witness names a new one no larger than
// this checkpoint (twice at most: once, and once more if another replica
// moved the witness on meanwhile).
func (c *Cosigner) ask(ctx context.Context, e Endpoint, old, size int64, signed []byte) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		line, err := c.askOnce(ctx, e, old, size, signed)
		ce, conflict := errors.AsType[*ConflictError](err)
		if !conflict || attempt > 1 || ce.Known > size || ce.Known == old {
			if err != nil {
				c.logFailure(ctx, e, old, size, err)
			}
			return line, err
		}
		old = ce.Known // the witness told us what it cosigned last
	}
}

func (c *Cosigner) askOnce(ctx context.Context, e Endpoint, old, size int64, signed []byte) ([]byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if old > 0 && old < size {
		p, err := c.cfg.Log.ConsistencyProof(actx, old, size)
		if err != nil {
			return nil, err
		}
		return AddCheckpoint(actx, c.cfg.HTTPClient, e, old, p, signed)
	}
	return AddCheckpoint(actx, c.cfg.HTTPClient, e, old, nil, signed)
}

// logFailure logs a witness's refusal at the level it calls for. A 409
// (tlog-witness: the old size is not the size of the latest checkpoint
// the witness cosigned for this origin, or it is that size but the root
// hashes differ) is routine only when the witness names a larger tree
// that this log holds: another replica, or an earlier round, took a newer
// checkpoint to it, and this one is skipped (Info). Naming a larger tree
// than the log holds, it has cosigned a checkpoint of this origin that
// this log never reached (the store was rolled back or restored, or the
// log's key signs another log); naming the size of this checkpoint when
// that was the old size sent (old), it has cosigned another tree of that
// size: both are two histories of the log, as grave as a
// 422, and logged as errors. A 409 whose size the log's size cannot be
// read to judge is a warning.
func (c *Cosigner) logFailure(ctx context.Context, e Endpoint, old, size int64, err error) {
	if ce, ok := errors.AsType[*ConflictError](err); ok {
		attrs := []any{"witness", e.Verifier.Name(), "tree_size", size, "witness_size", ce.Known}
		switch logSize, serr := c.cfg.Log.Size(ctx); {
		case ce.Known == size && old == size:
			c.log.ErrorContext(ctx, "witness has cosigned another tree of this size: the log may have been rewritten, or its key signs another log", attrs...)
		case ce.Known > size && serr == nil && ce.Known <= logSize:
			c.log.InfoContext(ctx, "witness knows a larger tree; skipping this checkpoint", attrs...)
		case ce.Known > size && serr == nil:
			c.log.ErrorContext(ctx, "witness has cosigned a larger tree of this log than the log holds: the log may have been rolled back or restored, or its key signs another log",
				append(attrs, "log_size", logSize)...)
		default:
			c.log.WarnContext(ctx, "witness did not cosign", append(attrs, "error", err)...)
		}
		return
	}
	if re, ok := errors.AsType[*RefusedError](err); ok && re.Status == http.StatusUnprocessableEntity {
		c.log.ErrorContext(ctx, "witness refused the checkpoint as inconsistent with what it cosigned before: the log may have been rewritten",
			"witness", e.Verifier.Name(), "tree_size", size, "error", err)
		return
	}
	c.log.WarnContext(ctx, "witness did not cosign", "witness", e.Verifier.Name(), "tree_size", size, "error", err)
}

// Run takes a checkpoint to the witnesses every Interval until ctx is done.
func (c *Cosigner) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		if c.holdsLease(ctx) {
			if _, err := c.Round(ctx); err != nil && ctx.Err() == nil {
				c.log.DebugContext(ctx, "cosigning round incomplete", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// holdsLease reports whether this replica may send in the current term:
// it is the first to claim it, or there is no Lease.
func (c *Cosigner) holdsLease(ctx context.Context) bool {
	if c.cfg.Lease == nil {
		return true
	}
	term := c.cfg.Now().Truncate(c.cfg.LeaseTerm)
	id := sha256.Sum256(fmt.Appendf(nil, "liaison.witness-lease/v1\n%d\n", term.UnixNano()))
	first, err := c.cfg.Lease.Remember(ctx, id, c.me, term.Add(2*c.cfg.LeaseTerm))
	if err != nil {
		if ctx.Err() == nil {
			c.log.WarnContext(ctx, "witness lease unavailable; not sending this term", "error", err)
		}
		return false
	}
	return first == c.me
}

// Checkpoint returns the checkpoint auditors get: the latest published
// one, with the witnesses' cosignatures, or, before any was published, the
// log's latest checkpoint without cosignatures.
func (c *Cosigner) Checkpoint(ctx context.Context) (size int64, signed []byte, err error) {
	size, signed, err = c.cfg.Store.PublishedCheckpoint(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: published checkpoint: %v", audit.ErrUnavailable, err)
	}
	if signed != nil {
		return size, signed, nil
	}
	return c.cfg.Log.Checkpoint(ctx)
}
