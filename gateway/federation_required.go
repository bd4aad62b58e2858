package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// A required notice (Notify, or a correction that moves the release date)
// to an agency behind a peer gateway is tracked by both gateways under one
// id (pushViaPeer, peerNotice; noticeViaPeer, peerCorrectionNotice): the recipient's
// gateway escalates to the recipient's duty role, the sender's back to the
// sender (escalate), and each records its own overdue step. The recipient
// acknowledges at its own gateway, which forwards the acknowledgement to
// the sender's gateway before it logs its own, so that both logs close the
// notice: acknowledgeRequiredViaPeer on the recipient's side,
// acknowledgeFromPeer on the sender's.

// ackTarget is what an acknowledgement entry of a required notice names:
// the notice's parties, the person, and the notice's facts.
func (s *Server) ackTarget(ctx context.Context, ex *exchange, n audit.Notice) {
	e := s.noticeEntry(ctx, n, actionNoticeAcknowledge, ex.entry.Time)
	x := ex.entry
	x.Holder, x.Recipients, x.Subject, x.RecordType, x.Purpose = e.Holder, e.Recipients, e.Subject, e.RecordType, e.Purpose
	maps.Copy(ex.detail(), e.Detail) // after what begin noted (via_peer)
	x.Detail["late"] = fmt.Sprint(x.Time.After(n.Deadline))
}

// noticeDeliveredBy returns the peer gateway that delivered a required
// notice here (away true), as the entry of its delivery records it
// (detail via_peer): that gateway tracks the notice, under this id, and
// is where its acknowledgement goes, whichever gateway the registry lists
// for its sender now (another gateway knows nothing of it). peer is nil
// if the registry no longer lists that gateway as a peer: forwardAck then
// does not call it, PEER_NOT_REGISTERED; if it offboards that gateway,
// PEER_OFFBOARDED. A notice whose sender is an agency of
// this gateway was delivered here (its entry is not read).
func (s *Server) noticeDeliveredBy(ctx context.Context, n audit.Notice) (peer *Agency, away bool, err error) {
	reg := s.registry.Load()
	if a := reg.Agencies[n.Sender]; a != nil && a.Via == "" && a.Kind != KindPeerGateway {
		return nil, false, nil
	}
	e, err := s.entryAt(ctx, n.AuditIndex, "notice")
	if err != nil {
		return nil, false, fmt.Errorf("notice %s: the entry of its delivery: %w", n.ID, err)
	}
	via := e.Detail["via_peer"]
	if via == "" {
		return nil, false, nil
	}
	if p := reg.Agencies[via]; p != nil && p.Kind == KindPeerGateway {
		return p, true, nil
	}
	return nil, true, nil
}

// acknowledgeRequiredViaPeer acknowledges, for the calling officer, a
// required notice that an agency behind peer sent: pending entry, the
// acknowledgement forwarded to the peer (Exchange.Acknowledge with
// forwarded), the peer's receipt in the final entry, which closes the
// notice here. A peer that had acknowledged it already (an earlier attempt
// whose answer was lost) counts as done, and so does one that does not
// track it (NOTICE_UNKNOWN: its final entry of the notice failed). A peer
// that does not answer does not undo the acknowledgement: the final entry
// closes the notice here all the same (detail peer_outcome deferred) and
// marks it to be forwarded from the timers (forwardAcknowledgements);
// deferred reports that. So does a peer's ALREADY_ACKNOWLEDGED,
// NOTICE_UNKNOWN or NOTICE_WITHDRAWN that carries no receipt of its entry
// that holds for this call (errPeerClaimUnverified): the acknowledgement stands here,
// the entry records the claim unverified, and the forward stays due. So
// does a peer gateway that this gateway's registry offboards (detail
// peer_outcome peer_offboarded) or no longer lists as a peer
// (peer_not_registered): it is not called, and the timers hold the
// forward until the registry takes it back or lists it again. So does a
// peer gateway that refuses the forward saying that its registry no
// longer lists this gateway or offboards it (peerDropsUs): the
// acknowledgement stands here, deferred (detail peer_outcome deferred,
// with the peer's word, peer_code and peer_reason or offboarded), and the
// timers try the forward again. Any other refusal by the peer fails the
// call.
func (s *Server) acknowledgeRequiredViaPeer(ctx context.Context, n audit.Notice, peer *Agency) (deferred bool, err error) {
	ex := s.begin(ctx, actionNoticeAcknowledge)
	defer ex.finish(ctx, &err)
	s.ackTarget(ctx, ex, n)
	err = s.forwardAck(ctx, ex, n, peer, time.Time{})
	if errors.Is(err, errPeerClaimUnverified) {
		// The peer's word alone does not settle the forward: the
		// acknowledgement stands here, and stays to be forwarded.
		s.log.WarnContext(ctx, "a peer's answer to a forwarded acknowledgement is unverified: forward deferred", "notice_id", n.ID,
			"peer", peer.ID, "peer_outcome", ex.entry.Detail[audit.DetailPeerOutcome])
		return true, s.commitAck(ctx, ex, n, ex.entry.Time, true)
	}
	if errors.Is(err, errPeerOffboarded) {
		// This gateway calls an offboarded peer no more: the
		// acknowledgement stands here, its entry says why it was not
		// forwarded, and the timers hold the forward until the registry
		// takes the peer back (forwardAcknowledgements).
		s.log.WarnContext(ctx, "the peer gateway is offboarded: acknowledgement not forwarded", "notice_id", n.ID, "peer", peer.ID)
		ex.entry.Detail[audit.DetailPeerOutcome] = audit.PeerOutcomePeerOffboarded
		s.fwdRetry.hold(n.ID)
		return true, s.commitAck(ctx, ex, n, ex.entry.Time, true)
	}
	if errors.Is(err, errPeerNotRegistered) {
		// The registry no longer lists the gateway the notice came
		// through as a peer: this gateway cannot forward to it, but the
		// police did read the notice. The acknowledgement stands here,
		// its entry says why it was not forwarded, and the timers hold
		// the forward until the registry lists that gateway again.
		s.log.WarnContext(ctx, "the peer gateway the notice came through is no longer registered: acknowledgement not forwarded", "notice_id", n.ID)
		ex.entry.Detail[audit.DetailPeerOutcome] = audit.PeerOutcomePeerNotRegistered
		s.fwdRetry.hold(n.ID)
		return true, s.commitAck(ctx, ex, n, ex.entry.Time, true)
	}
	if peerDropsUs(ex, err) {
		// The peer gateway refused the forward saying that its registry
		// no longer lists, or offboards, this gateway: its word about
		// this gateway, not about the notice, which the police did read.
		// The acknowledgement stands here, as for a peer that does not
		// answer; its entry records the peer's word (forward_pending_reason
		// UNKNOWN_AT_PEER, OFFBOARDED_AT_PEER: forwardWait), and the
		// timers try the forward again.
		s.log.WarnContext(ctx, "the peer gateway refused the forward, saying it no longer lists or has offboarded this gateway: acknowledgement deferred",
			"notice_id", n.ID, "peer", peer.ID, "error", err)
		ex.entry.Detail[audit.DetailPeerOutcome] = audit.PeerOutcomeDeferred
		return true, s.commitAck(ctx, ex, n, ex.entry.Time, true)
	}
	if peerDropsAgency(ex, err) {
		// The peer gateway refused the forward saying that its registry
		// no longer lists, or offboards, the police behind this gateway:
		// its word about the agency, not about the notice, which the
		// police did read. So too: the acknowledgement stands here,
		// deferred, with the peer's word (forward_pending_reason
		// AGENCY_UNKNOWN_AT_PEER, AGENCY_OFFBOARDED_AT_PEER), and the
		// timers try the forward again.
		s.log.WarnContext(ctx, "the peer gateway refused the forward, saying it no longer lists or has offboarded the recipient agency: acknowledgement deferred",
			"notice_id", n.ID, "peer", peer.ID, "error", err)
		ex.entry.Detail[audit.DetailPeerOutcome] = audit.PeerOutcomeDeferred
		return true, s.commitAck(ctx, ex, n, ex.entry.Time, true)
	}
	if err != nil && peerAway(ctx, err) {
		s.log.WarnContext(ctx, "peer gateway did not answer: acknowledgement deferred", "notice_id", n.ID, "peer", peer.ID, "error", err)
		ex.entry.Detail[audit.DetailPeerOutcome] = audit.PeerOutcomeDeferred
		return true, s.commitAck(ctx, ex, n, ex.entry.Time, true)
	}
	if err != nil {
		return false, err
	}
	return false, s.commitAck(ctx, ex, n, ex.entry.Time, false)
}

// peerDropsUs reports whether err, the error of a forward of an
// acknowledgement to a peer gateway (forwardAck, acknowledgeViaPeer), is
// that gateway's refusal saying that its registry no longer lists this
// gateway (UNAUTHENTICATED, UNKNOWN_AGENCY) or offboards it
// (PERMISSION_DENIED, AGENCY_OFFBOARDED, metadata offboarded
// peer_gateway), as peerError recorded it in ex's entry: the peer's word,
// which an acknowledgement made here outlives (its forward deferred).
func peerDropsUs(ex *exchange, err error) bool {
	if err == nil {
		return false
	}
	if fl, ok := errors.AsType[*failure](err); ok && fl.reason == reasonPeerRefused {
		return ex.entry.Detail["peer_code"] == codes.Unauthenticated.String() && ex.entry.Detail["peer_reason"] == reasonUnknownAgency
	}
	if dn, ok := errors.AsType[*denial](err); ok && dn.reason == reasonOffboarded {
		return dn.meta[metaOffboarded] == offboardedPeerGateway && ex.entry.Detail[metaOffboarded] == offboardedPeerGateway
	}
	return false
}

// peerDropsAgency reports whether err, the error of a forward of an
// acknowledgement to a peer gateway (forwardAck, acknowledgeViaPeer), is
// that gateway's refusal saying that its registry no longer lists the
// agency behind this gateway the forward is for (PERMISSION_DENIED,
// UNKNOWN_PEER_AGENCY) or offboards it (PERMISSION_DENIED,
// AGENCY_OFFBOARDED, without the metadata offboarded peer_gateway), as
// peerError and ackPeerError recorded it in ex's entry (detail peer_code
// PermissionDenied, peer_reason): the peer's word about the agency, which
// an acknowledgement made here outlives as well (its forward deferred).
func peerDropsAgency(ex *exchange, err error) bool {
	if err == nil || ex.entry.Detail["peer_code"] != codes.PermissionDenied.String() {
		return false
	}
	if fl, ok := errors.AsType[*failure](err); ok && fl.reason == reasonPeerRefused {
		return ex.entry.Detail["peer_reason"] == reasonUnknownPeerAgency
	}
	if dn, ok := errors.AsType[*denial](err); ok && dn.reason == reasonOffboarded {
		return dn.meta[metaOffboarded] == "" && ex.entry.Detail["peer_reason"] == reasonOffboarded && ex.entry.Detail[metaOffboarded] == ""
	}
	return false
}

// peerAway reports whether a forward failed because the peer gateway did
// not answer (it is down, or unreachable), while the caller was still
// waiting. A refusal by the peer never wraps errPeer (peerError).
func peerAway(ctx context.Context, err error) bool {
	return ctx.Err() == nil && errors.Is(err, errPeer)
}

// reasonPeerClaimUnverified fails the forward of an acknowledgement that
// the peer answered ALREADY_ACKNOWLEDGED, NOTICE_UNKNOWN or
// NOTICE_WITHDRAWN (a required notice's) without a receipt
// of its entry of that refusal that holds for the call.
const reasonPeerClaimUnverified = "PEER_CLAIM_UNVERIFIED"

// errPeerClaimUnverified is what forwardAck's error wraps when the peer
// answered so.
var errPeerClaimUnverified = errors.New("gateway: the peer's answer carries no receipt of its entry of it that holds for this call")

// reasonPeerOffboarded fails the forward of an acknowledgement to a peer
// gateway that this gateway's registry offboards: it is not called.
const reasonPeerOffboarded = "PEER_OFFBOARDED"

// errPeerOffboarded is what forwardAck's error wraps then.
var errPeerOffboarded = errors.New("gateway: the peer gateway the notice came through is offboarded in this gateway's registry")

// errPeerNotRegistered is what forwardAck's error wraps when this
// gateway's registry no longer lists the gateway the notice came through
// as a peer (PEER_NOT_REGISTERED): it is not called.
var errPeerNotRegistered = errors.New("gateway: the gateway the notice came through is no longer a registered peer")

// forwardAck forwards the acknowledgement of n to peer, the gateway of its
// sender: callPeer, the pending entry, Exchange.Acknowledge with its
// receipt; and records in ex's entry what the peer did (its receipt, or
// peer_outcome already_acknowledged, notice_withdrawn or notice_unknown,
// with peer_denial verified and the receipt of the peer's entry of that
// refusal, or unverified). Any of those that is unverified is an error
// wrapping errPeerClaimUnverified: it does not settle the forward
// (peerClaim). at, if set, is when
// the agency acknowledged, for a forward made after the fact (detail
// acknowledged_at, in the pending entry the peer reads). A peer that
// cannot be reached or did not answer is an error wrapping errPeer; one
// this gateway's registry offboards is not called, and the error wraps
// errPeerOffboarded; nor is one it no longer lists (peer nil):
// errPeerNotRegistered.
func (s *Server) forwardAck(ctx context.Context, ex *exchange, n audit.Notice, peer *Agency, at time.Time) error {
	if peer == nil || peer.Kind != KindPeerGateway {
		return failed(reasonPeerNotRegistered, fmt.Errorf("%w: notice %s", errPeerNotRegistered, n.ID))
	}
	if peer.Offboarded {
		ex.detail()["peer"] = peer.ID
		return failed(reasonPeerOffboarded, fmt.Errorf("%w: notice %s, %s", errPeerOffboarded, n.ID, peer.ID))
	}
	if !at.IsZero() {
		ex.entry.Detail[audit.DetailAcknowledgedAt] = at.UTC().Format(time.RFC3339Nano)
	}
	conn, pctx, cancel, err := s.callPeer(ctx, ex, peer)
	if err != nil {
		return err
	}
	defer cancel()
	fwd, err := s.pendingForward(ctx, ex, n.Recipient, nil)
	if err != nil {
		return err
	}
	resp, err := liaisonv1.NewExchangeClient(conn).Acknowledge(pctx, &liaisonv1.AcknowledgeRequest{Forwarded: fwd, NoticeId: n.ID})
	switch {
	case err != nil && errorReason(err) == "ALREADY_ACKNOWLEDGED":
		// The peer closed the notice on an earlier forward whose answer
		// was lost. Its refusal names its entry of it: recorded if its
		// receipt holds for this call; an unverified claim settles
		// nothing (peerClaim).
		ex.entry.Detail["peer_outcome"] = "already_acknowledged"
		return s.peerClaim(ctx, ex, peer, err)
	case err != nil && (errorReason(err) == reasonNoticeWithdrawn || errorReason(err) == reasonNoticeUnknown):
		// The sender's gateway closed the notice unacknowledged (its
		// release withdrawn or ended) before the acknowledgement reached
		// it, or holds no such notice (its own entry of it failed after
		// this gateway delivered it): nothing there to close, and the
		// acknowledgement stands here. Only on the receipt of the peer's
		// entry of that refusal, bound to this call, as for a denial
		// (notePeerRefusal): an unverified claim settles nothing.
		ex.entry.Detail["peer_outcome"] = map[string]string{reasonNoticeWithdrawn: "notice_withdrawn", reasonNoticeUnknown: "notice_unknown"}[errorReason(err)]
		return s.peerClaim(ctx, ex, peer, err)
	case err != nil:
		return s.ackPeerError(ctx, ex, peer, err)
	default:
		if _, err := s.logPeerReceipt(ctx, ex, peer, resp.GetReceipt(), n.Recipient, nil, "its acknowledgement", func(e *audit.Entry) bool {
			return e.Action == actionNoticeAcknowledge && e.Outcome == audit.OutcomeOK && e.Detail["notice_id"] == n.ID
		}); err != nil {
			return err
		}
	}
	return nil
}

// peerClaim records in ex's entry a peer's answer to a forwarded
// acknowledgement that would settle the forward here (ALREADY_ACKNOWLEDGED,
// NOTICE_UNKNOWN, NOTICE_WITHDRAWN: err) with the receipt of the peer's
// entry of it, if that holds for this call (notePeerRefusal). An answer
// without one is recorded unverified and is an error wrapping
// errPeerClaimUnverified: the forward stays due.
func (s *Server) peerClaim(ctx context.Context, ex *exchange, peer *Agency, err error) error {
	verified, _, verr := s.notePeerRefusal(ctx, ex, peer, err)
	if verr != nil {
		return verr
	}
	if !verified {
		return failed(reasonPeerClaimUnverified, fmt.Errorf("%w: %s", errPeerClaimUnverified, errorReason(err)))
	}
	return nil
}

// forwardAcknowledgements forwards, from the timers, the acknowledgements
// made here while the sender's peer gateway could not be reached
// (audit.NoticeForwardDue), each in an exchange of its own in the name of
// the officer who acknowledged (its entry detail forwards names the
// acknowledgement's entry). A notice whose forward failed waits before the
// next attempt, twice as long each time up to forwardRetryMax, so that a
// long outage does not fill the log. One whose peer gateway this
// gateway's registry offboards is held after one entry that says so
// (failed, PEER_OFFBOARDED; or the acknowledgement's own, detail
// peer_outcome peer_offboarded): it is not tried again, still counted
// as awaiting, until the registry takes that gateway back, nor after a
// restart, which reads the hold from the log (offboardedLogged). So is
// one whose peer gateway the registry no longer lists as a peer (failed,
// PEER_NOT_REGISTERED; or peer_outcome peer_not_registered), until the
// registry lists it again.
func (s *Server) forwardAcknowledgements(ctx context.Context, now time.Time) error {
	due, err := s.cfg.Audit.Notices(ctx, audit.NoticeFilter{ForwardDue: true, Limit: forwardPage})
	if err != nil {
		return err
	}
	var errs []error
	var left awaiting
	for _, n := range due {
		if s.fwdRetry.isHeld(n.ID) {
			// Its forward failed, once, because the registry offboards
			// the peer: not tried again until the registry takes the
			// peer back.
			if peer, _, err := s.noticeDeliveredBy(ctx, n); err != nil || peer == nil || peer.Offboarded {
				left.add(n.Acknowledged)
				continue
			}
			s.fwdRetry.release(n.ID)
		}
		done, err := s.fwdRetry.attempt(n.ID, now, func() error { return s.forwardAcknowledgement(ctx, n) })
		if errors.Is(err, errPeerOffboarded) || errors.Is(err, errPeerNotRegistered) {
			s.fwdRetry.hold(n.ID)
			err = nil // its entry says so (PEER_OFFBOARDED, PEER_NOT_REGISTERED); not an error of the timers
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("forward the acknowledgement of notice %s: %w", n.ID, err))
		}
		if !done {
			left.add(n.Acknowledged)
		}
	}
	s.awaitingPeer.set(kindRequiredNotice, left)
	return errors.Join(errs...)
}

// forwardAcknowledgement forwards one deferred acknowledgement of n and,
// once the peer took it, marks it forwarded.
func (s *Server) forwardAcknowledgement(ctx context.Context, n audit.Notice) (err error) {
	peer, away, err := s.noticeDeliveredBy(ctx, n)
	if err != nil {
		return err
	}
	if !away {
		return fmt.Errorf("gateway: notice %s did not come through a peer gateway", n.ID)
	}
	if err := s.offboardedLogged(ctx, peer, n.AckIndex); err != nil {
		return err
	}
	ctx, _, err = s.asAcknowledger(ctx, n.AckIndex, n.Recipient)
	if err != nil {
		return err
	}
	ex := s.begin(ctx, actionNoticeAcknowledge)
	var offboarded error
	defer keepOffboarded(&err, &offboarded) // after finish
	defer ex.finish(ctx, &err)
	s.ackTarget(ctx, ex, n)
	ex.entry.Detail[audit.DetailForwards] = strconv.FormatInt(n.AckIndex, 10)
	ex.entry.Detail["late"] = fmt.Sprint(n.Acknowledged.After(n.Deadline))
	if err := s.forwardAck(ctx, ex, n, peer, n.Acknowledged); err != nil {
		if errors.Is(err, errPeerOffboarded) || errors.Is(err, errPeerNotRegistered) {
			offboarded = err
		}
		return err
	}
	ex.entry.Outcome = audit.OutcomeOK
	_, err = ex.commitState(ctx, audit.Change{Marks: []audit.NoticeMark{{Notice: n.ID, Step: audit.NoticeForwarded, Time: ex.entry.Time}}})
	if errors.Is(err, audit.ErrConflict) {
		return &stateRefusal{reason: "ALREADY_FORWARDED", message: fmt.Sprintf("the acknowledgement of notice %s was forwarded already", n.ID)}
	}
	return err
}

// offboardedLogged returns an error wrapping errPeerOffboarded, and logs
// nothing, if peer is offboarded in this gateway's registry and the log
// says so already of the forward of the acknowledgement at ackIndex: the
// latest entry about it, pending ones aside, is the acknowledgement's own
// with detail peer_outcome peer_offboarded, or a forward's (detail
// forwards naming it) failed PEER_OFFBOARDED. The timers then hold the
// forward (retryBackoff.hold) without one more entry: the hold is the
// log's, which a restarted gateway, or the replica that takes the timers'
// lease, reads as the one that held it did. A later entry about it (a
// forward that reached the peer while the registry took it back, and
// failed) ends what the log says: the next offboarding gets its entry.
//
// So it is, with errPeerNotRegistered, if peer is nil (the registry no
// longer lists the gateway the notice came through as a peer) and the log
// says so already: the acknowledgement's own entry with detail
// peer_outcome peer_not_registered, or a forward's failed
// PEER_NOT_REGISTERED.
func (s *Server) offboardedLogged(ctx context.Context, peer *Agency, ackIndex int64) error {
	outcome, reason, held := audit.PeerOutcomePeerOffboarded, reasonPeerOffboarded, errPeerOffboarded
	switch {
	case peer == nil:
		outcome, reason, held = audit.PeerOutcomePeerNotRegistered, reasonPeerNotRegistered, errPeerNotRegistered
	case !peer.Offboarded:
		return nil
	}
	leaves, err := s.cfg.Audit.Leaves(ctx, ackIndex, ackIndex+1)
	if err != nil {
		return err
	}
	ack, err := audit.Unmarshal(leaves[0])
	if err != nil {
		return err
	}
	if ack.Requester == nil {
		return nil
	}
	said := ack.Detail[audit.DetailPeerOutcome] == outcome
	fwd := strconv.FormatInt(ackIndex, 10)
	// The forwards are made in the name of the officer who acknowledged:
	// the entries of that officer's acknowledgements from it on.
	f := audit.Filter{Officer: ack.Requester.Officer, Action: ack.Action, Start: ackIndex + 1, Limit: offboardedScanPage}
	for {
		recs, err := s.cfg.Audit.Query(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range recs {
			e, err := r.Decoded()
			if err != nil || e.Detail[audit.DetailForwards] != fwd || e.Outcome == audit.OutcomePending {
				continue
			}
			said = e.Outcome == audit.OutcomeFailed && slices.Contains(e.Reasons, reason)
		}
		if len(recs) < offboardedScanPage {
			break
		}
		f.Start = recs[len(recs)-1].Index + 1
	}
	if !said {
		return nil
	}
	return fmt.Errorf("%w: as the log says of the acknowledgement at entry %d already", held, ackIndex)
}

// forwardPendingReason says why the forward of an acknowledgement made
// here waits, for the listings (ListedNotice.forward_pending_reason,
// TrackedNotice.forward_pending_reason), by the peer gateway the notice
// came through as noticePeer or noticeDeliveredBy found it (peer, away,
// err) in the registry now: PEER_OFFBOARDED, PEER_NOT_REGISTERED, or
// PEER_UNAVAILABLE (it has not taken it yet); "" if that could not be
// read, or the notice came through none.
func forwardPendingReason(peer *Agency, away bool, err error) string {
	if fl, ok := errors.AsType[*failure](err); ok && fl.reason == reasonPeerNotRegistered {
		return reasonPeerNotRegistered
	}
	switch {
	case err != nil || !away:
		return ""
	case peer == nil || peer.Kind != KindPeerGateway:
		return reasonPeerNotRegistered
	case peer.Offboarded:
		return reasonPeerOffboarded
	}
	return reasonPeerUnavailable
}

// reasonPeerUnavailable is the forward_pending_reason of an
// acknowledgement the peer gateway has not taken yet.
const reasonPeerUnavailable = "PEER_UNAVAILABLE"

// The forward_pending_reason of an acknowledgement whose latest forward
// the peer gateway, listed here and not offboarded, refused saying that
// its registry does not list this gateway (UNAUTHENTICATED,
// UNKNOWN_AGENCY: reasonUnknownAtPeer) or offboards it
// (PERMISSION_DENIED, AGENCY_OFFBOARDED, metadata offboarded
// peer_gateway: reasonOffboardedAtPeer). The peer's word, not checked
// here, as the escalation standings unknown_at_peer and
// offboarded_at_peer are: the timers try again.
const (
	reasonUnknownAtPeer    = "UNKNOWN_AT_PEER"
	reasonOffboardedAtPeer = "OFFBOARDED_AT_PEER"
)

// The forward_pending_reason of an acknowledgement whose latest forward
// the peer gateway refused saying that its registry does not list the
// agency behind this gateway that acknowledged (PERMISSION_DENIED,
// UNKNOWN_PEER_AGENCY: reasonAgencyUnknownAtPeer) or offboards it
// (PERMISSION_DENIED, AGENCY_OFFBOARDED without the metadata offboarded
// peer_gateway: reasonAgencyOffboardedAtPeer). The peer's word about the
// agency, not checked here: the timers try again.
const (
	reasonAgencyUnknownAtPeer    = "AGENCY_UNKNOWN_AT_PEER"
	reasonAgencyOffboardedAtPeer = "AGENCY_OFFBOARDED_AT_PEER"
	// reasonUnknownPeerAgency is a gateway's refusal of a peer's call
	// for an agency its registry does not list as reached via that
	// peer (asPeer).
	reasonUnknownPeerAgency = "UNKNOWN_PEER_AGENCY"
)

// forwardWait is forwardPendingReason of the acknowledgement at ackIndex,
// with the peer's word: where this gateway's registry gives
// PEER_UNAVAILABLE, the latest attempt to forward it (its final entry,
// detail forwards naming ackIndex; or, before any, the acknowledgement's
// own, whose forward was the first) may have been refused by the peer
// saying that it no longer lists, or has offboarded, this gateway:
// UNKNOWN_AT_PEER, OFFBOARDED_AT_PEER. An attempt that cannot be read
// leaves PEER_UNAVAILABLE.
func (s *Server) forwardWait(ctx context.Context, ackIndex int64, peer *Agency, away bool, err error) string {
	why := forwardPendingReason(peer, away, err)
	if why != reasonPeerUnavailable || ackIndex < 0 {
		return why
	}
	last, err := s.lastForward(ctx, ackIndex)
	if err != nil || last == nil {
		return why
	}
	// A forward's final entry failed or was refused with the peer's
	// word; the acknowledgement's own is ok, its forward deferred
	// (acknowledgeRequiredViaPeer, AcknowledgeNotice: peerDropsUs).
	first := last.Outcome == audit.OutcomeOK && last.Detail[audit.DetailPeerOutcome] == audit.PeerOutcomeDeferred
	switch {
	case (first || last.Outcome == audit.OutcomeFailed) && last.Detail["peer_code"] == codes.Unauthenticated.String() &&
		last.Detail["peer_reason"] == reasonUnknownAgency:
		return reasonUnknownAtPeer
	case (first || last.Outcome == audit.OutcomeRefused && slices.Contains(last.Reasons, reasonOffboarded)) &&
		last.Detail[metaOffboarded] == offboardedPeerGateway:
		return reasonOffboardedAtPeer
	case (first || last.Outcome == audit.OutcomeFailed) && last.Detail["peer_code"] == codes.PermissionDenied.String() &&
		last.Detail["peer_reason"] == reasonUnknownPeerAgency:
		return reasonAgencyUnknownAtPeer
	case (first || last.Outcome == audit.OutcomeRefused && slices.Contains(last.Reasons, reasonOffboarded)) &&
		last.Detail["peer_code"] == codes.PermissionDenied.String() && last.Detail["peer_reason"] == reasonOffboarded &&
		last.Detail[metaOffboarded] == "":
		return reasonAgencyOffboardedAtPeer
	}
	return why
}

// lastForward returns the final entry of the latest attempt to forward
// the acknowledgement at ackIndex (detail forwards naming it, made in the
// name of the officer who acknowledged, pending entries aside), or, if
// there was none, the acknowledgement's own entry (its own forward was
// the first attempt); nil if that names no officer.
func (s *Server) lastForward(ctx context.Context, ackIndex int64) (*audit.Entry, error) {
	leaves, err := s.cfg.Audit.Leaves(ctx, ackIndex, ackIndex+1)
	if err != nil {
		return nil, err
	}
	ack, err := audit.Unmarshal(leaves[0])
	if err != nil || ack.Requester == nil {
		return nil, err
	}
	fwd := strconv.FormatInt(ackIndex, 10)
	last := ack
	for r, err := range s.logEntries(ctx, audit.Filter{Officer: ack.Requester.Officer, Action: ack.Action, Start: ackIndex + 1}) {
		if err != nil {
			return nil, err
		}
		if e, err := r.Decoded(); err == nil && e.Detail[audit.DetailForwards] == fwd && e.Outcome != audit.OutcomePending {
			last = e
		}
	}
	return last, nil
}

// reasonPeerNotRegistered fails the forward of an acknowledgement to a
// gateway the registry no longer lists as a peer.
const reasonPeerNotRegistered = "PEER_NOT_REGISTERED"

// keepOffboarded sets *errp, the status an exchange's finish made of a
// forward's error, back to *offboarded if that is set (the error wrapping
// errPeerOffboarded): the timers hold the forward on it, the failed entry
// (PEER_OFFBOARDED) saying why.
func keepOffboarded(errp *error, offboarded *error) {
	if *offboarded != nil {
		*errp = *offboarded
	}
}

// offboardedScanPage is how many entries offboardedLogged reads at a time.
const offboardedScanPage = 1000

// asAcknowledger reads the acknowledgement at index, made here by an
// officer of recipient, and returns ctx as that officer, as the entry
// records them, to forward it after the fact: the peer checks the
// assertion against the pending entry, which names the acknowledgement it
// forwards.
func (s *Server) asAcknowledger(ctx context.Context, index int64, recipient string) (context.Context, *audit.Entry, error) {
	leaves, err := s.cfg.Audit.Leaves(ctx, index, index+1)
	if err != nil {
		return nil, nil, err
	}
	ack, err := audit.Unmarshal(leaves[0])
	if err != nil {
		return nil, nil, err
	}
	rcpt := s.registry.Load().Agencies[recipient]
	if ack.Requester == nil || rcpt == nil || rcpt.Via != "" {
		return nil, nil, fmt.Errorf("gateway: the acknowledgement at entry %d has no officer, or %s is no longer an agency of this gateway", index, recipient)
	}
	return authn.NewContext(ctx, authn.Caller{
		Agency:  &authn.Agency{ID: rcpt.ID, Kind: rcpt.Kind, Jurisdiction: rcpt.Jurisdiction},
		Officer: authn.Officer{ID: ack.Requester.Officer, Roles: ack.Requester.Roles, Clearance: ack.Requester.Clearance},
	}), ack, nil
}

// forwardRetryMin and forwardRetryMax bound the wait between two attempts
// to forward a deferred acknowledgement.
const (
	forwardRetryMin = 30 * time.Second
	forwardRetryMax = 15 * time.Minute
)

// A retryBackoff holds, per notice, when the next attempt may be made and
// how long the last wait was, and which notices are held because their
// peer gateway is offboarded. It lives in memory: a restart tries at once,
// but a held notice's forward is not made again (and logs nothing) while
// the log says it waits for that peer (offboardedLogged).
type retryBackoff struct {
	mu   sync.Mutex
	next map[string]time.Time
	wait map[string]time.Duration
	held map[string]bool
}

// hold marks id as held: its peer gateway is offboarded.
func (b *retryBackoff) hold(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil {
		b.held = map[string]bool{}
	}
	b.held[id] = true
}

func (b *retryBackoff) isHeld(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held[id]
}

func (b *retryBackoff) release(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.held, id)
}

// attempt runs f for id unless id waits after a failed attempt, and
// records whether it failed (the next attempt then waits longer) or not;
// done reports that f ran and succeeded.
func (b *retryBackoff) attempt(id string, now time.Time, f func() error) (done bool, err error) {
	if !b.due(id, now) {
		return false, nil
	}
	if err := f(); err != nil {
		b.failed(id, now)
		return false, err
	}
	b.done(id)
	return true, nil
}

// The kinds of notice whose acknowledgements may wait for a peer gateway,
// as the metric liaison_acknowledgements_awaiting_peer names them.
const (
	kindRequiredNotice   = "required_notice"
	kindObligationNotice = "obligation_notice"
)

// awaiting counts acknowledgements that wait for a peer gateway, and
// when the oldest was made.
type awaiting struct {
	n      int
	oldest time.Time
}

func (a *awaiting) add(at time.Time) {
	if a.n == 0 || at.Before(a.oldest) {
		a.oldest = at
	}
	a.n++
}

// awaitingPeer is what this replica's last timer passes left waiting for a
// peer gateway, per kind of notice, for the metrics.
type awaitingPeer struct {
	mu     sync.Mutex
	byKind map[string]awaiting
}

func (w *awaitingPeer) set(kind string, a awaiting) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byKind == nil {
		w.byKind = map[string]awaiting{}
	}
	w.byKind[kind] = a
}

func (w *awaitingPeer) get(kind string) awaiting {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byKind[kind]
}

func (b *retryBackoff) due(id string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !now.Before(b.next[id])
}

func (b *retryBackoff) failed(id string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next == nil {
		b.next, b.wait = map[string]time.Time{}, map[string]time.Duration{}
	}
	w := min(max(2*b.wait[id], forwardRetryMin), forwardRetryMax)
	b.wait[id], b.next[id] = w, now.Add(w)
}

func (b *retryBackoff) done(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.next, id)
	delete(b.wait, id)
}

// ackPeerError is peerError for a forwarded acknowledgement. Sending it
// again is safe (a peer that closed the notice answers
// ALREADY_ACKNOWLEDGED), so a peer that did not answer is, for the caller,
// one that could not be reached: Unavailable with a RetryInfo. The entry
// still says that the peer's outcome is unknown.
func (s *Server) ackPeerError(ctx context.Context, ex *exchange, peer *Agency, err error) error {
	err = s.peerError(ctx, ex, peer, err, true)
	if dn, ok := errors.AsType[*denial](err); ok && dn.reason == reasonOffboarded && dn.meta[metaOffboarded] == "" {
		// The peer offboards the agency the forward is for, not this
		// gateway: its word, recorded (peerDropsAgency, forwardWait).
		ex.detail()["peer_code"], ex.detail()["peer_reason"] = codes.PermissionDenied.String(), reasonOffboarded
	}
	if errors.Is(err, errPeerNoAnswer) {
		return failed("PEER_UNAVAILABLE", fmt.Errorf("%w: no answer to a forwarded acknowledgement", errPeer))
	}
	return err
}

// commitAck logs the acknowledgement of n, made at at, with its mark, and
// with forwardDue the mark that it is still to be forwarded to a peer.
func (s *Server) commitAck(ctx context.Context, ex *exchange, n audit.Notice, at time.Time, forwardDue bool) error {
	ex.entry.Outcome = audit.OutcomeOK
	c := audit.Change{Marks: []audit.NoticeMark{{Notice: n.ID, Step: audit.NoticeAcknowledged, Time: at}}}
	if forwardDue {
		c.Marks = append(c.Marks, audit.NoticeMark{Notice: n.ID, Step: audit.NoticeForwardDue, Time: at})
	}
	idx, err := ex.commitState(ctx, c)
	if errors.Is(err, audit.ErrConflict) {
		// Closed meanwhile: acknowledged by another officer (or an
		// earlier forward), or withdrawn.
		if ns, rerr := s.cfg.Audit.Notices(ctx, audit.NoticeFilter{ID: n.ID}); rerr == nil && len(ns) == 1 && !ns[0].Withdrawn.IsZero() {
			return noticeWithdrawn(ns[0])
		}
		return alreadyAcknowledged(n.ID)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "required notice acknowledged", "notice_id", n.ID, "audit_index", idx, "recipient", n.Recipient,
		"officer", ex.caller.Officer.ID, "late", ex.entry.Detail["late"], "peer", ex.entry.Detail["peer"])
	return nil
}

// forwardedAckTime is when the agency acknowledged, by the pending entry
// of a peer gateway's forwarded acknowledgement (got): that entry's time,
// or, for a forward made after the fact, the time it names (detail
// acknowledged_at), which it copies into e, this gateway's entry.
func forwardedAckTime(e *audit.Entry, got Receipt) (time.Time, error) {
	v, ok := got.Entry.Detail[audit.DetailAcknowledgedAt]
	if !ok {
		return got.Entry.Time, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	// In UTC, as the forwarding gateway writes it (one spelling), and not
	// after the entry's own time, on the same gateway's clock. (No lower
	// bound: the two gateways' clocks may differ by seconds, and a peer
	// able to backdate could backdate to just after the notice.)
	if err != nil || t.UTC().Format(time.RFC3339Nano) != v || t.After(got.Entry.Time) {
		return time.Time{}, invalid("forwarded.receipt", "names an acknowledgement time that is not an RFC 3339 time in UTC before its own entry's")
	}
	e.Detail[audit.DetailAcknowledgedAt] = v
	return t.UTC(), nil
}

// reasonNoticeUnknown is the reason of a forwarded acknowledgement of a
// notice the sender's gateway does not track.
const reasonNoticeUnknown = "NOTICE_UNKNOWN"

// alreadyAcknowledged refuses the acknowledgement of a notice acknowledged
// before (by another officer meanwhile, or an earlier forwarded attempt).
func alreadyAcknowledged(id string) error {
	return &denial{reason: "ALREADY_ACKNOWLEDGED", message: fmt.Sprintf("notice %s was acknowledged already", id), refusal: true, auditIdx: -1}
}

// reasonNoticeWithdrawn refuses the acknowledgement of a required notice
// closed unacknowledged because its release was withdrawn or ended.
const reasonNoticeWithdrawn = "NOTICE_WITHDRAWN"

// noticeWithdrawn refuses the acknowledgement of withdrawn notice n.
func noticeWithdrawn(n audit.Notice) error {
	return &stateRefusal{reason: reasonNoticeWithdrawn, message: fmt.Sprintf(
		"notice %s was withdrawn unacknowledged (entry %d): there is nothing left to acknowledge", n.ID, n.WithdrawalIndex)}
}

// acknowledgeFromPeer is a peer gateway's forwarded acknowledgement of a
// required notice this gateway sent through it: the receipt must be of
// the peer's pending acknowledgement of that notice by this officer of
// the notice's recipient. This gateway closes the notice with an entry of
// its own and answers with its receipt.
func (s *Server) acknowledgeFromPeer(ctx context.Context, req *liaisonv1.AcknowledgeRequest) (_ *liaisonv1.AcknowledgeResponse, err error) {
	ex := s.begin(ctx, actionNoticeAcknowledge)
	// Runs after finish: the refusals the forwarding gateway acts on name
	// their entry, whose receipt goes with them (withRefusalReceipt).
	defer func() { err = namedRefusal(err, ex.index, peerClaimReasons...) }()
	defer ex.finish(ctx, &err)
	if _, ok := peerFromContext(ctx); !ok {
		// An agency's call names the field it set that only a peer
		// gateway's may: forwarded, else notice_id.
		if req.GetForwarded() == nil {
			return nil, invalid("notice_id", "is set only by a peer gateway that forwards an acknowledgement; acknowledge by cursor")
		}
		return nil, invalid("forwarded", "only a peer gateway forwards an acknowledgement")
	}
	s.notePeerForward(ctx, ex, req.GetForwarded()) // a refusal below names the pending entry too (federation_push.go)
	switch {
	case req.GetForwarded() == nil:
		return nil, invalid("forwarded", "a peer gateway acknowledges a notice with the receipt of the entry it logged")
	case req.GetCursor() != 0:
		return nil, invalid("cursor", "must be zero in a forwarded acknowledgement: it names the notice by notice_id")
	case !validNoticeID(req.GetNoticeId()):
		return nil, invalid("notice_id", "must be the id of a required notice")
	}
	ns, err := s.cfg.Audit.Notices(ctx, audit.NoticeFilter{ID: req.GetNoticeId(), Recipient: ex.caller.Agency.ID})
	if err != nil {
		return nil, fmt.Errorf("%w: notices: %v", audit.ErrUnavailable, err)
	}
	if len(ns) != 1 {
		// Refused for this very call: the entry names the pending entry
		// forwarded (acceptForward), so that the peer can verify the
		// refusal (PeerRefusal) before it takes the notice as unknown here.
		if err := s.acceptUnknownAck(ctx, ex, req); err != nil {
			return nil, err
		}
		return nil, &badRequest{field: "notice_id", reason: reasonNoticeUnknown, problem: "is not a required notice this gateway sent to your agency"}
	}
	n := ns[0]
	s.ackTarget(ctx, ex, n)
	e := ex.entry
	got, err := s.acceptForward(ctx, ex, req.GetForwarded(), forwardedFacts{actions: []string{actionNoticeAcknowledge},
		recipient: n.Recipient, holder: n.Sender, recordType: e.RecordType, purpose: e.Purpose})
	if err != nil {
		return nil, err
	}
	if got.Entry.Detail["notice_id"] != n.ID {
		return nil, invalid("forwarded.receipt", "names an acknowledgement of another notice")
	}
	if !n.Acknowledged.IsZero() {
		return nil, alreadyAcknowledged(n.ID)
	}
	if !n.Withdrawn.IsZero() {
		return nil, noticeWithdrawn(n)
	}
	// The time the officer acknowledged, as the peer logged it, says
	// whether it was late.
	at, err := forwardedAckTime(e, got)
	if err != nil {
		return nil, err
	}
	e.Detail["late"] = fmt.Sprint(at.After(n.Deadline))
	if err := s.commitAck(ctx, ex, n, at, false); err != nil {
		return nil, err
	}
	rc, err := s.receipt(ctx, ex.index, n.Recipient, nil)
	if err != nil {
		// The acknowledgement stands; the peer records that it has no receipt.
		s.log.ErrorContext(ctx, "receipt for a peer failed", "audit_index", ex.index, "error", err)
	}
	return &liaisonv1.AcknowledgeResponse{Receipt: rc}, nil
}

// peerClaimReasons are the refusals of a forwarded acknowledgement that
// the forwarding gateway acts on (the notice stays acknowledged there,
// the forward settled) only with the receipt of the refusal's entry
// (peerClaim): besides ALREADY_ACKNOWLEDGED, a denial, these.
var peerClaimReasons = []string{reasonNoticeUnknown, reasonNoticeWithdrawn}

// acceptUnknownAck checks the PeerForward of a forwarded acknowledgement
// of a notice this gateway does not track (acceptForward), with the
// parties, record type and purpose its pending entry names, so that the
// refusal's entry names that pending entry (detail peer_index) and this
// call's assertion: it answers this call only.
func (s *Server) acceptUnknownAck(ctx context.Context, ex *exchange, req *liaisonv1.AcknowledgeRequest) error {
	bad := invalid("forwarded.receipt", "does not verify against the peer gateway's checkpoint key, or is not of this exchange")
	p, _ := peerFromContext(ctx)
	peer := s.registry.Load().Agencies[p.peer.ID]
	if peer == nil || peer.CheckpointKey == "" {
		return failed("PEER_NOT_REGISTERED", errors.New("gateway: the calling peer gateway has no checkpoint key"))
	}
	key, err := note.NewVerifier(peer.CheckpointKey)
	if err != nil {
		return failed("PEER_NOT_REGISTERED", err)
	}
	pre, err := VerifyReceipt(req.GetForwarded().GetReceipt(), key, ex.caller.Agency.ID, nil)
	if err != nil || pre.Entry.Holder == nil {
		return bad
	}
	got, err := s.acceptForward(ctx, ex, req.GetForwarded(), forwardedFacts{actions: []string{actionNoticeAcknowledge},
		recipient: ex.caller.Agency.ID, holder: pre.Entry.Holder.Agency, recordType: pre.Entry.RecordType, purpose: pre.Entry.Purpose})
	if err != nil {
		return err
	}
	if got.Entry.Detail["notice_id"] != req.GetNoticeId() {
		return invalid("forwarded.receipt", "names an acknowledgement of another notice")
	}
	return nil
}

// namedRefusal adds to a refusal status err whose ErrorInfo reason is one
// of reasons the index of the entry that logged it (metadata audit_index),
// as a denial's names its entry, for withRefusalReceipt.
func namedRefusal(err error, index int64, reasons ...string) error {
	st, ok := status.FromError(err)
	if err == nil || !ok || index < 0 {
		return err
	}
	sp := st.Proto()
	for j, a := range sp.GetDetails() {
		var info errdetails.ErrorInfo
		if a.UnmarshalTo(&info) != nil || !slices.Contains(reasons, info.GetReason()) || info.GetMetadata()["audit_index"] != "" {
			continue
		}
		if info.Metadata == nil {
			info.Metadata = map[string]string{}
		}
		info.Metadata["audit_index"] = strconv.FormatInt(index, 10)
		named, aerr := anypb.New(&info)
		if aerr != nil {
			return err
		}
		sp.Details[j] = named
		return status.FromProto(sp).Err()
	}
	return err
}
