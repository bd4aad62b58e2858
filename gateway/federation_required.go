package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// A required notice (Notify) to an agency behind a peer gateway is tracked
// by both gateways under one id (pushViaPeer, peerNotice): the recipient's
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

// acknowledgeRequiredViaPeer acknowledges, for the calling officer, a
// required notice that an agency behind peer sent: pending entry, the
// acknowledgement forwarded to the peer (Exchange.Acknowledge with
// forwarded), the peer's receipt in the final entry, which closes the
// notice here. A peer that had acknowledged it already (an earlier attempt
// whose answer was lost) counts as done, and so does one that does not
// track it (NOTICE_UNKNOWN: its final entry of the notice failed). If the
// peer cannot be reached the notice stays open here as there.
func (s *Server) acknowledgeRequiredViaPeer(ctx context.Context, n audit.Notice, peer *Agency) (err error) {
	ex := s.begin(ctx, actionNoticeAcknowledge)
	defer ex.finish(ctx, &err)
	s.ackTarget(ctx, ex, n)
	if peer == nil || peer.Kind != KindPeerGateway {
		return failed("PEER_NOT_REGISTERED", fmt.Errorf("gateway: notice %s came through a gateway that is no longer a registered peer", n.ID))
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
		ex.entry.Detail["peer_outcome"] = "already_acknowledged"
	case err != nil && errorReason(err) == reasonNoticeUnknown:
		// The peer holds no such notice (its own entry of it failed after
		// this gateway delivered it): nothing there to close, and the
		// recipient's acknowledgement stands here.
		ex.entry.Detail["peer_outcome"] = "notice_unknown"
	case err != nil:
		return ackPeerError(ex, err)
	default:
		if _, err := s.logPeerReceipt(ex, peer, resp.GetReceipt(), n.Recipient, nil, "its acknowledgement", func(e *audit.Entry) bool {
			return e.Action == actionNoticeAcknowledge && e.Outcome == audit.OutcomeOK && e.Detail["notice_id"] == n.ID
		}); err != nil {
			return err
		}
	}
	return s.commitAck(ctx, ex, n)
}

// ackPeerError is peerError for a forwarded acknowledgement. Sending it
// again is safe (a peer that closed the notice answers
// ALREADY_ACKNOWLEDGED), so a peer that did not answer is, for the caller,
// one that could not be reached: Unavailable with a RetryInfo. The entry
// still says that the peer's outcome is unknown.
func ackPeerError(ex *exchange, err error) error {
	err = peerError(ex, err, true)
	if errors.Is(err, errPeerNoAnswer) {
		return failed("PEER_UNAVAILABLE", fmt.Errorf("%w: no answer to a forwarded acknowledgement", errPeer))
	}
	return err
}

// commitAck logs the acknowledgement of n with its mark.
func (s *Server) commitAck(ctx context.Context, ex *exchange, n audit.Notice) error {
	ex.entry.Outcome = audit.OutcomeOK
	idx, err := ex.commitState(ctx, audit.Change{Marks: []audit.NoticeMark{{Notice: n.ID, Step: audit.NoticeAcknowledged, Time: ex.entry.Time}}})
	if errors.Is(err, audit.ErrConflict) {
		return alreadyAcknowledged(n.ID)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "required notice acknowledged", "notice_id", n.ID, "audit_index", idx, "recipient", n.Recipient,
		"officer", ex.caller.Officer.ID, "late", ex.entry.Detail["late"], "peer", ex.entry.Detail["peer"])
	return nil
}

// reasonNoticeUnknown is the reason of a forwarded acknowledgement of a
// notice the sender's gateway does not track.
const reasonNoticeUnknown = "NOTICE_UNKNOWN"

// alreadyAcknowledged refuses the acknowledgement of a notice acknowledged
// before (by another officer meanwhile, or an earlier forwarded attempt).
func alreadyAcknowledged(id string) error {
	return &denial{reason: "ALREADY_ACKNOWLEDGED", message: fmt.Sprintf("notice %s was acknowledged already", id), refusal: true, auditIdx: -1}
}

// acknowledgeFromPeer is a peer gateway's forwarded acknowledgement of a
// required notice this gateway sent through it: the receipt must be of
// the peer's pending acknowledgement of that notice by this officer of
// the notice's recipient. This gateway closes the notice with an entry of
// its own and answers with its receipt.
func (s *Server) acknowledgeFromPeer(ctx context.Context, req *liaisonv1.AcknowledgeRequest) (_ *liaisonv1.AcknowledgeResponse, err error) {
	ex := s.begin(ctx, actionNoticeAcknowledge)
	defer ex.finish(ctx, &err)
	if _, ok := peerFromContext(ctx); !ok {
		return nil, invalid("forwarded", "only a peer gateway forwards an acknowledgement")
	}
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
	// The time the officer acknowledged, as the peer logged it, says
	// whether it was late.
	e.Detail["late"] = fmt.Sprint(got.Entry.Time.After(n.Deadline))
	if err := s.commitAck(ctx, ex, n); err != nil {
		return nil, err
	}
	rc, err := s.receipt(ctx, ex.index, n.Recipient, nil)
	if err != nil {
		// The acknowledgement stands; the peer records that it has no receipt.
		s.log.ErrorContext(ctx, "receipt for a peer failed", "audit_index", ex.index, "error", err)
	}
	return &liaisonv1.AcknowledgeResponse{Receipt: rc}, nil
}
