package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Config configures a [Log]. The zero value is not usable: Store and Signer
// are required.
type Config struct {
	// Store persists the log. Required. The Log never closes it: whoever
	// opened the store closes it after [Log.Close].
	Store Store
	// Signer signs checkpoints. Required.
	Signer note.Signer
	// Anchor keeps the latest signed checkpoint outside the store. If set,
	// New refuses a store that holds fewer entries than that checkpoint
	// covers, or whose tree does not extend it, and every checkpoint is
	// recorded there before it is stored and served. If nil, New compares
	// the store only with the checkpoints stored in it, which a rollback
	// of the database takes along.
	Anchor Anchor
	// Verifier verifies Signer's signatures. If set, a checkpoint found in
	// the store is copied to the Anchor (on a first start with an anchor)
	// only if it verifies.
	Verifier note.Verifier
	// Origin is the first line of every checkpoint and names the log, e.g.
	// "audit.liaison.example/prod". If empty, Signer.Name().
	Origin string
	// CheckpointInterval is how often, at most, a checkpoint is signed in
	// the background while the tree grows. If zero, one second.
	CheckpointInterval time.Duration
	// MaxBatch caps the number of entries committed in one store
	// transaction. If zero, 256. One means no group commit.
	MaxBatch int
	// Now returns the current time, recorded in entries that have none.
	// If nil, time.Now.
	Now func() time.Time
	// Logger receives operational logs: indexes, sizes and errors, never
	// entry contents. If nil, slog.Default().
	Logger *slog.Logger
}

// A Log is the disclosure log: it appends entries to a [Store] with group
// commit, and signs checkpoints of the tree. Its methods are safe for
// concurrent use.
type Log struct {
	store    Store
	signer   note.Signer
	anchor   Anchor
	verifier note.Verifier
	origin   string
	interval time.Duration
	maxBatch int
	now      func() time.Time
	log      *slog.Logger

	// ctx is used for the store calls of the background goroutines; it is
	// not cancelled by any caller, only by Close when Close's own context
	// expires.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stop   chan struct{} // closed by Close
	wake   chan struct{} // signals the committer; capacity 1

	mu     sync.Mutex // guards queue and closed
	queue  []*request
	closed bool

	cpMu     sync.Mutex // serialises checkpoint signing; guards cpSize, cpNote and anchored
	cpSize   int64
	cpNote   []byte
	anchored *Checkpoint // the largest checkpoint known to be in the Anchor, or nil

	stats logStats // for operators' metrics; see Stats

	rcMu   sync.Mutex // guards rcSize and rcNote, the checkpoint receipts name (receipt.go)
	rcSize int64
	rcNote []byte
}

// A request is one Append waiting for the committer.
type request struct {
	pending Pending
	state   atomic.Int32 // waiting, then taken by the committer or abandoned by the caller
	done    chan result  // receives exactly one result once taken; capacity 1
}

const (
	waiting int32 = iota
	taken
	abandoned
)

type result struct {
	index int64
	err   error
}

// New returns a Log appending to cfg.Store, and starts its committer and
// checkpointer. Before that it checks the store: against the latest
// checkpoint in cfg.Anchor and the latest one stored in it (the store must
// hold every entry they cover, and its tree must have their roots), and
// for rows missing from it. A store that fails is refused with an error
// wrapping [ErrTruncated] (rolled back, rows deleted) or [ErrFork] (a
// different history), naming what was found. Call [Log.Close] to stop it.
func New(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.Store == nil {
		return nil, errors.New("audit: Config.Store is required")
	}
	if cfg.Signer == nil {
		return nil, errors.New("audit: Config.Signer is required")
	}
	l := &Log{
		store:    cfg.Store,
		signer:   cfg.Signer,
		anchor:   cfg.Anchor,
		verifier: cfg.Verifier,
		origin:   cfg.Origin,
		interval: cfg.CheckpointInterval,
		maxBatch: cfg.MaxBatch,
		now:      cfg.Now,
		log:      cfg.Logger,
		stop:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
	}
	if l.origin == "" {
		l.origin = cfg.Signer.Name()
	}
	if l.origin == "" || strings.ContainsAny(l.origin, "\n") {
		return nil, fmt.Errorf("audit: invalid checkpoint origin %q", l.origin)
	}
	switch {
	case l.interval < 0:
		return nil, fmt.Errorf("audit: negative Config.CheckpointInterval %v", l.interval)
	case l.interval == 0:
		l.interval = time.Second
	}
	switch {
	case l.maxBatch < 0:
		return nil, fmt.Errorf("audit: negative Config.MaxBatch %d", l.maxBatch)
	case l.maxBatch == 0:
		l.maxBatch = 256
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	size, err := l.checkStore(ctx)
	if err != nil {
		return nil, err
	}
	l.ctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	l.wg.Add(2)
	go l.commitLoop()
	go l.checkpointLoop()
	l.log.InfoContext(ctx, "audit log opened", "tree_size", size, "origin", l.origin)
	return l, nil
}

// Append records e, with the deliveries that go out with it, and returns
// its index in the log. It returns only once the entry, its hashes and the
// deliveries are durably committed, or with an error; on error the index
// is -1 and nothing may be disclosed. A failure of the store is reported
// as an error wrapping [ErrUnavailable].
//
// Concurrent calls are committed together in one store transaction (group
// commit); each gets its own index. If ctx is done before the entry is
// handed to the store, Append returns ctx's error and the entry is not
// recorded; once handed over, Append waits for the outcome, so that it
// never reports a failure for an entry that was committed.
//
// If e.Time is zero, the entry records the current time; e itself is not
// modified. e.Action and e.Outcome are required.
func (l *Log) Append(ctx context.Context, e *Entry, deliveries ...Delivery) (index int64, err error) {
	return l.append(ctx, e, nil, deliveries)
}

// AppendRelease is [Log.Append] for an entry that releases content: the
// keyed fingerprints of that content are committed with the entry, in the
// same transaction and already confirmed with its index, so that no
// release is ever without them and none is kept for a release that did not
// commit. The store must keep aftercare state ([AftercareStore]), as both
// stores do; each fingerprint needs a recipient, a subject and a request id.
func (l *Log) AppendRelease(ctx context.Context, e *Entry, fps []Fingerprint, deliveries ...Delivery) (index int64, err error) {
	for _, f := range fps {
		if !f.Complete() {
			return -1, errors.New("audit: append: fingerprint without recipient, subject or request id")
		}
	}
	return l.append(ctx, e, fps, deliveries)
}

func (l *Log) append(ctx context.Context, e *Entry, fps []Fingerprint, deliveries []Delivery) (index int64, err error) {
	switch {
	case e == nil:
		return -1, errors.New("audit: append: nil entry")
	case e.Action == "":
		return -1, errors.New("audit: append: entry has no action")
	case e.Outcome == "":
		return -1, errors.New("audit: append: entry has no outcome")
	}
	for _, d := range deliveries {
		if d.Recipient == "" || d.Kind == "" {
			return -1, errors.New("audit: append: delivery without recipient or kind")
		}
	}
	c := *e
	if c.Time.IsZero() {
		c.Time = l.now()
	}
	leaf, err := c.Marshal()
	if err != nil {
		return -1, err
	}
	if err := ctx.Err(); err != nil {
		return -1, fmt.Errorf("audit: append: %w", err)
	}
	r := &request{
		pending: Pending{Leaf: leaf, Hash: tlog.RecordHash(leaf), Entry: &c, Deliveries: append([]Delivery(nil), deliveries...), Fingerprints: append([]Fingerprint(nil), fps...)},
		done:    make(chan result, 1),
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return -1, unavailable("append", errClosed)
	}
	l.queue = append(l.queue, r)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // the committer is already signalled
	}

	select {
	case res := <-r.done:
		return res.index, res.err
	case <-ctx.Done():
		if r.state.CompareAndSwap(waiting, abandoned) {
			return -1, fmt.Errorf("audit: append: %w", ctx.Err())
		}
		res := <-r.done // handed over: the outcome is the store's
		return res.index, res.err
	}
}

// commitLoop commits queued appends until Close, then drains the queue.
func (l *Log) commitLoop() {
	defer l.wg.Done()
	for {
		batch, closed := l.take()
		if len(batch) > 0 {
			l.commit(batch)
			continue
		}
		if closed {
			return
		}
		select {
		case <-l.wake:
		case <-l.stop:
		}
	}
}

// take removes up to maxBatch requests from the queue and claims those
// their callers have not abandoned. closed reports whether the Log is
// closed; the queue is then empty when take returns nothing.
func (l *Log) take() (batch []*request, closed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(batch) == 0 && len(l.queue) > 0 {
		n := min(len(l.queue), l.maxBatch)
		for _, r := range l.queue[:n] {
			if r.state.CompareAndSwap(waiting, taken) {
				batch = append(batch, r)
			}
		}
		clear(l.queue[:n])
		l.queue = l.queue[n:]
	}
	if len(l.queue) == 0 {
		l.queue = nil // let the backing array go
	}
	return batch, l.closed
}

// commit appends batch in one store transaction and reports to each caller.
func (l *Log) commit(batch []*request) {
	pending := make([]Pending, len(batch))
	for i, r := range batch {
		pending[i] = r.pending
	}
	first, err := l.store.Append(l.ctx, pending)
	if err != nil {
		err = unavailable("append", err)
		l.log.ErrorContext(l.ctx, "audit append failed", "entries", len(batch), "error", err)
		for _, r := range batch {
			r.done <- result{index: -1, err: err}
		}
		return
	}
	l.log.DebugContext(l.ctx, "audit batch committed", "first_index", first, "entries", len(batch))
	l.stats.committed(first, len(batch))
	for i, r := range batch {
		r.done <- result{index: first + int64(i)}
	}
}

// Close stops accepting appends, commits those already waiting, signs a
// final checkpoint if the tree grew, and stops the background goroutines.
// If ctx is done first, Close abandons the store calls in flight (their
// callers get an error wrapping ErrUnavailable) and returns ctx's error.
// Close does not close the store. Calling it more than once is safe.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	already := l.closed
	l.closed = true
	l.mu.Unlock()
	if !already {
		close(l.stop)
	}
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		l.cancel()
		<-done
		return fmt.Errorf("audit: close: %w", ctx.Err())
	}
	defer l.cancel()
	if already {
		return nil
	}
	size, _, err := l.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("audit: close: final checkpoint: %w", err)
	}
	l.log.InfoContext(ctx, "audit log closed", "tree_size", size)
	return nil
}

// Size returns the number of entries in the log.
func (l *Log) Size(ctx context.Context) (int64, error) {
	n, err := l.store.Size(ctx)
	if err != nil {
		return 0, unavailable("size", err)
	}
	return n, nil
}

// Leaves returns the leaves with indexes in [start, end): the entries'
// canonical encodings, as hashed into the tree.
func (l *Log) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	size, err := l.Size(ctx)
	if err != nil {
		return nil, err
	}
	if start < 0 || start > end || end > size {
		return nil, fmt.Errorf("audit: leaves [%d, %d) of a log of size %d: %w", start, end, size, ErrOutOfRange)
	}
	leaves, err := l.store.ReadLeaves(ctx, start, end)
	if err != nil {
		return nil, unavailable("read leaves", err)
	}
	return leaves, nil
}

// Query returns the records matching f, in index order. If the store's
// query index does not match the leaves, it fails with an error wrapping
// [ErrTampered] (not [ErrUnavailable]).
func (l *Log) Query(ctx context.Context, f Filter) ([]Record, error) {
	recs, err := l.store.Query(ctx, f)
	if errors.Is(err, ErrTampered) {
		l.log.ErrorContext(ctx, "audit query index tampered with", "error", err)
		return nil, err
	}
	if err != nil {
		return nil, unavailable("query", err)
	}
	return recs, nil
}

// CheckIndex recomputes the query index of the entries with indexes in
// [start, end) from their leaves and compares it with the store's (see
// [Store.CheckIndex]). A mismatch is an error wrapping [ErrTampered].
func (l *Log) CheckIndex(ctx context.Context, start, end int64) error {
	size, err := l.Size(ctx)
	if err != nil {
		return err
	}
	if start < 0 || start > end || end > size {
		return fmt.Errorf("audit: check index [%d, %d) of a log of size %d: %w", start, end, size, ErrOutOfRange)
	}
	err = l.store.CheckIndex(ctx, start, end)
	if errors.Is(err, ErrTampered) {
		l.log.ErrorContext(ctx, "audit query index tampered with", "error", err)
		return err
	}
	if err != nil {
		return unavailable("check index", err)
	}
	return nil
}

// Inbox returns up to limit unacknowledged items for agency with a cursor
// greater than after, oldest first; if limit <= 0, up to 100. Items appear
// only once the entry that recorded them is committed.
func (l *Log) Inbox(ctx context.Context, agency string, after int64, limit int) ([]InboxItem, error) {
	items, err := l.store.Inbox(ctx, agency, after, limit)
	if err != nil {
		return nil, unavailable("inbox", err)
	}
	return items, nil
}

// Ack acknowledges agency's inbox items up to and including cursor.
func (l *Log) Ack(ctx context.Context, agency string, cursor int64) error {
	if err := l.store.Ack(ctx, agency, cursor); err != nil {
		return unavailable("ack", err)
	}
	return nil
}

// MarkSent records that the inboxes' items up to and including cursor
// were sent to a reader; see [Store.MarkSent].
func (l *Log) MarkSent(ctx context.Context, cursor int64, inboxes ...string) error {
	if err := l.store.MarkSent(ctx, cursor, inboxes...); err != nil {
		return unavailable("mark sent", err)
	}
	return nil
}

// Sent returns the greatest cursor up to which the inbox's items were sent
// to a reader; 0 if none.
func (l *Log) Sent(ctx context.Context, inbox string) (int64, error) {
	c, err := l.store.Sent(ctx, inbox)
	if err != nil {
		return 0, unavailable("sent", err)
	}
	return c, nil
}

// hashReader reads stored hashes from the store with ctx, for tlog.
func (l *Log) hashReader(ctx context.Context, op string) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hs, err := l.store.ReadHashes(ctx, indexes)
		if err != nil {
			return nil, unavailable(op, err)
		}
		return hs, nil
	})
}
