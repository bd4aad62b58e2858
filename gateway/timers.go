package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// timerLease is the lease that elects the replica running the notice
// timers; it runs three intervals, so that a replica that stops is
// replaced after at most that long.
const timerLease = "notice-timers"

// RunTimers runs the notice timers once, if this replica holds (or can
// take) the timer lease in the store: it escalates every required notice
// whose escalation time has come and that nobody acknowledged, to the
// recipient's duty role and back to the sender, and records every one
// whose deadline passed unacknowledged; first it forwards the
// acknowledgements made while the sender's peer gateway was away
// (forwardAcknowledgements), and closes the notices sent to agencies
// behind a peer gateway whose release's legal basis has ended there
// (expireViaPeer). A notice to one of this gateway's own agencies whose
// release's basis has ended is left to the aftercare timers' expiry
// notice, which closes it (endedHere). Each step is one entry, committed
// with the step as its precondition, so that each happens exactly once
// even if two replicas should both believe they hold the lease. It returns
// whether this replica held the lease. Time is the server's clock
// (Config.Now), so that tests and exercises can run months in
// milliseconds; Run calls it every Config.TimerInterval.
func (s *Server) RunTimers(ctx context.Context) (bool, error) {
	now := s.now()
	held, err := s.cfg.Audit.Lease(ctx, timerLease, s.replica, now, now.Add(3*s.cfg.TimerInterval))
	if err != nil {
		return false, err
	}
	if !held {
		// The replica that holds the lease forwards what this one's
		// passes left waiting, and reports it.
		s.awaitingPeer.set(kindRequiredNotice, awaiting{})
		return false, nil
	}
	// Acknowledgements made while a peer gateway was away go first: the
	// peer escalates its half until it has them.
	errs := []error{s.forwardAcknowledgements(ctx, now)}
	// A notice whose basis has ended is closed before it would be
	// escalated or recorded overdue.
	errs = append(errs, s.expireViaPeer(ctx, now))
	due, err := s.cfg.Audit.Notices(ctx, audit.NoticeFilter{EscalateBy: now})
	if err != nil {
		return true, errors.Join(append(errs, err)...)
	}
	var escalating []audit.Notice
	for _, n := range due {
		if ended, err := s.endedHere(ctx, n, now); ended || err != nil {
			errs = append(errs, err)
			continue
		}
		escalating = append(escalating, n)
	}
	// The peers that track them are asked at once, each once a pass
	// (peerRefusesUs).
	asked := s.askPeersStanding(ctx, escalating)
	for _, n := range escalating {
		errs = append(errs, s.escalate(ctx, n, now, asked))
	}
	// Overdue once the deadline has passed: an acknowledgement at the
	// deadline itself is in time (Notice.Late), so a notice is not
	// recorded overdue at it.
	over, err := s.cfg.Audit.Notices(ctx, audit.NoticeFilter{OverdueBy: now.Add(-time.Nanosecond)})
	if err != nil {
		return true, errors.Join(append(errs, err)...)
	}
	for _, n := range over {
		if ended, err := s.endedHere(ctx, n, now); ended || err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, s.markOverdue(ctx, n, now))
	}
	return true, errors.Join(errs...)
}

// endedHere reports whether n, a notice to one of this gateway's own
// agencies, was delivered with a release whose legal basis has ended (as
// this log gives its end now: releaseBasis), so that the aftercare
// timers' expiry notice is due, which closes it unacknowledged: it is
// then neither escalated nor recorded overdue. The two timers run on
// their own tickers (and leases); without this, a pass of these timers
// after the basis ended and before the aftercare timers' next pass
// escalated, or recorded overdue, a notice the recipient can no longer be
// asked to acknowledge, as expireViaPeer does for a notice across a
// border. A gateway without aftercare state sends no expiry notices, and
// its timers go on as before.
func (s *Server) endedHere(ctx context.Context, n audit.Notice, now time.Time) (bool, error) {
	if _, err := s.aftercare(); err != nil {
		return false, nil
	}
	if a := s.registry.Load().Agencies[n.Recipient]; a != nil && a.Via != "" {
		return false, nil // expireViaPeer closed it, if its basis ended
	}
	lb, err := s.releaseBasis(ctx, n, false)
	if err != nil {
		return false, fmt.Errorf("notice %s: %w", n.ID, err)
	}
	// Ended as the aftercare timers read it: after its last day where
	// its law is.
	return lb != nil && s.policy.Current().BasisEnded(lb.ID, lb.ValidUntil, now), nil
}

// noticeTrackedWith returns the peer gateway that tracks a required
// notice with this gateway, as the entry that created the notice here
// records it: the gateway that delivered it (detail via_peer), which
// holds the sender's inbox, or the one it was forwarded to (detail peer,
// recipientAway true), which holds the recipient's; "" for a notice
// between agencies of this gateway, and for one forwarded to a peer that
// delivered it without tracking it (detail peer_tracks_notice false:
// recipientAway true, the recipient's inbox there, but nobody there
// escalates it). A registry change since (an agency moved behind another
// gateway, or no longer listed) changes neither.
func (s *Server) noticeTrackedWith(ctx context.Context, n audit.Notice) (peer string, recipientAway bool, err error) {
	e, err := s.entryAt(ctx, n.AuditIndex, "notice")
	if err != nil {
		return "", false, fmt.Errorf("notice %s: the entry that created it: %w", n.ID, err)
	}
	if via := e.Detail["via_peer"]; via != "" {
		return via, false, nil
	}
	return audit.NoticePeer(e), e.Detail["peer"] != "", nil
}

// escalate sends an unacknowledged required notice's escalation to the
// recipient's duty role and back to the sender, in one entry. A notice
// across a border is tracked by both gateways, and each escalates to the
// agency whose inbox it holds: the recipient's gateway to the duty role,
// the sender's to the sender (detail escalated_at_peer names the peer
// gateway that sends the other copy: the one that delivered the notice
// or that it was forwarded to, noticeTrackedWith, not the one the
// registry lists now). Nothing goes to an agency that has
// been offboarded or that the registry no longer lists, as the gateway
// delivers it nothing else: nobody reads its inboxes. Such a recipient's
// escalation goes to the sender only, and the entry says why
// (detail recipient_standing offboarded or unregistered; sender_standing
// likewise for the sender's copy), so that the sender knows its notice
// will not be acknowledged. So does the sender's copy of a recipient
// behind a peer gateway that this registry offboarded (or whose gateway
// it offboarded): the peer sends the duty role's copy, but this gateway
// refuses the acknowledgement the peer would forward (AGENCY_OFFBOARDED),
// and of one this registry no longer lists (unregistered). A recipient
// behind a peer gateway that delivered the notice without tracking it
// (detail peer_tracks_notice false) gets no copy either: its inbox is
// there, and nobody there escalates the notice or forwards its
// acknowledgement; the sender's copy says so (recipient_standing
// untracked), and the entry names no peer. A sender behind a peer gateway
// gets no sender_standing here, offboarded or unlisted in this registry or
// not: its copy is that gateway's to send, whose own escalation records
// the sender's standing in its registry, and this registry's standing of
// the sender changes nothing of the notice (the acknowledgement is still
// forwarded there and taken). A recipient behind a peer gateway that this
// registry lists and does not offboard: the peer is asked whether it
// still takes this gateway's calls (peerRefusesUs, once a pass per peer;
// asked holds the answers). If it refuses saying that its registry
// offboards this gateway, it forwards no acknowledgement here (it holds
// one made there, PEER_OFFBOARDED): the sender's copy and the entry say
// so (recipient_standing offboarded_at_peer, detail peer_reason the
// peer's reason code), as the peer's word; so they do if it refuses
// saying that its registry does not list this gateway (UNKNOWN_AGENCY:
// recipient_standing unknown_at_peer; an acknowledgement made there is
// held there, PEER_NOT_REGISTERED); a peer that does not answer
// gets no standing, as before.
func (s *Server) escalate(ctx context.Context, n audit.Notice, now time.Time, asked map[string]string) error {
	reg := s.registry.Load()
	duty := defaultDutyRole
	rcpt := reg.Agencies[n.Recipient]
	if rcpt != nil && rcpt.DutyRole != "" {
		duty = rcpt.DutyRole
	}
	// The peer gateway that holds one of the two inboxes, as the entry
	// that created the notice here records it, whatever the registry
	// says now: the gateway that delivered it holds the sender's, the
	// one it was forwarded to the recipient's; each tracks it.
	peer, recipientAway, err := s.noticeTrackedWith(ctx, n)
	if err != nil {
		return err
	}
	base := &liaisonv1.Escalation{
		NoticeId: n.ID, EventType: eventEnum(n.EventType), Recipient: n.Recipient, Sender: n.Sender,
		Sent: n.Created.UTC().Format(time.RFC3339), AcknowledgeBy: n.Deadline.UTC().Format(time.RFC3339),
		NoticeAuditIndex: n.AuditIndex,
	}
	var deliveries []audit.Delivery
	standing := map[string]string{}
	var peerReason string
	for _, to := range []struct {
		agency, box, key string
		target           liaisonv1.EscalationTarget
	}{
		{n.Recipient, roleInbox(n.Recipient, duty), "recipient_standing", liaisonv1.EscalationTarget_ESCALATION_TARGET_DUTY_ROLE},
		{n.Sender, n.Sender, "sender_standing", liaisonv1.EscalationTarget_ESCALATION_TARGET_SENDER},
	} {
		toDuty := to.target == liaisonv1.EscalationTarget_ESCALATION_TARGET_DUTY_ROLE
		if toDuty && recipientAway || !toDuty && peer != "" && !recipientAway {
			switch {
			case !recipientAway:
			case rcpt == nil:
				standing[to.key] = standingUnregistered
			case rcpt.Offboarded:
				// The peer sends the duty role's copy, but this
				// registry offboarded the recipient (or its gateway),
				// or no longer lists it: this gateway refuses the
				// acknowledgement the peer would forward, so the notice
				// will not be acknowledged here, and the sender is told
				// why.
				standing[to.key] = standingOffboarded
			case peer == "":
				// The peer delivered the notice without tracking it:
				// nobody sends the duty role's copy, and no
				// acknowledgement will come back.
				standing[to.key] = standingUntracked
			default:
				// The peer's word that it offboards this gateway, or
				// no longer lists it: it forwards no acknowledgement
				// here.
				if why := s.peerRefusesUs(ctx, peer, n.Sender, asked); why != "" {
					standing[to.key], peerReason = peerStandings[why], why
				}
			}
			continue // that inbox is at the peer gateway, which sends this copy if it tracks the notice
		}
		switch a := reg.Agencies[to.agency]; {
		case a == nil:
			standing[to.key] = standingUnregistered
			continue // nobody reads its inboxes
		case a.Offboarded:
			standing[to.key] = standingOffboarded
			continue
		}
		x := proto.CloneOf(base)
		x.Target = to.target
		if to.target == liaisonv1.EscalationTarget_ESCALATION_TARGET_DUTY_ROLE {
			x.DutyRole = duty
		} else {
			x.RecipientStanding = standing["recipient_standing"] // the duty role's copy, left out above
		}
		d, err := s.delivery(to.box, &liaisonv1.SubscribeResponse{Sender: "liaison", Escalation: x})
		if err != nil {
			return err
		}
		deliveries = append(deliveries, d)
	}
	e := s.noticeEntry(ctx, n, actionNoticeEscalate, now)
	e.Detail["duty_role"] = duty
	var to []string
	for _, d := range deliveries {
		to = append(to, d.Recipient)
	}
	if len(to) > 0 {
		e.Detail["escalated_to"] = strings.Join(to, ",")
	}
	for k, v := range standing {
		e.Detail[k] = v
	}
	if peer != "" {
		e.Detail["escalated_at_peer"] = peer
	}
	if peerReason != "" {
		e.Detail["peer_reason"] = peerReason
	}
	idx, err := s.cfg.Audit.AppendState(ctx, e, audit.Change{Marks: []audit.NoticeMark{{Notice: n.ID, Step: audit.NoticeEscalated, Time: now}}}, deliveries...)
	switch {
	case errors.Is(err, audit.ErrConflict):
		return nil // acknowledged or escalated meanwhile
	case err != nil:
		return fmt.Errorf("escalate notice %s: %w", n.ID, err)
	}
	s.log.WarnContext(ctx, "required notice escalated", "notice_id", n.ID, "audit_index", idx, "recipient", n.Recipient,
		"duty_role", duty, "sender", n.Sender, "acknowledge_by", n.Deadline.UTC().Format(time.RFC3339))
	return nil
}

// standingUntracked is the recipient_standing of an escalation of a
// notice to an agency behind a peer gateway that delivered it without
// tracking it.
const standingUntracked = "untracked"

// standingOffboarded and standingUnregistered are the recipient_standing
// (and sender_standing) of an escalation of a notice to an agency this
// gateway's registry has offboarded (or whose peer gateway it has), or no
// longer lists.
const (
	standingOffboarded   = "offboarded"
	standingUnregistered = "unregistered"
)

// markOverdue records that a required notice's deadline passed without an
// acknowledgement.
func (s *Server) markOverdue(ctx context.Context, n audit.Notice, now time.Time) error {
	e := s.noticeEntry(ctx, n, actionNoticeOverdue, now)
	e.Detail["late"] = "true"
	idx, err := s.cfg.Audit.AppendState(ctx, e, audit.Change{Marks: []audit.NoticeMark{{Notice: n.ID, Step: audit.NoticeOverdue, Time: now}}})
	switch {
	case errors.Is(err, audit.ErrConflict):
		return nil
	case err != nil:
		return fmt.Errorf("record overdue notice %s: %w", n.ID, err)
	}
	s.log.WarnContext(ctx, "required notice not acknowledged in time", "notice_id", n.ID, "audit_index", idx, "recipient", n.Recipient, "sender", n.Sender)
	return nil
}

// expireViaPeer closes this gateway's copy of each open required notice
// it sent to an agency behind a peer gateway whose release's legal basis
// has ended. That gateway tracks the release to the end of its basis
// (audit.RecipientBehindPeer) and sends the recipient the expiry notice,
// which closes its copy (commitNotice); this gateway sends none, so that
// without this nothing would close its copy, and its timers would
// escalate the notice back to the sender and record it overdue although
// the recipient can no longer acknowledge it. The end is the one this
// log gives the release chain (expiryViaPeer: its latest correction's, as
// revised since), the date the peer tracks, and
// it has ended, as for the peer's timers (RunAftercare), from the day
// after it where the basis's law is (policies.Engine.BasisEnded). Each
// notice is closed with one entry (notice_expire), its
// mark (audit.NoticeWithdrawn) the precondition, so that a notice
// acknowledged meanwhile (a forwarded acknowledgement) stays
// acknowledged.
func (s *Server) expireViaPeer(ctx context.Context, now time.Time) error {
	reg, eng := s.registry.Load(), s.policy.Current()
	var errs []error
	for start := int64(0); ; {
		page, err := s.cfg.Audit.Notices(ctx, audit.NoticeFilter{Unacknowledged: true, Start: start, Limit: duePage})
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, n := range page {
			rcpt := reg.Agencies[n.Recipient]
			if rcpt == nil || rcpt.Via == "" {
				continue // this gateway's own agency: its expiry notice closes it
			}
			lb, err := s.expiryViaPeer(ctx, n)
			if err != nil {
				errs = append(errs, fmt.Errorf("notice %s: %w", n.ID, err))
				continue
			}
			if lb == nil || !eng.BasisEnded(lb.ID, lb.ValidUntil, now) {
				continue
			}
			errs = append(errs, s.expireNotice(ctx, n, lb, rcpt.Via, now))
		}
		if len(page) < duePage {
			return errors.Join(errs...)
		}
		start = page[len(page)-1].AuditIndex + 1
	}
}

// expiryViaPeer is the legal basis of the release chain that delivered
// n (its entry, n.AuditIndex), with the end date as this log gives it
// now, the date the peer tracks: that of the latest correction sent of
// the release (a correction is itself a release, which the peer tracks
// in its stead, with the basis and end it was decided with), as the last
// revision that moved it since (ReviseExpiry, whose forward the peer
// took) moved it. Nil for a release whose basis does not end.
func (s *Server) expiryViaPeer(ctx context.Context, n audit.Notice) (*audit.LegalBasis, error) {
	return s.releaseBasis(ctx, n, true)
}

// releaseBasis is expiryViaPeer for a release to an agency behind a peer
// gateway (viaPeer) or to one of this gateway's own (not viaPeer): nil for
// a release of the other kind.
func (s *Server) releaseBasis(ctx context.Context, n audit.Notice, viaPeer bool) (*audit.LegalBasis, error) {
	e, err := s.entryAt(ctx, n.AuditIndex, "audit_index")
	if err != nil {
		return nil, err
	}
	if e.LegalBasis == nil || e.LegalBasis.ValidUntil == "" || e.Subject == nil || audit.RecipientBehindPeer(e) != viaPeer {
		return nil, nil
	}
	lb := *e.LegalBasis
	cur := n.AuditIndex // the latest release of the chain
	for r, err := range s.logEntries(ctx, audit.Filter{Subject: e.Subject.Pseudonym, Agency: n.Sender, Start: n.AuditIndex + 1}) {
		if err != nil {
			return nil, err
		}
		x, d := r.Entry, r.Entry.Detail
		if x.Holder == nil || x.Holder.Agency != n.Sender {
			continue
		}
		switch x.Action {
		case audit.ActionReviseExpiry:
			if x.Outcome == audit.OutcomeOK && d[audit.DetailRelease] == strconv.FormatInt(cur, 10) && d[audit.DetailMoved] == "true" && d[audit.DetailValidUntil] != "" {
				lb.ValidUntil = d[audit.DetailValidUntil]
			}
		case audit.ActionCorrect:
			c, ok := audit.NoticeOf(r.Index, x)
			if !ok || c.Kind != audit.NoticeCorrection || !audit.ReleasedBy(x) || !slices.Contains(c.RefersTo, cur) {
				continue
			}
			if x.LegalBasis == nil || x.LegalBasis.ValidUntil == "" {
				return nil, nil // the corrected release's basis does not end
			}
			lb, cur = *x.LegalBasis, r.Index
		}
	}
	return &lb, nil
}

// expireNotice closes n, whose release's basis lb ended at peer, the
// gateway of its recipient: one entry (notice_expire), naming the basis
// as it ended and the peer that sent the expiry notice, whether the
// notice was late by then, and the reason LEGAL_BASIS_EXPIRED.
func (s *Server) expireNotice(ctx context.Context, n audit.Notice, lb *audit.LegalBasis, peer string, now time.Time) error {
	e := s.noticeEntry(ctx, n, actionNoticeExpire, now)
	e.LegalBasis = &audit.LegalBasis{ID: lb.ID, Citation: lb.Citation, ValidUntil: lb.ValidUntil}
	e.Reasons = []string{reasonExpired}
	e.Detail["late"] = strconv.FormatBool(now.After(n.Deadline))
	e.Detail["expired_at_peer"] = peer
	idx, err := s.cfg.Audit.AppendState(ctx, e, audit.Change{Marks: []audit.NoticeMark{{Notice: n.ID, Step: audit.NoticeWithdrawn, Time: now}}})
	switch {
	case errors.Is(err, audit.ErrConflict):
		return nil // acknowledged or closed meanwhile
	case err != nil:
		return fmt.Errorf("close notice %s: %w", n.ID, err)
	}
	s.log.InfoContext(ctx, "required notice closed unacknowledged: the legal basis of its release ended at the recipient's gateway",
		"notice_id", n.ID, "audit_index", idx, "recipient", n.Recipient, "sender", n.Sender, "peer", peer,
		"legal_basis", lb.ID, "valid_until", lb.ValidUntil, "late", e.Detail["late"])
	return nil
}

func eventEnum(s string) liaisonv1.SubjectEventType {
	n, _ := enumValue(liaisonv1.SubjectEventType(0).Descriptor(), s)
	return liaisonv1.SubjectEventType(n)
}

// ListNotices lists required notices for an auditor, in log order, a page
// at a time (start, as ListObligationNotices). The read is logged, once
// done and before anything is returned (readEnded), and so is a refused
// one (readRefused), as the Audit service's are.
func (s *Server) ListNotices(ctx context.Context, req *liaisonv1.ListNoticesRequest) (*liaisonv1.ListNoticesResponse, error) {
	c, err := s.requireRole(ctx, RoleAuditor)
	if err != nil {
		return nil, s.readRefused(ctx, c, opListNotices, err)
	}
	limit, err := pageLimit(req.GetLimit())
	if err != nil {
		return nil, s.readRefused(ctx, c, opListNotices, err)
	}
	for _, v := range []struct{ field, id string }{{"recipient", req.GetRecipient()}, {"sender", req.GetSender()}} {
		if err := checkAgencyFilter(v.field, v.id); err != nil {
			return nil, s.readRefused(ctx, c, opListNotices, err)
		}
	}
	if req.GetStart() < 0 {
		return nil, s.readRefused(ctx, c, opListNotices, invalid("start", "must not be negative"))
	}
	now := s.now()
	f := audit.NoticeFilter{Recipient: req.GetRecipient(), Sender: req.GetSender(), Unacknowledged: req.GetUnacknowledgedOnly(),
		ForwardDue: req.GetForwardPendingOnly(), Start: req.GetStart(), Limit: limit}
	if req.GetLateOnly() {
		f.LateAt = now
	}
	detail := map[string]string{"late_only": strconv.FormatBool(req.GetLateOnly()), "unacknowledged_only": strconv.FormatBool(req.GetUnacknowledgedOnly())}
	if f.ForwardDue {
		detail["forward_pending_only"] = "true"
	}
	if f.Recipient != "" {
		detail["recipient"] = f.Recipient
	}
	if f.Sender != "" {
		detail["sender"] = f.Sender
	}
	if req.GetStart() > 0 {
		detail["start"] = strconv.FormatInt(req.GetStart(), 10)
	}
	if req.GetLimit() != 0 {
		detail["limit"] = strconv.Itoa(int(req.GetLimit()))
	}
	ns, err := s.cfg.Audit.Notices(ctx, f)
	if err := s.readEnded(ctx, c, opListNotices, detail, err); err != nil {
		return nil, err
	}
	resp := &liaisonv1.ListNoticesResponse{}
	for _, n := range ns {
		var why string
		if n.ForwardDue && n.Forwarded.IsZero() {
			peer, away, err := s.noticeDeliveredBy(ctx, n)
			why = s.forwardWait(ctx, n.AckIndex, peer, away, err)
		}
		var standing, senderStanding string
		if !n.Escalated.IsZero() && n.EscalationIndex >= 0 {
			standing, senderStanding = s.escalationStandings(ctx, n)
		}
		resp.Notices = append(resp.Notices, &liaisonv1.TrackedNotice{
			NoticeId: n.ID, EventType: eventEnum(n.EventType), Sender: n.Sender, Recipient: n.Recipient, Rule: n.Rule,
			Sent: rfc3339(n.Created), EscalateAt: rfc3339(n.EscalateAt), AcknowledgeBy: rfc3339(n.Deadline),
			Acknowledged: rfc3339(n.Acknowledged), Escalated: rfc3339(n.Escalated), Overdue: rfc3339(n.Overdue),
			Late: n.Late(now), AuditIndex: n.AuditIndex, AckAuditIndex: n.AckIndex, EscalationAuditIndex: n.EscalationIndex,
			OverdueAuditIndex: n.OverdueIndex, Peer: n.Peer, ForwardPending: n.ForwardDue && n.Forwarded.IsZero(),
			Withdrawn: rfc3339(n.Withdrawn), WithdrawalAuditIndex: n.WithdrawalIndex, ForwardPendingReason: why,
			EscalationRecipientStanding: standing, EscalationSenderStanding: senderStanding,
		})
	}
	return resp, nil
}

// escalationStandings are the recipient_standing and the sender_standing
// that the escalation's entry of n recorded
// (TrackedNotice.escalation_recipient_standing,
// escalation_sender_standing): read from the log, as they were when the
// notice was escalated, not from the registry now. "" if that entry could
// not be read or is not n's escalation.
func (s *Server) escalationStandings(ctx context.Context, n audit.Notice) (recipient, sender string) {
	e, err := s.entryAt(ctx, n.EscalationIndex, "escalation_audit_index")
	if err != nil || e.Action != actionNoticeEscalate || e.Detail["notice_id"] != n.ID {
		return "", ""
	}
	return e.Detail["recipient_standing"], e.Detail["sender_standing"]
}

// rfc3339 writes t, or "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// notFound is a NotFound status for the caller.
func (s *Server) notFound(format string, args ...any) error {
	return status.Error(codes.NotFound, fmt.Sprintf(format, args...))
}
