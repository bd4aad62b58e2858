package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.StateStore = (*Store)(nil)

// AppendState appends one entry with its deliveries and its state change
// in one transaction under the append lock: the change's preconditions are
// checked after the lock is taken, so that every process on the database
// sees the changes one at a time. A commit whose outcome the connection
// lost is resolved as for Append.
func (s *Store) AppendState(ctx context.Context, p audit.Pending, c audit.Change) (int64, error) {
	batch := []audit.Pending{p}
	if err := checkBatch(batch); err != nil {
		return 0, err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return 0, fmt.Errorf("postgres: append state: begin: %v", err)
	}
	defer tx.Rollback(ctx)
	idx, remember, err := s.appendTx(ctx, tx, batch)
	if err != nil {
		return 0, fmt.Errorf("postgres: append state: %w", err)
	}
	if err := applyChange(ctx, tx, idx, p.Leaf, s.now(), c); err != nil {
		return 0, fmt.Errorf("postgres: append state: %w", err)
	}
	err = tx.Commit(ctx)
	if err == nil {
		remember()
		return idx, nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || errors.Is(err, pgx.ErrTxCommitRollback) || pgconn.SafeToRetry(err) {
		return 0, fmt.Errorf("postgres: append state: commit: %w", err)
	}
	committed, rerr := s.committed(ctx, idx, batch)
	switch {
	case rerr != nil:
		return 0, fmt.Errorf("postgres: append state: commit: %w; whether it took effect is unknown: %v", err, rerr)
	case committed:
		return idx, nil
	}
	return 0, fmt.Errorf("postgres: append state: commit: %w", err)
}

// applyChange writes c, recorded by the entry at idx with leaf, inside tx
// (which holds the append lock), at now.
func applyChange(ctx context.Context, tx pgx.Tx, idx int64, leaf []byte, now time.Time, c audit.Change) error {
	for _, h := range c.Holds {
		if err := checkHold(ctx, tx, h); err != nil {
			return err
		}
	}
	if cs := c.Case; cs != nil {
		var stored int64
		err := tx.QueryRow(ctx, "SELECT version FROM cases WHERE id = $1", text(cs.ID)).Scan(&stored)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			stored = 0
		case err != nil:
			return fmt.Errorf("read case: %w", err)
		}
		if cs.Version != stored+1 {
			return fmt.Errorf("%w: case %s is at version %d, the change writes version %d", audit.ErrConflict, cs.ID, stored, cs.Version)
		}
		if stored == 0 {
			var other string
			err := tx.QueryRow(ctx, "SELECT id FROM cases WHERE lower(id) = lower($1) AND id <> $1 LIMIT 1", text(cs.ID)).Scan(&other)
			switch {
			case err == nil:
				return fmt.Errorf("%w: case %s exists, whose id differs from %s only in letter case", audit.ErrConflict, other, cs.ID)
			case !errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("read case: %w", err)
			}
		}
		state, err := json.Marshal(cs)
		if err != nil {
			return err
		}
		var subject pgtype.Text
		if cs.Subject != "" {
			subject = pgtype.Text{String: text(cs.Subject), Valid: true}
		}
		source := cs.Source
		if source == "" {
			source = "api"
		}
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO cases (id, kind, jurisdiction, subject, lead, status, source, version, state, audit_idx)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, jurisdiction = excluded.jurisdiction, subject = excluded.subject,
				lead = excluded.lead, status = excluded.status, source = excluded.source, version = excluded.version,
				state = excluded.state, audit_idx = excluded.audit_idx`,
			text(cs.ID), text(cs.Kind), text(cs.Jurisdiction), subject, text(cs.Lead), text(cs.Status), text(source), cs.Version, state, idx)
		b.Queue("DELETE FROM case_agencies WHERE case_id = $1", text(cs.ID))
		var agencies, statuses []string
		seen := map[string]bool{}
		for _, m := range cs.Members {
			if seen[m.Agency] {
				continue
			}
			seen[m.Agency] = true
			agencies, statuses = append(agencies, text(m.Agency)), append(statuses, text(m.Status))
		}
		if len(agencies) > 0 {
			b.Queue("INSERT INTO case_agencies (case_id, agency, status) SELECT $1, * FROM unnest($2::text[], $3::text[])",
				text(cs.ID), agencies, statuses)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("write case: %w", err)
		}
	}
	for _, n := range c.Notices {
		tag, err := tx.Exec(ctx, `INSERT INTO notices
			(id, audit_idx, recipient, sender, event_type, rule, created_ns, escalate_ns, deadline_ns, peer)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10::text, '')) ON CONFLICT (id) DO NOTHING`,
			text(n.ID), idx, text(n.Recipient), text(n.Sender), text(n.EventType), text(n.Rule),
			nanos(n.Created), nanos(n.EscalateAt), nanos(n.Deadline), text(n.Peer))
		if err != nil {
			return fmt.Errorf("track notice: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("%w: notice %s is tracked already", audit.ErrConflict, n.ID)
		}
	}
	for _, m := range c.Marks {
		var q string
		args := []any{nanos(m.Time), idx, text(m.Notice)}
		switch m.Step {
		case audit.NoticeAcknowledged:
			q = "UPDATE notices SET acked_ns = $1, ack_idx = $2 WHERE id = $3 AND acked_ns IS NULL AND withdrawn_ns IS NULL"
		case audit.NoticeEscalated:
			q = "UPDATE notices SET escalated_ns = $1, escalation_idx = $2 WHERE id = $3 AND acked_ns IS NULL AND withdrawn_ns IS NULL AND escalated_ns IS NULL"
		case audit.NoticeOverdue:
			q = "UPDATE notices SET overdue_ns = $1, overdue_idx = $2 WHERE id = $3 AND acked_ns IS NULL AND withdrawn_ns IS NULL AND overdue_ns IS NULL"
		case audit.NoticeForwardDue:
			q, args = "UPDATE notices SET fwd_due = TRUE WHERE id = $1 AND ack_idx = $2 AND NOT fwd_due", []any{text(m.Notice), idx}
		case audit.NoticeForwarded:
			q = "UPDATE notices SET forwarded_ns = $1, forwarded_idx = $2 WHERE id = $3 AND fwd_due AND forwarded_ns IS NULL"
		case audit.NoticeWithdrawn:
			q = "UPDATE notices SET withdrawn_ns = $1, withdrawn_idx = $2 WHERE id = $3 AND acked_ns IS NULL AND withdrawn_ns IS NULL"
		default:
			return fmt.Errorf("unknown notice step %q", m.Step)
		}
		tag, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("mark notice %s: %w", m.Step, err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("%w: notice %s cannot be marked %s", audit.ErrConflict, m.Notice, m.Step)
		}
	}
	for _, w := range c.Withdrawals {
		if len(w.Releases) == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE notices SET withdrawn_ns = $1, withdrawn_idx = $2
			WHERE recipient = $3 AND acked_ns IS NULL AND withdrawn_ns IS NULL AND audit_idx = ANY($4)`,
			nanos(w.Time), idx, text(w.Recipient), w.Releases); err != nil {
			return fmt.Errorf("withdraw notices: %w", err)
		}
	}
	if len(c.Claims) > 0 {
		binding := sha256.Sum256(leaf)
		for _, cl := range c.Claims {
			// Remember's rule: taken unless the id is there and live. A
			// concurrent claim of the id holds it until it commits; the
			// insert then finds it taken.
			tag, err := tx.Exec(ctx, `INSERT INTO token_ids (id, binding, expires_ns) VALUES ($1, $2, $3)
				ON CONFLICT (id) DO UPDATE SET binding = excluded.binding, expires_ns = excluded.expires_ns
				WHERE token_ids.expires_ns <= $4`, cl.ID[:], binding[:], nanos(cl.Expires), nanos(now))
			if err != nil {
				return fmt.Errorf("claim: %w", err)
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("%w: the id %x is claimed already", audit.ErrConflict, cl.ID[:4])
			}
		}
	}
	if h := c.Open; h != nil {
		if err := checkOpen(ctx, tx, idx, *h); err != nil {
			return err
		}
	}
	if h := c.Provenance; h != nil {
		recs, err := leavesBetween(ctx, tx, h.From, idx, h.Actions())
		if err != nil {
			return fmt.Errorf("provenance: %w", err)
		}
		if err := audit.CheckProvenance(recs, *h); err != nil {
			return err
		}
	}
	if h := c.PassedOn; h != nil {
		if err := checkPassedOn(ctx, tx, idx, *h); err != nil {
			return err
		}
	}
	for _, a := range c.NoticeAcks {
		if !c.AckSuperseded {
			if err := checkUnsuperseded(ctx, tx, idx, a.Notice); err != nil {
				return err
			}
		}
		// As ApplyAftercare records it. A concurrent acknowledgement (or
		// projection) of the notice holds the row until it commits; the
		// update then reads the row again and finds it acknowledged (or
		// superseded).
		due := 0
		if a.Deferred {
			due = 1
		}
		q := "UPDATE aftercare_notices SET ack_idx = $1, ack_ns = $2, done = $3, fwd_due = $4 WHERE idx = $5 AND ack_idx IS NULL"
		if !c.AckSuperseded {
			q += " AND sup_idx IS NULL"
		}
		tag, err := tx.Exec(ctx, q, idx, nanos(a.Time), text(a.Done), due, a.Notice)
		if err != nil {
			return fmt.Errorf("acknowledge notice %d: %w", a.Notice, err)
		}
		if tag.RowsAffected() != 1 {
			var sup *int64
			if err := tx.QueryRow(ctx, "SELECT sup_idx FROM aftercare_notices WHERE idx = $1 AND ack_idx IS NULL", a.Notice).Scan(&sup); err == nil && sup != nil {
				return &audit.NoticeSupersededError{Notice: a.Notice, By: *sup}
			}
			return fmt.Errorf("%w: notice %d is not tracked, or is acknowledged already", audit.ErrConflict, a.Notice)
		}
	}
	return nil
}

// checkUnsuperseded checks, after the append lock, that no entry the
// aftercare projection had not read when this statement began, before
// the acknowledgement's entry at idx, supersedes notice: the projection
// says whether one it read did (sup_idx, which the acknowledgement's
// update, a later statement, checks), the log says the rest (every entry
// before idx was committed before the lock was taken). A notice not
// projected, or acknowledged already, is left to that update.
func checkUnsuperseded(ctx context.Context, tx pgx.Tx, idx, notice int64) error {
	var from int64
	var recipient string
	err := tx.QueryRow(ctx, `SELECT w.next_idx, n.recipient FROM aftercare_watermark w, aftercare_notices n
		WHERE w.id = 1 AND n.idx = $1 AND n.ack_idx IS NULL`, notice).Scan(&from, &recipient)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("acknowledge notice %d: %w", notice, err)
	}
	recs, err := leavesBetween(ctx, tx, max(from, notice+1), idx, audit.NoticeActions)
	if err != nil {
		return fmt.Errorf("acknowledge notice %d: %w", notice, err)
	}
	if by := audit.SupersedingNotice(recs, notice, untext(recipient)); by >= 0 {
		return &audit.NoticeSupersededError{Notice: notice, By: by}
	}
	return nil
}

// leavesBetween reads the log's entries of the actions from index from
// before index to, in order, in the transaction tx.
func leavesBetween(ctx context.Context, tx pgx.Tx, from, to int64, actions []string) ([]audit.Record, error) {
	rows, _ := tx.Query(ctx, `SELECT idx, leaf FROM leaves WHERE idx >= $1 AND idx < $2 AND ix->>'action' = ANY($3) ORDER BY idx`,
		from, to, actions)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Record, error) {
		var rec audit.Record
		err := r.Scan(&rec.Index, &rec.Leaf)
		return rec, err
	})
}

// checkOpen checks h after the append lock: the log's notices from
// h.From before the notice's entry at idx (every one of them was
// committed before the lock was taken).
func checkOpen(ctx context.Context, tx pgx.Tx, idx int64, h audit.OpenHold) error {
	recs, err := leavesBetween(ctx, tx, h.From, idx, h.Actions())
	if err != nil {
		return fmt.Errorf("open releases: %w", err)
	}
	return audit.CheckOpen(recs, h)
}

// checkPassedOn checks h after the append lock: the log's entries from
// h.From before the acknowledgement's entry at idx (every one of them was
// committed before the lock was taken).
func checkPassedOn(ctx context.Context, tx pgx.Tx, idx int64, h audit.PassedOnHold) error {
	recs, err := leavesBetween(ctx, tx, h.From, idx, audit.ReleaseActions)
	if err != nil {
		return fmt.Errorf("passed on: %w", err)
	}
	if out := audit.PassedOnIn(recs, h); len(out) > 0 {
		return &audit.PassedOnError{Releases: out}
	}
	return nil
}

// Case returns the latest version of a case, or nil.
func (s *Store) Case(ctx context.Context, id string) (*audit.CaseState, error) {
	cs, err := s.cases(ctx, "id = $1", []any{text(id)}, 1)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return cs[0], nil
}

// Cases returns the cases matching f, by id in byte order (collation
// "C", whatever the database's default: as SQLite orders them).
func (s *Store) Cases(ctx context.Context, f audit.CaseFilter) ([]*audit.CaseState, error) {
	where := []string{"TRUE"}
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Agency != "" {
		add("id IN (SELECT case_id FROM case_agencies WHERE agency = ?)", text(f.Agency))
	}
	for _, c := range []struct{ col, val string }{{"subject", f.Subject}, {"status", f.Status}, {"source", f.Source}} {
		if c.val != "" {
			add(c.col+" = ?", text(c.val))
		}
	}
	if f.SameID != "" {
		add("lower(id) = lower(?)", text(f.SameID))
	}
	if f.After != "" {
		add(`id COLLATE "C" > ?`, text(f.After))
	}
	return s.cases(ctx, strings.Join(where, " AND "), args, f.Limit)
}

func (s *Store) cases(ctx context.Context, where string, args []any, limit int) ([]*audit.CaseState, error) {
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	rows, _ := s.pool.Query(ctx, "SELECT state, audit_idx FROM cases WHERE "+where+` ORDER BY id COLLATE "C" LIMIT $`+strconv.Itoa(len(args)), args...)
	var out []*audit.CaseState
	var state []byte
	var idx int64
	_, err := pgx.ForEachRow(rows, []any{&state, &idx}, func() error {
		var c audit.CaseState
		if err := json.Unmarshal(state, &c); err != nil {
			return fmt.Errorf("decode: %v", err)
		}
		c.AuditIndex = idx
		out = append(out, &c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: cases: %w", err)
	}
	return out, nil
}

// Notices returns the tracked notices matching f, oldest first.
func (s *Store) Notices(ctx context.Context, f audit.NoticeFilter) ([]audit.Notice, error) {
	where := []string{"TRUE"}
	var args []any
	add := func(cond string, a ...any) {
		for _, x := range a {
			args = append(args, x)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	if f.ID != "" {
		add("id = ?", text(f.ID))
	}
	if f.Recipient != "" {
		add("recipient = ?", text(f.Recipient))
	}
	if f.Sender != "" {
		add("sender = ?", text(f.Sender))
	}
	if f.Unacknowledged {
		add("acked_ns IS NULL AND withdrawn_ns IS NULL")
	}
	if !f.EscalateBy.IsZero() {
		add("acked_ns IS NULL AND withdrawn_ns IS NULL AND escalated_ns IS NULL AND escalate_ns <= ?", nanos(f.EscalateBy))
	}
	if !f.OverdueBy.IsZero() {
		add("acked_ns IS NULL AND withdrawn_ns IS NULL AND overdue_ns IS NULL AND deadline_ns <= ?", nanos(f.OverdueBy))
	}
	if !f.LateAt.IsZero() {
		add("deadline_ns < ? AND (COALESCE(acked_ns, withdrawn_ns) IS NULL OR COALESCE(acked_ns, withdrawn_ns) > deadline_ns)", nanos(f.LateAt))
	}
	if f.ForwardDue {
		add("fwd_due AND forwarded_ns IS NULL")
	}
	if f.InboxCursor > 0 {
		add("audit_idx IN (SELECT audit_idx FROM inbox WHERE recipient = notices.recipient AND cursor <= ?)", f.InboxCursor)
	}
	if f.Start > 0 {
		add("audit_idx >= ?", f.Start)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	rows, _ := s.pool.Query(ctx, `SELECT id, audit_idx, recipient, sender, event_type, rule, created_ns, escalate_ns, deadline_ns,
		acked_ns, ack_idx, escalated_ns, escalation_idx, overdue_ns, overdue_idx, fwd_due, forwarded_ns, forwarded_idx, withdrawn_ns, withdrawn_idx,
		coalesce(peer, '')
		FROM notices WHERE `+strings.Join(where, " AND ")+" ORDER BY audit_idx, id LIMIT $"+strconv.Itoa(len(args)), args...)
	var out []audit.Notice
	var n audit.Notice
	var created, escalate, deadline int64
	var acked, ackIdx, escalated, escIdx, overdue, overIdx, fwd, fwdIdx, wdn, wdnIdx pgtype.Int8
	_, err := pgx.ForEachRow(rows, []any{&n.ID, &n.AuditIndex, &n.Recipient, &n.Sender, &n.EventType, &n.Rule, &created, &escalate, &deadline,
		&acked, &ackIdx, &escalated, &escIdx, &overdue, &overIdx, &n.ForwardDue, &fwd, &fwdIdx, &wdn, &wdnIdx, &n.Peer}, func() error {
		m := n
		m.ID, m.Recipient, m.Sender, m.EventType, m.Rule = untext(n.ID), untext(n.Recipient), untext(n.Sender), untext(n.EventType), untext(n.Rule)
		m.Peer = untext(n.Peer)
		m.Created, m.EscalateAt, m.Deadline = unixTime(created), unixTime(escalate), unixTime(deadline)
		m.Acknowledged, m.AckIndex = nullTime(acked), nullIndex(ackIdx)
		m.Escalated, m.EscalationIndex = nullTime(escalated), nullIndex(escIdx)
		m.Overdue, m.OverdueIndex = nullTime(overdue), nullIndex(overIdx)
		m.Forwarded, m.ForwardIndex = nullTime(fwd), nullIndex(fwdIdx)
		m.Withdrawn, m.WithdrawalIndex = nullTime(wdn), nullIndex(wdnIdx)
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notices: %w", err)
	}
	return out, nil
}

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func nullTime(v pgtype.Int8) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return unixTime(v.Int64)
}

func nullIndex(v pgtype.Int8) int64 {
	if !v.Valid {
		return -1
	}
	return v.Int64
}

// Lease takes or renews the named lease for holder until the given time,
// if it is free, expired at now, or holder's already. Two processes racing
// for a free lease both insert; the second waits for the first on the
// primary key and then finds it taken.
func (s *Store) Lease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	if name == "" || holder == "" {
		return false, errors.New("postgres: lease: empty name or holder")
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO leases (name, holder, expires_ns) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ns = excluded.expires_ns
		WHERE leases.holder = excluded.holder OR leases.expires_ns <= $4`,
		text(name), text(holder), nanos(until), nanos(now))
	if err != nil {
		return false, fmt.Errorf("postgres: lease: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// checkHold checks h under the append lock: the case as the last committed
// change left it (read committed, after the lock was taken).
func checkHold(ctx context.Context, tx pgx.Tx, h audit.CaseHold) error {
	var status, lead string
	err := tx.QueryRow(ctx, "SELECT status, lead FROM cases WHERE id = $1", text(h.ID)).Scan(&status, &lead)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil // not the store's: a case of the registry file
	case err != nil:
		return fmt.Errorf("read case: %w", err)
	}
	ms := map[string]string{}
	if len(h.Members) > 0 {
		agencies := make([]string, len(h.Members))
		for i, m := range h.Members {
			agencies[i] = text(m)
		}
		rows, err := tx.Query(ctx, "SELECT agency, status FROM case_agencies WHERE case_id = $1 AND agency = ANY($2::text[])", text(h.ID), agencies)
		if err != nil {
			return fmt.Errorf("read case: %w", err)
		}
		for rows.Next() {
			var a, st string
			if err := rows.Scan(&a, &st); err != nil {
				rows.Close()
				return fmt.Errorf("read case: %w", err)
			}
			ms[untext(a)] = untext(st)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read case: %w", err)
		}
	}
	return audit.CheckHold(h, untext(status), untext(lead), ms)
}
