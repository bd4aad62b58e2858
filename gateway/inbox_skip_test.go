package gateway_test

import (
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestAcknowledgeAfterASkippingRead: a Subscribe that skips ahead (after
// set past items nobody was sent) receives nothing Acknowledge takes: the
// items it skipped were never received. The police read only the second of
// two required notices (after = the first's cursor, a cursor nobody was
// given); acknowledging the second's cursor is refused CURSOR_NOT_RECEIVED
// and leaves both open. Read from the start, both are received and
// acknowledged. Without it, the skipping read marked the agency's inbox
// sent up to the second notice, and Acknowledge logged the first notice
// acknowledged, in time, though no officer had ever been sent it.
func TestAcknowledgeAfterASkippingRead(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		police := s.exchange(t, nlPolice)
		first := notifyCompetent(t, s, "SYN-NL-0441", "Rotterdam").GetNoticeId()
		second := notifyCompetent(t, s, "SYN-NL-0442", "Rotterdam").GetNoticeId()
		stored, err := s.db.Inbox(ctx, nlPolice.agency, 0, 10)
		if err != nil || len(stored) != 2 {
			t.Fatalf("the store's inbox = %v, %v; want the two notices", stored, err)
		}
		// Read on from the first notice's cursor, never sent to anyone.
		st, err := police.Subscribe(ctx, &liaisonv1.SubscribeRequest{After: stored[0].Cursor, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []*liaisonv1.SubscribeResponse
		for {
			m, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		if len(got) != 1 || got[0].GetNotice().GetNoticeId() != second {
			t.Fatalf("the skipping read = %v, want the second notice alone", got)
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
		err, e := s.one(t, "the cursor of a skipping read", "notice_acknowledge", "refused", func() error {
			_, err := police.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: got[0].GetCursor()})
			return err
		})
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || badField(st) != "cursor" || errorReason(st) != "CURSOR_NOT_RECEIVED" {
			t.Errorf("Acknowledge after a skipping read: %v, want INVALID_ARGUMENT on cursor, CURSOR_NOT_RECEIVED", err)
		}
		if !slices.Equal(e.Reasons, []string{"CURSOR_NOT_RECEIVED"}) {
			t.Errorf("the refusal's entry reasons %v", e.Reasons)
		}
		if ids := open(); !slices.Equal(ids, []string{first, second}) {
			t.Fatalf("open notices after the refusal %v; want both (the first never received)", ids)
		}
		// Read from the start: both received, and taken.
		items := inboxItems(t, police)
		if len(items) != 2 {
			t.Fatalf("the inbox read from the start = %v, want both notices", items)
		}
		if _, err := police.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: items[1].GetCursor()}); err != nil {
			t.Fatalf("Acknowledge after reading both = %v", err)
		}
		if ids := open(); len(ids) != 0 {
			t.Errorf("open notices %v; want none", ids)
		}
	})
}

// TestReadingOnFromTheAgencysCursorReceivesTheRoleInbox: an officer who
// reads on from the cursor a colleague was last sent (the agency's inbox
// was sent that far) skips nothing in an inbox of theirs that holds no
// item up to it, and receives what it returns. The Amsterdam police read
// the notice; an escalation then goes to the duty role's inbox, never read
// before; the duty officer reads on from the notice's cursor, gets the
// escalation and acknowledges it: it is read, and a read from the start
// no longer returns it. Without it, the role's inbox counted as skipped
// ahead (its mark 0, after above it), so the acknowledgement left the
// escalation unread, its payload kept, and it came back in every read
// from the start.
func TestReadingOnFromTheAgencysCursorReceivesTheRoleInbox(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		notifyCompetent(t, s, "SYN-NL-0451", "Amsterdam")
		read := inboxItems(t, s.exchange(t, nlPoliceAms))
		if len(read) != 1 || read[0].GetNotice() == nil {
			t.Fatalf("the Amsterdam officer's inbox = %v, want the notice", read)
		}
		clk.Advance(48*time.Hour + time.Minute)
		if held, err := s.srv.RunTimers(ctx); err != nil || !held {
			t.Fatalf("RunTimers = %v, %v", held, err)
		}
		duty := s.exchange(t, nlDutyAms)
		st, err := duty.Subscribe(ctx, &liaisonv1.SubscribeRequest{After: read[0].GetCursor(), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []*liaisonv1.SubscribeResponse
		for {
			m, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		if len(got) != 1 || got[0].GetEscalation() == nil {
			t.Fatalf("the duty officer's read on from the notice = %v, want the escalation", got)
		}
		if _, err := duty.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: got[0].GetCursor()}); err != nil {
			t.Fatalf("Acknowledge of the escalation read = %v", err)
		}
		for _, it := range inboxItems(t, duty) {
			if it.GetEscalation() != nil {
				t.Errorf("the escalation read and acknowledged is still in the duty role's inbox (cursor %d)", it.GetCursor())
			}
		}
	})
}
