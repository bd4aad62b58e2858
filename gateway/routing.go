package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// A target is one recipient of a Disclose or Notify, with how the gateway
// found it and the context its exchange is decided in: the first route
// decides (purpose, case, claimed basis), the others are reported.
type target struct {
	agency  *Agency
	routes  []*liaisonv1.RecipientRoute
	purpose string
	claimed string
	cs      *policies.Case
	// receiptCase is the case of the receipt that found an earlier
	// recipient (earlierRecipients), if it was received within one: the
	// receipt counts only while the case is open and the agency a member,
	// which the store checks again when the entry commits (routeHold).
	receiptCase string
}

// targets collects recipients in order, one per agency.
type targets struct {
	list []*target
	byID map[string]*target
}

// add records that a was found by route r; the first route to find an
// agency makes its target (mk gives its context).
func (ts *targets) add(a *Agency, r *liaisonv1.RecipientRoute, mk func() target) {
	if ts.byID == nil {
		ts.byID = map[string]*target{}
	}
	if t, ok := ts.byID[a.ID]; ok {
		t.routes = append(t.routes, r)
		return
	}
	t := mk()
	t.agency, t.routes = a, []*liaisonv1.RecipientRoute{r}
	ts.list = append(ts.list, &t)
	ts.byID[a.ID] = &t
}

// policyRoute is a route as the policy input gives it.
func policyRoute(r *liaisonv1.RecipientRoute) *policies.Route {
	pr := &policies.Route{Area: r.GetArea(), Case: r.GetCaseId(), Basis: r.GetLegalBasis()}
	switch r.GetRole() {
	case liaisonv1.RouteRole_ROUTE_ROLE_COMPETENT:
		pr.Role = "competent"
	case liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER:
		pr.Role = "case_member"
	case liaisonv1.RouteRole_ROUTE_ROLE_EARLIER_RECIPIENT:
		pr.Role = "earlier_recipient"
	default:
		pr.Role = "named"
	}
	return pr
}

// describeRoute says how a recipient was found, for the log.
func describeRoute(r *liaisonv1.RecipientRoute) string {
	pr := policyRoute(r)
	switch pr.Role {
	case "competent":
		return "competent:" + pr.Area
	case "case_member":
		return "case_member:" + pr.Case
	case "earlier_recipient":
		return fmt.Sprintf("earlier_recipient:%s@%d", pr.Basis, r.GetEarlierAuditIndex())
	}
	return "named"
}

// reasonOffboarded is the reason of a refusal to ask an offboarded agency
// or deliver to it, whether this gateway's registry or, for an agency
// behind a peer, its own gateway offboarded it; and of a call made through
// a peer gateway for an agency offboarded here (asPeer).
const reasonOffboarded = "AGENCY_OFFBOARDED"

// offboardedHolder refuses a call that would ask an offboarded agency
// (named in field) for a record.
func offboardedHolder(field string) error {
	return &badRequest{field: field, reason: reasonOffboarded, problem: "has been offboarded: the gateway no longer asks it"}
}

// offboardedRecipient refuses a call that would deliver a record to an
// offboarded agency (named in field). Corrections and withdrawals of what
// it received before still reach it.
func offboardedRecipient(field string) error {
	return &badRequest{field: field, reason: reasonOffboarded, problem: "has been offboarded: the gateway no longer delivers to it"}
}

// reasonUnregistered is the reason of a refusal to deliver to an agency
// the registry in force no longer lists (recipientStanding).
const reasonUnregistered = "AGENCY_UNREGISTERED"

// deliveringActions are the actions whose entry, once committed, delivers
// a record, or an answer, to its recipient: a push to its inbox, or the
// caller's own answer (a request's, a match's, a translation's).
var deliveringActions = []string{"disclose", "notify", "request", "match", "translate"}

// recipientStanding checks, as the entry of an exchange that delivers to
// its recipient (deliveringActions, an outcome that releases) is about
// to commit, that the registry in force still delivers to it: the
// registry was read when the call began (the caller authenticated, its
// recipients found), and one that offboards the recipient, or no longer
// lists it, applied since refuses the exchange (FailedPrecondition,
// AGENCY_OFFBOARDED or AGENCY_UNREGISTERED): nothing is delivered. done
// ends the check: no other registry applies until it is called (regSwap),
// so the entry commits under the registry it was checked against. An
// entry that records what a peer gateway has done already (unheld), a
// notice (a correction or withdrawal reaches an offboarded agency too),
// a refusal or a failure is not checked.
//
// holds, the cases the entry commits under (exchange.holds), are checked
// too, under the same lock, as far as the registry file holds them
// (registryHolds): the error is then a *audit.CaseHoldError, as the
// store's check of a case it holds would be.
func (ex *exchange) recipientStanding(ctx context.Context, holds ...audit.CaseHold) (done func(), _ error) {
	e := ex.entry
	delivers := !ex.unheld && audit.Released(e.Outcome) && slices.Contains(deliveringActions, e.Action) && len(e.Recipients) == 1
	if !delivers && len(holds) == 0 {
		return func() {}, nil
	}
	ex.s.regSwap.RLock()
	if err := ex.registryHolds(ctx, holds); err != nil {
		ex.s.regSwap.RUnlock()
		return nil, err
	}
	if !delivers {
		return ex.s.regSwap.RUnlock, nil
	}
	id := e.Recipients[0].Agency
	a, ok := ex.s.registry.Load().Agencies[id]
	if ok && !a.Offboarded {
		return ex.s.regSwap.RUnlock, nil
	}
	ex.s.regSwap.RUnlock()
	ex.fingerprints = nil
	ex.s.log.InfoContext(ctx, "the registry stopped delivering to the recipient before the exchange committed; refused", "request_id", ex.reqID,
		"recipient", id, "listed", ok)
	if !ok {
		return nil, &stateRefusal{reason: reasonUnregistered, message: fmt.Sprintf(
			"the registry no longer lists %s: it was removed while this exchange was under way, and nothing was delivered to it", id)}
	}
	return nil, &stateRefusal{reason: reasonOffboarded, message: fmt.Sprintf(
		"%s was offboarded while this exchange was under way: the gateway no longer delivers to it, and nothing was delivered", id)}
}

// registryHolds checks holds against the registry in force, for a case
// of the registry file the store does not hold: the store checks a case
// only if it holds it (audit.CaseHold), and a case of the file changes
// with the file, by a reload of the trust files (Server.storeRegistry),
// not in the store. A case the file no longer lists stands no more
// (Closed), nor a member the file no longer names (the case's Agency),
// unless the store holds a case of that id, which shadows the file's
// (caseByID) and which the store checks when the entry commits. Called
// under regSwap (read), which the commit holds on to: no other registry
// applies until the entry has committed.
func (ex *exchange) registryHolds(ctx context.Context, holds []audit.CaseHold) error {
	return ex.s.registryHolds(ctx, holds)
}

// registryHolds is exchange.registryHolds, for a commit made outside an
// exchange (an identity's release after dual control, release1).
func (s *Server) registryHolds(ctx context.Context, holds []audit.CaseHold) error {
	if len(holds) == 0 {
		return nil
	}
	reg := s.registry.Load()
	for _, h := range holds {
		var err error
		if rc, ok := reg.Cases[h.ID]; ok {
			members := make(map[string]string, len(rc.Members))
			for _, m := range rc.Members {
				members[m] = audit.MemberActive
			}
			err = audit.CheckHold(h, audit.CaseOpen, rc.Lead, members)
		} else {
			err = &audit.CaseHoldError{Case: h.ID, Closed: true}
		}
		if err == nil {
			continue
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
		stored, serr := s.cfg.Audit.Case(actx, h.ID)
		cancel()
		if serr != nil {
			return serr
		}
		if stored == nil {
			return err
		}
	}
	return nil
}

// maxRoles caps the recipient roles of one call.
const maxRoles = 10

// resolveNamed adds the recipients named by id.
func resolveNamed(reg *Registry, ts *targets, ids []string, field, purpose, claimed string, cs *policies.Case) error {
	for i, id := range ids {
		a, ok := reg.Agencies[id]
		if !ok {
			return invalid(fmt.Sprintf("%s[%d]", field, i), "is not a registered agency")
		}
		if a.Kind == KindPeerGateway {
			return invalid(fmt.Sprintf("%s[%d]", field, i), "is a peer gateway, not an agency")
		}
		if a.Offboarded {
			return offboardedRecipient(fmt.Sprintf("%s[%d]", field, i))
		}
		if slices.Contains(ids[:i], id) {
			return invalid(fmt.Sprintf("%s[%d]", field, i), "appears twice")
		}
		ts.add(a, &liaisonv1.RecipientRoute{Role: liaisonv1.RouteRole_ROUTE_ROLE_NAMED}, func() target {
			return target{purpose: purpose, claimed: claimed, cs: cs}
		})
	}
	return nil
}

// resolveRoles adds the recipients named by role. A role that no agency
// fills refuses the call: an empty delivery is never silent.
func (s *Server) resolveRoles(ctx context.Context, reg *Registry, ts *targets, roles []*liaisonv1.RecipientRole, field, caller string,
	subjectID pseudonym.SubjectID, subject *liaisonv1.SubjectAttributes, purpose, claimed string, cs *policies.Case) error {
	if len(roles) > maxRoles {
		return invalid(field, "at most %d roles per call", maxRoles)
	}
	for i, role := range roles {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch r := role.GetRole().(type) {
		case *liaisonv1.RecipientRole_Competent:
			kind := enumName(r.Competent.GetKind())
			if kind == "" {
				return invalid(f+".competent.kind", "must name a kind of agency")
			}
			area := strings.TrimSpace(r.Competent.GetMunicipality())
			if p := municipalityProblem(area); p != "" {
				// One spelling of a name, as subject.municipality has.
				return invalid(f+".competent.municipality", "%s", p)
			}
			if mentions(area, string(subjectID)) {
				// The refusal below quotes the municipality, and the
				// policy and the entry (route_area) would hold it.
				return invalid(f+".competent.municipality", "must not contain the subject's identifier")
			}
			if area == "" {
				area = strings.TrimSpace(subject.GetMunicipality())
			}
			if area == "" {
				return invalid(f+".competent.municipality", "is required when the subject's attributes name no municipality")
			}
			// The route records the registry's spelling of the area that
			// matched ("Aarhus" for "aarhus"), one among the agencies of
			// a kind (checkAreaSpellings): the policy's route.area and
			// the log's route_area hold one spelling of a municipality.
			var found []*Agency
			var spelt []string
			for _, id := range sortedKeys(reg.Agencies) {
				a := reg.Agencies[id]
				if x, ok := a.Area(area); ok && a.Kind == kind && !a.Offboarded {
					found, spelt = append(found, a), append(spelt, x)
				}
			}
			if len(found) == 0 {
				return &badRequest{field: f + ".competent", reason: "NO_COMPETENT_RECIPIENT",
					problem: fmt.Sprintf("no registered %s agency is competent for %q; name the recipient, or have the registry list the municipality in its areas", strings.ReplaceAll(kind, "_", " "), area)}
			}
			for i, a := range found {
				ts.add(a, &liaisonv1.RecipientRoute{Role: liaisonv1.RouteRole_ROUTE_ROLE_COMPETENT, Area: spelt[i]}, func() target {
					return target{purpose: purpose, claimed: claimed, cs: cs}
				})
			}
		case *liaisonv1.RecipientRole_CaseMembers:
			id := r.CaseMembers
			if id == "" {
				return invalid(f+".case_members", "must name the case whose members are to receive it")
			}
			if cs != nil && cs.ID != id {
				return invalid(f+".case_members", "must be the case of case_id when both are given")
			}
			rc, err := s.resolveCase(ctx, id, caller, subjectID)
			if err != nil {
				if br, ok := err.(*badRequest); ok {
					br.field = f + ".case_members"
				}
				return err
			}
			// Only a member addresses the case's members: to anyone else
			// the role would name them, and deliver to them under
			// whatever basis outside the case the law gives.
			if rc.RequesterStatus != "lead" && rc.RequesterStatus != "member" {
				return &denial{reason: "NOT_A_CASE_MEMBER", refusal: true, auditIdx: -1, caseID: rc.ID,
					message: fmt.Sprintf("%s.case_members: only a member of case %s may send to its members, and %s is not one", f, id, caller)}
			}
			n := 0
			for _, m := range rc.Members {
				a, ok := reg.Agencies[m]
				if !ok || m == caller || a.Offboarded {
					continue
				}
				n++
				ts.add(a, &liaisonv1.RecipientRoute{Role: liaisonv1.RouteRole_ROUTE_ROLE_CASE_MEMBER, CaseId: id}, func() target {
					return target{purpose: purpose, claimed: claimed, cs: rc}
				})
			}
			if n == 0 {
				return &badRequest{field: f + ".case_members", reason: "CASE_HAS_NO_OTHER_MEMBER", caseID: rc.ID,
					problem: fmt.Sprintf("case %s has no member besides the caller", id)}
			}
		default:
			return invalid(f, "must name a role: competent or case_members")
		}
	}
	return nil
}

// recordActions are the actions that deliver a record: a correction
// delivers the corrected one (a correction sent as a withdrawal delivers
// none, and its entry releases nothing). A Match answer (hit or no-hit)
// delivers none: asking does not make an agency an earlier recipient.
var recordActions = []string{"disclose", "request", "notify", audit.ActionCorrect}

// earlier is an agency's latest receipt about a subject still in force.
type earlier struct {
	index   int64
	basis   string
	purpose string
	caseID  string // the case it was received within, if any
	// kase is that case as it stands (open, the agency a member): the
	// notice to it is decided within it.
	kase *audit.CaseState
}

// earlierRecipients finds, in the log, the agencies that received records
// about the subject (by its audit pseudonym ps, never an identifier) and
// whose latest such receipt rests on a basis still in force at now: its
// legal basis has no end or ends today or later, today where the basis's
// law is (policies.Engine.BasisEnded, as the policy reads it), and a
// receipt within a case counts only while the case is open and the agency
// a member. The
// end is the basis's as it stands now, as the aftercare timers and onward
// use read it (currentSource): the day an expiry notice said it ended,
// else the day a revision (ReviseExpiry) last moved it to, else the day
// the receipt recorded. The log's released records (disclose,
// pseudonymise, a correction's) are receipts; a hit, refusals, denials
// and failures are not, and neither is a receipt its holder withdrew
// (a withdrawal notice, a correction sent as one included), nor one its
// holder corrected since: the correction replaced it, and counts in its
// stead, with its own basis and end (a withdrawal of the correction, or
// the end of its basis, leaves the recipient holding nothing of either).
// Nor is a receipt behind a peer gateway that refused a correction or
// withdrawal of it RELEASE_ENDED on terms this gateway takes
// (peerEndedRelease): the basis ended there, whatever end this log
// records, as corrections and withdrawals take it (releasesOf).
func (s *Server) earlierRecipients(ctx context.Context, ps string, now time.Time) (map[string]earlier, error) {
	eng := s.policy.Current()
	out := map[string]earlier{}
	cases := map[string]*audit.CaseState{}
	caseInForce := func(id, agency string) (bool, error) {
		c, ok := cases[id]
		if !ok {
			var err error
			if c, err = s.caseByID(ctx, id); err != nil {
				return false, err
			}
			cases[id] = c
		}
		return c != nil && c.Status == audit.CaseOpen && slices.Contains(c.Active(), agency), nil
	}
	var receipts []audit.Record
	ends := newBasisEnds()
	withdrawn := map[int64]bool{} // receipts a withdrawal told their recipient to erase or restrict
	replaced := map[int64]bool{}  // receipts a correction sent since replaced
	for r, err := range s.logEntries(ctx, audit.Filter{Subject: ps}) {
		if err != nil {
			return nil, err
		}
		if ends.see(r, "") {
			continue
		}
		e := r.Entry
		if n, ok := audit.NoticeOf(r.Index, e); ok && n.Kind == audit.NoticeWithdrawal {
			for _, x := range n.RefersTo {
				withdrawn[x] = true
			}
			continue
		} else if !ok && (e.Action == audit.ActionCorrect || e.Action == audit.ActionWithdraw) && peerEndedRelease(e) {
			// The recipient's gateway refused a correction or withdrawal
			// of it RELEASE_ENDED: it told the recipient to erase the
			// record when the basis ended there (its expiry notice, which
			// this log cannot hold). The release has ended, as it has for
			// the corrections and withdrawals (releasesOf).
			refs, _ := audit.ParseIndexes(e.Detail[audit.DetailRefersTo])
			for _, x := range refs {
				withdrawn[x] = true
			}
			continue
		} else if ok && n.Kind == audit.NoticeCorrection && audit.ReleasedBy(e) {
			// The correction is a receipt in its own right, with the
			// basis and end it was decided with, and the recipient holds
			// its record instead: the release it corrects counts no
			// more, whatever becomes of the correction (withdrawn, its
			// basis ended or cut short).
			for _, x := range n.RefersTo {
				replaced[x] = true
			}
		}
		if !audit.ReleasedBy(e) || e.Outcome == audit.OutcomeHitOnly || !slices.Contains(recordActions, e.Action) {
			continue // a hit (or no-hit) delivers no record either
		}
		receipts = append(receipts, r)
	}
	for _, r := range receipts {
		e := r.Entry
		if withdrawn[r.Index] || replaced[r.Index] {
			continue // its holder withdrew it, or corrected it: the recipient holds nothing of it, or the correction
		}
		basis := ""
		if lb := e.LegalBasis; lb != nil {
			basis = lb.ID
			if eng.BasisEnded(lb.ID, ends.end(r.Index, lb.ValidUntil), now) {
				continue
			}
		}
		for _, rc := range e.Recipients {
			caseID := ""
			// A receipt within a case (a notice the agency got as a
			// member, or routed by such a receipt, included: its entry
			// names the case it was decided within) counts only while
			// the case is open and the agency a member.
			if e.Case != nil {
				ok, err := caseInForce(e.Case.ID, rc.Agency)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				caseID = e.Case.ID
			}
			out[rc.Agency] = earlier{index: r.Index, basis: basis, purpose: e.Purpose, caseID: caseID, kase: cases[caseID]}
		}
	}
	return out, nil
}
