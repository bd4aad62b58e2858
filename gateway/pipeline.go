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

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// begin opens an exchange before anything about the call is checked: its
// entry records the caller and the action, and says "failed" until the
// exchange learns better. Every path through an RPC then ends in exactly
// one entry: the handler either commits the entry itself (with what it
// delivers) or returns an error, and finish writes the entry with the
// outcome that error means. Callers defer ex.finish(ctx, &err).
//
// The interceptors put the caller in every context but health's; an RPC
// without one is refused there, and audited there.
func (s *Server) begin(ctx context.Context, action string) *exchange {
	c, _ := authn.FromContext(ctx)
	if c.Agency == nil {
		c.Agency = &authn.Agency{}
	}
	now := s.now()
	ex := &exchange{s: s, caller: c, reqID: newRequestID(), index: -1}
	ex.in = policies.Input{
		Action: action,
		Time:   now.Format("2006-01-02T15:04:05.000000000Z07:00"),
		Requester: policies.Requester{
			Agency: c.Agency.ID, Kind: c.Agency.Kind, Jurisdiction: c.Agency.Jurisdiction,
			Officer: policies.Officer{ID: c.Officer.ID, Roles: slices.Clone(c.Officer.Roles), Clearance: c.Officer.Clearance},
		},
	}
	if ex.in.Requester.Officer.Roles == nil {
		ex.in.Requester.Officer.Roles = []string{}
	}
	ex.entry = &audit.Entry{
		Time:      now,
		Action:    action,
		RequestID: ex.reqID,
		Requester: &audit.Requester{
			Agency: c.Agency.ID, Kind: c.Agency.Kind, Jurisdiction: c.Agency.Jurisdiction,
			Officer: c.Officer.ID, Roles: c.Officer.Roles, Clearance: c.Officer.Clearance,
		},
		Outcome: audit.OutcomeFailed,
	}
	ex.notePeer(ctx) // a call through a peer gateway says so
	s.tel.startExchange(ctx, ex)
	return ex
}

// describe completes the policy input and the entry with what the request
// names, once it has been validated: the parties, the record type, the
// purpose, the case and the justification. Only validated values reach the
// log, so an identifier a caller put where it does not belong never does.
func (ex *exchange) describe(holder, recipient policies.Party, in policies.Input) {
	ex.in.Holder, ex.in.Recipient = holder, recipient
	ex.in.RecordType, ex.in.Purpose = in.RecordType, in.Purpose
	ex.in.ClaimedLegalBasis, ex.in.Case, ex.in.Justification = in.ClaimedLegalBasis, in.Case, in.Justification
	e := ex.entry
	if holder.Agency != "" {
		e.Holder = &audit.Party{Agency: holder.Agency, Kind: holder.Kind, Jurisdiction: holder.Jurisdiction}
	}
	if recipient.Agency != "" {
		e.Recipients = []audit.Party{{Agency: recipient.Agency, Kind: recipient.Kind, Jurisdiction: recipient.Jurisdiction}}
	}
	e.RecordType, e.Purpose = in.RecordType, in.Purpose
	e.ClaimedLegalBasis, e.Justification = in.ClaimedLegalBasis, in.Justification
	if in.Case != nil {
		e.Case = &audit.Case{ID: in.Case.ID, Members: in.Case.Members, Lead: in.Case.Lead}
	}
}

// commit appends the exchange's one entry, with the deliveries that go
// out under it, in one durable transaction. After commit the exchange is
// closed: finish writes nothing more, whatever the handler returns.
func (ex *exchange) commit(ctx context.Context, deliveries ...audit.Delivery) (int64, error) {
	defer ex.stage(stageAuditWait).end()
	if len(ex.holds()) > 0 || ex.srcHold != nil {
		// An exchange on a case's basis commits only while the case
		// stands, and one that passes a record on only while its
		// source stands as read, checked in the store's transaction
		// (cases.go).
		return ex.commitState(ctx, audit.Change{}, deliveries...)
	}
	done, err := ex.recipientStanding(ctx)
	if err != nil {
		return -1, err
	}
	defer done()
	ex.closed = true
	idx, err := ex.s.appendRelease(ctx, ex.entry, ex.fingerprints, deliveries...)
	if err != nil {
		return -1, err
	}
	ex.index = idx
	return idx, nil
}

// finish closes the exchange: if the handler did not commit the entry, it
// records the outcome that *errp means (refused, deny, not_found or
// failed, with a stable reason) and appends it. It then turns *errp into
// the caller's status. A handler that returns nil without committing is a
// bug, recorded as a failure.
func (ex *exchange) finish(ctx context.Context, errp *error) {
	err := *errp
	if !ex.closed {
		if err == nil {
			err = &failure{reason: "INTERNAL", err: errors.New("gateway: exchange ended without its entry")}
		}
		ex.settle(err)
		ex.fingerprints = nil // nothing was released
		ex.unheld = true      // a refusal or failure rests on no case
		ex.srcHold = nil      // nor on the source of a record it did not pass on
		if _, aerr := ex.commit(ctx); aerr != nil {
			ex.s.log.ErrorContext(ctx, "audit of a refused or failed exchange failed", "request_id", ex.reqID,
				"action", ex.entry.Action, "outcome", ex.entry.Outcome, "error", aerr)
		}
		if dn, ok := errors.AsType[*denial](err); ok {
			dn.auditIdx = ex.index
		}
		if sr, ok := errors.AsType[*stateRefusal](err); ok && ex.index >= 0 {
			if _, peer := peerFromContext(ctx); peer {
				// A peer gateway's call refused by this gateway's state
				// names its entry, as a denial does, so that the refusal
				// carries the receipt of it (withRefusalReceipt).
				if sr.meta == nil {
					sr.meta = map[string]string{}
				}
				sr.meta["audit_index"] = strconv.FormatInt(ex.index, 10)
			}
		}
		ex.s.log.InfoContext(ctx, "exchange ended", "request_id", ex.reqID, "audit_index", ex.index,
			"action", ex.entry.Action, "requester", ex.entry.Requester.Agency, "outcome", ex.entry.Outcome, "reasons", ex.entry.Reasons)
	}
	ex.s.tel.endExchange(ex, err)
	if err != nil {
		*errp = ex.s.statusError(ctx, err)
	}
}

// releaseDetail are the entry's detail keys that describe what was
// released: the digest of a release, and the answer of a hit/no-hit and
// when its reference expires. A refused or failed exchange keeps none.
var releaseDetail = []string{audit.DetailReleasedDigest, "answer", "reference_expires_at"}

// settle sets the entry's outcome and reasons from the error that ended
// the exchange. Nothing was released on any of these paths.
func (ex *exchange) settle(err error) {
	e := ex.entry
	e.FieldsDisclosed = nil
	// Nor was any notice delivered: the entry must not name one, or a
	// deadline for its acknowledgement, nor the digest of a release.
	for _, k := range ex.noticeKeys {
		delete(e.Detail, k)
	}
	for _, k := range releaseDetail {
		delete(e.Detail, k)
	}
	reason := func(code string) {
		if !slices.Contains(e.Reasons, code) {
			e.Reasons = append(e.Reasons, code)
		}
	}
	var br *badRequest
	var dn *denial
	var ae *authn.Error
	var fl *failure
	switch {
	case errors.As(err, &br):
		e.Outcome, e.Reasons = audit.OutcomeRefused, nil
		reason(cmp.Or(br.reason, "INVALID_ARGUMENT"))
		if e.Detail == nil {
			e.Detail = map[string]string{}
		}
		e.Detail["field"] = br.field
		refusedOnCase(e, br.caseID)
	case errors.As(err, &ae):
		e.Outcome, e.Reasons = audit.OutcomeRefused, nil
		reason(ae.Reason)
	case errors.As(err, &dn) && dn.refusal:
		e.Outcome, e.Reasons = audit.OutcomeRefused, nil
		reason(dn.reason)
		refusedOnCase(e, dn.caseID)
	case errors.As(err, &dn):
		e.Outcome = audit.OutcomeDeny
		reason(dn.reason)
	case errors.As(err, new(*stateRefusal)):
		sr, _ := errors.AsType[*stateRefusal](err)
		e.Outcome, e.Reasons = audit.OutcomeRefused, nil
		reason(sr.reason)
		refusedOnCase(e, sr.caseID)
	case errors.Is(err, errNotFound):
		e.Outcome = audit.OutcomeNotFound
		reason("NOT_FOUND")
	case errors.Is(err, pseudonym.ErrUnavailable):
		e.Outcome = audit.OutcomeFailed
		reason("KEYS_UNAVAILABLE")
	case errors.Is(err, errProvider):
		e.Outcome = audit.OutcomeFailed
		reason("HOLDER_UNAVAILABLE")
	case errors.Is(err, audit.ErrTampered):
		e.Outcome = audit.OutcomeFailed
		reason("AUDIT_INDEX_TAMPERED")
	case errors.Is(err, audit.ErrUnavailable):
		e.Outcome = audit.OutcomeFailed
		reason("AUDIT_UNAVAILABLE")
	case errors.As(err, &fl):
		e.Outcome = audit.OutcomeFailed
		reason(fl.reason)
	case errors.Is(err, context.Canceled):
		e.Outcome = audit.OutcomeFailed
		reason("CANCELED")
	case errors.Is(err, context.DeadlineExceeded):
		e.Outcome = audit.OutcomeFailed
		reason("DEADLINE_EXCEEDED")
	default:
		e.Outcome = audit.OutcomeFailed
		reason("INTERNAL")
	}
}

// refusedOnCase names case id in entry e of an exchange refused on that
// case's account before its decision (CASE_CLOSED, CASE_SUBJECT_MISMATCH:
// resolveCase; NOT_A_CASE_MEMBER for a caller outside a case it asks
// within or sends to the members of, CASE_HAS_NO_OTHER_MEMBER:
// resolveRoles, Match), as the entry of a decided exchange on it names it, so
// that the case's history holds the attempt. An entry that names a case
// already keeps it.
func refusedOnCase(e *audit.Entry, id string) {
	if id != "" && e.Case == nil {
		e.Case = &audit.Case{ID: id}
	}
}

// setSubject records the subject's attributes in the policy input and the
// audit entry.
func (ex *exchange) setSubject(a *liaisonv1.SubjectAttributes) {
	ex.in.Subject = policies.Subject{
		Category:       enumName(a.GetCategory()),
		InCustody:      a.GetInCustody(),
		ReleaseDate:    a.GetReleaseDate(),
		ProbationUntil: a.GetProbationUntil(),
		Municipality:   a.GetMunicipality(),
	}
	ps := ""
	if ex.entry.Subject != nil {
		ps = ex.entry.Subject.Pseudonym
	}
	ex.entry.Subject = &audit.Subject{
		Pseudonym:      ps,
		Category:       ex.in.Subject.Category,
		InCustody:      ex.in.Subject.InCustody,
		ReleaseDate:    ex.in.Subject.ReleaseDate,
		ProbationUntil: ex.in.Subject.ProbationUntil,
		Municipality:   ex.in.Subject.Municipality,
	}
}

// pseudonymiseSubject puts the subject's audit-domain pseudonym in the
// entry: the log never holds the identifier.
func (s *Server) pseudonymiseSubject(ex *exchange) error {
	ps, err := s.cfg.Pseudonyms.AuditPseudonym(ex.subject)
	if err != nil {
		return err
	}
	if ex.entry.Subject == nil {
		ex.entry.Subject = &audit.Subject{}
	}
	ex.entry.Subject.Pseudonym = ps
	return nil
}

// errCallEnded is evaluate's error for a call that ended (its deadline
// passed, or the caller hung up) before the policy answered: no decision
// was made, and the entry says so (failed, DEADLINE_EXCEEDED or CANCELED:
// the error wraps the context's), not a denial or failure by a policy
// that could not decide.
var errCallEnded = errors.New("gateway: the call ended before the policy decided")

// evaluate asks eng for the decision on in, on one of the deep stacks
// decisions run on (deepstack.go). Its error is the policy's, or
// errCallEnded with the context's.
func (s *Server) evaluate(ctx context.Context, eng *policies.Engine, in policies.Input) (policies.Decision, error) {
	var dec policies.Decision
	var err error
	if rerr := s.deciders.run(ctx, func() { dec, err = eng.Decide(ctx, in) }); rerr != nil {
		err = rerr
	}
	if cerr := ctx.Err(); err != nil && cerr != nil {
		return policies.Decision{}, fmt.Errorf("%w: %w", errCallEnded, cerr)
	}
	return dec, err
}

// decide evaluates the active policy and records the decision in the
// entry. An undefined or erroring policy is a denial. A denial is returned
// as a *denial error; the exchange's finish records it.
func (s *Server) decide(ctx context.Context, ex *exchange) (policies.Decision, error) {
	defer ex.stage(stageDecide).end()
	eng := s.policy.Current() // one engine for the whole request, even across an activation
	rev := eng.Revision()
	ex.eng, ex.entry.PolicyRevision = eng, rev
	dec, err := s.evaluate(ctx, eng, ex.in)
	if errors.Is(err, errCallEnded) {
		return policies.Decision{}, err
	}
	if err == nil {
		err = clearInPlan(ex.in, dec)
	}
	if err != nil {
		reason := "POLICY_ERROR"
		if errors.Is(err, policies.ErrUndefined) {
			reason = "POLICY_UNDEFINED"
		}
		s.log.ErrorContext(ctx, "policy could not decide; denying", "request_id", ex.reqID, "policy_revision", rev, "error", err)
		dec = policies.Decision{Outcome: policies.OutcomeDeny, Reasons: []policies.Reason{{
			Code:    reason,
			Message: "The policy could not decide on this exchange, so it is refused. The legal officers have been alerted.",
		}}}
	}
	// Defence in depth: the policy should not have chosen an expired basis.
	dec = eng.DenyExpiredBasis(ex.in, dec)
	e := ex.entry
	e.Outcome = dec.Outcome
	e.Conditions = dec.Conditions
	e.PseudonymDomain = dec.PseudonymDomain
	e.Reasons = nil
	for _, r := range dec.Reasons {
		e.Reasons = append(e.Reasons, r.Code)
	}
	if dec.LegalBasis != nil {
		e.LegalBasis = &audit.LegalBasis{ID: dec.LegalBasis.ID, Citation: dec.LegalBasis.Citation, ValidUntil: dec.LegalBasis.ValidUntil}
	}
	if f := dec.Fields; len(f.Keep)+len(f.Generalise)+len(f.Pseudonymise) > 0 {
		e.FieldPlan = &audit.FieldPlan{Keep: f.Keep, Generalise: f.Generalise, Pseudonymise: f.Pseudonymise, Precision: f.Precision}
	}
	if dec.Outcome != policies.OutcomeDeny {
		return dec, nil
	}
	dn := &denial{reason: "POLICY_DENIED", message: "The law does not allow this exchange.", revision: rev, auditIdx: -1}
	if len(dec.Reasons) > 0 {
		dn.reason, dn.message = dec.Reasons[0].Code, dec.Reasons[0].Message
	}
	return dec, dn
}

// clearInPlan is the gateway's check of a decision against the schema,
// which the policy engine does not know (policies/README.md):
//
//   - a pseudonymise decision passes no direct identifier in clear. A
//     plan that keeps one, by its class or by its name (Person.full_name,
//     Person.subject_id, Address.street), would release the person's name
//     or identifier under an entry that says pseudonymise;
//   - an NGO never receives an assessment in clear, whatever a pack says:
//     not by the class, nor by a name (RiskAssessment.level,
//     FamilyContact.worries, ExitProgrammeStatus.engagement);
//   - every field name in the plan names a field of the record schema
//     that holds a value. A misspelt name (Person.subject_ld) matches no
//     field, so the field it meant would get its class's treatment
//     instead (kept in clear where the plan keeps direct identifiers),
//     and a name of a part (ReleaseNotice.subject) treats nothing. The
//     schema is every record type's, not the input's alone: a pack's
//     plan serves all the record types of its basis or fallback rule
//     (RiskAssessment.level in a plan for every record type).
//
// Such a decision is malformed, and decide denies it POLICY_ERROR before
// anything is fetched. The error names the field, never a value.
// Simulations (Policy.Simulate, liaison policy simulate) and replays
// (NewReplayer: liaison policy replay, the console's impact page) check it
// too, as CheckPlan, so that they show what the gateway would do.
func clearInPlan(in policies.Input, dec policies.Decision) error {
	if dec.Outcome != policies.OutcomePseudonymise && dec.Outcome != policies.OutcomeDisclose {
		return nil
	}
	for _, l := range []struct {
		list  string
		names []string
	}{{"keep", dec.Fields.Keep}, {"generalise", dec.Fields.Generalise}, {"pseudonymise", dec.Fields.Pseudonymise}} {
		for _, f := range l.names {
			if !strings.Contains(f, ".") {
				continue // a field class: the engine refuses any other word (ErrMalformed)
			}
			part, ok := planNames()[f]
			switch {
			case !ok:
				return fmt.Errorf("%w: fields.%s names %s, which is no field of the record schema (misspelt?): the field meant would get its class's treatment", policies.ErrMalformed, l.list, f)
			case part != "":
				return fmt.Errorf("%w: fields.%s names %s, which holds a %s, not a value: name the %s's fields (%s.<field>) or their classes", policies.ErrMalformed, l.list, f, part, part, part)
			}
		}
	}
	plan := pseudonym.Plan{Keep: dec.Fields.Keep, Generalise: dec.Fields.Generalise, Pseudonymise: dec.Fields.Pseudonymise, Precision: dec.Fields.Precision}
	inClear := func(fd protoreflect.FieldDescriptor) (string, bool) {
		name, ok := pseudonym.FieldOutcome(fd, plan, classify)
		return name, ok && !strings.HasSuffix(name, "#")
	}
	if dec.Outcome == policies.OutcomePseudonymise {
		for _, fd := range fieldsOfClass(in.RecordType, pseudonym.ClassDirectIdentifier) {
			if name, clear := inClear(fd); clear {
				return fmt.Errorf("%w: outcome pseudonymise passes the direct identifier %s in clear", policies.ErrMalformed, name)
			}
		}
	}
	if in.Recipient.Kind == "ngo" {
		for _, fd := range fieldsOfClass(in.RecordType, pseudonym.ClassAssessment) {
			if name, clear := inClear(fd); clear {
				return fmt.Errorf("%w: the assessment %s passes to an NGO in clear", policies.ErrMalformed, name)
			}
		}
	}
	return nil
}

// CheckPlan is the gateway's check of a decision's field plan against the
// schema (see clearInPlan): an error wrapping policies.ErrMalformed for a
// decision the gateway denies POLICY_ERROR although the policy engine
// accepted it.
func CheckPlan(in policies.Input, dec policies.Decision) error { return clearInPlan(in, dec) }

// AsTheGatewayActs turns the policy's explanation x of in into what the
// gateway does with its decision (decide): a decision the check of its
// field plan refuses is an error wrapping policies.ErrMalformed, which
// the gateway denies POLICY_ERROR (CheckPlan); a release under a legal
// basis whose valid_until is before the exchange's day where the basis's
// law is, which a correct policy never makes, is the gateway's deny,
// LEGAL_BASIS_EXPIRED, keeping the basis as the entry records it
// (eng.DenyExpiredBasis, eng the engine that explained), with a first
// line saying that the gateway, not the policy, denied it (and no
// assumptions: the deny rests on no reading of the law).
// Policy.Simulate and `liaison policy simulate` show what it returns, so
// that neither shows a decision the gateway does not make.
func AsTheGatewayActs(eng *policies.Engine, in policies.Input, x policies.Explanation) (policies.Explanation, error) {
	if err := clearInPlan(in, x.Decision); err != nil {
		return policies.Explanation{}, err
	}
	d := eng.DenyExpiredBasis(in, x.Decision)
	if d.Outcome == x.Decision.Outcome {
		return x, nil
	}
	day, zone := in.Time, eng.BasisTimeZone(d.LegalBasis.ID)
	if t, err := time.Parse(time.RFC3339Nano, in.Time); err == nil {
		day = t.In(zone).Format(time.DateOnly)
	}
	line := fmt.Sprintf("the gateway denies this exchange, LEGAL_BASIS_EXPIRED: the policy decided %s under %s, whose last day (valid_until %s) is before the exchange's day %s (%s, where the basis's law is); a correct policy never chooses an ended basis",
		x.Decision.Outcome, d.LegalBasis.ID, d.LegalBasis.ValidUntil, day, zone)
	x.Decision = d
	x.Lines = append([]string{line}, x.Lines...)
	x.Assumptions = nil // the deny rests on the gateway's rule, not on a reading of the law
	return x, nil
}

// recipientPseudonym makes the subject's pseudonym in the decision's
// domain, before anything is fetched or transformed. A full disclosure
// names the person anyway, so it does not wait for the key service; any
// other outcome with a domain fails with pseudonym.ErrUnavailable while
// the keys are past their staleness bound.
func (s *Server) recipientPseudonym(ex *exchange, dec policies.Decision) (string, error) {
	if dec.PseudonymDomain == "" {
		if dec.Outcome == policies.OutcomePseudonymise {
			return "", failed("POLICY_ERROR", errors.New("gateway: a pseudonymised outcome without a pseudonym domain"))
		}
		return "", nil
	}
	ps, err := s.cfg.Pseudonyms.Pseudonym(dec.PseudonymDomain, ex.subject)
	if err != nil && dec.Outcome == policies.OutcomeDisclose && errors.Is(err, pseudonym.ErrUnavailable) {
		return "", nil
	}
	return ps, err
}

// release transforms a record for the recipient as decided and completes
// the audit entry with what is released. ps is the subject's pseudonym
// from recipientPseudonym.
func (s *Server) release(ex *exchange, dec policies.Decision, record *liaisonv1.Record, hit bool, ps string) (*liaisonv1.Released, error) {
	defer ex.stage(stageTransform).end()
	rel := &liaisonv1.Released{
		Outcome:          outcomeEnum(dec.Outcome),
		Holder:           ex.in.Holder.Agency,
		RecordType:       recordTypeEnum(ex.in.RecordType),
		Conditions:       dec.Conditions,
		PseudonymDomain:  dec.PseudonymDomain,
		Purpose:          purposeEnum(ex.in.Purpose),
		SubjectPseudonym: ps,
	}
	if dec.LegalBasis != nil {
		rel.LegalBasis = &liaisonv1.LegalBasis{Id: dec.LegalBasis.ID, Citation: dec.LegalBasis.Citation, ValidUntil: dec.LegalBasis.ValidUntil}
	}
	switch dec.Outcome {
	case policies.OutcomeHitOnly:
		rel.Hit = hit
		ex.entry.FieldsDisclosed = []string{"hit"}
	case policies.OutcomeDisclose, policies.OutcomePseudonymise:
		out := record
		if !ex.ownsRecord {
			out = proto.CloneOf(record) // the caller's record stays as it was
		}
		// The wrapper's fields the schema does not know go as the
		// body's do (Apply): no plan lets them through.
		out.ProtoReflect().SetUnknown(nil)
		body, rule := recordBody(out)
		ids := personIDs(body) // before Apply replaces or drops them
		plan := pseudonym.Plan{
			Keep:         dec.Fields.Keep,
			Generalise:   dec.Fields.Generalise,
			Pseudonymise: dec.Fields.Pseudonymise,
			Precision:    dec.Fields.Precision,
			Domain:       dec.PseudonymDomain,
		}
		if ps != "" {
			// One spelling of each person in the release: the record's
			// pseudonyms under the key version of the subject's beside
			// it, made before the fetch, even if the keys rotated since.
			v, err := pseudonym.ParseVersion(ps)
			if err != nil {
				return nil, err
			}
			plan.Version = v
		}
		fields, err := s.cfg.Pseudonyms.Apply(body, plan, classify)
		if err != nil {
			return nil, err
		}
		if err := s.scrubIdentifiers(body, ids, plan); err != nil {
			return nil, err
		}
		rel.Record = out
		rel.Hit = true
		rel.Assessment = rule.GetAssessment()
		rel.Fields = fields
		ex.entry.FieldsDisclosed = fields
	default:
		return nil, errors.New("gateway: unknown outcome " + dec.Outcome)
	}
	ex.entry.Outcome = dec.Outcome
	if err := recordDigest(ex.entry, rel); err != nil { // what the receipt will name (receipts.go)
		return nil, err
	}
	return rel, nil
}

// personKey is Person.subject_id, the key of every person a record names.
var personKey = (&liaisonv1.Person{}).ProtoReflect().Descriptor().Fields().ByName("subject_id")

// personIDs returns the identifiers of the persons a record body names
// (the subject's and third parties', each a Person's key), each once.
func personIDs(m protoreflect.Message) []string {
	var ids []string
	eachScalar(m, func(_ protoreflect.Message, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		if fd.Kind() == protoreflect.StringKind && !fd.IsList() && classify(fd).Key {
			if id := v.String(); id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	})
	return ids
}

// eachScalar calls f with every set field of m, and of the messages in
// it (singular or repeated; maps left out, as records have none), that
// holds no message, and the message that holds it.
func eachScalar(m protoreflect.Message, f func(m protoreflect.Message, fd protoreflect.FieldDescriptor, v protoreflect.Value)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
		case fd.Message() != nil && fd.IsList():
			for i := range v.List().Len() {
				eachScalar(v.List().Get(i).Message(), f)
			}
		case fd.Message() != nil:
			eachScalar(v.Message(), f)
		default:
			f(m, fd, v)
		}
		return true
	})
}

// scrubIdentifiers keeps a person's identifier from leaving in clear in
// another field where the plan does not let the identifier itself pass
// in clear: a kept text (an operational note, a measure's description,
// free text the plan names) that mentions it, as mentions finds a
// mention, gets the person's pseudonym in the plan's domain in its place
// where the plan pseudonymises the key, "[redacted]" where it drops it.
// A text that still mentions it is replaced whole by "[redacted]".
func (s *Server) scrubIdentifiers(body protoreflect.Message, ids []string, plan pseudonym.Plan) error {
	name, passes := pseudonym.FieldOutcome(personKey, plan, classify)
	pseudonymised := passes && strings.HasSuffix(name, "#")
	if len(ids) == 0 || passes && !pseudonymised {
		return nil // no person, or the identifiers pass in clear anyway
	}
	repl := make([]string, len(ids))
	for i, id := range ids {
		repl[i] = "[redacted]"
		if pseudonymised {
			ps, err := s.cfg.Pseudonyms.PlanPseudonym(plan, pseudonym.SubjectID(id))
			if err != nil {
				return err
			}
			repl[i] = ps
		}
	}
	scrub := func(text string) string {
		for i, id := range ids {
			if mentions(text, id) {
				text = redactAs(text, id, repl[i])
			}
			if mentions(text, id) {
				return "[redacted]"
			}
		}
		return text
	}
	eachScalar(body, func(m protoreflect.Message, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		switch {
		case fd.Kind() != protoreflect.StringKind || classify(fd).Key:
			// Not text, or the key itself: a pseudonym by now.
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				l.Set(i, protoreflect.ValueOfString(scrub(l.Get(i).String())))
			}
		default:
			m.Set(fd, protoreflect.ValueOfString(scrub(v.String())))
		}
	})
	return nil
}

// append writes an entry durably. A caller that hangs up does not cancel
// the audit of what it started.
func (s *Server) append(ctx context.Context, e *audit.Entry, d ...audit.Delivery) (int64, error) {
	return s.appendRelease(ctx, e, nil, d...)
}

// appendRelease is append for an entry that releases content, with the
// fingerprints of that content (rememberRelease, onward.go).
func (s *Server) appendRelease(ctx context.Context, e *audit.Entry, fps []audit.Fingerprint, d ...audit.Delivery) (int64, error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	idx, err := s.cfg.Audit.AppendRelease(actx, e, fps, d...)
	if err != nil && !errors.Is(err, audit.ErrUnavailable) {
		err = errors.Join(audit.ErrUnavailable, err)
	}
	return idx, err
}
