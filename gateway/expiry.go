package gateway

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Legal bases that end. Every release records its basis's valid_until; the
// aftercare store tracks the open ones (a projection of the log). When a
// basis has ended, the one replica holding the timer's lease tells each
// recipient once (one expiry notice per recipient, holder, subject,
// basis and what the policy says it may keep of each release), and
// withdraws what it has not read. ReviseExpiry moves an expiry when the dates a basis ends with
// change. Everything dated takes the gateway's clock (Config.Now); leases
// take the store's.

const (
	// aftercareLease names the lease of the replica that runs the timers
	// (for Config.TimerLease).
	aftercareLease = "aftercare/timers"
	// noticeClaimTTL is how long a replica holds the claim on sending one
	// expiry notice: long enough to append it, short enough that a replica
	// that dies while holding it does not lose the notice.
	noticeClaimTTL = 2 * time.Minute
	// duePage is how many releases a page of the store's holds, and caps
	// the due releases one pass handles; the next pass takes the rest.
	duePage = 500
	// dueScanPages caps the pages one pass reads (dueReleases): the next
	// pass reads on from where it stopped.
	dueScanPages = 20
)

// timerCaller is who the log names as acting when the gateway's timers
// send a notice: the gateway itself.
var timerCaller = authn.Caller{Agency: &authn.Agency{ID: "liaison"}, Officer: authn.Officer{ID: "aftercare-timer"}}

// RunAftercare makes one pass of the aftercare timers if this replica
// holds (or takes) their lease: it brings the projection of the log up to
// date, forwards the acknowledgements of notices from peer gateways that
// were made while those did not answer (forwardNoticeAcks), sends the
// expiry notices that are due and withdraws the unread items every notice
// obliges. Run calls it every Config.AftercareInterval;
// on another replica's watch it does nothing. A notice is sent once,
// whatever the replicas do: each is claimed before it is sent and checked
// against the log after the claim.
func (s *Server) RunAftercare(ctx context.Context) error {
	st, err := s.aftercare()
	if err != nil {
		return nil // nothing to run on a gateway without aftercare state
	}
	if !s.timerMu.TryLock() {
		return nil // a pass is running in this process
	}
	defer s.timerMu.Unlock()
	held, err := st.AcquireLease(ctx, aftercareLease, s.holderID, s.cfg.TimerLease)
	if err != nil {
		return fmt.Errorf("%w: timer lease: %v", audit.ErrUnavailable, err)
	}
	if !held {
		// The replica that holds the lease forwards what this one's
		// passes left waiting, and reports it.
		s.awaitingPeer.set(kindObligationNotice, awaiting{})
		return nil
	}
	if err := audit.SyncAftercare(ctx, s.cfg.Audit, st); err != nil {
		return err
	}
	errs := []error{s.forwardNoticeAcks(ctx, st, s.now())}
	due, err := s.dueReleases(ctx, st, s.policy.Current(), s.now())
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: due releases: %v", audit.ErrUnavailable, err))
	}
	for _, g := range expiryGroups(due) {
		if err := s.expire(ctx, st, g); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.sweep(ctx, st))
	return errors.Join(errs...)
}

// dueReleases returns the releases whose basis has ended at now, for one
// pass of the timers. A basis has ended when its last day has passed where
// its law is (policies.Engine.BasisEnded): the store is asked for the
// releases whose last day is before the latest day it is in any of the
// laws' time zones, a page at a time by index, and the pass keeps those
// whose own law's day has come. (One that has not is skipped until it
// has: in Copenhagen a day ends an hour or two before it does in UTC.)
// It reads on past pages of releases skipped so, which would otherwise
// keep the due ones after them waiting until their own day came, up to
// dueScanPages pages or a page of due releases; the next pass reads on
// from where this one stopped (Server.dueNext), and from the first once
// one has read to the last. A group of due releases that lies on both
// sides of where a pass stops goes out whole all the same, in one notice
// (expire, wholeGroup). The caller holds timerMu. What it found
// before a failure of the store is returned with the error.
func (s *Server) dueReleases(ctx context.Context, st audit.AftercareStore, eng *policies.Engine, now time.Time) ([]audit.TrackedRelease, error) {
	day, size := eng.LatestDay(now), cmp.Or(s.duePage, duePage)
	var due []audit.TrackedRelease
	next := s.dueNext
	for range dueScanPages {
		page, err := st.DueReleases(ctx, day, next-1, size)
		if err != nil {
			return due, err
		}
		for _, r := range page {
			if eng.BasisEnded(r.LegalBasis, r.ValidUntil, now) {
				due = append(due, r)
			}
		}
		if len(page) < size {
			next = 0 // read to the last: the next pass starts at the first
			break
		}
		next = page[len(page)-1].Index + 1
		if len(due) >= size {
			break
		}
	}
	s.dueNext = next
	return due, nil
}

// expiryGroups groups due releases into notices: one per recipient,
// holder, subject, basis and end date, in log order.
func expiryGroups(due []audit.TrackedRelease) [][]audit.TrackedRelease {
	var keys []string
	groups := map[string][]audit.TrackedRelease{}
	for _, r := range due {
		k := groupKey(r)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([][]audit.TrackedRelease, len(keys))
	for i, k := range keys {
		out[i] = groups[k]
	}
	return out
}

// wholeGroup is g, the due releases of one group (groupKey) that a pass
// read, with the group's other open releases: one indexed query of the
// store's, for the open releases about the subject by the holder, of which
// it keeps those of the same recipient, basis and end date. Those are due
// as g's are (whether a basis has ended depends on the basis and its end
// date alone). By index.
func wholeGroup(ctx context.Context, st audit.AftercareStore, g []audit.TrackedRelease) ([]audit.TrackedRelease, error) {
	rs, err := st.OpenReleases(ctx, g[0].Subject, g[0].Holder)
	if err != nil {
		return g, err
	}
	k, out := groupKey(g[0]), slices.Clone(g)
	have := map[int64]bool{}
	for _, r := range g {
		have[r.Index] = true
	}
	for _, r := range rs {
		if groupKey(r) == k && !have[r.Index] {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b audit.TrackedRelease) int { return cmp.Compare(a.Index, b.Index) })
	return out, nil
}

func groupKey(r audit.TrackedRelease) string {
	return strings.Join([]string{r.Recipient, r.Holder, r.Subject, r.LegalBasis, r.ValidUntil}, "\x00")
}

// expire sends one expiry notice, unless another replica sent it or is
// sending it.
func (s *Server) expire(ctx context.Context, st audit.AftercareStore, g []audit.TrackedRelease) error {
	sum := sha256.Sum256([]byte(groupKey(g[0])))
	claim := "aftercare/expiry/" + hex.EncodeToString(sum[:16])
	got, err := st.AcquireLease(ctx, claim, s.holderID, noticeClaimTTL)
	if err != nil || !got {
		return err
	}
	// Under the claim, the log decides: a notice another replica sent has
	// closed the releases by now. What the log holds from read on (a
	// withdrawal, a correction, a revision that moved the end) the store
	// checks when the notice commits (expiryNotice).
	read, err := s.cfg.Audit.Size(ctx)
	if err != nil {
		return err
	}
	if err := audit.SyncAftercare(ctx, s.cfg.Audit, st); err != nil {
		return err
	}
	// The whole group, as the store holds it now: a pass reads the due
	// releases a page at a time from where the last one stopped, and
	// stops at its bound (dueReleases), so releases of this group may lie
	// beyond where it stopped or before where it started. They go in this
	// notice, not in one of their own a pass later.
	g, err = wholeGroup(ctx, st, g)
	if err != nil {
		return fmt.Errorf("%w: open releases: %v", audit.ErrUnavailable, err)
	}
	var open []int64
	for _, r := range g {
		cur, ok, err := st.TrackedRelease(ctx, r.Index)
		if err != nil {
			return fmt.Errorf("%w: tracked release: %v", audit.ErrUnavailable, err)
		}
		if ok && cur.ClosedBy < 0 && cur.ValidUntil == r.ValidUntil {
			open = append(open, r.Index)
		}
	}
	if len(open) == 0 {
		return nil
	}
	end, dateErr := time.Parse(time.DateOnly, g[0].ValidUntil) // a bad date fails the notice's exchange (expiryNotice)
	// What the recipient may keep is decided for each release: the
	// recipient's retention rule may cover one record type or purpose and
	// not another released under the same basis. The releases with the
	// same answer share one notice; each answer has its own.
	eng := s.policy.Current()
	type notice struct {
		first    *audit.Entry
		releases []int64
		ret      policies.Retention
	}
	var keys []string
	notices := map[string]*notice{}
	for _, x := range open {
		e, err := s.entryAt(ctx, x, "release")
		if err != nil {
			return err
		}
		ret := policies.Retention{Obligation: policies.ObligationErase}
		if dateErr == nil {
			ret = s.retentionOf(ctx, eng, e, x, end)
		}
		// The same obligation, rule and reasons: the entry logs the answer
		// for each release it names. And, as the entry copies the first
		// one's conditions, a release restricted under LED Art. 15 (left
		// out of access reports) shares no notice with one that is not.
		k := []string{strconv.FormatBool(audit.Restricted(e)), ret.Obligation}
		if r := ret.Rule; r != nil {
			k = append(k, r.ID, r.Citation, r.RetainUntil)
		}
		for _, r := range ret.Reasons {
			k = append(k, r.Code)
		}
		key := strings.Join(k, "\x00")
		if n, ok := notices[key]; ok {
			n.releases = append(n.releases, x)
			continue
		}
		keys = append(keys, key)
		notices[key] = &notice{first: e, releases: []int64{x}, ret: ret}
	}
	// The timer knows the person only by the audit pseudonym: the notice
	// names the releases, by which the recipient finds what it holds.
	var errs []error
	for _, k := range keys {
		n := notices[k]
		errs = append(errs, s.expiryNotice(authn.NewContext(ctx, timerCaller), n.first, n.releases, g[0].ValidUntil, eng, n.ret, read))
	}
	return errors.Join(errs...)
}

// retentionOf is what the policy lets the recipient of release e (at
// index) keep once its basis has ended on end: its answer as of the first
// day the basis no longer covers (that day written as its midnight UTC,
// from which retain_days count; the basis ended at its start where its
// law is), or erase if it gives none.
func (s *Server) retentionOf(ctx context.Context, eng *policies.Engine, e *audit.Entry, index int64, end time.Time) policies.Retention {
	ret := policies.Retention{Obligation: policies.ObligationErase}
	in, ok := decidedInput(e)
	if !ok {
		return ret
	}
	in.Time = end.AddDate(0, 0, 1).UTC().Format(time.RFC3339)
	r, err := eng.Retention(ctx, in)
	if err != nil {
		s.log.WarnContext(ctx, "retention undecided; the recipient must erase", "release", index, "error", err)
		ret.Reasons = []policies.Reason{{Code: "RETENTION_UNDECIDED", Message: "The policy could not say what may be kept, so it must be erased."}}
		return ret
	}
	return r
}

// expiryNotice is the exchange that sends one expiry notice. Its entry
// names the gateway as requester and the release's holder, recipient,
// subject, basis and conditions. The releases were read open, ending on
// validUntil, in the log's entries before read (-1: not checked): one
// that a notice closed since, or whose end a revision moved since, is
// not told of an end (RELEASE_CLOSED_MEANWHILE, END_MOVED_MEANWHILE;
// commitNotice), as the store checks in the transaction that appends it.
func (s *Server) expiryNotice(ctx context.Context, orig *audit.Entry, releases []int64, validUntil string, eng *policies.Engine,
	ret policies.Retention, read int64) (err error) {
	ex := s.begin(ctx, audit.ActionExpire)
	defer ex.finish(ctx, &err)
	ex.openFrom, ex.holdOpen = read, read >= 0
	if _, err := time.Parse(time.DateOnly, validUntil); err != nil {
		return failed("EXPIRY_DATE_INVALID", err)
	}
	e := ex.entry
	e.Holder, e.Recipients, e.Subject = orig.Holder, orig.Recipients, orig.Subject
	e.RecordType, e.Purpose, e.Case = orig.RecordType, orig.Purpose, orig.Case
	e.Conditions, e.PseudonymDomain = orig.Conditions, orig.PseudonymDomain
	if lb := orig.LegalBasis; lb != nil {
		// The basis as it ended: a revision may have moved its end.
		e.LegalBasis = &audit.LegalBasis{ID: lb.ID, Citation: lb.Citation, ValidUntil: validUntil}
	}
	e.Detail = map[string]string{
		audit.DetailNoticeKind: audit.NoticeExpiry, audit.DetailRefersTo: audit.FormatIndexes(releases),
		audit.DetailReason: reasonExpired, audit.DetailObligation: audit.ObligationErase,
	}
	// What the recipient keeps is the policy's answer (retentionOf), the
	// same for every release the notice names.
	e.PolicyRevision = eng.Revision()
	e.Reasons = []string{reasonExpired}
	for _, r := range ret.Reasons {
		e.Reasons = append(e.Reasons, r.Code)
	}
	ob := liaisonv1.Obligation_OBLIGATION_ERASE
	what := "erase it"
	n := &liaisonv1.ObligationNotice{
		Kind: liaisonv1.ObligationKind_OBLIGATION_KIND_EXPIRY, RefersTo: releases, Reason: reasonExpired,
		Holder: orig.Holder.Agency, RecordType: recordTypeEnum(orig.RecordType), PseudonymDomain: orig.PseudonymDomain,
	}
	if ret.Obligation == policies.ObligationRetain && ret.Rule != nil {
		ob = liaisonv1.Obligation_OBLIGATION_RETAIN
		e.Detail[audit.DetailObligation] = audit.ObligationRetain
		e.Detail[audit.DetailRetention] = ret.Rule.ID
		e.Detail[audit.DetailRetainUntil] = ret.Rule.RetainUntil
		n.Retention = &liaisonv1.RetentionRule{Id: ret.Rule.ID, Citation: ret.Rule.Citation, RetainUntil: ret.Rule.RetainUntil, Assumption: ret.Rule.Assumption}
		what = fmt.Sprintf("keep it only under %s, restricted to that use, and erase it by %s", ret.Rule.Citation, ret.Rule.RetainUntil)
	}
	n.Obligation = ob
	if lb := e.LegalBasis; lb != nil {
		n.LegalBasis = &liaisonv1.LegalBasis{Id: lb.ID, Citation: lb.Citation, ValidUntil: lb.ValidUntil}
		n.Message = fmt.Sprintf("The legal basis %s (%s) under which %s released this to you (entries %s) ended on %s: %s, and acknowledge when done.",
			lb.ID, lb.Citation, orig.Holder.Agency, audit.FormatIndexes(releases), validUntil, what)
	}
	if ob == liaisonv1.Obligation_OBLIGATION_ERASE {
		// An erasure reaches those it was passed on to, as a withdrawal
		// does (GDPR Art. 19, LED Art. 16(6)).
		if err := s.noteExpiryPassedOn(ctx, ex, releases, n); err != nil {
			return err
		}
	}
	e.Outcome = audit.OutcomeOK
	ex.claims = expiryClaims(releases, validUntil, s.now())
	_, err = s.deliverNotice(ctx, ex, nil, n)
	return err
}

// expiryClaims are the ids an expiry notice takes with its entry, one per
// release it names and the date the release's basis ended: the timers'
// claim (expire) keeps replicas from sending one notice twice while it
// holds, and these keep a replica that stalled past it, after it read
// the log, from sending the notice another replica has sent since.
func expiryClaims(releases []int64, validUntil string, now time.Time) []audit.Claim {
	out := make([]audit.Claim, 0, len(releases))
	for _, r := range releases {
		out = append(out, audit.Claim{
			ID:      sha256.Sum256([]byte("liaison/expiry\x00" + strconv.FormatInt(r, 10) + "\x00" + validUntil)),
			Expires: now.Add(expiryClaimTTL),
		})
	}
	return out
}

// expiryClaimTTL is how long the claim of an expiry notice is kept: far
// longer than any replica stalls, and by then the log has closed the
// release.
const expiryClaimTTL = 30 * 24 * time.Hour

// noteExpiryPassedOn puts in an expiry notice that obliges erasure the
// recipient's own open releases that passed on the record of any of the
// releases it is about, and says what the recipient must do about them.
func (s *Server) noteExpiryPassedOn(ctx context.Context, ex *exchange, releases []int64, n *liaisonv1.ObligationNotice) error {
	rs, err := s.records(ctx, releases)
	if err != nil {
		return err
	}
	if n.PassedOn, err = s.passedOn(ctx, ex.entry.Recipients[0].Agency, ex.entry.Subject.Pseudonym, rs...); err != nil || len(n.PassedOn) == 0 {
		return err
	}
	n.Message += fmt.Sprintf(" You passed it on (%s %s): withdraw %s too (Aftercare.Withdraw, reason ERASED_AT_SOURCE), so that their recipients learn of it, before you acknowledge.",
		plural(len(n.PassedOn), "entry", "entries"), joinIndexes(n.PassedOn), plural(len(n.PassedOn), "that release", "those releases"))
	return nil
}

// sweep withdraws the unread items every notice obliges, until each is
// done (the senders did it already, unless they failed midway).
func (s *Server) sweep(ctx context.Context, st audit.AftercareStore) error {
	ns, err := st.SentNotices(ctx, audit.SentNoticeFilter{IncludeAcked: true, Unswept: true, After: -1, Limit: duePage})
	if err != nil {
		return fmt.Errorf("%w: notices: %v", audit.ErrUnavailable, err)
	}
	for _, n := range ns {
		if _, err := st.WithdrawUnread(ctx, n.Recipient, n.RefersTo); err != nil {
			return fmt.Errorf("%w: withdraw unread: %v", audit.ErrUnavailable, err)
		}
		if err := st.MarkSwept(ctx, n.Index); err != nil {
			return fmt.Errorf("%w: mark swept: %v", audit.ErrUnavailable, err)
		}
	}
	return nil
}

// ReviseExpiry decides the caller's open releases about a subject again
// with the subject's new dates, and moves each expiry that changed.
func (s *Server) ReviseExpiry(ctx context.Context, req *liaisonv1.ReviseExpiryRequest) (_ *liaisonv1.ReviseExpiryResponse, err error) {
	call := s.begin(ctx, audit.ActionReviseExpiry)
	defer call.finish(ctx, &err)
	st, err := s.aftercare()
	if err != nil {
		return nil, err
	}
	if _, fromPeer := peerFromContext(ctx); fromPeer || req.GetForwarded() != nil {
		s.notePeerForward(ctx, call, req.GetForwarded()) // a refusal names the peer's pending entry (federation_push.go)
		return s.reviseFromPeer(ctx, call, st, req)      // a peer gateway moves the end of a release it made
	}
	if err := validSubjectID("subject_id", req.GetSubjectId()); err != nil {
		return nil, err
	}
	if err := validSubject(req.GetSubject(), req.GetSubjectId()); err != nil {
		return nil, err
	}
	if err := validJustification(req.GetJustification(), req.GetSubjectId()); err != nil {
		return nil, err
	}
	call.describe(party(call.caller.Agency), policies.Party{}, policies.Input{Justification: req.GetJustification()})
	call.subject = pseudonym.SubjectID(req.GetSubjectId())
	call.setSubject(req.GetSubject())
	if err := s.pseudonymiseSubject(call); err != nil {
		return nil, err
	}
	// Every entry before read is in what the projection says is open;
	// one after it that closes a release moved here is checked when the
	// revision commits (reviseOne).
	read, err := s.cfg.Audit.Size(ctx)
	if err != nil {
		return nil, err
	}
	if err := audit.SyncAftercare(ctx, s.cfg.Audit, st); err != nil {
		return nil, err
	}
	open, err := st.OpenReleases(ctx, call.entry.Subject.Pseudonym, call.caller.Agency.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: open releases: %v", audit.ErrUnavailable, err)
	}
	// Releases to agencies behind peer gateways: their gateways track them.
	via, unsure, err := s.viaReleases(ctx, call.caller.Agency.ID, call.entry.Subject.Pseudonym)
	if err != nil {
		return nil, err
	}
	open = append(open, via...)
	slices.SortFunc(open, func(a, b audit.TrackedRelease) int { return cmp.Compare(a.Index, b.Index) })
	if len(open) == 0 {
		return nil, &notFoundError{"no open release by your agency about this subject rests on a legal basis that ends"}
	}
	call.closed = true
	resp := &liaisonv1.ReviseExpiryResponse{}
	for _, r := range open {
		res, _ := s.reviseOne(ctx, req, call.subject, r, unsure[r.Index], read)
		resp.Releases = append(resp.Releases, res)
	}
	return resp, nil
}

// decidedInput is the policy input a tracked release was decided on. A
// correction is decided as what it is, the holder disclosing the record to
// its recipient (correctOne), and is decided again so, when its expiry is
// revised or its basis ends.
func decidedInput(e *audit.Entry) (policies.Input, bool) {
	if e.Action != audit.ActionCorrect {
		return InputFromEntry(e)
	}
	d := *e
	d.Action = "disclose"
	return InputFromEntry(&d)
}

// reviseOne decides one release again as of now with the new dates: if
// the same basis applies and ends on another day, the expiry moves. For a
// release behind a peer gateway whose last forwarded revision has no
// answer here (peerUnsure), an unchanged date is forwarded too, so that
// the peer holds what this log says. The release was read open in the
// log's entries before read: an expiry notice, correction or withdrawal
// that closed it since leaves its end where that notice put it, and a
// move is refused (RELEASE_CLOSED_MEANWHILE), checked in the transaction
// that appends the revision.
func (s *Server) reviseOne(ctx context.Context, req *liaisonv1.ReviseExpiryRequest, subject pseudonym.SubjectID, r audit.TrackedRelease,
	peerUnsure bool, read int64) (res *liaisonv1.RevisedExpiry, err error) {
	ex := s.begin(ctx, audit.ActionReviseExpiry)
	res = &liaisonv1.RevisedExpiry{ReleaseIndex: r.Index, Recipient: r.Recipient, LegalBasis: r.LegalBasis,
		ValidUntilBefore: r.ValidUntil, ValidUntil: r.ValidUntil}
	defer func() {
		ex.finish(ctx, &err)
		res.AuditIndex = ex.index
		if err != nil {
			res.Reasons = slices.Clone(ex.entry.Reasons)
		}
	}()
	orig, err := s.entryAt(ctx, r.Index, "release")
	if err != nil {
		return res, err
	}
	in, ok := decidedInput(orig)
	if !ok {
		return res, failed("RELEASE_NOT_DECIDED", errors.New("gateway: the release records no policy decision"))
	}
	// The release decided again, as of now, with the new dates and the
	// case as it is now (as a correction is, describeNotice): a party that
	// has left the case since keeps no basis the case gave it, and a case
	// since closed is no case. The entry names the caller who revised it.
	asReleased := in.Case
	if orig.Case != nil {
		c, err := s.caseByID(ctx, orig.Case.ID)
		if err != nil {
			return res, err
		}
		in.Case = nil
		if c != nil && c.Status != audit.CaseClosed {
			in.Case = policyCase(c, in.Requester.Agency)
		}
	}
	in.Time = ex.in.Time
	ex.in = in
	ex.subject = subject
	ex.setSubject(req.GetSubject())
	if err := s.pseudonymiseSubject(ex); err != nil {
		return res, err
	}
	e := ex.entry
	e.Holder, e.Recipients, e.RecordType, e.Purpose = orig.Holder, orig.Recipients, orig.RecordType, orig.Purpose
	e.Case = nil
	if c := in.Case; c != nil {
		e.Case = &audit.Case{ID: c.ID, Members: c.Members, Lead: c.Lead}
	}
	e.Justification = req.GetJustification()
	e.Detail = map[string]string{audit.DetailRelease: strconv.FormatInt(r.Index, 10), audit.DetailValidBefore: r.ValidUntil}
	dec, derr := s.decide(ctx, ex)
	var dn *denial
	unchanged := false
	if errors.As(derr, &dn) && r.ValidUntil != "" {
		// Today's law refuses it: perhaps because, with the new dates, the
		// basis has already ended. Decided again as of the release itself
		// (in the case as it was then), the basis gives its real last day;
		// if that is earlier than the one tracked, the end moves back (into
		// the past, and the timers send the expiry notice at their next
		// pass). A later day moves nothing: what the release's time allowed
		// extends no basis today refuses.
		first, firstEntry, asOf := ex.in, *e, ex.in
		asOf.Time, asOf.Case = orig.Time.UTC().Format(time.RFC3339Nano), asReleased
		ex.in = asOf
		if d, err := s.decide(ctx, ex); err == nil && d.LegalBasis != nil && d.LegalBasis.ID == r.LegalBasis &&
			d.LegalBasis.ValidUntil != "" && d.LegalBasis.ValidUntil < r.ValidUntil {
			dec, derr, dn = d, nil, nil
			e.Detail[audit.DetailDecidedAsOf] = asOf.Time
			e.Case = orig.Case
			// Decided in the case as it was then, it rests on no case
			// as it is now: it only brings the end forward.
			ex.unheld = true
		} else {
			// The refusal stands, as first decided (decide sets the
			// entry's decision fields only, not its detail).
			ex.in, *e = first, firstEntry
		}
	}
	switch {
	case errors.As(derr, &dn):
		res.Reasons = slices.Clone(e.Reasons)
	case derr != nil:
		return res, derr
	case dec.LegalBasis == nil || dec.LegalBasis.ID != r.LegalBasis || dec.LegalBasis.ValidUntil == "":
		e.Reasons = append(e.Reasons, "BASIS_CHANGED")
		res.Reasons = slices.Clone(e.Reasons)
	case dec.LegalBasis.ValidUntil == r.ValidUntil:
		e.Reasons = []string{"UNCHANGED"}
		res.Reasons = e.Reasons
		unchanged = true
	default:
		res.ValidUntil, res.Moved = dec.LegalBasis.ValidUntil, true
	}
	// A revision releases nothing: the decision's plan is not a disclosure.
	e.Outcome, e.FieldPlan, e.FieldsDisclosed = audit.OutcomeOK, nil, nil
	e.Detail[audit.DetailValidUntil] = res.ValidUntil
	e.Detail[audit.DetailMoved] = strconv.FormatBool(res.Moved)
	if (res.Moved || unchanged && peerUnsure) && audit.RecipientBehindPeer(orig) {
		// The recipient's gateway tracks the expiry: it moves there, or
		// nowhere. The pending entry names the date it is to hold.
		e.Detail[audit.DetailMoved] = "true"
		holds, err := s.reviseViaPeer(ctx, ex, orig)
		switch {
		case err != nil || !holds:
			res.Moved, res.ValidUntil, res.Reasons = false, r.ValidUntil, slices.Clone(e.Reasons)
			e.Detail[audit.DetailMoved], e.Detail[audit.DetailValidUntil] = "false", r.ValidUntil
		case !res.Moved:
			e.Detail[audit.DetailMoved] = "false" // unchanged here; the peer holds that date too now
		}
		if err != nil {
			return res, err
		}
	}
	if !res.Moved || res.ValidUntil < r.ValidUntil {
		// A revision that moves nothing, or brings the end forward, lets
		// the recipient keep nothing longer: like a correction or a
		// withdrawal (describeNotice), it records what is true of a
		// release already made however the case stands when it commits,
		// so a case closed, or a party that left it, since the case was
		// read does not refuse it. One that moves the end later rests on
		// the case as a disclosure in it does (holds, cases.go).
		ex.unheld = true
	}
	if res.Moved && !audit.RecipientBehindPeer(orig) {
		// Tracked here: the timers may have ended it meanwhile.
		_, err := ex.commitState(ctx, audit.Change{Open: &audit.OpenHold{Releases: []int64{r.Index}, From: read, Tracked: true}})
		if ce, ok := errors.AsType[*audit.ReleaseClosedError](err); ok {
			res.Moved, res.ValidUntil = false, r.ValidUntil
			e.Detail[audit.DetailMoved], e.Detail[audit.DetailValidUntil] = "false", r.ValidUntil
			return res, &stateRefusal{reason: reasonReleaseClosedMeanwhile, message: fmt.Sprintf(
				"Release %d was closed by entry %d (an expiry notice, correction or withdrawal of it) while this revision was under way: its end did not move.",
				ce.Release, ce.By)}
		}
		var sr *stateRefusal
		if errors.As(err, &sr) || errors.As(err, &dn) {
			// Refused at its commit (the case closed, or a party left
			// it, while a later end was under way): nothing was written,
			// and the end did not move.
			res.Moved, res.ValidUntil = false, r.ValidUntil
			e.Detail[audit.DetailMoved], e.Detail[audit.DetailValidUntil] = "false", r.ValidUntil
		}
		if err != nil {
			return res, err
		}
	} else if _, err := ex.commit(ctx); err != nil {
		return res, err
	}
	if res.Moved {
		s.log.InfoContext(ctx, "expiry moved", "request_id", ex.reqID, "audit_index", ex.index, "release", r.Index,
			"legal_basis", r.LegalBasis, "valid_until_before", r.ValidUntil, "valid_until", res.ValidUntil)
	}
	return res, nil
}
