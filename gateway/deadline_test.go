package gateway_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestNoticeAcknowledgedAtItsDeadlineIsNotOverdue: the Danish prison
// moves its release to the Aarhus police forward to tomorrow; the police
// must acknowledge by 2026-11-26T23:00:00Z (midnight in Copenhagen). The
// timers run at that very
// second, before the police read it: the deadline has not passed yet (an
// acknowledgement at it is in time, detail late false, and ListNotices
// does not count it late), so they record nothing overdue, and the
// police's acknowledgement in that second closes the notice in time.
// Once a second later the deadline has passed, an unacknowledged notice
// is recorded overdue (the second notice, never read). Without the fix
// the timers recorded the first notice overdue (late true) at its
// deadline, and then its acknowledgement in time (late false): the log
// said both of one notice.
func TestNoticeAcknowledgedAtItsDeadlineIsNotOverdue(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkReleaseToAarhusPolice(t, s)
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ReleaseDate = "2026-11-27"
	c, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Justification: "The release was brought forward."})
	if err != nil || len(c.GetResults()) != 1 {
		t.Fatalf("Correct = %v, %v", c, err)
	}
	r := c.GetResults()[0]
	const deadline = "2026-11-26T23:00:00Z"
	if r.GetNoticeId() == "" || r.GetAcknowledgeBy() != deadline {
		t.Fatalf("correction result %v; want a required notice due %s", r, deadline)
	}
	var cursor int64
	for _, it := range readInbox(t, s, dkPolice, 0) {
		if it.GetNotice().GetNoticeId() == r.GetNoticeId() {
			cursor = it.GetCursor()
		}
	}
	if cursor == 0 {
		t.Fatal("the police's inbox holds no item of the notice")
	}
	start, _ := s.db.Size(ctx)
	clk.Set(time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)) // the deadline itself
	if held, err := s.srv.RunTimers(ctx); err != nil || !held {
		t.Fatalf("RunTimers = %v, %v", held, err)
	}
	if over := s.entriesOf(t, "notice_overdue", start); len(over) != 0 {
		t.Errorf("at its deadline the notice was recorded overdue: %+v", over)
	}
	_, ack := s.one(t, "acknowledge", "notice_acknowledge", "ok", func() error {
		_, err := s.exchange(t, dkPolice).Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: cursor})
		return err
	})
	if ack.Detail["notice_id"] != r.GetNoticeId() || ack.Detail["late"] != "false" {
		t.Errorf("acknowledgement at the deadline = %+v, want in time (late false)", ack)
	}
	nc := liaisonv1.NewNoticesClient(s.conn(t, dkAuditor))
	listed, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
	if err != nil || len(listed.GetNotices()) != 1 {
		t.Fatalf("ListNotices = %v, %v", listed, err)
	}
	if n := listed.GetNotices()[0]; n.GetLate() || n.GetOverdue() != "" || n.GetOverdueAuditIndex() >= 0 {
		t.Errorf("notice acknowledged at its deadline listed late %v, overdue %q (entry %d)", n.GetLate(), n.GetOverdue(), n.GetOverdueAuditIndex())
	}

	// A notice still unread once its deadline has passed is recorded
	// overdue, once.
	clk.Set(time.Date(2026, 11, 26, 23, 0, 1, 0, time.UTC))
	again := proto.CloneOf(corrected)
	again.GetReleaseNotice().ReleaseDate = "2026-11-28"
	c2, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: again, Justification: "The release was moved again."})
	if err != nil || len(c2.GetResults()) != 1 || c2.GetResults()[0].GetAcknowledgeBy() != "2026-11-27T23:00:00Z" {
		t.Fatalf("second Correct = %v, %v; want a notice due 2026-11-27T23:00:00Z", c2, err)
	}
	start, _ = s.db.Size(ctx)
	clk.Set(time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC))
	if held, err := s.srv.RunTimers(ctx); err != nil || !held {
		t.Fatalf("RunTimers = %v, %v", held, err)
	}
	if over := s.entriesOf(t, "notice_overdue", start); len(over) != 0 {
		t.Errorf("at its deadline the second notice was recorded overdue: %+v", over)
	}
	clk.Set(time.Date(2026, 11, 27, 23, 0, 1, 0, time.UTC))
	for range 2 {
		if held, err := s.srv.RunTimers(ctx); err != nil || !held {
			t.Fatalf("RunTimers = %v, %v", held, err)
		}
	}
	if over := s.entriesOf(t, "notice_overdue", start); len(over) != 1 || over[0].Detail["notice_id"] != c2.GetResults()[0].GetNoticeId() || over[0].Detail["late"] != "true" {
		t.Errorf("a second after its deadline: overdue entries %+v, want one of %s", over, c2.GetResults()[0].GetNoticeId())
	}
}

// TestReleaseDayBeginsAtMidnightInCopenhagen: the Danish prison moves its
// release to the Aarhus police forward to 27 November; Danish law (the
// pack's time_zone, Europe/Copenhagen) has the police know before the
// release day, which begins there at 23:00 UTC on the 26th. The police
// read the notice at 00:30 Copenhagen time on the release day (23:30 UTC
// on the 26th): late, and the timers, run at that time before the read,
// recorded it overdue. Without the fix the deadline was 00:00 UTC on the
// 27th, so the read counted as in time although the day had begun.
func TestReleaseDayBeginsAtMidnightInCopenhagen(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkReleaseToAarhusPolice(t, s)
	corrected := proto.CloneOf(rec)
	corrected.GetReleaseNotice().ReleaseDate = "2026-11-27"
	c, err := aftercare(t, s, dkPrison).Correct(ctx, &liaisonv1.CorrectRequest{Record: corrected, Justification: "The release was brought forward."})
	if err != nil || len(c.GetResults()) != 1 {
		t.Fatalf("Correct = %v, %v", c, err)
	}
	r := c.GetResults()[0]
	if r.GetNoticeId() == "" || r.GetAcknowledgeBy() != "2026-11-26T23:00:00Z" {
		t.Fatalf("correction result %v; want a required notice due 2026-11-26T23:00:00Z, midnight in Copenhagen", r)
	}
	var cursor int64
	for _, it := range readInbox(t, s, dkPolice, 0) {
		if it.GetNotice().GetNoticeId() == r.GetNoticeId() {
			cursor = it.GetCursor()
		}
	}
	if cursor == 0 {
		t.Fatal("the police's inbox holds no item of the notice")
	}
	start, _ := s.db.Size(ctx)
	copenhagen, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2026, 11, 27, 0, 30, 0, 0, copenhagen)) // 00:30 on the release day there
	if held, err := s.srv.RunTimers(ctx); err != nil || !held {
		t.Fatalf("RunTimers = %v, %v", held, err)
	}
	if over := s.entriesOf(t, "notice_overdue", start); len(over) != 1 || over[0].Detail["notice_id"] != r.GetNoticeId() {
		t.Errorf("at 00:30 on the release day in Copenhagen: overdue entries %+v, want one of %s", over, r.GetNoticeId())
	}
	_, ack := s.one(t, "acknowledge", "notice_acknowledge", "ok", func() error {
		_, err := s.exchange(t, dkPolice).Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: cursor})
		return err
	})
	if ack.Detail["notice_id"] != r.GetNoticeId() || ack.Detail["late"] != "true" {
		t.Errorf("acknowledgement at 00:30 on the release day in Copenhagen = %+v, want late", ack)
	}
}

// TestNoticeWhoseBasisEndedIsNotEscalatedBeforeTheExpiryNotice: the
// Danish prison notifies the Aarhus police of a breach of the conditions
// at 22:30 UTC (23:30 in Copenhagen) on the last day of the KSP release
// window (the release date and a year), the basis the notice's release
// rests on; the notice is due at 02:30 UTC, escalated at 23:30 UTC. The
// basis ends at midnight in Copenhagen, 23:00 UTC. The notice timers and
// the aftercare timers run on tickers of their own: at 23:45 UTC (00:45
// in Copenhagen), the basis ended, the notice timers' pass comes first.
// They leave the notice alone (no escalation, nothing overdue later), and
// the aftercare pass's expiry notice then closes it unacknowledged, not
// late. Without the fix the notice timers escalated, to the police's duty
// role and back to the prison, a notice whose basis had ended before its
// escalation time; and, counting UTC days, they did so until midnight
// UTC, an hour after the basis had ended in Copenhagen.
func TestNoticeWhoseBasisEndedIsNotEscalatedBeforeTheExpiryNotice(t *testing.T) {
	ctx := t.Context()
	clk := newClock(time.Date(2027, 12, 15, 22, 30, 0, 0, time.UTC))
	s := startStack(t, stackOptions{serverNow: clk.Now})
	rec, _ := dkRelease(t, s)
	rec.GetReleaseNotice().ProbationUntil = "2027-12-15"
	nr, err := s.exchange(t, dkPrison).Notify(ctx, &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_BREACH_OF_CONDITIONS, Recipients: []string{"dk-police-aarhus"},
		Record: rec, Subject: probationAttrs("2027-12-15"), Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Breach of the conditions of supervision.",
	})
	if err != nil || len(nr.GetResults()) != 1 || nr.GetResults()[0].GetNoticeId() == "" ||
		nr.GetResults()[0].GetAcknowledgeBy() != "2027-12-16T02:30:00Z" || nr.GetResults()[0].GetLegalBasis().GetValidUntil() != "2027-12-15" {
		t.Fatalf("Notify = %v, %v; want one required notice to the police, due 2027-12-16T02:30:00Z, under a basis ending 2027-12-15", nr, err)
	}
	id := nr.GetResults()[0].GetNoticeId()
	start, _ := s.db.Size(ctx)
	clk.Set(time.Date(2027, 12, 15, 23, 45, 0, 0, time.UTC)) // 00:45 on 16 December in Copenhagen
	if held, err := s.srv.RunTimers(ctx); err != nil || !held {
		t.Fatalf("RunTimers = %v, %v", held, err)
	}
	if esc := s.entriesOf(t, "notice_escalate", start); len(esc) != 0 {
		t.Errorf("the notice timers escalated a notice whose basis had ended: %+v", esc)
	}
	if err := s.srv.RunAftercare(ctx); err != nil {
		t.Fatalf("RunAftercare: %v", err)
	}
	clk.Set(time.Date(2027, 12, 16, 2, 31, 0, 0, time.UTC))
	if held, err := s.srv.RunTimers(ctx); err != nil || !held {
		t.Fatalf("RunTimers = %v, %v", held, err)
	}
	if over := s.entriesOf(t, "notice_overdue", start); len(over) != 0 {
		t.Errorf("the notice was recorded overdue: %+v", over)
	}
	listed, err := liaisonv1.NewNoticesClient(s.conn(t, dkAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, n := range listed.GetNotices() {
		if n.GetNoticeId() != id {
			continue
		}
		found = true
		if n.GetWithdrawn() == "" || n.GetLate() || n.GetEscalated() != "" {
			t.Errorf("the notice = %v; want closed unacknowledged by the expiry notice, not escalated, not late", n)
		}
	}
	if !found {
		t.Errorf("ListNotices does not list notice %s", id)
	}
}
