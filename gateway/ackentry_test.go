package gateway_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// Sent and Ack fail too while armed (faultStore, auditread_test.go).
func (f *faultStore) Sent(ctx context.Context, inbox string) (int64, error) {
	if err := f.fault("Sent", inbox); err != nil {
		return 0, err
	}
	return f.testStore.Sent(ctx, inbox)
}

func (f *faultStore) Ack(ctx context.Context, inbox string, cursor int64) error {
	if err := f.fault("Ack", inbox); err != nil {
		return err
	}
	return f.testStore.Ack(ctx, inbox, cursor)
}

// TestAcknowledgeEndsInOneEntry: every Exchange.Acknowledge ends in an
// entry. One that acknowledges a required notice is that notice's entry;
// one with nothing open up to its cursor (the notice acknowledged
// already, or none delivered) marks the inbox read and is one entry of
// its own, notice_acknowledge ok with its cursor and no notice_id; one
// whose store fails (reading the notices, the inbox's sent mark, or
// marking it read) is one failed entry, with the reason its error
// carries (AUDIT_UNAVAILABLE). A direct call with no authenticated
// caller is one refused entry (NO_CREDENTIALS). Without the fix none of
// these calls left any entry.
func TestAcknowledgeEndsInOneEntry(t *testing.T) {
	clk := newCaseClock(caseStart)
	fs := &faultStore{}
	s := startStack(t, stackOptions{serverNow: clk.Now, faults: fs})
	ctx := t.Context()
	police := s.exchange(t, nlPolice)
	notice := notifyCompetent(t, s, "SYN-NL-0431", "Rotterdam").GetNoticeId()
	items := inboxItems(t, police)
	if len(items) != 1 {
		t.Fatalf("the police's inbox = %v, want the notice", items)
	}
	cursor := items[0].GetCursor()
	ack := func() error {
		_, err := police.Acknowledge(ctx, &liaisonv1.AcknowledgeRequest{Cursor: cursor})
		return err
	}
	ownEntry := func(what string, e *audit.Entry) {
		t.Helper()
		if e.Detail["notice_id"] != "" || e.Detail["cursor"] != strconv.FormatInt(cursor, 10) ||
			e.Requester.Agency != nlPolice.agency || e.Requester.Officer != nlPolice.id || e.Subject != nil {
			t.Errorf("%s: entry detail %v, requester %+v, subject %+v; want the cursor, no notice, the officer, no person",
				what, e.Detail, e.Requester, e.Subject)
		}
	}
	failed := func(what string) {
		t.Helper()
		err, e := s.one(t, what, "notice_acknowledge", "failed", ack)
		if st := status.Convert(err); st.Code() != codes.Unavailable || errorReason(st) != "AUDIT_UNAVAILABLE" {
			t.Errorf("%s: %v, want UNAVAILABLE, AUDIT_UNAVAILABLE", what, err)
		}
		if !slices.Equal(e.Reasons, []string{"AUDIT_UNAVAILABLE"}) {
			t.Errorf("%s: entry reasons %v, want AUDIT_UNAVAILABLE", what, e.Reasons)
		}
		ownEntry(what, e)
	}

	// The notices cannot be read: nothing is acknowledged.
	fs.arm("Notices", errors.New("the database does not answer"), nil)
	failed("the notices unreadable")
	fs.disarm()
	fs.arm("Sent", errors.New("the database does not answer"), nil)
	failed("the sent mark unreadable")
	fs.disarm()

	_, e := s.one(t, "the notice", "notice_acknowledge", "ok", ack)
	if e.Detail["notice_id"] != notice {
		t.Errorf("the acknowledgement's entry = %v, want notice %s", e.Detail, notice)
	}
	// Acknowledged already: nothing open up to the cursor.
	_, e = s.one(t, "nothing open", "notice_acknowledge", "ok", ack)
	ownEntry("nothing open", e)
	if len(e.Reasons) != 0 {
		t.Errorf("nothing open: reasons %v, want none", e.Reasons)
	}
	fs.arm("Ack", errors.New("the database does not answer"), nil)
	failed("the inbox not marked read")
	fs.disarm()

	// No authenticated caller (the interceptors refuse one first; a
	// direct call is refused here, and logged).
	err, e := s.one(t, "no caller", "notice_acknowledge", "refused", func() error {
		_, err := s.srv.Acknowledge(context.Background(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
		return err
	})
	if st := status.Convert(err); st.Code() != codes.Unauthenticated || errorReason(st) != "NO_CREDENTIALS" {
		t.Errorf("no caller: %v, want UNAUTHENTICATED, NO_CREDENTIALS", err)
	}
	if !slices.Equal(e.Reasons, []string{"NO_CREDENTIALS"}) || e.Requester.Agency != "" {
		t.Errorf("no caller: entry reasons %v, requester %+v", e.Reasons, e.Requester)
	}
}
