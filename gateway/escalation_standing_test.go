package gateway_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestEscalationOfAnOffboardedRecipientGoesToTheSenderOnly: the prison
// sends the Amsterdam police a required notice, and the police are
// offboarded before they acknowledge it. The gateway delivers nothing to
// an offboarded agency (README: only corrections and withdrawals of what
// it received before), and nobody can read its duty role's inbox any
// more: the escalation goes to the sender only, its Escalation and the
// notice_escalate entry saying the recipient was offboarded. The timers
// used to deliver it to the offboarded police's duty role as well.
func TestEscalationOfAnOffboardedRecipientGoesToTheSenderOnly(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		n := notifyCompetent(t, s, "SYN-NL-0403", "Amsterdam")
		offboardNow(t, s, nlPoliceAms, "the Amsterdam police offboarded")
		dutyBox := nlPoliceAms.agency + "/role/duty_officer"
		before, err := s.db.Inbox(ctx, dutyBox, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		start, _ := s.db.Size(ctx)
		esc := escalatedPastDeadline(t, s, clk, start, n.GetNoticeId())
		if d := esc[0].Detail; d["escalated_to"] != nlPrison.agency || d["recipient_standing"] != "offboarded" || d["sender_standing"] != "" {
			t.Errorf("the escalation's entry: escalated_to %q, recipient_standing %q, sender_standing %q; want the prison only, the recipient offboarded",
				d["escalated_to"], d["recipient_standing"], d["sender_standing"])
		}
		after, err := s.db.Inbox(ctx, dutyBox, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Errorf("the offboarded police's duty role inbox grew from %d to %d items; the gateway delivers nothing to an offboarded agency", len(before), len(after))
		}
		var got []*liaisonv1.Escalation
		for _, it := range inboxItems(t, s.exchange(t, nlPrison)) {
			if x := it.GetEscalation(); x != nil && x.GetNoticeId() == n.GetNoticeId() {
				got = append(got, x)
			}
		}
		if len(got) != 1 || got[0].GetTarget() != liaisonv1.EscalationTarget_ESCALATION_TARGET_SENDER || got[0].GetRecipientStanding() != "offboarded" {
			t.Errorf("the prison's escalations of the notice = %v; want one, to the sender, saying the recipient was offboarded", got)
		}
		// An escalation of a registered recipient says nothing of the kind.
		m := notifyCompetent(t, s, "SYN-NL-0404", "Rotterdam")
		start, _ = s.db.Size(ctx)
		clk.Advance(48*time.Hour + time.Minute)
		if held, err := s.srv.RunTimers(ctx); err != nil || !held {
			t.Fatalf("RunTimers = %v, %v; want the lease held", held, err)
		}
		found := 0
		for _, e := range s.entriesOf(t, "notice_escalate", start) {
			if e.Detail["notice_id"] != m.GetNoticeId() {
				continue
			}
			found++
			if e.Detail["recipient_standing"] != "" || e.Detail["escalated_to"] != nlPolice.agency+"/role/duty_officer,"+nlPrison.agency {
				t.Errorf("the Rotterdam notice's escalation: %v", e.Detail)
			}
		}
		if found != 1 {
			t.Errorf("the Rotterdam notice was escalated %d times, want once", found)
		}
		// ListNotices says so too, as the escalation's entry recorded it:
		// the auditor tells the offboarded recipient's notice from one
		// the recipient did not read.
		listed, err := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
		standing := map[string]string{}
		for _, x := range listed.GetNotices() {
			standing[x.GetNoticeId()] = x.GetEscalationRecipientStanding()
		}
		if st, ok := standing[n.GetNoticeId()]; err != nil || !ok || st != "offboarded" {
			t.Errorf("ListNotices = %v, %v; want the Amsterdam notice with escalation_recipient_standing offboarded", listed, err)
		}
		if st, ok := standing[m.GetNoticeId()]; !ok || st != "" {
			t.Errorf("ListNotices = %v; want the Rotterdam notice with no escalation_recipient_standing", listed)
		}
	})
}

// TestEscalationOfAnOffboardedSenderSaysSoInTheListing: the prison sends
// the Amsterdam police a required notice, and the prison is offboarded
// before the police acknowledge it. The escalation goes to the police's
// duty role only, and its entry records sender_standing offboarded: the
// copy meant for the prison went nowhere. ListNotices says so too
// (TrackedNotice.escalation_sender_standing), as the entry recorded it,
// so that an auditor reading the list sees that the sender was not told;
// it gave no sign of it.
func TestEscalationOfAnOffboardedSenderSaysSoInTheListing(t *testing.T) {
	clk := newCaseClock(caseStart)
	onEachStore(t, stackOptions{serverNow: clk.Now}, func(t *testing.T, s *stack) {
		ctx := t.Context()
		clk.Set(caseStart)
		n := notifyCompetent(t, s, "SYN-NL-0405", "Amsterdam")
		offboardNow(t, s, nlPrison, "the prison offboarded")
		start, _ := s.db.Size(ctx)
		esc := escalatedPastDeadline(t, s, clk, start, n.GetNoticeId())
		if d := esc[0].Detail; d["escalated_to"] != nlPoliceAms.agency+"/role/duty_officer" || d["sender_standing"] != "offboarded" || d["recipient_standing"] != "" {
			t.Errorf("the escalation's entry: escalated_to %q, sender_standing %q, recipient_standing %q; want the police's duty role only, the sender offboarded",
				d["escalated_to"], d["sender_standing"], d["recipient_standing"])
		}
		listed, err := liaisonv1.NewNoticesClient(s.conn(t, nlCaseAuditor)).ListNotices(ctx, &liaisonv1.ListNoticesRequest{})
		var got *liaisonv1.TrackedNotice
		for _, x := range listed.GetNotices() {
			if x.GetNoticeId() == n.GetNoticeId() {
				got = x
			}
		}
		if err != nil || got == nil || got.GetEscalationSenderStanding() != "offboarded" || got.GetEscalationRecipientStanding() != "" {
			t.Errorf("ListNotices = %v, %v; want the notice with escalation_sender_standing offboarded, no escalation_recipient_standing", listed, err)
		}
	})
}

// offboardNow offboards o's agency in the registry file and waits until
// the gateway applies it: o's calls are then refused PERMISSION_DENIED.
func offboardNow(t *testing.T, s *stack, o officer, what string) {
	t.Helper()
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == o.agency {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	eventually(t, what, func() bool {
		_, err := s.exchange(t, o).ListReidentifications(t.Context(), &liaisonv1.ListReidentificationsRequest{})
		return status.Code(err) == codes.PermissionDenied
	})
}

// escalatedPastDeadline moves clk past the escalation time of notice id
// (48 hours), runs the timers and returns the escalation entries logged
// from start on: one, of id, or the test fails.
func escalatedPastDeadline(t *testing.T, s *stack, clk *caseClock, start int64, id string) []*audit.Entry {
	t.Helper()
	clk.Advance(48*time.Hour + time.Minute)
	if held, err := s.srv.RunTimers(t.Context()); err != nil || !held {
		t.Fatalf("RunTimers = %v, %v; want the lease held", held, err)
	}
	esc := s.entriesOf(t, "notice_escalate", start)
	if len(esc) != 1 || esc[0].Detail["notice_id"] != id {
		t.Fatalf("escalations = %+v, want one of %s", esc, id)
	}
	return esc
}
