package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

var _ audit.AftercareStore = (*Store)(nil)

// AftercareWatermark returns the index of the first entry not yet projected.
func (s *Store) AftercareWatermark(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT next_idx FROM aftercare_watermark WHERE id = 1").Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: aftercare watermark: %w", err)
	}
	return n, nil
}

// ApplyAftercare applies ch and moves the watermark from from to to, if
// it is still at from. The watermark row is locked for the transaction,
// so that concurrent applications of one range are serialised and the
// second finds the watermark moved.
func (s *Store) ApplyAftercare(ctx context.Context, from, to int64, ch audit.AftercareChanges) (bool, error) {
	if to < from {
		return false, fmt.Errorf("postgres: apply aftercare: invalid range [%d, %d)", from, to)
	}
	applied := false
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var cur int64
		if err := tx.QueryRow(ctx, "SELECT next_idx FROM aftercare_watermark WHERE id = 1 FOR UPDATE").Scan(&cur); err != nil {
			return err
		}
		if cur != from {
			return nil
		}
		b := &pgx.Batch{}
		for _, r := range ch.Releases {
			b.Queue(`INSERT INTO aftercare_releases (idx, recipient, holder, subject, legal_basis, record_type, valid_until)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idx) DO NOTHING`,
				r.Index, text(r.Recipient), text(r.Holder), text(r.Subject), text(r.LegalBasis), text(r.RecordType), text(r.ValidUntil))
		}
		for _, n := range ch.Notices {
			b.Queue(`INSERT INTO aftercare_notices
				(idx, kind, recipient, holder, subject, record_type, refers_to, reason, obligation, sent_ns)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idx) DO NOTHING`,
				n.Index, text(n.Kind), text(n.Recipient), text(n.Holder), text(n.Subject), text(n.RecordType),
				audit.FormatIndexes(n.RefersTo), text(n.Reason), text(n.Obligation), nanos(n.Sent))
		}
		for _, r := range ch.Revisions {
			b.Queue(`UPDATE aftercare_releases SET valid_until = $1, revised_by = $2
				WHERE idx = $3 AND closed_by IS NULL AND (revised_by IS NULL OR revised_by < $2)`,
				text(r.ValidUntil), r.By, r.Release)
		}
		for _, c := range ch.Closures {
			b.Queue("UPDATE aftercare_releases SET closed_by = $1 WHERE idx = $2 AND closed_by IS NULL", c.By, c.Release)
		}
		for _, a := range ch.Acks {
			due := 0
			if a.Deferred {
				due = 1
			}
			b.Queue("UPDATE aftercare_notices SET ack_idx = $1, ack_ns = $2, done = $3, fwd_due = $4 WHERE idx = $5 AND ack_idx IS NULL",
				a.By, nanos(a.Time), text(a.Done), due, a.Notice)
		}
		for _, f := range ch.Forwards {
			b.Queue("UPDATE aftercare_notices SET fwd_idx = $1 WHERE idx = $2 AND fwd_due = 1 AND fwd_idx IS NULL", f.By, f.Notice)
		}
		for _, x := range ch.Supersessions {
			b.Queue(`UPDATE aftercare_notices SET sup_idx = $1
				WHERE idx = $2 AND idx < $1 AND sup_idx IS NULL AND (ack_idx IS NULL OR ack_idx > $1)
				AND recipient = (SELECT recipient FROM aftercare_notices WHERE idx = $1)`, x.By, x.Notice)
		}
		b.Queue("UPDATE aftercare_watermark SET next_idx = $1 WHERE id = 1", to)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: apply aftercare: %w", err)
	}
	return applied, nil
}

const releaseColumns = "idx, recipient, holder, subject, legal_basis, record_type, valid_until, revised_by, closed_by"

func (s *Store) releases(ctx context.Context, op, where string, args ...any) ([]audit.TrackedRelease, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+releaseColumns+" FROM aftercare_releases WHERE "+where, args...)
	var out []audit.TrackedRelease
	var r audit.TrackedRelease
	var revised, closed pgtype.Int8
	_, err := pgx.ForEachRow(rows, []any{&r.Index, &r.Recipient, &r.Holder, &r.Subject, &r.LegalBasis, &r.RecordType, &r.ValidUntil, &revised, &closed}, func() error {
		x := r
		x.Recipient, x.Holder, x.Subject = untext(r.Recipient), untext(r.Holder), untext(r.Subject)
		x.LegalBasis, x.RecordType, x.ValidUntil = untext(r.LegalBasis), untext(r.RecordType), untext(r.ValidUntil)
		x.RevisedBy, x.ClosedBy = orMinus1(revised), orMinus1(closed)
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return out, nil
}

func orMinus1(n pgtype.Int8) int64 {
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
	return s.releases(ctx, "due releases", "closed_by IS NULL AND valid_until < $1 AND idx > $2 ORDER BY idx LIMIT $3", text(day), after, limit)
}

// OpenReleases returns the open tracked releases about subject by holder.
func (s *Store) OpenReleases(ctx context.Context, subject, holder string) ([]audit.TrackedRelease, error) {
	return s.releases(ctx, "open releases", "closed_by IS NULL AND subject = $1 AND holder = $2 ORDER BY idx", text(subject), text(holder))
}

// TrackedRelease returns the tracked release at index.
func (s *Store) TrackedRelease(ctx context.Context, index int64) (audit.TrackedRelease, bool, error) {
	out, err := s.releases(ctx, "tracked release", "idx = $1", index)
	if err != nil || len(out) == 0 {
		return audit.TrackedRelease{}, false, err
	}
	return out[0], true, nil
}

// SentNotices returns the notices f selects, by index.
func (s *Store) SentNotices(ctx context.Context, f audit.SentNoticeFilter) ([]audit.SentNotice, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	add("idx > ?", max(f.After, -1))
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
		add("recipient = ?", text(f.Recipient))
	}
	if f.Kind != "" {
		add("kind = ?", text(f.Kind))
	}
	if f.Subject != "" {
		add("subject = ?", text(f.Subject))
	}
	if !f.SentBefore.IsZero() {
		add("sent_ns < ?", nanos(f.SentBefore))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, _ := s.pool.Query(ctx, `SELECT idx, kind, recipient, holder, subject, record_type, refers_to, reason, obligation,
		sent_ns, ack_idx, ack_ns, done, swept, fwd_due, fwd_idx, sup_idx FROM aftercare_notices WHERE `+strings.Join(where, " AND ")+
		" ORDER BY idx LIMIT $"+strconv.Itoa(len(args)), args...)
	var out []audit.SentNotice
	var n audit.SentNotice
	var refs string
	var sent, swept, fwdDue int64
	var ackIdx, ackNs, fwdIdx, supIdx pgtype.Int8
	var done pgtype.Text
	_, err := pgx.ForEachRow(rows, []any{&n.Index, &n.Kind, &n.Recipient, &n.Holder, &n.Subject, &n.RecordType, &refs,
		&n.Reason, &n.Obligation, &sent, &ackIdx, &ackNs, &done, &swept, &fwdDue, &fwdIdx, &supIdx}, func() error {
		x := n
		x.Kind, x.Recipient, x.Holder, x.Subject = untext(n.Kind), untext(n.Recipient), untext(n.Holder), untext(n.Subject)
		x.RecordType, x.Reason, x.Obligation = untext(n.RecordType), untext(n.Reason), untext(n.Obligation)
		var err error
		if x.RefersTo, err = audit.ParseIndexes(refs); err != nil {
			return fmt.Errorf("notice %d: %v", n.Index, err)
		}
		x.Sent = time.Unix(0, sent).UTC()
		x.AckIndex = orMinus1(ackIdx)
		if ackNs.Valid {
			x.AckTime = time.Unix(0, ackNs.Int64).UTC()
		}
		x.Done = untext(done.String)
		x.Swept = swept == 1
		x.ForwardedBy = orMinus1(fwdIdx)
		x.ForwardDue = fwdDue == 1 && !fwdIdx.Valid
		x.SupersededBy = orMinus1(supIdx)
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notices: %w", err)
	}
	return out, nil
}

// MarkSwept records that a notice's unread items were withdrawn.
func (s *Store) MarkSwept(ctx context.Context, notice int64) error {
	if _, err := s.pool.Exec(ctx, "UPDATE aftercare_notices SET swept = 1 WHERE idx = $1", notice); err != nil {
		return fmt.Errorf("postgres: mark swept: %w", err)
	}
	return nil
}

// WithdrawUnread withdraws recipient's unread items delivered under entries.
func (s *Store) WithdrawUnread(ctx context.Context, recipient string, entries []int64) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `UPDATE inbox SET acked_ns = $1, payload = ''::bytea
		WHERE recipient = $2 AND acked_ns IS NULL AND audit_idx = ANY($3)`, s.now().UnixNano(), text(recipient), entries)
	if err != nil {
		return 0, fmt.Errorf("postgres: withdraw unread: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// AddFingerprints stores fingerprints, ignoring those already stored.
func (s *Store) AddFingerprints(ctx context.Context, fps []audit.Fingerprint) error {
	if len(fps) == 0 {
		return nil
	}
	var recipients, requests []string
	var tags, prints [][]byte
	var after []int64
	for _, f := range fps {
		if !f.Complete() {
			return errors.New("postgres: add fingerprints: recipient, subject and request id are required")
		}
		recipients = append(recipients, text(f.Recipient))
		tags = append(tags, audit.SubjectTag(f.Subject))
		prints = append(prints, f.FP[:])
		requests = append(requests, text(f.RequestID))
		after = append(after, f.After)
	}
	// The key has after_idx before the request id
	// (0270_fingerprints_by_subject.sql), so one stored already under
	// another After is looked for, and of several given, the first is
	// stored.
	if _, err := s.pool.Exec(ctx, `INSERT INTO aftercare_fingerprints (recipient, subject_tag, fp, request_id, after_idx)
		SELECT DISTINCT ON (recipient, subject_tag, fp, request_id) recipient, subject_tag, fp, request_id, after_idx
		FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[], $5::bigint[]) WITH ORDINALITY
			AS t (recipient, subject_tag, fp, request_id, after_idx, n)
		WHERE NOT EXISTS (SELECT 1 FROM aftercare_fingerprints AS f
			WHERE (f.recipient, f.subject_tag, f.fp, f.request_id) = (t.recipient, t.subject_tag, t.fp, t.request_id))
		ORDER BY recipient, subject_tag, fp, request_id, n
		ON CONFLICT DO NOTHING`,
		recipients, tags, prints, requests, after); err != nil {
		return fmt.Errorf("postgres: add fingerprints: %w", err)
	}
	return nil
}

// ConfirmFingerprints records the release index of requestID's fingerprints.
func (s *Store) ConfirmFingerprints(ctx context.Context, requestID string, index int64) error {
	if _, err := s.pool.Exec(ctx, "UPDATE aftercare_fingerprints SET audit_idx = $1 WHERE request_id = $2 AND audit_idx IS NULL", index, text(requestID)); err != nil {
		return fmt.Errorf("postgres: confirm fingerprints: %w", err)
	}
	return nil
}

// HasFingerprints reports whether any fingerprint for recipient and
// subject is stored, under the subject's tag or the empty one.
func (s *Store) HasFingerprints(ctx context.Context, recipient, subject string) (bool, error) {
	var has bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM aftercare_fingerprints WHERE recipient = $1 AND subject_tag IN ($2, '\x'::bytea))`,
		text(recipient), audit.SubjectTag(subject)).Scan(&has); err != nil {
		return false, fmt.Errorf("postgres: has fingerprints: %w", err)
	}
	return has, nil
}

// MatchFingerprints returns the stored fingerprints for recipient and
// subject among fps: under the subject's tag, and under the empty tag of
// those the migration to tags could not place (0270_fingerprints_by_subject.sql).
func (s *Store) MatchFingerprints(ctx context.Context, recipient, subject string, fps [][32]byte) ([]audit.FingerprintMatch, error) {
	if len(fps) == 0 {
		return nil, nil
	}
	prints := make([][]byte, len(fps))
	for i := range fps {
		prints[i] = fps[i][:]
	}
	rows, _ := s.pool.Query(ctx, `SELECT fp, request_id, after_idx, audit_idx FROM aftercare_fingerprints
		WHERE recipient = $1 AND subject_tag IN ($2, '\x'::bytea) AND fp = ANY($3) ORDER BY request_id, fp`, text(recipient), audit.SubjectTag(subject), prints)
	var out []audit.FingerprintMatch
	var fp []byte
	var m audit.FingerprintMatch
	var idx pgtype.Int8
	_, err := pgx.ForEachRow(rows, []any{&fp, &m.RequestID, &m.After, &idx}, func() error {
		x := m
		copy(x.FP[:], fp)
		x.RequestID = untext(m.RequestID)
		x.Index = orMinus1(idx)
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: match fingerprints: %w", err)
	}
	return out, nil
}
