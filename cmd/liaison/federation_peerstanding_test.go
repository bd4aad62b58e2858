package main

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestSenderLearnsThePeerGatewayOffboardedIt: the Danish prison's required
// notice reaches the Rotterdam police through both gateways; then the
// Dutch registry offboards the Danish gateway itself, and the police read
// the notice at their own gateway, which holds the acknowledgement
// (PEER_OFFBOARDED: it calls the Danish gateway no more). At the
// escalation time the Danish gateway, which heard nothing, escalates the
// notice to the prison, and asks the Dutch gateway whether it still takes
// its calls: the Dutch gateway refuses, saying that its registry
// offboards the Danish gateway (AGENCY_OFFBOARDED, metadata offboarded
// peer_gateway), so the escalation's entry and the prison's copy say so
// (recipient_standing offboarded_at_peer, detail peer_reason), as the
// Dutch gateway's word. They said nothing: the prison's case officer
// could not tell "the police did not read it" from "the peer gateway no
// longer talks to us". So when the Dutch registry no longer lists the
// Danish gateway (nor the agencies behind it): the Dutch gateway refuses
// its question at authentication, UNAUTHENTICATED, UNKNOWN_AGENCY, and
// the police's acknowledgement is not forwarded (it stands at the Dutch
// gateway, its forward held, PEER_NOT_REGISTERED), so the prison's copy and the entry say
// unknown_at_peer, detail peer_reason UNKNOWN_AGENCY; they said nothing.
// A peer that refuses for another reason (it offboards the prison, or no
// longer lists it, UNKNOWN_PEER_AGENCY, whose acknowledgements it still
// forwards) or that does not answer at all gives no such standing: the
// notice is escalated as before.
func TestSenderLearnsThePeerGatewayOffboardedIt(t *testing.T) {
	for _, tc := range []struct {
		name     string
		before   func(t *testing.T, f *federation)
		ack      bool // the police acknowledge at the Dutch gateway first
		standing string
		reason   string
	}{
		{"OffboardedThere", func(t *testing.T, f *federation) {
			f.nl.offboard(t, "dk-gateway")
			until(t, "the Dutch registry reloaded", func() bool { return offboardedAt(t, f.nl, "nl-police-rotterdam", "dk-prison-east") })
		}, true, "offboarded_at_peer", "AGENCY_OFFBOARDED"},
		{"SenderOffboardedThere", func(t *testing.T, f *federation) {
			f.nl.offboard(t, "dk-prison-east")
			until(t, "the Dutch registry reloaded", func() bool { return offboardedAt(t, f.nl, "nl-police-rotterdam", "dk-prison-east") })
		}, false, "", ""},
		{"UnlistedThere", func(t *testing.T, f *federation) {
			f.nl.editFederationRegistry(t, func(r *gateway.RegistryFile) {
				r.Agencies = slices.DeleteFunc(r.Agencies, func(a gateway.AgencyFile) bool { return a.ID == "dk-gateway" || a.Via == "dk-gateway" })
			})
			until(t, "the Dutch registry reloaded", func() bool { return unlistedAt(t, f.nl, "nl-police-rotterdam", "dk-prison-east") })
		}, false, "unknown_at_peer", "UNKNOWN_AGENCY"},
		{"SenderUnlistedThere", func(t *testing.T, f *federation) {
			f.nl.editFederationRegistry(t, func(r *gateway.RegistryFile) {
				r.Agencies = slices.DeleteFunc(r.Agencies, func(a gateway.AgencyFile) bool { return a.ID == "dk-prison-east" })
			})
			until(t, "the Dutch registry reloaded", func() bool { return unlistedAt(t, f.nl, "nl-police-rotterdam", "dk-prison-east") })
		}, false, "", ""},
		{"PeerDown", func(t *testing.T, f *federation) {
			f.nl.gw.Stop()
			f.nl.gw = nil
		}, false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ahead atomic.Int64
			clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
			f := startFederationWith(t, fedConfig{now: clock})
			id := notifyRotterdamPolice(t, f)
			esc := escalateAt(t, f.dk)
			var cursor int64
			for _, m := range f.nl.inbox(t, "nl-police-rotterdam") {
				if m.GetNotice().GetNoticeId() == id {
					cursor = m.GetCursor()
				}
			}
			tc.before(t, f)
			if tc.name == "UnlistedThere" {
				// The Dutch gateway forwards no acknowledgement to a
				// gateway it does not list: the acknowledgement stands
				// there, its forward held (PEER_NOT_REGISTERED), and
				// the Danish gateway hears nothing of it.
				ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
				if err != nil || !slices.Equal(ack.GetDeferredNoticeIds(), []string{id}) {
					t.Fatalf("Acknowledge = %v, %v; want the acknowledgement made at the Dutch gateway, its forward held", ack, err)
				}
			}
			if tc.ack {
				ack, err := f.nl.client(t, "nl-police-rotterdam", "insp.de.vries").Acknowledge(t.Context(), &liaisonv1.AcknowledgeRequest{Cursor: cursor})
				if err != nil || !slices.Equal(ack.GetDeferredNoticeIds(), []string{id}) {
					t.Fatalf("Acknowledge = %v, %v; want the acknowledgement made at the Dutch gateway, its forward held", ack, err)
				}
			}

			ahead.Store(int64(time.Until(esc) + time.Minute))
			escalatedOnce(t, f, id, "nl-gateway", tc.standing)
			es := f.dk.all(t, "notice_escalate", "")
			if len(es) != 1 || es[0].Outcome != audit.OutcomeOK || es[0].Detail["peer_reason"] != tc.reason {
				t.Errorf("Danish escalations %v %v; want one, ok, peer_reason %q", outcomes(es), details(es), tc.reason)
			}
			if ns := f.dk.trackedNotices(t); len(ns) != 1 || ns[0].GetAcknowledged() != "" || ns[0].GetEscalated() == "" {
				t.Errorf("the Danish gateway's notices %v; want %s escalated, not acknowledged: the peer's word closes nothing", ns, id)
			}
		})
	}
}

// unlistedAt reports whether c's registry no longer lists agency, as an
// officer of asker finds by a Match that names it holder.
func unlistedAt(t *testing.T, c *country, asker, agency string) bool {
	_, err := c.client(t, asker, "probe").Match(t.Context(), &liaisonv1.MatchRequest{SubjectId: "SYN-DK-0001",
		RecordTypes: []liaisonv1.RecordType{liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT},
		Purpose:     liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Is the registry reloaded?", Holders: []string{agency}})
	return status.Code(err) == codes.InvalidArgument && fieldOf(err) == "holders[0]" && strings.Contains(status.Convert(err).Message(), "is not a registered agency")
}

// TestCallToAPeerGatewayThatOffboardedThisOne: the Dutch registry
// offboards the Danish gateway, and the Danish prison then pushes a
// release to the Dutch probation service. The Dutch gateway refuses the
// Danish gateway's call (PERMISSION_DENIED, AGENCY_OFFBOARDED, metadata
// offboarded peer_gateway: the calling gateway, not the prison), and the
// Danish gateway refuses its caller with that reason, saying, as the
// peer's word, that it is this gateway the peer offboarded (metadata and
// the entry's detail offboarded peer_gateway). It told the prison that the
// other country's gateway had offboarded the prison.
func TestCallToAPeerGatewayThatOffboardedThisOne(t *testing.T) {
	f := startFederation(t, nil, nil)
	f.nl.offboard(t, "dk-gateway")
	until(t, "the Dutch registry reloaded", func() bool { return offboardedAt(t, f.nl, "nl-police-rotterdam", "dk-prison-east") })

	_, err := f.dk.client(t, "dk-prison-east", "kf.after").Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION))
	var md map[string]string
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			md = i.GetMetadata()
		}
	}
	if status.Code(err) != codes.PermissionDenied || errorReason(err) != "AGENCY_OFFBOARDED" || md["offboarded"] != "peer_gateway" ||
		strings.Contains(status.Convert(err).Message(), "your agency") {
		t.Errorf("Disclose through a peer gateway that offboarded this one = %v (metadata %v); want PermissionDenied, AGENCY_OFFBOARDED, offboarded peer_gateway", err, md)
	}
	dk := f.dk.all(t, "disclose", "kf.after")
	if len(dk) == 0 || dk[len(dk)-1].Outcome != audit.OutcomeRefused || !slices.Equal(dk[len(dk)-1].Reasons, []string{"AGENCY_OFFBOARDED"}) ||
		dk[len(dk)-1].Detail["offboarded"] != "peer_gateway" {
		t.Errorf("Danish entries %v %v; want the last refused, AGENCY_OFFBOARDED, detail offboarded peer_gateway", outcomes(dk), details(dk))
	}
	refused := f.nl.refusedCalls(t)
	if len(refused) != 1 || refused[0].Requester.Agency != "dk-gateway" || !slices.Equal(refused[0].Reasons, []string{"AGENCY_OFFBOARDED"}) {
		t.Errorf("Dutch refused calls %+v; want one, of dk-gateway, AGENCY_OFFBOARDED", refused)
	}
}

// TestEscalationIsNotHeldUpByAPeerThatDoesNotAnswer: the Danish prison's
// required notice reaches the Rotterdam police through both gateways, and
// nobody acknowledges it. At the escalation time the Dutch gateway takes
// the Danish gateway's connections but never answers its question whether
// it still takes its calls (Audit.ProveConsistency). The gateways' calls
// to each other may take a minute (-peer-timeout 1m): the question has a
// short timeout of its own, so the Danish timer pass ends well before
// that (in under 20 s), and the notice is escalated to the prison all the
// same, with no standing and no peer reason (no answer says nothing). The
// question took the federation's timeout, holding up every other notice
// of the pass for it.
func TestEscalationIsNotHeldUpByAPeerThatDoesNotAnswer(t *testing.T) {
	var ahead atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	f := startFederationWith(t, fedConfig{now: clock, hostile: "NL", peerTimeout: time.Minute})
	id := notifyRotterdamPolice(t, f)
	esc := escalateAt(t, f.dk)
	// Registered after the federation's: it lets the hung calls go
	// before the hostile peer stops.
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	var asked atomic.Int32
	f.hostile.setRequest(func(method string, _ proto.Message) {
		if method == "ProveConsistency" {
			asked.Add(1)
			<-hang
		}
	})

	ahead.Store(int64(time.Until(esc) + time.Minute))
	start := time.Now()
	if _, err := f.dk.gw.Server.RunTimers(t.Context()); err != nil {
		t.Fatalf("Danish timers: %v", err)
	}
	took := time.Since(start)
	t.Logf("the Danish timer pass took %v", took)
	if took >= 20*time.Second {
		t.Errorf("the Danish timer pass took %v with a peer that does not answer; want well under the peer timeout (1m)", took)
	}
	if asked.Load() == 0 {
		t.Fatal("the Danish gateway did not ask the Dutch one whether it still takes its calls")
	}
	escalatedOnce(t, f, id, "nl-gateway", "")
	if es := f.dk.all(t, "notice_escalate", ""); len(es) != 1 || es[0].Outcome != audit.OutcomeOK || es[0].Detail["peer_reason"] != "" {
		t.Errorf("Danish escalations %v %v; want one, ok, no peer_reason", outcomes(es), details(es))
	}
}

// TestEscalationIsNotHeldUpByPeersThatDoNotAnswer: the Danish gateway
// tracks two required notices to the Rotterdam police, each forwarded to
// a peer gateway of its own, and nobody acknowledges them. At the
// escalation time neither peer answers the Danish gateway's question
// whether it still takes its calls (Audit.ProveConsistency): both take
// connections and hang. The peers are asked at once, so the timer pass
// waits about one question's timeout (5 s), not one for each peer (10 s
// here), and both notices are escalated to the prison with no standing.
// The two peers: the Dutch gateway delivered the first notice as
// nl-gateway; then the Danish registry renames it nl-gateway-2, which
// delivers the second, and lists as nl-gateway another Dutch gateway,
// with a certificate and checkpoint key of its own, that hangs. The
// pass asked one peer after the other and took over 10 s.
func TestEscalationIsNotHeldUpByPeersThatDoNotAnswer(t *testing.T) {
	var ahead atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	var logs lockedBuffer
	f := startFederationWith(t, fedConfig{now: clock, hostile: "NL", peerTimeout: time.Minute, logs: map[string]io.Writer{"DK": &logs}})
	reload := func(edit func(*gateway.RegistryFile)) {
		t.Helper()
		n := strings.Count(logs.String(), "trust files reloaded")
		f.dk.editFederationRegistry(t, edit)
		until(t, "the Danish registry reloaded", func() bool { return strings.Count(logs.String(), "trust files reloaded") > n })
	}
	first := notifyRotterdamPolice(t, f)
	reload(func(r *gateway.RegistryFile) {
		for i := range r.Agencies {
			if r.Agencies[i].ID == "nl-gateway" {
				r.Agencies[i].ID = "nl-gateway-2"
			}
			if r.Agencies[i].Via == "nl-gateway" {
				r.Agencies[i].Via = "nl-gateway-2"
			}
		}
	})
	second := notifyRotterdamPolice(t, f)
	esc := escalateAt(t, f.dk) // the second's, the later

	// Another Dutch gateway, listed as nl-gateway, that takes
	// connections and never answers.
	hang := make(chan struct{})
	silent := &silentPeer{hang: hang}
	leaf, err := f.nl.CA.Issue("spiffe://nl.liaison.test/gateway-b", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{leaf.Cert}})))
	liaisonv1.RegisterAuditServer(gs, silent)
	go gs.Serve(lis)
	t.Cleanup(func() { close(hang); gs.Stop() })
	_, vkey, err := audit.LoadOrCreateSignerKey(filepath.Join(t.TempDir(), "nlb.key"), "nlb.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	reload(func(r *gateway.RegistryFile) {
		for _, a := range r.Agencies {
			if a.ID == "nl-gateway-2" {
				a.ID, a.Issuer, a.CertificateIdentity = "nl-gateway", a.Issuer+"/b", "spiffe://nl.liaison.test/gateway-b"
				a.Provider, a.CheckpointKey = lis.Addr().String(), vkey
				r.Agencies = append(r.Agencies, a)
				break
			}
		}
	})
	var asked atomic.Int32
	f.hostile.setRequest(func(method string, _ proto.Message) {
		if method == "ProveConsistency" {
			asked.Add(1)
			select {
			case <-hang:
			case <-t.Context().Done():
			}
		}
	})

	ahead.Store(int64(time.Until(esc) + time.Minute))
	start := time.Now()
	if _, err := f.dk.gw.Server.RunTimers(t.Context()); err != nil {
		t.Fatalf("Danish timers: %v", err)
	}
	took := time.Since(start)
	t.Logf("the Danish timer pass took %v", took)
	if asked.Load() == 0 || silent.asked.Load() == 0 {
		t.Fatalf("the Danish gateway asked nl-gateway-2 %d times and nl-gateway %d times; want both asked", asked.Load(), silent.asked.Load())
	}
	if took >= 9*time.Second {
		t.Errorf("the Danish timer pass took %v with two peers that do not answer; want about one question's timeout (5 s), not one each", took)
	}
	es := f.dk.all(t, "notice_escalate", "")
	got := map[string]string{}
	for _, e := range es {
		if e.Outcome != audit.OutcomeOK || e.Detail["recipient_standing"] != "" || e.Detail["peer_reason"] != "" {
			t.Errorf("Danish escalation %s %v; want ok, no standing, no peer reason", e.Outcome, e.Detail)
		}
		got[e.Detail["notice_id"]] = e.Detail["escalated_at_peer"]
	}
	if len(es) != 2 || got[first] != "nl-gateway" || got[second] != "nl-gateway-2" {
		t.Errorf("Danish escalations %v; want %s at nl-gateway and %s at nl-gateway-2", got, first, second)
	}
}

// A silentPeer takes a peer gateway's connections and never answers its
// question (Audit.ProveConsistency) until hang is closed or the call
// ends.
type silentPeer struct {
	liaisonv1.UnimplementedAuditServer
	hang  <-chan struct{}
	asked atomic.Int32
}

func (p *silentPeer) ProveConsistency(ctx context.Context, _ *liaisonv1.ProveConsistencyRequest) (*liaisonv1.ProveConsistencyResponse, error) {
	p.asked.Add(1)
	select {
	case <-p.hang:
	case <-ctx.Done():
	}
	return nil, status.Error(codes.Unavailable, "no answer")
}
