package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.StateStore = (*Store)(nil)

// AppendState appends one entry with its deliveries and its state change
// in one BEGIN IMMEDIATE transaction: the change's preconditions are
// checked under the write lock, after the entry is placed.
func (s *Store) AppendState(ctx context.Context, p audit.Pending, c audit.Change) (int64, error) {
	if err := checkBatch([]audit.Pending{p}); err != nil {
		return 0, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: append state: begin: %v", err)
	}
	defer tx.Rollback()
	idx, committed, err := s.appendTx(ctx, tx, []audit.Pending{p})
	if err != nil {
		return 0, fmt.Errorf("sqlite: append state: %w", err)
	}
	if err := applyChange(ctx, tx, idx, p.Leaf, s.now(), c); err != nil {
		return 0, fmt.Errorf("sqlite: append state: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: append state: commit: %w", err)
	}
	committed()
	return idx, nil
}

// applyChange writes c, recorded by the entry at idx with leaf, inside
// tx, at now.
func applyChange(ctx context.Context, tx *sql.Tx, idx int64, leaf []byte, now time.Time, c audit.Change) error {
	for _, h := range c.Holds {
		if err := checkHold(ctx, tx, h); err != nil {
			return err
		}
	}
	if cs := c.Case; cs != nil {
		var stored int64
		err := tx.QueryRowContext(ctx, "SELECT version FROM cases WHERE id = ?", cs.ID).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			stored = 0
		case err != nil:
			return fmt.Errorf("read case %s: %w", cs.ID, err)
		}
		if cs.Version != stored+1 {
			return fmt.Errorf("%w: case %s is at version %d, the change writes version %d", audit.ErrConflict, cs.ID, stored, cs.Version)
		}
		if stored == 0 {
			var other string
			err := tx.QueryRowContext(ctx, "SELECT id FROM cases WHERE lower(id) = lower(?) AND id <> ? LIMIT 1", cs.ID, cs.ID).Scan(&other)
			switch {
			case err == nil:
				return fmt.Errorf("%w: case %s exists, whose id differs from %s only in letter case", audit.ErrConflict, other, cs.ID)
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("read case %s: %w", cs.ID, err)
			}
		}
		state, err := json.Marshal(cs)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cases (id, kind, jurisdiction, subject, lead, status, source, version, state, audit_idx)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, jurisdiction = excluded.jurisdiction, subject = excluded.subject,
				lead = excluded.lead, status = excluded.status, source = excluded.source, version = excluded.version,
				state = excluded.state, audit_idx = excluded.audit_idx`,
			cs.ID, cs.Kind, cs.Jurisdiction, nullText(cs.Subject), cs.Lead, cs.Status, caseSource(cs.Source), cs.Version, state, idx); err != nil {
			return fmt.Errorf("write case %s: %w", cs.ID, err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM case_agencies WHERE case_id = ?", cs.ID); err != nil {
			return fmt.Errorf("write case %s: %w", cs.ID, err)
		}
		for _, m := range cs.Members {
			if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO case_agencies (case_id, agency, status) VALUES (?, ?, ?)", cs.ID, m.Agency, m.Status); err != nil {
				return fmt.Errorf("write case %s: %w", cs.ID, err)
			}
		}
	}
	for _, n := range c.Notices {
		res, err := tx.ExecContext(ctx, `INSERT INTO notices
			(id, audit_idx, recipient, sender, event_type, rule, created_ns, escalate_ns, deadline_ns, peer)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, nullif(?, '')) ON CONFLICT (id) DO NOTHING`,
			n.ID, idx, n.Recipient, n.Sender, n.EventType, n.Rule, n.Created.UnixNano(), n.EscalateAt.UnixNano(), n.Deadline.UnixNano(), n.Peer)
		if err != nil {
			return fmt.Errorf("track notice %s: %w", n.ID, err)
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return fmt.Errorf("%w: notice %s is tracked already", audit.ErrConflict, n.ID)
		}
	}
	for _, m := range c.Marks {
		var q string
		args := []any{m.Time.UnixNano(), idx, m.Notice}
		switch m.Step {
		case audit.NoticeAcknowledged:
			q = "UPDATE notices SET acked_ns = ?, ack_idx = ? WHERE id = ? AND acked_ns IS NULL AND withdrawn_ns IS NULL"
		case audit.NoticeEscalated:
			q = "UPDATE notices SET escalated_ns = ?, escalation_idx = ? WHERE id = ? AND acked_ns IS NULL AND withdrawn_ns IS NULL AND escalated_ns IS NULL"
		case audit.NoticeOverdue:
			q = "UPDATE notices SET overdue_ns = ?, overdue_idx = ? WHERE id = ? AND acked_ns IS NULL AND withdrawn_ns IS NULL AND overdue_ns IS NULL"
		case audit.NoticeForwardDue:
			q, args = "UPDATE notices SET fwd_due = 1 WHERE id = ? AND ack_idx = ? AND fwd_due = 0", []any{m.Notice, idx}
		case audit.NoticeForwarded:
			q = "UPDATE notices SET forwarded_ns = ?, forwarded_idx = ? WHERE id = ? AND fwd_due = 1 AND forwarded_ns IS NULL"
		case audit.NoticeWithdrawn:
			q = "UPDATE notices SET withdrawn_ns = ?, withdrawn_idx = ? WHERE id = ? AND acked_ns IS NULL AND withdrawn_ns IS NULL"
		default:
			return fmt.Errorf("unknown notice step %q", m.Step)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("mark notice %s %s: %w", m.Notice, m.Step, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("%w: notice %s cannot be marked %s", audit.ErrConflict, m.Notice, m.Step)
		}
	}
	for _, w := range c.Withdrawals {
		if len(w.Releases) == 0 {
			continue
		}
		args := []any{w.Time.UnixNano(), idx, w.Recipient}
		for _, r := range w.Releases {
			args = append(args, r)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notices SET withdrawn_ns = ?, withdrawn_idx = ?
			WHERE recipient = ? AND acked_ns IS NULL AND withdrawn_ns IS NULL AND audit_idx IN (?`+strings.Repeat(", ?", len(w.Releases)-1)+")", args...); err != nil {
			return fmt.Errorf("withdraw notices to %s: %w", w.Recipient, err)
		}
	}
	if len(c.Claims) > 0 {
		binding := sha256.Sum256(leaf)
		for _, cl := range c.Claims {
			// Remember's rule: taken unless the id is there and live.
			res, err := tx.ExecContext(ctx, `INSERT INTO token_ids (id, binding, expires_ns) VALUES (?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET binding = excluded.binding, expires_ns = excluded.expires_ns
				WHERE token_ids.expires_ns <= ?`, cl.ID[:], binding[:], cl.Expires.UnixNano(), now.UnixNano())
			if err != nil {
				return fmt.Errorf("claim: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
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
		// As ApplyAftercare records it; the write lock orders concurrent
		// acknowledgements, and the second finds the first's.
		q := "UPDATE aftercare_notices SET ack_idx = ?, ack_ns = ?, done = ?, fwd_due = ? WHERE idx = ? AND ack_idx IS NULL"
		if !c.AckSuperseded {
			q += " AND sup_idx IS NULL"
		}
		res, err := tx.ExecContext(ctx, q, idx, a.Time.UnixNano(), a.Done, a.Deferred, a.Notice)
		if err != nil {
			return fmt.Errorf("acknowledge notice %d: %w", a.Notice, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			var sup sql.NullInt64
			if err := tx.QueryRowContext(ctx, "SELECT sup_idx FROM aftercare_notices WHERE idx = ? AND ack_idx IS NULL", a.Notice).Scan(&sup); err == nil && sup.Valid {
				return &audit.NoticeSupersededError{Notice: a.Notice, By: sup.Int64}
			}
			return fmt.Errorf("%w: notice %d is not tracked, or is acknowledged already", audit.ErrConflict, a.Notice)
		}
	}
	return nil
}

// checkUnsuperseded checks, under the write lock, that no entry the
// aftercare projection has not read yet, before the acknowledgement's
// entry at idx, supersedes notice: the projection says whether one it
// read did (sup_idx, which the acknowledgement's update checks), the log
// says the rest. A notice not projected, or acknowledged already, is
// left to that update.
func checkUnsuperseded(ctx context.Context, tx *sql.Tx, idx, notice int64) error {
	var from int64
	var recipient string
	err := tx.QueryRowContext(ctx, `SELECT w.next_idx, n.recipient FROM aftercare_watermark w, aftercare_notices n
		WHERE w.id = 1 AND n.idx = ? AND n.ack_idx IS NULL`, notice).Scan(&from, &recipient)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("acknowledge notice %d: %w", notice, err)
	}
	recs, err := leavesBetween(ctx, tx, max(from, notice+1), idx, audit.NoticeActions)
	if err != nil {
		return fmt.Errorf("acknowledge notice %d: %w", notice, err)
	}
	if by := audit.SupersedingNotice(recs, notice, recipient); by >= 0 {
		return &audit.NoticeSupersededError{Notice: notice, By: by}
	}
	return nil
}

// leavesBetween reads the log's entries of the actions from index from
// before index to, in order, in the transaction tx.
func leavesBetween(ctx context.Context, tx *sql.Tx, from, to int64, actions []string) ([]audit.Record, error) {
	args := []any{from, to}
	for _, a := range actions {
		args = append(args, a)
	}
	rows, err := tx.QueryContext(ctx, `SELECT idx, leaf FROM leaves WHERE idx >= ? AND idx < ? AND action IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(actions)), ", ")+`) ORDER BY idx`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var recs []audit.Record
	for rows.Next() {
		var r audit.Record
		if err := rows.Scan(&r.Index, &r.Leaf); err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

// checkOpen checks h under the write lock: the log's notices from
// h.From before the notice's entry at idx.
func checkOpen(ctx context.Context, tx *sql.Tx, idx int64, h audit.OpenHold) error {
	recs, err := leavesBetween(ctx, tx, h.From, idx, h.Actions())
	if err != nil {
		return fmt.Errorf("open releases: %w", err)
	}
	return audit.CheckOpen(recs, h)
}

// checkPassedOn checks h under the write lock: the log's entries from
// h.From before the acknowledgement's entry at idx.
func checkPassedOn(ctx context.Context, tx *sql.Tx, idx int64, h audit.PassedOnHold) error {
	recs, err := leavesBetween(ctx, tx, h.From, idx, audit.ReleaseActions)
	if err != nil {
		return fmt.Errorf("passed on: %w", err)
	}
	if out := audit.PassedOnIn(recs, h); len(out) > 0 {
		return &audit.PassedOnError{Releases: out}
	}
	return nil
}

// checkHold checks h under the write lock: the case as the last committed
// change left it.
func checkHold(ctx context.Context, tx *sql.Tx, h audit.CaseHold) error {
	var status, lead string
	err := tx.QueryRowContext(ctx, "SELECT status, lead FROM cases WHERE id = ?", h.ID).Scan(&status, &lead)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil // not the store's: a case of the registry file
	case err != nil:
		return fmt.Errorf("read case %s: %w", h.ID, err)
	}
	ms := map[string]string{}
	for _, m := range h.Members {
		var st string
		err := tx.QueryRowContext(ctx, "SELECT status FROM case_agencies WHERE case_id = ? AND agency = ?", h.ID, m).Scan(&st)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read case %s: %w", h.ID, err)
		}
		ms[m] = st
	}
	return audit.CheckHold(h, status, lead, ms)
}

// nullText maps "" to SQL NULL.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// caseSource is the stored form of CaseState.Source.
func caseSource(s string) string {
	if s == "" {
		return "api"
	}
	return s
}

// Case returns the latest version of a case, or nil.
func (s *Store) Case(ctx context.Context, id string) (*audit.CaseState, error) {
	cs, err := s.cases(ctx, "id = ?", []any{id}, 1)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return cs[0], nil
}

// Cases returns the cases matching f, by id in byte order.
func (s *Store) Cases(ctx context.Context, f audit.CaseFilter) ([]*audit.CaseState, error) {
	where := []string{"1 = 1"}
	var args []any
	if f.Agency != "" {
		where = append(where, "id IN (SELECT case_id FROM case_agencies WHERE agency = ?)")
		args = append(args, f.Agency)
	}
	for _, c := range []struct{ col, val string }{{"subject", f.Subject}, {"status", f.Status}, {"source", f.Source}} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if f.SameID != "" {
		where = append(where, "lower(id) = lower(?)")
		args = append(args, f.SameID)
	}
	if f.After != "" {
		where = append(where, "id > ?") // BINARY: byte order, as ORDER BY id
		args = append(args, f.After)
	}
	return s.cases(ctx, strings.Join(where, " AND "), args, f.Limit)
}

func (s *Store) cases(ctx context.Context, where string, args []any, limit int) ([]*audit.CaseState, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.rc.QueryContext(ctx, "SELECT state, audit_idx FROM cases WHERE "+where+" ORDER BY id LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: cases: %w", err)
	}
	defer rows.Close()
	var out []*audit.CaseState
	for rows.Next() {
		var state []byte
		var idx int64
		if err := rows.Scan(&state, &idx); err != nil {
			return nil, fmt.Errorf("sqlite: cases: %w", err)
		}
		var c audit.CaseState
		if err := json.Unmarshal(state, &c); err != nil {
			return nil, fmt.Errorf("sqlite: cases: decode: %v", err)
		}
		c.AuditIndex = idx
		out = append(out, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: cases: %w", err)
	}
	return out, nil
}

// Notices returns the tracked notices matching f, oldest first.
func (s *Store) Notices(ctx context.Context, f audit.NoticeFilter) ([]audit.Notice, error) {
	where := []string{"1 = 1"}
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.ID != "" {
		add("id = ?", f.ID)
	}
	if f.Recipient != "" {
		add("recipient = ?", f.Recipient)
	}
	if f.Sender != "" {
		add("sender = ?", f.Sender)
	}
	if f.Unacknowledged {
		add("acked_ns IS NULL AND withdrawn_ns IS NULL")
	}
	if !f.EscalateBy.IsZero() {
		add("acked_ns IS NULL AND withdrawn_ns IS NULL AND escalated_ns IS NULL AND escalate_ns <= ?", f.EscalateBy.UnixNano())
	}
	if !f.OverdueBy.IsZero() {
		add("acked_ns IS NULL AND withdrawn_ns IS NULL AND overdue_ns IS NULL AND deadline_ns <= ?", f.OverdueBy.UnixNano())
	}
	if !f.LateAt.IsZero() {
		add("deadline_ns < ? AND (COALESCE(acked_ns, withdrawn_ns) IS NULL OR COALESCE(acked_ns, withdrawn_ns) > deadline_ns)", f.LateAt.UnixNano())
	}
	if f.ForwardDue {
		add("fwd_due = 1 AND forwarded_ns IS NULL")
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
	rows, err := s.rc.QueryContext(ctx, `SELECT id, audit_idx, recipient, sender, event_type, rule, created_ns, escalate_ns, deadline_ns,
		acked_ns, ack_idx, escalated_ns, escalation_idx, overdue_ns, overdue_idx, fwd_due, forwarded_ns, forwarded_idx, withdrawn_ns, withdrawn_idx,
		coalesce(peer, '')
		FROM notices WHERE `+strings.Join(where, " AND ")+" ORDER BY audit_idx, id LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: notices: %w", err)
	}
	defer rows.Close()
	var out []audit.Notice
	for rows.Next() {
		var n audit.Notice
		var created, escalate, deadline int64
		var acked, ackIdx, escalated, escIdx, overdue, overIdx, fwd, fwdIdx, wdn, wdnIdx sql.NullInt64
		if err := rows.Scan(&n.ID, &n.AuditIndex, &n.Recipient, &n.Sender, &n.EventType, &n.Rule, &created, &escalate, &deadline,
			&acked, &ackIdx, &escalated, &escIdx, &overdue, &overIdx, &n.ForwardDue, &fwd, &fwdIdx, &wdn, &wdnIdx, &n.Peer); err != nil {
			return nil, fmt.Errorf("sqlite: notices: %w", err)
		}
		n.Created, n.EscalateAt, n.Deadline = unixTime(created), unixTime(escalate), unixTime(deadline)
		n.Acknowledged, n.AckIndex = nullTime(acked), nullIndex(ackIdx)
		n.Escalated, n.EscalationIndex = nullTime(escalated), nullIndex(escIdx)
		n.Overdue, n.OverdueIndex = nullTime(overdue), nullIndex(overIdx)
		n.Forwarded, n.ForwardIndex = nullTime(fwd), nullIndex(fwdIdx)
		n.Withdrawn, n.WithdrawalIndex = nullTime(wdn), nullIndex(wdnIdx)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: notices: %w", err)
	}
	return out, nil
}

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func nullTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return unixTime(v.Int64)
}

func nullIndex(v sql.NullInt64) int64 {
	if !v.Valid {
		return -1
	}
	return v.Int64
}

// Lease takes or renews the named lease for holder until the given time,
// if it is free, expired at now, or holder's already.
func (s *Store) Lease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	if name == "" || holder == "" {
		return false, errors.New("sqlite: lease: empty name or holder")
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_ns) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ns = excluded.expires_ns
		WHERE leases.holder = excluded.holder OR leases.expires_ns <= ?`,
		name, holder, until.UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("sqlite: lease: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: lease: %w", err)
	}
	return n == 1, nil
}
