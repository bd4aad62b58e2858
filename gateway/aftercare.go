package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// After sharing: a holder's corrections and withdrawals reach every
// recipient of its record, found in the log. Each notice to one recipient
// is one exchange with one entry (action correct or withdraw), as each
// recipient of a Disclose is; each acknowledgement is one more. The
// notices and their acknowledgements are projected from the log into the
// aftercare store (audit.SyncAftercare), where auditors list the open
// ones and the timers find what to sweep.

// Reason codes of notices.
const (
	reasonCorrected           = "CORRECTED"
	reasonCorrectionNotAllowd = "CORRECTION_NOT_ALLOWED"
	reasonNarrowed            = "ENTITLEMENT_NARROWED"
	reasonSourceWithdrawn     = "SOURCE_WITHDRAWN"
	reasonExpired             = "LEGAL_BASIS_EXPIRED"
)

var obligationNames = map[liaisonv1.Obligation]string{
	liaisonv1.Obligation_OBLIGATION_RECTIFY:  audit.ObligationRectify,
	liaisonv1.Obligation_OBLIGATION_ERASE:    audit.ObligationErase,
	liaisonv1.Obligation_OBLIGATION_RESTRICT: audit.ObligationRestrict,
	liaisonv1.Obligation_OBLIGATION_RETAIN:   audit.ObligationRetain,
}

func obligationEnum(s string) liaisonv1.Obligation {
	for k, v := range obligationNames {
		if v == s {
			return k
		}
	}
	return liaisonv1.Obligation_OBLIGATION_UNSPECIFIED
}

var noticeKinds = map[string]liaisonv1.ObligationKind{
	audit.NoticeCorrection: liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION,
	audit.NoticeWithdrawal: liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL,
	audit.NoticeExpiry:     liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY,
}

var withdrawalReasons = map[liaisonv1.WithdrawalReason]string{
	liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT:              "INCORRECT",
	liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_UNLAWFULLY_TRANSMITTED: "UNLAWFULLY_TRANSMITTED",
	liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_ERASED_AT_SOURCE:       "ERASED_AT_SOURCE",
}

// peerEndedRelease reports whether e, a correction or withdrawal this
// gateway forwarded, records the recipient's gateway refusing it
// RELEASE_ENDED on terms this gateway takes: proven by the receipt of the
// peer's entry of the refusal (refused, detail peer_denial verified), or
// from a gateway before such receipts, which names no entry of it and
// carries no receipt (failed, FAILED_PRECONDITION, no detail
// peer_denial). A refusal that names the peer's entry without a receipt
// of it that holds (peer_denial unverified; PEER_CLAIM_UNVERIFIED), or
// that came with another status code, is the peer's word alone, against
// what its own log would show: the release stays open, and the next
// correction or withdrawal is forwarded again.
func peerEndedRelease(e *audit.Entry) bool {
	if e.Detail["peer_reason"] != reasonReleaseEnded {
		return false
	}
	switch e.Outcome {
	case audit.OutcomeRefused:
		return e.Detail[audit.DetailPeerDenial] == "verified"
	case audit.OutcomeFailed:
		return e.Detail["peer_code"] == codes.FailedPrecondition.String() && e.Detail[audit.DetailPeerDenial] == "" &&
			!slices.Contains(e.Reasons, reasonPeerClaimUnverified)
	}
	return false
}

// releasesOf returns the caller's releases about a subject that a
// correction or a withdrawal reaches: releases of a record (of
// recordType, if set) by holder, not yet withdrawn, superseded by a
// correction or ended by an expiry notice that obliged erasure, in log
// order. explicit, if given, must name such releases; field names the
// request field that gave them. hitOnly says whether a hit-only answer
// counts (a withdrawal reaches it, a correction of content does not).
func (s *Server) releasesOf(ctx context.Context, holder, subject, recordType string, explicit []int64, field string, hitOnly bool) ([]audit.Record, error) {
	var all []audit.Record
	type closure struct {
		by        int64 // the notice that closed the release
		ended     bool  // an expiry notice that obliged erasure
		withdrawn bool  // a withdrawal (not a correction)
	}
	closed := map[int64]closure{} // release -> what closed it
	for r, err := range s.logEntries(ctx, audit.Filter{Subject: subject, Agency: holder}) {
		if err != nil {
			return nil, err
		}
		e := r.Entry
		if e.Holder == nil || e.Holder.Agency != holder {
			continue
		}
		switch e.Action {
		case audit.ActionCorrect, audit.ActionWithdraw:
			// Only a notice sent closes a release: one that failed
			// reached nobody, and the holder must be able to send it
			// again.
			if n, ok := audit.NoticeOf(r.Index, e); ok {
				for _, x := range n.RefersTo {
					closed[x] = closure{by: r.Index, withdrawn: n.Kind == audit.NoticeWithdrawal}
				}
			} else if peerEndedRelease(e) {
				// The recipient's gateway, behind a peer, refused it: it
				// told its recipient to erase the record when the basis
				// ended (its expiry notice, which this log cannot hold).
				// The release has ended as if this gateway had said so.
				refs, _ := audit.ParseIndexes(e.Detail[audit.DetailRefersTo])
				for _, x := range refs {
					closed[x] = closure{by: r.Index, ended: true}
				}
			}
		case audit.ActionExpire:
			// The basis ended and the recipient was told to erase what
			// it holds: it holds nothing to correct (a correction would
			// disclose the record to it afresh, on no basis) and nothing
			// left to withdraw. One that lets it retain the record
			// leaves the release open: it still holds it.
			if n, ok := audit.NoticeOf(r.Index, e); ok && n.Obligation == audit.ObligationErase {
				for _, x := range n.RefersTo {
					closed[x] = closure{by: r.Index, ended: true}
				}
			}
		}
		if isRecordRelease(e) && (recordType == "" || e.RecordType == recordType) && (hitOnly || e.Outcome != audit.OutcomeHitOnly) {
			all = append(all, r)
		}
	}
	open := slices.DeleteFunc(slices.Clone(all), func(r audit.Record) bool { _, ok := closed[r.Index]; return ok })
	if len(explicit) == 0 {
		return open, nil
	}
	var out []audit.Record
	for i, x := range explicit {
		f := fmt.Sprintf("%s[%d]", field, i)
		if slices.Contains(explicit[:i], x) {
			return nil, invalid(f, "appears twice")
		}
		if c, ok := closed[x]; ok && c.ended {
			return nil, invalid(f, "has ended: its legal basis ended and its recipient was told to erase it (entry %d)", c.by)
		} else if ok && c.withdrawn {
			return nil, invalid(f, "was withdrawn (entry %d): its recipient was told to erase or restrict it, and nothing of it is left to correct or withdraw", c.by)
		} else if ok {
			return nil, invalid(f, "was already corrected (entry %d); name the latest release, that correction", c.by)
		}
		j := slices.IndexFunc(open, func(r audit.Record) bool { return r.Index == x })
		if j < 0 {
			return nil, invalid(f, "is not a release by your agency of this record about this subject")
		}
		out = append(out, open[j])
	}
	slices.SortFunc(out, func(a, b audit.Record) int { return cmp.Compare(a.Index, b.Index) })
	return out, nil
}

// Correct sends the corrected record to every recipient of the releases it
// corrects, each in the form that recipient was entitled to.
func (s *Server) Correct(ctx context.Context, req *liaisonv1.CorrectRequest) (_ *liaisonv1.CorrectResponse, err error) {
	call := s.begin(ctx, audit.ActionCorrect)
	defer call.finish(ctx, &err)
	if _, err := s.aftercare(); err != nil {
		return nil, err
	}
	body, rule := recordBody(req.GetRecord())
	if body == nil || rule.GetRecordType() == "" {
		return nil, invalid("record", "must hold one of the seven record types")
	}
	subject := recordSubjectID(body)
	if err := validSubjectID(subjectIDField(req.GetRecord()), string(subject)); err != nil {
		return nil, err
	}
	if err := validRecord(req.GetRecord()); err != nil {
		return nil, err
	}
	if err := validJustification(req.GetJustification(), string(subject)); err != nil {
		return nil, err
	}
	if req.GetSubject() != nil {
		if err := validSubject(req.GetSubject(), string(subject)); err != nil {
			return nil, err
		}
	}
	attrs, err := recordDates(req.GetSubject(), req.GetRecord())
	if err != nil {
		return nil, err
	}
	if len(req.GetCorrects()) > maxRecipients {
		return nil, invalid("corrects", "at most %d releases per call", maxRecipients)
	}
	call.describe(party(call.caller.Agency), policies.Party{}, policies.Input{RecordType: rule.GetRecordType(), Justification: req.GetJustification()})
	call.subject = subject
	if err := s.pseudonymiseSubject(call); err != nil {
		return nil, err
	}
	// Every entry before the log's size now is read below: each
	// correction's commit checks that no later one closed its release
	// (commitNotice).
	read, err := s.cfg.Audit.Size(ctx)
	if err != nil {
		return nil, err
	}
	originals, err := s.releasesOf(ctx, call.caller.Agency.ID, call.entry.Subject.Pseudonym, rule.GetRecordType(), req.GetCorrects(), "corrects", false)
	if err != nil {
		return nil, err
	}
	if len(originals) == 0 {
		return nil, &notFoundError{"no release of this record by your agency about this subject is open to correction"}
	}
	call.closed = true // each recipient's notice below writes its own entry
	resp := &liaisonv1.CorrectResponse{}
	for _, o := range originals {
		res, _ := s.correctOne(ctx, req, subject, attrs, o, read)
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}

// noticeResult is what NoticeResult says of an exchange that ended with err.
func noticeResult(ex *exchange, res *liaisonv1.NoticeResult, err error) {
	res.AuditIndex = ex.index
	if err != nil {
		res.Kind, res.Outcome, res.Obligation = liaisonv1.ObligationKind_OBLIGATION_KIND_UNSPECIFIED, 0, 0
		res.NoticeId, res.AcknowledgeBy = "", ""
		res.Reasons = ex.entry.Reasons
		res.Failure = recipientFailure(err)
	}
}

// correctOne is the exchange of a correction for the recipient of one
// release, which the call read open in the log's entries before read.
// Its error, if any, is already a status.
// attrs are the subject's attributes the caller gave, if any.
func (s *Server) correctOne(ctx context.Context, req *liaisonv1.CorrectRequest, subject pseudonym.SubjectID, attrs *liaisonv1.SubjectAttributes,
	o audit.Record, read int64) (res *liaisonv1.NoticeResult, err error) {
	ex := s.begin(ctx, audit.ActionCorrect)
	ex.openFrom, ex.holdOpen = read, true
	orig := o.Entry
	res = &liaisonv1.NoticeResult{Recipient: orig.Recipients[0].Agency, RefersTo: o.Index}
	defer func() {
		ex.finish(ctx, &err)
		noticeResult(ex, res, err)
	}()
	if err := s.describeNotice(ctx, ex, orig, req.GetJustification()); err != nil {
		return res, err
	}
	ex.subject = subject
	if attrs != nil {
		ex.setSubject(attrs)
	} else {
		// The attributes the holder last gave for this release: those of
		// its latest revision, if its dates changed since (ReviseExpiry),
		// else the release's own; with the release date and the last day
		// of probation the corrected record states, if it states them.
		latest, err := s.latestAttributes(ctx, o)
		if err != nil {
			return res, err
		}
		if a := entryAttributes(latest); a != nil {
			withRecordDates(a, req.GetRecord())
			ex.setSubject(a)
		}
	}
	if err := s.pseudonymiseSubject(ex); err != nil {
		return res, err
	}
	ex.entry.Detail = map[string]string{
		audit.DetailNoticeKind: audit.NoticeCorrection, audit.DetailRefersTo: strconv.FormatInt(o.Index, 10),
		audit.DetailReason: reasonCorrected, audit.DetailObligation: audit.ObligationRectify,
	}
	if p := orig.Provenance; p != nil {
		// The release passed on a record the holder received: the
		// correction is decided with the conditions of what the holder
		// holds now, the source's latest correction of it.
		src, withdrawnBy, hold, err := s.heldSource(ctx, p, ex.entry.Subject.Pseudonym)
		if err != nil {
			return res, err
		}
		ex.srcHold = hold // the correction goes only while its source stands as read (onward.go)
		if withdrawnBy >= 0 {
			return res, s.withdrawInstead(ctx, ex, o, reasonSourceWithdrawn, res,
				fmt.Sprintf("it came from %s, which has withdrawn it since (entry %d)", p.Holder.Agency, withdrawnBy))
		}
		ex.entry.Provenance = src
		ex.in.Provenance = policyProvenance(src)
	}
	// A correction discloses its record to the recipient as a Disclose
	// does: content the caller received through the gateway goes only
	// with the provenance of the release corrected, under the conditions
	// it came with (onward.go).
	u, err := s.undeclaredOnward(ctx, ex.caller.Agency.ID, ex.entry.Subject.Pseudonym, req.GetRecord(), ex.entry.Provenance)
	if err != nil {
		return res, err
	}
	if u != nil {
		return res, refuseUndeclared(ex, u)
	}
	// The policy decides the correction as what it is: the holder
	// disclosing the record to this recipient, today.
	ex.in.Action = "disclose"
	dec, err := s.decide(ctx, ex)
	var dn *denial
	switch {
	case errors.As(err, &dn):
		// Today's law no longer lets the recipient have the record: it
		// must erase what it holds instead, or, if it keeps the record
		// under its own retention rule since the basis ended, keep the
		// wrong fact only restricted.
		kept, err := s.keptAfterExpiry(ctx, o)
		if err != nil {
			return res, err
		}
		if kept >= 0 {
			return res, s.restrictInstead(ctx, ex, o, kept, res)
		}
		return res, s.withdrawInstead(ctx, ex, o, reasonCorrectionNotAllowd, res, "today's law no longer lets you have it")
	case err != nil:
		return res, err
	case outcomeRank[dec.Outcome] > outcomeRank[orig.Outcome]:
		return res, s.withdrawInstead(ctx, ex, o, reasonNarrowed, res,
			"today's law lets you have it only in a less revealing form than the one you hold")
	}
	// The form the recipient was entitled to: the original outcome, field
	// plan and pseudonym domain; today's basis and conditions.
	form := dec
	form.Outcome, form.PseudonymDomain = orig.Outcome, orig.PseudonymDomain
	if p := orig.FieldPlan; p != nil {
		form.Fields = policies.Fields{Keep: p.Keep, Generalise: p.Generalise, Pseudonymise: p.Pseudonymise, Precision: p.Precision}
	}
	ps, err := s.recipientPseudonym(ex, form)
	if err != nil {
		return res, err
	}
	rel, err := s.release(ex, form, req.GetRecord(), true, ps)
	if err != nil {
		return res, failed("TRANSFORM_FAILED", err)
	}
	ex.entry.PseudonymDomain = form.PseudonymDomain
	ex.entry.FieldPlan = orig.FieldPlan
	if err := s.rememberRelease(ctx, ex, rel); err != nil {
		return res, err
	}
	n := &liaisonv1.ObligationNotice{
		Kind: liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION, RefersTo: []int64{o.Index},
		Reason: reasonCorrected, Obligation: liaisonv1.Obligation_OBLIGATION_RECTIFY, LegalBasis: rel.GetLegalBasis(),
		Message: fmt.Sprintf("%s corrected the %s it released to you (entry %d): replace it with the record that comes with this notice, "+
			"and acknowledge when done.", ex.caller.Agency.ID, strings.ReplaceAll(orig.RecordType, "_", " "), o.Index),
		Holder: ex.caller.Agency.ID, RecordType: recordTypeEnum(orig.RecordType),
		SubjectPseudonym: ps, PseudonymDomain: form.PseudonymDomain,
	}
	if err := s.notePassedOn(ctx, ex, o, n); err != nil {
		return res, err
	}
	req1, err := s.releaseDateNotice(ctx, ex, o, req.GetRecord())
	if err != nil {
		return res, err
	}
	if _, err := s.deliverTrackedNotice(ctx, ex, rel, n, req1); err != nil {
		return res, err
	}
	if req1 != nil && n.Kind == liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION {
		res.NoticeId, res.AcknowledgeBy = req1.tracked.ID, req1.item.GetAcknowledgeBy()
	}
	if n.Kind == liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL {
		// The recipient's gateway, behind a peer, refused the correction
		// under its law on receipt and sent a withdrawal.
		res.Kind, res.Obligation, res.Reasons = n.Kind, n.Obligation, ex.entry.Reasons
		return res, nil
	}
	res.Kind, res.Outcome, res.Obligation = n.Kind, rel.GetOutcome(), n.Obligation
	return res, nil
}

// A requiredDelivery is the required notice an obligation notice carries:
// the notice tracked from its entry, and what its inbox item says of it.
type requiredDelivery struct {
	tracked audit.Notice
	item    *liaisonv1.Notice
}

// releaseDateNotice returns the required notice of a correction whose
// record moves the subject's release date for the recipient of release o
// (it states a date other than the one o was decided with), or nil. The
// recipient learns the new date from the correction as it would from a
// Notify of the change: the policy that decided the correction (the
// revision its entry records, also if another was activated since) says,
// as for such a notify to it, whether the notice must be acknowledged and by
// when (before the new release day, under a before_release rule), and the
// gateway tracks it as it tracks a Notify's (pushTo): escalated, recorded
// overdue, listed for auditors. The exchange's input is the correction's,
// decided already; it is not changed: the question is asked of a copy,
// with the notify's action, event and route. The route is the one a
// Notify would reach the recipient by: case_member, with the case as it
// stands, if o was made in a case still open of which the recipient, on
// this gateway, is a member now; else earlier_recipient of o, with the
// basis o was decided with (which may have ended since: a correction
// reaches a recipient that keeps the record under its own retention
// rule, where a Notify would not), as for one behind a peer gateway (a
// case is each gateway's own). A recipient behind a peer gateway is
// tracked so too, by both gateways under one id, as a Notify's required
// notice to it is (pushViaPeer): the notice goes with the correction
// through its gateway (noticeViaPeer), which tracks it from its own entry
// of the correction (noticeFromPeer). A recipient offboarded or no longer
// listed gets the correction but no required notice, as Notify leaves it
// out.
func (s *Server) releaseDateNotice(ctx context.Context, ex *exchange, o audit.Record, record *liaisonv1.Record) (*requiredDelivery, error) {
	day := record.GetReleaseNotice().GetReleaseDate()
	if day == "" {
		return nil, nil
	}
	event, prior := "release_date_changed", ""
	if o.Entry.Subject != nil {
		prior = o.Entry.Subject.ReleaseDate
	}
	switch prior {
	case day:
		return nil, nil // the date the recipient has already
	case "":
		event = "release_date_set"
	}
	rcpt := ex.entry.Recipients[0].Agency
	a := s.registry.Load().Agencies[rcpt]
	if a == nil || a.Offboarded {
		// No acknowledgement is owed by an agency the registry no longer
		// lists or has offboarded (or whose peer gateway it offboarded),
		// as a Notify leaves it out: its calls are refused, so it could
		// never acknowledge. The correction, and its new date, still
		// reach it.
		return nil, nil
	}
	route := &liaisonv1.RecipientRoute{Role: liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT, EarlierAuditIndex: o.Index}
	if lb := o.Entry.LegalBasis; lb != nil {
		route.LegalBasis = lb.ID
	}
	if cs := ex.in.Case; cs != nil && a.Via == "" && o.Entry.Case != nil && cs.ID == o.Entry.Case.ID && slices.Contains(cs.Members, rcpt) {
		// The release was made in a case that is still open, and the
		// recipient is a member of it now (the case as describeNotice
		// read it, the correction's): a Notify would reach it as a case
		// member, and the rules for a case's members (the lead's notice)
		// hold it as they would hold it there. A recipient behind a peer
		// gateway is reached as an earlier recipient: a case is each
		// gateway's own.
		route = &liaisonv1.RecipientRoute{Role: liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER, CaseId: cs.ID}
	}
	in := ex.in
	in.Action, in.Event, in.Route = "notify", &policies.Event{Type: event}, policyRoute(route)
	// The revision that decided the correction, which its entry records,
	// answers: an activation since then does not change this exchange.
	eng := ex.eng
	if eng == nil {
		eng = s.policy.Current()
	}
	dec, err := s.evaluate(ctx, eng, in)
	if errors.Is(err, errCallEnded) {
		return nil, err // failed, CANCELED or DEADLINE_EXCEEDED: no policy failed
	}
	if err != nil {
		// Nothing goes without the notice the law may require of it.
		return nil, failed("POLICY_ERROR", fmt.Errorf("gateway: the notice of the moved release date: %v", err))
	}
	n := dec.Notice
	if dec.Outcome == policies.OutcomeDeny || n == nil || !n.Required {
		return nil, nil
	}
	t, err := s.trackedNotice(ex, n, rcpt, event)
	if err != nil {
		return nil, err
	}
	ex.noticeDetail("event", event)
	return &requiredDelivery{tracked: t, item: &liaisonv1.Notice{
		EventType: eventEnum(event), Routes: []*liaisonv1.RecipientRoute{route},
		NoticeId: t.ID, AcknowledgeBy: t.Deadline.Format(time.RFC3339), Rule: n.Rule,
	}}, nil
}

// latestAttributes returns the entry that recorded the subject's
// attributes as the holder last gave them for release o: its latest
// revision (a revise_expiry entry about o, whatever it moved), or o.
func (s *Server) latestAttributes(ctx context.Context, o audit.Record) (*audit.Entry, error) {
	e := o.Entry
	if e.Holder == nil || e.Subject == nil {
		return e, nil
	}
	latest, release := e, strconv.FormatInt(o.Index, 10)
	for r, err := range s.logEntries(ctx, audit.Filter{Subject: e.Subject.Pseudonym, Agency: e.Holder.Agency, Action: audit.ActionReviseExpiry, Start: o.Index + 1}) {
		if err != nil {
			return nil, err
		}
		if x := r.Entry; x.Outcome == audit.OutcomeOK && x.Detail[audit.DetailRelease] == release && x.Subject != nil &&
			x.Holder != nil && x.Holder.Agency == e.Holder.Agency {
			latest = x
		}
	}
	return latest, nil
}

// keptAfterExpiry returns the index of the expiry notice that let the
// recipient of release o keep it (obligation retain or restrict) when its
// basis ended, or -1 if there is none.
func (s *Server) keptAfterExpiry(ctx context.Context, o audit.Record) (int64, error) {
	return s.expiryNoticeOf(ctx, o, audit.ObligationRetain, audit.ObligationRestrict)
}

// expiryNoticeOf returns the index of the first expiry notice about
// release o with one of the obligations, or -1 if there is none.
func (s *Server) expiryNoticeOf(ctx context.Context, o audit.Record, obligations ...string) (int64, error) {
	e := o.Entry
	if e.Holder == nil || e.Subject == nil {
		return -1, nil
	}
	for r, err := range s.logEntries(ctx, audit.Filter{Subject: e.Subject.Pseudonym, Agency: e.Holder.Agency, Action: audit.ActionExpire, Start: o.Index + 1}) {
		if err != nil {
			return -1, err
		}
		if n, ok := audit.NoticeOf(r.Index, r.Entry); ok && slices.Contains(n.RefersTo, o.Index) && slices.Contains(obligations, n.Obligation) {
			return r.Index, nil
		}
	}
	return -1, nil
}

// restrictInstead ends a correction's exchange, for a recipient that keeps
// the record under its own retention rule since the basis ended (expiry
// notice kept) and that today's law no longer lets have the corrected
// one, with a withdrawal notice obliging restriction: the recipient may
// keep what its own law lets it keep, marked wrong and used for nothing
// else, as the rules on rectification ask where erasure is not due.
func (s *Server) restrictInstead(ctx context.Context, ex *exchange, o audit.Record, kept int64, res *liaisonv1.NoticeResult) error {
	return s.noticeInstead(ctx, ex, o, reasonCorrectionNotAllowd, liaisonv1.Obligation_OBLIGATION_RESTRICT, res,
		fmt.Sprintf("%s corrected the %s it released to you (entry %d), which you keep under your own retention rule since its basis ended (entry %d), "+
			"but today's law no longer lets you have the corrected one: keep what you hold only restricted, marked as wrong, "+
			"and use it for nothing but what kept it from erasure (or erase it); acknowledge when done.",
			ex.caller.Agency.ID, strings.ReplaceAll(o.Entry.RecordType, "_", " "), o.Index, kept))
}

// withdrawInstead ends a correction's exchange with a withdrawal notice:
// the recipient may no longer have the record in the form it holds, for
// the reason why gives in words.
func (s *Server) withdrawInstead(ctx context.Context, ex *exchange, o audit.Record, reason string, res *liaisonv1.NoticeResult, why string) error {
	return s.noticeInstead(ctx, ex, o, reason, liaisonv1.Obligation_OBLIGATION_ERASE, res,
		fmt.Sprintf("%s corrected the %s it released to you (entry %d), but %s: erase what you hold, and acknowledge when done.",
			ex.caller.Agency.ID, strings.ReplaceAll(o.Entry.RecordType, "_", " "), o.Index, why))
}

// noticeInstead ends a correction's exchange with a withdrawal notice of
// obligation ob (erase or restrict) and message msg, for reason.
func (s *Server) noticeInstead(ctx context.Context, ex *exchange, o audit.Record, reason string, ob liaisonv1.Obligation, res *liaisonv1.NoticeResult, msg string) error {
	e, orig := ex.entry, o.Entry
	ex.srcHold = nil // a withdrawal releases nothing: it goes whatever its source does
	e.Reasons = append(e.Reasons, reason)
	e.FieldsDisclosed, e.FieldPlan = nil, nil
	e.LegalBasis, e.Conditions, e.PseudonymDomain = orig.LegalBasis, orig.Conditions, orig.PseudonymDomain
	e.Detail[audit.DetailNoticeKind] = audit.NoticeWithdrawal
	e.Detail[audit.DetailReason] = reason
	e.Detail[audit.DetailObligation] = obligationNames[ob]
	n := s.withdrawalNotice(ex.caller.Agency.ID, orig, o.Index, reason, ob, msg)
	e.Outcome = audit.OutcomeOK
	if err := s.notePassedOn(ctx, ex, o, n); err != nil {
		return err
	}
	if _, err := s.deliverNotice(ctx, ex, nil, n); err != nil {
		return err
	}
	res.Kind, res.Obligation, res.Reasons = n.Kind, n.Obligation, e.Reasons
	return nil
}

// withdrawalNotice is a notice that obliges the recipient of a release to
// erase or restrict it.
func (s *Server) withdrawalNotice(holder string, orig *audit.Entry, index int64, reason string, ob liaisonv1.Obligation, msg string) *liaisonv1.ObligationNotice {
	n := &liaisonv1.ObligationNotice{
		Kind: liaisonv1.ObligationKind_OBLIGATION_KIND_WITHDRAWAL, RefersTo: []int64{index}, Reason: reason, Obligation: ob,
		Message: msg, Holder: holder, RecordType: recordTypeEnum(orig.RecordType), PseudonymDomain: orig.PseudonymDomain,
	}
	if lb := orig.LegalBasis; lb != nil {
		n.LegalBasis = &liaisonv1.LegalBasis{Id: lb.ID, Citation: lb.Citation, ValidUntil: lb.ValidUntil}
	}
	return n
}

// describeNotice fills a notice's exchange with the release it concerns:
// the caller (the holder) as requester and holder, the release's recipient,
// record type, purpose and case. The case is the case as it is today, from
// the store (or the registry file), with the holder's standing in it; a
// case since closed is no case.
//
// The notice does not rest on the case: it orders the recipient to
// rectify or erase what it was sent already, which must reach it however
// the case stands when the notice commits. So its entry commits under no
// case hold (unheld): a case closed, or a party that left it, after the
// case was read here no longer refuses it CASE_CLOSED or
// NOT_A_CASE_MEMBER.
func (s *Server) describeNotice(ctx context.Context, ex *exchange, orig *audit.Entry, justification string) error {
	ex.unheld = true
	r := orig.Recipients[0]
	rcpt := policies.Party{Agency: r.Agency, Kind: r.Kind, Jurisdiction: r.Jurisdiction}
	if a, ok := s.registry.Load().Agencies[r.Agency]; ok {
		rcpt = party(a.Agency)
	}
	var cs *policies.Case
	if orig.Case != nil {
		c, err := s.caseByID(ctx, orig.Case.ID)
		if err != nil {
			return err
		}
		if c != nil && c.Status != audit.CaseClosed {
			cs = policyCase(c, ex.caller.Agency.ID)
		}
	}
	ex.describe(party(ex.caller.Agency), rcpt, policies.Input{
		RecordType: orig.RecordType, Purpose: orig.Purpose, ClaimedLegalBasis: orig.ClaimedLegalBasis,
		Case: cs, Justification: justification,
	})
	return nil
}

// setSubjectFromEntry puts in the exchange the subject's attributes that an
// earlier entry recorded.
func (ex *exchange) setSubjectFromEntry(e *audit.Entry) {
	if a := entryAttributes(e); a != nil {
		ex.setSubject(a)
	}
}

// entryAttributes are the subject's attributes an entry recorded, or nil.
func entryAttributes(e *audit.Entry) *liaisonv1.SubjectAttributes {
	if e.Subject == nil {
		return nil
	}
	return &liaisonv1.SubjectAttributes{
		Category: liaisonv1.SubjectCategory(categoryNumber(e.Subject.Category)), InCustody: e.Subject.InCustody,
		ReleaseDate: e.Subject.ReleaseDate, ProbationUntil: e.Subject.ProbationUntil, Municipality: e.Subject.Municipality,
	}
}

func categoryNumber(s string) int32 {
	n, _ := enumValue(liaisonv1.SubjectCategory(0).Descriptor(), s)
	return int32(n)
}

// deliverNotice seals a notice (with the corrected record, for a
// correction) into the recipient's inbox and commits the exchange's entry
// with it; then it withdraws the recipient's unread copies of the releases
// the notice refers to.
func (s *Server) deliverNotice(ctx context.Context, ex *exchange, rel *liaisonv1.Released, n *liaisonv1.ObligationNotice) (int64, error) {
	return s.deliverTrackedNotice(ctx, ex, rel, n, nil)
}

// deliverTrackedNotice is deliverNotice for a notice that may carry a
// required notice (req, if not nil), tracked from the same entry.
func (s *Server) deliverTrackedNotice(ctx context.Context, ex *exchange, rel *liaisonv1.Released, n *liaisonv1.ObligationNotice, req *requiredDelivery) (int64, error) {
	rcpt := ex.entry.Recipients[0].Agency
	if a := s.registry.Load().Agencies[rcpt]; a != nil && a.Via != "" {
		// The peer delivers it before this gateway's entry, which records
		// what was done: its source is not held to it (commitNotice).
		ex.srcHold = nil
		return s.noticeViaPeer(ctx, ex, a, rel, n, req) // the recipient's inbox is its own gateway's
	}
	item := &liaisonv1.SubscribeResponse{Sender: n.GetHolder(), Released: rel, Obligation: n}
	var tracked []audit.Notice
	if req != nil {
		item.Notice, tracked = req.item, []audit.Notice{req.tracked}
	}
	d, err := s.delivery(rcpt, item)
	if err != nil {
		return -1, err
	}
	idx, err := ex.commitNotice(ctx, rcpt, n.GetRefersTo(), tracked, d)
	if err != nil {
		return -1, err
	}
	s.log.InfoContext(ctx, "obligation notice sent", "request_id", ex.reqID, "audit_index", idx, "kind", ex.entry.Detail[audit.DetailNoticeKind],
		"recipient", rcpt, "refers_to", ex.entry.Detail[audit.DetailRefersTo], "reason", n.GetReason())
	s.withdrawUnread(ctx, rcpt, n.GetRefersTo())
	return idx, nil
}

// commitNotice commits the entry of an obligation notice to recipient
// about releases, with its deliveries and the required notice it carries,
// if any (tracked: a correction that moves the release date). A
// withdrawal or an expiry notice also closes the required notices
// (Notify) delivered to recipient with those releases that still await
// its acknowledgement (audit.Withdrawal): their inbox copies are
// withdrawn unread, so nothing is left to read, escalate or call
// overdue, and a later inbox acknowledgement must not record them read.
// So does a correction that carries a required notice of its own: the
// recipient must acknowledge the new date, not the old one. Another
// correction leaves them open: it delivers the record again, and the
// recipient still owes the acknowledgement. A release is the last of its
// chain (a correction is itself a release, which replaced the one it
// corrects): the notices closed are those delivered with any release of
// the chain, the original or a correction (releaseChain), as the
// recipient holds one fact, the latest.
func (ex *exchange) commitNotice(ctx context.Context, recipient string, releases []int64, tracked []audit.Notice, d ...audit.Delivery) (int64, error) {
	c := audit.Change{Notices: tracked, Claims: ex.claims}
	if ex.holdOpen {
		// The releases were read open before: a notice committed since
		// that closed one (a correction of it by another call, say)
		// leaves the recipient holding that one's record, which this
		// notice would not reach.
		c.Open = &audit.OpenHold{Releases: releases, From: ex.openFrom, Ends: ex.entry.Detail[audit.DetailNoticeKind] == audit.NoticeExpiry}
	}
	switch kind := ex.entry.Detail[audit.DetailNoticeKind]; {
	case kind == audit.NoticeWithdrawal, kind == audit.NoticeExpiry, len(tracked) > 0:
		at := ex.entry.Time
		if at.IsZero() {
			at = ex.s.now()
		}
		chain, err := ex.s.releaseChain(ctx, releases)
		if err != nil {
			return -1, err
		}
		c.Withdrawals = []audit.Withdrawal{{Recipient: recipient, Releases: chain, Time: at}}
	}
	if len(c.Notices) == 0 && len(c.Withdrawals) == 0 && len(c.Claims) == 0 && c.Open == nil && ex.srcHold == nil {
		return ex.commit(ctx, d...)
	}
	idx, err := ex.commitState(ctx, c, d...)
	if ce, ok := errors.AsType[*audit.ReleaseClosedError](err); ok && ce.Moved {
		return -1, &stateRefusal{reason: reasonEndMovedMeanwhile, message: fmt.Sprintf(
			"The end of the legal basis of release %d was moved by entry %d (a revision of its dates) while this expiry notice was under way: nothing was sent for it, and it ends when that entry says.",
			ce.Release, ce.By)}
	}
	if ce, ok := errors.AsType[*audit.ReleaseClosedError](err); ok {
		return -1, &stateRefusal{reason: reasonReleaseClosedMeanwhile, message: fmt.Sprintf(
			"Release %d was closed by entry %d (a correction, withdrawal or expiry notice of it) while this notice was under way, and the recipient holds what that entry says now: nothing was sent for it. Call again to reach the release open now.",
			ce.Release, ce.By)}
	}
	if errors.Is(err, audit.ErrConflict) && len(ex.claims) > 0 {
		return -1, &stateRefusal{reason: reasonNoticeSentAlready, message: "this notice was sent already, by another replica"}
	}
	return idx, err
}

// releaseChain returns releases and, for each that is a correction, the
// releases it corrected, back to the first of each chain: a correction
// sent (its entry a release, of kind correction) names in refers_to the
// release it replaced, which may be a correction in turn.
func (s *Server) releaseChain(ctx context.Context, releases []int64) ([]int64, error) {
	out := slices.Clone(releases)
	seen := map[int64]bool{}
	for _, x := range releases {
		seen[x] = true
	}
	for i := 0; i < len(out); i++ {
		e, err := s.entryAt(ctx, out[i], "refers_to")
		if err != nil {
			return nil, err
		}
		n, ok := audit.NoticeOf(out[i], e)
		if e.Action != audit.ActionCorrect || !ok || n.Kind != audit.NoticeCorrection || !audit.ReleasedBy(e) {
			continue
		}
		for _, r := range n.RefersTo {
			if r >= 0 && r < out[i] && !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// reasonReleaseClosedMeanwhile refuses an obligation notice about a
// release that another notice closed after the call read it open
// (commitNotice).
const reasonReleaseClosedMeanwhile = "RELEASE_CLOSED_MEANWHILE"

// reasonEndMovedMeanwhile refuses an expiry notice about a release whose
// end a revision moved while the notice was under way: the basis does not
// end on the day the notice would say.
const reasonEndMovedMeanwhile = "END_MOVED_MEANWHILE"

// reasonNoticeSentAlready ends the exchange of an expiry notice that
// another replica sent meanwhile: the timers' claim on it had lapsed
// (noticeClaimTTL), and the append's own claim (expiryClaims) found it
// taken.
const reasonNoticeSentAlready = "NOTICE_SENT_ALREADY"

// withdrawUnread withdraws a recipient's unread copies of releases. It is
// best effort here: the timers sweep every notice again until it is done.
func (s *Server) withdrawUnread(ctx context.Context, recipient string, releases []int64) {
	if s.cfg.Aftercare == nil {
		return
	}
	n, err := s.cfg.Aftercare.WithdrawUnread(context.WithoutCancel(ctx), recipient, releases)
	if err != nil {
		s.log.WarnContext(ctx, "unread items not withdrawn yet; the timer will", "recipient", recipient, "error", err)
		return
	}
	if n > 0 {
		s.log.InfoContext(ctx, "unread items withdrawn", "recipient", recipient, "items", n)
	}
}

// Withdraw tells every recipient of the releases withdrawn to erase or
// restrict them.
func (s *Server) Withdraw(ctx context.Context, req *liaisonv1.WithdrawRequest) (_ *liaisonv1.WithdrawResponse, err error) {
	call := s.begin(ctx, audit.ActionWithdraw)
	defer call.finish(ctx, &err)
	if _, err := s.aftercare(); err != nil {
		return nil, err
	}
	if err := validSubjectID("subject_id", req.GetSubjectId()); err != nil {
		return nil, err
	}
	recordType := enumName(req.GetRecordType())
	if req.GetRecordType() != liaisonv1.RecordType_RECORD_TYPE_UNSPECIFIED && recordType == "" {
		return nil, invalid("record_type", "must name one of the seven record types, or none for all")
	}
	reason, ok := withdrawalReasons[req.GetReason()]
	if !ok {
		return nil, invalid("reason", "is required: incorrect, unlawfully transmitted or erased at the source")
	}
	ob := req.GetObligation()
	switch ob {
	case liaisonv1.Obligation_OBLIGATION_UNSPECIFIED:
		ob = liaisonv1.Obligation_OBLIGATION_ERASE
	case liaisonv1.Obligation_OBLIGATION_ERASE, liaisonv1.Obligation_OBLIGATION_RESTRICT:
	default:
		return nil, invalid("obligation", "must be erase or restrict")
	}
	if err := validJustification(req.GetJustification(), req.GetSubjectId()); err != nil {
		return nil, err
	}
	if len(req.GetWithdraws()) > maxRecipients {
		return nil, invalid("withdraws", "at most %d releases per call", maxRecipients)
	}
	call.describe(party(call.caller.Agency), policies.Party{}, policies.Input{RecordType: recordType, Justification: req.GetJustification()})
	call.subject = pseudonym.SubjectID(req.GetSubjectId())
	if err := s.pseudonymiseSubject(call); err != nil {
		return nil, err
	}
	// Every entry before the log's size now is read below: each
	// withdrawal's commit checks that no later one closed its release.
	read, err := s.cfg.Audit.Size(ctx)
	if err != nil {
		return nil, err
	}
	originals, err := s.releasesOf(ctx, call.caller.Agency.ID, call.entry.Subject.Pseudonym, recordType, req.GetWithdraws(), "withdraws", true)
	if err != nil {
		return nil, err
	}
	if len(originals) == 0 {
		return nil, &notFoundError{"no release by your agency about this subject is open to withdrawal"}
	}
	call.closed = true
	resp := &liaisonv1.WithdrawResponse{}
	for _, o := range originals {
		res, _ := s.withdrawOne(ctx, req, call.subject, o, reason, ob, read)
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}

// withdrawOne is the exchange of a withdrawal for the recipient of one
// release, which the call read open in the log's entries before read.
func (s *Server) withdrawOne(ctx context.Context, req *liaisonv1.WithdrawRequest, subject pseudonym.SubjectID, o audit.Record,
	reason string, ob liaisonv1.Obligation, read int64) (res *liaisonv1.NoticeResult, err error) {
	ex := s.begin(ctx, audit.ActionWithdraw)
	ex.openFrom, ex.holdOpen = read, true
	orig := o.Entry
	res = &liaisonv1.NoticeResult{Recipient: orig.Recipients[0].Agency, RefersTo: o.Index}
	defer func() {
		ex.finish(ctx, &err)
		noticeResult(ex, res, err)
	}()
	if err := s.describeNotice(ctx, ex, orig, req.GetJustification()); err != nil {
		return res, err
	}
	ex.subject = subject
	ex.setSubjectFromEntry(orig)
	if err := s.pseudonymiseSubject(ex); err != nil {
		return res, err
	}
	e := ex.entry
	e.LegalBasis, e.Conditions, e.PseudonymDomain = orig.LegalBasis, orig.Conditions, orig.PseudonymDomain
	e.Reasons = []string{reason}
	e.Detail = map[string]string{
		audit.DetailNoticeKind: audit.NoticeWithdrawal, audit.DetailRefersTo: strconv.FormatInt(o.Index, 10),
		audit.DetailReason: reason, audit.DetailObligation: obligationNames[ob],
	}
	verb := "erase it"
	if ob == liaisonv1.Obligation_OBLIGATION_RESTRICT {
		verb = "keep it only restricted: mark it, and use it for nothing but what kept it from erasure"
	}
	why := map[string]string{"INCORRECT": "it was incorrect", "UNLAWFULLY_TRANSMITTED": "it should not have been transmitted",
		"ERASED_AT_SOURCE": "it has erased it"}[reason]
	n := s.withdrawalNotice(ex.caller.Agency.ID, orig, o.Index, reason, ob,
		fmt.Sprintf("%s withdrew the %s it released to you (entry %d): %s. You must %s, and acknowledge when done.",
			ex.caller.Agency.ID, strings.ReplaceAll(orig.RecordType, "_", " "), o.Index, why, verb))
	if orig.Outcome != audit.OutcomeDisclose && orig.PseudonymDomain != "" {
		// The recipient knows the person by this pseudonym.
		if ps, err := s.cfg.Pseudonyms.Pseudonym(orig.PseudonymDomain, subject); err == nil {
			n.SubjectPseudonym = ps
		}
	}
	e.Outcome = audit.OutcomeOK
	if err := s.notePassedOn(ctx, ex, o, n); err != nil {
		return res, err
	}
	if _, err := s.deliverNotice(ctx, ex, nil, n); err != nil {
		return res, err
	}
	res.Kind, res.Obligation, res.Reasons = n.Kind, n.Obligation, e.Reasons
	return res, nil
}

// reasonNoticeSuperseded refuses the acknowledgement of an obligation
// notice that a later notice replaced before it was acknowledged.
const reasonNoticeSuperseded = "NOTICE_SUPERSEDED"

// passedOnRefusal refuses the acknowledgement of a correction, withdrawal
// or expiry notice by a recipient that passed the record on in the
// releases open, and has neither corrected nor withdrawn them since.
func passedOnRefusal(open []int64) error {
	return &stateRefusal{reason: "PASSED_ON_NOT_CORRECTED", message: fmt.Sprintf(
		"You passed the record on (%s %s) and have neither corrected nor withdrawn %s since: do that first (Aftercare.Correct or Withdraw), then acknowledge the notice.",
		plural(len(open), "entry", "entries"), joinIndexes(open), plural(len(open), "that release", "those releases"))}
}

// AcknowledgeNotice records what the caller's agency did about a notice.
func (s *Server) AcknowledgeNotice(ctx context.Context, req *liaisonv1.AcknowledgeNoticeRequest) (_ *liaisonv1.AcknowledgeNoticeResponse, err error) {
	ex := s.begin(ctx, audit.ActionAcknowledgeNotice)
	defer ex.finish(ctx, &err)
	s.notePeerForward(ctx, ex, req.GetForwarded()) // a refusal names a peer's pending entry (federation_push.go)
	st, err := s.aftercare()
	if err != nil {
		return nil, err
	}
	if req.GetNoticeIndex() < 0 {
		return nil, invalid("notice_index", "must not be negative")
	}
	done, ok := obligationNames[req.GetDone()]
	if !ok {
		return nil, invalid("done", "is required: what was done (rectify, erase, restrict or retain)")
	}
	if len(req.GetNote()) > maxJustificationLen {
		return nil, invalid("note", "must be at most %d bytes", maxJustificationLen)
	}
	if hasControl(req.GetNote()) {
		return nil, invalid("note", "must be text: no control characters but tab and line breaks")
	}
	ex.detail()[audit.DetailNotice], ex.entry.Detail[audit.DetailDone] = strconv.FormatInt(req.GetNoticeIndex(), 10), done
	index := req.GetNoticeIndex()
	_, fromPeer := peerFromContext(ctx)
	if fromPeer || req.GetForwarded() != nil {
		// A peer gateway forwards its agency's acknowledgement of a notice
		// this gateway sent through it; it names the notice's pending entry.
		if !fromPeer {
			return nil, invalid("forwarded", "only a peer gateway forwards an acknowledgement")
		}
		if index, err = s.forwardedNotice(ctx, index, ex.caller.Agency.ID); err != nil {
			return nil, err
		}
		ex.entry.Detail[audit.DetailNotice] = strconv.FormatInt(index, 10)
	}
	if err := audit.SyncAftercare(ctx, s.cfg.Audit, st); err != nil {
		return nil, err
	}
	ns, err := st.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: index - 1, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("%w: notices: %v", audit.ErrUnavailable, err)
	}
	if len(ns) == 0 || ns[0].Index != index || ns[0].Recipient != ex.caller.Agency.ID {
		return nil, invalid("notice_index", "is not a notice to your agency")
	}
	n := ns[0]
	e := ex.entry
	e.Holder = &audit.Party{Agency: n.Holder}
	e.Recipients = []audit.Party{{Agency: n.Recipient, Kind: ex.caller.Agency.Kind, Jurisdiction: ex.caller.Agency.Jurisdiction}}
	e.Subject = &audit.Subject{Pseudonym: n.Subject}
	e.RecordType, e.Justification = n.RecordType, req.GetNote()
	var got Receipt
	if fromPeer {
		if got, err = s.acceptForward(ctx, ex, req.GetForwarded(), forwardedFacts{actions: []string{audit.ActionAcknowledgeNotice},
			recipient: n.Recipient, holder: n.Holder, recordType: n.RecordType}); err != nil {
			return nil, err
		}
		if got.Entry.Detail[detailPeerNotice] != strconv.FormatInt(req.GetNoticeIndex(), 10) || got.Entry.Detail[audit.DetailDone] != done {
			return nil, invalid("forwarded.receipt", "names an acknowledgement of another notice, or of another deed")
		}
		if got.Entry.Justification != req.GetNote() {
			// Both logs record what the recipient said it did alike.
			return nil, invalid("note", "is not the note the forwarding gateway's pending entry records")
		}
	}
	if n.AckIndex >= 0 {
		return nil, &denial{reason: "ALREADY_ACKNOWLEDGED", message: fmt.Sprintf("notice %d was acknowledged already (entry %d)", n.Index, n.AckIndex), refusal: true, auditIdx: -1}
	}
	if n.SupersededBy >= 0 && !fromPeer {
		// Replaced before it was acknowledged, and withdrawn from the
		// inbox if unread: the later notice is the one to acknowledge.
		// (A forward from the peer gateway is taken: its recipient
		// acknowledged there, and that gateway closes its own copy.)
		return nil, &stateRefusal{reason: reasonNoticeSuperseded, message: fmt.Sprintf(
			"notice %d was replaced by notice %d before it was acknowledged: acknowledge that one", n.Index, n.SupersededBy)}
	}
	if done != n.Obligation && done != audit.ObligationErase {
		return nil, invalid("done", "must be what the notice asked (%s), or erase", n.Obligation)
	}
	var passedOn *audit.PassedOnHold
	if n.Kind == audit.NoticeCorrection || n.Kind == audit.NoticeWithdrawal || n.Kind == audit.NoticeExpiry && n.Obligation == audit.ObligationErase {
		// Done includes what the caller passed on: the log must not say
		// so while a recipient of it still holds the wrong fact, or what
		// must be erased.
		var open []int64
		if open, passedOn, err = s.openPassedOn(ctx, n); err != nil {
			return nil, err
		}
		if len(open) > 0 {
			return nil, passedOnRefusal(open)
		}
	}
	deferred := false
	if !fromPeer {
		// A notice that came from a peer gateway is closed in its log too.
		peer, theirs, err := s.noticePeer(ctx, n.Index)
		switch {
		case errors.Is(err, errPeerNotRegistered):
			// The registry no longer lists the gateway the notice came
			// through as a peer: this gateway cannot forward to it, but
			// the recipient did what the notice asked. The
			// acknowledgement stands here, its entry says why it was
			// not forwarded, and the timers hold the forward until the
			// registry lists that gateway again (forwardNoticeAcks).
			s.log.WarnContext(ctx, "the peer gateway the notice came through is no longer registered: acknowledgement not forwarded",
				"request_id", ex.reqID, "notice", n.Index)
			e.Detail[audit.DetailPeerOutcome], deferred = audit.PeerOutcomePeerNotRegistered, true
			s.fwdRetry.hold("aftercare/" + strconv.FormatInt(n.Index, 10))
		case err != nil:
			return nil, err
		}
		if peer != nil {
			err := s.acknowledgeViaPeer(ctx, ex, peer, theirs, req)
			switch {
			case errors.Is(err, errPeerClaimUnverified):
				// The peer's word alone (an ALREADY_ACKNOWLEDGED without
				// a receipt that holds) does not settle the forward: the
				// acknowledgement stands here, the entry records the claim
				// unverified (detail peer_denial, which makes it deferred:
				// audit.AckOf), and the timers forward it again.
				s.log.WarnContext(ctx, "a peer's answer to a forwarded acknowledgement is unverified: forward deferred", "request_id", ex.reqID,
					"notice", n.Index, "peer", peer.ID, "peer_outcome", e.Detail[audit.DetailPeerOutcome])
				deferred = true
			case errors.Is(err, errPeerOffboarded):
				// This gateway calls an offboarded peer no more: the
				// acknowledgement stands here, its entry says why, and
				// the timers hold the forward until the registry takes
				// the peer back (forwardNoticeAcks).
				s.log.WarnContext(ctx, "the peer gateway is offboarded: acknowledgement not forwarded", "request_id", ex.reqID,
					"notice", n.Index, "peer", peer.ID)
				e.Detail[audit.DetailPeerOutcome], deferred = audit.PeerOutcomePeerOffboarded, true
				s.fwdRetry.hold("aftercare/" + strconv.FormatInt(n.Index, 10))
			case peerDropsUs(ex, err):
				// The peer gateway refused the forward saying that its
				// registry no longer lists, or offboards, this gateway:
				// its word about this gateway, not about the notice. The
				// acknowledgement stands here, as for a peer that does
				// not answer; its entry records the peer's word, and the
				// timers try the forward again (forwardNoticeAcks).
				s.log.WarnContext(ctx, "the peer gateway refused the forward, saying it no longer lists or has offboarded this gateway: acknowledgement deferred",
					"request_id", ex.reqID, "notice", n.Index, "peer", peer.ID, "error", err)
				e.Detail[audit.DetailPeerOutcome], deferred = audit.PeerOutcomeDeferred, true
			case peerDropsAgency(ex, err):
				// The peer gateway refused the forward saying that its
				// registry no longer lists, or offboards, the recipient
				// agency: its word about the agency, not about the
				// notice. So too: deferred, with the peer's word.
				s.log.WarnContext(ctx, "the peer gateway refused the forward, saying it no longer lists or has offboarded the recipient agency: acknowledgement deferred",
					"request_id", ex.reqID, "notice", n.Index, "peer", peer.ID, "error", err)
				e.Detail[audit.DetailPeerOutcome], deferred = audit.PeerOutcomeDeferred, true
			case err != nil && !peerAway(ctx, err):
				return nil, err
			case err != nil:
				// The peer does not answer: the acknowledgement stands
				// here, and the timers forward it (forwardNoticeAcks).
				s.log.WarnContext(ctx, "peer gateway did not answer: acknowledgement deferred", "request_id", ex.reqID,
					"notice", n.Index, "peer", peer.ID, "error", err)
				e.Detail[audit.DetailPeerOutcome], deferred = audit.PeerOutcomeDeferred, true
			}
		}
	} else if _, err := forwardedAckTime(e, got); err != nil {
		return nil, err
	}
	e.Outcome = audit.OutcomeOK
	// The checks above read the projection; the commit checks again, in
	// the store's transaction, that nobody acknowledged the notice
	// meanwhile (a concurrent call, on this replica or another), and
	// that no notice committed meanwhile superseded it (a correction,
	// withdrawal or expiry notice of it: the projection may not have
	// read it yet). A forward from the peer gateway is taken, as above.
	// It also checks that the caller passed nothing on, of what it must
	// pass the correction on to, after openPassedOn read the log
	// (passedOn: an onward Disclose committed meanwhile).
	ack, _ := audit.AckOf(-1, e)
	idx, err := ex.commitState(ctx, audit.Change{NoticeAcks: []audit.Ack{ack}, AckSuperseded: fromPeer, PassedOn: passedOn})
	if se, ok := errors.AsType[*audit.NoticeSupersededError](err); ok {
		return nil, &stateRefusal{reason: reasonNoticeSuperseded, message: fmt.Sprintf(
			"notice %d was replaced by notice %d before it was acknowledged: acknowledge that one", n.Index, se.By)}
	}
	if pe, ok := errors.AsType[*audit.PassedOnError](err); ok {
		return nil, passedOnRefusal(pe.Releases)
	}
	if errors.Is(err, audit.ErrConflict) {
		msg := fmt.Sprintf("notice %d was acknowledged meanwhile", n.Index)
		if ns, err := st.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, After: index - 1, Limit: 1}); err == nil && len(ns) == 1 && ns[0].AckIndex >= 0 {
			msg += fmt.Sprintf(" (entry %d)", ns[0].AckIndex)
		}
		return nil, &denial{reason: "ALREADY_ACKNOWLEDGED", message: msg, refusal: true, auditIdx: -1}
	}
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "obligation notice acknowledged", "request_id", ex.reqID, "audit_index", idx, "notice", n.Index,
		"recipient", n.Recipient, "done", done)
	resp := &liaisonv1.AcknowledgeNoticeResponse{AuditIndex: idx, Deferred: deferred}
	if fromPeer {
		if resp.Receipt, err = s.receipt(ctx, idx, n.Recipient, nil); err != nil {
			s.log.ErrorContext(ctx, "receipt for a peer failed", "audit_index", idx, "error", err)
		}
	}
	return resp, nil
}

// ListObligationNotices lists the notices sent, open ones by default, for
// auditors. The read is logged, once done and before anything is returned
// (readEnded), and so is a refused one (readRefused).
func (s *Server) ListObligationNotices(ctx context.Context, req *liaisonv1.ListObligationNoticesRequest) (*liaisonv1.ListObligationNoticesResponse, error) {
	c, err := s.requireRole(ctx, RoleAuditor)
	if err != nil {
		return nil, s.readRefused(ctx, c, opListObligationNotices, err)
	}
	limit, err := pageLimit(req.GetLimit())
	if err != nil {
		return nil, s.readRefused(ctx, c, opListObligationNotices, err)
	}
	if err := checkAgencyFilter("recipient", req.GetRecipient()); err != nil {
		return nil, s.readRefused(ctx, c, opListObligationNotices, err)
	}
	if req.GetStart() < 0 {
		return nil, s.readRefused(ctx, c, opListObligationNotices, invalid("start", "must not be negative"))
	}
	f := audit.SentNoticeFilter{IncludeAcked: req.GetIncludeAcknowledged() || req.GetForwardPendingOnly(), ForwardDue: req.GetForwardPendingOnly(),
		Recipient: req.GetRecipient(), After: req.GetStart() - 1, Limit: limit}
	if k := req.GetKind(); k != liaisonv1.ObligationKind_OBLIGATION_KIND_UNSPECIFIED {
		for name, v := range noticeKinds {
			if v == k {
				f.Kind = name
			}
		}
		if f.Kind == "" {
			return nil, s.readRefused(ctx, c, opListObligationNotices, invalid("kind", "is not a notice kind"))
		}
	}
	if f.SentBefore, err = filterBefore("sent_before", req.GetSentBefore()); err != nil {
		return nil, s.readRefused(ctx, c, opListObligationNotices, err)
	}
	detail := map[string]string{}
	for k, v := range map[string]string{"recipient": f.Recipient, "kind": f.Kind} {
		if v != "" {
			detail[k] = v
		}
	}
	if f.IncludeAcked {
		detail["include_acknowledged"] = "true"
	}
	if f.ForwardDue {
		detail["forward_pending_only"] = "true"
	}
	if req.GetStart() > 0 {
		detail["start"] = strconv.FormatInt(req.GetStart(), 10)
	}
	if !f.SentBefore.IsZero() {
		detail["sent_before"] = f.SentBefore.UTC().Format(time.RFC3339Nano)
	}
	if req.GetLimit() != 0 {
		detail["limit"] = strconv.Itoa(int(req.GetLimit()))
	}
	ns, err := s.sentNotices(ctx, f)
	if err := s.readEnded(ctx, c, opListObligationNotices, detail, err); err != nil {
		return nil, err
	}
	resp := &liaisonv1.ListObligationNoticesResponse{}
	for _, n := range ns {
		ln := &liaisonv1.ListedNotice{
			AuditIndex: n.Index, Kind: noticeKinds[n.Kind], Sent: timestamppb.New(n.Sent), Recipient: n.Recipient, Holder: n.Holder,
			RefersTo: n.RefersTo, Reason: n.Reason, Obligation: obligationEnum(n.Obligation), SubjectPseudonym: n.Subject,
		}
		if n.AckIndex >= 0 {
			ln.Acknowledged, ln.AcknowledgementIndex = timestamppb.New(n.AckTime), n.AckIndex
		}
		ln.ForwardPending = n.ForwardDue
		if n.ForwardDue {
			peer, _, err := s.noticePeer(ctx, n.Index)
			ln.ForwardPendingReason = s.forwardWait(ctx, n.AckIndex, peer, peer != nil, err)
		}
		if n.SupersededBy >= 0 {
			ln.SupersededBy = n.SupersededBy
		}
		resp.Notices = append(resp.Notices, ln)
	}
	return resp, nil
}

// sentNotices brings the aftercare state up to the log and reads the
// notices sent that f selects.
func (s *Server) sentNotices(ctx context.Context, f audit.SentNoticeFilter) ([]audit.SentNotice, error) {
	st, err := s.aftercare()
	if err != nil {
		return nil, err
	}
	if err := audit.SyncAftercare(ctx, s.cfg.Audit, st); err != nil {
		return nil, err
	}
	ns, err := st.SentNotices(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("%w: notices: %v", audit.ErrUnavailable, err)
	}
	return ns, nil
}

// outcomeRank orders outcomes from most to least revealing, as the policy
// contract does.
var outcomeRank = map[string]int{
	audit.OutcomeDisclose: 0, audit.OutcomePseudonymise: 1, audit.OutcomeHitOnly: 2, audit.OutcomeDeny: 3,
}
