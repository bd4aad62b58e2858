package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// The WAL checkpoint runs beside the appends, not inside them.
//
// SQLite's automatic checkpoint runs on the connection that commits, at
// the end of the commit that took the WAL past 1,000 pages: the writer
// then copies every page changed since the last checkpoint back into the
// database file and fsyncs it, while the callers of the next batch wait.
// Under the load tool's Disclose, about a quarter of the writer's time
// went there (docs/performance.md). The writer therefore runs with
// wal_autocheckpoint=0, and a checkpointer of its own, on a connection of
// its own, copies the pages with PRAGMA wal_checkpoint(PASSIVE) while the
// writer goes on appending: a passive checkpoint takes no lock that a
// writer or a reader waits for.
//
// A passive checkpoint alone never lets the WAL start again from its
// beginning under steady load: SQLite rewinds the WAL only at the start of
// a write transaction that finds every frame already copied and no reader
// still reading from the WAL, and a busy writer begins its next
// transaction before the checkpointer has copied the last one's. Once the
// WAL holds walRestartFrames frames, the checkpointer therefore takes
// ckMu, which every Append holds for its transaction, and runs
// PRAGMA wal_checkpoint(RESTART): no append is under way, the copy is
// short (what was committed since the passive checkpoint), the checkpoint
// waits up to restartWait for the readers of older snapshots to finish,
// and the next append's transaction rewinds the WAL. If a reader takes
// longer (an export read in one transaction, say), the appends go on, and
// the checkpointer tries again after a wait that doubles with each such
// failure (from checkpointPause to maxRestartBackoff), so that a long
// reader does not stall the appends for restartWait in every round.
//
// A checkpoint that fails (the WAL then grows until one succeeds) is told
// to the Store's Logger once, and its recovery once.
//
// Durability does not change: every commit fsyncs the WAL on the writer
// (synchronous=FULL) before Append returns, and the checkpointer fsyncs
// the WAL and then the database file around each copy.

const (
	// walRestartFrames is the size of the WAL, in frames (pages), at which
	// the checkpointer stops the appends for a moment so that the WAL
	// rewinds: 16 MiB of 4 KiB pages.
	walRestartFrames = 4096
	// checkpointPause is the least time between two checkpoints: each
	// copies every page changed since the last one and fsyncs the WAL and
	// the database file, so that a checkpoint after every commit would
	// add two fsyncs to each.
	checkpointPause = 50 * time.Millisecond
	// checkpointEvery is the longest time between two checkpoints once
	// the Store has appended: writes other than appends (acknowledgements,
	// leases, the replay set...) wake no checkpoint of their own.
	checkpointEvery = time.Second
	// restartWait is how long a restarting checkpoint, which the appends
	// wait for, waits for readers (the checkpointer's busy_timeout, in
	// milliseconds).
	restartWait = 20
	// maxRestartBackoff is the longest wait before trying a RESTART again
	// after one that readers kept from completing.
	maxRestartBackoff = 5 * time.Second
)

// checkpointer copies the WAL into the database file in the background.
type checkpointer struct {
	db   *sql.DB       // one connection, for PRAGMA wal_checkpoint
	mu   *sync.Mutex   // the Store's ckMu, held by every Append
	wake chan struct{} // a commit happened (capacity 1: wakes coalesce)

	restartFrames int64         // walRestartFrames, but in tests
	pause         time.Duration // checkpointPause, but in tests

	start  sync.Once
	cancel context.CancelFunc
	done   chan struct{} // closed when the loop has returned

	// frames is the WAL's size in frames after the last checkpoint, err
	// the last checkpoint's error (nil once one succeeds again); restarts
	// counts the RESTART checkpoints tried, and blocked those that
	// readers kept from completing.
	stateMu           sync.Mutex
	frames            int64
	err               error
	restarts, blocked int
}

// openCheckpointer opens the checkpointer's connection to the database at
// uri (a file: URI without parameters).
func openCheckpointer(ctx context.Context, uri string, mu *sync.Mutex) (*checkpointer, error) {
	db, err := sql.Open("sqlite", fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=synchronous(FULL)", uri, restartWait))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open checkpointer: %v", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open checkpointer: %v", err)
	}
	return &checkpointer{db: db, mu: mu, wake: make(chan struct{}, 1), done: make(chan struct{}),
		restartFrames: walRestartFrames, pause: checkpointPause}, nil
}

// committed tells the checkpointer that a transaction committed; it starts
// the loop on the first call, after the Store's fields were set, with the
// Store's Logger (nil for none).
func (c *checkpointer) committed(log *slog.Logger) {
	c.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		c.cancel = cancel
		go c.loop(ctx, cmp.Or(log, slog.New(slog.DiscardHandler)))
	})
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop(ctx context.Context, log *slog.Logger) {
	defer close(c.done)
	pause := time.NewTimer(c.pause)
	defer pause.Stop()
	every := time.NewTicker(checkpointEvery)
	defer every.Stop()
	var nextRestart time.Time // not before, after one that readers kept from completing
	backoff := c.pause
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-every.C:
		}
		busy, frames, err := c.checkpoint(ctx, "PASSIVE")
		restarted, blocked := false, false
		if err == nil && frames >= c.restartFrames && !time.Now().Before(nextRestart) {
			c.mu.Lock() // no Append under way, nor will one start
			busy, frames, err = c.checkpoint(ctx, "RESTART")
			c.mu.Unlock()
			restarted, blocked = true, err == nil && busy
			if blocked {
				backoff = min(max(2*backoff, checkpointPause), maxRestartBackoff)
				nextRestart = time.Now().Add(backoff)
			} else {
				backoff, nextRestart = c.pause, time.Time{}
			}
		}
		c.stateMu.Lock()
		switch {
		case err != nil && c.err == nil && ctx.Err() == nil:
			log.WarnContext(ctx, "WAL checkpoint failed; the WAL grows until one succeeds", "error", err)
		case err == nil && c.err != nil:
			log.InfoContext(ctx, "WAL checkpoint succeeds again", "wal_frames", frames)
		}
		if err == nil { // a failed one leaves the size it last read
			c.frames = frames
		}
		c.err = err
		if restarted {
			c.restarts++
		}
		if blocked {
			c.blocked++
		}
		c.stateMu.Unlock()
		pause.Reset(c.pause)
		select {
		case <-ctx.Done():
			return
		case <-pause.C:
		}
	}
}

// checkpoint runs a checkpoint in mode (PASSIVE or RESTART) and returns
// whether a lock or a reader kept it from completing, and the WAL's size
// in frames, as it was before the next write rewinds it.
func (c *checkpointer) checkpoint(ctx context.Context, mode string) (busy bool, frames int64, err error) {
	var b, copied int64
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&b, &frames, &copied); err != nil {
		return false, 0, fmt.Errorf("sqlite: WAL checkpoint (%s): %v", mode, err)
	}
	return b != 0, frames, nil
}

// state returns the WAL's size in frames as the last checkpoint that
// succeeded found it, the last checkpoint's error, and how many RESTART checkpoints were tried and
// how many of them readers kept from completing.
func (c *checkpointer) state() (frames int64, restarts, blocked int, err error) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	return c.frames, c.restarts, c.blocked, c.err
}

var _ audit.WALStore = (*Store)(nil)

// WAL returns the WAL's size in frames (pages) as the latest checkpoint
// that succeeded found it, and the latest checkpoint's error: the WAL
// grows while checkpoints fail. It does not touch the database.
func (s *Store) WAL() (pages int64, err error) {
	frames, _, _, err := s.ck.state()
	return frames, err
}

// close stops the loop, waiting for a checkpoint under way, and closes the
// connection. Calling it more than once is safe.
func (c *checkpointer) close() error {
	c.start.Do(func() { close(c.done) }) // never started: nothing to wait for
	if c.cancel != nil {
		c.cancel()
	}
	<-c.done
	return c.db.Close()
}
