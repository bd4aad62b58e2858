package gateway

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// A gateway whose registry offboards a peer gateway refuses its every
// call at authentication, PERMISSION_DENIED, ErrorInfo reason
// AGENCY_OFFBOARDED, as it refuses an offboarded agency's own calls. A
// call a peer gateway makes for an agency behind it that the registry
// offboards is refused with the same code and reason. The refusal of the
// peer gateway itself says so in the ErrorInfo's metadata (metaOffboarded
// offboardedPeerGateway), so that the peer can tell the two apart: that
// gateway hears nothing more from this one (an acknowledgement made here
// of a notice it sent is held here, PEER_OFFBOARDED), and its timers tell
// the notice's sender why, as this gateway's word (escalate,
// standingOffboardedAtPeer). A peer gateway that this gateway's registry
// does not list at all is refused at authentication too (its
// certificate, of a CA still trusted, names no agency listed:
// UNAUTHENTICATED, UNKNOWN_AGENCY; an acknowledgement made here of a
// notice it sent is held here, PEER_NOT_REGISTERED), and its timers
// tell the sender so (standingUnknownAtPeer).
const (
	metaOffboarded        = "offboarded"
	offboardedPeerGateway = "peer_gateway"
)

// offboardedPeerGateway reports whether ae refuses a call because the
// registry offboards the peer gateway that made it (its certificate's
// agency), not an agency behind it.
func (s *Server) offboardedPeerGateway(ae *authn.Error) bool {
	if ae.Reason != reasonOffboarded || !ae.Proven || ae.Agency == "" {
		return false
	}
	a := s.registry.Load().Agencies[ae.Agency]
	return a != nil && a.Kind == KindPeerGateway
}

// standingOffboardedAtPeer is the recipient_standing of the sender's
// escalation of a notice to an agency behind a peer gateway that, asked
// when the notice was escalated, refused this gateway's call saying that
// its registry offboards this gateway (peerRefusesUs). That is the
// peer's word, not checked here: the notice is escalated all the same.
const standingOffboardedAtPeer = "offboarded_at_peer"

// standingUnknownAtPeer is the recipient_standing of the sender's
// escalation of a notice to an agency behind a peer gateway that, asked
// when the notice was escalated, refused this gateway's call saying that
// its registry lists no agency of this gateway's certificate
// (UNAUTHENTICATED, UNKNOWN_AGENCY: peerRefusesUs): it no longer lists
// this gateway, whose calls it refuses, and it forwards no
// acknowledgement to a gateway it does not list (it holds it,
// PEER_NOT_REGISTERED). The peer's word, as standingOffboardedAtPeer is.
const standingUnknownAtPeer = "unknown_at_peer"

// reasonUnknownAgency is the reason of a refusal of a call whose client
// certificate names no agency the registry lists (authn).
const reasonUnknownAgency = "UNKNOWN_AGENCY"

// peerStandings are the recipient_standing of an escalation by the
// reason code of the peer's refusal peerRefusesUs returns.
var peerStandings = map[string]string{
	reasonOffboarded:    standingOffboardedAtPeer,
	reasonUnknownAgency: standingUnknownAtPeer,
}

// peerRefusesUs asks peerID, the peer gateway that tracks a notice whose
// recipient is behind it, whether it still takes this gateway's calls,
// with a call that changes nothing there: Audit.ProveConsistency from its
// first entry to its latest checkpoint, asserted for the notice's sender
// by the notice timers (officer noticeTimerOfficer). It returns the peer's reason code if the peer
// refused the call saying that its registry offboards this gateway
// (PERMISSION_DENIED, AGENCY_OFFBOARDED, metadata offboarded
// peer_gateway) or that it lists no agency of this gateway's
// certificate, so no longer lists this gateway (UNAUTHENTICATED,
// UNKNOWN_AGENCY), and "" for any other answer: a peer that answers, does
// not answer, refuses for another reason (an agency behind this gateway
// it offboarded or no longer lists, say, UNKNOWN_PEER_AGENCY: the
// acknowledgement still comes) or is not a
// registered peer gateway here says nothing of the kind; a peer that has
// not answered within peerStandingTimeout has not answered. asked holds the
// answers of this timer pass by peer, so that a pass asks each peer once:
// askPeersStanding has asked, all at once, the peers the pass's notices
// need before the pass escalates them, and a peer it did not ask (the
// registry changed in between) is asked here.
func (s *Server) peerRefusesUs(ctx context.Context, peerID, sender string, asked map[string]string) string {
	if why, ok := asked[peerID]; ok {
		return why
	}
	why := s.askPeerStanding(ctx, peerID, sender)
	asked[peerID] = why
	return why
}

// askPeersStanding asks each peer gateway that escalate would ask of a
// notice of due (one whose recipient is behind the peer that tracks it
// with this gateway, a recipient this registry lists and does not
// offboard: escalate) whether it still takes this gateway's calls
// (askPeerStanding, for the sender of the first such notice, as escalate
// would), all of them at once, at most peerStandingParallel at a time,
// and returns the answers by peer, for peerRefusesUs. Asked one after
// another, N peers that take connections but do not answer held a timer
// pass up for N times peerStandingTimeout; so, for about one. A notice
// whose entry cannot be read is left to escalate, which reports it.
func (s *Server) askPeersStanding(ctx context.Context, due []audit.Notice) map[string]string {
	reg := s.registry.Load()
	senders := map[string]string{}
	var peers []string
	for _, n := range due {
		peer, away, err := s.noticeTrackedWith(ctx, n)
		rcpt := reg.Agencies[n.Recipient]
		if err != nil || !away || peer == "" || rcpt == nil || rcpt.Offboarded {
			continue
		}
		if _, ok := senders[peer]; !ok {
			senders[peer] = n.Sender
			peers = append(peers, peer)
		}
	}
	asked := make(map[string]string, len(peers))
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, peerStandingParallel)
	for _, peer := range peers {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			why := s.askPeerStanding(ctx, peer, senders[peer])
			mu.Lock()
			asked[peer] = why
			mu.Unlock()
		})
	}
	wg.Wait()
	return asked
}

// peerStandingParallel bounds how many peer gateways askPeersStanding
// asks at once.
const peerStandingParallel = 8

func (s *Server) askPeerStanding(ctx context.Context, peerID, sender string) string {
	reg := s.registry.Load()
	peer, from := reg.Agencies[peerID], reg.Agencies[sender]
	if peer == nil || peer.Kind != KindPeerGateway || peer.Offboarded || from == nil || from.Via != "" {
		return ""
	}
	tok, err := s.assertion(authn.Caller{
		Agency:  &authn.Agency{ID: from.ID, Kind: from.Kind, Jurisdiction: from.Jurisdiction},
		Officer: authn.Officer{ID: noticeTimerOfficer},
	})
	if err != nil {
		return ""
	}
	conn, err := s.peerConn(ctx, peer)
	if err != nil {
		return ""
	}
	timeout := s.cfg.Federation.Timeout
	if timeout == 0 || timeout > peerStandingTimeout {
		timeout = peerStandingTimeout
	}
	pctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok), timeout)
	defer cancel()
	_, err = liaisonv1.NewAuditClient(conn).ProveConsistency(pctx, &liaisonv1.ProveConsistencyRequest{OldSize: 1})
	st := status.Convert(err)
	info, _, _ := peerRefusalDetails(st)
	switch {
	case err == nil:
	case st.Code() == codes.PermissionDenied && info.GetReason() == reasonOffboarded && info.GetMetadata()[metaOffboarded] == offboardedPeerGateway:
		s.log.WarnContext(ctx, "the peer gateway refuses this gateway's calls, saying its registry offboards this gateway", "peer", peer.ID)
		return reasonOffboarded
	case st.Code() == codes.Unauthenticated && info.GetReason() == reasonUnknownAgency:
		s.log.WarnContext(ctx, "the peer gateway refuses this gateway's calls, saying its registry does not list this gateway", "peer", peer.ID)
		return reasonUnknownAgency
	}
	return ""
}

// peerStandingTimeout bounds the question of askPeerStanding (the
// federation's timeout if that is shorter): it is asked in a timer pass,
// whose other notices wait for it, and a peer that takes connections but
// does not answer would otherwise hold the pass up for the federation's
// timeout (30 s by default). The peers are asked at once
// (askPeersStanding), so that peers that do not answer hold the pass up
// for about this long, not this long each. No answer in time is no
// answer: no reason.
const peerStandingTimeout = 5 * time.Second

// noticeTimerOfficer is the officer the notice timers' calls to a peer
// are asserted for: no person.
const noticeTimerOfficer = "notice-timer"
