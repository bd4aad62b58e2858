package main

import (
	"slices"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// restartInProcess stops a country's in-process gateway and starts it
// again on the same stores, registry and port.
func (c *country) restartInProcess(t *testing.T) {
	t.Helper()
	if err := c.gw.Stop(); err != nil {
		t.Fatal(err)
	}
	c.gw = nil
	gw, err := startGateway(t.Context(), c.opts)
	if err != nil {
		t.Fatalf("restart the %s gateway: %v", c.Jurisdiction, err)
	}
	c.gw = gw // stopped by startFederationWith's clean-up
}

// takeBack has a country's registry take an offboarded agency (or peer
// gateway) back.
func (c *country) takeBack(t *testing.T, id string) {
	t.Helper()
	c.editFederationRegistry(t, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == id {
				f.Agencies[i].Offboarded = false
			}
		}
	})
}

// TestOffboardedPeerHoldSurvivesRestart: as
// TestAckOfANoticeFromAnOffboardedPeerGateway, the Rotterdam police
// acknowledge a required notice from the Danish prison while the Dutch
// registry offboards the Danish gateway, and the acknowledgement's entry
// says so (peer_outcome peer_offboarded). The Dutch gateway then
// restarts: its timers still do not try the forward, and log nothing
// more. Once the registry takes the Danish gateway back, they forward it,
// and the Danish gateway closes the notice. The hold lived in memory: the
// restarted gateway's timers logged one more failed entry,
// PEER_OFFBOARDED.
func TestOffboardedPeerHoldSurvivesRestart(t *testing.T) {
	f, ahead, id, cursor := rotterdamNoticeOnClock(t)
	f.nl.offboard(t, "dk-gateway")
	until(t, "the Dutch registry reloaded", func() bool { return offboardedAt(t, f.nl, "nl-police-rotterdam", "dk-prison-east") })
	ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
	if err != nil || !slices.Equal(ack.GetDeferredNoticeIds(), []string{id}) {
		t.Fatalf("Acknowledge = %v, %v; want the acknowledgement made here, its forward held (deferred_notice_ids %s)", ack, err, id)
	}
	passes := func() {
		t.Helper()
		for range 2 {
			ahead.Add(int64(time.Hour)) // past any wait between attempts
			if _, err := f.nl.gw.Server.RunTimers(t.Context()); err != nil {
				t.Errorf("Dutch timers: %v", err)
			}
		}
	}
	passes()
	f.nl.restartInProcess(t)
	passes()
	if nl := f.nl.all(t, "notice_acknowledge", "insp.de.vries"); len(nl) != 1 || nl[0].Detail["peer_outcome"] != "peer_offboarded" {
		t.Errorf("Dutch acknowledgements after a restart %v %v; want the one, peer_outcome peer_offboarded, and no attempt since", outcomes(nl), details(nl))
	}
	if n, _ := f.nl.awaitingPeer(t, "required_notice"); n != 1 {
		t.Errorf("the restarted Dutch gateway's metrics: %v required notices' acknowledgements awaiting the peer; want 1", n)
	}

	f.nl.takeBack(t, "dk-gateway")
	until(t, "the Dutch registry reloaded", func() bool { return !offboardedAt(t, f.nl, "nl-police-rotterdam", "dk-prison-east") })
	passes()
	if ns, err := f.dk.gw.Audit.Notices(t.Context(), audit.NoticeFilter{ID: id}); err != nil || len(ns) != 1 || ns[0].Acknowledged.IsZero() {
		t.Errorf("the Danish gateway's notice %s: %+v, %v; want it closed by the forward once the Danish gateway is taken back", id, ns, err)
	}
	if ns := f.nl.trackedNotices(t); len(ns) != 1 || ns[0].GetForwardPending() {
		t.Errorf("the Dutch gateway's notices %v; want %s forwarded", ns, id)
	}
}

// TestOffboardedPeerHoldOfACorrectionSurvivesRestart: as
// TestOffboardedPeerHoldSurvivesRestart, for a correction the Danish
// prison sent the Dutch probation service (AcknowledgeNotice,
// forwardNoticeAcks).
func TestOffboardedPeerHoldOfACorrectionSurvivesRestart(t *testing.T) {
	f, ahead := correctionAckedAtOffboardedPeer(t)
	passes := func() {
		t.Helper()
		for range 2 {
			ahead.Add(int64(time.Hour)) // past any wait between attempts
			if err := f.nl.gw.Server.RunAftercare(t.Context()); err != nil {
				t.Errorf("Dutch aftercare timers: %v", err)
			}
		}
	}
	passes()
	f.nl.restartInProcess(t)
	passes()
	if es := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder"); len(es) != 1 || es[0].Detail[audit.DetailPeerOutcome] != audit.PeerOutcomePeerOffboarded {
		t.Errorf("Dutch acknowledgements after a restart %v %v; want the one, peer_outcome peer_offboarded, and no attempt since", outcomes(es), details(es))
	}
	if n, _ := f.nl.awaitingPeer(t, "obligation_notice"); n != 1 {
		t.Errorf("the restarted Dutch gateway's metrics: %v obligation notices' acknowledgements awaiting the peer; want 1", n)
	}

	f.nl.takeBack(t, "dk-gateway")
	until(t, "the Dutch registry reloaded", func() bool { return !offboardedAt(t, f.nl, "nl-probation", "dk-prison-east") })
	passes()
	var ok int
	for _, e := range f.dk.all(t, audit.ActionAcknowledgeNotice, "insp.mulder") {
		if e.Outcome == audit.OutcomeOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("Danish acknowledgements of the correction: %d ok; want the forwarded one, once the Danish gateway is taken back", ok)
	}
	if es := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder"); len(es) < 2 || es[len(es)-1].Outcome != audit.OutcomeOK || es[len(es)-1].Detail[audit.DetailForwards] == "" {
		t.Errorf("Dutch acknowledgements %v %v; want the forward last, ok", outcomes(es), details(es))
	}
}

// TestOffboardedPeerHoldOfADeferredAck: the Rotterdam police acknowledge
// a required notice, and the Dutch probation service a correction, both
// from the Danish prison, while the Danish gateway is down: both are
// deferred. The Dutch registry then offboards the Danish gateway. The
// Dutch timers' next attempt of each forward fails, PEER_OFFBOARDED, in one
// entry without a pending one, and holds it: no timer error, no further
// attempt, also after a restart. The timers did not hold on their own
// attempt (the exchange's status no longer said offboarded): each pass
// reported the failure as an error of the timers, and tried again after
// the wait.
func TestOffboardedPeerHoldOfADeferredAck(t *testing.T) {
	f, ahead, id, cursor := rotterdamNoticeOnClock(t)
	ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.ContactPoint = "Kriminalforsorgen Øst, Aarhus office" }, "The contact point changed.")
	if err := f.dk.gw.Stop(); err != nil {
		t.Fatal(err)
	}
	f.dk.gw = nil
	ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
	if err != nil || !slices.Equal(ack.GetDeferredNoticeIds(), []string{id}) {
		t.Fatalf("Acknowledge with the Danish gateway down = %v, %v; want it deferred", ack, err)
	}
	resp, err := f.nl.aftercare(t, "nl-probation", "insp.mulder").AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: ns[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Contact point replaced in our file."})
	if err != nil || !resp.GetDeferred() {
		t.Fatalf("AcknowledgeNotice with the Danish gateway down = %v, %v; want it deferred", resp, err)
	}
	f.nl.offboard(t, "dk-gateway")
	until(t, "the Dutch registry reloaded", func() bool { return offboardedAt(t, f.nl, "nl-probation", "dk-prison-east") })
	passes := func() {
		t.Helper()
		for range 3 {
			ahead.Add(int64(time.Hour)) // past any wait between attempts
			if _, err := f.nl.gw.Server.RunTimers(t.Context()); err != nil {
				t.Errorf("Dutch timers: %v", err)
			}
			if err := f.nl.gw.Server.RunAftercare(t.Context()); err != nil {
				t.Errorf("Dutch aftercare timers: %v", err)
			}
		}
	}
	check := func(when string) {
		t.Helper()
		for _, c := range []struct{ action, officer string }{{"notice_acknowledge", "insp.de.vries"}, {audit.ActionAcknowledgeNotice, "insp.mulder"}} {
			es := f.nl.all(t, c.action, c.officer)
			var offboarded int
			for _, e := range es {
				if e.Outcome == audit.OutcomeFailed && slices.Contains(e.Reasons, "PEER_OFFBOARDED") {
					offboarded++
				}
			}
			if offboarded != 1 || es[len(es)-1].Outcome != audit.OutcomeFailed {
				t.Errorf("Dutch %s entries %s: %v %v; want one failed PEER_OFFBOARDED, last", c.action, when, outcomes(es), details(es))
			}
		}
	}
	passes()
	check("after three passes")
	f.nl.restartInProcess(t)
	passes()
	check("after a restart")
}
