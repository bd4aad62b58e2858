// Package sqlite is an [audit.Store] on SQLite, through the pure-Go
// modernc.org/sqlite driver: the embedded default of the disclosure log.
//
// The database runs in WAL mode with synchronous=FULL, so that a committed
// append survives a power loss and reads never wait for a write. Appends
// run in BEGIN IMMEDIATE transactions on a single writer connection and
// read the log's size inside the transaction, so that several processes
// sharing one file still append in turn; reads use a separate pool. The
// WAL is copied into the database file by a checkpointer on a connection
// of its own, beside the appends rather than inside them (walcheckpoint.go).
// The schema comes from the embedded migrations, applied in lexical order.
//
// The query index is derived from the leaves by the database: virtual
// generated columns that read the leaf's JSON, with indexes on them, and
// a table of the agencies each entry involves, filled by a trigger from
// the leaf and guarded by triggers against changes. Query compares the
// schema with one it builds in memory from the migrations, and checks
// every record it returns against its leaf; CheckIndex also recomputes
// every value and runs PRAGMA integrity_check.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/liaison-gateway/liaison/gateway/audit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a connection waits for another's write lock,
// in milliseconds.
const busyTimeout = 10000

// Store is an [audit.Store] in one SQLite database file.
type Store struct {
	w  *sql.DB    // the writer: one connection, BEGIN IMMEDIATE
	r  *sql.DB    // readers
	rc *stmtCache // the readers' queries, prepared once

	// The appends' inserts, prepared on w once (bulk.go), and the query
	// of the log's size and stored hashes' count that starts each.
	insLeaves, insHashes, insInbox, insFingerprints *bulkInsert
	selSizes                                        *sql.Stmt

	// ck copies the WAL into the database file beside the appends; an
	// Append holds ckMu for its transaction (walcheckpoint.go).
	ck   *checkpointer
	ckMu sync.Mutex

	// edge holds the tree's right edge as this Store last appended it, so
	// that an append need not read it back, and the stored hashes it
	// committed last, for ReadHashes; hashReads counts the appends that
	// read hashes back (another process appended meanwhile, or the first),
	// hashQueries the calls of ReadHashes that queried the database.
	edge                   audit.EdgeCache
	hashReads, hashQueries atomic.Int64

	// schema is the schema of the log's tables as the migrations create
	// it, from a database built in memory at Open (see checkSchema).
	schema map[string]schemaObject

	// Now returns the current time: the creation and acknowledgement time
	// of inbox items, and the instant against which they expire. If nil,
	// time.Now. Set it before using the Store.
	Now func() time.Time

	// Logger, if set, is told when the WAL checkpoint starts failing (the
	// WAL then grows until one succeeds) and when it succeeds again. Set
	// it before using the Store.
	Logger *slog.Logger
}

var _ audit.Store = (*Store)(nil)

// Open opens the SQLite database at path, creating it if needed, checks
// that it runs with the durability the log needs and applies the pending
// migrations. The caller closes the Store.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open: want a file path, got %q", path)
	}
	uri := "file:" + (&url.URL{Path: path}).EscapedPath()
	pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout)
	// wal_autocheckpoint(0): the checkpointer, not the writer, copies the
	// WAL into the database file (walcheckpoint.go).
	w, err := sql.Open("sqlite", uri+"?"+pragmas+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %v", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	if err := s.checkPragmas(ctx, w, map[string]string{
		"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": fmt.Sprint(busyTimeout),
		"temp_store":         "2", // statement journals (the index trigger needs them) in memory, not in temporary files
		"wal_autocheckpoint": "0",
	}); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if s.schema, err = referenceSchema(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.prepareAppends(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.ck, err = openCheckpointer(ctx, uri, &s.ckMu); err != nil {
		s.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", uri+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %v", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.r, s.rc = r, newStmtCache(r)
	if err := s.checkPragmas(ctx, r, map[string]string{
		"journal_mode": "wal", "query_only": "1", "busy_timeout": fmt.Sprint(busyTimeout),
	}); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkPragmas reads back the pragmas that the DSN set.
func (s *Store) checkPragmas(ctx context.Context, db *sql.DB, want map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(want)) {
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
			return fmt.Errorf("sqlite: open: read pragma %s: %v", name, err)
		}
		if !strings.EqualFold(got, want[name]) {
			return fmt.Errorf("sqlite: open: pragma %s = %s, want %s", name, got, want[name])
		}
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, in lexical order, each in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT PRIMARY KEY,
		applied_ns INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrate: %v", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %v", err)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := s.migrateOne(ctx, name); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %v", path.Base(name), err)
		}
	}
	return nil
}

func (s *Store) migrateOne(ctx context.Context, name string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE name = ?", path.Base(name)).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil // applied, possibly by another process meanwhile
	}
	text, err := fs.ReadFile(migrations, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(text)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (name, applied_ns) VALUES (?, ?)", path.Base(name), s.now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

// prepareAppends prepares the appends' inserts on the writer, once the
// migrations have made the tables.
func (s *Store) prepareAppends(ctx context.Context) (err error) {
	if s.insLeaves, err = prepareBulk(ctx, s.w, "INTO leaves", "idx", "leaf"); err != nil {
		return err
	}
	if s.insHashes, err = prepareBulk(ctx, s.w, "INTO hashes", "idx", "hash"); err != nil {
		return err
	}
	if s.insInbox, err = prepareBulk(ctx, s.w, "INTO inbox", "recipient", "audit_idx", "kind", "payload", "created_ns", "expires_ns"); err != nil {
		return err
	}
	if s.selSizes, err = s.w.PrepareContext(ctx, `SELECT (SELECT COALESCE(MAX(idx)+1, 0) FROM leaves),
		(SELECT COALESCE(MAX(idx)+1, 0) FROM hashes)`); err != nil {
		return fmt.Errorf("sqlite: prepare the size query: %v", err)
	}
	// A fingerprint already stored (the same content twice in one
	// release) is one.
	s.insFingerprints, err = prepareBulk(ctx, s.w, "OR IGNORE INTO aftercare_fingerprints", "recipient", "subject_tag", "fp", "request_id", "after_idx", "audit_idx")
	return err
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Close closes the database. Calling it more than once is safe.
func (s *Store) Close() error {
	var errs []error
	if s.ck != nil {
		errs = append(errs, s.ck.close())
	}
	if s.r != nil {
		errs = append(errs, s.rc.close(), s.r.Close())
	}
	for _, b := range []*bulkInsert{s.insLeaves, s.insHashes, s.insInbox, s.insFingerprints} {
		errs = append(errs, b.close())
	}
	if s.selSizes != nil {
		errs = append(errs, s.selSizes.Close())
		s.selSizes = nil
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %v", err)
	}
	return nil
}

// Append appends batch in one BEGIN IMMEDIATE transaction at the size
// read inside it, with the batch's stored hashes and deliveries.
func (s *Store) Append(ctx context.Context, batch []audit.Pending) (first int64, err error) {
	if err := checkBatch(batch); err != nil {
		return 0, err
	}
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: append: begin: %v", err)
	}
	defer tx.Rollback()
	size, committed, err := s.appendTx(ctx, tx, batch)
	if err != nil {
		return 0, fmt.Errorf("sqlite: append: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: append: commit: %w", err)
	}
	committed()
	s.ck.committed(s.Logger)
	return size, nil
}

func checkBatch(batch []audit.Pending) error {
	if len(batch) == 0 {
		return errors.New("sqlite: append: empty batch")
	}
	for i, p := range batch {
		if len(p.Leaf) == 0 || p.Entry == nil {
			return fmt.Errorf("sqlite: append: batch item %d has no leaf or no entry", i)
		}
		if y := p.Entry.Time.Year(); y < 1700 || y > 2200 {
			return fmt.Errorf("sqlite: append: batch item %d: time out of range", i)
		}
	}
	return nil
}

// appendTx inserts batch inside tx. The caller calls committed once tx
// has committed, and never otherwise.
func (s *Store) appendTx(ctx context.Context, tx *sql.Tx, batch []audit.Pending) (size int64, committed func(), err error) {
	var nhashes int64
	if err := tx.StmtContext(ctx, s.selSizes).QueryRowContext(ctx).Scan(&size, &nhashes); err != nil {
		return 0, nil, fmt.Errorf("read size and hash count: %v", err)
	}
	if want := tlog.StoredHashCount(size); nhashes != want {
		return 0, nil, fmt.Errorf("database inconsistent: %d leaves need %d stored hashes, found %d", size, want, nhashes)
	}
	hashes, committed, err := s.edge.StoredHashes(ctx, size, audit.RecordHashes(batch), func(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
		s.hashReads.Add(1)
		return readHashes(ctx, tx, indexes)
	})
	if err != nil {
		return 0, nil, err
	}

	// The index columns and leaf_agencies are derived from the leaf by
	// the database (migrations/0003_index_from_leaf.sql and
	// 0260_agencies_indexed.sql).
	now := s.now().UnixNano()
	rows := make([]any, 0, 2*len(batch))
	var deliveries, prints []any
	for i, p := range batch {
		idx := size + int64(i)
		rows = append(rows, idx, p.Leaf)
		for _, f := range p.Fingerprints {
			prints = append(prints, f.Recipient, audit.SubjectTag(f.Subject), f.FP[:], f.RequestID, idx, idx)
		}
		for _, d := range p.Deliveries {
			var expires any
			if !d.Expires.IsZero() {
				expires = d.Expires.UnixNano()
			}
			payload := d.Payload
			if payload == nil {
				payload = []byte{}
			}
			deliveries = append(deliveries, d.Recipient, idx, d.Kind, payload, now, expires)
		}
	}
	if err := s.insLeaves.exec(ctx, tx, rows); err != nil {
		return 0, nil, fmt.Errorf("insert leaves %d to %d: %w", size, size+int64(len(batch))-1, err)
	}
	if err := s.insInbox.exec(ctx, tx, deliveries); err != nil {
		return 0, nil, fmt.Errorf("insert deliveries of leaves %d to %d: %w", size, size+int64(len(batch))-1, err)
	}
	if err := s.insFingerprints.exec(ctx, tx, prints); err != nil {
		return 0, nil, fmt.Errorf("insert fingerprints of leaves %d to %d: %w", size, size+int64(len(batch))-1, err)
	}
	base := tlog.StoredHashIndex(0, size)
	rows = rows[:0]
	for i, h := range hashes {
		rows = append(rows, base+int64(i), h[:])
	}
	if err := s.insHashes.exec(ctx, tx, rows); err != nil {
		return 0, nil, fmt.Errorf("insert hashes %d to %d: %w", base, base+int64(len(hashes))-1, err)
	}
	return size, committed, nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readHashes reads stored hashes in chunks that fit SQLite's parameter limit.
func readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	found := make(map[int64]tlog.Hash, len(indexes))
	for chunk := range slices.Chunk(indexes, 500) {
		args := make([]any, len(chunk))
		for i, x := range chunk {
			args[i] = x
		}
		rows, err := q.QueryContext(ctx, "SELECT idx, hash FROM hashes WHERE idx IN (?"+strings.Repeat(", ?", len(chunk)-1)+")", args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read hashes: %w", err)
		}
		for rows.Next() {
			var idx int64
			var b []byte
			if err := rows.Scan(&idx, &b); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: read hashes: %w", err)
			}
			if len(b) != tlog.HashSize {
				rows.Close()
				return nil, fmt.Errorf("sqlite: read hashes: hash %d has %d bytes", idx, len(b))
			}
			found[idx] = tlog.Hash(b)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("sqlite: read hashes: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: read hashes: %w", err)
		}
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("sqlite: read hashes: hash %d not stored", x)
		}
		out[i] = h
	}
	return out, nil
}

// Size returns the number of leaves.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rc.QueryRowContext(ctx, "SELECT COALESCE(MAX(idx)+1, 0) FROM leaves").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: size: %w", err)
	}
	return n, nil
}

// ReadHashes returns the stored hashes at the given storage indexes.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return s.edge.ReadHashes(ctx, indexes, func(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
		s.hashQueries.Add(1)
		return readHashes(ctx, s.rc, indexes)
	})
}

// ReadLeaves returns the leaves with indexes in [start, end).
func (s *Store) ReadLeaves(ctx context.Context, start, end int64) ([][]byte, error) {
	if start < 0 || end < start {
		return nil, fmt.Errorf("sqlite: read leaves: invalid range [%d, %d)", start, end)
	}
	rows, err := s.rc.QueryContext(ctx, "SELECT idx, leaf FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx", start, end)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read leaves: %w", err)
	}
	defer rows.Close()
	leaves := make([][]byte, 0, min(end-start, 1<<16))
	for rows.Next() {
		var idx int64
		var leaf []byte
		if err := rows.Scan(&idx, &leaf); err != nil {
			return nil, fmt.Errorf("sqlite: read leaves: %w", err)
		}
		if idx != start+int64(len(leaves)) {
			return nil, fmt.Errorf("sqlite: read leaves: leaf %d missing", start+int64(len(leaves)))
		}
		leaves = append(leaves, leaf)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read leaves: %w", err)
	}
	if int64(len(leaves)) != end-start {
		return nil, fmt.Errorf("sqlite: read leaves: [%d, %d) extends past the end of the log (size %d)", start, end, start+int64(len(leaves)))
	}
	return leaves, nil
}

// Stat returns the size and the numbers of leaves and stored hashes, in
// one snapshot.
func (s *Store) Stat(ctx context.Context) (audit.Stat, error) {
	var st audit.Stat
	if err := s.rc.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(idx)+1, 0) FROM leaves),
		(SELECT count(*) FROM leaves), (SELECT count(*) FROM hashes)`).Scan(&st.Size, &st.Leaves, &st.Hashes); err != nil {
		return audit.Stat{}, fmt.Errorf("sqlite: stat: %w", err)
	}
	return st, nil
}

// Query returns the records matching f in index order. It selects them
// by the columns the database derives from the leaves, checks each one
// against its leaf, and fails with audit.ErrTampered if one does not
// match or if the schema no longer derives the columns.
func (s *Store) Query(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	if err := s.checkSchema(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: query: %w", err)
	}
	f = f.Normalize()
	var where []string
	var args []any
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	add("idx >= ?", max(f.Start, 0))
	if !f.From.IsZero() {
		add("time_ns >= ?", nanos(f.From))
	}
	if !f.To.IsZero() {
		add("time_ns < ?", nanos(f.To))
	}
	if f.Agency != "" {
		add(agencyMatch, f.Agency, f.Agency, f.Agency, f.Agency)
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
			add(c.col+" = ?", c.val)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	// Each index of a column ends with idx (the rowid), so that the
	// latest match (Descending, Limit 1) is one seek in it.
	order := "idx"
	if f.Descending {
		order = "idx DESC"
	}
	rows, err := s.rc.QueryContext(ctx, "SELECT idx, leaf FROM leaves WHERE "+strings.Join(where, " AND ")+" ORDER BY "+order+" LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query: %w", err)
	}
	defer rows.Close()
	var recs []audit.Record
	for rows.Next() {
		var r audit.Record
		if err := rows.Scan(&r.Index, &r.Leaf); err != nil {
			return nil, fmt.Errorf("sqlite: query: %w", err)
		}
		if r.Entry, err = audit.Unmarshal(r.Leaf); err != nil {
			return nil, fmt.Errorf("sqlite: query: leaf %d: %v", r.Index, err)
		}
		// SQLite holds every string as it is: a record selected is a match
		// or the index was tampered with.
		if _, err := f.Recheck(r.Index, r.Entry, nil); err != nil {
			return nil, fmt.Errorf("sqlite: query: %w", err)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query: %w", err)
	}
	return recs, nil
}

// agencyMatch selects the entries that involve an agency, given four
// times: by its three indexed columns and, for the recipients after the
// first, by leaf_agencies (migrations/0260_agencies_indexed.sql).
const agencyMatch = `idx IN (SELECT idx FROM leaves WHERE requester_agency = ?
	UNION ALL SELECT idx FROM leaves WHERE holder_agency = ?
	UNION ALL SELECT idx FROM leaves WHERE recipient_agency = ?
	UNION ALL SELECT idx FROM leaf_agencies WHERE agency = ?)`

// nanos returns t in Unix nanoseconds, saturated: a time before 1678 or
// after 2262, which an int64 cannot hold (time.Time.UnixNano would wrap),
// stays before or after every entry, so that a filter bound there selects
// what it says.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// SaveCheckpoint stores a signed checkpoint, keeping an existing one of the
// same size.
func (s *Store) SaveCheckpoint(ctx context.Context, size int64, note []byte) error {
	if size < 0 || len(note) == 0 {
		return fmt.Errorf("sqlite: save checkpoint: invalid size %d or empty note", size)
	}
	if _, err := s.w.ExecContext(ctx, "INSERT INTO checkpoints (size, note, created_ns) VALUES (?, ?, ?) ON CONFLICT (size) DO NOTHING",
		size, note, s.now().UnixNano()); err != nil {
		return fmt.Errorf("sqlite: save checkpoint: %w", err)
	}
	return nil
}

// LatestCheckpoint returns the stored checkpoint with the largest size, or
// nil if there is none.
func (s *Store) LatestCheckpoint(ctx context.Context) (size int64, note []byte, err error) {
	err = s.rc.QueryRowContext(ctx, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").Scan(&size, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: latest checkpoint: %w", err)
	}
	return size, note, nil
}

// Inbox returns up to limit unacknowledged, unexpired items for agency with
// a cursor greater than after, oldest first.
func (s *Store) Inbox(ctx context.Context, agency string, after int64, limit int) ([]audit.InboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rc.QueryContext(ctx, `SELECT cursor, recipient, audit_idx, kind, payload, created_ns, expires_ns
		FROM inbox
		WHERE recipient = ? AND cursor > ? AND acked_ns IS NULL AND (expires_ns IS NULL OR expires_ns > ?)
		ORDER BY cursor LIMIT ?`, agency, after, s.now().UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: inbox: %w", err)
	}
	defer rows.Close()
	var items []audit.InboxItem
	for rows.Next() {
		var it audit.InboxItem
		var created int64
		var expires sql.NullInt64
		if err := rows.Scan(&it.Cursor, &it.Recipient, &it.AuditIndex, &it.Kind, &it.Payload, &created, &expires); err != nil {
			return nil, fmt.Errorf("sqlite: inbox: %w", err)
		}
		it.Created = time.Unix(0, created).UTC()
		if expires.Valid {
			it.Expires = time.Unix(0, expires.Int64).UTC()
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: inbox: %w", err)
	}
	return items, nil
}

// Ack acknowledges agency's items up to and including cursor, and drops
// their payloads.
func (s *Store) Ack(ctx context.Context, agency string, cursor int64) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE inbox SET acked_ns = ?, payload = X''
		WHERE recipient = ? AND cursor <= ? AND acked_ns IS NULL`, s.now().UnixNano(), agency, cursor); err != nil {
		return fmt.Errorf("sqlite: ack: %w", err)
	}
	return nil
}

// MarkSent raises the sent mark of each inbox to cursor, in one statement.
func (s *Store) MarkSent(ctx context.Context, cursor int64, inboxes ...string) error {
	if cursor < 1 {
		return fmt.Errorf("sqlite: mark sent: cursor %d", cursor)
	}
	inboxes = slices.Compact(slices.Sorted(slices.Values(inboxes)))
	if len(inboxes) == 0 {
		return nil
	}
	now := s.now().UnixNano()
	var args []any
	for _, in := range inboxes {
		args = append(args, in, cursor, now)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO inbox_sent (recipient, cursor, updated_ns)
		VALUES (?, ?, ?)`+strings.Repeat(", (?, ?, ?)", len(inboxes)-1)+`
		ON CONFLICT (recipient) DO UPDATE SET cursor = excluded.cursor, updated_ns = excluded.updated_ns
		WHERE excluded.cursor > inbox_sent.cursor`, args...); err != nil {
		return fmt.Errorf("sqlite: mark sent: %w", err)
	}
	return nil
}

// Sent returns the inbox's sent mark, 0 if none.
func (s *Store) Sent(ctx context.Context, inbox string) (int64, error) {
	var c int64
	err := s.r.QueryRowContext(ctx, "SELECT cursor FROM inbox_sent WHERE recipient = ?", inbox).Scan(&c)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("sqlite: sent: %w", err)
	}
	return c, nil
}
