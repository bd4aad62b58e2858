package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestAckRefusedBecauseTheSendersGatewayDroppedThisOne: the Danish
// prison's required notice reaches the Rotterdam police, and its
// correction the Dutch probation service, through both gateways; then the
// Danish registry no longer lists the Dutch gateway (nor the agencies
// behind it), or offboards it, and the police and the probation service
// acknowledge at their own gateway. The Danish gateway refuses the very
// first forward saying so (UNAUTHENTICATED, UNKNOWN_AGENCY; or
// PERMISSION_DENIED, AGENCY_OFFBOARDED, metadata offboarded
// peer_gateway). The acknowledgements stand at the Dutch gateway all the
// same, as for a peer that does not answer: one ok entry each, detail
// peer_outcome deferred with the peer's word, the notice in
// deferred_notice_ids (AcknowledgeNoticeResponse.deferred), and the
// forwards listed pending with the peer's word as the reason
// (UNKNOWN_AT_PEER, OFFBOARDED_AT_PEER); once the Danish registry lists
// the Dutch gateway again, the Dutch timers forward them and the Danish
// log closes both notices. Acknowledge failed INTERNAL (PEER_REFUSED) or
// PERMISSION_DENIED (AGENCY_OFFBOARDED), and so did AcknowledgeNotice:
// nothing recorded that the police had read the notice.
func TestAckRefusedBecauseTheSendersGatewayDroppedThisOne(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		drop      func(t *testing.T, f *federation)
		word      func(e *audit.Entry) bool // the peer's word in the acknowledgement's entry
	}{
		{"UnlistedAtPeer", "UNKNOWN_AT_PEER", func(t *testing.T, f *federation) {
			f.dk.editFederationRegistry(t, func(r *gateway.RegistryFile) {
				r.Agencies = slices.DeleteFunc(r.Agencies, func(a gateway.AgencyFile) bool { return a.ID == "nl-gateway" || a.Via == "nl-gateway" })
			})
			until(t, "the Danish registry reloaded", func() bool { return unlistedAt(t, f.dk, "dk-prison-east", "nl-police-rotterdam") })
		}, func(e *audit.Entry) bool {
			return e.Detail["peer_code"] == "Unauthenticated" && e.Detail["peer_reason"] == "UNKNOWN_AGENCY"
		}},
		{"OffboardedAtPeer", "OFFBOARDED_AT_PEER", func(t *testing.T, f *federation) {
			f.dk.offboard(t, "nl-gateway")
			until(t, "the Danish registry reloaded", func() bool { return offboardedAt(t, f.dk, "dk-prison-east", "nl-police-rotterdam") })
		}, func(e *audit.Entry) bool { return e.Detail["offboarded"] == "peer_gateway" }},
	} {
		t.Run(tc.name, func(t *testing.T) { ackRefusedByPeer(t, tc.drop, tc.word, tc.why, false) })
	}
}

// TestAckRefusedBecauseTheSendersGatewayDroppedTheAgency: as
// TestAckRefusedBecauseTheSendersGatewayDroppedThisOne, but the Danish
// registry keeps the Dutch gateway and no longer lists, or offboards, the
// agencies behind it that acknowledge: the Rotterdam police and the Dutch
// probation service. The Danish gateway refuses the very first forward
// saying so of the agency (PERMISSION_DENIED, UNKNOWN_PEER_AGENCY; or
// PERMISSION_DENIED, AGENCY_OFFBOARDED without the metadata offboarded
// peer_gateway). The acknowledgements stand at the Dutch gateway all the
// same: one ok entry each, detail peer_outcome deferred with the peer's
// word (peer_code, peer_reason), the forwards listed pending with it
// (AGENCY_UNKNOWN_AT_PEER, AGENCY_OFFBOARDED_AT_PEER); once the Danish
// registry lists the agencies again, the Dutch timers forward them and
// the Danish log closes both notices. Acknowledge and AcknowledgeNotice
// failed (INTERNAL PEER_REFUSED; PERMISSION_DENIED AGENCY_OFFBOARDED):
// nothing recorded that the police had read the notice.
func TestAckRefusedBecauseTheSendersGatewayDroppedTheAgency(t *testing.T) {
	dropped := []string{"nl-police-rotterdam", "nl-probation"}
	for _, tc := range []struct {
		name, why, reason string
		drop              func(t *testing.T, f *federation)
	}{
		{"AgencyUnlistedAtPeer", "AGENCY_UNKNOWN_AT_PEER", "UNKNOWN_PEER_AGENCY", func(t *testing.T, f *federation) {
			f.dk.editFederationRegistry(t, func(r *gateway.RegistryFile) {
				r.Agencies = slices.DeleteFunc(r.Agencies, func(a gateway.AgencyFile) bool { return slices.Contains(dropped, a.ID) })
			})
			until(t, "the Danish registry reloaded", func() bool { return unlistedAt(t, f.dk, "dk-prison-east", "nl-police-rotterdam") })
		}},
		{"AgencyOffboardedAtPeer", "AGENCY_OFFBOARDED_AT_PEER", "AGENCY_OFFBOARDED", func(t *testing.T, f *federation) {
			f.dk.offboard(t, dropped...)
			until(t, "the Danish registry reloaded", func() bool { return offboardedAt(t, f.dk, "dk-prison-east", "nl-police-rotterdam") })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ackRefusedByPeer(t, tc.drop, func(e *audit.Entry) bool {
				return e.Detail["peer_code"] == "PermissionDenied" && e.Detail["peer_reason"] == tc.reason && e.Detail["offboarded"] == ""
			}, tc.why, true)
		})
	}
}

// ackRefusedByPeer is the body of the tests above: the Danish prison's
// required notice and its correction reach the Dutch gateway; drop makes
// the Danish gateway refuse what comes from it; the Rotterdam police and
// the Dutch probation service acknowledge, and each acknowledgement
// stands at the Dutch gateway (word tells the peer's word in its entry),
// listed pending with reason why; with retried, a forward by the timers
// refused alike keeps it; once the Danish registry is as it was, the
// Dutch timers forward both and the Danish log closes both notices.
func ackRefusedByPeer(t *testing.T, drop func(t *testing.T, f *federation), word func(e *audit.Entry) bool, why string, retried bool) {
	f, ahead, id, cursor := rotterdamNoticeOnClock(t)
	ns := pushAndCorrect(t, f, func(rn *liaisonv1.ReleaseNotice) { rn.ContactPoint = "Kriminalforsorgen Øst, Aarhus office" }, "The contact point changed.")
	was, err := os.ReadFile(f.dk.Registry)
	if err != nil {
		t.Fatal(err)
	}
	drop(t, f)

	ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
	if err != nil || !slices.Equal(ack.GetDeferredNoticeIds(), []string{id}) {
		t.Fatalf("Acknowledge = %v, %v; want the acknowledgement made here, its forward deferred (deferred_notice_ids %s)", ack, err, id)
	}
	resp, err := f.nl.aftercare(t, "nl-probation", "insp.mulder").AcknowledgeNotice(t.Context(), &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: ns[0].GetObligation().GetAuditIndex(), Done: liaisonv1.Obligation_OBLIGATION_RECTIFY, Note: "Contact point replaced in our file."})
	if err != nil || !resp.GetDeferred() {
		t.Fatalf("AcknowledgeNotice = %v, %v; want the acknowledgement made here, its forward deferred", resp, err)
	}

	// One acknowledgement each, ok, deferred, with the peer's word.
	for _, es := range [][]*audit.Entry{f.nl.all(t, "notice_acknowledge", "insp.de.vries"), f.nl.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")} {
		var ok []*audit.Entry
		for _, e := range es {
			if e.Outcome == audit.OutcomeOK {
				ok = append(ok, e)
			}
		}
		if len(ok) != 1 || ok[0].Detail[audit.DetailPeerOutcome] != audit.PeerOutcomeDeferred || !word(ok[0]) {
			t.Errorf("Dutch acknowledgement entries %v %v; want one ok, peer_outcome deferred, with the Danish gateway's word", outcomes(es), details(es))
		}
	}
	words := audit.ForwardWaits[why]
	if tn := f.nl.trackedNotices(t); len(tn) != 1 || tn[0].GetAcknowledged() == "" || !tn[0].GetForwardPending() || tn[0].GetForwardPendingReason() != why {
		t.Errorf("the Dutch gateway's notices %v; want %s acknowledged, its forward pending, %s", tn, id, why)
	}
	if out := f.nl.audit(t, "notices", "-forward-pending"); words == "" || !strings.Contains(out, "(acknowledgement not forwarded yet: "+words+")") {
		t.Errorf("liaison audit notices -forward-pending at the Dutch gateway; want %q:\n%s", words, out)
	}
	all, err := f.nl.aftercareAs(t, auditorAgency["NL"], "dpo.1", "auditor").ListObligationNotices(t.Context(),
		&liaisonv1.ListObligationNoticesRequest{ForwardPendingOnly: true})
	if err != nil || len(all.GetNotices()) != 1 || all.GetNotices()[0].GetForwardPendingReason() != why {
		t.Errorf("the Dutch gateway's notices whose forward is pending: %v, %v; want the correction, %s", all, err, why)
	}

	// A forward by the timers that the Danish gateway refuses
	// alike keeps the peer's word as the reason.
	if retried {
		ahead.Add(int64(16 * time.Minute))
		f.nl.gw.Server.RunTimers(t.Context())
		f.nl.gw.Server.RunAftercare(t.Context())
		if tn := f.nl.trackedNotices(t); len(tn) != 1 || !tn[0].GetForwardPending() || tn[0].GetForwardPendingReason() != why {
			t.Errorf("after a refused forward by the timers, the Dutch gateway's notices %v; want %s pending, %s", tn, id, why)
		}
	}

	// The Danish registry is as it was: the Dutch timers forward
	// both acknowledgements, and the Danish log closes both notices.
	tmp := f.dk.Registry + ".new"
	if err := os.WriteFile(tmp, was, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, f.dk.Registry); err != nil {
		t.Fatal(err)
	}
	forwarded := func(es []*audit.Entry) bool { return len(es) > 0 && es[len(es)-1].Outcome == audit.OutcomeOK }
	for wait := time.Now().Add(30 * time.Second); !forwarded(f.dk.all(t, "notice_acknowledge", "insp.de.vries")) ||
		!forwarded(f.dk.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatalf("the Dutch gateway never forwarded the acknowledgements once the Danish registry was as it was: Danish entries %v %v",
				details(f.dk.all(t, "notice_acknowledge", "insp.de.vries")), details(f.dk.all(t, audit.ActionAcknowledgeNotice, "insp.mulder")))
		}
		ahead.Add(int64(16 * time.Minute))
		f.nl.gw.Server.RunTimers(t.Context())
		f.nl.gw.Server.RunAftercare(t.Context())
	}
	if dk := f.dk.trackedNotices(t); len(dk) != 1 || dk[0].GetAcknowledged() == "" {
		t.Errorf("the Danish gateway's notices %v; want %s acknowledged", dk, id)
	}
	if tn := f.nl.trackedNotices(t); len(tn) != 1 || tn[0].GetForwardPending() {
		t.Errorf("the Dutch gateway's notices %v; want %s forwarded", tn, id)
	}
	open, err := f.dk.aftercareAs(t, auditorAgency["DK"], "dpo.1", "auditor").ListObligationNotices(t.Context(),
		&liaisonv1.ListObligationNoticesRequest{Recipient: "nl-probation"})
	if err != nil || len(open.GetNotices()) != 0 {
		t.Errorf("the Danish gateway's open notices to the Dutch probation service: %v, %v; want none, the correction acknowledged", open, err)
	}
}
