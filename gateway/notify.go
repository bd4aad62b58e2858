package gateway

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// A push is a record the caller holds, on its way to recipients: a
// Disclose, or the record of a Notify with its event.
type push struct {
	action        string // disclose or notify
	record        *liaisonv1.Record
	recordType    string
	subject       pseudonym.SubjectID
	attrs         *liaisonv1.SubjectAttributes
	justification string
	event         liaisonv1.SubjectEventType // notify only
	eventID       string                     // notify only
	provenance    *liaisonv1.Provenance      // disclose only: where the record came from (onward.go)
}

// pushTo is the exchange of a push for one recipient: decided with the
// target's route, purpose and case, transformed, delivered and logged. A
// notify the policy requires to be acknowledged is tracked from the same
// entry. Its error, if any, is already a status, and its result says what
// happened.
func (s *Server) pushTo(ctx context.Context, p *push, t *target) (res *liaisonv1.RecipientResult, err error) {
	ex := s.begin(ctx, p.action)
	rcpt := t.agency
	res = &liaisonv1.RecipientResult{Recipient: rcpt.ID, Routes: t.routes}
	defer func() {
		ex.finish(ctx, &err)
		res.AuditIndex = ex.index
		if err == nil {
			return
		}
		res.NoticeId, res.AcknowledgeBy = "", "" // no notice went, so none awaits acknowledgement
		res.Reasons = ex.entry.Reasons
		if ex.entry.Outcome == audit.OutcomeDeny {
			res.Outcome, res.Message = liaisonv1.Outcome_OUTCOME_DENY, status.Convert(err).Message()
			return
		}
		res.Outcome = liaisonv1.Outcome_OUTCOME_UNSPECIFIED
		res.Failure = recipientFailure(err)
	}()
	caller := ex.caller
	ex.describe(party(caller.Agency), party(rcpt.Agency), policies.Input{
		RecordType:        p.recordType,
		Purpose:           t.purpose,
		ClaimedLegalBasis: t.claimed,
		Case:              t.cs,
		Justification:     p.justification,
	})
	route := policyRoute(t.routes[0])
	ex.in.Route = route
	d := map[string]string{"route": route.Role}
	for k, v := range map[string]string{"route_area": route.Area, "route_case": route.Case, "route_basis": route.Basis} {
		if v != "" {
			d[k] = v
		}
	}
	if len(t.routes) > 1 {
		var also []string
		for _, r := range t.routes[1:] {
			also = append(also, describeRoute(r))
		}
		d["also_routes"] = strings.Join(also, ",")
	}
	if p.action == "notify" {
		ex.in.Event = &policies.Event{Type: enumName(p.event)}
		d["event"], d["event_id"] = ex.in.Event.Type, p.eventID
	}
	ex.entry.Detail = d
	if t.receiptCase != "" {
		// Found by a receipt within a case, which counts only while the
		// case is open and the recipient a member: so it must still be
		// when the entry commits (cases.go).
		ex.routeHold = &audit.CaseHold{ID: t.receiptCase, Members: []string{rcpt.ID}}
	}
	ex.subject = p.subject
	ex.setSubject(p.attrs)
	if err := s.pseudonymiseSubject(ex); err != nil {
		return res, err
	}
	switch p.action {
	case "disclose":
		if err := s.applyOnward(ctx, ex, p.provenance, p.record); err != nil { // onward.go
			return res, err
		}
	case "notify":
		// A notice states a fact the caller holds: content it received
		// through the gateway goes on only by a Disclose that names where
		// it came from, with the conditions it came with (onward.go).
		u, err := s.undeclaredOnward(ctx, caller.Agency.ID, ex.entry.Subject.Pseudonym, p.record, nil)
		if err != nil {
			return res, err
		}
		if u != nil {
			return res, refuseUndeclared(ex, u)
		}
	}
	dec, err := s.decide(ctx, ex)
	if err != nil {
		return res, err
	}
	ps, err := s.recipientPseudonym(ex, dec)
	if err != nil {
		return res, err
	}
	rel, err := s.release(ex, dec, p.record, true, ps)
	if err != nil {
		return res, failed("TRANSFORM_FAILED", err)
	}
	if err := s.rememberRelease(ctx, ex, rel); err != nil { // onward.go
		return res, err
	}
	if rcpt.Via != "" {
		// Delivered by the peer before this gateway's final entry, which
		// records what was done: as for a correction's (commitNotice),
		// the source is not held to it.
		ex.srcHold = nil
		return s.pushViaPeer(ctx, ex, p, t, dec, rel, res) // the recipient's inbox is its own gateway's
	}
	item := &liaisonv1.SubscribeResponse{Sender: caller.Agency.ID, Released: rel}
	var tracked []audit.Notice
	if p.action == "notify" {
		item.Notice = &liaisonv1.Notice{EventId: p.eventID, EventType: p.event, Routes: t.routes}
		if n := dec.Notice; n != nil && n.Required {
			t, err := s.trackedNotice(ex, n, rcpt.ID, enumName(p.event))
			if err != nil {
				return res, err
			}
			tracked = []audit.Notice{t}
			by := t.Deadline.Format(time.RFC3339)
			item.Notice.NoticeId, item.Notice.AcknowledgeBy, item.Notice.Rule = t.ID, by, n.Rule
			res.NoticeId, res.AcknowledgeBy = t.ID, by
		}
	}
	// The inbox holds the released record until it is read, sealed.
	dl, err := s.delivery(rcpt.ID, item)
	if err != nil {
		return res, err
	}
	idx, err := ex.commitNotices(ctx, tracked, dl)
	if err != nil {
		return res, err
	}
	s.log.InfoContext(ctx, "record "+map[string]string{"disclose": "disclosed", "notify": "notified"}[p.action], "request_id", ex.reqID, "audit_index", idx,
		"holder", caller.Agency.ID, "recipient", rcpt.ID, "route", route.Role, "outcome", dec.Outcome, "legal_basis", legalBasisID(dec),
		"record_type", ex.in.RecordType, "notice_id", res.NoticeId)
	res.Outcome, res.LegalBasis, res.Conditions = rel.GetOutcome(), rel.GetLegalBasis(), rel.GetConditions()
	return res, nil
}

// trackedNotice makes the tracked notice of a required notice decision,
// and records it in the entry.
func (s *Server) trackedNotice(ex *exchange, n *policies.Notice, recipient, event string) (audit.Notice, error) {
	by, err1 := time.Parse(time.RFC3339Nano, n.AcknowledgeBy)
	esc, err2 := time.Parse(time.RFC3339Nano, n.EscalateAt)
	if err := errors.Join(err1, err2); err != nil {
		return audit.Notice{}, failed("POLICY_ERROR", fmt.Errorf("gateway: notice times: %v", err))
	}
	// To the second, never later than the policy said.
	t := audit.Notice{
		ID: "ntc-" + strings.ToLower(rand.Text()[:20]), Recipient: recipient, Sender: ex.caller.Agency.ID,
		EventType: event, Rule: n.Rule, Created: ex.entry.Time, EscalateAt: esc.UTC().Truncate(time.Second), Deadline: by.UTC().Truncate(time.Second),
	}
	ex.noticeDetail("notice_id", t.ID, "notice_rule", n.Rule,
		"acknowledge_by", t.Deadline.Format(time.RFC3339), "escalate_at", t.EscalateAt.Format(time.RFC3339))
	return t, nil
}

// maxNotifyTargets caps the recipients one Notify reaches.
const maxNotifyTargets = 200

// Notify reports an event in a person's case and routes it: to the members
// of the person's open cases, to every agency that received records about
// the person under a basis still in force, and to the recipients named by
// id or role; each decided, delivered and logged on its own.
func (s *Server) Notify(ctx context.Context, req *liaisonv1.NotifyRequest) (_ *liaisonv1.NotifyResponse, err error) {
	call := s.begin(ctx, "notify")
	defer call.finish(ctx, &err)
	reg := s.registry.Load()
	caller := call.caller.Agency.ID
	event := enumName(req.GetEventType())
	if event == "" {
		return nil, invalid("event_type", "must name the event: release date set or changed, released, transferred, absconded, breach of conditions, probation ended or deceased")
	}
	call.entry.Detail = map[string]string{"event": event}
	body, rule := recordBody(req.GetRecord())
	if body == nil || rule.GetRecordType() == "" {
		return nil, invalid("record", "must hold the record that states the event (one of the seven record types)")
	}
	subject := recordSubjectID(body)
	if err := validSubjectID(subjectIDField(req.GetRecord()), string(subject)); err != nil {
		return nil, err
	}
	if err := validRecord(req.GetRecord()); err != nil {
		return nil, err
	}
	purpose := enumName(req.GetPurpose())
	if purpose == "" && (req.GetPurpose() != 0 || len(req.GetRecipients())+len(req.GetRecipientRoles()) > 0) {
		return nil, invalid("purpose", "must name the purpose of the notice to recipients named by id or role")
	}
	if err := validJustification(req.GetJustification(), string(subject)); err != nil {
		return nil, err
	}
	if err := validClaimedBasis(req.GetClaimedLegalBasis(), string(subject)); err != nil {
		return nil, err
	}
	if err := validSubject(req.GetSubject(), string(subject)); err != nil {
		return nil, err
	}
	attrs, err := recordDates(req.GetSubject(), req.GetRecord())
	if err != nil {
		return nil, err
	}
	if len(req.GetRecipients()) > maxRecipients {
		return nil, invalid("recipients", "at most %d recipients per call", maxRecipients)
	}
	cs, err := s.resolveCase(ctx, req.GetCaseId(), caller, subject)
	if err != nil {
		return nil, err
	}
	call.subject = subject
	call.setSubject(attrs)
	if err := s.pseudonymiseSubject(call); err != nil {
		return nil, err
	}
	ps := call.entry.Subject.Pseudonym

	var ts targets
	// 1. The members of the person's open cases, within their case.
	open, err := s.cfg.Audit.Cases(ctx, audit.CaseFilter{Subject: ps, Status: audit.CaseOpen})
	if err != nil {
		return nil, err
	}
	for _, c := range open {
		pc := policyCase(c, caller)
		for _, m := range c.Active() {
			a, ok := reg.Agencies[m]
			if !ok || m == caller || a.Offboarded {
				continue
			}
			ts.add(a, &liaisonv1.RecipientRoute{Role: liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER, CaseId: c.ID}, func() target {
				return target{purpose: casePurpose, cs: pc}
			})
		}
	}
	// 2. Earlier recipients under a basis still in force, for the purpose
	// they received under.
	prior, err := s.earlierRecipients(ctx, ps, s.now())
	if err != nil {
		return nil, err
	}
	for _, id := range sortedKeys(prior) {
		a, ok := reg.Agencies[id]
		if !ok || id == caller || a.Offboarded {
			continue
		}
		e := prior[id]
		ts.add(a, &liaisonv1.RecipientRoute{Role: liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT, LegalBasis: e.basis, EarlierAuditIndex: e.index}, func() target {
			t := target{purpose: cmp.Or(e.purpose, purpose), receiptCase: e.caseID}
			if e.kase != nil {
				// Received within a case that stands: told within it,
				// the case as it stands, as the receipt was decided (a
				// basis that requires the case holds it only so), and
				// the notice, a receipt too, counts only while the case
				// stands and the recipient is a member of it.
				t.cs = policyCase(e.kase, caller)
			}
			return t
		})
	}
	// 3. Those named by id or role.
	if err := resolveNamed(reg, &ts, req.GetRecipients(), "recipients", purpose, req.GetClaimedLegalBasis(), cs); err != nil {
		return nil, err
	}
	if err := s.resolveRoles(ctx, reg, &ts, req.GetRecipientRoles(), "recipient_roles", caller, subject, req.GetSubject(), purpose, req.GetClaimedLegalBasis(), cs); err != nil {
		return nil, err
	}
	if len(ts.list) == 0 {
		return nil, &badRequest{field: "recipients", reason: "NO_RECIPIENTS",
			problem: "nobody to notify: the person has no open case, no agency received records about them under a basis still in force, and no recipient was named"}
	}
	if len(ts.list) > maxNotifyTargets {
		return nil, invalid("recipients", "the event reaches %d agencies; at most %d per call", len(ts.list), maxNotifyTargets)
	}
	call.closed = true // each recipient's exchange below writes its own entry
	p := &push{
		action: "notify", record: req.GetRecord(), recordType: rule.GetRecordType(), subject: subject,
		attrs: attrs, justification: req.GetJustification(), event: req.GetEventType(),
		eventID: "evt-" + strings.ToLower(rand.Text()[:20]),
	}
	resp := &liaisonv1.NotifyResponse{EventId: p.eventID}
	if resp.Results, err = s.pushAll(ctx, p, ts.list); err != nil {
		return nil, withResults(err, resp)
	}
	return resp, nil
}

// A statedDate is a date of the subject's attributes that a record states
// too: where the record holds it, and where the attributes do.
type statedDate struct {
	record, subject string // the fields' paths in the request
	day             string // the date the record states, "" if none
	get             func(*liaisonv1.SubjectAttributes) string
	set             func(*liaisonv1.SubjectAttributes, string)
}

// statedDates are the subject's dates that record states: a release
// notice's release date and last day of probation, probation measures'
// last day of supervision.
func statedDates(record *liaisonv1.Record) []statedDate {
	release := func(a *liaisonv1.SubjectAttributes) string { return a.GetReleaseDate() }
	setRelease := func(a *liaisonv1.SubjectAttributes, d string) { a.ReleaseDate = d }
	probation := func(a *liaisonv1.SubjectAttributes) string { return a.GetProbationUntil() }
	setProbation := func(a *liaisonv1.SubjectAttributes, d string) { a.ProbationUntil = d }
	var out []statedDate
	if rn := record.GetReleaseNotice(); rn != nil {
		out = append(out,
			statedDate{"record.release_notice.release_date", "subject.release_date", rn.GetReleaseDate(), release, setRelease},
			statedDate{"record.release_notice.probation_until", "subject.probation_until", rn.GetProbationUntil(), probation, setProbation})
	}
	if pm := record.GetProbationMeasures(); pm != nil {
		out = append(out, statedDate{"record.probation_measures.probation_until", "subject.probation_until", pm.GetProbationUntil(), probation, setProbation})
	}
	return out
}

// recordDates returns the subject's attributes a Disclose, a Notify or a
// correction is decided with. The policy reads the subject's release_date
// and probation_until (a required notice is due before the release day; a
// release window ends days after it; a basis of supervision ends with the
// probation): a record that states such a date (a release notice its
// release date and, if it has one, the last day of probation; probation
// measures the last day of supervision) gives it, attributes that give
// none take it, and attributes that give another are refused, as the
// police would be held to a deadline, and the recipients to a basis, for
// a release or a probation other than the one the record states.
func recordDates(attrs *liaisonv1.SubjectAttributes, record *liaisonv1.Record) (*liaisonv1.SubjectAttributes, error) {
	out := attrs
	for _, d := range statedDates(record) {
		if d.day == "" {
			continue
		}
		if p := dateProblem(d.day); p != "" {
			return nil, invalid(d.record, "%s", p)
		}
		if attrs == nil {
			continue // none given: the caller takes the dates from the record
		}
		switch d.get(attrs) {
		case d.day:
		case "":
			if out == attrs {
				out = proto.CloneOf(attrs)
			}
			d.set(out, d.day)
		default:
			return nil, invalid(d.subject, "is %s, but the record states %s (%s): give the date the record states, "+
				"by which the policy decides (a notice due before the release, a basis that ends after it or with the probation)",
				d.get(attrs), d.day, d.record)
		}
	}
	return out, nil
}

// withRecordDates sets in a the dates that record states.
func withRecordDates(a *liaisonv1.SubjectAttributes, record *liaisonv1.Record) {
	for _, d := range statedDates(record) {
		if d.day != "" {
			d.set(a, d.day)
		}
	}
}

// roleInbox names the inbox of an agency's officers holding a role.
func roleInbox(agency, role string) string { return agency + "/role/" + role }

// inboxes are the boxes an officer reads: the agency's, the officer's own
// (re-identified identities) and one per role the officer holds
// (escalations to a duty role).
func inboxes(c authn.Caller) []string {
	boxes := []string{c.Agency.ID, officerInbox(c)}
	for _, r := range c.Officer.Roles {
		if r != "" && !strings.ContainsAny(r, "/\x00") {
			boxes = append(boxes, roleInbox(c.Agency.ID, r))
		}
	}
	return boxes
}

// acked is what acknowledgeNotices did: the entries it wrote (one per
// notice acknowledged, and a forward's to a peer gateway, which records
// the peer's refusal too), whether the error it returned is recorded in
// one of them (errLogged), and the ids of the notices whose
// acknowledgement is still to be forwarded to the sender's peer gateway.
type acked struct {
	logged    int
	errLogged bool
	deferred  []string
}

// acknowledgeNotices records the acknowledgement of every required notice
// delivered to the caller's agency up to cursor, one entry each.
func (s *Server) acknowledgeNotices(ctx context.Context, c authn.Caller, cursor int64) (res acked, _ error) {
	ns, err := s.cfg.Audit.Notices(ctx, audit.NoticeFilter{Recipient: c.Agency.ID, InboxCursor: cursor, Unacknowledged: true})
	if err != nil {
		return res, storeUnavailable(ctx, "notices", err)
	}
	for _, n := range ns {
		peer, away, err := s.noticeDeliveredBy(ctx, n)
		if err != nil {
			return res, storeUnavailable(ctx, "notices", err)
		}
		if away {
			// Sent through a peer gateway: closed in its log too, the
			// log of the gateway that delivered it. The forward's
			// exchange ends in an entry, whatever its outcome.
			later, err := s.acknowledgeRequiredViaPeer(ctx, n, peer)
			res.logged++
			if err != nil && errorReason(err) != "ALREADY_ACKNOWLEDGED" && errorReason(err) != reasonNoticeWithdrawn {
				res.errLogged = true
				return res, err
			}
			if later {
				res.deferred = append(res.deferred, n.ID)
			}
			continue
		}
		now := s.now()
		e := s.noticeEntry(ctx, n, actionNoticeAcknowledge, now)
		e.Requester = &audit.Requester{
			Agency: c.Agency.ID, Kind: c.Agency.Kind, Jurisdiction: c.Agency.Jurisdiction,
			Officer: c.Officer.ID, Roles: c.Officer.Roles, Clearance: c.Officer.Clearance,
		}
		e.Detail["late"] = fmt.Sprint(now.After(n.Deadline))
		idx, err := s.cfg.Audit.AppendState(ctx, e, audit.Change{Marks: []audit.NoticeMark{{Notice: n.ID, Step: audit.NoticeAcknowledged, Time: now}}})
		switch {
		case errors.Is(err, audit.ErrConflict):
			// Closed meanwhile: acknowledged by another officer, or
			// withdrawn (its release withdrawn or ended), which the store
			// checks in the append's transaction: nothing to record.
			continue
		case err != nil:
			return res, err
		}
		res.logged++
		s.log.InfoContext(ctx, "required notice acknowledged", "notice_id", n.ID, "audit_index", idx, "recipient", n.Recipient,
			"officer", c.Officer.ID, "late", now.After(n.Deadline))
	}
	return res, nil
}

// noticeEntry is the entry of a step of a tracked notice: who sent it, who
// must acknowledge it, the person (as the delivery's audit pseudonym) and
// the notice's facts.
func (s *Server) noticeEntry(ctx context.Context, n audit.Notice, action string, now time.Time) *audit.Entry {
	reg := s.registry.Load()
	sender, recipient := partyOf(reg, n.Sender), partyOf(reg, n.Recipient)
	e := &audit.Entry{
		Time: now, Action: action, RequestID: newRequestID(), Outcome: audit.OutcomeOK,
		Holder:     &audit.Party{Agency: sender.Agency, Kind: sender.Kind, Jurisdiction: sender.Jurisdiction},
		Recipients: []audit.Party{{Agency: recipient.Agency, Kind: recipient.Kind, Jurisdiction: recipient.Jurisdiction}},
		Detail: map[string]string{
			"notice_id": n.ID, "notice_index": fmt.Sprint(n.AuditIndex), "event": n.EventType, "notice_rule": n.Rule,
			"acknowledge_by": n.Deadline.UTC().Format(time.RFC3339), "escalate_at": n.EscalateAt.UTC().Format(time.RFC3339),
		},
	}
	if leaves, err := s.cfg.Audit.Leaves(ctx, n.AuditIndex, n.AuditIndex+1); err == nil && len(leaves) == 1 {
		if d, err := audit.Unmarshal(leaves[0]); err == nil && d.Subject != nil {
			e.Subject = &audit.Subject{Pseudonym: d.Subject.Pseudonym}
			e.RecordType, e.Purpose = d.RecordType, d.Purpose
		}
	}
	return e
}
