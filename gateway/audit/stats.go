package audit

import (
	"sync/atomic"
	"time"
)

// Stats is what a [Log] tells operators about itself: how far behind the
// committer and the checkpointer are. It holds counts and times only,
// never entry contents.
type Stats struct {
	// Queued is the number of appends waiting for the committer.
	Queued int
	// Batches and Entries count the store transactions this Log committed
	// and the entries they held, since it was opened.
	Batches, Entries uint64
	// TreeSize is the size of the tree after this Log's latest commit or
	// checkpoint, whichever is larger (other replicas may have appended
	// since), or the size the store had when this Log opened it if that is
	// larger.
	TreeSize int64
	// CheckpointSize is the size of the latest checkpoint this Log signed,
	// and CheckpointTime when it signed it; zero before the first. Until
	// this Log signs one, CheckpointSize is the size of the latest signed
	// checkpoint it found when it opened the store (the entries it covers
	// need no other), and CheckpointTime is zero.
	CheckpointSize int64
	CheckpointTime time.Time
	// Opened is when this Log opened its store: with no checkpoint signed
	// since, how long it has been without one.
	Opened time.Time
	// WAL says whether the store writes ahead to a log of its own that it
	// copies into its database in the background ([WALStore]: SQLite);
	// if so, WALPages is that log's size in pages as the latest copy that
	// succeeded found it, and WALCopyFailing whether the latest copy
	// failed (the log then grows until one succeeds).
	WAL            bool
	WALPages       int64
	WALCopyFailing bool
}

// A WALStore is a Store that writes ahead to a log of its own and copies
// it into its database in the background, as SQLite's write-ahead log and
// its checkpoints do.
type WALStore interface {
	// WAL returns the log's size in pages as the latest copy that
	// succeeded found it, and the latest copy's error; it does not touch
	// the database.
	WAL() (pages int64, err error)
}

// Stats returns the Log's counters, and its store's write-ahead log's
// state if it has one. It does not touch the database.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	q := len(l.queue)
	l.mu.Unlock()
	st := Stats{
		Queued:         q,
		Batches:        l.stats.batches.Load(),
		Entries:        l.stats.entries.Load(),
		TreeSize:       l.stats.size.Load(),
		CheckpointSize: l.stats.cpSize.Load(),
	}
	if ns := l.stats.cpTime.Load(); ns != 0 {
		st.CheckpointTime = time.Unix(0, ns)
	}
	if ns := l.stats.opened.Load(); ns != 0 {
		st.Opened = time.Unix(0, ns)
	}
	if w, ok := l.store.(WALStore); ok {
		pages, err := w.WAL()
		st.WAL, st.WALPages, st.WALCopyFailing = true, pages, err != nil
	}
	return st
}

// logStats are the counters behind Stats, updated without a lock.
type logStats struct {
	batches, entries atomic.Uint64
	size             atomic.Int64
	cpSize, cpTime   atomic.Int64 // cpTime in Unix nanoseconds
	opened           atomic.Int64 // Unix nanoseconds
}

// open records what the Log found when it opened its store: size entries,
// of which the latest signed checkpoint covers covered.
func (s *logStats) open(size, covered int64, t time.Time) {
	s.opened.Store(t.UnixNano())
	s.cpSize.Store(covered)
	s.grow(size)
}

// committed records a batch of n entries committed at index first.
func (s *logStats) committed(first int64, n int) {
	s.batches.Add(1)
	s.entries.Add(uint64(n))
	s.grow(first + int64(n))
}

// signed records a checkpoint of size signed at t.
func (s *logStats) signed(size int64, t time.Time) {
	s.cpSize.Store(size)
	s.cpTime.Store(t.UnixNano())
	s.grow(size)
}

func (s *logStats) grow(size int64) {
	for {
		cur := s.size.Load()
		if size <= cur || s.size.CompareAndSwap(cur, size) {
			return
		}
	}
}
