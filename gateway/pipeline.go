package gateway

import (
	"context"
	"errors"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// newExchange starts an exchange: it completes the policy input with the
// action, the time and the requester, and opens its audit entry.
func (s *Server) newExchange(c authn.Caller, action string, subject pseudonym.SubjectID, in policies.Input) *exchange {
	now := s.now()
	in.Action = action
	in.Time = now.Format("2006-01-02T15:04:05.000000000Z07:00")
	in.Requester = policies.Requester{
		Agency: c.Agency.ID, Kind: c.Agency.Kind, Jurisdiction: c.Agency.Jurisdiction,
		Officer: policies.Officer{ID: c.Officer.ID, Roles: slices.Clone(c.Officer.Roles), Clearance: c.Officer.Clearance},
	}
	if in.Requester.Officer.Roles == nil {
		in.Requester.Officer.Roles = []string{}
	}
	ex := &exchange{caller: c, reqID: newRequestID(), subject: subject, in: in}
	e := &audit.Entry{
		Time:      now,
		Action:    action,
		RequestID: ex.reqID,
		Requester: &audit.Requester{
			Agency: c.Agency.ID, Kind: c.Agency.Kind, Jurisdiction: c.Agency.Jurisdiction,
			Officer: c.Officer.ID, Roles: c.Officer.Roles, Clearance: c.Officer.Clearance,
		},
		Holder:            &audit.Party{Agency: in.Holder.Agency, Kind: in.Holder.Kind, Jurisdiction: in.Holder.Jurisdiction},
		Recipients:        []audit.Party{{Agency: in.Recipient.Agency, Kind: in.Recipient.Kind, Jurisdiction: in.Recipient.Jurisdiction}},
		RecordType:        in.RecordType,
		Purpose:           in.Purpose,
		ClaimedLegalBasis: in.ClaimedLegalBasis,
		Justification:     in.Justification,
		Outcome:           audit.OutcomeFailed,
	}
	if in.Case != nil {
		e.Case = &audit.Case{ID: in.Case.ID, Members: in.Case.Members, Lead: in.Case.Lead}
	}
	ex.entry = e
	return ex
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

// decide evaluates the active policy. An undefined or erroring policy is a
// denial. A denial is audited here and returned as a *denial error.
func (s *Server) decide(ctx context.Context, ex *exchange) (policies.Decision, error) {
	eng := s.policy.Current() // one engine for the whole request, even across an activation
	rev := eng.Revision()
	ex.entry.PolicyRevision = rev
	dec, err := eng.Decide(ctx, ex.in)
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
	if dec.Outcome != policies.OutcomeDeny && dec.LegalBasis != nil && dec.LegalBasis.ValidUntil != "" &&
		ex.in.Time[:10] > dec.LegalBasis.ValidUntil {
		// Defence in depth: the policy should not have chosen an expired basis.
		dec = policies.Decision{Outcome: policies.OutcomeDeny, LegalBasis: dec.LegalBasis, Reasons: []policies.Reason{{
			Code: "LEGAL_BASIS_EXPIRED", Message: "The legal basis for this exchange ended on " + dec.LegalBasis.ValidUntil + ".",
		}}}
	}
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
	idx, err := s.append(ctx, e)
	if err != nil {
		return dec, err
	}
	dn.auditIdx = idx
	s.log.InfoContext(ctx, "exchange denied", "request_id", ex.reqID, "audit_index", idx, "requester", ex.in.Requester.Agency,
		"holder", ex.in.Holder.Agency, "recipient", ex.in.Recipient.Agency, "reason", dn.reason, "policy_revision", rev)
	return dec, dn
}

// release transforms a record for the recipient as decided and completes
// the audit entry with what is released.
func (s *Server) release(ex *exchange, dec policies.Decision, record *liaisonv1.Record, hit bool) (*liaisonv1.Released, error) {
	rel := &liaisonv1.Released{
		Outcome:         outcomeEnum(dec.Outcome),
		Holder:          ex.in.Holder.Agency,
		RecordType:      recordTypeEnum(ex.in.RecordType),
		Conditions:      dec.Conditions,
		PseudonymDomain: dec.PseudonymDomain,
		Purpose:         purposeEnum(ex.in.Purpose),
	}
	if dec.LegalBasis != nil {
		rel.LegalBasis = &liaisonv1.LegalBasis{Id: dec.LegalBasis.ID, Citation: dec.LegalBasis.Citation, ValidUntil: dec.LegalBasis.ValidUntil}
	}
	if dec.PseudonymDomain != "" {
		ps, err := s.cfg.Pseudonyms.Pseudonym(dec.PseudonymDomain, ex.subject)
		switch {
		case err == nil:
			rel.SubjectPseudonym = ps
		case dec.Outcome == policies.OutcomeDisclose && errors.Is(err, pseudonym.ErrUnavailable):
			// A full disclosure names the person anyway; it does not wait
			// for the key service.
		default:
			return nil, err
		}
	}
	switch dec.Outcome {
	case policies.OutcomeHitOnly:
		rel.Hit = hit
		ex.entry.FieldsDisclosed = []string{"hit"}
	case policies.OutcomeDisclose, policies.OutcomePseudonymise:
		out := proto.CloneOf(record)
		body, rule := recordBody(out)
		if dec.Outcome == policies.OutcomePseudonymise && dec.PseudonymDomain == "" {
			return nil, errors.New("gateway: a pseudonymised outcome without a pseudonym domain")
		}
		fields, err := s.cfg.Pseudonyms.Apply(body, pseudonym.Plan{
			Keep:         dec.Fields.Keep,
			Generalise:   dec.Fields.Generalise,
			Pseudonymise: dec.Fields.Pseudonymise,
			Precision:    dec.Fields.Precision,
			Domain:       dec.PseudonymDomain,
		}, classify)
		if err != nil {
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
	return rel, nil
}

// fail records a failed exchange and returns the caller's status.
func (s *Server) fail(ctx context.Context, ex *exchange, reason string, cause error) error {
	ex.entry.Outcome = audit.OutcomeFailed
	ex.entry.Reasons = append(ex.entry.Reasons, reason)
	ex.entry.FieldsDisclosed = nil
	if _, err := s.append(ctx, ex.entry); err != nil {
		s.log.ErrorContext(ctx, "audit of a failed exchange failed", "request_id", ex.reqID, "error", err)
	}
	return s.statusError(ctx, cause)
}

// append writes an entry durably. A caller that hangs up does not cancel
// the audit of what it started.
func (s *Server) append(ctx context.Context, e *audit.Entry, d ...audit.Delivery) (int64, error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	idx, err := s.cfg.Audit.Append(actx, e, d...)
	if err != nil && !errors.Is(err, audit.ErrUnavailable) {
		err = errors.Join(audit.ErrUnavailable, err)
	}
	return idx, err
}
