package gateway

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// operatorRE is how an operator names themselves (CaseOperator.Name): a
// name or id, never free text.
var operatorRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// A CaseOperator is the gateway's operator changing a case of the
// gateway's store whose lead agency the registry no longer lets act:
// offboarded, or no longer in the file. Only the lead closes a case or
// hands its lead over (decided by the policy), and an offboarded lead's
// calls are refused, so such a case could otherwise never be changed
// again; its members would still exchange on its basis. It is what
// `liaison case close-orphaned` runs, on the store of a gateway that may
// be running.
//
// A change is one entry, naming the operator (detail by_operator) and why
// the lead cannot act (detail lead_standing offboarded or unregistered),
// committed with the case's next version as its precondition, as the
// Cases service commits a change (a gateway that changed the case
// meanwhile makes it fail, to be run again), and with a CaseUpdate for
// each member the gateway still delivers to, sealed with the gateway's
// keys, in the same transaction. Its justification is the gateway's own
// sentence, never free text, so that no identifier reaches the log.
type CaseOperator struct {
	// Store is the gateway's audit store, which holds its cases.
	Store audit.StateStore
	// Registry is the gateway's registry: it says whether a lead may act,
	// and which members the gateway delivers to.
	Registry *Registry
	// Pseudonyms holds the gateway's keys: the members' CaseUpdates are
	// sealed with them, as the gateway seals every inbox item. Keys other
	// than the gateway's seal items its members cannot read.
	Pseudonyms *pseudonym.Pseudonymizer
	// Name names the operator in the entry: 1 to 64 letters, digits, '.',
	// '_', '@' or '-'.
	Name string
	// Now is the time of the change. If nil, time.Now.
	Now func() time.Time
}

func (o *CaseOperator) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// orphaned reads case id and why its lead cannot act: "offboarded" or
// "unregistered". A case the store does not hold (one of the registry
// file: remove it from the file), a closed case, or one whose lead may
// still act is refused with an error saying so; what, for the lead that
// may act, says what the lead does itself.
func (o *CaseOperator) orphaned(ctx context.Context, id, what string) (*audit.CaseState, string, error) {
	if err := validCaseID("case id", id, ""); err != nil {
		return nil, "", err
	}
	if !operatorRE.MatchString(o.Name) {
		return nil, "", errors.New("gateway: the operator must be named by a name or id: 1 to 64 letters, digits, '.', '_', '@' or '-'")
	}
	if o.Store == nil || o.Registry == nil || o.Pseudonyms == nil {
		return nil, "", errors.New("gateway: an operator's change of a case needs the gateway's store, registry and keys")
	}
	cur, err := o.Store.Case(ctx, id)
	switch {
	case err != nil:
		return nil, "", err
	case cur == nil && o.Registry.Cases[id] != nil:
		return nil, "", fmt.Errorf("gateway: case %s is declared in the registry file: remove it there", id)
	case cur == nil:
		return nil, "", fmt.Errorf("gateway: the gateway holds no case %s", id)
	case cur.Status == audit.CaseClosed:
		return nil, "", fmt.Errorf("gateway: case %s is closed already", id)
	}
	a, ok := o.Registry.Agencies[cur.Lead]
	switch {
	case !ok:
		return cur, "unregistered", nil
	case a.Offboarded:
		return cur, "offboarded", nil
	}
	return nil, "", fmt.Errorf("gateway: the lead of case %s, %s, is registered and not offboarded: %s", id, cur.Lead, what)
}

// CloseOrphanedCase closes case id, whose lead can no longer act, with
// one entry of action case_operator_close (outcome ok, no policy
// decision: the policy has no one to decide for), and tells its members
// with a CaseUpdate (change case_operator_close, by_operator, the lead's
// standing). It returns the closed case and the entry's index.
func (o *CaseOperator) CloseOrphanedCase(ctx context.Context, id string) (*audit.CaseState, int64, error) {
	cur, standing, err := o.orphaned(ctx, id, "it closes the case itself, or hands the lead over first")
	if err != nil {
		return nil, -1, err
	}
	next := cur.Clone()
	next.Version++
	next.Status, next.Closed = audit.CaseClosed, o.now()
	e := &audit.Entry{
		Time: next.Closed, Action: actionCaseOperatorClose, RequestID: newRequestID(), Outcome: audit.OutcomeOK,
		Purpose: casePurpose, Case: &audit.Case{ID: next.ID, Members: next.Active(), Lead: next.Lead},
		Justification: fmt.Sprintf("Closed by the gateway's operator: its lead %s is %s, and only the lead closes a case.", cur.Lead, standing),
		Detail: map[string]string{"case_kind": cur.Kind, "case_version": strconv.FormatInt(next.Version, 10),
			"by_operator": o.Name, "lead_standing": standing},
	}
	idx, err := o.commit(ctx, e, next, &liaisonv1.CaseUpdate{Change: actionCaseOperatorClose, Agency: cur.Lead, ByOperator: true, LeadStanding: standing})
	if err != nil {
		return nil, -1, err
	}
	return next, idx, nil
}

// commit appends e with the case's next version, and u, sealed for each
// member the gateway delivers to, in one transaction.
func (o *CaseOperator) commit(ctx context.Context, e *audit.Entry, next *audit.CaseState, u *liaisonv1.CaseUpdate) (int64, error) {
	if next.Subject != "" {
		e.Subject = &audit.Subject{Pseudonym: next.Subject}
	}
	deliveries, err := sealCaseUpdates(o.Pseudonyms, o.Registry, next, "", u)
	if err != nil {
		return -1, err
	}
	leaf, err := e.Marshal()
	if err != nil {
		return -1, err
	}
	idx, err := o.Store.AppendState(ctx, audit.Pending{Leaf: leaf, Entry: e, Deliveries: deliveries}, audit.Change{Case: next})
	if errors.Is(err, audit.ErrConflict) {
		return -1, fmt.Errorf("gateway: case %s changed meanwhile; run the command again", next.ID)
	}
	if err != nil {
		return -1, err
	}
	next.AuditIndex = idx
	return idx, nil
}
