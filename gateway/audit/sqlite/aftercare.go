package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.AftercareStore = (*Store)(nil)

// AftercareWatermark returns the index of the first entry not yet projected.
func (s *Store) AftercareWatermark(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rc.QueryRowContext(ctx, "SELECT next_idx FROM aftercare_watermark WHERE id = 1").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: aftercare watermark: %w", err)
	}
	return n, nil
}

// ApplyAftercare applies ch and moves the watermark from from to to, if
// it is still at from.
func (s *Store) ApplyAftercare(ctx context.Context, from, to int64, ch audit.AftercareChanges) (bool, error) {
	if to < from {
		return false, fmt.Errorf("sqlite: apply aftercare: invalid range [%d, %d)", from, to)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: apply aftercare: %w", err)
	}
	defer tx.Rollback()
	var cur int64
	if err := tx.QueryRowContext(ctx, "SELECT next_idx FROM aftercare_watermark WHERE id = 1").Scan(&cur); err != nil {
		return false, fmt.Errorf("sqlite: apply aftercare: %w", err)
	}
	if cur != from {
		return false, nil
	}
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("sqlite: apply aftercare: %w", err)
		}
		return nil
	}
	for _, r := range ch.Releases {
		if err := exec(`INSERT OR IGNORE INTO aftercare_releases
			(idx, recipient, holder, subject, legal_basis, record_type, valid_until) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.Index, r.Recipient, r.Holder, r.Subject, r.LegalBasis, r.RecordType, r.ValidUntil); err != nil {
			return false, err
		}
	}
	for _, n := range ch.Notices {
		if err := exec(`INSERT OR IGNORE INTO aftercare_notices
			(idx, kind, recipient, holder, subject, record_type, refers_to, reason, obligation, sent_ns)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			n.Index, n.Kind, n.Recipient, n.Holder, n.Subject, n.RecordType, audit.FormatIndexes(n.RefersTo),
			n.Reason, n.Obligation, n.Sent.UnixNano()); err != nil {
			return false, err
		}
	}
	for _, r := range ch.Revisions {
		if err := exec(`UPDATE aftercare_releases SET valid_until = ?, revised_by = ?
			WHERE idx = ? AND closed_by IS NULL AND (revised_by IS NULL OR revised_by < ?)`,
			r.ValidUntil, r.By, r.Release, r.By); err != nil {
			return false, err
		}
	}
	for _, c := range ch.Closures {
		if err := exec("UPDATE aftercare_releases SET closed_by = ? WHERE idx = ? AND closed_by IS NULL", c.By, c.Release); err != nil {
			return false, err
		}
	}
	for _, a := range ch.Acks {
		if err := exec("UPDATE aftercare_notices SET ack_idx = ?, ack_ns = ?, done = ?, fwd_due = ? WHERE idx = ? AND ack_idx IS NULL",
			a.By, a.Time.UnixNano(), a.Done, a.Deferred, a.Notice); err != nil {
			return false, err
		}
	}
	for _, f := range ch.Forwards {
		if err := exec("UPDATE aftercare_notices SET fwd_idx = ? WHERE idx = ? AND fwd_due = 1 AND fwd_idx IS NULL", f.By, f.Notice); err != nil {
			return false, err
		}
	}
	for _, x := range ch.Supersessions {
		if err := exec(`UPDATE aftercare_notices SET sup_idx = ?
			WHERE idx = ? AND idx < ? AND sup_idx IS NULL AND (ack_idx IS NULL OR ack_idx > ?)
			AND recipient = (SELECT recipient FROM aftercare_notices WHERE idx = ?)`, x.By, x.Notice, x.By, x.By, x.By); err != nil {
			return false, err
		}
	}
	if err := exec("UPDATE aftercare_watermark SET next_idx = ? WHERE id = 1", to); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: apply aftercare: %w", err)
	}
	return true, nil
}

const releaseColumns = "idx, recipient, holder, subject, legal_basis, record_type, valid_until, revised_by, closed_by"

func scanReleases(rows *sql.Rows) ([]audit.TrackedRelease, error) {
	defer rows.Close()
	var out []audit.TrackedRelease
	for rows.Next() {
		var r audit.TrackedRelease
		var revised, closed sql.NullInt64
		if err := rows.Scan(&r.Index, &r.Recipient, &r.Holder, &r.Subject, &r.LegalBasis, &r.RecordType, &r.ValidUntil, &revised, &closed); err != nil {
			return nil, err
		}
		r.RevisedBy, r.ClosedBy = orMinus1(revised), orMinus1(closed)
		out = append(out, r)
	}
	return out, rows.Err()
}

func orMinus1(n sql.NullInt64) int64 {
	if n.Valid {
		return n.Int64
	}
	return -1
}

// DueReleases returns open tracked releases after index after whose basis
// ended before day.
func (s *Store) DueReleases(ctx context.Context, day string, after int64, limit int) ([]audit.TrackedRelease, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rc.QueryContext(ctx, "SELECT "+releaseColumns+` FROM aftercare_releases
		WHERE closed_by IS NULL AND valid_until < ? AND idx > ? ORDER BY idx LIMIT ?`, day, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due releases: %w", err)
	}
	out, err := scanReleases(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due releases: %w", err)
	}
	return out, nil
}

// OpenReleases returns the open tracked releases about subject by holder.
func (s *Store) OpenReleases(ctx context.Context, subject, holder string) ([]audit.TrackedRelease, error) {
	rows, err := s.rc.QueryContext(ctx, "SELECT "+releaseColumns+` FROM aftercare_releases
		WHERE closed_by IS NULL AND subject = ? AND holder = ? ORDER BY idx`, subject, holder)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open releases: %w", err)
	}
	out, err := scanReleases(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open releases: %w", err)
	}
	return out, nil
}

// TrackedRelease returns the tracked release at index.
func (s *Store) TrackedRelease(ctx context.Context, index int64) (audit.TrackedRelease, bool, error) {
	rows, err := s.rc.QueryContext(ctx, "SELECT "+releaseColumns+" FROM aftercare_releases WHERE idx = ?", index)
	if err != nil {
		return audit.TrackedRelease{}, false, fmt.Errorf("sqlite: tracked release: %w", err)
	}
	out, err := scanReleases(rows)
	if err != nil {
		return audit.TrackedRelease{}, false, fmt.Errorf("sqlite: tracked release: %w", err)
	}
	if len(out) == 0 {
		return audit.TrackedRelease{}, false, nil
	}
	return out[0], true, nil
}

// SentNotices returns the notices f selects, by index.
func (s *Store) SentNotices(ctx context.Context, f audit.SentNoticeFilter) ([]audit.SentNotice, error) {
	where := []string{"idx > ?"}
	args := []any{max(f.After, -1)}
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if !f.IncludeAcked {
		where = append(where, "ack_idx IS NULL AND sup_idx IS NULL")
	}
	if f.Unswept {
		where = append(where, "swept = 0")
	}
	if f.ForwardDue {
		where = append(where, "fwd_due = 1 AND fwd_idx IS NULL")
	}
	if f.Recipient != "" {
		add("recipient = ?", f.Recipient)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.Subject != "" {
		add("subject = ?", f.Subject)
	}
	if !f.SentBefore.IsZero() {
		add("sent_ns < ?", nanos(f.SentBefore))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := s.rc.QueryContext(ctx, `SELECT idx, kind, recipient, holder, subject, record_type, refers_to, reason, obligation,
		sent_ns, ack_idx, ack_ns, done, swept, fwd_due, fwd_idx, sup_idx FROM aftercare_notices WHERE `+strings.Join(where, " AND ")+" ORDER BY idx LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: notices: %w", err)
	}
	defer rows.Close()
	var out []audit.SentNotice
	for rows.Next() {
		var n audit.SentNotice
		var refs string
		var sent int64
		var ackIdx, ackNs, fwdIdx, supIdx sql.NullInt64
		var done sql.NullString
		var fwdDue bool
		if err := rows.Scan(&n.Index, &n.Kind, &n.Recipient, &n.Holder, &n.Subject, &n.RecordType, &refs, &n.Reason, &n.Obligation,
			&sent, &ackIdx, &ackNs, &done, &n.Swept, &fwdDue, &fwdIdx, &supIdx); err != nil {
			return nil, fmt.Errorf("sqlite: notices: %w", err)
		}
		if n.RefersTo, err = audit.ParseIndexes(refs); err != nil {
			return nil, fmt.Errorf("sqlite: notices: notice %d: %v", n.Index, err)
		}
		n.Sent = time.Unix(0, sent).UTC()
		n.AckIndex = orMinus1(ackIdx)
		if ackNs.Valid {
			n.AckTime = time.Unix(0, ackNs.Int64).UTC()
		}
		n.Done = done.String
		n.ForwardedBy = orMinus1(fwdIdx)
		n.ForwardDue = fwdDue && !fwdIdx.Valid
		n.SupersededBy = orMinus1(supIdx)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: notices: %w", err)
	}
	return out, nil
}

// MarkSwept records that a notice's unread items were withdrawn.
func (s *Store) MarkSwept(ctx context.Context, notice int64) error {
	if _, err := s.w.ExecContext(ctx, "UPDATE aftercare_notices SET swept = 1 WHERE idx = ?", notice); err != nil {
		return fmt.Errorf("sqlite: mark swept: %w", err)
	}
	return nil
}

// WithdrawUnread withdraws recipient's unread items delivered under entries.
func (s *Store) WithdrawUnread(ctx context.Context, recipient string, entries []int64) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	args := []any{s.now().UnixNano(), recipient}
	for _, e := range entries {
		args = append(args, e)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE inbox SET acked_ns = ?, payload = X''
		WHERE recipient = ? AND acked_ns IS NULL AND audit_idx IN (?`+strings.Repeat(", ?", len(entries)-1)+")", args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: withdraw unread: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: withdraw unread: %w", err)
	}
	return int(n), nil
}

// AddFingerprints stores fingerprints, ignoring those already stored.
func (s *Store) AddFingerprints(ctx context.Context, fps []audit.Fingerprint) error {
	if len(fps) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: add fingerprints: %w", err)
	}
	defer tx.Rollback()
	// The key has after_idx before the request id
	// (0270_fingerprints_by_subject.sql), so one stored already under
	// another After is looked for.
	ins, err := tx.PrepareContext(ctx, `INSERT INTO aftercare_fingerprints (recipient, subject_tag, fp, request_id, after_idx)
		SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM aftercare_fingerprints
			WHERE recipient = ?1 AND subject_tag = ?2 AND fp = ?3 AND request_id = ?4)`)
	if err != nil {
		return fmt.Errorf("sqlite: add fingerprints: %w", err)
	}
	defer ins.Close()
	for _, f := range fps {
		if !f.Complete() {
			return errors.New("sqlite: add fingerprints: recipient, subject and request id are required")
		}
		if _, err := ins.ExecContext(ctx, f.Recipient, audit.SubjectTag(f.Subject), f.FP[:], f.RequestID, f.After); err != nil {
			return fmt.Errorf("sqlite: add fingerprints: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: add fingerprints: %w", err)
	}
	return nil
}

// ConfirmFingerprints records the release index of requestID's fingerprints.
func (s *Store) ConfirmFingerprints(ctx context.Context, requestID string, index int64) error {
	if _, err := s.w.ExecContext(ctx, "UPDATE aftercare_fingerprints SET audit_idx = ? WHERE request_id = ? AND audit_idx IS NULL", index, requestID); err != nil {
		return fmt.Errorf("sqlite: confirm fingerprints: %w", err)
	}
	return nil
}

// HasFingerprints reports whether any fingerprint for recipient and
// subject is stored, under the subject's tag or the empty one: two seeks
// of the key's first two columns.
func (s *Store) HasFingerprints(ctx context.Context, recipient, subject string) (bool, error) {
	var has bool
	if err := s.rc.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM aftercare_fingerprints WHERE recipient = ? AND subject_tag IN (?, X''))`,
		recipient, audit.SubjectTag(subject)).Scan(&has); err != nil {
		return false, fmt.Errorf("sqlite: has fingerprints: %w", err)
	}
	return has, nil
}

// MatchFingerprints returns the stored fingerprints for recipient and
// subject among fps: under the subject's tag, and under the empty tag of
// those the migration to tags could not place (0270_fingerprints_by_subject.sql).
func (s *Store) MatchFingerprints(ctx context.Context, recipient, subject string, fps [][32]byte) ([]audit.FingerprintMatch, error) {
	var out []audit.FingerprintMatch
	for start := 0; start < len(fps); start += 400 {
		chunk := fps[start:min(start+400, len(fps))]
		args := []any{recipient, audit.SubjectTag(subject)}
		for _, f := range chunk {
			args = append(args, f[:])
		}
		rows, err := s.rc.QueryContext(ctx, `SELECT fp, request_id, after_idx, audit_idx FROM aftercare_fingerprints
			WHERE recipient = ? AND subject_tag IN (?, X'') AND fp IN (?`+strings.Repeat(", ?", len(chunk)-1)+") ORDER BY request_id, fp", args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: match fingerprints: %w", err)
		}
		for rows.Next() {
			var m audit.FingerprintMatch
			var fp []byte
			var idx sql.NullInt64
			if err := rows.Scan(&fp, &m.RequestID, &m.After, &idx); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: match fingerprints: %w", err)
			}
			copy(m.FP[:], fp)
			m.Index = orMinus1(idx)
			out = append(out, m)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("sqlite: match fingerprints: %w", err)
		}
	}
	return out, nil
}
