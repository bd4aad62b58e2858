package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// escalations returns the escalations in the inboxes an officer with
// role reads at a country's gateway.
func (c *country) escalations(t *testing.T, agency, officer, role string) []*liaisonv1.Escalation {
	t.Helper()
	var out []*liaisonv1.Escalation
	for _, m := range c.inboxAs(t, agency, officer, role) {
		if x := m.GetEscalation(); x != nil {
			out = append(out, x)
		}
	}
	return out
}

// trackedNotices lists a country's tracked required notices, as its
// auditors see them.
func (c *country) trackedNotices(t *testing.T) []*liaisonv1.TrackedNotice {
	t.Helper()
	resp, err := liaisonv1.NewNoticesClient(c.dial(t, c.auditingAgency(), "dpo.1", "auditor")).ListNotices(t.Context(), &liaisonv1.ListNoticesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetNotices()
}

// errorReason is a gRPC error's google.rpc.ErrorInfo reason; "" if it
// has none.
func errorReason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i.GetReason()
		}
	}
	return ""
}

// retryAfter is an error's google.rpc.RetryInfo delay; 0 if it has none.
func retryAfter(err error) time.Duration {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}

// auditorAgency is, per country, the agency whose officer dpo.1 audits
// its gateway in these tests.
var auditorAgency = map[string]string{"DK": "dk-prison-east", "NL": "nl-probation"}

// auditingAgency is the agency whose officer dpo.1 audits a country's
// gateway: c.auditAs, else auditorAgency's.
func (c *country) auditingAgency() string {
	if c.auditAs != "" {
		return c.auditAs
	}
	return auditorAgency[c.Jurisdiction]
}

// auditorToken returns a country's auditing agency and a token of its auditor.
func (c *country) auditorToken(t *testing.T) (agency, token string) {
	t.Helper()
	agency = c.auditingAgency()
	tok, err := c.Issuers[agency].Mint(devpki.TokenSpec{Officer: "dpo.1", Roles: []string{"auditor"}, Clearance: "restricted", Audience: "liaison"})
	if err != nil {
		t.Fatal(err)
	}
	return agency, tok
}

// audit runs `liaison audit <command> [args]` for a country's auditor
// against its gateway and returns what it prints.
func (c *country) audit(t *testing.T, command string, args ...string) string {
	t.Helper()
	agency, tok := c.auditorToken(t)
	var out bytes.Buffer
	argv := append([]string{"audit", command, "-gateway", c.opts.Listen, "-cert", c.Path("agencies", agency+".pem"),
		"-key", c.Path("agencies", agency+".key"), "-ca", c.Path("ca.pem"), "-token", tok}, args...)
	if err := run(t.Context(), argv, &out, &out); err != nil {
		t.Fatalf("liaison audit %s at the %s gateway: %v\n%s", command, c.Jurisdiction, err, &out)
	}
	return out.String()
}

// consoleNotices opens the notices page of `liaison console`, run for a
// country's auditor against its gateway, and returns it.
func (c *country) consoleNotices(t *testing.T) string {
	t.Helper()
	agency, tok := c.auditorToken(t)
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token.jwt")
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link, _, _ := startConsoleCmd(t, []string{"console", "-gateway", c.opts.Listen, "-listen", "127.0.0.1:0",
		"-cert", c.Path("agencies", agency+".pem"), "-key", c.Path("agencies", agency+".key"), "-ca", c.Path("ca.pem"),
		"-token-file", tokFile, "-verifier-key", c.vkey, "-state", filepath.Join(dir, "trusted")})
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	if code, page := browse(t, hc, link); code != http.StatusOK {
		t.Fatalf("%s console login = %d:\n%s", c.Jurisdiction, code, page)
	}
	code, page := browse(t, hc, strings.SplitN(link, "/login", 2)[0]+"/notices")
	if code != http.StatusOK {
		t.Fatalf("%s console notices page = %d:\n%s", c.Jurisdiction, code, page)
	}
	return page
}

// TestFederatedRequiredNotice: the Danish prison tells the Rotterdam
// police, through both gateways, that a person's release date is set.
// The Danish law requires the police to acknowledge it (rule
// dk.notice.release.police), and both gateways track it under one id and
// one deadline. A day later nobody has acknowledged it: the Dutch gateway
// escalates to the Rotterdam police's duty role, in its inbox there, and
// the Danish gateway back to the prison, in its inbox here; each log
// records its half. The Rotterdam police then acknowledge at their own
// gateway. While the Danish gateway is down, that fails (Unavailable) and
// the notice stays open; once it is back, the acknowledgement closes the
// notice in both logs, each naming the other with a receipt.
func TestFederatedRequiredNotice(t *testing.T) {
	var ahead atomic.Int64 // how far both gateways' clocks run ahead
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	f := startFederationWith(t, fedConfig{now: clock})
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
		Justification: "The person will live in Rotterdam after release.",
	})
	if err != nil {
		t.Fatalf("Notify through both gateways: %v", err)
	}
	i := slices.IndexFunc(resp.GetResults(), func(r *liaisonv1.RecipientResult) bool { return r.GetRecipient() == "nl-police-rotterdam" })
	if i < 0 || resp.GetResults()[i].GetNoticeId() == "" || resp.GetResults()[i].GetAcknowledgeBy() == "" {
		t.Fatalf("results %v; want a required notice to nl-police-rotterdam, with its id and deadline", resp.GetResults())
	}
	id, by := resp.GetResults()[i].GetNoticeId(), resp.GetResults()[i].GetAcknowledgeBy()

	// One notice, one id and one deadline, in both logs and the inbox.
	dk, nl := f.dk.all(t, "notify", "kf.notice"), f.nl.all(t, "notify", "kf.notice")
	if len(dk) != 2 || len(nl) != 1 || dk[1].Outcome != audit.OutcomeDisclose || nl[0].Outcome != audit.OutcomeDisclose {
		t.Fatalf("Danish notify entries %v, Dutch %v; want pending and disclose, and disclose", outcomes(dk), outcomes(nl))
	}
	for _, e := range []*audit.Entry{dk[0], dk[1], nl[0]} {
		if e.Detail["notice_id"] != id || e.Detail["acknowledge_by"] != by || e.Detail["notice_rule"] != "dk.notice.release.police" {
			t.Errorf("entry %s detail %v; want notice %s due %s under dk.notice.release.police", e.Outcome, e.Detail, id, by)
		}
	}
	var item *liaisonv1.SubscribeResponse
	for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
		if m.GetNotice() != nil {
			item = m
		}
	}
	if item == nil || item.GetNotice().GetNoticeId() != id || item.GetNotice().GetAcknowledgeBy() != by || item.GetNotice().GetRule() != "dk.notice.release.police" {
		t.Fatalf("the Rotterdam police's inbox item %v; want notice %s due %s", item, id, by)
	}
	for c, peer := range map[*country]string{f.dk: "nl-gateway", f.nl: "dk-gateway"} {
		ns := c.trackedNotices(t)
		if len(ns) != 1 || ns[0].GetNoticeId() != id || ns[0].GetAcknowledgeBy() != by || ns[0].GetAcknowledged() != "" ||
			ns[0].GetSender() != "dk-prison-east" || ns[0].GetRecipient() != "nl-police-rotterdam" || ns[0].GetPeer() != peer {
			t.Fatalf("%s gateway tracks %v; want the one open notice %s, tracked at %s too", c.Jurisdiction, ns, id, peer)
		}
		// Each country's auditor sees on the console's notices page that
		// the other gateway tracks it too.
		page := c.consoleNotices(t)
		row := regexp.MustCompile(`(?s)<tr data-entry="\d+"[^>]*>.*?</tr>`).FindAllString(page, -1)
		if len(row) != 1 || !strings.Contains(row[0], "nl-police-rotterdam") || !strings.Contains(row[0], "tracked at peer gateway "+peer+" too") {
			t.Errorf("%s console's required notices %q; want the open notice, tracked at %s too", c.Jurisdiction, row, peer)
		}
	}

	// Past the escalation time: each gateway escalates to the inbox it holds.
	esc, err := time.Parse(time.RFC3339, dk[1].Detail["escalate_at"])
	if err != nil {
		t.Fatal(err)
	}
	ahead.Store(int64(time.Until(esc) + time.Minute))
	for _, c := range []*country{f.dk, f.nl} {
		if _, err := c.gw.Server.RunTimers(t.Context()); err != nil {
			t.Fatalf("%s timers: %v", c.Jurisdiction, err)
		}
	}
	dkEsc, nlEsc := f.dk.all(t, "notice_escalate", ""), f.nl.all(t, "notice_escalate", "")
	if len(dkEsc) != 1 || dkEsc[0].Detail["escalated_to"] != "dk-prison-east" || dkEsc[0].Detail["escalated_at_peer"] != "nl-gateway" {
		t.Errorf("Danish escalations %v; want one, to the prison, the duty role's copy at nl-gateway", details(dkEsc))
	}
	if len(nlEsc) != 1 || nlEsc[0].Detail["escalated_to"] != "nl-police-rotterdam/role/duty_officer" || nlEsc[0].Detail["escalated_at_peer"] != "dk-gateway" {
		t.Errorf("Dutch escalations %v; want one, to the duty role, the sender's copy at dk-gateway", details(nlEsc))
	}
	if x := f.dk.escalations(t, "dk-prison-east", "kf.notice", "case_officer"); len(x) != 1 || x[0].GetNoticeId() != id ||
		x[0].GetTarget() != liaisonv1.EscalationTarget_ESCALATION_TARGET_SENDER {
		t.Errorf("the Danish prison's escalations %v; want the sender's copy of %s", x, id)
	}
	if x := f.nl.escalations(t, "nl-police-rotterdam", "duty.smit", "duty_officer"); len(x) != 1 || x[0].GetNoticeId() != id ||
		x[0].GetTarget() != liaisonv1.EscalationTarget_ESCALATION_TARGET_DUTY_ROLE {
		t.Errorf("the Rotterdam duty officers' escalations %v; want the duty role's copy of %s", x, id)
	}

	// A forged forward: an agency is no peer gateway.
	if _, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{NoticeId: id}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Acknowledge by notice id from an agency = %v; want InvalidArgument", err)
	}

	// The Danish gateway is down: the acknowledgement stands at the Dutch
	// gateway, at the time it was made, and is to be forwarded.
	police := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries")
	f.dk.gw.Stop()
	f.dk.gw = nil
	ackResp, err := police.Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: item.GetCursor()})
	if err != nil || !slices.Equal(ackResp.GetDeferredNoticeIds(), []string{id}) {
		t.Fatalf("Acknowledge with the Danish gateway down = %v, %v; want success, the forward of %s deferred", ackResp, err, id)
	}
	if ns := f.nl.trackedNotices(t); len(ns) != 1 || ns[0].GetAcknowledged() == "" || ns[0].GetLate() || !ns[0].GetForwardPending() {
		t.Fatalf("Dutch notices after the deferred acknowledgement %v; want it acknowledged in time, its forward pending", ns)
	}
	nlAck := f.nl.all(t, "notice_acknowledge", "insp.de.vries")
	if len(nlAck) != 3 || nlAck[0].Outcome != audit.OutcomeRefused || nlAck[0].Detail["field"] != "notice_id" ||
		nlAck[1].Outcome != audit.OutcomePending || nlAck[2].Outcome != audit.OutcomeOK || nlAck[2].Detail["peer_outcome"] != "deferred" ||
		nlAck[2].Detail["late"] != "false" || len(nlAck[2].Reasons) != 0 {
		t.Fatalf("Dutch acknowledgements %v %v; want the forged forward's refusal, then pending and ok with the forward deferred", outcomes(nlAck), details(nlAck))
	}
	ackIndex, acked := f.nl.trackedNotices(t)[0].GetAckAuditIndex(), nlAck[2].Time
	if out := f.nl.audit(t, "notices"); !strings.Contains(out, "dk-gateway (acknowledgement not forwarded yet: not taken yet, tried again)") {
		t.Errorf("liaison audit notices at the Dutch gateway, the forward pending:\n%s", out)
	}
	if out := f.nl.audit(t, "notices", "-forward-pending"); !strings.Contains(out, id) || !strings.Contains(out, "\n1 notice\n") {
		t.Errorf("liaison audit notices -forward-pending at the Dutch gateway:\n%s", out)
	}
	// The Dutch console lists the acknowledgement as waiting for the
	// Danish gateway.
	if row := forwardRows(f.nl.consoleNotices(t)); len(row) != 1 || !strings.Contains(row[0], fmt.Sprintf(`data-forward="%d"`, ackIndex)) ||
		!strings.Contains(row[0], "required notice") || !strings.Contains(row[0], "peer gateway dk-gateway") {
		t.Errorf("the Dutch console's acknowledgements waiting for a peer gateway: %q; want the one of entry %d, waiting for dk-gateway", row, ackIndex)
	}

	// The Dutch timers try to forward it while the Danish gateway is away:
	// one attempt, then a wait before the next.
	if _, err := f.nl.gw.Server.RunTimers(t.Context()); err == nil {
		t.Error("the Dutch timers forwarded to a stopped gateway without an error")
	}
	if _, err := f.nl.gw.Server.RunTimers(t.Context()); err != nil {
		t.Errorf("the Dutch timers, right after a failed forward: %v; want them to wait", err)
	}
	if got := outcomes(f.nl.all(t, "notice_acknowledge", "insp.de.vries")[3:]); !slices.Equal(got, []string{"pending", "failed"}) {
		t.Fatalf("Dutch entries of the forward while the Danish gateway is away: %v; want one attempt, pending then failed", got)
	}
	if n, oldest := f.nl.awaitingPeer(t, "required_notice"); n != 1 || oldest <= 0 || oldest > 3600 {
		t.Errorf("the Dutch gateway's metrics: %v required notices' acknowledgements awaiting the peer, the oldest for %v s; want 1", n, oldest)
	}

	// Back, with the deadline passed meanwhile: the forward closes the
	// notice in the Danish log at the time the police acknowledged, so in
	// time. The Dutch gateway's connection may still be backing off.
	gw, err := startGateway(t.Context(), f.dk.opts)
	if err != nil {
		t.Fatalf("restart the Danish gateway: %v", err)
	}
	f.dk.gw = gw // stopped by startFederationWith's clean-up
	deadline, _ := time.Parse(time.RFC3339, by)
	ahead.Store(int64(time.Until(deadline) + time.Hour))
	// The Danish gateway, which has not heard of the acknowledgement yet,
	// records the deadline passing.
	if _, err := f.dk.gw.Server.RunTimers(t.Context()); err != nil {
		t.Fatal(err)
	}
	if o := f.dk.all(t, "notice_overdue", ""); len(o) != 1 {
		t.Fatalf("Danish overdue entries %v before the forward; want one", details(o))
	}
	dkAck := untilForwarded(t, f, &ahead, "insp.de.vries")
	nlAck = f.nl.all(t, "notice_acknowledge", "insp.de.vries")[3:]
	got := outcomes(nlAck)
	if n := len(got); n < 4 || n%2 != 0 || !slices.Equal(got[n-2:], []string{"pending", "ok"}) || len(dkAck) != 1 || dkAck[0].Outcome != audit.OutcomeOK {
		t.Fatalf("Dutch forwards %v, Danish acknowledgements %v; want pending and failed while the Danish gateway was away, then pending and ok; and one ok", got, outcomes(dkAck))
	}
	for i := 0; i < len(got)-2; i += 2 {
		if got[i] != "pending" || got[i+1] != "failed" || !slices.Contains(nlAck[i+1].Reasons, "PEER_UNAVAILABLE") {
			t.Errorf("Dutch forward attempt %d: %s then %s %v; want pending, then failed with PEER_UNAVAILABLE", i/2, got[i], got[i+1], nlAck[i+1].Reasons)
		}
	}
	last := nlAck[len(nlAck)-1]
	at := acked.UTC().Format(time.RFC3339Nano)
	if last.Detail["notice_id"] != id || last.Detail["forwards"] != strconv.FormatInt(ackIndex, 10) || last.Detail["acknowledged_at"] != at ||
		dkAck[0].Detail["notice_id"] != id || dkAck[0].Detail["peer_index"] != last.Detail["pending_index"] || dkAck[0].Detail["acknowledged_at"] != at ||
		dkAck[0].Detail["via_peer"] != "nl-gateway" || last.Detail["late"] != "false" || dkAck[0].Detail["late"] != "false" {
		t.Fatalf("Danish acknowledgement %v, Dutch forward %v; want notice %s acknowledged at %s (entry %d), each naming the other, not late", dkAck[0].Detail, last.Detail, id, at, ackIndex)
	}
	dkKey, _ := note.NewVerifier(f.dk.vkey)
	if r, err := gateway.VerifyReceipt(receiptIn(t, last), dkKey, "nl-police-rotterdam", nil); err != nil || r.Entry.Action != "notice_acknowledge" || r.Entry.Detail["notice_id"] != id {
		t.Errorf("the Danish receipt in the Dutch log: %+v, %v", r, err)
	}
	if out := f.nl.audit(t, "notices"); !strings.Contains(out, "dk-gateway ") || strings.Contains(out, "not forwarded yet") {
		t.Errorf("liaison audit notices at the Dutch gateway, once forwarded:\n%s", out)
	}
	if out := f.nl.audit(t, "notices", "-forward-pending"); !strings.Contains(out, "No required notice matches -forward-pending.") {
		t.Errorf("liaison audit notices -forward-pending at the Dutch gateway, once forwarded:\n%s", out)
	}
	if row := forwardRows(f.nl.consoleNotices(t)); len(row) != 0 {
		t.Errorf("the Dutch console's acknowledgements waiting for a peer gateway, once forwarded: %q; want none", row)
	}
	if n, oldest := f.nl.awaitingPeer(t, "required_notice"); n != 0 || oldest != 0 {
		t.Errorf("the Dutch gateway's metrics once forwarded: %v awaiting the peer, the oldest for %v s; want none", n, oldest)
	}
	for c, overdue := range map[*country]bool{f.dk: true, f.nl: false} {
		ns := c.trackedNotices(t)
		if len(ns) != 1 || ns[0].GetAcknowledged() != acked.UTC().Format(time.RFC3339) || ns[0].GetLate() || ns[0].GetForwardPending() ||
			(ns[0].GetOverdue() != "") != overdue {
			t.Errorf("%s gateway tracks %v; want notice %s acknowledged in time, at %s, nothing pending, overdue recorded %v", c.Jurisdiction, ns, id, acked, overdue)
		}
	}
	// Forwarded once: the timers do not forward it again, and record no
	// deadline passing at the Dutch gateway, nor again at the Danish one.
	for c, want := range map[*country]int{f.dk: 1, f.nl: 0} {
		if _, err := c.gw.Server.RunTimers(t.Context()); err != nil {
			t.Fatal(err)
		}
		if o := c.all(t, "notice_overdue", ""); len(o) != want {
			t.Errorf("%s overdue entries %v; want %d", c.Jurisdiction, details(o), want)
		}
	}
	if n := len(f.nl.all(t, "notice_acknowledge", "insp.de.vries")); n != 3+len(nlAck) {
		t.Errorf("the Dutch timers logged %d more acknowledgement entries after the forward; want none", n-3-len(nlAck))
	}
}

// forwardRows are the rows of the console notices page's list of
// acknowledgements waiting for a peer gateway.
func forwardRows(page string) []string {
	return regexp.MustCompile(`(?s)<tr data-forward="\d+"[^>]*>.*?</tr>`).FindAllString(page, -1)
}

// untilForwarded runs the Dutch gateway's timers, moving both gateways'
// clocks past the longest wait between two attempts each time, until the
// Danish gateway logs officer's forwarded acknowledgement, and returns
// the Danish entries. The Dutch gateway's connection to a Danish gateway
// just restarted may still be backing off.
func untilForwarded(t *testing.T, f *federation, ahead *atomic.Int64, officer string) []*audit.Entry {
	t.Helper()
	for wait := time.Now().Add(30 * time.Second); time.Now().Before(wait); time.Sleep(200 * time.Millisecond) {
		ahead.Add(int64(16 * time.Minute))
		f.nl.gw.Server.RunTimers(t.Context())
		if dk := f.dk.all(t, "notice_acknowledge", officer); len(dk) > 0 {
			return dk
		}
	}
	t.Fatal("the Dutch gateway never forwarded the acknowledgement")
	return nil
}

// details lists entries' details, for messages.
func details(es []*audit.Entry) []map[string]string {
	var out []map[string]string
	for _, e := range es {
		out = append(out, e.Detail)
	}
	return out
}

// TestFederatedRequiredNoticeUnknownAtSender: the Danish gateway does not
// track a required notice the Dutch gateway delivered (here its tracked
// notice is deleted while it is stopped, as if its final entry had
// failed). The Rotterdam police's acknowledgement still closes the notice
// at their gateway, whose final entry says the Danish gateway did not know
// it; the Danish gateway logs its refusal (NOTICE_UNKNOWN).
func TestFederatedRequiredNoticeUnknownAtSender(t *testing.T) {
	var ahead atomic.Int64
	f := startFederationWith(t, fedConfig{now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
		Justification: "The person will live in Rotterdam after release.",
	})
	if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify = %v, %v; want one required notice", resp, err)
	}
	id := resp.GetResults()[0].GetNoticeId()
	f.dk.gw.Stop()
	f.dk.gw = nil
	db, err := sql.Open("sqlite", f.dk.opts.AuditDB)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := db.Exec("DELETE FROM notices WHERE id = ?", id); err != nil {
		t.Fatal(err)
	} else if n, _ := r.RowsAffected(); n != 1 {
		t.Fatalf("deleted %d Danish notices; want 1", n)
	}
	db.Close()
	gw, err := startGateway(t.Context(), f.dk.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.dk.gw = gw

	var cursor int64
	for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
		if m.GetNotice().GetNoticeId() == id {
			cursor = m.GetCursor()
		}
	}
	police := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries")
	// The Dutch gateway's connection may still be backing off: then the
	// acknowledgement is deferred, and forwarded from the timers.
	resp2, err := police.Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
	if err != nil {
		t.Fatalf("the Rotterdam police's Acknowledge: %v", err)
	}
	if len(resp2.GetDeferredNoticeIds()) > 0 {
		untilForwarded(t, f, &ahead, "insp.de.vries")
	}
	nlAck, dkAck := f.nl.all(t, "notice_acknowledge", "insp.de.vries"), f.dk.all(t, "notice_acknowledge", "insp.de.vries")
	last := nlAck[len(nlAck)-1]
	if last.Outcome != audit.OutcomeOK || last.Detail["peer_outcome"] != "notice_unknown" || last.Detail["notice_id"] != id {
		t.Errorf("the Dutch acknowledgement %s %v; want ok, the Danish gateway not knowing notice %s", last.Outcome, last.Detail, id)
	}
	if len(dkAck) != 1 || dkAck[0].Outcome != audit.OutcomeRefused || !slices.Contains(dkAck[0].Reasons, "NOTICE_UNKNOWN") {
		t.Errorf("Danish acknowledgements %v; want one refused with NOTICE_UNKNOWN", outcomes(dkAck))
	} else if dkAck[0].Detail["peer_index"] != last.Detail["pending_index"] || last.Detail["peer_denial"] != "verified" ||
		last.Detail["peer_index"] != strconv.Itoa(f.dk.indexOf(t, dkAck[0])) || last.Detail["peer_receipt"] == "" {
		// The refusal answers this very forward, and carries the receipt
		// of the Danish entry of it, which the Dutch entry records.
		t.Errorf("the Danish refusal names Dutch entry %q; the Dutch acknowledgement %v; want the refusal of its pending entry, verified by its receipt",
			dkAck[0].Detail["peer_index"], last.Detail)
	}
	if ns := f.nl.trackedNotices(t); len(ns) != 1 || ns[0].GetAcknowledged() == "" {
		t.Errorf("Dutch notices %v; want %s acknowledged", ns, id)
	}
}

// TestFederatedRequiredNoticeToSeveral: one Notify of a release date to
// the Aarhus police at home and to the Rotterdam and Amsterdam police
// across the border makes three required notices, each with its own id:
// the Danish gateway tracks all three, the Dutch gateway the two it
// delivered, each in its recipient's inbox alone. The Amsterdam police's
// acknowledgement closes theirs in both logs and no other; the Aarhus
// police close theirs at home. Past the escalation time only Rotterdam's
// is escalated, once on each side.
func TestFederatedRequiredNoticeToSeveral(t *testing.T) {
	var ahead atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	f := startFederationWith(t, fedConfig{now: clock})
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	police := []string{"dk-police-aarhus", "nl-police-rotterdam", "nl-police-amsterdam"}
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: police,
		Justification: "The person may live in Aarhus, Rotterdam or Amsterdam after release.",
	})
	if err != nil {
		t.Fatalf("Notify at home and through the Dutch gateway: %v", err)
	}
	ids := map[string]string{} // recipient -> notice id
	for _, r := range resp.GetResults() {
		if r.GetNoticeId() != "" {
			ids[r.GetRecipient()] = r.GetNoticeId()
		}
	}
	if len(ids) != 3 || ids[police[0]] == ids[police[1]] || ids[police[1]] == ids[police[2]] || ids[police[0]] == ids[police[2]] {
		t.Fatalf("results %v; want three required notices, one per police, each with its own id", resp.GetResults())
	}
	peerOf := func(ns []*liaisonv1.TrackedNotice) map[string]string { // id -> peer
		out := map[string]string{}
		for _, n := range ns {
			out[n.GetNoticeId()] = n.GetPeer()
		}
		return out
	}
	if got, want := peerOf(f.dk.trackedNotices(t)), map[string]string{ids[police[0]]: "", ids[police[1]]: "nl-gateway", ids[police[2]]: "nl-gateway"}; !maps.Equal(got, want) {
		t.Fatalf("the Danish gateway tracks %v; want %v", got, want)
	}
	if got, want := peerOf(f.nl.trackedNotices(t)), map[string]string{ids[police[1]]: "dk-gateway", ids[police[2]]: "dk-gateway"}; !maps.Equal(got, want) {
		t.Fatalf("the Dutch gateway tracks %v; want %v", got, want)
	}
	inboxNotices := func(c *country, agency string) (cursor int64, got []string) {
		for _, m := range c.inbox(t, agency) {
			if n := m.GetNotice(); n.GetNoticeId() != "" {
				cursor, got = m.GetCursor(), append(got, n.GetNoticeId())
			}
		}
		return cursor, got
	}
	cursors := map[string]int64{}
	for _, p := range police {
		c := map[bool]*country{true: f.nl, false: f.dk}[strings.HasPrefix(p, "nl-")]
		cur, got := inboxNotices(c, p)
		if !slices.Equal(got, []string{ids[p]}) {
			t.Fatalf("%s's inbox holds notices %v; want its own, %s", p, got, ids[p])
		}
		cursors[p] = cur
	}

	// Amsterdam and Aarhus acknowledge, each at its own gateway.
	if _, err := f.nl.client(t, "nl-police-amsterdam", "insp.bakker").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursors[police[2]]}); err != nil {
		t.Fatalf("the Amsterdam police's Acknowledge: %v", err)
	}
	if _, err := f.dk.client(t, "dk-police-aarhus", "pi.holm").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursors[police[0]]}); err != nil {
		t.Fatalf("the Aarhus police's Acknowledge: %v", err)
	}
	open := func(c *country) []string {
		var out []string
		for _, n := range c.trackedNotices(t) {
			if n.GetAcknowledged() == "" {
				out = append(out, n.GetNoticeId())
			}
		}
		return out
	}
	for _, c := range []*country{f.dk, f.nl} {
		if got := open(c); !slices.Equal(got, []string{ids[police[1]]}) {
			t.Errorf("%s gateway: open notices %v; want Rotterdam's alone, %s", c.Jurisdiction, got, ids[police[1]])
		}
	}
	if a := f.dk.all(t, "notice_acknowledge", "insp.bakker"); len(a) != 1 || a[0].Outcome != audit.OutcomeOK || a[0].Detail["notice_id"] != ids[police[2]] {
		t.Errorf("Danish entries of the Amsterdam acknowledgement %v; want one ok of %s", details(a), ids[police[2]])
	}

	// Past the escalation time only Rotterdam's is escalated, on each side.
	esc, err := time.Parse(time.RFC3339, resp.GetResults()[0].GetAcknowledgeBy())
	if err != nil {
		t.Fatal(err)
	}
	ahead.Store(int64(time.Until(esc.Add(-12*time.Hour)) + time.Minute)) // 48 h to acknowledge, escalated after 24
	for _, c := range []*country{f.dk, f.nl} {
		if _, err := c.gw.Server.RunTimers(t.Context()); err != nil {
			t.Fatalf("%s timers: %v", c.Jurisdiction, err)
		}
		if x := c.all(t, "notice_escalate", ""); len(x) != 1 || x[0].Detail["notice_id"] != ids[police[1]] {
			t.Errorf("%s escalations %v; want one, of Rotterdam's notice %s", c.Jurisdiction, details(x), ids[police[1]])
		}
	}
}

// TestFederatedWithdrawnRequiredNotice: the Danish prison withdraws the
// release that carried a required notice to the Rotterdam police before
// they read it. Each gateway closes its own copy of the notice as the
// withdrawal passes through it (ListNotices: withdrawn, by its own entry
// of the withdrawal); the police's inbox acknowledgement past it
// acknowledges nothing in either log (the call is one ok entry of its own
// at the Dutch gateway, naming no notice), and past the escalation time and the deadline
// neither gateway escalates it or records it overdue.
func TestFederatedWithdrawnRequiredNotice(t *testing.T) {
	var ahead atomic.Int64
	f := startFederationWith(t, fedConfig{now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
		Justification: "The person will live in Rotterdam after release.",
	})
	if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify = %v, %v; want one required notice", resp, err)
	}
	id, release := resp.GetResults()[0].GetNoticeId(), resp.GetResults()[0].GetAuditIndex()
	wr, err := f.dk.aftercare(t, "dk-prison-east", "kf.withdraw").Withdraw(t.Context(), &liaisonv1.WithdrawRequest{SubjectId: "SYN-DK-0001",
		Withdraws: []int64{release}, Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT,
		Justification: "The release date was not final."})
	if err != nil || len(wr.GetResults()) != 1 || wr.GetResults()[0].GetFailure() != nil {
		t.Fatalf("Withdraw = %v, %v; want the withdrawal sent", wr, err)
	}
	for _, c := range []*country{f.dk, f.nl} {
		ns := c.trackedNotices(t)
		if len(ns) != 1 || ns[0].GetNoticeId() != id || ns[0].GetWithdrawn() == "" || ns[0].GetWithdrawalAuditIndex() < 0 {
			t.Fatalf("%s gateway tracks %v; want notice %s withdrawn", c.Jurisdiction, ns, id)
		}
		w := c.all(t, audit.ActionWithdraw, "")
		if last := w[len(w)-1]; c == f.dk && ns[0].GetWithdrawalAuditIndex() != wr.GetResults()[0].GetAuditIndex() || last.Outcome != audit.OutcomeOK {
			t.Errorf("%s gateway: notice withdrawn by entry %d, last withdraw entry %s; want the withdrawal's own entry, ok", c.Jurisdiction,
				ns[0].GetWithdrawalAuditIndex(), last.Outcome)
		}
	}
	items := f.nl.inbox(t, "nl-police-rotterdam")
	if _, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(),
		&liaisonv1.AcknowledgeRequest{Cursor: items[len(items)-1].GetCursor()}); err != nil {
		t.Fatalf("the Rotterdam police's Acknowledge: %v", err)
	}
	deadline, err := time.Parse(time.RFC3339, resp.GetResults()[0].GetAcknowledgeBy())
	if err != nil {
		t.Fatal(err)
	}
	ahead.Store(int64(time.Until(deadline) + time.Hour))
	for _, c := range []*country{f.dk, f.nl} {
		if _, err := c.gw.Server.RunTimers(t.Context()); err != nil {
			t.Fatalf("%s timers: %v", c.Jurisdiction, err)
		}
		acks := c.all(t, "notice_acknowledge", "")
		if c == f.nl && len(acks) == 1 && acks[0].Outcome == audit.OutcomeOK && acks[0].Detail["notice_id"] == "" &&
			acks[0].Detail["cursor"] == strconv.FormatInt(items[len(items)-1].GetCursor(), 10) {
			acks = nil // the call's own entry: it acknowledged nothing
		}
		if len(acks) != 0 {
			t.Errorf("%s gateway: notice_acknowledge entries %v; want none of the withdrawn notice", c.Jurisdiction, details(acks))
		}
		for _, action := range []string{"notice_escalate", "notice_overdue"} {
			if x := c.all(t, action, ""); len(x) != 0 {
				t.Errorf("%s gateway: %s entries %v; want none for a withdrawn notice", c.Jurisdiction, action, details(x))
			}
		}
	}
}

// TestFederatedExpiredRequiredNotice: on the last day of the Danish
// basis (a year after the release), the Danish prison tells the
// Rotterdam police, through both gateways, that the person was released;
// the Danish law requires the police to acknowledge it, and both
// gateways track it under one id. Nobody acknowledges it before the basis
// ends at midnight. The Dutch gateway, which tracks the release to that
// end, sends the police its expiry notice, which closes its copy of the
// required notice. The Danish gateway sends none: its own timers close
// the Danish copy, with one notice_expire entry of their own, so that
// past the escalation time and the deadline neither gateway escalates
// the notice or records it overdue, and neither lists it late. When the
// prison has moved the end a day later (ReviseExpiry, forwarded to the
// Dutch gateway), neither closes its copy at the first midnight, and
// both do at the second.
func TestFederatedExpiredRequiredNotice(t *testing.T) {
	for _, revised := range []bool{false, true} {
		t.Run(map[bool]string{false: "AsReleased", true: "Revised"}[revised], func(t *testing.T) {
			testFederatedExpiredRequiredNotice(t, revised)
		})
	}
}

func testFederatedExpiredRequiredNotice(t *testing.T, revised bool) {
	awayFromMidnight(t)
	var ahead atomic.Int64
	f := startFederationWith(t, fedConfig{now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	released, probation := time.Now().AddDate(0, 0, -365).Format(time.DateOnly), time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	d.Subject.InCustody, d.Subject.ReleaseDate, d.Subject.ProbationUntil = false, released, probation
	d.Record.GetReleaseNotice().ReleaseDate, d.Record.GetReleaseNotice().ProbationUntil = released, probation
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASED,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
		Justification: "The person lives in Rotterdam since the release.",
	})
	if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify = %v, %v; want one required notice", resp, err)
	}
	res := resp.GetResults()[0]
	id, end := res.GetNoticeId(), res.GetLegalBasis().GetValidUntil()
	last, err := time.Parse(time.DateOnly, end)
	if err != nil || end != time.Now().Format(time.DateOnly) {
		t.Fatalf("the Danish basis ends %q; want today, a year after the release", end)
	}
	deadline, err := time.Parse(time.RFC3339, res.GetAcknowledgeBy())
	if err != nil {
		t.Fatal(err)
	}
	entries := func(c *country, action string) []audit.Record {
		t.Helper()
		recs, err := c.gw.Audit.Query(t.Context(), audit.Filter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	timers := func() {
		t.Helper()
		for _, c := range []*country{f.nl, f.dk} {
			if err := c.gw.Server.RunAftercare(t.Context()); err != nil {
				t.Fatalf("%s aftercare timers: %v", c.Jurisdiction, err)
			}
			if _, err := c.gw.Server.RunTimers(t.Context()); err != nil {
				t.Fatalf("%s notice timers: %v", c.Jurisdiction, err)
			}
		}
	}
	open := func(when string) {
		t.Helper()
		for _, c := range []*country{f.dk, f.nl} {
			if ns := c.trackedNotices(t); len(ns) != 1 || ns[0].GetNoticeId() != id || ns[0].GetWithdrawn() != "" {
				t.Fatalf("%s gateway %s tracks %v; want notice %s open", c.Jurisdiction, when, ns, id)
			}
		}
		if x, y := entries(f.dk, "notice_expire"), entries(f.nl, audit.ActionExpire); len(x) != 0 || len(y) != 0 {
			t.Fatalf("%s: %d Danish notice_expire entries, %d Dutch expiry notices; want none", when, len(x), len(y))
		}
	}
	// The basis's last day: nothing ends yet.
	timers()
	open("on the basis's last day")
	if revised {
		// The release moves a day later, and the basis's end with it.
		attrs := proto.CloneOf(d.GetSubject())
		attrs.ReleaseDate = daysAfter(t, released, 1)
		rv, err := f.dk.aftercare(t, "dk-prison-east", "kf.revise").ReviseExpiry(t.Context(), &liaisonv1.ReviseExpiryRequest{
			SubjectId: "SYN-DK-0001", Subject: attrs, Justification: "The release date was a day later."})
		end = daysAfter(t, end, 1)
		if err != nil || len(rv.GetReleases()) != 1 || !rv.GetReleases()[0].GetMoved() || rv.GetReleases()[0].GetValidUntil() != end {
			t.Fatalf("ReviseExpiry = %v, %v; want the release's end moved to %s", rv, err, end)
		}
		ahead.Store(int64(time.Until(last.AddDate(0, 0, 1).Add(time.Minute))))
		timers()
		open("past the first midnight, the end moved a day later")
		last = last.AddDate(0, 0, 1)
	}

	// Just past midnight, before the deadline: the basis has ended.
	ahead.Store(int64(time.Until(last.AddDate(0, 0, 1).Add(time.Minute))))
	timers()
	expiry := entries(f.nl, audit.ActionExpire)
	if len(expiry) != 1 || expiry[0].Entry.Outcome != audit.OutcomeOK {
		t.Fatalf("Dutch expiry notices %d; want one", len(expiry))
	}
	closed, dkBy := entries(f.dk, "notice_expire"), int64(-2)
	if len(closed) != 1 {
		t.Errorf("Danish notice_expire entries %d; want one: its copy of notice %s closed when the basis ended", len(closed), id)
	} else if e := closed[0].Entry; e.Outcome != audit.OutcomeOK || e.Detail["notice_id"] != id || e.Detail["late"] != "false" || e.Detail["expired_at_peer"] != "nl-gateway" ||
		e.LegalBasis == nil || e.LegalBasis.ValidUntil != end || !slices.Contains(e.Reasons, "LEGAL_BASIS_EXPIRED") ||
		e.Holder.Agency != "dk-prison-east" || len(e.Recipients) != 1 || e.Recipients[0].Agency != "nl-police-rotterdam" {
		t.Errorf("the Danish notice_expire entry %+v, detail %v; want notice %s closed by the timers, in time, its basis ended %s at the Dutch gateway",
			e, e.Detail, id, end)
	} else if strings.Contains(string(closed[0].Leaf), "SYN-DK-0001") {
		t.Error("the Danish notice_expire entry names the person's identifier")
	} else {
		dkBy = closed[0].Index
	}

	// Past the deadline: nothing left to do.
	ahead.Store(int64(time.Until(deadline) + time.Hour))
	timers()
	for c, by := range map[*country]int64{f.dk: dkBy, f.nl: expiry[0].Index} {
		ns := c.trackedNotices(t)
		if len(ns) != 1 || ns[0].GetNoticeId() != id || ns[0].GetWithdrawn() == "" || ns[0].GetWithdrawalAuditIndex() != by || ns[0].GetLate() {
			t.Errorf("%s gateway tracks %v; want notice %s withdrawn by entry %d, not late", c.Jurisdiction, ns, id, by)
		}
		for _, action := range []string{"notice_acknowledge", "notice_escalate", "notice_overdue"} {
			if x := c.all(t, action, ""); len(x) != 0 {
				t.Errorf("%s gateway: %s entries %v; want none for a notice whose basis ended", c.Jurisdiction, action, details(x))
			}
		}
	}
	if x := entries(f.dk, "notice_expire"); len(x) != 1 {
		t.Errorf("Danish notice_expire entries after more passes: %d; want still one", len(x))
	}
	if x := f.dk.escalations(t, "dk-prison-east", "kf.notice", "case_officer"); len(x) != 0 {
		t.Errorf("the Danish prison's escalations %v; want none", x)
	}
}

// TestFederatedExpiredCorrectedRequiredNotice: as
// TestFederatedExpiredRequiredNotice, but the Danish prison corrects the
// release notice across the border before its basis ends, once keeping
// the release date (its contact point changed) and once moving it a day
// later (the basis then ends a day later too). The correction is a
// release in its own right, which the Dutch gateway tracks in the
// original's stead: its expiry notice names the correction, and still
// closes every open required notice of the release, the one the original
// delivered among them. The Danish gateway closes its copies when the
// corrected basis ends (the correction's date, not the original's): with
// the date moved, neither gateway closes anything at the first midnight,
// and both close everything at the second.
func TestFederatedExpiredCorrectedRequiredNotice(t *testing.T) {
	for _, moved := range []bool{false, true} {
		t.Run(map[bool]string{false: "DateKept", true: "DateMoved"}[moved], func(t *testing.T) {
			testFederatedExpiredCorrectedRequiredNotice(t, moved)
		})
	}
}

func testFederatedExpiredCorrectedRequiredNotice(t *testing.T, moved bool) {
	awayFromMidnight(t)
	var ahead atomic.Int64
	f := startFederationWith(t, fedConfig{now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	released, probation := time.Now().AddDate(0, 0, -365).Format(time.DateOnly), time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	d.Subject.InCustody, d.Subject.ReleaseDate, d.Subject.ProbationUntil = false, released, probation
	d.Record.GetReleaseNotice().ReleaseDate, d.Record.GetReleaseNotice().ProbationUntil = released, probation
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASED,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
		Justification: "The person lives in Rotterdam since the release.",
	})
	if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify = %v, %v; want one required notice", resp, err)
	}
	end := resp.GetResults()[0].GetLegalBasis().GetValidUntil()
	last, err := time.Parse(time.DateOnly, end)
	if err != nil || end != time.Now().Format(time.DateOnly) {
		t.Fatalf("the Danish basis ends %q; want today, a year after the release", end)
	}
	corrected := proto.CloneOf(d.GetRecord())
	if moved {
		corrected.GetReleaseNotice().ReleaseDate = daysAfter(t, released, 1)
		end = daysAfter(t, end, 1)
	} else {
		corrected.GetReleaseNotice().ContactPoint = "Kriminalforsorgen Øst, Aarhus office"
	}
	cr, err := f.dk.aftercare(t, "dk-prison-east", "kf.correct").Correct(t.Context(), &liaisonv1.CorrectRequest{
		Record: corrected, Justification: "The release notice was wrong."})
	if err != nil || len(cr.GetResults()) != 1 || cr.GetResults()[0].GetFailure() != nil ||
		cr.GetResults()[0].GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("Correct = %v, %v; want the correction delivered through the Dutch gateway", cr, err)
	}
	entries := func(c *country, action string) []audit.Record {
		t.Helper()
		recs, err := c.gw.Audit.Query(t.Context(), audit.Filter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	timers := func() {
		t.Helper()
		for _, c := range []*country{f.nl, f.dk} {
			if err := c.gw.Server.RunAftercare(t.Context()); err != nil {
				t.Fatalf("%s aftercare timers: %v", c.Jurisdiction, err)
			}
			if _, err := c.gw.Server.RunTimers(t.Context()); err != nil {
				t.Fatalf("%s notice timers: %v", c.Jurisdiction, err)
			}
		}
	}
	openIDs := func(c *country) []string {
		t.Helper()
		var out []string
		for _, n := range c.trackedNotices(t) {
			if n.GetAcknowledged() == "" && n.GetWithdrawn() == "" {
				out = append(out, n.GetNoticeId())
			}
		}
		return out
	}
	before := map[*country][]string{f.dk: openIDs(f.dk), f.nl: openIDs(f.nl)}
	if len(before[f.dk]) == 0 || !slices.Equal(before[f.dk], before[f.nl]) {
		t.Fatalf("open notices before the basis ends: Danish %v, Dutch %v; want the same, at least one", before[f.dk], before[f.nl])
	}
	unchanged := func(when string) {
		t.Helper()
		for c, want := range before {
			if got := openIDs(c); !slices.Equal(got, want) {
				t.Fatalf("%s gateway %s: open notices %v; want still %v", c.Jurisdiction, when, got, want)
			}
		}
		if x, y := entries(f.dk, "notice_expire"), entries(f.nl, audit.ActionExpire); len(x) != 0 || len(y) != 0 {
			t.Fatalf("%s: %d Danish notice_expire entries, %d Dutch expiry notices; want none", when, len(x), len(y))
		}
	}
	timers()
	unchanged("on the basis's last day")
	if moved {
		ahead.Store(int64(time.Until(last.AddDate(0, 0, 1).Add(time.Minute))))
		timers()
		unchanged("past the first midnight, the corrected basis ending a day later")
		last = last.AddDate(0, 0, 1)
	}

	// Past the end of the corrected basis: every notice of the release
	// is closed on both sides.
	ahead.Store(int64(time.Until(last.AddDate(0, 0, 1).Add(time.Minute))))
	timers()
	expiry := entries(f.nl, audit.ActionExpire)
	if len(expiry) != 1 || expiry[0].Entry.Detail[audit.DetailRefersTo] != strconv.FormatInt(f.nl.lastCorrection(t), 10) {
		t.Fatalf("Dutch expiry notices %d; want one, naming the Dutch entry of the correction", len(expiry))
	}
	for _, c := range []*country{f.dk, f.nl} {
		if got := openIDs(c); len(got) != 0 {
			t.Errorf("%s gateway past the end of the corrected basis: open notices %v; want none", c.Jurisdiction, got)
		}
	}
	closed := entries(f.dk, "notice_expire")
	if len(closed) != len(before[f.dk]) {
		t.Errorf("Danish notice_expire entries %d; want one per open notice, %d", len(closed), len(before[f.dk]))
	}
	for _, r := range closed {
		if e := r.Entry; e.LegalBasis == nil || e.LegalBasis.ValidUntil != end || e.Detail["late"] != "false" {
			t.Errorf("Danish notice_expire of %s: basis %+v, late %s; want the corrected basis, ended %s, in time", e.Detail["notice_id"], e.LegalBasis, e.Detail["late"], end)
		}
	}
	ahead.Store(int64(time.Until(last.AddDate(0, 0, 5))))
	timers()
	for _, c := range []*country{f.dk, f.nl} {
		for _, action := range []string{"notice_acknowledge", "notice_escalate", "notice_overdue"} {
			if x := c.all(t, action, ""); len(x) != 0 {
				t.Errorf("%s gateway: %s entries %v; want none for notices whose basis ended", c.Jurisdiction, action, details(x))
			}
		}
	}
}

// lastCorrection is the index of the last correction a country's log
// records as sent.
func (c *country) lastCorrection(t *testing.T) int64 {
	t.Helper()
	recs, err := c.gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionCorrect})
	if err != nil {
		t.Fatal(err)
	}
	x := int64(-1)
	for _, r := range recs {
		if _, ok := audit.NoticeOf(r.Index, r.Entry); ok && r.Entry.Detail[audit.DetailNoticeKind] == audit.NoticeCorrection {
			x = r.Index
		}
	}
	return x
}

// TestFederatedCorrectionRequiredNotice: the Danish prison told the
// Rotterdam police, through both gateways, of a release date, a required
// notice; it then corrects the release notice, moving the date a week
// later. The correction carries the required notice of the new date
// (dk.notice.release.police covers release_date_changed), and both
// gateways track it under one id and one deadline, as a Notify's: the
// Correct result names it, the police's inbox item carries it beside the
// correction, and the notice of the old date is closed on both sides by
// the correction. Past the escalation time each gateway escalates it to
// the inbox it holds; the police's acknowledgement at their own gateway
// is forwarded, and closes it in both logs.
func TestFederatedCorrectionRequiredNotice(t *testing.T) {
	var ahead atomic.Int64
	f := startFederationWith(t, fedConfig{now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
		Justification: "The person will live in Rotterdam after release.",
	})
	if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify = %v, %v; want one required notice", resp, err)
	}
	first := resp.GetResults()[0].GetNoticeId()
	corrected := proto.CloneOf(d.GetRecord())
	corrected.GetReleaseNotice().ReleaseDate = daysAfter(t, d.GetRecord().GetReleaseNotice().GetReleaseDate(), 7)
	cr, err := f.dk.aftercare(t, "dk-prison-east", "kf.correct").Correct(t.Context(), &liaisonv1.CorrectRequest{
		Record: corrected, Justification: "The release was postponed by a week."})
	if err != nil || len(cr.GetResults()) != 1 || cr.GetResults()[0].GetFailure() != nil {
		t.Fatalf("Correct = %v, %v; want the correction delivered through the Dutch gateway", cr, err)
	}
	res := cr.GetResults()[0]
	id, by := res.GetNoticeId(), res.GetAcknowledgeBy()
	if id == "" || id == first || by == "" {
		t.Fatalf("Correct result %v; want a required notice of its own, with its id and deadline", res)
	}

	// Both logs track it, under one id and deadline; the old date's
	// notice is closed by the correction on each side.
	for c, peer := range map[*country]string{f.dk: "nl-gateway", f.nl: "dk-gateway"} {
		got := map[string]*liaisonv1.TrackedNotice{}
		for _, n := range c.trackedNotices(t) {
			got[n.GetNoticeId()] = n
		}
		n, old := got[id], got[first]
		if len(got) != 2 || n == nil || old == nil {
			t.Fatalf("%s gateway tracks %v; want notices %s and %s", c.Jurisdiction, got, first, id)
		}
		if n.GetAcknowledgeBy() != by || n.GetAcknowledged() != "" || n.GetWithdrawn() != "" || n.GetPeer() != peer ||
			n.GetSender() != "dk-prison-east" || n.GetRecipient() != "nl-police-rotterdam" || n.GetEventType() != liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_CHANGED {
			t.Errorf("%s gateway tracks the correction's notice as %v; want it open, due %s, release_date_changed, tracked at %s too", c.Jurisdiction, n, by, peer)
		}
		if old.GetWithdrawn() == "" || old.GetWithdrawalAuditIndex() != n.GetAuditIndex() {
			t.Errorf("%s gateway tracks the old date's notice as %v; want it withdrawn by the correction (entry %d)", c.Jurisdiction, old, n.GetAuditIndex())
		}
	}
	var item *liaisonv1.SubscribeResponse
	for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
		if m.GetObligation() != nil {
			item = m
		}
	}
	if item == nil || item.GetNotice().GetNoticeId() != id || item.GetNotice().GetAcknowledgeBy() != by ||
		item.GetObligation().GetKind() != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		t.Fatalf("the Rotterdam police's correction %v; want it to carry notice %s due %s", item, id, by)
	}

	// Past the escalation time: each gateway escalates it to the inbox it holds.
	var esc time.Time
	for _, e := range f.dk.all(t, audit.ActionCorrect, "kf.correct") {
		if e.Detail["notice_id"] == id && e.Outcome != audit.OutcomePending {
			esc, _ = time.Parse(time.RFC3339, e.Detail["escalate_at"])
		}
	}
	if esc.IsZero() {
		t.Fatal("the Danish entry of the correction names no escalation time")
	}
	ahead.Store(int64(time.Until(esc) + time.Minute))
	for _, c := range []*country{f.dk, f.nl} {
		if _, err := c.gw.Server.RunTimers(t.Context()); err != nil {
			t.Fatalf("%s timers: %v", c.Jurisdiction, err)
		}
	}
	dkEsc, nlEsc := f.dk.all(t, "notice_escalate", ""), f.nl.all(t, "notice_escalate", "")
	if len(dkEsc) != 1 || dkEsc[0].Detail["notice_id"] != id || dkEsc[0].Detail["escalated_to"] != "dk-prison-east" {
		t.Errorf("Danish escalations %v; want one of %s, to the prison", details(dkEsc), id)
	}
	if len(nlEsc) != 1 || nlEsc[0].Detail["notice_id"] != id || nlEsc[0].Detail["escalated_to"] != "nl-police-rotterdam/role/duty_officer" {
		t.Errorf("Dutch escalations %v; want one of %s, to the duty role", details(nlEsc), id)
	}

	// The police acknowledge at their gateway: closed in both logs.
	ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: item.GetCursor()})
	if err != nil || len(ack.GetDeferredNoticeIds()) != 0 {
		t.Fatalf("the Rotterdam police's Acknowledge = %v, %v; want it forwarded at once", ack, err)
	}
	for _, c := range []*country{f.dk, f.nl} {
		for _, n := range c.trackedNotices(t) {
			if n.GetNoticeId() == id && (n.GetAcknowledged() == "" || n.GetForwardPending()) {
				t.Errorf("%s gateway tracks %v; want notice %s acknowledged", c.Jurisdiction, n, id)
			}
		}
	}
	if a := f.dk.all(t, "notice_acknowledge", "insp.de.vries"); len(a) != 1 || a[0].Outcome != audit.OutcomeOK || a[0].Detail["notice_id"] != id ||
		a[0].Detail["via_peer"] != "nl-gateway" {
		t.Errorf("Danish acknowledgements %v; want one ok of %s, forwarded by nl-gateway", details(a), id)
	}
}

// TestPeerNoticeClaimIsVerified: the Danish gateway answers the Rotterdam
// police's forwarded acknowledgement of a required notice with
// NOTICE_WITHDRAWN, NOTICE_UNKNOWN or ALREADY_ACKNOWLEDGED but no receipt
// of an entry of that refusal (here the hostile peer puts any of them in
// place of its answer; an unverified ALREADY_ACKNOWLEDGED counted as done
// before). The
// Dutch gateway does not take it on that word: its acknowledgement
// stands, but the entry says the claim is unverified, and the forward
// stays due (deferred, forward_pending), so its timers forward it again
// and the notice is closed in the Danish log too. A real NOTICE_WITHDRAWN
// (the Danish timers closed their copy when the basis ended, before the
// Dutch ones had) carries the receipt of the Danish refusal, bound to the
// forward, and settles it.
func TestPeerNoticeClaimIsVerified(t *testing.T) {
	for _, tc := range []struct {
		reason string
		code   codes.Code
	}{{"NOTICE_WITHDRAWN", codes.FailedPrecondition}, {"NOTICE_UNKNOWN", codes.InvalidArgument}, {"ALREADY_ACKNOWLEDGED", codes.PermissionDenied}} {
		t.Run(tc.reason, func(t *testing.T) {
			var ahead atomic.Int64
			f := startFederationWith(t, fedConfig{hostile: "DK", now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
			d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
			resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
				EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
				Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
				Justification: "The person will live in Rotterdam after release.",
			})
			if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
				t.Fatalf("Notify = %v, %v; want one required notice", resp, err)
			}
			id := resp.GetResults()[0].GetNoticeId()
			f.hostile.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
				if method != "Acknowledge" {
					return resp, err
				}
				st, _ := status.New(tc.code, "nothing to acknowledge here").WithDetails(&errdetails.ErrorInfo{Reason: tc.reason, Domain: "liaison.gateway"})
				return nil, st.Err()
			})
			var cursor int64
			for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
				if m.GetNotice().GetNoticeId() == id {
					cursor = m.GetCursor()
				}
			}
			ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
			if err != nil || !slices.Equal(ack.GetDeferredNoticeIds(), []string{id}) {
				t.Fatalf("Acknowledge, the Danish answer an unverified %s = %v, %v; want success, the forward of %s deferred", tc.reason, ack, err, id)
			}
			nl := f.nl.all(t, "notice_acknowledge", "insp.de.vries")
			last := nl[len(nl)-1]
			if last.Outcome != audit.OutcomeOK || last.Detail["peer_outcome"] != strings.ToLower(tc.reason) || last.Detail["peer_denial"] != "unverified" ||
				last.Detail["peer_index"] != "" || last.Detail["peer_receipt"] != "" {
				t.Errorf("the Dutch acknowledgement %s %v; want ok, peer_outcome %s, peer_denial unverified, no Danish index", last.Outcome, last.Detail, strings.ToLower(tc.reason))
			}
			if ns := f.nl.trackedNotices(t); len(ns) != 1 || ns[0].GetAcknowledged() == "" || !ns[0].GetForwardPending() || ns[0].GetWithdrawn() != "" {
				t.Fatalf("Dutch notices %v; want %s acknowledged, its forward pending", ns, id)
			}
			// The timers forward it again, the answer still unverified:
			// one failed attempt, and the forward stays due.
			ahead.Add(int64(time.Minute))
			if _, err := f.nl.gw.Server.RunTimers(t.Context()); err == nil {
				t.Error("the Dutch timers took an unverified claim as the forward's answer")
			}
			nl = f.nl.all(t, "notice_acknowledge", "insp.de.vries")
			if last := nl[len(nl)-1]; last.Outcome != audit.OutcomeFailed || !slices.Contains(last.Reasons, "PEER_CLAIM_UNVERIFIED") || last.Detail["peer_denial"] != "unverified" {
				t.Errorf("the Dutch forward %s %v %v; want failed, PEER_CLAIM_UNVERIFIED, peer_denial unverified", last.Outcome, last.Reasons, last.Detail)
			}
			if ns := f.nl.trackedNotices(t); len(ns) != 1 || !ns[0].GetForwardPending() {
				t.Fatalf("Dutch notices %v; want the forward of %s still pending", ns, id)
			}
			// The Danish gateway answers for itself again: the forward
			// goes through, and the notice is closed in both logs.
			f.hostile.setAnswer(nil)
			for wait := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				ahead.Add(int64(16 * time.Minute))
				f.nl.gw.Server.RunTimers(t.Context())
				if ns := f.nl.trackedNotices(t); len(ns) == 1 && !ns[0].GetForwardPending() {
					break
				}
				if time.Now().After(wait) {
					t.Fatal("the Dutch gateway never forwarded the acknowledgement")
				}
			}
			for _, c := range []*country{f.dk, f.nl} {
				if ns := c.trackedNotices(t); len(ns) != 1 || ns[0].GetAcknowledged() == "" || ns[0].GetForwardPending() || ns[0].GetWithdrawn() != "" {
					t.Errorf("%s gateway tracks %v; want %s acknowledged, nothing pending", c.Jurisdiction, ns, id)
				}
			}
		})
	}
	t.Run("WithdrawnVerified", func(t *testing.T) {
		awayFromMidnight(t)
		var ahead atomic.Int64
		f := startFederationWith(t, fedConfig{now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
		d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
		released, probation := time.Now().AddDate(0, 0, -365).Format(time.DateOnly), time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
		d.Subject.InCustody, d.Subject.ReleaseDate, d.Subject.ProbationUntil = false, released, probation
		d.Record.GetReleaseNotice().ReleaseDate, d.Record.GetReleaseNotice().ProbationUntil = released, probation
		resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
			EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASED,
			Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
			Justification: "The person lives in Rotterdam since the release.",
		})
		if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
			t.Fatalf("Notify = %v, %v; want one required notice", resp, err)
		}
		id := resp.GetResults()[0].GetNoticeId()
		last, _ := time.Parse(time.DateOnly, resp.GetResults()[0].GetLegalBasis().GetValidUntil())
		// Past midnight the Danish timers close their copy; the Dutch
		// ones have not run yet.
		ahead.Store(int64(time.Until(last.AddDate(0, 0, 1).Add(time.Minute))))
		if _, err := f.dk.gw.Server.RunTimers(t.Context()); err != nil {
			t.Fatal(err)
		}
		var cursor int64
		for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
			if m.GetNotice().GetNoticeId() == id {
				cursor = m.GetCursor()
			}
		}
		ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
		if err != nil {
			t.Fatalf("Acknowledge: %v", err)
		}
		if len(ack.GetDeferredNoticeIds()) > 0 {
			untilForwarded(t, f, &ahead, "insp.de.vries") // the connection was backing off
		}
		dk := f.dk.all(t, "notice_acknowledge", "insp.de.vries")
		nl := f.nl.all(t, "notice_acknowledge", "insp.de.vries")
		last2 := nl[len(nl)-1]
		if len(dk) != 1 || dk[0].Outcome != audit.OutcomeRefused || !slices.Contains(dk[0].Reasons, "NOTICE_WITHDRAWN") {
			t.Fatalf("Danish acknowledgements %v; want one refused NOTICE_WITHDRAWN", outcomes(dk))
		}
		if last2.Outcome != audit.OutcomeOK || last2.Detail["peer_outcome"] != "notice_withdrawn" || last2.Detail["peer_denial"] != "verified" ||
			last2.Detail["peer_index"] != strconv.Itoa(f.dk.indexOf(t, dk[0])) || dk[0].Detail["peer_index"] != last2.Detail["pending_index"] {
			t.Errorf("the Dutch acknowledgement %s %v; want ok, notice_withdrawn verified by the Danish refusal of its pending entry", last2.Outcome, last2.Detail)
		}
		if ns := f.nl.trackedNotices(t); len(ns) != 1 || ns[0].GetAcknowledged() == "" || ns[0].GetForwardPending() {
			t.Errorf("Dutch notices %v; want %s acknowledged, nothing pending", ns, id)
		}
	})
}

// awayFromMidnight waits, when the next midnight UTC is less than five
// minutes away, until it has passed. A test that works out today's date
// when it builds its release and again when the gateways' clocks judge
// the release's last day would otherwise see two different days.
func awayFromMidnight(t *testing.T) {
	t.Helper()
	now := time.Now().UTC()
	if d := now.Truncate(24*time.Hour).AddDate(0, 0, 1).Sub(now); d < 5*time.Minute {
		t.Logf("waiting %v for midnight UTC to pass: the test works out today's date more than once", d.Round(time.Second))
		time.Sleep(d + time.Second)
	}
}
