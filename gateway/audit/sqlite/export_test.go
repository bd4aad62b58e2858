package sqlite

import "time"

// ColumnDefs splits a CREATE TABLE statement into its column definitions,
// for the tampering tests.
var ColumnDefs = columnDefs

// SetCheckpointing sets the WAL's size in frames at which the Store's
// checkpointer rewinds it and the least time between two checkpoints.
// Call it before the first Append.
func (s *Store) SetCheckpointing(restartFrames int64, pause time.Duration) {
	s.ck.restartFrames, s.ck.pause = restartFrames, pause
}

// WALState returns the WAL's size in frames after the last checkpoint and
// that checkpoint's error, and how many RESTART checkpoints were tried and
// how many of them readers kept from completing.
func (s *Store) WALState() (frames int64, restarts, blocked int, err error) { return s.ck.state() }

// BreakCheckpointer closes the checkpointer's connection, so that every
// checkpoint from then on fails.
func (s *Store) BreakCheckpointer() { s.ck.db.Close() }

// HashReads returns how many appends read stored hashes back from the
// database rather than from the Store's cache of the tree's right edge.
func (s *Store) HashReads() int64 { return s.hashReads.Load() }

// AgencyMatch is the condition by which a query selects the entries that
// involve an agency, given four times.
const AgencyMatch = agencyMatch

// HashQueries returns how many calls of ReadHashes queried the database
// rather than reading the Store's cache alone.
func (s *Store) HashQueries() int64 { return s.hashQueries.Load() }
