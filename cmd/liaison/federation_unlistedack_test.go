package main

import (
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// unlistDanishGateway has the Dutch registry no longer list the Danish
// gateway nor the agencies behind it, and returns a func that lists them
// again (the registry file as it was).
func unlistDanishGateway(t *testing.T, f *federation, asker string) (relist func()) {
	t.Helper()
	was, err := os.ReadFile(f.nl.Registry)
	if err != nil {
		t.Fatal(err)
	}
	f.nl.editFederationRegistry(t, func(r *gateway.RegistryFile) {
		r.Agencies = slices.DeleteFunc(r.Agencies, func(a gateway.AgencyFile) bool { return a.ID == "dk-gateway" || a.Via == "dk-gateway" })
	})
	until(t, "the Dutch registry reloaded", func() bool { return unlistedAt(t, f.nl, asker, "dk-prison-east") })
	return func() {
		t.Helper()
		tmp := f.nl.Registry + ".new"
		if err := os.WriteFile(tmp, was, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.nl.Registry); err != nil {
			t.Fatal(err)
		}
		until(t, "the Dutch registry reloaded", func() bool { return !unlistedAt(t, f.nl, asker, "dk-prison-east") })
	}
}

// TestAckOfANoticeFromAGatewayNoLongerListed: the Danish prison's required
// notice reaches the Rotterdam police through both gateways; then the
// Dutch registry no longer lists the Danish gateway (nor the agencies
// behind it), and the police read the notice and acknowledge it at their
// own gateway. The acknowledgement stands there, as for an offboarded
// peer: its entry says why it was not forwarded (detail.peer_outcome
// peer_not_registered), the notice is named in deferred_notice_ids, and
// its forward stays listed pending, PEER_NOT_REGISTERED, without the
// timers trying it while the registry does not list that gateway; once
// the registry lists it again, the timers forward it and the Danish
// gateway closes the notice. Acknowledge failed INTERNAL ("the exchange
// failed; nothing was disclosed", ErrorInfo PEER_NOT_REGISTERED), and
// nothing recorded that the police had read it.
func TestAckOfANoticeFromAGatewayNoLongerListed(t *testing.T) {
	f, ahead, id, cursor := rotterdamNoticeOnClock(t)
	relist := unlistDanishGateway(t, f, "nl-police-rotterdam")

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
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeOK || nl[0].Detail[audit.DetailPeerOutcome] != audit.PeerOutcomePeerNotRegistered {
		t.Errorf("Dutch acknowledgements %v %v; want one, ok, peer_outcome peer_not_registered, and no attempt to forward it since", outcomes(nl), details(nl))
	}
	if ns := f.nl.trackedNotices(t); len(ns) != 1 || !ns[0].GetForwardPending() || ns[0].GetAcknowledged() == "" ||
		ns[0].GetForwardPendingReason() != "PEER_NOT_REGISTERED" {
		t.Errorf("the Dutch gateway's notices %v; want %s acknowledged, its forward pending, PEER_NOT_REGISTERED", ns, id)
	}
	if out := f.nl.audit(t, "notices", "-forward-pending"); !strings.Contains(out, "(acknowledgement not forwarded yet: "+audit.ForwardWaits["PEER_NOT_REGISTERED"]+")") {
		t.Errorf("liaison audit notices -forward-pending at the Dutch gateway:\n%s", out)
	}
	if n, _ := f.nl.awaitingPeer(t, "required_notice"); n != 1 {
		t.Errorf("the Dutch gateway's metrics: %v required notices' acknowledgements awaiting the peer; want 1", n)
	}

	relist()
	dk := untilForwarded(t, f, ahead, "insp.de.vries")
	if len(dk) != 1 || dk[0].Outcome != audit.OutcomeOK || dk[0].Detail["notice_id"] != id {
		t.Errorf("Danish entries of the forwarded acknowledgement %v %v; want one, ok, of %s", outcomes(dk), details(dk), id)
	}
	if ns := f.nl.trackedNotices(t); len(ns) != 1 || ns[0].GetForwardPending() {
		t.Errorf("the Dutch gateway's notices %v; want %s forwarded", ns, id)
	}
}

// TestAckOfACorrectionFromAGatewayNoLongerListed: as
// TestAckOfANoticeFromAGatewayNoLongerListed, for a correction the Danish
// prison sent the Dutch probation service (AcknowledgeNotice,
// forwardNoticeAcks). AcknowledgeNotice failed INTERNAL, and nothing
// recorded that the probation service had rectified its file.
func TestAckOfACorrectionFromAGatewayNoLongerListed(t *testing.T) {
	ahead := new(atomic.Int64)
	f := startFederationWith(t, fedConfig{now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.ContactPoint = "Kriminalforsorgen Øst, Aarhus office" }, "The contact point changed.")
	relist := unlistDanishGateway(t, f, "nl-probation")

	resp, err := f.nl.aftercare(t, "nl-probation", "insp.mulder").AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: ns[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Contact point replaced in our file."})
	if err != nil || !resp.GetDeferred() {
		t.Fatalf("AcknowledgeNotice = %v, %v; want the acknowledgement made here, its forward held", resp, err)
	}
	for range 3 {
		ahead.Add(int64(time.Hour)) // past any wait between attempts
		if err := f.nl.gw.Server.RunAftercare(t.Context()); err != nil {
			t.Errorf("Dutch aftercare timers: %v", err)
		}
	}
	es := f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")
	if len(es) != 1 || es[0].Outcome != audit.OutcomeOK || es[0].Detail[audit.DetailPeerOutcome] != audit.PeerOutcomePeerNotRegistered {
		t.Errorf("Dutch acknowledgements %v %v; want one, ok, peer_outcome peer_not_registered, and no attempt to forward it since", outcomes(es), details(es))
	}
	all, err := f.nl.aftercareAs(t, auditorAgency["NL"], "dpo.1", "auditor").ListObligationNotices(t.Context(),
		&liaisonv1.ListObligationNoticesRequest{ForwardPendingOnly: true})
	if err != nil || len(all.GetNotices()) != 1 || all.GetNotices()[0].GetForwardPendingReason() != "PEER_NOT_REGISTERED" {
		t.Errorf("the Dutch gateway's notices whose forward is pending: %v, %v; want the correction, PEER_NOT_REGISTERED", all, err)
	}
	if out := f.nl.audit(t, "corrections", "-forward-pending"); !strings.Contains(out, "not forwarded to the peer gateway yet: "+audit.ForwardWaits["PEER_NOT_REGISTERED"]) {
		t.Errorf("liaison audit corrections -forward-pending at the Dutch gateway:\n%s", out)
	}

	relist()
	for wait := time.Now().Add(30 * time.Second); time.Now().Before(wait); time.Sleep(200 * time.Millisecond) {
		ahead.Add(int64(16 * time.Minute))
		f.nl.gw.Server.RunAftercare(t.Context())
		if dk := f.dk.all(t, audit.ActionAcknowledgeNotice, "insp.mulder"); len(dk) > 0 {
			if dk[len(dk)-1].Outcome != audit.OutcomeOK {
				t.Errorf("Danish entries of the forwarded acknowledgement %v %v; want it ok", outcomes(dk), details(dk))
			}
			return
		}
	}
	t.Error("the Dutch gateway never forwarded the acknowledgement once its registry listed the Danish gateway again")
}

// TestForwardWaitSaysThePeersWord: the Rotterdam police acknowledge the
// Danish prison's required notice, and the Dutch probation service its
// correction, while the Danish gateway is down: both acknowledgements
// stand at the Dutch gateway, their forwards pending. The Danish gateway
// comes back with a registry that no longer lists the Dutch gateway (or
// that offboards it), and refuses the forwards saying so
// (UNAUTHENTICATED, UNKNOWN_AGENCY; PERMISSION_DENIED, AGENCY_OFFBOARDED,
// metadata offboarded peer_gateway). The Dutch listings then say why the
// forwards wait as the peer's word (forward_pending_reason
// UNKNOWN_AT_PEER, OFFBOARDED_AT_PEER, in their words in `audit notices`
// and `audit corrections`). They said PEER_UNAVAILABLE, "not taken yet",
// by the Dutch registry alone, which still lists the Danish gateway.
func TestForwardWaitSaysThePeersWord(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		edit      func(t *testing.T, f *federation)
	}{
		{"UnlistedAtPeer", "UNKNOWN_AT_PEER", func(t *testing.T, f *federation) {
			f.dk.editFederationRegistry(t, func(r *gateway.RegistryFile) {
				r.Agencies = slices.DeleteFunc(r.Agencies, func(a gateway.AgencyFile) bool { return a.ID == "nl-gateway" || a.Via == "nl-gateway" })
			})
		}},
		{"OffboardedAtPeer", "OFFBOARDED_AT_PEER", func(t *testing.T, f *federation) { f.dk.offboard(t, "nl-gateway") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ahead, id, cursor := rotterdamNoticeOnClock(t)
			ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.ContactPoint = "Kriminalforsorgen Øst, Aarhus office" }, "The contact point changed.")
			f.dk.gw.Stop()
			f.dk.gw = nil
			ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
			if err != nil || !slices.Equal(ack.GetDeferredNoticeIds(), []string{id}) {
				t.Fatalf("Acknowledge = %v, %v; want it deferred, the Danish gateway down", ack, err)
			}
			resp, err := f.nl.aftercare(t, "nl-probation", "insp.mulder").AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{
				NoticeIndex: ns[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Contact point replaced in our file."})
			if err != nil || !resp.GetDeferred() {
				t.Fatalf("AcknowledgeNotice = %v, %v; want it deferred, the Danish gateway down", resp, err)
			}
			tc.edit(t, f)
			gw, err := startGateway(t.Context(), f.dk.opts)
			if err != nil {
				t.Fatalf("restart the Danish gateway: %v", err)
			}
			f.dk.gw = gw // stopped by startFederationWith's clean-up

			// The Dutch timers try until the Danish gateway answers (the
			// connection may still be backing off): refused.
			refused := func(action, officer string) bool {
				es := f.nl.all(t, action, officer)
				e := es[len(es)-1]
				return e.Detail[audit.DetailForwards] != "" && (e.Detail["peer_reason"] == "UNKNOWN_AGENCY" || e.Detail["offboarded"] == "peer_gateway")
			}
			for wait := time.Now().Add(30 * time.Second); !refused("notice_acknowledge", "insp.de.vries") || !refused(audit.ActionAcknowledgeNotice, "insp.mulder"); time.Sleep(200 * time.Millisecond) {
				if time.Now().After(wait) {
					t.Fatalf("the Danish gateway never refused the forwards: Dutch entries %v %v", details(f.nl.all(t, "notice_acknowledge", "insp.de.vries")),
						details(f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")))
				}
				ahead.Add(int64(16 * time.Minute))
				f.nl.gw.Server.RunTimers(t.Context())
				f.nl.gw.Server.RunAftercare(t.Context())
			}

			words := audit.ForwardWaits[tc.why]
			if tn := f.nl.trackedNotices(t); len(tn) != 1 || !tn[0].GetForwardPending() || tn[0].GetForwardPendingReason() != tc.why {
				t.Errorf("the Dutch gateway's notices %v; want %s's forward pending, %s", tn, id, tc.why)
			}
			if out := f.nl.audit(t, "notices", "-forward-pending"); words == "" || !strings.Contains(out, "(acknowledgement not forwarded yet: "+words+")") {
				t.Errorf("liaison audit notices -forward-pending at the Dutch gateway; want %q:\n%s", words, out)
			}
			all, err := f.nl.aftercareAs(t, auditorAgency["NL"], "dpo.1", "auditor").ListObligationNotices(t.Context(),
				&liaisonv1.ListObligationNoticesRequest{ForwardPendingOnly: true})
			if err != nil || len(all.GetNotices()) != 1 || all.GetNotices()[0].GetForwardPendingReason() != tc.why {
				t.Errorf("the Dutch gateway's notices whose forward is pending: %v, %v; want the correction, %s", all, err, tc.why)
			}
			if out := f.nl.audit(t, "corrections", "-forward-pending"); words == "" || !strings.Contains(out, "not forwarded to the peer gateway yet: "+words) {
				t.Errorf("liaison audit corrections -forward-pending at the Dutch gateway; want %q:\n%s", words, out)
			}
		})
	}
}
