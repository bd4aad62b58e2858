package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Multi-agency cases are held in the audit store beside the log
// (audit.CaseState): every change is decided by the policy (actions
// case_open ... case_close) and committed in the same transaction as its
// entry, with the case's version as a precondition, so that replicas
// sharing a database change a case one at a time. Exchanges on a case's
// basis read the case from the store: a member that left, or a closed
// case, is refused from the moment the change is committed.

// Actions recorded for cases and notices besides the policy's.
const (
	actionCaseImport        = "case_import"        // a case of the registry file moved into the store (liaison case import)
	actionNoticeAcknowledge = "notice_acknowledge" // a required notice was acknowledged
	actionNoticeEscalate    = "notice_escalate"    // a required notice was escalated
	actionNoticeOverdue     = "notice_overdue"     // a required notice passed its deadline unacknowledged
	// A required notice to an agency behind a peer gateway closed
	// unacknowledged at its sender's gateway: its release's legal basis
	// ended, and the peer sent the expiry notice (expireViaPeer).
	actionNoticeExpire = "notice_expire"
)

// casePurpose is the purpose of every action on a case.
const casePurpose = "maw_case_management"

// caseRetries bounds how often a change is decided again when another
// change of the same case committed first.
const caseRetries = 3

var (
	caseIDRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	caseKindRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)
)

// ValidCaseKind reports whether kind is spelt as OpenCase takes a case
// kind (a policy's, as nl.zvh), for those that make calls of their own
// (the exercises): a kind spelt otherwise is refused.
func ValidCaseKind(kind string) bool { return len(kind) <= 64 && caseKindRE.MatchString(kind) }

func validCaseID(field, id, subjectID string) error {
	switch {
	case id == "":
		return invalid(field, "is required")
	case !caseIDRE.MatchString(id):
		return invalid(field, "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	case mentions(id, subjectID):
		return invalid(field, "must not contain the subject's identifier")
	}
	return nil
}

// requesterStatus is an agency's standing in a case, in the policy's words.
func requesterStatus(c *audit.CaseState, agency string) string {
	switch {
	case c == nil:
		return "none"
	case c.Lead == agency:
		return "lead"
	case c.StatusOf(agency) == audit.MemberActive:
		return "member"
	case c.StatusOf(agency) == audit.MemberInvited:
		return "invited"
	}
	return "none"
}

// policyCase is a case as the policy input gives it to requester.
func policyCase(c *audit.CaseState, requester string) *policies.Case {
	pc := &policies.Case{
		ID: c.ID, Members: c.Active(), Lead: c.Lead, Kind: c.Kind, Jurisdiction: c.Jurisdiction,
		RequesterStatus: requesterStatus(c, requester),
	}
	if inv := c.Invited(); len(inv) > 0 {
		pc.Invited = inv
	}
	return pc
}

// caseMessage converts a case for the API.
func caseMessage(c *audit.CaseState) *liaisonv1.Case {
	m := &liaisonv1.Case{
		Id: c.ID, Kind: c.Kind, Jurisdiction: c.Jurisdiction, Lead: c.Lead,
		Status: liaisonv1.CaseStatus_CASE_STATUS_OPEN, PseudonymDomain: "case/" + c.ID,
		Opened: rfc3339(c.Opened), Version: c.Version, AuditIndex: c.AuditIndex,
		ManagedByRegistry: c.Source == audit.CaseSourceRegistry,
	}
	if c.Status == audit.CaseClosed {
		m.Status = liaisonv1.CaseStatus_CASE_STATUS_CLOSED
		m.Closed = c.Closed.UTC().Format(time.RFC3339)
	}
	if lb := c.LegalBasis; lb != nil {
		m.LegalBasis = &liaisonv1.LegalBasis{Id: lb.ID, Citation: lb.Citation, ValidUntil: lb.ValidUntil}
	}
	for _, x := range c.Members {
		m.Members = append(m.Members, &liaisonv1.CaseMember{
			Agency: x.Agency, Status: memberStatusEnum(x.Status), Since: rfc3339(x.Since),
			By: x.By, Lead: x.Agency == c.Lead,
		})
	}
	return m
}

func memberStatusEnum(s string) liaisonv1.MemberStatus {
	switch s {
	case audit.MemberInvited:
		return liaisonv1.MemberStatus_MEMBER_STATUS_INVITED
	case audit.MemberActive:
		return liaisonv1.MemberStatus_MEMBER_STATUS_MEMBER
	case audit.MemberDeclined:
		return liaisonv1.MemberStatus_MEMBER_STATUS_DECLINED
	case audit.MemberLeft:
		return liaisonv1.MemberStatus_MEMBER_STATUS_LEFT
	case audit.MemberRemoved:
		return liaisonv1.MemberStatus_MEMBER_STATUS_REMOVED
	}
	return liaisonv1.MemberStatus_MEMBER_STATUS_UNSPECIFIED
}

// partyOf names a registered agency as the policy input does; an agency
// the registry no longer knows keeps its id only.
func partyOf(reg *Registry, id string) policies.Party {
	if a, ok := reg.Agencies[id]; ok {
		return party(a.Agency)
	}
	return policies.Party{Agency: id}
}

// commitState appends the exchange's entry with a state change. A
// conflict leaves the exchange open, for the caller to decide again.
//
// An entry that does not change a case commits under the holds of the
// cases its exchange rests on (holds): if one no longer stands, nothing
// is appended, the exchange stays open and the error is its refusal
// (CASE_CLOSED, NOT_A_CASE_MEMBER), which finish records.
func (ex *exchange) commitState(ctx context.Context, c audit.Change, deliveries ...audit.Delivery) (int64, error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	c.Fingerprints = ex.fingerprints // of what it releases, if anything (onward.go)
	if c.Case == nil {
		// A change of the case itself has the case's version as its
		// precondition, which covers any change of it meanwhile.
		c.Holds = append(c.Holds, ex.holds()...)
	}
	if c.Provenance == nil {
		c.Provenance = ex.srcHold // the source of the record it passes on, as read (onward.go)
	}
	done, err := ex.recipientStanding(ctx, c.Holds...)
	if he, ok := errors.AsType[*audit.CaseHoldError](err); ok {
		return -1, ex.heldRefusal(ctx, he) // a case of the registry file changed (registryHolds)
	}
	if err != nil {
		return -1, err
	}
	defer done()
	idx, err := ex.s.cfg.Audit.AppendState(actx, ex.entry, c, deliveries...)
	if he, ok := errors.AsType[*audit.CaseHoldError](err); ok {
		return -1, ex.heldRefusal(ctx, he)
	}
	if pe, ok := errors.AsType[*audit.ProvenanceChangedError](err); ok {
		return -1, ex.provenanceRefusal(ctx, pe) // onward.go
	}
	if errors.Is(err, audit.ErrConflict) {
		return -1, err
	}
	ex.closed = true
	if err != nil {
		return -1, err
	}
	ex.index = idx
	return idx, nil
}

// holds are the cases the exchange's entry rests on when it commits (see
// audit.CaseHold): the case of its policy input, with the parties the
// decision took as its members (requester, holder, recipient), and any
// other the exchange noted (caseHolds). None once the exchange is settled
// as refused or failed, or marked unheld: the entry of a push a peer
// gateway has delivered records what was done, whatever the case is now.
//
// The case is read when the call begins (resolveCase) and decided on; the
// entry is committed later, after the holder answered, say. A member that
// leaves, or a lead that closes the case, meanwhile must stop it: the
// store checks the holds in the transaction that appends the entry, under
// the lock that orders the case's own changes.
func (ex *exchange) holds() []audit.CaseHold {
	if ex.unheld {
		return nil
	}
	out := slices.Clone(ex.caseHolds)
	if ex.routeHold != nil {
		out = append(out, *ex.routeHold)
	}
	if c := ex.in.Case; c != nil && c.ID != "" {
		h := audit.CaseHold{ID: c.ID}
		for _, a := range []string{ex.in.Requester.Agency, ex.in.Holder.Agency, ex.in.Recipient.Agency} {
			if a != "" && slices.Contains(c.Members, a) && !slices.Contains(h.Members, a) {
				h.Members = append(h.Members, a)
			}
		}
		out = append(out, h)
	}
	return out
}

// heldRefusal is the refusal of an exchange whose case no longer stood
// when its entry was to be committed: nothing was delivered, and the
// entry, refused, keeps nothing that describes a release.
func (ex *exchange) heldRefusal(ctx context.Context, he *audit.CaseHoldError) error {
	for _, k := range append(slices.Clone(releaseDetail), "notice_id", "notice_rule", "acknowledge_by", "escalate_at") {
		delete(ex.entry.Detail, k)
	}
	ex.entry.FieldsDisclosed = nil
	ex.fingerprints = nil
	if h := ex.routeHold; h != nil && he.Case == h.ID && (he.Closed || he.Agency == h.Members[0]) {
		// The receipt that routed the notice stopped counting (the
		// case closed, or the recipient left it), whether or not the
		// notice was decided within that case: a holder that left it
		// is refused NOT_A_CASE_MEMBER below.
		return ex.routeRefusal(ctx, he)
	}
	ex.s.log.InfoContext(ctx, "case changed before the exchange committed; refused", "request_id", ex.reqID, "case", he.Case,
		"closed", he.Closed, "agency", he.Agency)
	if he.Closed {
		return &stateRefusal{reason: "CASE_CLOSED", message: fmt.Sprintf("case %s was closed while this exchange was under way: "+
			"nothing was released, and no exchange rests on it any more", he.Case)}
	}
	return &denial{reason: "NOT_A_CASE_MEMBER", refusal: true, auditIdx: -1, message: fmt.Sprintf("%s left case %s, or was removed from it, "+
		"while this exchange was under way: nothing was released on the case's basis", he.Agency, he.Case)}
}

// reasonCaseChanged refuses a notice to an earlier recipient found by a
// receipt within a case (earlierRecipients), whose case was closed, or
// which left the case or was removed from it, between the gateway's
// routing the notice and the commit of its entry: the receipt counted
// only while the case was open and the recipient a member. For a case of
// the registry file, not in the store, a reload of the file that removed
// the recipient from the case, or dropped the case (closed), does so too
// (registryHolds, routing.go).
const reasonCaseChanged = "CASE_CHANGED_MEANWHILE"

// routeRefusal is the refusal of a notice whose recipient's receipt
// within a case (ex.routeHold) stopped counting while the notice was
// under way: nothing was delivered, and the entry, refused, describes no
// release and no tracked notice (heldRefusal cleared them).
func (ex *exchange) routeRefusal(ctx context.Context, he *audit.CaseHoldError) error {
	ex.s.log.InfoContext(ctx, "the case of the receipt that routed the notice changed before it committed; refused", "request_id", ex.reqID,
		"case", he.Case, "closed", he.Closed, "recipient", ex.routeHold.Members[0])
	what := ex.routeHold.Members[0] + " left the case, or was removed from it,"
	if he.Closed {
		what = "the case was closed"
	}
	return &stateRefusal{reason: reasonCaseChanged, message: fmt.Sprintf(
		"The notice was routed to %s as the earlier recipient of a record it received within case %s, and %s while the notice was under way: "+
			"that receipt no longer counts, and nothing was sent. Call again: it is routed by the case as it stands then.",
		ex.routeHold.Members[0], he.Case, what)}
}

// commitNotices commits the entry with the required notices it starts
// tracking, if any, and its deliveries.
func (ex *exchange) commitNotices(ctx context.Context, ns []audit.Notice, deliveries ...audit.Delivery) (int64, error) {
	if len(ns) == 0 {
		return ex.commit(ctx, deliveries...)
	}
	return ex.commitState(ctx, audit.Change{Notices: ns}, deliveries...)
}

// delivery seals an inbox item for box: the store never holds what an
// inbox holds in clear.
func (s *Server) delivery(box string, item *liaisonv1.SubscribeResponse) (audit.Delivery, error) {
	return sealDelivery(s.cfg.Pseudonyms, box, item)
}

// sealDelivery seals item for box with the gateway's keys ps.
func sealDelivery(ps *pseudonym.Pseudonymizer, box string, item *liaisonv1.SubscribeResponse) (audit.Delivery, error) {
	payload, err := proto.Marshal(item)
	if err != nil {
		return audit.Delivery{}, failed("ENCODE_FAILED", err)
	}
	if payload, err = ps.SealInbox([]byte(box), payload); err != nil {
		return audit.Delivery{}, err
	}
	return audit.Delivery{Recipient: box, Kind: deliveryKind, Payload: payload}, nil
}

// caseUpdates seals a CaseUpdate for each agency concerned by a change
// the agency caller made (see sealCaseUpdates).
func (s *Server) caseUpdates(c *audit.CaseState, change, agency, caller string) ([]audit.Delivery, error) {
	return sealCaseUpdates(s.cfg.Pseudonyms, s.registry.Load(), c, caller, &liaisonv1.CaseUpdate{Change: change, Agency: agency})
}

// sealCaseUpdates seals u, with case c after the change, for each agency
// concerned by it: the members after it, and the agency it is about
// (u.Agency), and, once the case is closed, the agencies whose invitation
// lapses with it; but not sender, the agency that made it (none for the
// operator's change), nor an offboarded agency (the gateway delivers
// nothing to one) or one the registry reg no longer lists (no one could
// read its inbox).
func sealCaseUpdates(ps *pseudonym.Pseudonymizer, reg *Registry, c *audit.CaseState, sender string, u *liaisonv1.CaseUpdate) ([]audit.Delivery, error) {
	to := c.Active()
	if c.Status == audit.CaseClosed {
		to = append(to, c.Invited()...)
	}
	if u.Agency != "" && !slices.Contains(to, u.Agency) {
		to = append(to, u.Agency)
	}
	var out []audit.Delivery
	for _, r := range to {
		if a, ok := reg.Agencies[r]; r == sender || !ok || a.Offboarded {
			continue
		}
		cu := proto.CloneOf(u)
		cu.Case = caseMessage(c)
		d, err := sealDelivery(ps, r, &liaisonv1.SubscribeResponse{Sender: sender, CaseUpdate: cu})
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// describeCase fills the policy input and the entry of an action on case c
// (its state before the change) concerning agency target.
func (s *Server) describeCase(ex *exchange, reg *Registry, c *audit.CaseState, target, justification string) {
	caller := ex.caller.Agency.ID
	ex.describe(partyOf(reg, c.Lead), partyOf(reg, target), policies.Input{
		Purpose: casePurpose, Case: policyCase(c, caller), Justification: justification,
	})
	ex.in.Subject = policies.Subject{}
	ex.entry.Subject = nil
	if c.Subject != "" {
		ex.entry.Subject = &audit.Subject{Pseudonym: c.Subject}
	}
	ex.entry.Detail = map[string]string{"case_kind": c.Kind, "case_status_before": requesterStatus(c, target)}
}

// OpenCase opens a case about one person, led by the caller's agency.
func (s *Server) OpenCase(ctx context.Context, req *liaisonv1.OpenCaseRequest) (_ *liaisonv1.OpenCaseResponse, err error) {
	ex := s.begin(ctx, "case_open")
	defer ex.finish(ctx, &err)
	if err := validSubjectID("subject_id", req.GetSubjectId()); err != nil {
		return nil, err
	}
	if err := validCaseID("case_id", req.GetCaseId(), req.GetSubjectId()); err != nil {
		return nil, err // a malformed id, or one naming the person, is never recorded
	}
	// From here on, a refusal names the case it would have opened (or, for
	// CASE_EXISTS, the one it would have shadowed), as the opening would:
	// the id does not name the person (validCaseID).
	ex.entry.Case = &audit.Case{ID: req.GetCaseId()}
	if k := req.GetKind(); !ValidCaseKind(k) || mentions(k, req.GetSubjectId()) {
		return nil, invalid("kind", "must name a case kind of the policy, such as nl.zvh")
	}
	if err := validJustification(req.GetJustification(), req.GetSubjectId()); err != nil {
		return nil, err
	}
	if err := validSubject(req.GetSubject(), req.GetSubjectId()); err != nil {
		return nil, err
	}
	caller, now := ex.caller.Agency, s.now()
	ex.subject = pseudonym.SubjectID(req.GetSubjectId())
	if err := s.pseudonymiseSubject(ex); err != nil {
		return nil, err
	}
	c := &audit.CaseState{
		ID: req.GetCaseId(), Kind: req.GetKind(), Jurisdiction: caller.Jurisdiction, Subject: ex.entry.Subject.Pseudonym,
		Lead: caller.ID, Status: audit.CaseOpen, Opened: now, Version: 1,
	}
	c.SetStatus(caller.ID, audit.MemberActive, "", now)
	if f := []rune(foldMention(req.GetSubjectId())); len(f) >= 4 {
		if c.SubjectMention, err = s.mentionMark(string(f)); err != nil {
			return nil, err
		}
		c.MentionLen = len(f)
	}
	// Refused before any decision whoever asks, as the same id is.
	existing, err := s.cfg.Audit.Cases(ctx, audit.CaseFilter{SameID: c.ID, Limit: 1})
	if err != nil {
		return nil, err
	}
	inFile := false
	for id := range s.registry.Load().Cases {
		inFile = inFile || strings.EqualFold(id, c.ID)
	}
	if len(existing) > 0 || inFile {
		// A case of the registry file has its id too: a case opened under
		// it would shadow it. An id has one spelling: one that differs
		// from another case's only in letter case names that case.
		return nil, caseExists(c.ID)
	}
	ps := ex.entry.Subject.Pseudonym
	ex.describe(party(caller), party(caller), policies.Input{
		Purpose: casePurpose, Justification: req.GetJustification(),
		Case: &policies.Case{ID: c.ID, Members: []string{caller.ID}, Lead: caller.ID, Kind: c.Kind, Jurisdiction: c.Jurisdiction, RequesterStatus: "none"},
	})
	ex.setSubject(req.GetSubject())
	ex.entry.Subject.Pseudonym = ps
	ex.entry.Detail = map[string]string{"case_kind": c.Kind}
	dec, err := s.decide(ctx, ex)
	if err != nil {
		return nil, err
	}
	if dec.LegalBasis != nil {
		c.LegalBasis = &audit.LegalBasis{ID: dec.LegalBasis.ID, Citation: dec.LegalBasis.Citation, ValidUntil: dec.LegalBasis.ValidUntil}
	}
	ex.entry.Outcome = audit.OutcomeOK
	ex.entry.Detail["case_version"] = "1"
	idx, err := ex.commitState(ctx, audit.Change{Case: c})
	if errors.Is(err, audit.ErrConflict) {
		// Another OpenCase took the id after the check above. The entry
		// records the attempt, refused, as the check's refusal does: the
		// id it was to open, and no version 1 or members of a case it
		// never made (the case of that id is the other caller's).
		ex.entry.Case = &audit.Case{ID: c.ID}
		delete(ex.entry.Detail, "case_version")
		return nil, caseExists(c.ID)
	}
	if err != nil {
		return nil, err
	}
	c.AuditIndex = idx
	s.log.InfoContext(ctx, "case opened", "request_id", ex.reqID, "audit_index", idx, "case", c.ID, "kind", c.Kind, "lead", caller.ID)
	return &liaisonv1.OpenCaseResponse{Case: caseMessage(c), AuditIndex: idx}, nil
}

// caseExists refuses an OpenCase of id: a case has that id already, in
// this letter case or another (a case id has one spelling). Its status is
// AlreadyExists, ErrorInfo reason CASE_EXISTS. The message names the id
// as the caller spelt it, not the existing case's spelling.
func caseExists(id string) error {
	return &stateRefusal{reason: "CASE_EXISTS", code: codes.AlreadyExists,
		message: fmt.Sprintf("a case with the id %s, in this or another letter case, exists already; choose another id", id)}
}

// A caseChange is one change of an existing case.
type caseChange struct {
	action        string // case_invite ... case_close
	caseID        string
	target        string // the agency the change concerns; the caller for its own standing
	targetField   string // the request field naming target, "" when it is the caller
	justification string
	// apply makes the change on c, the new version, at now. It returns a
	// refusal when the change contradicts the case's state (a gateway
	// invariant the policy should have kept already).
	apply func(c *audit.CaseState, caller string, now time.Time) error
}

// changeCase decides and commits ch. The case is read, decided on and
// written at its version; if another change committed meanwhile, it is
// read and decided again.
func (s *Server) changeCase(ctx context.Context, ex *exchange, ch caseChange) (*audit.CaseState, int64, error) {
	reg := s.registry.Load()
	caller := ex.caller.Agency.ID
	if err := validCaseID("case_id", ch.caseID, ""); err != nil {
		return nil, -1, err // a malformed id is never recorded
	}
	cur, err := s.caseByID(ctx, ch.caseID)
	if err != nil {
		return nil, -1, err
	}
	if cur != nil {
		// From here on, a refusal before the decision names the case.
		nameCase(ex.entry, cur)
	}
	// unlisted: the agency the change is about is one the registry no
	// longer lists, which only a removal takes (see below).
	unlisted := false
	if ch.targetField != "" {
		switch a, ok := reg.Agencies[ch.target]; {
		case ch.target == "":
			return nil, -1, invalid(ch.targetField, "is required")
		case !ok && ch.action == "case_remove":
			// An agency dropped from the registry stays in the cases it
			// was in or invited to: the lead takes it out, or the case
			// could never be rid of it. Which it must be in: checked on
			// the case as read. No one the registry does not list is
			// ever invited or made the lead.
			unlisted = true
		case !ok:
			return nil, -1, invalid(ch.targetField, "is not a registered agency")
		case a.Offboarded && ch.action != "case_remove":
			// Its calls are refused: invited, it could never answer;
			// made the lead, the case would have a lead that can
			// neither close it nor take anyone out of it. The lead may
			// still remove it.
			return nil, -1, &badRequest{field: ch.targetField, reason: reasonOffboarded,
				problem: "has been offboarded: it can no longer be invited into a case or lead one"}
		}
	}
	if err := validJustification(ch.justification, ""); err != nil {
		return nil, -1, err
	}
	decided := false // a decision allowed the change, and the case changed before it committed
	for attempt := range caseRetries {
		if attempt > 0 {
			if cur, err = s.caseByID(ctx, ch.caseID); err != nil {
				return nil, -1, err
			}
		}
		switch {
		case cur == nil:
			return nil, -1, invalid("case_id", "is not a case held by the gateway")
		case cur.Source == audit.CaseSourceRegistry:
			return nil, -1, &stateRefusal{reason: "CASE_MANAGED_BY_REGISTRY", message: fmt.Sprintf("case %s is declared in the gateway's registry file; change it there, or move it into the gateway with liaison case import", cur.ID)}
		case cur.Status == audit.CaseClosed:
			return nil, -1, &stateRefusal{reason: "CASE_CLOSED", message: fmt.Sprintf("case %s is closed", cur.ID)}
		case unlisted && cur.StatusOf(ch.target) != audit.MemberActive && cur.StatusOf(ch.target) != audit.MemberInvited:
			return nil, -1, invalid(ch.targetField, "is not a registered agency, nor a member of the case or invited to it")
		}
		why, err := s.redactCaseSubject(cur, ch.justification)
		if err != nil {
			return nil, -1, err
		}
		s.describeCase(ex, reg, cur, ch.target, why)
		if _, err := s.decide(ctx, ex); err != nil {
			if dn, ok := errors.AsType[*denial](err); ok && decided {
				// Allowed as the case was, denied as another change
				// left it (the lead handed over, the invitation
				// withdrawn): the case changed under the change, which
				// the gateway refuses, as it refuses one on a case
				// closed meanwhile.
				return nil, -1, &stateRefusal{reason: dn.reason, message: dn.message +
					" (the case changed after this change was decided, so it can no longer be made)"}
			}
			return nil, -1, err
		}
		decided = true
		now := s.now()
		next := cur.Clone()
		next.Version++
		if err := ch.apply(next, caller, now); err != nil {
			return nil, -1, err
		}
		deliveries, err := s.caseUpdates(next, ch.action, ch.target, caller)
		if err != nil {
			return nil, -1, err
		}
		// The entry records the change only once it is committed with it:
		// an attempt that finds the case changed, and is refused in the
		// end (CASE_CHANGED), records the case as it read it.
		e := ex.entry
		read := e.Case
		e.Outcome = audit.OutcomeOK
		e.Case = &audit.Case{ID: next.ID, Members: next.Active(), Lead: next.Lead}
		e.Detail["case_version"] = strconv.FormatInt(next.Version, 10)
		e.Detail["case_status_after"] = requesterStatus(next, ch.target)
		idx, err := ex.commitState(ctx, audit.Change{Case: next}, deliveries...)
		if errors.Is(err, audit.ErrConflict) {
			e.Case = read
			delete(e.Detail, "case_version")
			delete(e.Detail, "case_status_after")
			s.log.InfoContext(ctx, "case changed meanwhile; deciding again", "request_id", ex.reqID, "case", ch.caseID)
			continue
		}
		if err != nil {
			return nil, -1, err
		}
		next.AuditIndex = idx
		s.log.InfoContext(ctx, "case changed", "request_id", ex.reqID, "audit_index", idx, "case", next.ID,
			"change", ch.action, "agency", ch.target, "version", next.Version)
		return next, idx, nil
	}
	return nil, -1, &stateRefusal{reason: "CASE_CHANGED", message: "the case kept changing while this change was decided; try again"}
}

// nameCase names case c, as read, in entry e of an attempt on it that
// ends before the policy decides (refused for a field at fault, or
// because the case is closed or the registry file's), as a decided
// attempt's entry names it (describeCase): the case, its kind and the
// audit pseudonym of the person it is about, so that an auditor reading
// a case's history finds every attempt on it. Only a case the gateway
// holds is named: a case_id that names none could be anything, a
// person's identifier typed into the wrong field included, and is not
// recorded, nor is a malformed one.
func nameCase(e *audit.Entry, c *audit.CaseState) {
	e.Case = &audit.Case{ID: c.ID, Members: c.Active(), Lead: c.Lead}
	if e.Detail == nil {
		e.Detail = map[string]string{}
	}
	if c.Kind != "" {
		e.Detail["case_kind"] = c.Kind
	}
	if c.Subject != "" {
		e.Subject = &audit.Subject{Pseudonym: c.Subject}
	}
}

// foldMention folds text as mentions does to find an identifier in it:
// its letters and digits, in lower case.
func foldMention(text string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, text)
}

// mentionMark is the keyed hash by which a case recognises its subject's
// folded identifier (audit.CaseState.SubjectMention): an audit-domain
// pseudonym of a string no identifier can be (identifiers hold no
// control character), so it is no person's audit pseudonym.
func (s *Server) mentionMark(folded string) (string, error) {
	return s.cfg.Pseudonyms.AuditPseudonym(pseudonym.SubjectID("case mention\x00" + folded))
}

// redactCaseSubject returns text with every mention of the identifier of
// the person case c is about (as mentions finds them: in any case, with
// or without separators) replaced by "[subject]". The gateway holds only
// a keyed hash of the identifier, so it tries each run of as many letters
// and digits. A change of a case records the justification so rather
// than refuse it, which would tell any caller whether a guessed
// identifier is whom the case is about.
func (s *Server) redactCaseSubject(c *audit.CaseState, text string) (string, error) {
	n := c.MentionLen
	if c.SubjectMention == "" || n <= 0 {
		return text, nil
	}
	// As mentions does, in NFKC; the text is recorded so only if it
	// mentions the person.
	orig := text
	text = norm.NFKC.String(text)
	type letter struct {
		start, end int // its bytes in text
		r          rune
	}
	var ls []letter
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			ls = append(ls, letter{i, i + size, unicode.ToLower(r)})
		}
		i += size
	}
	var b strings.Builder
	last := 0
	for i := 0; i+n <= len(ls); {
		w := make([]rune, n)
		for k := range n {
			w[k] = ls[i+k].r
		}
		m, err := s.mentionMark(string(w))
		if err != nil {
			return "", err
		}
		if m != c.SubjectMention {
			i++
			continue
		}
		b.WriteString(text[last:ls[i].start])
		b.WriteString("[subject]")
		last = ls[i+n-1].end
		i += n
	}
	if last == 0 {
		return orig, nil
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// refuseUnless returns a refusal with reason unless ok.
func refuseUnless(ok bool, reason, format string, args ...any) error {
	if ok {
		return nil
	}
	return &stateRefusal{reason: reason, message: fmt.Sprintf(format, args...)}
}

// InviteMember invites an agency into a case.
func (s *Server) InviteMember(ctx context.Context, req *liaisonv1.InviteMemberRequest) (_ *liaisonv1.InviteMemberResponse, err error) {
	ex := s.begin(ctx, "case_invite")
	defer ex.finish(ctx, &err)
	c, idx, err := s.changeCase(ctx, ex, caseChange{
		action: "case_invite", caseID: req.GetCaseId(), target: req.GetAgency(), targetField: "agency", justification: req.GetJustification(),
		apply: func(c *audit.CaseState, caller string, now time.Time) error {
			st := c.StatusOf(req.GetAgency())
			if err := refuseUnless(c.Lead == caller, "NOT_CASE_LEAD", "only the lead of case %s invites", c.ID); err != nil {
				return err
			}
			if err := refuseUnless(st != audit.MemberActive && st != audit.MemberInvited, "ALREADY_IN_CASE",
				"%s is already a member of case %s, or invited to it", req.GetAgency(), c.ID); err != nil {
				return err
			}
			c.SetStatus(req.GetAgency(), audit.MemberInvited, caller, now)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &liaisonv1.InviteMemberResponse{Case: caseMessage(c), AuditIndex: idx}, nil
}

// AcceptInvitation makes the caller's agency a member of a case it is
// invited to.
func (s *Server) AcceptInvitation(ctx context.Context, req *liaisonv1.AcceptInvitationRequest) (_ *liaisonv1.AcceptInvitationResponse, err error) {
	ex := s.begin(ctx, "case_accept")
	defer ex.finish(ctx, &err)
	me := ex.caller.Agency.ID
	c, idx, err := s.changeCase(ctx, ex, caseChange{
		action: "case_accept", caseID: req.GetCaseId(), target: me, justification: req.GetJustification(),
		apply: func(c *audit.CaseState, caller string, now time.Time) error {
			if err := refuseUnless(c.StatusOf(caller) == audit.MemberInvited, "NOT_INVITED", "%s has no open invitation to case %s", caller, c.ID); err != nil {
				return err
			}
			c.SetStatus(caller, audit.MemberActive, "", now)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &liaisonv1.AcceptInvitationResponse{Case: caseMessage(c), AuditIndex: idx}, nil
}

// DeclineInvitation declines the caller's agency's invitation.
func (s *Server) DeclineInvitation(ctx context.Context, req *liaisonv1.DeclineInvitationRequest) (_ *liaisonv1.DeclineInvitationResponse, err error) {
	ex := s.begin(ctx, "case_decline")
	defer ex.finish(ctx, &err)
	me := ex.caller.Agency.ID
	c, idx, err := s.changeCase(ctx, ex, caseChange{
		action: "case_decline", caseID: req.GetCaseId(), target: me, justification: req.GetJustification(),
		apply: func(c *audit.CaseState, caller string, now time.Time) error {
			if err := refuseUnless(c.StatusOf(caller) == audit.MemberInvited, "NOT_INVITED", "%s has no open invitation to case %s", caller, c.ID); err != nil {
				return err
			}
			c.SetStatus(caller, audit.MemberDeclined, "", now)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &liaisonv1.DeclineInvitationResponse{Case: caseMessage(c), AuditIndex: idx}, nil
}

// LeaveCase ends the caller's agency's membership.
func (s *Server) LeaveCase(ctx context.Context, req *liaisonv1.LeaveCaseRequest) (_ *liaisonv1.LeaveCaseResponse, err error) {
	ex := s.begin(ctx, "case_leave")
	defer ex.finish(ctx, &err)
	me := ex.caller.Agency.ID
	c, idx, err := s.changeCase(ctx, ex, caseChange{
		action: "case_leave", caseID: req.GetCaseId(), target: me, justification: req.GetJustification(),
		apply: func(c *audit.CaseState, caller string, now time.Time) error {
			if err := refuseUnless(c.Lead != caller, "LEAD_CANNOT_LEAVE", "%s leads case %s; hand the lead over first", caller, c.ID); err != nil {
				return err
			}
			if err := refuseUnless(c.StatusOf(caller) == audit.MemberActive, "NOT_A_CASE_MEMBER", "%s is not a member of case %s", caller, c.ID); err != nil {
				return err
			}
			c.SetStatus(caller, audit.MemberLeft, "", now)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &liaisonv1.LeaveCaseResponse{Case: caseMessage(c), AuditIndex: idx}, nil
}

// RemoveMember removes a member from a case, or withdraws an invitation.
func (s *Server) RemoveMember(ctx context.Context, req *liaisonv1.RemoveMemberRequest) (_ *liaisonv1.RemoveMemberResponse, err error) {
	ex := s.begin(ctx, "case_remove")
	defer ex.finish(ctx, &err)
	c, idx, err := s.changeCase(ctx, ex, caseChange{
		action: "case_remove", caseID: req.GetCaseId(), target: req.GetAgency(), targetField: "agency", justification: req.GetJustification(),
		apply: func(c *audit.CaseState, caller string, now time.Time) error {
			who := req.GetAgency()
			st := c.StatusOf(who)
			if err := refuseUnless(c.Lead == caller, "NOT_CASE_LEAD", "only the lead of case %s removes members", c.ID); err != nil {
				return err
			}
			if err := refuseUnless(who != c.Lead && (st == audit.MemberActive || st == audit.MemberInvited), "NOT_IN_CASE",
				"%s is neither a member of case %s nor invited to it", who, c.ID); err != nil {
				return err
			}
			c.SetStatus(who, audit.MemberRemoved, caller, now)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &liaisonv1.RemoveMemberResponse{Case: caseMessage(c), AuditIndex: idx}, nil
}

// HandOverLead makes another member the lead.
func (s *Server) HandOverLead(ctx context.Context, req *liaisonv1.HandOverLeadRequest) (_ *liaisonv1.HandOverLeadResponse, err error) {
	ex := s.begin(ctx, "case_handover")
	defer ex.finish(ctx, &err)
	c, idx, err := s.changeCase(ctx, ex, caseChange{
		action: "case_handover", caseID: req.GetCaseId(), target: req.GetAgency(), targetField: "agency", justification: req.GetJustification(),
		apply: func(c *audit.CaseState, caller string, now time.Time) error {
			to := req.GetAgency()
			if err := refuseUnless(c.Lead == caller, "NOT_CASE_LEAD", "only the lead of case %s hands the lead over", c.ID); err != nil {
				return err
			}
			if err := refuseUnless(to != caller && c.StatusOf(to) == audit.MemberActive, "NEW_LEAD_NOT_A_MEMBER",
				"the lead of case %s goes only to another member; %s is not one", c.ID, to); err != nil {
				return err
			}
			c.Lead = to
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &liaisonv1.HandOverLeadResponse{Case: caseMessage(c), AuditIndex: idx}, nil
}

// CloseCase closes a case.
func (s *Server) CloseCase(ctx context.Context, req *liaisonv1.CloseCaseRequest) (_ *liaisonv1.CloseCaseResponse, err error) {
	ex := s.begin(ctx, "case_close")
	defer ex.finish(ctx, &err)
	me := ex.caller.Agency.ID
	c, idx, err := s.changeCase(ctx, ex, caseChange{
		action: "case_close", caseID: req.GetCaseId(), target: me, justification: req.GetJustification(),
		apply: func(c *audit.CaseState, caller string, now time.Time) error {
			if err := refuseUnless(c.Lead == caller, "NOT_CASE_LEAD", "only the lead of case %s closes it", c.ID); err != nil {
				return err
			}
			c.Status, c.Closed = audit.CaseClosed, now
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &liaisonv1.CloseCaseResponse{Case: caseMessage(c), AuditIndex: idx}, nil
}

// visibleCase reads a case the caller's agency is a member of or invited
// to; any other is errCaseNotFound.
func (s *Server) visibleCase(ctx context.Context, c authn.Caller, id string) (*audit.CaseState, error) {
	if err := validCaseID("case_id", id, ""); err != nil {
		return nil, err
	}
	cs, err := s.caseByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if cs == nil || (cs.Lead != c.Agency.ID && cs.StatusOf(c.Agency.ID) != audit.MemberActive && cs.StatusOf(c.Agency.ID) != audit.MemberInvited) {
		return nil, errCaseNotFound
	}
	return cs, nil
}

// errCaseNotFound is a case the caller may not see, or none.
var errCaseNotFound = errors.New("gateway: no such case")

// GetCase returns a case the caller's agency is in or invited to.
func (s *Server) GetCase(ctx context.Context, req *liaisonv1.GetCaseRequest) (*liaisonv1.GetCaseResponse, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := s.visibleCase(ctx, c, req.GetCaseId())
	if errors.Is(err, errCaseNotFound) {
		// Not quoted: an id that names no case could be anything, a
		// person's identifier typed into the wrong field included.
		return nil, s.notFound("no case of that id that your agency is a member of or invited to")
	}
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	return &liaisonv1.GetCaseResponse{Case: caseMessage(cs)}, nil
}

// ListCases lists the cases the caller's agency is in or invited to.
// casesPart is how many cases ListCases reads from the store at a time.
var casesPart = 1000

func (s *Server) ListCases(ctx context.Context, req *liaisonv1.ListCasesRequest) (*liaisonv1.ListCasesResponse, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	f := audit.CaseFilter{Agency: c.Agency.ID}
	switch req.GetStatus() {
	case liaisonv1.CaseStatus_CASE_STATUS_UNSPECIFIED:
	case liaisonv1.CaseStatus_CASE_STATUS_OPEN:
		f.Status = audit.CaseOpen
	case liaisonv1.CaseStatus_CASE_STATUS_CLOSED:
		f.Status = audit.CaseClosed
	default:
		return nil, s.statusError(ctx, invalid("status", "is not a case status"))
	}
	// Every case of the agency, read a part at a time (the store answers
	// at most casesPart): an agency in more cases, over the years, than
	// one part holds is not answered with the first of them only.
	var cs []*audit.CaseState
	for f.Limit = casesPart; ; {
		part, err := s.cfg.Audit.Cases(ctx, f)
		if err != nil {
			return nil, s.statusError(ctx, err)
		}
		cs = append(cs, part...)
		if len(part) < f.Limit {
			break
		}
		f.After = part[len(part)-1].ID
	}
	// The registry file's cases the caller is in, unless the store holds
	// a case of that id.
	if f.Status != audit.CaseClosed {
		reg := s.registry.Load()
		for _, id := range sortedKeys(reg.Cases) {
			if !slices.Contains(reg.Cases[id].Members, c.Agency.ID) || slices.ContainsFunc(cs, func(x *audit.CaseState) bool { return x.ID == id }) {
				continue
			}
			stored, err := s.cfg.Audit.Case(ctx, id)
			if err != nil {
				return nil, s.statusError(ctx, err)
			}
			if stored == nil {
				cs = append(cs, RegistryCase(reg, id))
			}
		}
		slices.SortFunc(cs, func(a, b *audit.CaseState) int { return strings.Compare(a.ID, b.ID) })
	}
	resp := &liaisonv1.ListCasesResponse{}
	for _, x := range cs {
		if st := x.StatusOf(c.Agency.ID); x.Lead == c.Agency.ID || st == audit.MemberActive || st == audit.MemberInvited {
			resp.Cases = append(resp.Cases, caseMessage(x))
		}
	}
	return resp, nil
}

// caseByID returns a case: the store's, or else, for a case the gateway's
// registry file declares, that case as the file says (served from the
// file, never written to the store: `liaison case import` migrates it).
func (s *Server) caseByID(ctx context.Context, id string) (*audit.CaseState, error) {
	c, err := s.cfg.Audit.Case(ctx, id)
	if err != nil || c != nil {
		return c, err
	}
	return RegistryCase(s.registry.Load(), id), nil
}

// RegistryCase returns the case the registry declares with id, as a case
// state (version 0: it was never stored), or nil.
func RegistryCase(reg *Registry, id string) *audit.CaseState {
	rc, ok := reg.Cases[id]
	if !ok {
		return nil
	}
	c := &audit.CaseState{ID: rc.ID, Kind: rc.Kind, Lead: rc.Lead, Status: audit.CaseOpen, Source: audit.CaseSourceRegistry, AuditIndex: -1}
	if l, ok := reg.Agencies[rc.Lead]; ok {
		c.Jurisdiction = l.Jurisdiction
	}
	for _, m := range rc.Members {
		c.SetStatus(m, audit.MemberActive, "", time.Time{})
	}
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// resolveCase turns a case id into the case as the gateway holds it, with
// the caller's standing in it: callers cannot claim membership of a case
// they are not in, and nobody exchanges on a closed case. subject, if not
// empty, is the person the exchange is about: a member (or the lead) that
// cites a case about another person is refused (CASE_SUBJECT_MISMATCH),
// since a case's basis covers the person it is about and no one else. A
// caller that is not a member gets no such answer, which would tell it
// whom the case is about: the policy refuses it as a non-member. A case
// of the registry file, or one imported from it, names no person and is
// not checked.
func (s *Server) resolveCase(ctx context.Context, id, caller string, subject pseudonym.SubjectID) (*policies.Case, error) {
	if id == "" {
		return nil, nil
	}
	if !caseIDRE.MatchString(id) {
		return nil, invalid("case_id", "is not a case held by the gateway")
	}
	c, err := s.caseByID(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case c == nil:
		return nil, invalid("case_id", "is not a case held by the gateway")
	case c.Status == audit.CaseClosed:
		return nil, &stateRefusal{reason: "CASE_CLOSED", caseID: c.ID, message: fmt.Sprintf("case %s is closed: no exchange rests on it any more", id)}
	}
	pc := policyCase(c, caller)
	if subject != "" && c.Subject != "" && (pc.RequesterStatus == "lead" || pc.RequesterStatus == "member") {
		ps, err := s.cfg.Pseudonyms.AuditPseudonym(subject)
		if err != nil {
			return nil, err
		}
		if ps != c.Subject {
			return nil, &badRequest{field: "case_id", reason: "CASE_SUBJECT_MISMATCH", caseID: c.ID,
				problem: fmt.Sprintf("case %s is about another person: an exchange on a case's basis must be about the person the case is about", id)}
		}
	}
	return pc, nil
}

// callerID is the calling agency's id, "" if none.
func (s *Server) callerID(ctx context.Context) string {
	if c, ok := authn.FromContext(ctx); ok && c.Agency != nil {
		return c.Agency.ID
	}
	return ""
}

// An ImportedCase is a case of the registry file that ImportRegistryCases
// moved into the store, or left alone and why.
type ImportedCase struct {
	ID         string
	Kind       string
	AuditIndex int64  // the import's entry, -1 if none
	Skipped    string // why it was not imported, if it was not
}

// ImportRegistryCases moves the cases the registry file declares into the
// store, each with an entry (action case_import): from then on the store's
// case shadows the file's, and the Cases service manages it (invite,
// leave, hand over, close...). A case needs a kind that eng, the gateway's
// policy, knows in the case's jurisdiction (its lead's), from the file
// (kind) or defaultKind: the policy lets nobody join or lead a case of a
// kind it does not know (UNKNOWN_CASE_KIND), so such a case could only be
// wound down. One
// without such a kind, or one the store already holds, is skipped. It is
// what `liaison case import` runs.
func ImportRegistryCases(ctx context.Context, store audit.StateStore, eng *policies.Engine, reg *Registry, defaultKind string, now time.Time) ([]ImportedCase, error) {
	if eng == nil {
		return nil, errors.New("gateway: importing cases needs the gateway's policy")
	}
	var out []ImportedCase
	for _, id := range sortedKeys(reg.Cases) {
		rc := reg.Cases[id]
		c := RegistryCase(reg, id)
		c.Kind = cmp.Or(rc.Kind, defaultKind)
		res := ImportedCase{ID: id, Kind: c.Kind, AuditIndex: -1}
		stored, err := store.Case(ctx, id)
		switch {
		case err != nil:
			return out, err
		case stored != nil:
			res.Skipped = "the gateway holds a case of that id already"
		case c.Kind == "":
			res.Skipped = "no kind: give the case a kind in the file, or -kind"
		case !caseKindRE.MatchString(c.Kind):
			res.Skipped = fmt.Sprintf("kind %q is not a case kind such as nl.zvh", c.Kind)
		default:
			known, err := caseKinds(ctx, eng, c.Jurisdiction)
			switch {
			case err != nil:
				return out, err
			case len(known) == 0:
				res.Skipped = fmt.Sprintf("the policy has no case kinds for the jurisdiction %q of its lead %s", c.Jurisdiction, c.Lead)
			case !slices.Contains(known, c.Kind):
				res.Skipped = fmt.Sprintf("the policy knows no case kind %q in %s; it knows %s", c.Kind, c.Jurisdiction, strings.Join(known, ", "))
			}
		}
		if res.Skipped != "" {
			out = append(out, res)
			continue
		}
		c.Source, c.Version, c.Opened, c.AuditIndex = "", 1, now, 0
		for i := range c.Members {
			c.Members[i].Since = now
		}
		e := &audit.Entry{
			Time: now, Action: actionCaseImport, RequestID: newRequestID(), Outcome: audit.OutcomeOK,
			Case:   &audit.Case{ID: c.ID, Members: c.Active(), Lead: c.Lead},
			Detail: map[string]string{"source": audit.CaseSourceRegistry, "case_kind": c.Kind, "case_version": "1"},
		}
		leaf, err := e.Marshal()
		if err != nil {
			return out, err
		}
		idx, err := store.AppendState(ctx, audit.Pending{Leaf: leaf, Entry: e}, audit.Change{Case: c})
		if errors.Is(err, audit.ErrConflict) {
			res.Skipped = "the gateway holds a case of that id already"
			out = append(out, res)
			continue
		}
		if err != nil {
			return out, err
		}
		res.AuditIndex = idx
		out = append(out, res)
	}
	return out, nil
}

// caseKinds lists the case kinds eng's pack for jurisdiction knows.
func caseKinds(ctx context.Context, eng *policies.Engine, jurisdiction string) ([]string, error) {
	p, ok, err := eng.Pack(ctx, jurisdiction)
	if err != nil || !ok {
		return nil, err
	}
	var out []string
	for _, k := range p.CaseKinds {
		out = append(out, k.ID)
	}
	slices.Sort(out)
	return out, nil
}
