// Package postgres is an [audit.Store] on PostgreSQL, through pgx: the
// store for several gateway replicas sharing one log.
//
// Every append runs in a READ COMMITTED transaction that first takes a
// transaction-level advisory lock (pg_advisory_xact_lock) on a fixed key,
// and only then, in a later statement and so a later snapshot, reads the
// size of the log. Appends from every process on the database therefore
// run one at a time, each at the size the previous one committed: the
// processes build one tree, with no fork, gap or duplicate index, and the
// primary keys on the leaf and hash indexes refuse a duplicate should the
// lock ever be bypassed. Inbox cursors are drawn under the same lock, so
// they increase in commit order. Commits wait for the WAL flush
// (synchronous_commit must not be off, and fsync must be on; every
// connection checks). Reads never take the lock and never wait for an
// append.
//
// The schema comes from the embedded migrations, applied in lexical order,
// each in its own transaction under another advisory lock, so that
// processes starting together apply each one once. They are recorded in
// schema_migrations.
//
// The query index is derived from the leaves by the database: leaves.ix
// is a stored generated column that the function liaison_leaf_index
// computes from the leaf, with expression indexes on it. Query checks
// that ix and the function are still as the migrations made them, and
// every record it returns against its leaf; CheckIndex also recomputes ix
// for every entry. The database must be UTF8.
package postgres

import (
	"context"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys, in the database's own key space: "liaison" and a
// byte naming what the lock serialises.
const (
	appendLock  int64 = 0x6c696169736f6e01 // appends to the log
	migrateLock int64 = 0x6c696169736f6e02 // schema migrations
)

// resolveTimeout bounds the wait to learn whether a commit whose connection
// failed took effect.
const resolveTimeout = 30 * time.Second

// Store is an [audit.Store] in one PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	edge audit.EdgeCache // the tree's right edge as this process last appended it

	// Now returns the current time: the creation and acknowledgement time
	// of inbox items, the instant against which they and remembered token
	// ids expire, and the time a checkpoint was saved. If nil, time.Now.
	// Set it before using the Store.
	Now func() time.Time
}

var _ audit.Store = (*Store)(nil)

// Open connects to the PostgreSQL database at url (a postgres:// URL or a
// keyword/value string, as pgx accepts, including pool_* parameters),
// checks that commits are durable and applies the pending migrations. The
// caller closes the Store.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %v", err) // pgx redacts the password
	}
	cfg.AfterConnect = checkDurability
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %v", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %v", err)
	}
	// The index is computed from the leaves, which are UTF-8, in the
	// database (liaison_leaf_index).
	var enc string
	if err := pool.QueryRow(ctx, "SELECT current_setting('server_encoding')").Scan(&enc); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %v", err)
	}
	if enc != "UTF8" {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: the database's encoding is %s; the audit log needs UTF8", enc)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// checkDurability refuses a connection on which a commit could return
// before it is on disk.
func checkDurability(ctx context.Context, conn *pgx.Conn) error {
	var syncCommit, fsync string
	if err := conn.QueryRow(ctx, "SELECT current_setting('synchronous_commit'), current_setting('fsync')").Scan(&syncCommit, &fsync); err != nil {
		return fmt.Errorf("postgres: connect: read settings: %v", err)
	}
	if syncCommit == "off" {
		return errors.New("postgres: connect: synchronous_commit is off; the audit log needs durable commits")
	}
	if fsync != "on" {
		return fmt.Errorf("postgres: connect: fsync is %s; the audit log needs durable commits", fsync)
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, in lexical order, each in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %v", err)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := s.migrateOne(ctx, name); err != nil {
			return fmt.Errorf("postgres: migrate %s: %v", path.Base(name), err)
		}
	}
	return nil
}

func (s *Store) migrateOne(ctx context.Context, name string) error {
	script, err := fs.ReadFile(migrations, name)
	if err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		// Under the lock, each statement below sees what another process
		// migrating at the same time committed.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			name       TEXT PRIMARY KEY,
			applied_ns BIGINT NOT NULL
		)`); err != nil {
			return err
		}
		var applied bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)", path.Base(name)).Scan(&applied); err != nil {
			return err
		}
		if applied {
			return nil
		}
		if _, err := tx.Exec(ctx, string(script)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (name, applied_ns) VALUES ($1, $2)", path.Base(name), s.now().UnixNano())
		return err
	})
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Close closes the connections, waiting for those in use to be released.
// Calling it more than once is safe.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Append appends batch in one transaction, under the append lock and at the
// size read after taking it, with the batch's stored hashes and deliveries.
//
// If the connection fails while the commit is in flight, Append waits for
// the append lock on a new connection (the failed session holds it until
// its transaction has committed or aborted) and looks whether the batch is
// in the log, so that it reports success exactly when the batch committed.
// Should that take longer than 30 seconds, the error says that the outcome
// is unknown.
func (s *Store) Append(ctx context.Context, batch []audit.Pending) (first int64, err error) {
	if err := checkBatch(batch); err != nil {
		return 0, err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return 0, fmt.Errorf("postgres: append: begin: %v", err)
	}
	// After Commit, a no-op. With ctx done, it closes the connection
	// instead, which aborts the transaction just as well.
	defer tx.Rollback(ctx)
	first, remember, err := s.appendTx(ctx, tx, batch)
	if err != nil {
		return 0, fmt.Errorf("postgres: append: %w", err)
	}
	err = tx.Commit(ctx)
	if err == nil {
		remember()
		return first, nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || errors.Is(err, pgx.ErrTxCommitRollback) || pgconn.SafeToRetry(err) {
		return 0, fmt.Errorf("postgres: append: commit: %w", err) // certainly not committed
	}
	committed, rerr := s.committed(ctx, first, batch)
	switch {
	case rerr != nil:
		return 0, fmt.Errorf("postgres: append: commit: %w; whether it took effect is unknown: %v", err, rerr)
	case committed:
		return first, nil
	}
	return 0, fmt.Errorf("postgres: append: commit: %w", err)
}

// committed reports whether batch is in the log at first, once the append
// that tried to put it there has ended.
func (s *Store) committed(ctx context.Context, first int64, batch []audit.Pending) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resolveTimeout)
	defer cancel()
	var found [][]byte
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", appendLock); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, "SELECT leaf FROM leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx", first, first+int64(len(batch)))
		var err error
		found, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
		return err
	})
	if err != nil {
		return false, err
	}
	if len(found) != len(batch) {
		return false, nil
	}
	for i, p := range batch {
		if string(found[i]) != string(p.Leaf) {
			return false, nil
		}
	}
	return true, nil
}

func checkBatch(batch []audit.Pending) error {
	if len(batch) == 0 {
		return errors.New("postgres: append: empty batch")
	}
	for i, p := range batch {
		if len(p.Leaf) == 0 || p.Entry == nil {
			return fmt.Errorf("postgres: append: batch item %d has no leaf or no entry", i)
		}
		if y := p.Entry.Time.Year(); y < 1700 || y > 2200 {
			return fmt.Errorf("postgres: append: batch item %d: time out of range", i)
		}
	}
	return nil
}

// appendTx takes the append lock, reads the size and writes the batch at
// it; it returns the size.
func (s *Store) appendTx(ctx context.Context, tx pgx.Tx, batch []audit.Pending) (int64, func(), error) {
	// One round trip: the size is read by the statement after the lock, in
	// a snapshot that includes every append committed before we got it.
	head := &pgx.Batch{}
	head.Queue("SELECT pg_advisory_xact_lock($1)", appendLock)
	head.Queue("SELECT (SELECT COALESCE(MAX(idx)+1, 0) FROM leaves), (SELECT COALESCE(MAX(idx)+1, 0) FROM hashes)")
	br := tx.SendBatch(ctx, head)
	var size, nhashes int64
	_, err := br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&size, &nhashes)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, nil, fmt.Errorf("lock and read size: %w", err)
	}
	if want := tlog.StoredHashCount(size); nhashes != want {
		return 0, nil, fmt.Errorf("database inconsistent: %d leaves need %d stored hashes, found %d", size, want, nhashes)
	}
	hashes, committed, err := s.edge.StoredHashes(ctx, size, audit.RecordHashes(batch), func(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
		return readHashes(ctx, tx, indexes)
	})
	if err != nil {
		return 0, nil, err
	}

	var (
		lIdx              []int64
		hIdx              []int64
		hHash             [][]byte
		dRecipient, dKind []string
		dIdx              []int64
		dPayload          [][]byte
		dExpires          []pgtype.Int8
		fRecipient, fReq  []string
		fTag, fPrint      [][]byte
		fIdx              []int64
		leaves            = make([][]byte, 0, len(batch))
	)
	for i, p := range batch {
		idx := size + int64(i)
		lIdx = append(lIdx, idx)
		leaves = append(leaves, p.Leaf)
		for _, f := range p.Fingerprints {
			fRecipient = append(fRecipient, text(f.Recipient))
			fTag = append(fTag, audit.SubjectTag(f.Subject))
			fPrint = append(fPrint, f.FP[:])
			fReq = append(fReq, text(f.RequestID))
			fIdx = append(fIdx, idx)
		}
		for _, d := range p.Deliveries {
			var expires pgtype.Int8
			if !d.Expires.IsZero() {
				expires = pgtype.Int8{Int64: nanos(d.Expires), Valid: true}
			}
			payload := d.Payload
			if payload == nil {
				payload = []byte{}
			}
			dRecipient = append(dRecipient, text(d.Recipient))
			dIdx = append(dIdx, idx)
			dKind = append(dKind, text(d.Kind))
			dPayload = append(dPayload, payload)
			dExpires = append(dExpires, expires)
		}
	}
	base := tlog.StoredHashIndex(0, size)
	for i, h := range hashes {
		hIdx = append(hIdx, base+int64(i))
		hHash = append(hHash, h[:])
	}

	// One round trip for all the writes, one statement per table.
	w := &pgx.Batch{}
	// The index (leaves.ix) is derived from the leaf by the database
	// (migrations/0003_index_from_leaf.sql).
	w.Queue("INSERT INTO leaves (idx, leaf) SELECT * FROM unnest($1::bigint[], $2::bytea[])", lIdx, leaves)
	w.Queue("INSERT INTO hashes (idx, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])", hIdx, hHash)
	if len(dIdx) > 0 {
		// Cursors follow the order of the batch: leaf by leaf, delivery by
		// delivery.
		w.Queue(`INSERT INTO inbox (recipient, audit_idx, kind, payload, created_ns, expires_ns)
			SELECT recipient, audit_idx, kind, payload, $6, expires_ns
			FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[], $5::bigint[]) WITH ORDINALITY
				AS t (recipient, audit_idx, kind, payload, expires_ns, n)
			ORDER BY n`,
			dRecipient, dIdx, dKind, dPayload, dExpires, s.now().UnixNano())
	}
	if len(fIdx) > 0 {
		// Confirmed at once: the release's index is known.
		w.Queue(`INSERT INTO aftercare_fingerprints (recipient, subject_tag, fp, request_id, after_idx, audit_idx)
			SELECT recipient, subject_tag, fp, request_id, idx, idx FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[], $5::bigint[])
				AS t (recipient, subject_tag, fp, request_id, idx)
			ON CONFLICT DO NOTHING`, fRecipient, fTag, fPrint, fReq, fIdx)
	}
	if err := tx.SendBatch(ctx, w).Close(); err != nil {
		return 0, nil, fmt.Errorf("insert leaves %d to %d: %w", size, size+int64(len(batch))-1, err)
	}
	return size, committed, nil
}

// hexMarker starts a text value stored as the hex of its bytes. U+FFFE is
// a noncharacter, valid UTF-8 that no identifier should hold.
const hexMarker = "\uFFFE"

// text returns s as stored in a TEXT column of the inbox. PostgreSQL's
// text holds neither NUL nor invalid UTF-8, which deliveries may carry:
// such a value, and one that starts with
// hexMarker, is stored as hexMarker and the hex of its bytes. The mapping
// is one to one, so equality in SQL is equality of the strings, and a
// hostile string cannot make an append fail and take its whole group
// commit with it. Everything else is stored as is.
func text(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) && !strings.HasPrefix(s, hexMarker) {
		return s
	}
	return hexMarker + hex.EncodeToString([]byte(s))
}

// untext inverts text.
func untext(s string) string {
	if h, ok := strings.CutPrefix(s, hexMarker); ok {
		if b, err := hex.DecodeString(h); err == nil {
			return string(b)
		}
	}
	return s
}

// nanos returns t in Unix nanoseconds, clamped to the range of an int64.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// querier is a *pgxpool.Pool or a pgx.Tx.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// readHashes reads stored hashes, in the order asked for.
func readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	rows, _ := q.Query(ctx, "SELECT idx, hash FROM hashes WHERE idx = ANY($1)", indexes)
	found := make(map[int64]tlog.Hash, len(indexes))
	var idx int64
	var b []byte
	_, err := pgx.ForEachRow(rows, []any{&idx, &b}, func() error {
		if len(b) != tlog.HashSize {
			return fmt.Errorf("hash %d has %d bytes", idx, len(b))
		}
		found[idx] = tlog.Hash(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read hashes: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("postgres: read hashes: hash %d not stored", x)
		}
		out[i] = h
	}
	return out, nil
}

// Size returns the number of leaves.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT COALESCE(MAX(idx)+1, 0) FROM leaves").Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: size: %w", err)
	}
	return n, nil
}

// ReadHashes returns the stored hashes at the given storage indexes.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return s.edge.ReadHashes(ctx, indexes, func(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
		return readHashes(ctx, s.pool, indexes)
	})
}

// ReadLeaves returns the leaves with indexes in [start, end).
func (s *Store) ReadLeaves(ctx context.Context, start, end int64) ([][]byte, error) {
	if start < 0 || end < start {
		return nil, fmt.Errorf("postgres: read leaves: invalid range [%d, %d)", start, end)
	}
	rows, _ := s.pool.Query(ctx, "SELECT idx, leaf FROM leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx", start, end)
	leaves := make([][]byte, 0, min(end-start, 1<<16))
	var idx int64
	var leaf []byte
	_, err := pgx.ForEachRow(rows, []any{&idx, &leaf}, func() error {
		if idx != start+int64(len(leaves)) {
			return fmt.Errorf("leaf %d missing", start+int64(len(leaves)))
		}
		leaves = append(leaves, leaf)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read leaves: %w", err)
	}
	if int64(len(leaves)) != end-start {
		return nil, fmt.Errorf("postgres: read leaves: [%d, %d) extends past the end of the log (size %d)", start, end, start+int64(len(leaves)))
	}
	return leaves, nil
}

// Stat returns the size and the numbers of leaves and stored hashes, in
// one snapshot.
func (s *Store) Stat(ctx context.Context) (audit.Stat, error) {
	var st audit.Stat
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT COALESCE(MAX(idx)+1, 0) FROM leaves),
		(SELECT count(*) FROM leaves), (SELECT count(*) FROM hashes)`).Scan(&st.Size, &st.Leaves, &st.Hashes); err != nil {
		return audit.Stat{}, fmt.Errorf("postgres: stat: %w", err)
	}
	return st, nil
}

// Query returns the records matching f in index order (descending with
// f.Descending). It selects them
// by leaves.ix, which the database derives from the leaves, checks each
// one against its leaf, and fails with audit.ErrTampered if one does not
// match or if the schema no longer derives ix.
func (s *Store) Query(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	if err := s.checkSchema(ctx); err != nil {
		return nil, fmt.Errorf("postgres: query: %w", err)
	}
	f = f.Normalize()
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if !f.From.IsZero() {
		add("(ix->>'time_ns')::bigint >= ?", nanos(f.From))
	}
	if !f.To.IsZero() {
		add("(ix->>'time_ns')::bigint < ?", nanos(f.To))
	}
	if f.Agency != "" {
		add("ix->'agencies' @> jsonb_build_array(?::text)", indexKey(f.Agency))
	}
	for _, c := range []struct{ col, val string }{
		{"officer", f.Officer},
		{"subject", f.Subject},
		{"legal_basis", f.LegalBasis},
		{"outcome", f.Outcome},
		{"record_type", f.RecordType},
		{"action", f.Action},
	} {
		if c.val != "" {
			add("(ix->>'"+c.col+"') = ?", indexKey(c.val))
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	order := "idx"
	if f.Descending {
		// Ordered by idx itself, the planner may walk the primary key
		// back from the end of the log, filtering, expecting a match
		// soon: for a rare action (the latest key_rotate) that reads the
		// whole log. idx + 0 is not in that index, so the matches are
		// found by the index of the filtered column and only they sorted.
		order = "idx DESC"
		if len(where) > 0 {
			order = "idx + 0 DESC"
		}
	}
	filters, nfilters := where, len(args)
	var recs []audit.Record
	// Two different strings can have the same key (see indexKey): a
	// record selected for the key of another string is skipped, and the
	// next page read, until the limit is met or the log ends. Ascending,
	// a page begins at next; descending, at next going down, and the
	// first page has no upper bound. A bound that excludes nothing is
	// left out: the planner, without statistics yet, took idx >= 0 for a
	// selective condition and read the whole primary key to AND it with
	// the column's index.
	next, first := max(f.Start, 0), true
	for {
		where, args = slices.Clone(filters), args[:nfilters]
		switch {
		case !f.Descending:
			add("idx >= ?", next)
		case first:
			if f.Start > 0 {
				add("idx >= ?", f.Start)
			}
		default:
			if next < max(f.Start, 0) {
				return recs, nil
			}
			add("idx <= ?", next)
			if f.Start > 0 {
				add("idx >= ?", f.Start)
			}
		}
		first = false
		want := limit - len(recs)
		args = append(args, want)
		query := "SELECT idx, leaf FROM leaves"
		if len(where) > 0 {
			query += " WHERE " + strings.Join(where, " AND ")
		}
		query += " ORDER BY " + order + " LIMIT $" + strconv.Itoa(len(args))
		rows, _ := s.pool.Query(ctx, query, args...)
		var r audit.Record
		n := 0
		_, err := pgx.ForEachRow(rows, []any{&r.Index, &r.Leaf}, func() error {
			n++
			next = r.Index + 1
			if f.Descending {
				next = r.Index - 1
			}
			e, err := audit.Unmarshal(r.Leaf)
			if err != nil {
				return fmt.Errorf("leaf %d: %v", r.Index, err)
			}
			match, err := f.Recheck(r.Index, e, indexKey)
			if err != nil || !match {
				return err
			}
			recs = append(recs, audit.Record{Index: r.Index, Leaf: r.Leaf, Entry: e})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("postgres: query: %w", err)
		}
		if n < want || len(recs) >= limit {
			return recs, nil
		}
	}
}

// SaveCheckpoint stores a signed checkpoint, keeping an existing one of the
// same size.
func (s *Store) SaveCheckpoint(ctx context.Context, size int64, note []byte) error {
	if size < 0 || len(note) == 0 {
		return fmt.Errorf("postgres: save checkpoint: invalid size %d or empty note", size)
	}
	if _, err := s.pool.Exec(ctx, "INSERT INTO checkpoints (size, note, created_ns) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING",
		size, note, s.now().UnixNano()); err != nil {
		return fmt.Errorf("postgres: save checkpoint: %w", err)
	}
	return nil
}

// LatestCheckpoint returns the stored checkpoint with the largest size, or
// nil if there is none.
func (s *Store) LatestCheckpoint(ctx context.Context) (size int64, note []byte, err error) {
	err = s.pool.QueryRow(ctx, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").Scan(&size, &note)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("postgres: latest checkpoint: %w", err)
	}
	return size, note, nil
}

// Inbox returns up to limit unacknowledged, unexpired items for agency with
// a cursor greater than after, oldest first.
func (s *Store) Inbox(ctx context.Context, agency string, after int64, limit int) ([]audit.InboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, _ := s.pool.Query(ctx, `SELECT cursor, recipient, audit_idx, kind, payload, created_ns, expires_ns
		FROM inbox
		WHERE recipient = $1 AND cursor > $2 AND acked_ns IS NULL AND (expires_ns IS NULL OR expires_ns > $3)
		ORDER BY cursor LIMIT $4`, text(agency), after, s.now().UnixNano(), limit)
	var items []audit.InboxItem
	var it audit.InboxItem
	var created int64
	var expires pgtype.Int8
	_, err := pgx.ForEachRow(rows, []any{&it.Cursor, &it.Recipient, &it.AuditIndex, &it.Kind, &it.Payload, &created, &expires}, func() error {
		item := it
		item.Recipient, item.Kind = untext(it.Recipient), untext(it.Kind)
		item.Created = time.Unix(0, created).UTC()
		if expires.Valid {
			item.Expires = time.Unix(0, expires.Int64).UTC()
		}
		items = append(items, item)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: inbox: %w", err)
	}
	return items, nil
}

// Ack acknowledges agency's items up to and including cursor, and drops
// their payloads.
func (s *Store) Ack(ctx context.Context, agency string, cursor int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE inbox SET acked_ns = $1, payload = ''::bytea
		WHERE recipient = $2 AND cursor <= $3 AND acked_ns IS NULL`, s.now().UnixNano(), text(agency), cursor); err != nil {
		return fmt.Errorf("postgres: ack: %w", err)
	}
	return nil
}

// MarkSent raises the sent mark of each inbox to cursor, in one statement.
func (s *Store) MarkSent(ctx context.Context, cursor int64, inboxes ...string) error {
	if cursor < 1 {
		return fmt.Errorf("postgres: mark sent: cursor %d", cursor)
	}
	var boxes []string
	for _, in := range inboxes {
		boxes = append(boxes, text(in))
	}
	boxes = slices.Compact(slices.Sorted(slices.Values(boxes)))
	if len(boxes) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO inbox_sent (recipient, cursor, updated_ns)
		SELECT r, $2, $3 FROM unnest($1::text[]) AS r
		ON CONFLICT (recipient) DO UPDATE SET cursor = excluded.cursor, updated_ns = excluded.updated_ns
		WHERE excluded.cursor > inbox_sent.cursor`, boxes, cursor, s.now().UnixNano()); err != nil {
		return fmt.Errorf("postgres: mark sent: %w", err)
	}
	return nil
}

// Sent returns the inbox's sent mark, 0 if none.
func (s *Store) Sent(ctx context.Context, inbox string) (int64, error) {
	var c int64
	err := s.pool.QueryRow(ctx, "SELECT cursor FROM inbox_sent WHERE recipient = $1", text(inbox)).Scan(&c)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("postgres: sent: %w", err)
	}
	return c, nil
}
