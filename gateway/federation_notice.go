package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// Corrections and withdrawals across a border. A release to an agency
// behind a peer gateway was delivered into that agency's inbox at its own
// gateway, so a correction or a withdrawal of it must go there too: it
// travels as a forwarded push does (federation_push.go). The holder's
// gateway decides the correction under its law, logs a pending entry
// naming the release it corrects and, in detail peer_refers_to, the
// recipient gateway's entry for that release; it forwards the notice with
// Exchange.Disclose (the corrected record in forwarded.released; none for
// a withdrawal). The recipient's gateway checks the receipt, finds its own
// entry of the release (refusing one that did not come from this holder
// through this peer), decides a correction again under its own law on
// receipt (a refusal there turns it into a withdrawal: the recipient may
// not keep the record; one that keeps it under its own retention rule
// since the basis ended keeps it only restricted, keptRestricts, also when
// the holder's law refused the correction), lists what the recipient passed on, logs and
// delivers the notice in one transaction, its refers_to naming its own
// entry, and answers with its receipt. The holder's gateway checks that
// receipt and logs its final entry, which says what the recipient got. A
// correction that moves the release date carries its required notice
// across, tracked by both gateways under one id (noticeViaPeer,
// peerCorrectionNotice) as a Notify's is (federation_required.go).
//
// The acknowledgement is made, and checked, at the recipient's gateway
// (where what the recipient passed on is known); an acknowledgement of a
// notice that came from a peer is forwarded to the holder's gateway in
// turn (acknowledgeViaPeer), so that both logs close the notice.

// detailPeerRefersTo is the detail, in a forwarded notice's entries, that
// names the recipient gateway's entry of the release the notice is about
// (as the holder's gateway knows it: the entry that delivered it, or the
// recipient gateway's pending entry of its request).
const detailPeerRefersTo = "peer_refers_to"

// noticeActions are the actions of the notices a peer gateway forwards.
var noticeActions = []string{audit.ActionCorrect, audit.ActionWithdraw}

// noticeViaPeer is deliverNotice for a recipient behind a peer gateway:
// pending entry, forward, the peer's receipt, final entry. It updates n
// to what the peer delivered (a correction its law refused on receipt
// became a withdrawal).
//
// A correction that carries a required notice (req: it moves the release
// date) is tracked by both gateways under one id, as pushViaPeer tracks a
// Notify's: its id, rule, deadline and escalation time are in the pending
// entry, the peer tracks it from its own entry of the correction, and the
// final entry here tracks it too. A peer that turned the correction into
// a withdrawal tracks none, and neither does this gateway (the withdrawal
// closes the release's notices instead); a peer of a release before this
// that delivered the correction without tracking it leaves it tracked
// here alone (detail peer_tracks_notice false).
func (s *Server) noticeViaPeer(ctx context.Context, ex *exchange, rcpt *Agency, rel *liaisonv1.Released, n *liaisonv1.ObligationNotice, req *requiredDelivery) (int64, error) {
	kind := ex.entry.Detail[audit.DetailNoticeKind]
	if kind != audit.NoticeCorrection && kind != audit.NoticeWithdrawal || len(n.GetRefersTo()) != 1 {
		return -1, failed("PEER_NOTICE_UNSUPPORTED", fmt.Errorf("gateway: a %s notice does not travel to a peer gateway", kind))
	}
	orig, err := s.entryAt(ctx, n.GetRefersTo()[0], "refers_to")
	if err != nil {
		return -1, err
	}
	theirs := orig.Detail["peer_index"]
	if theirs == "" {
		return -1, failed("PEER_RELEASE_UNKNOWN", fmt.Errorf("gateway: release %d names no entry of the peer gateway", n.GetRefersTo()[0]))
	}
	ex.entry.Detail[detailPeerRefersTo] = theirs
	peer := s.registry.Load().Agencies[rcpt.Via]
	if peer == nil || peer.Kind != KindPeerGateway {
		return -1, failed("PEER_NOT_REGISTERED", fmt.Errorf("gateway: %s is reached via %s, which is not a registered peer gateway", rcpt.ID, rcpt.Via))
	}
	conn, pctx, cancel, err := s.callPeer(ctx, ex, peer)
	if err != nil {
		return -1, err
	}
	defer cancel()
	client := liaisonv1.NewExchangeClient(conn)
	if kind == audit.NoticeWithdrawal {
		// No record: what is withdrawn, from whom.
		rel = &liaisonv1.Released{Holder: n.GetHolder(), RecordType: n.GetRecordType(), LegalBasis: n.GetLegalBasis(),
			PseudonymDomain: n.GetPseudonymDomain(), SubjectPseudonym: n.GetSubjectPseudonym()}
	}
	fwd, err := s.pendingForward(ctx, ex, rcpt.ID, rel)
	if err != nil {
		return -1, err
	}
	sub := ex.entry.Subject
	resp, err := client.Disclose(pctx, &liaisonv1.DiscloseRequest{
		Subject: &liaisonv1.SubjectAttributes{
			Category: liaisonv1.SubjectCategory(categoryNumber(sub.Category)), InCustody: sub.InCustody,
			ReleaseDate: sub.ReleaseDate, ProbationUntil: sub.ProbationUntil, Municipality: sub.Municipality,
		},
		Recipients:        []string{rcpt.ID},
		Purpose:           purposeEnum(ex.entry.Purpose),
		ClaimedLegalBasis: ex.entry.ClaimedLegalBasis,
		Justification:     ex.entry.Justification,
		Forwarded:         fwd,
	})
	if err != nil {
		return -1, s.peerError(ctx, ex, peer, err, true)
	}
	var rc *liaisonv1.PeerReceipt
	if rs := resp.GetResults(); len(rs) == 1 && rs[0].GetRecipient() == rcpt.ID && rs[0].GetFailure() == nil {
		rc = rs[0].GetReceipt()
	}
	got, err := s.peerNoticeReceipt(ctx, ex, peer, rc, rcpt.ID, rel)
	if err != nil {
		return -1, err
	}
	// The log says what the recipient was told to do.
	d := got.Entry.Detail
	switch {
	case d[audit.DetailNoticeKind] != kind:
		if peerCode(d[audit.DetailReason]) == "" || d[audit.DetailObligation] != audit.ObligationErase && d[audit.DetailObligation] != audit.ObligationRestrict {
			return -1, failed("PEER_RECEIPT_INVALID", errors.New("gateway: the peer's withdrawal instead names no reason code, or another obligation than erasure or restriction"))
		}
		e := ex.entry
		e.Detail[audit.DetailNoticeKind], e.Detail[audit.DetailReason], e.Detail[audit.DetailObligation] =
			d[audit.DetailNoticeKind], d[audit.DetailReason], d[audit.DetailObligation]
		e.Reasons = append(e.Reasons, d[audit.DetailReason])
		e.Outcome, e.FieldsDisclosed, e.FieldPlan = audit.OutcomeOK, nil, nil
		n.Kind, n.Reason = liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL, d[audit.DetailReason]
		n.Obligation = obligationEnum(d[audit.DetailObligation])
	case d[audit.DetailObligation] != ex.entry.Detail[audit.DetailObligation]:
		// The one change the recipient's gateway makes to a withdrawal:
		// one sent for a correction this gateway's law refused, to a
		// recipient that keeps the record under its own retention rule
		// since the basis ended (which that gateway knows), obliges
		// restriction instead of erasure (keptRestricts).
		if ex.entry.Action != audit.ActionCorrect || ex.entry.Detail[audit.DetailReason] != reasonCorrectionNotAllowd ||
			d[audit.DetailReason] != reasonCorrectionNotAllowd || d[audit.DetailObligation] != audit.ObligationRestrict {
			return -1, failed("PEER_RECEIPT_INVALID", errors.New("gateway: the peer delivered the notice with another obligation than the one forwarded"))
		}
		ex.entry.Detail[audit.DetailObligation] = audit.ObligationRestrict
		n.Obligation = liaisonv1.Obligation_OBLIGATION_RESTRICT
	}
	var tracked []audit.Notice
	switch {
	case req == nil:
	case n.Kind != liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION:
		// Withdrawn instead: no new date to acknowledge.
		for _, k := range []string{"notice_id", "notice_rule", "acknowledge_by", "escalate_at"} {
			delete(ex.entry.Detail, k)
		}
	default:
		tracked = []audit.Notice{req.tracked}
		if d["notice_id"] == "" {
			ex.entry.Detail[audit.DetailPeerTracksNotice] = "false"
		}
	}
	// The peer has delivered it: the log records that, whatever closed
	// the release here meanwhile (no audit.OpenHold).
	ex.holdOpen = false
	idx, err := ex.commitNotice(ctx, rcpt.ID, n.GetRefersTo(), tracked)
	if err != nil {
		return -1, err
	}
	s.log.InfoContext(ctx, "obligation notice sent through a peer gateway", "request_id", ex.reqID, "audit_index", idx, "peer", peer.ID,
		"peer_index", ex.entry.Detail["peer_index"], "kind", ex.entry.Detail[audit.DetailNoticeKind], "recipient", rcpt.ID,
		"refers_to", ex.entry.Detail[audit.DetailRefersTo], "reason", n.GetReason())
	return idx, nil
}

// peerNoticeReceipt checks the answering peer's receipt of the notice it
// delivered (logPeerReceipt: a notice sent for this exchange's pending
// entry, of the kind forwarded or a withdrawal, and for a correction of
// rel) and puts it in the entry.
func (s *Server) peerNoticeReceipt(ctx context.Context, ex *exchange, peer *Agency, rc *liaisonv1.PeerReceipt, recipient string, rel *liaisonv1.Released) (Receipt, error) {
	kind := ex.entry.Detail[audit.DetailNoticeKind]
	me := ex.entry.Detail
	got, err := s.peerReceipt(ex, peer, rc, recipient, nil, "its notice", func(e *audit.Entry) bool {
		_, sent := audit.NoticeOf(0, e)
		k, pd := e.Detail[audit.DetailNoticeKind], e.Detail
		// A correction's required notice is tracked there under this
		// gateway's id and deadline, or (a gateway from before that) not
		// at all; a withdrawal tracks none.
		tracks := pd["notice_id"] == "" ||
			k == audit.NoticeCorrection && pd["notice_id"] == me["notice_id"] && pd["acknowledge_by"] == me["acknowledge_by"]
		return sent && (k == kind || k == audit.NoticeWithdrawal) && tracks
	})
	if err != nil {
		return got, err
	}
	if got.Entry.Detail[audit.DetailNoticeKind] == audit.NoticeCorrection && rel != nil {
		// What was delivered is what was forwarded.
		key, err := note.NewVerifier(peer.CheckpointKey)
		if err == nil {
			_, err = VerifyReceipt(rc, key, recipient, rel)
		}
		if err != nil {
			return Receipt{}, failed("PEER_RECEIPT_INVALID", err)
		}
	}
	if err := s.checkPeerView(ctx, ex, peer, rc, got); err != nil {
		return Receipt{}, err
	}
	return got, nil
}

// peerRelease finds this gateway's entry of a release a peer gateway's
// notice is about, from the index the peer knows (detailPeerRefersTo): the
// entry that delivered a push from holder to recipient, or this gateway's
// pending entry of a request recipient made of holder (then the final
// entry that names it). The release must have come from holder through
// peer.
func (s *Server) peerRelease(ctx context.Context, theirs, holder, recipient, peer string) (audit.Record, error) {
	bad := invalid("forwarded.receipt", "names no release from this holder to this recipient through your gateway")
	x, err := strconv.ParseInt(theirs, 10, 64)
	if err != nil || x < 0 {
		return audit.Record{}, bad
	}
	e, err := s.entryAt(ctx, x, "forwarded.receipt")
	if err != nil {
		return audit.Record{}, err
	}
	if e.Outcome == audit.OutcomePending && e.Action == "request" && e.Detail["phase"] == phaseForwarded {
		// A request: the release is the final entry of the exchange.
		found := false
		for r, err := range s.logEntries(ctx, audit.Filter{Agency: recipient, Start: x + 1}) {
			if err != nil {
				return audit.Record{}, err
			}
			if r.Entry.Detail["pending_index"] == theirs && r.Entry.Action == "request" {
				x, e, found = r.Index, r.Entry, true
				break
			}
		}
		if !found {
			return audit.Record{}, bad
		}
	}
	if !isRecordRelease(e) || e.Holder.Agency != holder || e.Recipients[0].Agency != recipient ||
		(e.Detail["via_peer"] != peer && e.Detail["peer"] != peer) {
		return audit.Record{}, bad
	}
	return audit.Record{Index: x, Entry: e}, nil
}

// noticeFromPeer is a correction or a withdrawal a peer gateway forwards
// (discloseFromPeer, after acceptForward): it is delivered as a notice
// about this gateway's own entry of the release, to the agency that
// received it here.
func (s *Server) noticeFromPeer(ctx context.Context, ex *exchange, rcpt *Agency, rel *liaisonv1.Released, got Receipt) (*liaisonv1.DiscloseResponse, error) {
	pd := got.Entry.Detail
	kind := pd[audit.DetailNoticeKind]
	switch {
	case kind != audit.NoticeCorrection && kind != audit.NoticeWithdrawal:
		return nil, invalid("forwarded.receipt", "names a notice of a kind that does not travel between gateways")
	case kind == audit.NoticeCorrection && rel.GetRecord() == nil:
		return nil, invalid("forwarded.released.record", "is required: a correction carries the corrected record")
	case kind == audit.NoticeWithdrawal && rel.GetRecord() != nil:
		return nil, invalid("forwarded.released.record", "must be empty: a withdrawal carries no record")
	case !peerCodes(append([]string{pd[audit.DetailReason]}, got.Entry.Reasons...)...):
		return nil, invalid("forwarded.receipt", "names reasons that are not reason codes (an upper-case letter, then A-Z, 0-9 and _, at most %d characters, at most %d of them)",
			maxPeerCodeLen, maxPeerCodes)
	case kind == audit.NoticeCorrection && pd[audit.DetailObligation] != audit.ObligationRectify,
		kind == audit.NoticeWithdrawal && pd[audit.DetailObligation] != audit.ObligationErase && pd[audit.DetailObligation] != audit.ObligationRestrict:
		return nil, invalid("forwarded.receipt", "names an obligation a %s does not carry", kind)
	}
	p, _ := peerFromContext(ctx)
	o, err := s.peerRelease(ctx, pd[detailPeerRefersTo], ex.caller.Agency.ID, rcpt.ID, p.peer.ID)
	if err != nil {
		return nil, err
	}
	e := ex.entry
	e.Action = got.Entry.Action
	// A correction or withdrawal is of the record released: a correction
	// of another type would replace it with something else.
	if enumName(rel.GetRecordType()) != o.Entry.RecordType {
		return nil, invalid("forwarded.released.record_type", "is not the record type of the release it corrects or withdraws")
	}
	// A correction carries the corrected record as the holder's law
	// released it: this entry takes its outcome, and the recipient gets
	// the record (a "deny" with a record beside it, or no outcome, would
	// have the log say one thing and the recipient get another).
	if kind == audit.NoticeCorrection && !audit.Released(enumName(rel.GetOutcome())) {
		return nil, invalid("forwarded.released.outcome", "must be a release: a correction carries the corrected record as the holder's law released it")
	}
	// A correction is logged with the legal basis (whose end this gateway
	// tracks) of the pending entry, and delivers the release: the two
	// must agree.
	if kind == audit.NoticeCorrection && !releaseAsLogged(got.Entry, rel) {
		return nil, invalid("forwarded.receipt", "names an entry that records another legal basis, conditions or fields than the corrected release")
	}
	// This gateway told the recipient when the release's basis ended: if
	// it told it to erase the record, the release is closed, as the
	// holder's gateway closes one it told so itself (releasesOf). The
	// recipient holds nothing to correct (the corrected record would be a
	// fresh disclosure) and nothing left to withdraw.
	if by, err := s.expiryNoticeOf(ctx, o, audit.ObligationErase); err != nil {
		return nil, err
	} else if by >= 0 {
		return nil, &stateRefusal{reason: reasonReleaseEnded, message: fmt.Sprintf(
			"the release (entry %d) has ended: its legal basis ended and its recipient was told to erase it (entry %d)", o.Index, by)}
	}
	sub := *o.Entry.Subject // the person as this log knows them
	e.Subject = &sub
	ex.subjectFrom(got.Entry.Subject)
	e.Case, ex.in.Case = nil, nil
	e.LegalBasis, e.Conditions, e.PseudonymDomain = got.Entry.LegalBasis, got.Entry.Conditions, got.Entry.PseudonymDomain
	e.Detail[audit.DetailNoticeKind], e.Detail[audit.DetailReason], e.Detail[audit.DetailObligation] =
		kind, pd[audit.DetailReason], pd[audit.DetailObligation]
	e.Detail[audit.DetailRefersTo] = strconv.FormatInt(o.Index, 10)
	// The reason the holder gave (its pending entry's reasons say only
	// that it forwarded, which is not what happened here); a correction's
	// decision below replaces it with the reasons of this law.
	e.Reasons = []string{pd[audit.DetailReason]}
	what := strings.ReplaceAll(o.Entry.RecordType, "_", " ")
	n := &liaisonv1.ObligationNotice{
		Kind: liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL, RefersTo: []int64{o.Index}, Reason: pd[audit.DetailReason],
		Obligation: liaisonv1.Obligation_OBLIGATION_ERASE, Holder: ex.caller.Agency.ID, RecordType: recordTypeEnum(o.Entry.RecordType),
		PseudonymDomain: o.Entry.PseudonymDomain, SubjectPseudonym: rel.GetSubjectPseudonym(), // the person as the recipient knows them
		Message: fmt.Sprintf("%s withdrew the %s it released to you through %s (entry %d): %s. Acknowledge when done.",
			ex.caller.Agency.ID, what, p.peer.ID, o.Index, obligationWords(pd[audit.DetailObligation])),
	}
	if pd[audit.DetailObligation] == audit.ObligationRestrict {
		n.Obligation = liaisonv1.Obligation_OBLIGATION_RESTRICT
	}
	if lb := got.Entry.LegalBasis; lb != nil {
		n.LegalBasis = &liaisonv1.LegalBasis{Id: lb.ID, Citation: lb.Citation, ValidUntil: lb.ValidUntil}
	}
	if kind == audit.NoticeWithdrawal && got.Entry.Action == audit.ActionCorrect && pd[audit.DetailReason] == reasonCorrectionNotAllowd &&
		pd[audit.DetailObligation] == audit.ObligationErase {
		// The holder's law refused the correction; it does not know
		// whether the recipient keeps the record under a rule of its own.
		if err := s.keptRestricts(ctx, ex, o, n, p.peer.ID); err != nil {
			return nil, err
		}
	}
	// A correction that moves the release date carries the required
	// notice of the new date, tracked by the holder's gateway under its id
	// and terms: tracked here too, from this entry, if the correction is
	// delivered as one (peerCorrectionNotice).
	var req *requiredDelivery
	if kind == audit.NoticeCorrection && pd["notice_id"] != "" {
		if req, err = s.peerCorrectionNotice(ctx, pd, rcpt.ID, ex.caller.Agency.ID, o.Index, ex.entry.Time); err != nil {
			return nil, err
		}
	}
	if kind == audit.NoticeCorrection {
		// This country's law on receipt, as for the record itself; if it
		// refuses, the recipient may not keep what it holds either.
		ex.in.Action = "disclose"
		dec, err := s.decide(ctx, ex)
		var dn *denial
		switch {
		case errors.As(err, &dn):
			e.Outcome, e.FieldsDisclosed = audit.OutcomeOK, nil
			e.Reasons = append(e.Reasons, reasonCorrectionNotAllowd)
			e.Detail[audit.DetailNoticeKind], e.Detail[audit.DetailReason], e.Detail[audit.DetailObligation] =
				audit.NoticeWithdrawal, reasonCorrectionNotAllowd, audit.ObligationErase
			n.Reason = reasonCorrectionNotAllowd
			n.Message = fmt.Sprintf("%s corrected the %s it released to you through %s (entry %d), but this country's law does not let you receive the correction: erase what you hold, and acknowledge when done.",
				ex.caller.Agency.ID, what, p.peer.ID, o.Index)
			rel, req = nil, nil // no new date to acknowledge
			if err := s.keptRestricts(ctx, ex, o, n, p.peer.ID); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			e.Outcome, e.FieldsDisclosed = enumName(rel.GetOutcome()), rel.GetFields()
			e.LegalBasis, e.Conditions, e.PseudonymDomain = got.Entry.LegalBasis, rel.GetConditions(), rel.GetPseudonymDomain()
			ex.noteReceipt(dec, nil)
			n.Kind, n.Obligation = liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION, liaisonv1.Obligation_OBLIGATION_RECTIFY
			n.SubjectPseudonym, n.PseudonymDomain, n.LegalBasis = rel.GetSubjectPseudonym(), rel.GetPseudonymDomain(), rel.GetLegalBasis()
			n.Message = fmt.Sprintf("%s corrected the %s it released to you through %s (entry %d): replace it with the record that comes with this notice, and acknowledge when done.",
				ex.caller.Agency.ID, what, p.peer.ID, o.Index)
			if err := s.receivedRelease(ctx, ex, rel); err != nil {
				return nil, err
			}
			if req != nil {
				t, d := req.tracked, ex.entry.Detail
				d["event"], d["notice_id"], d["notice_rule"] = t.EventType, t.ID, t.Rule
				d["acknowledge_by"], d["escalate_at"] = t.Deadline.Format(time.RFC3339), t.EscalateAt.Format(time.RFC3339)
			}
		}
	} else {
		e.Outcome = audit.OutcomeOK
	}
	e.FieldPlan = nil
	if err := s.notePassedOn(ctx, ex, o, n); err != nil {
		return nil, err
	}
	idx, err := s.deliverTrackedNotice(ctx, ex, rel, n, req)
	if errors.Is(err, audit.ErrConflict) && req != nil {
		// Another forward of the same id was tracked meanwhile.
		return nil, noticeIDInUse()
	}
	if err != nil {
		return nil, err
	}
	res := &liaisonv1.RecipientResult{Recipient: rcpt.ID, Outcome: rel.GetOutcome(), LegalBasis: n.GetLegalBasis(), AuditIndex: idx}
	if req != nil {
		res.NoticeId, res.AcknowledgeBy = req.tracked.ID, req.item.GetAcknowledgeBy()
	}
	if res.Receipt, err = s.receipt(ctx, idx, rcpt.ID, rel); err != nil {
		s.log.ErrorContext(ctx, "receipt for a peer failed", "audit_index", idx, "error", err)
	}
	return &liaisonv1.DiscloseResponse{Results: []*liaisonv1.RecipientResult{res}}, nil
}

// peerCorrectionNotice is the required notice a peer gateway's correction
// carries (the holder's law required it of the moved release date), from
// the pending entry's detail d: tracked for recipient, from sender, under
// the peer's id, rule, escalation time and deadline, delivered with the
// correction of release (this gateway's entry) at created. Its event is
// the change of the release date; an id this gateway tracks already (a
// notice it sent, or one forwarded before) is not taken over.
func (s *Server) peerCorrectionNotice(ctx context.Context, d map[string]string, recipient, sender string, release int64, created time.Time) (*requiredDelivery, error) {
	if ev := d["event"]; ev != "release_date_changed" && ev != "release_date_set" || !validNoticeRule(d["notice_rule"]) {
		return nil, invalid("forwarded.receipt", "names a correction's required notice without the event of a moved release date or a valid rule id")
	}
	n, err := s.takePeerNotice(ctx, d, recipient, sender, created)
	if err != nil {
		return nil, err
	}
	route := &liaisonv1.RecipientRoute{Role: liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT, EarlierAuditIndex: release}
	return &requiredDelivery{tracked: n, item: &liaisonv1.Notice{
		EventType: eventEnum(n.EventType), Routes: []*liaisonv1.RecipientRoute{route},
		NoticeId: n.ID, AcknowledgeBy: n.Deadline.Format(time.RFC3339), Rule: n.Rule,
	}}, nil
}

// keptRestricts turns the withdrawal n, of a correction that the law (the
// holder's, or this one on receipt) does not allow, into one obliging
// restriction if the recipient keeps release o under its own retention
// rule since the basis ended (an expiry notice of this gateway let it
// retain or restrict it), as restrictInstead does for a local holder's
// correction: it is not told to erase what its law lets it keep. The
// holder's gateway records the restriction from this gateway's receipt.
func (s *Server) keptRestricts(ctx context.Context, ex *exchange, o audit.Record, n *liaisonv1.ObligationNotice, via string) error {
	kept, err := s.keptAfterExpiry(ctx, o)
	if err != nil || kept < 0 {
		return err
	}
	ex.entry.Detail[audit.DetailObligation] = audit.ObligationRestrict
	n.Obligation = liaisonv1.Obligation_OBLIGATION_RESTRICT
	n.Message = fmt.Sprintf("%s corrected the %s it released to you through %s (entry %d), which you keep under your own retention rule since its basis ended (entry %d), "+
		"but the law no longer lets you have the corrected one: keep what you hold only restricted, marked as wrong, "+
		"and use it for nothing but what kept it from erasure (or erase it); acknowledge when done.",
		ex.caller.Agency.ID, strings.ReplaceAll(o.Entry.RecordType, "_", " "), via, o.Index, kept)
	return nil
}

// reasonReleaseEnded refuses a correction or withdrawal a peer gateway
// forwards of a release whose recipient this gateway told to erase it
// when its basis ended.
const reasonReleaseEnded = "RELEASE_ENDED"

// obligationWords says what a withdrawal obliges, for a notice's message.
func obligationWords(ob string) string {
	if ob == audit.ObligationRestrict {
		return "keep it only restricted: mark it, and use it for nothing but what kept it from erasure"
	}
	return "erase it"
}

// detailPeerNotice is the detail, in the entries of an acknowledgement
// forwarded to a peer gateway, that names the peer's pending entry of the
// notice acknowledged.
const detailPeerNotice = "peer_notice"

// noticePeer returns the peer gateway a notice at index came through, and
// that gateway's pending entry of it; nil if it is this gateway's own.
func (s *Server) noticePeer(ctx context.Context, index int64) (*Agency, string, error) {
	e, err := s.entryAt(ctx, index, "notice_index")
	if err != nil {
		return nil, "", err
	}
	via, theirs := e.Detail["via_peer"], e.Detail["peer_index"]
	if via == "" || theirs == "" || !slices.Contains(noticeActions, e.Action) {
		return nil, "", nil
	}
	peer := s.registry.Load().Agencies[via]
	if peer == nil || peer.Kind != KindPeerGateway {
		return nil, "", failed(reasonPeerNotRegistered, fmt.Errorf("%w: notice %d came through %s", errPeerNotRegistered, index, via))
	}
	return peer, theirs, nil
}

// acknowledgeViaPeer forwards an acknowledgement of a notice that came
// from a peer gateway (theirs: the peer's pending entry of it) before it
// is logged here: pending entry, forward, the peer's receipt of its own
// acknowledgement (of the same deed) in the final entry. A peer that had acknowledged it
// already (an earlier attempt whose answer was lost) counts as done, if
// its ALREADY_ACKNOWLEDGED carries the receipt of its entry of that
// refusal, bound to this call; without one that holds, the error wraps
// errPeerClaimUnverified: the acknowledgement stands here, its forward
// due (AcknowledgeNotice), or the forward fails (forwardNoticeAck).
func (s *Server) acknowledgeViaPeer(ctx context.Context, ex *exchange, peer *Agency, theirs string, req *liaisonv1.AcknowledgeNoticeRequest) error {
	x, err := strconv.ParseInt(theirs, 10, 64)
	if err != nil {
		return failed("PEER_RELEASE_UNKNOWN", err)
	}
	ex.entry.Detail[detailPeerNotice] = theirs
	if peer.Offboarded {
		ex.entry.Detail["peer"] = peer.ID
		return failed(reasonPeerOffboarded, fmt.Errorf("%w: notice %d, %s", errPeerOffboarded, x, peer.ID))
	}
	conn, pctx, cancel, err := s.callPeer(ctx, ex, peer)
	if err != nil {
		return err
	}
	defer cancel()
	recipient := ex.entry.Recipients[0].Agency
	fwd, err := s.pendingForward(ctx, ex, recipient, nil)
	if err != nil {
		return err
	}
	resp, err := liaisonv1.NewAftercareClient(conn).AcknowledgeNotice(pctx, &liaisonv1.AcknowledgeNoticeRequest{
		NoticeIndex: x, Done: req.GetDone(), Note: req.GetNote(), Forwarded: fwd,
	})
	if err != nil {
		if errorReason(err) == "ALREADY_ACKNOWLEDGED" {
			// The peer's refusal names its entry of it: recorded if its
			// receipt holds for this call, else flagged unverified, and
			// then it settles nothing (errPeerClaimUnverified).
			ex.entry.Detail["peer_outcome"] = "already_acknowledged"
			return s.peerClaim(ctx, ex, peer, err)
		}
		return s.ackPeerError(ctx, ex, peer, err)
	}
	_, err = s.logPeerReceipt(ctx, ex, peer, resp.GetReceipt(), recipient, nil, "its acknowledgement", func(e *audit.Entry) bool {
		// The deed acknowledged there is the one acknowledged here: both
		// logs close the notice saying the same.
		return e.Action == audit.ActionAcknowledgeNotice && e.Outcome == audit.OutcomeOK && e.Detail[audit.DetailDone] == ex.entry.Detail[audit.DetailDone]
	})
	return err
}

// forwardNoticeAcks forwards, from the aftercare timers, the
// acknowledgements of notices from peer gateways made here while those
// did not answer (audit.SentNotice.ForwardDue), each in an exchange of its
// own in the name of the officer who acknowledged. A notice whose forward
// failed waits before the next attempt, and one whose peer gateway the
// registry offboards, or no longer lists as a peer, is held, as
// forwardAcknowledgements does.
func (s *Server) forwardNoticeAcks(ctx context.Context, st audit.AftercareStore, now time.Time) error {
	due, err := st.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, ForwardDue: true, After: -1, Limit: forwardPage})
	if err != nil {
		return fmt.Errorf("%w: notices: %v", audit.ErrUnavailable, err)
	}
	var errs []error
	var left awaiting
	for _, n := range due {
		key := "aftercare/" + strconv.FormatInt(n.Index, 10) // apart from the required notices' ids
		if s.fwdRetry.isHeld(key) {
			// Held while the registry offboards its peer gateway, as
			// forwardAcknowledgements holds a required notice's.
			if peer, _, err := s.noticePeer(ctx, n.Index); err != nil || peer == nil || peer.Offboarded {
				left.add(n.AckTime)
				continue
			}
			s.fwdRetry.release(key)
		}
		done, err := s.fwdRetry.attempt(key, now, func() error { return s.forwardNoticeAck(ctx, n) })
		if errors.Is(err, errPeerOffboarded) || errors.Is(err, errPeerNotRegistered) {
			s.fwdRetry.hold(key)
			err = nil // its entry says so (PEER_OFFBOARDED, PEER_NOT_REGISTERED)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("forward the acknowledgement of notice %d: %w", n.Index, err))
		}
		if !done {
			left.add(n.AckTime)
		}
	}
	s.awaitingPeer.set(kindObligationNotice, left)
	return errors.Join(errs...)
}

// forwardPage is how many deferred acknowledgements of each kind one
// timer pass takes (the store's most for required notices).
const forwardPage = 1000

// forwardNoticeAck forwards one deferred acknowledgement of n: an
// exchange that names the same notice, deed and note as the
// acknowledgement's entry, and that entry (detail forwards) and its time
// (detail acknowledged_at, which the peer records as the time of the
// acknowledgement).
func (s *Server) forwardNoticeAck(ctx context.Context, n audit.SentNotice) (err error) {
	if peer, _, err := s.noticePeer(ctx, n.Index); err == nil || errors.Is(err, errPeerNotRegistered) {
		if err := s.offboardedLogged(ctx, peer, n.AckIndex); err != nil {
			return err
		}
	}
	ctx, ack, err := s.asAcknowledger(ctx, n.AckIndex, n.Recipient)
	if err != nil {
		return err
	}
	ex := s.begin(ctx, audit.ActionAcknowledgeNotice)
	var offboarded error
	defer keepOffboarded(&err, &offboarded) // after finish
	defer ex.finish(ctx, &err)
	e := ex.entry
	e.Holder, e.Recipients, e.Subject, e.RecordType, e.Justification = ack.Holder, ack.Recipients, ack.Subject, ack.RecordType, ack.Justification
	d := ex.detail()
	d[audit.DetailNotice], d[audit.DetailDone] = strconv.FormatInt(n.Index, 10), n.Done
	d[audit.DetailForwards], d[audit.DetailAcknowledgedAt] = strconv.FormatInt(n.AckIndex, 10), n.AckTime.UTC().Format(time.RFC3339Nano)
	peer, theirs, err := s.noticePeer(ctx, n.Index)
	if errors.Is(err, errPeerNotRegistered) {
		offboarded = err // held as an offboarded peer's is (PEER_NOT_REGISTERED)
	}
	if err != nil {
		return err
	}
	if peer == nil {
		return fmt.Errorf("gateway: notice %d did not come through a peer gateway", n.Index)
	}
	req := &liaisonv1.AcknowledgeNoticeRequest{NoticeIndex: n.Index, Done: obligationEnum(n.Done), Note: ack.Justification}
	if err := s.acknowledgeViaPeer(ctx, ex, peer, theirs, req); err != nil {
		if errors.Is(err, errPeerOffboarded) {
			offboarded = err
		}
		return err
	}
	e.Outcome = audit.OutcomeOK
	_, err = ex.commit(ctx)
	return err
}

// forwardedNotice finds the notice a peer gateway's forwarded
// acknowledgement is about: index is this gateway's pending entry of a
// notice it sent through that peer to recipient, and the notice is the
// final entry that names it.
func (s *Server) forwardedNotice(ctx context.Context, index int64, recipient string) (int64, error) {
	bad := invalid("notice_index", "is not a notice this gateway sent to your agency through your gateway")
	e, err := s.entryAt(ctx, index, "notice_index")
	if err != nil {
		return -1, err
	}
	p, _ := peerFromContext(ctx)
	if e.Outcome != audit.OutcomePending || e.Detail["phase"] != phaseForwarded || !slices.Contains(noticeActions, e.Action) ||
		len(e.Recipients) != 1 || e.Recipients[0].Agency != recipient || e.Detail["peer"] != p.peer.ID {
		return -1, bad
	}
	want := strconv.FormatInt(index, 10)
	for r, err := range s.logEntries(ctx, audit.Filter{Agency: recipient, Start: index + 1}) {
		if err != nil {
			return -1, err
		}
		if _, sent := audit.NoticeOf(r.Index, r.Entry); sent && r.Entry.Detail["pending_index"] == want {
			return r.Index, nil
		}
	}
	return -1, bad
}

// errorReason is the ErrorInfo reason of a gRPC error, if it has one.
func errorReason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i.GetReason()
		}
	}
	return ""
}
