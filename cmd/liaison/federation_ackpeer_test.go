package main

import (
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// editFederationRegistry rewrites a country's registry file as edit
// changes it, in one step (a file of its own renamed over it), after
// checking that the result loads; the gateway picks it up within seconds.
func (c *country) editFederationRegistry(t *testing.T, edit func(*gateway.RegistryFile)) {
	t.Helper()
	b, err := os.ReadFile(c.Registry)
	if err != nil {
		t.Fatal(err)
	}
	var f gateway.RegistryFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatal(err)
	}
	edit(&f)
	out, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	tmp := c.Registry + ".new"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.LoadRegistry(tmp); err != nil {
		t.Fatalf("the edited registry does not load: %v", err)
	}
	if err := os.Rename(tmp, c.Registry); err != nil {
		t.Fatal(err)
	}
}

// TestRequiredNoticeAckGoesToTheGatewayThatDelivered: the Danish prison's
// required notice reaches the Rotterdam police through the Danish gateway
// (dk-gateway); then the Dutch registry lists the prison behind another
// Danish gateway (dk-gateway-2, which does not answer), as an operator
// moving Danish agencies to a new gateway would. The notice is tracked at
// dk-gateway, which delivered it: the police's acknowledgement is
// forwarded there, and both logs close it. It used to go to the gateway
// the registry lists now, which knows nothing of it (here: does not
// answer, so the forward was deferred, to be made to it again and again).
func TestRequiredNoticeAckGoesToTheGatewayThatDelivered(t *testing.T) {
	var logs lockedBuffer
	f := startFederationWith(t, fedConfig{logs: map[string]io.Writer{"NL": &logs}})
	id := notifyRotterdamPolice(t, f)
	var cursor int64
	for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
		if m.GetNotice().GetNoticeId() == id {
			cursor = m.GetCursor()
		}
	}
	if cursor == 0 {
		t.Fatalf("the notice %s is not in the Rotterdam police's inbox", id)
	}

	reloads := strings.Count(logs.String(), "trust files reloaded")
	f.nl.editFederationRegistry(t, func(r *gateway.RegistryFile) { movePrisonBehindASecondGateway(t, r) })
	until(t, "the Dutch registry reloaded", func() bool { return strings.Count(logs.String(), "trust files reloaded") > reloads })
	if ns := f.nl.trackedNotices(t); len(ns) != 1 || ns[0].GetPeer() != "dk-gateway" {
		t.Errorf("the Dutch gateway's notices %v; want %s, tracked with dk-gateway, which delivered it", ns, id)
	}

	ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
	if err != nil || len(ack.GetDeferredNoticeIds()) != 0 {
		t.Fatalf("Acknowledge = %v, %v; want the acknowledgement forwarded to dk-gateway, which delivered the notice, nothing deferred", ack, err)
	}
	nl := f.nl.all(t, "notice_acknowledge", "insp.de.vries")
	if len(nl) != 2 || nl[1].Outcome != audit.OutcomeOK || nl[1].Detail["peer_index"] == "" || nl[1].Detail["peer_outcome"] != "" {
		t.Errorf("Dutch acknowledgements %v %v; want pending and ok, with dk-gateway's receipt", outcomes(nl), details(nl))
	}
	if i := slices.IndexFunc(f.dk.trackedNotices(t), func(n *liaisonv1.TrackedNotice) bool { return n.GetNoticeId() == id }); i < 0 ||
		f.dk.trackedNotices(t)[i].GetAcknowledged() == "" {
		t.Errorf("the Danish gateway's notice %s is not acknowledged; want it closed by the forward", id)
	}
}

// TestSenderLearnsItsPeerRecipientWasOffboarded: the Danish prison's
// required notice reaches the Rotterdam police through both gateways, and
// the Danish registry then offboards the police. The duty role's copy of
// the escalation is the Dutch gateway's to send, but the Danish gateway
// will refuse the acknowledgement the Dutch one would forward for an
// agency it offboarded (AGENCY_OFFBOARDED): the notice will not be
// acknowledged in the Danish log, and the prison's escalation says so
// (Escalation.recipient_standing offboarded, and the entry's
// detail.recipient_standing), as for a local recipient offboarded. It
// said nothing of the kind.
func TestSenderLearnsItsPeerRecipientWasOffboarded(t *testing.T) {
	var ahead atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	f := startFederationWith(t, fedConfig{now: clock})
	id := notifyRotterdamPolice(t, f)
	esc := escalateAt(t, f.dk)
	f.dk.offboard(t, "nl-police-rotterdam")
	until(t, "the Danish registry reloaded", func() bool { return offboardedAt(t, f.dk, "dk-prison-east", "nl-police-rotterdam") })

	ahead.Store(int64(time.Until(esc) + time.Minute))
	escalatedOnce(t, f, id, "nl-gateway", "offboarded")
}

// notifyRotterdamPolice has the Danish prison notify the Rotterdam police
// of a release date through both gateways, and returns the id of the
// required notice it owes.
// correctionAckedAtOffboardedPeer starts the two gateways on a clock the
// test moves ahead (ahead); the Danish prison pushes a release to the
// Dutch probation service and corrects it (pushAndCorrect); the Dutch
// registry offboards the Danish gateway; then the probation service
// acknowledges the correction, which its gateway makes and holds.
func correctionAckedAtOffboardedPeer(t *testing.T) (f *federation, ahead *atomic.Int64) {
	t.Helper()
	ahead = new(atomic.Int64)
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	f = startFederationWith(t, fedConfig{now: clock})
	ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.ContactPoint = "Kriminalforsorgen Øst, Aarhus office" }, "The contact point changed.")
	f.nl.offboard(t, "dk-gateway")
	until(t, "the Dutch registry reloaded", func() bool { return offboardedAt(t, f.nl, "nl-probation", "dk-prison-east") })
	resp, err := f.nl.aftercare(t, "nl-probation", "insp.mulder").AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: ns[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Contact point replaced in our file."})
	if err != nil || !resp.GetDeferred() {
		t.Fatalf("AcknowledgeNotice = %v, %v; want the acknowledgement made here, its forward held", resp, err)
	}
	return f, ahead
}

// escalateAt is when c's gateway escalates the required notice of its
// last notify entry (detail.escalate_at).
func escalateAt(t *testing.T, c *country) time.Time {
	t.Helper()
	es := c.all(t, "notify", "kf.notice")
	esc, err := time.Parse(time.RFC3339, es[len(es)-1].Detail["escalate_at"])
	if err != nil {
		t.Fatal(err)
	}
	return esc
}

// rotterdamNoticeOnClock starts the two gateways on a clock the test moves
// ahead (ahead), has the Danish prison send the Rotterdam police a
// required notice (notifyRotterdamPolice) and returns its id and its
// cursor in their inbox.
func rotterdamNoticeOnClock(t *testing.T) (f *federation, ahead *atomic.Int64, id string, cursor int64) {
	t.Helper()
	ahead = new(atomic.Int64)
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	f = startFederationWith(t, fedConfig{now: clock})
	id = notifyRotterdamPolice(t, f)
	for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
		if m.GetNotice().GetNoticeId() == id {
			cursor = m.GetCursor()
		}
	}
	return f, ahead, id, cursor
}

func notifyRotterdamPolice(t *testing.T, f *federation) string {
	t.Helper()
	d := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.notice").Notify(t.Context(), &liaisonv1.NotifyRequest{
		EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Record:    d.GetRecord(), Subject: d.GetSubject(), Purpose: d.GetPurpose(), Recipients: []string{"nl-police-rotterdam"},
		Justification: "The person will live in Rotterdam after release.",
	})
	if err != nil || len(resp.GetResults()) != 1 || resp.GetResults()[0].GetNoticeId() == "" {
		t.Fatalf("Notify through both gateways = %v, %v; want a required notice to nl-police-rotterdam", resp, err)
	}
	return resp.GetResults()[0].GetNoticeId()
}

// movePrisonBehindASecondGateway edits a Dutch registry as an operator
// moving the Danish prison behind another Danish gateway would: a
// dk-gateway-2 with its own issuer and checkpoint key, at an address
// where nothing listens, which knows nothing of what dk-gateway delivered.
func movePrisonBehindASecondGateway(t *testing.T, r *gateway.RegistryFile) {
	_, vkey, err := audit.LoadOrCreateSignerKey(filepath.Join(t.TempDir(), "dk2.key"), "dk2.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	var second gateway.AgencyFile
	for i, a := range r.Agencies {
		switch a.ID {
		case "dk-gateway":
			second = a
		case "dk-prison-east":
			r.Agencies[i].Via = "dk-gateway-2"
		}
	}
	second.ID, second.Issuer, second.CertificateIdentity = "dk-gateway-2", second.Issuer+"/2", "spiffe://dk2.liaison.test/gateway"
	second.Provider, second.CheckpointKey = freePort(t), vkey // nothing listens there
	r.Agencies = append(r.Agencies, second)
}

// TestNoticeToAPeerThatDoesNotTrackIt: the Danish prison's required notice
// reaches the Rotterdam police through a Dutch gateway that delivers it
// without tracking it (its entry names no notice, as a gateway of a
// release before both gateways tracked such notices: here the Dutch
// answer, forged so). The Danish gateway tracks the notice alone (detail
// peer_tracks_notice false), so nothing may say the Dutch gateway tracks
// it: ListNotices names no peer (TrackedNotice.peer), and the escalation
// names none that sends the duty role's copy (detail escalated_at_peer),
// since nobody sends it; the prison's copy, and the entry, say why the
// police's duty role was not told (recipient_standing untracked), and no
// copy is left in an inbox of the police's at the Danish gateway, which
// nobody reads. ListNotices and the escalation named nl-gateway, as if it
// tracked the notice and would escalate it to the police.
func TestNoticeToAPeerThatDoesNotTrackIt(t *testing.T) {
	var ahead atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	f := startFederationWith(t, fedConfig{now: clock, hostile: "NL"})
	h := f.hostile
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if r, ok := resp.(*liaisonv1.DiscloseResponse); ok && method == "Disclose" && len(r.GetResults()) == 1 {
			r.Results[0].NoticeId, r.Results[0].AcknowledgeBy = "", ""
			r.Results[0].Receipt = h.forge(t, r.Results[0].Receipt, func(e *audit.Entry) {
				for _, k := range []string{"notice_id", "notice_rule", "acknowledge_by", "escalate_at"} {
					delete(e.Detail, k)
				}
			}, "")
		}
		return resp, err
	})
	id := notifyRotterdamPolice(t, f)
	dk := f.dk.all(t, "notify", "kf.notice")
	final := dk[len(dk)-1]
	if final.Detail["peer_tracks_notice"] != "false" || final.Detail["peer"] != "nl-gateway" {
		t.Fatalf("the Danish final entry %v; want the notice forwarded to nl-gateway, which does not track it", final.Detail)
	}
	esc, err := time.Parse(time.RFC3339, final.Detail["escalate_at"])
	if err != nil {
		t.Fatal(err)
	}
	if ns := f.dk.trackedNotices(t); len(ns) != 1 || ns[0].GetNoticeId() != id || ns[0].GetPeer() != "" {
		t.Errorf("the Danish gateway's notices %v; want %s, tracked with no peer", ns, id)
	}

	ahead.Store(int64(time.Until(esc) + time.Minute))
	escalatedOnce(t, f, id, "", "untracked")
}

// escalatedOnce runs the Danish gateway's timers (its clock past the
// deadline of notice id) and checks that they escalated it once, to the
// Danish prison, naming peer as the gateway it escalated at (none if
// empty) and the recipient's standing, and that the prison's
// escalations hold the sender's copy with that standing.
func escalatedOnce(t *testing.T, f *federation, id, peer, standing string) {
	t.Helper()
	if _, err := f.dk.gw.Server.RunTimers(t.Context()); err != nil {
		t.Fatalf("Danish timers: %v", err)
	}
	es := f.dk.all(t, "notice_escalate", "")
	if len(es) != 1 || es[0].Detail["notice_id"] != id || es[0].Detail["escalated_to"] != "dk-prison-east" ||
		es[0].Detail["escalated_at_peer"] != peer || es[0].Detail["recipient_standing"] != standing {
		t.Errorf("Danish escalations %v; want one, to the prison, escalated at peer %q, the recipient %s", details(es), peer, standing)
	}
	x := f.dk.escalations(t, "dk-prison-east", "kf.notice", "case_officer")
	if len(x) != 1 || x[0].GetNoticeId() != id || x[0].GetTarget() != liaisonv1.EscalationTarget_ESCALATION_TARGET_SENDER ||
		x[0].GetRecipientStanding() != standing {
		t.Errorf("the Danish prison's escalations %v; want the sender's copy of %s, the recipient %s", x, id, standing)
	}
	// The listings say it too, as the entry recorded it, so that the
	// prison's auditor tells "the police did not read it" from "they were
	// offboarded" or "the peer says it offboarded us".
	if ns := f.dk.trackedNotices(t); len(ns) != 1 || ns[0].GetNoticeId() != id || ns[0].GetEscalationRecipientStanding() != standing {
		t.Errorf("the Danish gateway's notices %v; want %s, escalation_recipient_standing %q", ns, id, standing)
	}
	out := f.dk.audit(t, "notices")
	page := f.dk.consoleNotices(t)
	rows := regexp.MustCompile(`(?s)<tr data-entry="\d+"[^>]*>.*?</tr>`).FindAllString(page, -1)
	if words := audit.EscalationStandings[standing]; standing != "" {
		if words == "" || !strings.Contains(out, "("+words+")") {
			t.Errorf("liaison audit notices at the Danish gateway does not say why (%q):\n%s", words, out)
		}
		if len(rows) != 1 || !strings.Contains(rows[0], "entry says: "+html.EscapeString(words)) {
			t.Errorf("the Danish console's required notices %q; want the notice, saying %q", rows, words)
		}
	} else {
		for _, w := range audit.EscalationStandings {
			if strings.Contains(out, w) || strings.Contains(page, html.EscapeString(w)) {
				t.Errorf("liaison audit notices or the console at the Danish gateway say %q of a notice escalated as usual:\n%s", w, out)
			}
		}
	}
}

// TestSenderStandingIsTheSendersGatewaysToRecord: the Danish prison's
// required notice reaches the Rotterdam police through both gateways, and
// then a registry offboards the prison, a sender behind a peer from the
// Dutch side. Each gateway escalates to the inbox it holds, and the
// sender's copy is the Danish gateway's to send: its registry says
// whether the prison is still there to get it (detail.sender_standing).
//
//   - The Danish registry offboards the prison: the Danish escalation
//     goes to nobody at home and records sender_standing offboarded. The
//     Dutch gateway cannot know another registry's mind and records no
//     sender_standing: the copy is the Danish gateway's, which says why it
//     sent none. The police's acknowledgement still closes the notice in
//     both logs (the Danish gateway takes it for a notice of an
//     offboarded sender, as for a local one).
//   - The Dutch registry offboards the prison: the Dutch gateway delivers
//     nothing to it anyway (the copy is the Danish gateway's), and refuses
//     nothing of the notice: the Danish gateway still sends the prison its
//     copy, and the police's acknowledgement is forwarded and closes the
//     notice there. A sender_standing in the Dutch entry would say the
//     prison went untold, which is false.
//
// So, unlike a recipient behind a peer that this registry offboards (whose
// forwarded acknowledgement this gateway refuses:
// TestSenderLearnsItsPeerRecipientWasOffboarded), a sender behind a peer
// has no standing at the recipient's gateway that changes what happens to
// the notice: nothing to record there.
func TestSenderStandingIsTheSendersGatewaysToRecord(t *testing.T) {
	for _, tc := range []struct {
		name    string
		at      func(f *federation) *country // the gateway whose registry offboards the prison
		asker   string                       // one of its agencies, to see the reload
		dkStand string                       // the Danish escalation's sender_standing
	}{
		{"AtItsOwnGateway", func(f *federation) *country { return f.dk }, "dk-prison-east", "offboarded"},
		{"AtTheRecipientsGateway", func(f *federation) *country { return f.nl }, "nl-probation", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ahead atomic.Int64
			clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
			f := startFederationWith(t, fedConfig{now: clock})
			id := notifyRotterdamPolice(t, f)
			esc := escalateAt(t, f.dk)
			c := tc.at(f)
			c.offboard(t, "dk-prison-east")
			until(t, "the registry reloaded", func() bool { return offboardedAt(t, c, tc.asker, "dk-prison-east") })

			ahead.Store(int64(time.Until(esc) + time.Minute))
			for _, g := range []*country{f.dk, f.nl} {
				if _, err := g.gw.Server.RunTimers(t.Context()); err != nil {
					t.Fatalf("%s timers: %v", g.Jurisdiction, err)
				}
			}
			dkEsc, nlEsc := f.dk.all(t, "notice_escalate", ""), f.nl.all(t, "notice_escalate", "")
			toPrison := tc.dkStand == ""
			if len(dkEsc) != 1 || dkEsc[0].Detail["sender_standing"] != tc.dkStand ||
				strings.Contains(dkEsc[0].Detail["escalated_to"], "dk-prison-east") != toPrison {
				t.Errorf("Danish escalations %v; want one, sender_standing %q, the prison's copy sent: %v", details(dkEsc), tc.dkStand, toPrison)
			}
			if len(nlEsc) != 1 || nlEsc[0].Detail["notice_id"] != id || nlEsc[0].Detail["sender_standing"] != "" ||
				nlEsc[0].Detail["escalated_at_peer"] != "dk-gateway" || !strings.HasPrefix(nlEsc[0].Detail["escalated_to"], "nl-police-rotterdam") {
				t.Errorf("Dutch escalations %v; want one, to the police's duty role, the sender's copy left to dk-gateway, no sender_standing", details(nlEsc))
			}
			// The Danish listings say it too, as the entry recorded it, so
			// that an auditor there sees that the prison was not told (an
			// auditor of the Aarhus police: the prison's may be
			// offboarded).
			f.dk.auditAs = "dk-police-aarhus"
			if ns := f.dk.trackedNotices(t); len(ns) != 1 || ns[0].GetNoticeId() != id || ns[0].GetEscalationSenderStanding() != tc.dkStand {
				t.Errorf("the Danish gateway's notices %v; want %s, escalation_sender_standing %q", ns, id, tc.dkStand)
			}
			out := f.dk.audit(t, "notices")
			page := f.dk.consoleNotices(t)
			rows := regexp.MustCompile(`(?s)<tr data-entry="\d+"[^>]*>.*?</tr>`).FindAllString(page, -1)
			if words := audit.SenderStandings[tc.dkStand]; tc.dkStand != "" {
				if words == "" || !strings.Contains(out, "("+words+")") {
					t.Errorf("liaison audit notices at the Danish gateway does not say the prison was not told (%q):\n%s", words, out)
				}
				if len(rows) != 1 || !strings.Contains(rows[0], "entry says: "+html.EscapeString(words)) {
					t.Errorf("the Danish console's required notices %q; want the notice, saying %q", rows, words)
				}
			} else {
				for _, w := range audit.SenderStandings {
					if strings.Contains(out, w) || strings.Contains(page, html.EscapeString(w)) {
						t.Errorf("liaison audit notices or the console at the Danish gateway say %q of a notice whose sender was told:\n%s", w, out)
					}
				}
			}

			var cursor int64
			for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
				if m.GetNotice().GetNoticeId() == id {
					cursor = m.GetCursor()
				}
			}
			ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.standing").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
			if err != nil || len(ack.GetDeferredNoticeIds()) != 0 {
				t.Fatalf("Acknowledge = %v, %v; want the acknowledgement forwarded to dk-gateway, nothing deferred", ack, err)
			}
			// Its store, not ListNotices: the Danish auditor here is the
			// prison's, which may be offboarded.
			if ns, err := f.dk.gw.Audit.Notices(t.Context(), audit.NoticeFilter{ID: id}); err != nil || len(ns) != 1 || ns[0].Acknowledged.IsZero() {
				t.Errorf("the Danish gateway's notice %s: %+v, %v; want it closed by the forward", id, ns, err)
			}
		})
	}
}

// TestAckOfANoticeFromAnOffboardedPeerGateway: the Danish prison's
// required notice reaches the Rotterdam police through both gateways, and
// the Dutch registry then offboards the Danish gateway itself. The police
// acknowledge at their own gateway, which will not call an offboarded
// peer: the acknowledgement stands there, its entry says why it was not
// forwarded (detail.peer_outcome peer_offboarded),
// and the forward stays listed as pending (TrackedNotice.forward_pending),
// but the timers do not try it again while the registry offboards that
// gateway. It was logged deferred, as if the peer were down, and each
// timer pass after the wait logged another attempt, for ever.
func TestAckOfANoticeFromAnOffboardedPeerGateway(t *testing.T) {
	f, ahead, id, cursor := rotterdamNoticeOnClock(t)
	f.nl.offboard(t, "dk-gateway")
	until(t, "the Dutch registry reloaded", func() bool { return offboardedAt(t, f.nl, "nl-police-rotterdam", "dk-prison-east") })

	ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
	if err != nil || !slices.Equal(ack.GetDeferredNoticeIds(), []string{id}) {
		t.Fatalf("Acknowledge = %v, %v; want the acknowledgement made here, its forward held (deferred_notice_ids %s)", ack, err, id)
	}
	for range 3 {
		ahead.Add(int64(time.Hour)) // past any wait between attempts
		if _, err := f.nl.gw.Server.RunTimers(t.Context()); err != nil {
			t.Errorf("Dutch timers: %v", err)
		}
	}
	nl := f.nl.all(t, "notice_acknowledge", "insp.de.vries")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeOK || nl[0].Detail["peer_outcome"] != "peer_offboarded" {
		t.Errorf("Dutch acknowledgements %v %v; want one, ok, peer_outcome peer_offboarded, and no attempt to forward it since", outcomes(nl), details(nl))
	}
	if ns := f.nl.trackedNotices(t); len(ns) != 1 || !ns[0].GetForwardPending() || ns[0].GetAcknowledged() == "" ||
		ns[0].GetForwardPendingReason() != "PEER_OFFBOARDED" {
		t.Errorf("the Dutch gateway's notices %v; want %s acknowledged, its forward pending, PEER_OFFBOARDED", ns, id)
	}
	if out := f.nl.audit(t, "notices", "-forward-pending"); !strings.Contains(out, "dk-gateway (acknowledgement not forwarded yet: offboarded here, held until the registry takes it back)") {
		t.Errorf("liaison audit notices -forward-pending at the Dutch gateway:\n%s", out)
	}
	if row := forwardRows(f.nl.consoleNotices(t)); len(row) != 1 || !strings.Contains(row[0], "peer gateway dk-gateway") ||
		!strings.Contains(row[0], "offboarded here, held until the registry takes it back") {
		t.Errorf("the Dutch console's acknowledgements waiting for a peer gateway: %q; want the notice's, saying why it waits", row)
	}
	if n, _ := f.nl.awaitingPeer(t, "required_notice"); n != 1 {
		t.Errorf("the Dutch gateway's metrics: %v required notices' acknowledgements awaiting the peer; want 1", n)
	}
}

// TestAckOfACorrectionFromAnOffboardedPeerGateway: as
// TestAckOfANoticeFromAnOffboardedPeerGateway, for a correction the Danish
// prison sent the Dutch probation service (AcknowledgeNotice,
// forwardNoticeAcks).
func TestAckOfACorrectionFromAnOffboardedPeerGateway(t *testing.T) {
	f, ahead := correctionAckedAtOffboardedPeer(t)
	for range 3 {
		ahead.Add(int64(time.Hour)) // past any wait between attempts
		if err := f.nl.gw.Server.RunAftercare(t.Context()); err != nil {
			t.Errorf("Dutch aftercare timers: %v", err)
		}
	}
	es := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")
	if len(es) != 1 || es[0].Outcome != audit.OutcomeOK || es[0].Detail[audit.DetailPeerOutcome] != audit.PeerOutcomePeerOffboarded {
		t.Errorf("Dutch acknowledgements %v %v; want one, ok, peer_outcome peer_offboarded, and no attempt to forward it since", outcomes(es), details(es))
	}
	if n, _ := f.nl.awaitingPeer(t, "obligation_notice"); n != 1 {
		t.Errorf("the Dutch gateway's metrics: %v obligation notices' acknowledgements awaiting the peer; want 1", n)
	}
	all, err := f.nl.aftercareAs(t, auditorAgency["NL"], "dpo.1", "auditor").ListObligationNotices(t.Context(),
		&liaisonv1.ListObligationNoticesRequest{ForwardPendingOnly: true})
	if err != nil || len(all.GetNotices()) != 1 || all.GetNotices()[0].GetForwardPendingReason() != "PEER_OFFBOARDED" {
		t.Errorf("the Dutch gateway's notices whose forward is pending: %v, %v; want the correction, PEER_OFFBOARDED", all, err)
	}
	if out := f.nl.audit(t, "corrections", "-forward-pending"); !strings.Contains(out, "not forwarded to the peer gateway yet: offboarded here, held until the registry takes it back") {
		t.Errorf("liaison audit corrections -forward-pending at the Dutch gateway:\n%s", out)
	}
}
