package gateway

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Actions the gateway's operator takes on a case whose lead can no longer
// act (CaseOperator).
const (
	actionCaseOperatorClose    = "case_operator_close"    // closed (liaison case close-orphaned)
	actionCaseOperatorHandover = "case_operator_handover" // its lead handed to a member (liaison case handover-orphaned)
)

// operatorRE is how an operator names themselves (CaseOperator.Name): a
// name or id, never free text.
var operatorRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// A CaseOperator is the gateway's operator changing a case of the
// gateway's store whose lead agency the registry no longer lets act:
// offboarded, or no longer in the file. Only the lead closes a case or
// hands its lead over (decided by the policy), and an offboarded lead's
// calls are refused, so such a case could otherwise never be changed
// again; its members would still exchange on its basis. The operator
// closes it (CloseOrphanedCase: `liaison case close-orphaned`) or, so
// that the work goes on, hands its lead to a member
// (HandOverOrphanedCase: `liaison case handover-orphaned`), on the store
// of a gateway that may be running.
//
// Every attempt is exactly one entry, naming the operator (detail
// by_operator) and, if the store or the registry file holds it, the case
// (nameCase), refused ones included (outcome refused, or deny when the
// policy refused a hand-over, with the reason; an OperatorRefusal). A
// change is committed with the case's next version as its precondition,
// as the Cases service commits a change (a gateway that changed the case
// meanwhile makes it refused, CASE_CHANGED, to be run again), and with a
// CaseUpdate for each member the gateway still delivers to, sealed with
// the gateway's keys, in the same transaction; its entry says why the
// lead cannot act (detail lead_standing offboarded or unregistered). Its
// justification is the gateway's own sentence, never free text, so that
// no identifier reaches the log.
type CaseOperator struct {
	// Store is the gateway's audit store, which holds its cases.
	Store audit.StateStore
	// Registry is the gateway's registry: it says whether a lead may act,
	// who may take the lead, and which members the gateway delivers to.
	Registry *Registry
	// Pseudonyms holds the gateway's keys: the members' CaseUpdates are
	// sealed with them, as the gateway seals every inbox item. Keys other
	// than the gateway's seal items its members cannot read.
	Pseudonyms *pseudonym.Pseudonymizer
	// Policy is the gateway's policy: it decides a hand-over
	// (HandOverOrphanedCase) as it decides the lead's own (case_handover).
	// CloseOrphanedCase needs none.
	Policy *policies.Engine
	// Name names the operator in the entry: 1 to 64 letters, digits, '.',
	// '_', '@' or '-'.
	Name string
	// Now is the time of the change. If nil, time.Now.
	Now func() time.Time
}

// An OperatorRefusal is an operator's change of a case that was refused,
// recorded in one entry.
type OperatorRefusal struct {
	// Reason is the entry's reason: a stable code such as LEAD_CAN_ACT,
	// CASE_CLOSED, NEW_LEAD_NOT_A_MEMBER, or the policy's
	// (LEAD_KIND_NOT_ALLOWED...).
	Reason string
	// Field is the argument at fault, if one is: "id", "lead" or "operator".
	Field string
	// Message says why, for the operator.
	Message string
	// Denied is set when the policy refused it (outcome deny).
	Denied bool
	// AuditIndex is the refusal's entry.
	AuditIndex int64
}

func (e *OperatorRefusal) Error() string { return "gateway: " + e.Message }

func (o *CaseOperator) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// An operatorAttempt is one attempt of the operator's, and its one entry.
type operatorAttempt struct {
	o *CaseOperator
	e *audit.Entry
}

func (o *CaseOperator) begin(action string) *operatorAttempt {
	e := &audit.Entry{Time: o.now(), Action: action, RequestID: newRequestID(), Purpose: casePurpose, Detail: map[string]string{}}
	if operatorRE.MatchString(o.Name) {
		e.Detail["by_operator"] = o.Name
	}
	return &operatorAttempt{o: o, e: e}
}

// refuse records the attempt refused (or, denied, as the policy's
// denial), with reason and the argument at fault, if any, and returns
// the refusal.
func (a *operatorAttempt) refuse(ctx context.Context, reason, field, format string, args ...any) error {
	r := &OperatorRefusal{Reason: reason, Field: field, Message: fmt.Sprintf(format, args...), AuditIndex: -1}
	return a.record(ctx, r)
}

func (a *operatorAttempt) record(ctx context.Context, r *OperatorRefusal) error {
	e := a.e
	e.Outcome = audit.OutcomeRefused
	if r.Denied {
		e.Outcome = audit.OutcomeDeny
	}
	if !r.Denied || len(e.Reasons) == 0 {
		e.Reasons = []string{r.Reason} // a denial keeps the policy's reasons
	}
	if r.Field != "" {
		e.Detail["field"] = r.Field
	}
	leaf, err := e.Marshal()
	if err == nil {
		r.AuditIndex, err = a.o.Store.Append(ctx, []audit.Pending{{Leaf: leaf, Entry: e}})
	}
	if err != nil {
		return fmt.Errorf("gateway: %s; its refusal could not be recorded: %v", r.Message, err)
	}
	return r
}

// orphaned reads case id for attempt a and returns it with why its lead
// cannot act: "offboarded" or "unregistered". A case the store does not
// hold (one of the registry file: remove it from the file), a closed
// case, or one whose lead may still act is refused; what says what such
// a lead does itself.
func (o *CaseOperator) orphaned(ctx context.Context, a *operatorAttempt, id, what string) (*audit.CaseState, string, error) {
	if o.Store == nil || o.Registry == nil || o.Pseudonyms == nil {
		return nil, "", errors.New("gateway: an operator's change of a case needs the gateway's store, registry and keys")
	}
	// Every refusal names the case, as the Cases service's do (nameCase),
	// if the store or the registry file holds it: an id that names none
	// is not recorded.
	idErr := validCaseID("id", id, "")
	var cur *audit.CaseState
	if idErr == nil {
		var err error
		if cur, err = o.Store.Case(ctx, id); err != nil {
			return nil, "", err
		}
		switch {
		case cur != nil:
			nameCase(a.e, cur)
		case o.Registry.Cases[id] != nil:
			nameCase(a.e, RegistryCase(o.Registry, id))
		}
	}
	if !operatorRE.MatchString(o.Name) {
		return nil, "", a.refuse(ctx, "INVALID_ARGUMENT", "operator", "the operator must be named by a name or id: 1 to 64 letters, digits, '.', '_', '@' or '-'")
	}
	if idErr != nil {
		msg := idErr.Error()
		if br, ok := errors.AsType[*badRequest](idErr); ok {
			msg = br.problem
		}
		return nil, "", a.refuse(ctx, "INVALID_ARGUMENT", "id", "the case id %s", msg)
	}
	switch {
	case cur == nil && o.Registry.Cases[id] != nil:
		return nil, "", a.refuse(ctx, "CASE_MANAGED_BY_REGISTRY", "id", "case %s is declared in the registry file: change it there, or move it into the gateway with liaison case import", id)
	case cur == nil:
		return nil, "", a.refuse(ctx, "INVALID_ARGUMENT", "id", "the gateway holds no case %s", id)
	}
	if cur.Status == audit.CaseClosed {
		return nil, "", a.refuse(ctx, "CASE_CLOSED", "", "case %s is closed already", id)
	}
	l, ok := o.Registry.Agencies[cur.Lead]
	switch {
	case !ok:
		return cur, "unregistered", nil
	case l.Offboarded:
		return cur, "offboarded", nil
	}
	return nil, "", a.refuse(ctx, "LEAD_CAN_ACT", "", "the lead of case %s, %s, is registered and not offboarded: %s", id, cur.Lead, what)
}

// CloseOrphanedCase closes case id, whose lead can no longer act, with
// one entry of action case_operator_close (outcome ok, no policy
// decision: the policy has no one to decide for), and tells its members
// with a CaseUpdate (change case_operator_close, by_operator, the lead's
// standing). It returns the closed case and the entry's index, or an
// error: an *OperatorRefusal, recorded, when it is refused.
func (o *CaseOperator) CloseOrphanedCase(ctx context.Context, id string) (*audit.CaseState, int64, error) {
	a := o.begin(actionCaseOperatorClose)
	cur, standing, err := o.orphaned(ctx, a, id, "it closes the case itself, or hands the lead over first")
	if err != nil {
		return nil, -1, err
	}
	next := cur.Clone()
	next.Version++
	next.Status, next.Closed = audit.CaseClosed, a.e.Time
	a.e.Justification = fmt.Sprintf("Closed by the gateway's operator: its lead %s is %s, and only the lead closes a case.", cur.Lead, standing)
	idx, err := a.commit(ctx, next, standing, &liaisonv1.CaseUpdate{Change: actionCaseOperatorClose, Agency: cur.Lead, ByOperator: true, LeadStanding: standing})
	if err != nil {
		return nil, -1, err
	}
	return next, idx, nil
}

// HandOverOrphanedCase makes lead, a current member of case id whose lead
// can no longer act, the case's lead, so that the case goes on under it
// rather than be closed. The new lead must be registered and not
// offboarded (AGENCY_OFFBOARDED on lead, as HandOverLead refuses), a
// member other than the lead (NEW_LEAD_NOT_A_MEMBER), and the policy must
// let it take the lead: it decides as it decides the lead's own
// case_handover, the requester being the former lead as the registry
// describes it (its officer the operator, with no roles and clearance
// none). A lead the registry no longer lists cannot be described, and is
// refused (LEAD_UNREGISTERED): the operator lists it again, offboarded.
// The former lead stays a member, as after HandOverLead: the new lead
// may remove it. One entry of action case_operator_handover (with the
// policy's decision and revision, the former lead as holder and the new
// one as recipient), and a CaseUpdate for each member the gateway
// delivers to, the new lead included (change case_operator_handover,
// agency the new lead, by_operator, the former lead's standing). It
// returns the case and the entry's index, or an error: an
// *OperatorRefusal, recorded, when it is refused.
func (o *CaseOperator) HandOverOrphanedCase(ctx context.Context, id, lead string) (*audit.CaseState, int64, error) {
	a := o.begin(actionCaseOperatorHandover)
	if o.Policy == nil {
		return nil, -1, errors.New("gateway: handing the lead over needs the gateway's policy")
	}
	cur, standing, err := o.orphaned(ctx, a, id, "it hands the lead over itself (liaison case handover)")
	if err != nil {
		return nil, -1, err
	}
	reg := o.Registry
	to, ok := reg.Agencies[lead]
	switch {
	case lead == "":
		return nil, -1, a.refuse(ctx, "INVALID_ARGUMENT", "lead", "the new lead is required: a member of case %s", id)
	case !ok:
		return nil, -1, a.refuse(ctx, "INVALID_ARGUMENT", "lead", "%q is not a registered agency", lead)
	}
	a.e.Recipients = []audit.Party{{Agency: to.ID, Kind: to.Kind, Jurisdiction: to.Jurisdiction}}
	switch {
	case to.Offboarded:
		return nil, -1, a.refuse(ctx, reasonOffboarded, "lead", "%s has been offboarded: it can no longer lead a case", lead)
	case lead == cur.Lead || cur.StatusOf(lead) != audit.MemberActive:
		return nil, -1, a.refuse(ctx, "NEW_LEAD_NOT_A_MEMBER", "lead", "the lead of case %s goes only to another current member; %s is not one", id, lead)
	case standing == "unregistered":
		return nil, -1, a.refuse(ctx, "LEAD_UNREGISTERED", "", "the registry no longer lists the lead of case %s, %s, so the policy cannot decide a hand-over from it: "+
			"list it in the registry again, marked offboarded, and run the command again (or close the case with liaison case close-orphaned)", id, cur.Lead)
	}
	from := reg.Agencies[cur.Lead]
	a.e.Holder = &audit.Party{Agency: from.ID, Kind: from.Kind, Jurisdiction: from.Jurisdiction}
	a.e.Justification = fmt.Sprintf("Lead handed over by the gateway's operator to %s: its lead %s is %s, and only the lead hands the lead over.", lead, cur.Lead, standing)
	in := policies.Input{
		Action: "case_handover", Time: a.e.Time.UTC().Format(time.RFC3339),
		Requester: policies.Requester{Agency: from.ID, Kind: from.Kind, Jurisdiction: from.Jurisdiction,
			Officer: policies.Officer{ID: o.Name, Roles: []string{}, Clearance: "none"}},
		Holder: party(from.Agency), Recipient: party(to.Agency), Purpose: casePurpose,
		Case: policyCase(cur, cur.Lead), Justification: a.e.Justification,
	}
	a.e.PolicyRevision = o.Policy.Revision()
	dec, err := o.Policy.Decide(ctx, in)
	if err != nil {
		a.e.Reasons = []string{"POLICY_ERROR"}
		if errors.Is(err, policies.ErrUndefined) {
			a.e.Reasons = []string{"POLICY_UNDEFINED"}
		}
		return nil, -1, a.record(ctx, &OperatorRefusal{Reason: a.e.Reasons[0], Denied: true, AuditIndex: -1,
			Message: fmt.Sprintf("the policy could not decide on the hand-over, so it is refused: %v", err)})
	}
	for _, r := range dec.Reasons {
		a.e.Reasons = append(a.e.Reasons, r.Code)
	}
	a.e.Conditions, a.e.PseudonymDomain = dec.Conditions, dec.PseudonymDomain
	if lb := dec.LegalBasis; lb != nil {
		a.e.LegalBasis = &audit.LegalBasis{ID: lb.ID, Citation: lb.Citation, ValidUntil: lb.ValidUntil}
	}
	if dec.Outcome != policies.OutcomeAllow {
		r := &OperatorRefusal{Reason: "POLICY_DENIED", Denied: true, Message: "the law does not let " + lead + " take the lead", AuditIndex: -1}
		if len(dec.Reasons) > 0 {
			r.Reason, r.Message = dec.Reasons[0].Code, dec.Reasons[0].Message
		}
		return nil, -1, a.record(ctx, r)
	}
	next := cur.Clone()
	next.Version++
	next.Lead = lead
	idx, err := a.commit(ctx, next, standing, &liaisonv1.CaseUpdate{Change: actionCaseOperatorHandover, Agency: lead, ByOperator: true, LeadStanding: standing})
	if err != nil {
		return nil, -1, err
	}
	return next, idx, nil
}

// commit appends the attempt's entry, outcome ok, with the case's next
// version, and u, sealed for each member the gateway delivers to, in one
// transaction. A case changed meanwhile makes it refused (CASE_CHANGED).
func (a *operatorAttempt) commit(ctx context.Context, next *audit.CaseState, standing string, u *liaisonv1.CaseUpdate) (int64, error) {
	e, read := a.e, a.e.Case
	deliveries, err := sealCaseUpdates(a.o.Pseudonyms, a.o.Registry, next, "", u)
	if err != nil {
		return -1, err
	}
	e.Outcome = audit.OutcomeOK
	e.Case = &audit.Case{ID: next.ID, Members: next.Active(), Lead: next.Lead}
	e.Detail["case_version"] = strconv.FormatInt(next.Version, 10)
	e.Detail["lead_standing"] = standing
	leaf, err := e.Marshal()
	if err != nil {
		return -1, err
	}
	idx, err := a.o.Store.AppendState(ctx, audit.Pending{Leaf: leaf, Entry: e, Deliveries: deliveries}, audit.Change{Case: next})
	if errors.Is(err, audit.ErrConflict) {
		// The entry records the change only if it is made.
		e.Case = read
		delete(e.Detail, "case_version")
		return -1, a.refuse(ctx, "CASE_CHANGED", "", "case %s changed meanwhile; run the command again", next.ID)
	}
	if err != nil {
		return -1, err
	}
	next.AuditIndex = idx
	return idx, nil
}
