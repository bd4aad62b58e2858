package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// The end of a legal basis across a border. A release to an agency behind
// a peer gateway is tracked to the end of its basis by that gateway, from
// its own entry of the release, which carries the holder's basis and end
// date (audit.RecipientBehindPeer); the expiry notice goes from there. When
// the holder revises that date (ReviseExpiry: probation extended or
// shortened), the holder's gateway decides the release again as for any
// other, and if the date moved it forwards the new one: a pending entry
// naming the recipient gateway's entry of the release (detail
// peer_refers_to) and the new last day (detail valid_until), then
// Aftercare.ReviseExpiry with that entry's receipt. The recipient's
// gateway checks it, moves the expiry of its own entry with a revise_expiry
// entry of its own, and answers with its receipt, which the holder's final
// entry holds.

// viaReleases returns the holder's open releases about a subject to
// agencies behind peer gateways whose basis ends, with the end date as
// revised since: the releases ReviseExpiry forwards, which this gateway
// does not track itself. unsure names those whose last forwarded revision
// has no answer in this log (the peer did not answer, or its answer did
// not hold): the peer may hold that revision's date rather than this
// log's, so the next revision is forwarded even if the date did not move
// here.
func (s *Server) viaReleases(ctx context.Context, holder, subject string) (_ []audit.TrackedRelease, unsure map[int64]bool, _ error) {
	var out []audit.TrackedRelease
	closed := map[int64]bool{}
	until := map[int64]string{}
	unsure = map[int64]bool{}
	for r, err := range s.logEntries(ctx, audit.Filter{Subject: subject, Agency: holder}) {
		if err != nil {
			return nil, nil, err
		}
		e := r.Entry
		if n, ok := audit.NoticeOf(r.Index, e); ok {
			for _, x := range n.RefersTo {
				closed[x] = true
			}
		}
		if e.Action == audit.ActionReviseExpiry {
			x, err := strconv.ParseInt(e.Detail[audit.DetailRelease], 10, 64)
			switch {
			case err != nil:
			case e.Outcome == audit.OutcomePending && e.Detail["phase"] == phaseForwarded:
				unsure[x] = true // until its final entry says what the peer did
			case e.Outcome == audit.OutcomeOK && e.Detail["pending_index"] != "":
				unsure[x] = false // the peer's answer is in it
			}
			if err == nil && e.Outcome == audit.OutcomeOK && e.Detail[audit.DetailMoved] == "true" {
				until[x] = e.Detail[audit.DetailValidUntil]
			}
		}
		if isRecordRelease(e) && e.Holder.Agency == holder && audit.RecipientBehindPeer(e) && e.LegalBasis != nil && e.LegalBasis.ValidUntil != "" {
			out = append(out, audit.TrackedRelease{Index: r.Index, Recipient: e.Recipients[0].Agency, Holder: holder, Subject: subject,
				LegalBasis: e.LegalBasis.ID, RecordType: e.RecordType, ValidUntil: e.LegalBasis.ValidUntil, RevisedBy: -1, ClosedBy: -1})
		}
	}
	open := out[:0]
	for _, r := range out {
		if closed[r.Index] {
			continue
		}
		if u, ok := until[r.Index]; ok {
			r.ValidUntil = u
		}
		open = append(open, r)
	}
	return open, unsure, nil
}

// reviseViaPeer forwards the end date of a release to an agency behind a
// peer gateway (orig), as the revision's entry names it (detail
// valid_until), before that entry is logged: pending entry, forward, the
// peer's receipt in the final entry. holds says that the peer holds that
// date now: it moved its expiry there, or found it there already (an
// earlier forward whose answer was lost); not if it holds the release
// closed (its reasons are then the entry's). A peer's revision entry that
// records another date, or reasons that are not reason codes (peerCodes),
// is PEER_RECEIPT_INVALID.
func (s *Server) reviseViaPeer(ctx context.Context, ex *exchange, orig *audit.Entry) (holds bool, err error) {
	reg := s.registry.Load()
	rcpt := reg.Agencies[orig.Recipients[0].Agency]
	var peer *Agency
	if rcpt != nil {
		peer = reg.Agencies[rcpt.Via]
	}
	if peer == nil || peer.Kind != KindPeerGateway {
		return false, failed("PEER_NOT_REGISTERED", fmt.Errorf("gateway: %s is not reached through a registered peer gateway", orig.Recipients[0].Agency))
	}
	theirs := orig.Detail["peer_index"]
	if theirs == "" {
		return false, failed("PEER_RELEASE_UNKNOWN", errors.New("gateway: the release names no entry of the peer gateway"))
	}
	ex.entry.Detail[detailPeerRefersTo] = theirs
	conn, pctx, cancel, err := s.callPeer(ctx, ex, peer)
	if err != nil {
		return false, err
	}
	defer cancel()
	fwd, err := s.pendingForward(ctx, ex, rcpt.ID, nil)
	if err != nil {
		return false, err
	}
	sub := ex.entry.Subject
	resp, err := liaisonv1.NewAftercareClient(conn).ReviseExpiry(pctx, &liaisonv1.ReviseExpiryRequest{
		Subject: &liaisonv1.SubjectAttributes{
			Category: liaisonv1.SubjectCategory(categoryNumber(sub.Category)), InCustody: sub.InCustody,
			ReleaseDate: sub.ReleaseDate, ProbationUntil: sub.ProbationUntil, Municipality: sub.Municipality,
		},
		Justification: ex.entry.Justification,
		Forwarded:     fwd,
	})
	if err != nil {
		return false, s.peerError(ctx, ex, peer, err, true)
	}
	var rc *liaisonv1.PeerReceipt
	if rs := resp.GetReleases(); len(rs) == 1 {
		rc = rs[0].GetReceipt()
	}
	until := ex.entry.Detail[audit.DetailValidUntil]
	got, err := s.logPeerReceipt(ctx, ex, peer, rc, rcpt.ID, nil, "its revision", func(e *audit.Entry) bool {
		// Its reasons enter this log (and the caller's answer) when it
		// holds the release closed: reason codes only (peerCodes).
		return e.Action == audit.ActionReviseExpiry && e.Outcome == audit.OutcomeOK && peerCodes(e.Reasons...) &&
			(e.Detail[audit.DetailMoved] != "true" || e.Detail[audit.DetailValidUntil] == until)
	})
	if err != nil {
		return false, err
	}
	d := got.Entry.Detail
	if d[audit.DetailMoved] == "true" || slices.Contains(got.Entry.Reasons, "UNCHANGED") && d[audit.DetailValidUntil] == until {
		if d[audit.DetailMoved] != "true" {
			ex.entry.Detail[audit.DetailPeerOutcome] = "already_at_date"
		}
		return true, nil
	}
	// The peer holds the release closed (its basis ended, or it was
	// withdrawn there): nothing moved.
	ex.entry.Reasons = append(ex.entry.Reasons, got.Entry.Reasons...)
	return false, nil
}

// reviseFromPeer is a ReviseExpiry a peer gateway forwards: the holder
// behind it moved the end of the basis of a release to an agency of this
// gateway, and this gateway's own entry of that release is tracked to the
// new date.
func (s *Server) reviseFromPeer(ctx context.Context, ex *exchange, st audit.AftercareStore, req *liaisonv1.ReviseExpiryRequest) (*liaisonv1.ReviseExpiryResponse, error) {
	p, ok := peerFromContext(ctx)
	switch {
	case !ok:
		return nil, invalid("forwarded", "only a peer gateway forwards a revision")
	case req.GetForwarded().GetReceipt() == nil:
		return nil, invalid("forwarded.receipt", "a peer gateway must send the receipt of the entry it logged before forwarding")
	case req.GetSubjectId() != "":
		return nil, invalid("subject_id", "must be empty in a forwarded revision: the release names the person")
	}
	if err := validSubject(req.GetSubject(), ""); err != nil {
		return nil, err
	}
	if err := validJustification(req.GetJustification(), ""); err != nil {
		return nil, err
	}
	// The pending entry names the release; acceptForward checks the rest.
	reg := s.registry.Load()
	peer := reg.Agencies[p.peer.ID]
	if peer == nil || peer.CheckpointKey == "" {
		return nil, failed("PEER_NOT_REGISTERED", errors.New("gateway: the calling peer gateway has no checkpoint key"))
	}
	key, err := note.NewVerifier(peer.CheckpointKey)
	if err != nil {
		return nil, failed("PEER_NOT_REGISTERED", err)
	}
	pre, err := VerifyReceipt(req.GetForwarded().GetReceipt(), key, "", nil)
	if err != nil || len(pre.Entry.Recipients) != 1 {
		return nil, invalid("forwarded.receipt", "does not verify against the peer gateway's checkpoint key, or is not of this exchange")
	}
	rcpt, ok := reg.Agencies[pre.Entry.Recipients[0].Agency]
	if !ok || rcpt.Via != "" || rcpt.Kind == KindPeerGateway {
		return nil, invalid("forwarded.receipt", "names a recipient that is not an agency of this gateway")
	}
	o, err := s.peerRelease(ctx, pre.Entry.Detail[detailPeerRefersTo], ex.caller.Agency.ID, rcpt.ID, p.peer.ID)
	if err != nil {
		return nil, err
	}
	ex.describe(party(ex.caller.Agency), party(rcpt.Agency), policies.Input{RecordType: o.Entry.RecordType, Purpose: o.Entry.Purpose,
		Justification: req.GetJustification()})
	got, err := s.acceptForward(ctx, ex, req.GetForwarded(), forwardedFacts{actions: []string{audit.ActionReviseExpiry},
		recipient: rcpt.ID, holder: ex.caller.Agency.ID, recordType: o.Entry.RecordType, purpose: o.Entry.Purpose,
		words: &[2]string{req.GetJustification(), ""}})
	if err != nil {
		return nil, err
	}
	until := got.Entry.Detail[audit.DetailValidUntil]
	if dateProblem(until) != "" || got.Entry.Detail[audit.DetailMoved] != "true" {
		return nil, invalid("forwarded.receipt", "names no new end date (YYYY-MM-DD from %d to %d)", firstDateYear, lastDateYear)
	}
	// The revision is of the release's basis, decided again with the new
	// dates: the pending entry records that basis, ending on the new day
	// (the holder's gateway forwards nothing else). This log records the
	// revision under it, and moves the release's end to that day.
	if lb, olb := got.Entry.LegalBasis, o.Entry.LegalBasis; lb == nil || olb == nil || lb.ID != olb.ID || lb.ValidUntil != until {
		return nil, invalid("forwarded.receipt", "names another legal basis than the release's, or one that ends on another day than the new end date")
	}
	if err := audit.SyncAftercare(ctx, s.cfg.Audit, st); err != nil {
		return nil, err
	}
	cur, tracked, err := st.TrackedRelease(ctx, o.Index)
	if err != nil {
		return nil, fmt.Errorf("%w: tracked release: %v", audit.ErrUnavailable, err)
	}
	e := ex.entry
	sub := *o.Entry.Subject
	e.Subject = &sub
	ex.subjectFrom(got.Entry.Subject)
	e.LegalBasis = got.Entry.LegalBasis
	res := &liaisonv1.RevisedExpiry{ReleaseIndex: o.Index, Recipient: rcpt.ID, ValidUntilBefore: cur.ValidUntil, ValidUntil: cur.ValidUntil}
	if o.Entry.LegalBasis != nil {
		res.LegalBasis = o.Entry.LegalBasis.ID
	}
	switch {
	case !tracked || cur.ClosedBy >= 0:
		res.Reasons = []string{"RELEASE_CLOSED"}
	case cur.ValidUntil == until:
		res.Reasons = []string{"UNCHANGED"}
	default:
		res.ValidUntil, res.Moved = until, true
	}
	e.Reasons = res.Reasons
	e.Detail[audit.DetailRelease], e.Detail[audit.DetailValidBefore] = strconv.FormatInt(o.Index, 10), cur.ValidUntil
	e.Detail[audit.DetailValidUntil], e.Detail[audit.DetailMoved] = res.ValidUntil, strconv.FormatBool(res.Moved)
	e.Outcome = audit.OutcomeOK
	idx, err := ex.commit(ctx)
	if err != nil {
		return nil, err
	}
	res.AuditIndex = idx
	if res.Moved {
		s.log.InfoContext(ctx, "expiry moved by a peer gateway", "request_id", ex.reqID, "audit_index", idx, "release", o.Index,
			"peer", p.peer.ID, "valid_until_before", res.ValidUntilBefore, "valid_until", res.ValidUntil)
	}
	if res.Receipt, err = s.receipt(ctx, idx, rcpt.ID, nil); err != nil {
		s.log.ErrorContext(ctx, "receipt for a peer failed", "audit_index", idx, "error", err)
	}
	return &liaisonv1.ReviseExpiryResponse{Releases: []*liaisonv1.RevisedExpiry{res}}, nil
}
