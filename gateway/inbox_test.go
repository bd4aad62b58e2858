package gateway_test

import (
	"database/sql"
	"slices"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestRequiredNoticesPage: ListNotices reads on past a full page (start),
// as ListObligationNotices does, in log order; without it an auditor saw
// the first 1000 notices and could not learn of the rest, and a repeated
// call returned the same page. The third notice is sent by a replica whose
// clock is an hour behind (its sent time is the earliest): it is still
// listed, last, where its delivery is in the log. The read's entry records
// start; a negative start is refused, and the refusal logged.
func TestRequiredNoticesPage(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		var want []string
		for _, n := range []struct{ subject, municipality string }{
			{"SYN-NL-0411", "Amsterdam"}, {"SYN-NL-0412", "Rotterdam"}, {"SYN-NL-0413", "Amsterdam"},
		} {
			if len(want) == 2 {
				clk.Set(caseStart.Add(-time.Hour))
			}
			want = append(want, notifyCompetent(t, s, n.subject, n.municipality).GetNoticeId())
			clk.Set(caseStart.Add(time.Minute))
		}
		nc := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor))
		all, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
		if err != nil || len(all.GetNotices()) != 3 {
			t.Fatalf("ListNotices = %v, %v; want three notices", all, err)
		}
		var got []string
		var idx []int64
		start := int64(0)
		for range 4 {
			var page *liaisonv1.ListNoticesResponse
			_, e := s.one(t, "a page", "audit_read", "ok", func() (err error) {
				page, err = nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{Limit: 1, Start: start})
				return err
			})
			if start > 0 && e.Detail["start"] != strconv.FormatInt(start, 10) {
				t.Errorf("the read's entry detail = %v, want start %d", e.Detail, start)
			}
			if len(page.GetNotices()) == 0 {
				break
			}
			if len(page.GetNotices()) != 1 {
				t.Fatalf("a page of limit 1 holds %d notices", len(page.GetNotices()))
			}
			n := page.GetNotices()[0]
			got, idx = append(got, n.GetNoticeId()), append(idx, n.GetAuditIndex())
			start = n.GetAuditIndex() + 1
		}
		if !slices.Equal(got, want) || !slices.IsSorted(idx) {
			t.Errorf("pages of one read notices %v (entries %v), want %v, one a page, in log order", got, idx, want)
		}
		var ids []string
		for _, n := range all.GetNotices() {
			ids = append(ids, n.GetNoticeId())
		}
		if !slices.Equal(ids, want) {
			t.Errorf("ListNotices lists %v, want %v: in log order", ids, want)
		}
		err, e := s.one(t, "start -1", "audit_read", "refused", func() error {
			_, err := nc.ListNotices(ctx, &liaisonv1.ListNoticesRequest{Start: -1})
			return err
		})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "start" {
			t.Errorf("ListNotices(start -1): %v, want INVALID_ARGUMENT naming start", err)
		}
		if e.Detail["field"] != "start" || !slices.Equal(e.Reasons, []string{"INVALID_ARGUMENT"}) {
			t.Errorf("the refusal's entry = %v %v, want field start, INVALID_ARGUMENT", e.Detail, e.Reasons)
		}
	})
}

// TestAcknowledgeOnlyWhatWasReceived: Acknowledge refuses a cursor beyond
// the last item Subscribe has sent from the agency's inbox: a made-up
// one, and that of an item delivered after the agency's last read. Each
// refusal is one refused entry (INVALID_ARGUMENT on cursor,
// CURSOR_NOT_RECEIVED) and acknowledges nothing; the cursor last read is
// taken, from any officer of the agency once one has read that far.
// Without the check, the police acknowledged both required notices, one
// of which they had never read, with a cursor they had never been given.
func TestAcknowledgeOnlyWhatWasReceived(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		police := s.exchange(t, nlPolice)
		refused := func(what string, cursor int64) {
			t.Helper()
			err, e := s.one(t, what, "notice_acknowledge", "refused", func() error {
				_, err := police.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: cursor})
				return err
			})
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument || badField(st) != "cursor" || errorReason(st) != "CURSOR_NOT_RECEIVED" {
				t.Errorf("%s: %v, want INVALID_ARGUMENT on cursor, reason CURSOR_NOT_RECEIVED", what, err)
			}
			if !slices.Equal(e.Reasons, []string{"CURSOR_NOT_RECEIVED"}) || e.Detail["field"] != "cursor" ||
				e.Detail["cursor"] != strconv.FormatInt(cursor, 10) || e.Requester.Agency != nlPolice.agency || e.Requester.Officer != nlPolice.id {
				t.Errorf("%s: entry reasons %v, detail %v, requester %+v", what, e.Reasons, e.Detail, e.Requester)
			}
		}
		open := func() []string {
			t.Helper()
			r, err := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{UnacknowledgedOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, n := range r.GetNotices() {
				ids = append(ids, n.GetNoticeId())
			}
			return ids
		}

		first := notifyCompetent(t, s, "SYN-NL-0421", "Rotterdam").GetNoticeId()
		// Nothing read yet: no cursor is taken.
		refused("a made-up cursor before any read", 1<<40)
		items := inboxItems(t, police)
		if len(items) != 1 || items[0].GetNotice().GetNoticeId() != first {
			t.Fatalf("the police's inbox = %v, want the first notice", items)
		}
		read := items[0].GetCursor()
		// A notice delivered after the read: its cursor is not taken, nor
		// is a made-up one, and neither acknowledges anything.
		second := notifyCompetent(t, s, "SYN-NL-0422", "Rotterdam").GetNoticeId()
		var unread int64
		st, err := s.db.Inbox(ctx, nlPolice.agency, read, 10)
		if err != nil || len(st) != 1 {
			t.Fatalf("the store's inbox after the read = %v, %v; want the second notice", st, err)
		}
		unread = st[0].Cursor
		refused("the cursor of an item delivered after the last read", unread)
		refused("a made-up cursor", unread+1000)
		if got := open(); !slices.Equal(got, []string{first, second}) {
			t.Fatalf("after the refusals, open notices %v; want both", got)
		}
		// The cursor read is taken: the first notice only.
		_, e := s.one(t, "the cursor read", "notice_acknowledge", "ok", func() error {
			_, err := police.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: read})
			return err
		})
		if e.Detail["notice_id"] != first {
			t.Errorf("the acknowledgement's entry = %v, want the first notice", e.Detail)
		}
		if got := open(); !slices.Equal(got, []string{second}) {
			t.Fatalf("open notices %v; want the second", got)
		}
		// Another officer of the agency reads the second; the agency has
		// received it, and the police's officer may acknowledge it.
		colleague := officer{nlPolice.agency, "insp.jansen", []string{"case_officer"}, "restricted"}
		if items := inboxItems(t, s.exchange(t, colleague)); len(items) != 1 || items[0].GetCursor() != unread {
			t.Fatalf("the colleague's inbox = %v, want the second notice", items)
		}
		_, e = s.one(t, "the cursor a colleague read", "notice_acknowledge", "ok", func() error {
			_, err := police.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: unread})
			return err
		})
		if e.Detail["notice_id"] != second {
			t.Errorf("the acknowledgement's entry = %v, want the second notice", e.Detail)
		}
		if got := open(); len(got) != 0 {
			t.Errorf("open notices %v; want none", got)
		}
	})
}

// TestAcknowledgeLeavesUnsentInboxesUnread: an officer's Acknowledge marks
// their own inbox and their roles' read only as far as Subscribe has sent
// them. The duty officer, who has not read yet, acknowledges the agency's
// inbox up to a cursor a colleague read: the escalation waiting in the
// duty role's inbox, never sent to anyone, stays there, and the duty
// officer reads it afterwards. Without it, the escalation was marked read
// and its payload dropped, unseen.
func TestAcknowledgeLeavesUnsentInboxesUnread(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		first := notifyCompetent(t, s, "SYN-NL-0431", "Amsterdam").GetNoticeId()
		clk.Advance(48*time.Hour + time.Minute)
		if held, err := s.srv.RunTimers(ctx); err != nil || !held {
			t.Fatalf("RunTimers = %v, %v", held, err)
		}
		notifyCompetent(t, s, "SYN-NL-0432", "Amsterdam")
		// An officer without the duty role reads the agency's inbox: both
		// notices, past the escalation's cursor.
		items := inboxItems(t, s.exchange(t, nlPoliceAms))
		if len(items) != 2 || items[0].GetEscalation() != nil || items[1].GetEscalation() != nil {
			t.Fatalf("the Amsterdam officer's inbox = %v, want the two notices", items)
		}
		// The duty officer acknowledges up to there without reading.
		if _, err := s.exchange(t, nlDutyAms).Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: items[1].GetCursor()}); err != nil {
			t.Fatalf("the duty officer's Acknowledge = %v", err)
		}
		var esc []*liaisonv1.Escalation
		for _, it := range inboxItems(t, s.exchange(t, nlDutyAms)) {
			if x := it.GetEscalation(); x != nil {
				esc = append(esc, x)
			}
			if it.GetNotice() != nil {
				t.Errorf("the acknowledged notice %s is still in the agency's inbox", it.GetNotice().GetNoticeId())
			}
		}
		if len(esc) != 1 || esc[0].GetNoticeId() != first || esc[0].GetTarget() != liaisonv1.EscalationTarget_ESCALATION_TARGET_DUTY_ROLE {
			t.Errorf("the duty officer's escalations after acknowledging unread = %v, want the first notice's, still unread", esc)
		}
	})
}

// TestAcknowledgePastAnUnreadableItem: an item that does not open has
// been reported to the agency by its cursor (DATA_LOSS,
// INBOX_ITEM_UNREADABLE), which Acknowledge then takes, so that the agency
// is not left with an item it can neither read nor acknowledge.
func TestAcknowledgePastAnUnreadableItem(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	police := s.exchange(t, dkPolice)
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, releaseNotice(s)); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", s.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE inbox SET payload = X'00' WHERE recipient = ?", dkPolice.agency); err != nil {
		t.Fatal(err)
	}
	st, err := police.Subscribe(ctx, &liaisonv1.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Recv()
	info := errorInfo(err)
	if status.Code(err) != codes.DataLoss || info.GetReason() != "INBOX_ITEM_UNREADABLE" {
		t.Fatalf("Subscribe = %v, want DATA_LOSS INBOX_ITEM_UNREADABLE", err)
	}
	cursor, _ := strconv.ParseInt(info.GetMetadata()["cursor"], 10, 64)
	if _, err := police.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: cursor}); err != nil {
		t.Fatalf("Acknowledge(the unreadable item's cursor %d) = %v", cursor, err)
	}
	if got := inboxItems(t, police); len(got) != 0 {
		t.Errorf("after acknowledging it, the inbox holds %v", got)
	}
}
