package gateway

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/internal/spelling"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Re-identification is event-sourced in the audit log: a request, each
// approval (or refused approval) and the release are entries of action
// reidentify, told apart by Detail["step"], linked by
// Detail["reid_request"]. The state of a request is the fold of its
// entries, so every step is audited by construction and every replica
// sees the same state. Within a server, approvals and releases take
// turns (Server.reidMu); across replicas, an officer's approval is
// claimed with its entry (audit.Change.Claims) and the release (or its
// refusal, once the request has ended) through the store's
// first-writer-wins set (Config.Once), the same set.

// Once is a first-writer-wins set shared by the replicas: the audit stores
// implement it (the same set that refuses replayed tokens).
type Once interface {
	Remember(ctx context.Context, id, binding [32]byte, expires time.Time) ([32]byte, error)
}

// memoryOnce is the first-writer-wins set of one process; its zero value
// is ready. It is used as a Once through on, with the clock the expiries
// it is given are on.
type memoryOnce struct {
	mu   sync.Mutex
	seen map[[32]byte]onceEntry
}

// on returns m as a Once whose expiries are on the clock now (the
// gateway's, Config.Now, as its callers compute them): compared with the
// wall clock instead, a claim made on a gateway clock behind it had
// expired when made, and the same thing was acted on twice.
func (m *memoryOnce) on(now func() time.Time) Once { return onceOn{m, now} }

type onceOn struct {
	m   *memoryOnce
	now func() time.Time
}

func (o onceOn) Remember(_ context.Context, id, binding [32]byte, expires time.Time) ([32]byte, error) {
	return o.m.remember(id, binding, expires, o.now())
}

type onceEntry struct {
	binding [32]byte
	expires time.Time
}

func (m *memoryOnce) remember(id, binding [32]byte, expires, now time.Time) ([32]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.seen[id]; ok && now.Before(e.expires) {
		return e.binding, nil
	}
	if m.seen == nil {
		m.seen = map[[32]byte]onceEntry{}
	}
	if len(m.seen) > 100000 {
		for k, e := range m.seen {
			if !now.Before(e.expires) {
				delete(m.seen, k)
			}
		}
	}
	m.seen[id] = onceEntry{binding: binding, expires: expires}
	return binding, nil
}

const (
	stepRequest = "request"
	stepApprove = "approve"
	stepRetry   = "retry"   // an approver asked again for a release that had failed
	stepRelease = "release" // outcome disclose, or failed with the reason
)

// ownsDomain reports whether the caller could have received pseudonyms of
// domain: its own agency's domains, or those of a case it is a member of
// now (a member that left, or was removed, no longer is). A closed case's
// domain is refused to its members CASE_CLOSED, as the case is: no
// exchange rests on a closed case, and its pseudonyms are neither
// translated nor re-identified any more.
func (s *Server) ownsDomain(ctx context.Context, agency, domain string) (bool, error) {
	if strings.HasPrefix(domain, agency+"/") {
		return true, nil
	}
	if id, ok := strings.CutPrefix(domain, "case/"); ok && caseIDRE.MatchString(id) {
		c, err := s.caseByID(ctx, id)
		if err != nil {
			return false, err
		}
		if c == nil || !slices.Contains(c.Active(), agency) {
			return false, nil
		}
		if c.Status == audit.CaseClosed {
			return false, &stateRefusal{reason: "CASE_CLOSED", caseID: c.ID, message: fmt.Sprintf("case %s is closed: its pseudonyms (from_domain) are no longer translated or re-identified", id)}
		}
		return true, nil
	}
	return false, nil
}

// maxDomainLen bounds a pseudonym domain a caller names.
const maxDomainLen = 256

// resolveFor checks the caller's right to the domain and resolves the
// pseudonym.
func (s *Server) resolveFor(ctx context.Context, c authn.Caller, ps, domain string) (pseudonym.SubjectID, error) {
	switch {
	case ps == "" || len(ps) > 512:
		return "", invalid("pseudonym", "is required (at most 512 characters)")
	case domain == "":
		return "", invalid("from_domain", "is required: the pseudonym_domain the pseudonym came with")
	case len(domain) > maxDomainLen || strings.TrimSpace(domain) != domain ||
		strings.ContainsFunc(domain, func(r rune) bool { return spelling.Unprintable(r) || unicode.IsSpace(r) }):
		// Not a domain the gateway writes: blaming the pseudonym for it
		// (no pseudonym of such a domain) would name the wrong field.
		return "", invalid("from_domain", "must be a pseudonym domain as the gateway gave it (Released.pseudonym_domain): "+
			"at most %d printable characters, no white space", maxDomainLen)
	}
	owns, err := s.ownsDomain(ctx, c.Agency.ID, domain)
	if err != nil {
		return "", err
	}
	if !owns {
		return "", invalid("from_domain", "is not a domain of your agency or of a case it is a member of")
	}
	id, err := s.cfg.Pseudonyms.Resolve(domain, ps)
	err = s.notLoadedYet(err)
	if _, ok := errors.AsType[*pseudonym.KeyVersionError](err); ok {
		// Retired: a stable reason beside the field, so that neither the
		// caller nor an auditor takes it for a mistyped pseudonym.
		return "", &badRequest{field: "pseudonym", problem: "was made under a retired key version; ask for the record again",
			reason: reasonKeyVersionRetired}
	}
	if errors.Is(err, pseudonym.ErrNotAPseudonym) {
		return "", invalid("pseudonym", "is not a pseudonym of from_domain")
	}
	return id, err
}

// Translate maps a pseudonym of the caller's domain into the domain the
// policy names for action translate.
func (s *Server) Translate(ctx context.Context, req *liaisonv1.TranslateRequest) (_ *liaisonv1.TranslateResponse, err error) {
	ex := s.begin(ctx, "translate")
	defer ex.finish(ctx, &err)
	id, cs, words, err := s.validatePseudonymCall(ctx, ex, req.GetPurpose(), req.GetJustification(), req.GetClaimedLegalBasis(), req.GetCaseId(), req.GetPseudonym(), req.GetFromDomain())
	if err != nil {
		return nil, err
	}
	caller := ex.caller
	ex.describe(party(caller.Agency), party(caller.Agency), policies.Input{
		Purpose: enumName(req.GetPurpose()), ClaimedLegalBasis: req.GetClaimedLegalBasis(),
		Case: cs, Justification: words.justification,
	})
	ex.entry.ClaimedLegalBasis = words.claimed
	ex.subject = id
	ex.entry.Detail = map[string]string{"from_domain": req.GetFromDomain()}
	if err := s.pseudonymiseSubject(ex); err != nil {
		return nil, err
	}
	dec, err := s.decide(ctx, ex)
	if err != nil {
		return nil, err
	}
	if dec.Outcome != policies.OutcomePseudonymise || dec.PseudonymDomain == "" {
		return nil, failed("TRANSLATION_NOT_PSEUDONYMOUS", errors.New("gateway: a translation must be pseudonymous"))
	}
	ps, err := s.cfg.Pseudonyms.Pseudonym(dec.PseudonymDomain, id)
	if err != nil {
		return nil, err
	}
	ex.entry.FieldsDisclosed = []string{"Person.subject_id#"}
	idx, err := ex.commit(ctx)
	if err != nil {
		return nil, err
	}
	resp := &liaisonv1.TranslateResponse{Pseudonym: ps, PseudonymDomain: dec.PseudonymDomain, Conditions: dec.Conditions, AuditIndex: idx}
	if dec.LegalBasis != nil {
		resp.LegalBasis = &liaisonv1.LegalBasis{Id: dec.LegalBasis.ID, Citation: dec.LegalBasis.Citation, ValidUntil: dec.LegalBasis.ValidUntil}
	}
	return resp, nil
}

// validatePseudonymCall checks what Translate and RequestReidentification
// share and resolves the pseudonym. A key outage while resolving is the
// exchange's failure (KEYS_UNAVAILABLE), not a refusal.
//
// It returns the justification and the claimed legal basis to record:
// the caller's, with the identifier behind the pseudonym, if it appears
// (as people write it: "test.syn_nl_0001" names SYN-NL-0001), replaced by
// "[subject]". Refusing them instead, as the other exchanges do, would
// answer whether a guessed identifier is the person behind the pseudonym:
// an identity learnt without the policy or dual control. For the same
// reason the policy decides on the claimed basis as the caller spelt it:
// a denial quotes an unknown basis, and one quoted as "[subject]" would
// say that the guess was right.
func (s *Server) validatePseudonymCall(ctx context.Context, ex *exchange, purpose liaisonv1.Purpose, justification, claimed, caseID, ps, domain string) (pseudonym.SubjectID, *policies.Case, pseudonymCallWords, error) {
	var none pseudonymCallWords
	if enumName(purpose) == "" {
		return "", nil, none, invalid("purpose", "must name a purpose")
	}
	if err := validJustification(justification, ""); err != nil {
		return "", nil, none, err
	}
	// Its spelling only: refusing one that names the identifier behind
	// the pseudonym would answer a guess, as for the justification.
	if err := validClaimedBasis(claimed, ""); err != nil {
		return "", nil, none, err
	}
	// Not checked against the case's subject: a pseudonym of the case's
	// domain may be an associate's, named in a record about the subject.
	cs, err := s.resolveCase(ctx, caseID, ex.caller.Agency.ID, "")
	if err != nil {
		return "", nil, none, err
	}
	id, err := s.resolveFor(ctx, ex.caller, ps, domain)
	if err != nil {
		return "", nil, none, err
	}
	if cid, ok := strings.CutPrefix(domain, "case/"); ok {
		// A pseudonym of a case's domain is the caller's only while it is
		// a member of the open case: so when the entry commits too.
		ex.caseHolds = append(ex.caseHolds, audit.CaseHold{ID: cid, Members: []string{ex.caller.Agency.ID}})
	}
	return id, cs, pseudonymCallWords{justification: redact(justification, string(id)), claimed: redact(claimed, string(id))}, nil
}

// pseudonymCallWords are the words of a Translate or a
// RequestReidentification that its entry records, with the identifier
// behind the pseudonym replaced by "[subject]".
type pseudonymCallWords struct {
	justification, claimed string
}

// RequestReidentification opens a re-identification under dual control.
func (s *Server) RequestReidentification(ctx context.Context, req *liaisonv1.RequestReidentificationRequest) (_ *liaisonv1.RequestReidentificationResponse, err error) {
	ex := s.begin(ctx, "reidentify")
	defer ex.finish(ctx, &err)
	rid := "reid-" + strings.ToLower(rand.Text()[:20])
	ex.entry.Detail = map[string]string{"step": stepRequest, "reid_request": rid}
	id, cs, words, err := s.validatePseudonymCall(ctx, ex, req.GetPurpose(), req.GetJustification(), req.GetClaimedLegalBasis(), req.GetCaseId(), req.GetPseudonym(), req.GetFromDomain())
	if err != nil {
		return nil, err
	}
	caller := ex.caller
	ex.describe(party(caller.Agency), party(caller.Agency), policies.Input{
		Purpose: enumName(req.GetPurpose()), ClaimedLegalBasis: req.GetClaimedLegalBasis(),
		Case: cs, Justification: words.justification,
	})
	ex.entry.ClaimedLegalBasis = words.claimed
	ex.subject = id
	d := ex.entry.Detail
	d["pseudonym"], d["from_domain"] = req.GetPseudonym(), req.GetFromDomain()
	if err := s.pseudonymiseSubject(ex); err != nil {
		return nil, err
	}
	dec, err := s.decide(ctx, ex)
	if err != nil {
		return nil, err
	}
	a := dec.Approval
	var window time.Duration
	if a != nil {
		window, _ = time.ParseDuration(a.ExpiresAfter)
	}
	if dec.Outcome != policies.OutcomeDisclose || a == nil || a.Quorum < 1 || len(a.Roles) == 0 || window <= 0 {
		return nil, failed("POLICY_ERROR", errors.New("gateway: a re-identification needs a disclose decision with a valid approval rule"))
	}
	d["quorum"] = strconv.Itoa(a.Quorum)
	d["roles"] = strings.Join(a.Roles, ",")
	d["agencies"] = strings.Join(a.Agencies, ",")
	d["other_agency"] = strconv.FormatBool(a.OtherAgency)
	d["expires_after"] = window.String()
	ex.entry.Outcome = audit.OutcomePending
	idx, err := ex.commit(ctx)
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "re-identification requested", "request_id", ex.reqID, "reid_request", rid, "requester", caller.Agency.ID, "quorum", a.Quorum)
	resp := &liaisonv1.RequestReidentificationResponse{RequestId: rid, Quorum: int32(a.Quorum), ApproverRoles: a.Roles, AuditIndex: idx}
	if dec.LegalBasis != nil {
		resp.LegalBasis = &liaisonv1.LegalBasis{Id: dec.LegalBasis.ID, Citation: dec.LegalBasis.Citation, ValidUntil: dec.LegalBasis.ValidUntil}
	}
	return resp, nil
}

// reid is the state of one re-identification request.
type reid struct {
	id        string
	index     int64 // the request's entry in the log
	request   *audit.Entry
	quorum    int
	roles     []string
	agencies  []string
	other     bool
	expires   time.Time
	approvals []*audit.Entry // successful approvals, in order
	// recorded is how many approvals of it the log holds, each officer's
	// counted as often as it is there: the sequence its next approval
	// claims (approvalSeqClaim).
	recorded int
	released bool
	failures int // release attempts that failed (keys unavailable)
	// ended is the reason the request no longer stands (the case it was
	// made in closed, the requester left it, the requesting agency was
	// offboarded, or the pseudonym's key version retired), from a refused
	// release.
	ended string
}

// due reports whether r met its quorum within its window and still waits
// for its release.
func (r *reid) due(now time.Time) bool {
	return !r.released && r.ended == "" && len(r.approvals) >= r.quorum && now.Before(r.expires)
}

// canApprove says why an officer may not approve r, or "" if they may.
// who is the officers' identity for dual control (Server.officerIdentity).
func (r *reid) canApprove(c authn.Caller, now time.Time, who func(agency, officer string) string) (code, msg string) {
	req := r.request.Requester
	me := who(c.Agency.ID, c.Officer.ID)
	switch {
	case r.released:
		return "ALREADY_RELEASED", "the identity has already been released"
	case r.ended != "":
		return r.ended, endedMessage(r.ended)
	case !now.Before(r.expires):
		return "REQUEST_EXPIRED", "the request has expired; the requester must ask again"
	case me == who(req.Agency, req.Officer):
		return "SELF_APPROVAL", "the requester cannot approve their own request"
	case !slices.ContainsFunc(r.roles, c.HasRole):
		return "NOT_AN_APPROVER", "approving needs one of the roles " + strings.Join(r.roles, ", ")
	case len(r.agencies) > 0 && !slices.Contains(r.agencies, c.Agency.ID):
		return "NOT_AN_APPROVER", "approvers must come from " + strings.Join(r.agencies, ", ")
	case r.other && c.Agency.ID == req.Agency:
		return "NOT_AN_APPROVER", "approvers must come from another agency than the requester's"
	}
	for _, a := range r.approvals {
		if who(a.Requester.Agency, a.Requester.Officer) == me {
			return "ALREADY_APPROVED", "you have already approved this request"
		}
	}
	if len(r.approvals) >= r.quorum {
		// The log never shows more approvals counted than the quorum
		// the release used: a later one is refused, not recorded as if
		// it counted.
		return reasonQuorumMet, "the request has the approvals its quorum needs already: yours is not needed, and not counted; " +
			"the identity is released without it"
	}
	return "", ""
}

// reasonQuorumMet refuses an approval of a request whose quorum is met.
const reasonQuorumMet = "QUORUM_MET"

// reids folds the log's re-identification entries into their states.
func (s *Server) reids(ctx context.Context) (map[string]*reid, error) {
	out := map[string]*reid{}
	for start := int64(0); ; {
		recs, err := s.cfg.Audit.Query(ctx, audit.Filter{Action: "reidentify", Start: start, Limit: 1000})
		if errors.Is(err, audit.ErrTampered) {
			return nil, err // DataLoss, not a retryable outage
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", audit.ErrUnavailable, err)
		}
		for _, rec := range recs {
			start = rec.Index + 1
			e := rec.Entry
			id := e.Detail["reid_request"]
			switch {
			case id == "":
			case e.Detail["step"] == stepRequest && e.Outcome == audit.OutcomePending:
				q, _ := strconv.Atoi(e.Detail["quorum"])
				win, _ := time.ParseDuration(e.Detail["expires_after"])
				out[id] = &reid{id: id, index: rec.Index, request: e, quorum: q, roles: splitList(e.Detail["roles"]),
					agencies: splitList(e.Detail["agencies"]), other: e.Detail["other_agency"] == "true", expires: e.Time.Add(win)}
			case out[id] == nil:
			case e.Detail["step"] == stepApprove && e.Outcome == audit.OutcomeOK:
				out[id].recorded++
				// An officer counts once. (Their approval is claimed with
				// its entry; a log written before that may hold two, made
				// at once on two replicas.)
				if !slices.ContainsFunc(out[id].approvals, func(a *audit.Entry) bool {
					return s.officerIdentity(a.Requester.Agency, a.Requester.Officer) == s.officerIdentity(e.Requester.Agency, e.Requester.Officer)
				}) {
					out[id].approvals = append(out[id].approvals, e)
				}
			case e.Detail["step"] == stepRelease && e.Outcome == audit.OutcomeDisclose:
				out[id].released = true
			case e.Detail["step"] == stepRelease && e.Outcome == audit.OutcomeRefused && len(e.Reasons) > 0:
				out[id].ended = e.Reasons[0]
			case e.Detail["step"] == stepRelease:
				out[id].failures++
			}
		}
		if len(recs) < 1000 {
			return out, nil
		}
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// ListReidentifications lists the pending requests the caller may approve.
func (s *Server) ListReidentifications(ctx context.Context, _ *liaisonv1.ListReidentificationsRequest) (*liaisonv1.ListReidentificationsResponse, error) {
	caller, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	all, err := s.reids(ctx)
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	now := s.now()
	resp := &liaisonv1.ListReidentificationsResponse{}
	// Oldest first, in the log's order of the requests: their times are
	// to the second, and the requests are held by id.
	for _, r := range slices.SortedFunc(maps.Values(all), func(a, b *reid) int { return cmp.Compare(a.index, b.index) }) {
		if len(r.approvals) >= r.quorum {
			// Only the approvals that still count make the quorum met.
			if err := s.countStanding(ctx, r); err != nil {
				return nil, s.statusError(ctx, err)
			}
		}
		if code, _ := r.canApprove(caller, now, s.officerIdentity); code != "" {
			continue
		}
		if code, _, err := s.approverStanding(ctx, r, caller); err != nil {
			return nil, s.statusError(ctx, err)
		} else if code != "" {
			continue
		}
		if why, err := s.reidStanding(ctx, r); err != nil {
			return nil, s.statusError(ctx, err)
		} else if why != "" {
			continue // ended: its case closed, the requester left it or was offboarded
		}
		if err := s.countStanding(ctx, r); err != nil {
			return nil, s.statusError(ctx, err)
		}
		p := &liaisonv1.PendingReidentification{
			RequestId: r.id, RequesterAgency: r.request.Requester.Agency, RequesterOfficer: r.request.Requester.Officer,
			Justification: r.request.Justification, Created: r.request.Time.UTC().Format(time.RFC3339),
			Approvals: int32(len(r.approvals)), Quorum: int32(r.quorum),
		}
		if r.request.Case != nil {
			p.CaseId = r.request.Case.ID
		}
		if lb := r.request.LegalBasis; lb != nil {
			p.LegalBasis = &liaisonv1.LegalBasis{Id: lb.ID, Citation: lb.Citation, ValidUntil: lb.ValidUntil}
		}
		resp.Requests = append(resp.Requests, p)
	}
	return resp, nil
}

// justificationWithheld is the justification an approval's entry records
// when the approver's words could not be checked for the person's
// identifier: the keys were unavailable, or the pseudonym's key version
// has retired.
const justificationWithheld = "[withheld: it could not be checked for the person's identifier]"

// ApproveReidentification records an approval and, when it meets the
// quorum, releases the identity once to the requester's own inbox. An
// approval that meets the quorum while the keys are unavailable stands:
// the failed release is an entry of its own, and the release is made
// later (Run retries it, as does any further approval call) within the
// request's window.
func (s *Server) ApproveReidentification(ctx context.Context, req *liaisonv1.ApproveReidentificationRequest) (_ *liaisonv1.ApproveReidentificationResponse, err error) {
	ex := s.begin(ctx, "reidentify")
	defer ex.finish(ctx, &err)
	ex.entry.Detail = map[string]string{"step": stepApprove}
	if req.GetRequestId() == "" {
		return nil, invalid("request_id", "is required")
	}
	if err := validJustification(req.GetJustification(), ""); err != nil {
		return nil, err
	}
	s.reidMu.Lock()
	defer s.reidMu.Unlock()
	all, err := s.reids(ctx)
	if err != nil {
		return nil, err
	}
	r := all[req.GetRequestId()]
	if r == nil {
		return nil, invalid("request_id", "names no pending re-identification")
	}
	if err := s.countStanding(ctx, r); err != nil {
		return nil, err
	}
	// The approver's reason is recorded with the identifier behind the
	// pseudonym, if it appears, replaced by "[subject]", as the
	// requester's is (validatePseudonymCall): refusing it would answer a
	// guess, and recording it would put the identity in the log.
	// While the keys are unavailable the reason cannot be checked: the
	// approval still counts (a quorum met then is released once the keys
	// are back), and its entry records that the reason was withheld
	// rather than the words, which might name the person. So once the
	// pseudonym's key version has retired: the identity behind it is not
	// found any more (the release that tries ends the request).
	justification, withheld := req.GetJustification(), ""
	id, rerr := s.cfg.Pseudonyms.Resolve(r.request.Detail["from_domain"], r.request.Detail["pseudonym"])
	kv, _ := errors.AsType[*pseudonym.KeyVersionError](rerr)
	switch {
	case rerr == nil:
		justification = redact(justification, string(id))
	case kv != nil && kv.Version < s.cfg.Pseudonyms.CurrentVersion():
		withheld = reasonKeyVersionRetired
	case errors.Is(rerr, pseudonym.ErrUnavailable), kv != nil: // a version not loaded here yet is as unavailable
		withheld = "KEYS_UNAVAILABLE"
	default:
		withheld = "RESOLVE_FAILED"
	}
	caller, now := ex.caller, s.now()
	e := ex.entry
	e.Subject, e.Justification, e.LegalBasis = r.request.Subject, justification, r.request.LegalBasis
	e.Detail["reid_request"] = r.id
	if withheld != "" {
		e.Justification = justificationWithheld
		e.Detail["justification_withheld"] = withheld
	}
	resp := &liaisonv1.ApproveReidentificationResponse{Approvals: int32(len(r.approvals)), Quorum: int32(r.quorum)}
	if code, msg := r.canApprove(caller, now, s.officerIdentity); code != "" {
		if code == "ALREADY_APPROVED" && r.due(now) {
			// The quorum was met but the release has not been made (the
			// keys were unavailable): this call retries it, and is
			// recorded as the retry it is, not as a second approval.
			e.Detail["step"] = stepRetry
			e.Outcome = audit.OutcomeOK
			if resp.AuditIndex, err = ex.commit(ctx); err != nil {
				return nil, err
			}
			resp.Released, resp.ReleasePendingReason = s.releaseDue(ctx, r)
			return resp, nil
		}
		if code == reasonQuorumMet && r.due(now) {
			// Not an approval, but a further call all the same: the
			// release still due is tried again (its own entry), as the
			// timers would.
			s.releaseDue(ctx, r)
		}
		return nil, &denial{reason: code, message: msg, refusal: true, auditIdx: -1}
	}
	if why, err := s.reidStanding(ctx, r); err != nil {
		return nil, err
	} else if why != "" {
		return nil, &denial{reason: why, message: endedMessage(why), refusal: true, auditIdx: -1}
	}
	if code, msg, err := s.approverStanding(ctx, r, caller); err != nil {
		return nil, err
	} else if code != "" {
		return nil, &denial{reason: code, message: msg, refusal: true, auditIdx: -1}
	}
	e.Outcome = audit.OutcomeOK
	// The checks above read the log as this replica had it. The officer's
	// approval is claimed with its entry, so that of the same approval
	// taken at once by two replicas one is recorded and the other refused.
	// It claims too the request's next approval in the log's sequence,
	// so that approvals given at once on several replicas are taken one
	// after the other, each judged on those before it: one that finds the
	// quorum met by then is refused (QUORUM_MET), not recorded as if it
	// counted.
	claim := audit.Claim{ID: approvalClaim(r.id, s.officerIdentity(caller.Agency.ID, caller.Officer.ID)), Expires: r.expires.Add(approvalClaimMargin)}
	for tries := 0; ; tries++ {
		seq := audit.Claim{ID: approvalSeqClaim(r.id, r.recorded), Expires: claim.Expires}
		resp.AuditIndex, err = ex.commitState(ctx, audit.Change{Claims: []audit.Claim{claim, seq}})
		if !errors.Is(err, audit.ErrConflict) {
			break
		}
		// Another approval was recorded meanwhile (or this officer's):
		// judge this one again on the log as it is now. None recorded
		// since: the conflict is this officer's claim.
		all, err := s.reids(ctx)
		if err != nil {
			return nil, err
		}
		if all[r.id] == nil || all[r.id].recorded == r.recorded || tries >= maxApprovalTries {
			return nil, &denial{reason: "ALREADY_APPROVED", message: "you have already approved this request", refusal: true, auditIdx: -1}
		}
		r = all[r.id]
		if err := s.countStanding(ctx, r); err != nil {
			return nil, err
		}
		if code, msg := r.canApprove(caller, s.now(), s.officerIdentity); code != "" {
			return nil, &denial{reason: code, message: msg, refusal: true, auditIdx: -1}
		}
	}
	if err != nil {
		return nil, err
	}
	// Approvals that other replicas recorded meanwhile count too: of two
	// approvals that meet the quorum at once, the one recorded last sees
	// the other and releases.
	if all, err := s.reids(ctx); err == nil && all[r.id] != nil {
		r = all[r.id]
	} else {
		r.approvals = append(r.approvals, e)
	}
	if err := s.countStanding(ctx, r); err != nil {
		return nil, err
	}
	resp.Approvals = int32(len(r.approvals))
	switch {
	case len(r.approvals) < r.quorum:
		return resp, nil
	case r.released:
		resp.Released = true
		return resp, nil
	case r.ended != "":
		resp.ReleasePendingReason = r.ended // a release meanwhile found that the request no longer stands
		return resp, nil
	}
	resp.Released, resp.ReleasePendingReason = s.releaseDue(ctx, r)
	return resp, nil
}

// approvalClaimMargin is how long after its request's window an approval's
// claim is kept: longer than the clocks of two replicas can differ.
const approvalClaimMargin = 24 * time.Hour

// approvalClaim is the id an officer's approval of a request takes in the
// store's first-writer-wins set; who is the officer's identity
// (Server.officerIdentity).
func approvalClaim(id, who string) [32]byte {
	return sha256.Sum256([]byte("liaison/reidentify/approve\x00" + id + "\x00" + who))
}

// approvalSeqClaim is the id the n-th approval recorded of a request
// (from 0, every approval entry counted) takes in the store's
// first-writer-wins set: of approvals given at once, one takes it.
func approvalSeqClaim(id string, n int) [32]byte {
	return sha256.Sum256([]byte("liaison/reidentify/approval\x00" + id + "\x00" + strconv.Itoa(n)))
}

// maxApprovalTries bounds how often an approval is judged again after
// others were recorded at the same moment.
const maxApprovalTries = 8

// officerIdentity is who an officer is for dual control (the requester
// never approves, an officer counts once): the officer id as officerKey
// spells it, within the identity provider that vouches for it. An
// officer's token names them by the issuer's sub, which is unique within
// that issuer, not within an agency: where several agencies share an
// issuer (a national identity provider for several police forces), one
// person may hold tokens for two of them, and the same id there is the
// same person. Compared per agency, they were two officers: the requester
// approved their own request through the other agency (which "from
// another agency" lets through), and one approver's approvals through two
// agencies met a quorum of two. Ids of different issuers are never taken
// for one person; an agency with no issuer here (one reached via a peer
// gateway) keeps its own officers.
func (s *Server) officerIdentity(agency, officer string) string {
	if a := s.registry.Load().Agencies[agency]; a != nil && a.Agency != nil && a.Via == "" && a.Issuer != "" {
		return "issuer\x00" + a.Issuer + "\x00" + officerKey(officer)
	}
	return "agency\x00" + agency + "\x00" + officerKey(officer)
}

// officerKey is an officer id as dual control compares it (within one
// issuer, officerIdentity): without regard to letter case or width. An
// identity provider may issue "INSP.X" and "insp.x" for one person (a
// directory whose user names ignore case, say, as Active Directory's
// ignore case and width, so that "ｉｎｓｐ.ｘ", in fullwidth letters,
// signs in as insp.x too); byte for byte they were two officers, and the
// requester could approve their own request, or an approver count twice.
// Ids that differ only so are never told apart here, which can only
// refuse (SELF_APPROVAL, ALREADY_APPROVED), never let an approval
// through. The key is Unicode's compatibility caseless match (D146:
// NFKD of the case folding of the NFKD of the case folding of the NFD),
// not the case folding alone, which keeps no normal form (authn requires
// ids in NFC): "ΐ" and "Ϊ́", both NFC and one the other's capital, fold
// to canonically equivalent strings of different bytes.
func officerKey(id string) string {
	fold := cases.Fold()
	return norm.NFKD.String(fold.String(norm.NFKD.String(fold.String(norm.NFD.String(id)))))
}

// releaseDue releases r, and says whether it is released and, if not, why
// it is still pending.
func (s *Server) releaseDue(ctx context.Context, r *reid) (bool, string) {
	released, err := s.release1(ctx, r)
	switch {
	case err == nil && !released && r.ended != "":
		return false, r.ended // the request has ended: never released
	case err == nil:
		return released, ""
	case errors.Is(err, pseudonym.ErrUnavailable):
		return false, "KEYS_UNAVAILABLE"
	case errors.Is(err, audit.ErrUnavailable):
		return false, "AUDIT_UNAVAILABLE"
	}
	return false, "RELEASE_FAILED"
}

// releaseLease is how long a replica holds the claim on a release: long
// enough to append it (auditTimeout), short enough that a replica that
// dies while holding it does not lose the release.
const releaseLease = 2 * time.Minute

// release1 releases the identity of a request that met its quorum, unless
// it is released already or another replica is releasing it. The
// identity is resolved and sealed before the claim is taken, so a key
// outage never uses up the claim; a failed attempt is an audit entry
// (outcome failed, with its reason) and leaves the request due. A request
// that has ended (its standing lost, its key version retired) is refused
// under the same claim, so that replicas retrying at once refuse it once.
func (s *Server) release1(ctx context.Context, r *reid) (released bool, err error) {
	req := r.request
	rp := audit.Party{Agency: req.Requester.Agency, Kind: req.Requester.Kind, Jurisdiction: req.Requester.Jurisdiction}
	var approvers []string
	for _, a := range r.approvals[:min(len(r.approvals), r.quorum)] {
		// The approvals the quorum took, in log order: no more.
		approvers = append(approvers, a.Requester.Agency+"/"+a.Requester.Officer)
	}
	e := &audit.Entry{
		Time: s.now(), Action: "reidentify", RequestID: newRequestID(),
		Requester: req.Requester, Holder: &rp, Recipients: []audit.Party{rp}, Subject: req.Subject,
		Purpose: req.Purpose, ClaimedLegalBasis: req.ClaimedLegalBasis, Case: req.Case, Justification: req.Justification,
		Outcome: audit.OutcomeFailed, LegalBasis: req.LegalBasis, Conditions: req.Conditions, PolicyRevision: req.PolicyRevision,
		Detail: map[string]string{"step": stepRelease, "reid_request": r.id, "approvers": strings.Join(approvers, ",")},
	}
	// The request stands only while the requesting agency is registered
	// and not offboarded, and the case it was made in is open and the
	// requester a member: a requester that left, or was offboarded, gets
	// nothing, and the request ends (its refused release says why).
	why, err := s.reidStanding(ctx, r)
	if err != nil {
		return false, err
	}
	var payload []byte
	var box string
	if why == "" {
		payload, box, err = s.sealIdentity(r, approvers)
		if kv, ok := errors.AsType[*pseudonym.KeyVersionError](err); ok && kv.Version < s.cfg.Pseudonyms.CurrentVersion() {
			// The pseudonym's key version has retired since the request: it
			// never resolves again, so the request ends here (its refused
			// release says why) rather than failing at every retry. A version
			// above the current one is only not loaded yet here: that stays
			// a failure, tried again.
			why, err = reasonKeyVersionRetired, nil
		}
		err = s.notLoadedYet(err) // as the approval's check holds them
		if err != nil {
			// Nothing is claimed: the release stays due, and the failed
			// attempt is on the record.
			e.Reasons = []string{"KEYS_UNAVAILABLE"}
			if !errors.Is(err, pseudonym.ErrUnavailable) {
				e.Reasons = []string{"RELEASE_FAILED"}
			}
			if _, aerr := s.append(ctx, e); aerr != nil {
				s.log.ErrorContext(ctx, "audit of a failed release failed", "reid_request", r.id, "error", aerr)
			}
			s.log.WarnContext(ctx, "identity release postponed", "reid_request", r.id, "reason", e.Reasons[0])
			return false, err
		}
	}
	// The release, or its refusal once the request has ended, is made
	// once across replicas: the replica that holds the claim makes it.
	if s.cfg.Once != nil {
		claim := sha256.Sum256([]byte("liaison/reidentify/release\x00" + r.id))
		me := sha256.Sum256([]byte(rand.Text()))
		first, err := s.cfg.Once.Remember(ctx, claim, me, s.now().Add(releaseLease))
		if err != nil {
			return false, fmt.Errorf("%w: release claim: %v", audit.ErrUnavailable, err)
		}
		if first != me {
			return false, nil // another replica is releasing it
		}
		// The claim may be a lapsed one's successor: make sure no replica
		// released it, or found it ended, meanwhile.
		all, err := s.reids(ctx)
		if err != nil {
			return false, err
		}
		cur := all[r.id]
		if cur == nil || cur.released {
			return cur != nil, nil
		}
		if cur.ended != "" {
			r.ended = cur.ended
			return false, nil
		}
	}
	if why != "" {
		e.Outcome, e.Reasons = audit.OutcomeRefused, []string{why}
		if _, err := s.append(ctx, e); err != nil {
			return false, err
		}
		r.ended = why
		s.log.InfoContext(ctx, "identity not released: the request no longer stands", "reid_request", r.id, "reason", why)
		return false, nil
	}
	e.Outcome, e.FieldsDisclosed = audit.OutcomeDisclose, []string{"Person.subject_id"}
	// The standing read above must still hold when the identity goes: the
	// cases it was asked in open, the requester a member, checked in the
	// transaction that appends the release (cases.go) for a case the
	// store holds, and against the registry in force for the requester
	// (registered, not offboarded) and for a case of the registry file
	// (registryHolds, routing.go): a reload of the trust files that
	// offboarded the requester, dropped it, took it out of such a case or
	// dropped the case since the standing was read ends the request as
	// reidStanding would have. The registry is held (regSwap) until the
	// release has committed, as an exchange's commit holds it.
	var holds []audit.CaseHold
	for _, id := range reidCases(req) {
		holds = append(holds, audit.CaseHold{ID: id, Members: []string{req.Requester.Agency}})
	}
	dl := audit.Delivery{Recipient: box, Kind: deliveryKind, Payload: payload}
	var idx int64
	s.regSwap.RLock()
	if a := s.registry.Load().Agencies[req.Requester.Agency]; a == nil || a.Offboarded {
		why = reasonRequesterOffboarded
	} else if herr := s.registryHolds(ctx, holds); herr != nil {
		err = herr
		if _, ok := errors.AsType[*audit.CaseHoldError](herr); !ok {
			err = fmt.Errorf("%w: %v", audit.ErrUnavailable, herr)
		}
	} else if len(holds) > 0 {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
		idx, err = s.cfg.Audit.AppendState(actx, e, audit.Change{Holds: holds}, dl)
		cancel()
	} else {
		idx, err = s.append(ctx, e, dl)
	}
	s.regSwap.RUnlock()
	if he, ok := errors.AsType[*audit.CaseHoldError](err); ok {
		why, err = "NOT_A_CASE_MEMBER", nil
		if he.Closed {
			why = "CASE_CLOSED"
		}
	}
	if why != "" {
		e.Outcome, e.Reasons, e.FieldsDisclosed = audit.OutcomeRefused, []string{why}, nil
		if _, err := s.append(ctx, e); err != nil {
			return false, err
		}
		r.ended = why
		s.log.InfoContext(ctx, "identity not released: the request no longer stands", "reid_request", r.id, "reason", why)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	r.released = true
	s.log.InfoContext(ctx, "identity released after dual control", "reid_request", r.id, "audit_index", idx, "recipient", rp.Agency, "approvals", len(approvers))
	return true, nil
}

// reasonKeyVersionRetired ends a re-identification whose pseudonym was made
// under a key version that has retired since: it no longer resolves.
const reasonKeyVersionRetired = "KEY_VERSION_RETIRED"

// endedMessage says why a request no longer stands, for its reason.
func endedMessage(why string) string {
	switch why {
	case reasonRequesterOffboarded:
		return "the request no longer stands: the requesting agency has been offboarded, and the gateway delivers nothing to it"
	case reasonKeyVersionRetired:
		return "the request no longer stands: its pseudonym was made under a key version retired since; " +
			"the requester must ask for the record again and have its new pseudonym re-identified"
	}
	return "the request no longer stands: the case it was made in is closed, or the requester left it"
}

// reidCases are the cases a re-identification request was made in: the
// case of its pseudonym's domain, and the case it named.
func reidCases(req *audit.Entry) []string {
	var ids []string
	if id, ok := strings.CutPrefix(req.Detail["from_domain"], "case/"); ok {
		ids = append(ids, id)
	}
	if req.Case != nil && !slices.Contains(ids, req.Case.ID) {
		ids = append(ids, req.Case.ID)
	}
	return ids
}

// reasonRequesterOffboarded ends a re-identification whose requesting
// agency has been offboarded (or removed from the registry) since it asked:
// the gateway delivers nothing to such an agency.
const reasonRequesterOffboarded = "REQUESTER_OFFBOARDED"

// reidStanding says why a re-identification request no longer stands, or
// "" if it does: the requesting agency must still be registered and not
// offboarded, and one made in a case (its pseudonym of the case's domain,
// or the case named) needs the case open and the requester a member.
func (s *Server) reidStanding(ctx context.Context, r *reid) (string, error) {
	req := r.request
	if a := s.registry.Load().Agencies[req.Requester.Agency]; a == nil || a.Offboarded {
		return reasonRequesterOffboarded, nil
	}
	for _, id := range reidCases(req) {
		c, err := s.caseByID(ctx, id)
		if err != nil {
			return "", fmt.Errorf("%w: case %s: %v", audit.ErrUnavailable, id, err)
		}
		switch {
		case c == nil || c.Status != audit.CaseOpen:
			return "CASE_CLOSED", nil
		case !slices.Contains(c.Active(), req.Requester.Agency):
			return "NOT_A_CASE_MEMBER", nil
		}
	}
	return "", nil
}

// approverStanding says why the calling officer's agency may not approve
// r now, with a message, or "" if it may. The approvers the policy named
// (roles, agencies) were fixed when the request was made; the agency's
// standing is checked when it approves: an offboarded agency approves
// nothing (AGENCY_OFFBOARDED), and where the policy named the approving
// agencies (approval.agencies, which case_members_only sets to the case's
// members) a request made in a case is approved only by agencies that are
// members of the case now (NOT_A_CASE_MEMBER). Where it named none, any
// agency the roles allow approves, in a case or not, as the policy said.
func (s *Server) approverStanding(ctx context.Context, r *reid, c authn.Caller) (code, msg string, err error) {
	if a := s.registry.Load().Agencies[c.Agency.ID]; a != nil && a.Offboarded {
		return reasonOffboarded, "your agency has been offboarded: it no longer approves re-identifications", nil
	}
	if len(r.agencies) == 0 {
		return "", "", nil
	}
	for _, id := range reidCases(r.request) {
		cs, err := s.caseByID(ctx, id)
		if err != nil {
			return "", "", fmt.Errorf("%w: case %s: %v", audit.ErrUnavailable, id, err)
		}
		if cs == nil || !slices.Contains(cs.Active(), c.Agency.ID) {
			return "NOT_A_CASE_MEMBER", fmt.Sprintf("the re-identification was asked in case %s, of which your agency is not a member now: "+
				"only the case's members approve it", id), nil
		}
	}
	return "", "", nil
}

// countStanding keeps in r.approvals only the approvals whose agency
// still has the standing approverStanding asks of a new approval: an
// approval given before its agency was offboarded, or (where the policy
// named the approving agencies) before it left the case the request was
// made in, or by an agency no longer registered, no longer counts towards
// the quorum, and the identity is not released on it. It counts again if
// the agency regains its standing.
func (s *Server) countStanding(ctx context.Context, r *reid) error {
	standing := map[string]bool{}
	kept := r.approvals[:0:0]
	for _, a := range r.approvals {
		ag := a.Requester.Agency
		ok, seen := standing[ag]
		if !seen && s.registry.Load().Agencies[ag] == nil {
			ok, seen = false, true // no longer registered at all
			standing[ag] = false
		}
		if !seen {
			code, _, err := s.approverStanding(ctx, r, authn.Caller{Agency: &authn.Agency{ID: ag}})
			if err != nil {
				return err
			}
			ok = code == ""
			standing[ag] = ok
		}
		if ok {
			kept = append(kept, a)
		}
	}
	r.approvals = kept
	return nil
}

// sealIdentity resolves the request's pseudonym and seals the identity for
// the requesting officer's own inbox.
func (s *Server) sealIdentity(r *reid, approvers []string) (payload []byte, box string, err error) {
	req := r.request
	id, err := s.cfg.Pseudonyms.Resolve(req.Detail["from_domain"], req.Detail["pseudonym"])
	if err != nil {
		return nil, "", err
	}
	item := &liaisonv1.SubscribeResponse{Sender: "liaison", Reidentified: &liaisonv1.Reidentified{
		RequestId: r.id, Pseudonym: req.Detail["pseudonym"], PseudonymDomain: req.Detail["from_domain"],
		SubjectId: string(id), Approvers: approvers, RequesterOfficer: req.Requester.Officer,
	}}
	if lb := req.LegalBasis; lb != nil {
		item.Reidentified.LegalBasis = &liaisonv1.LegalBasis{Id: lb.ID, Citation: lb.Citation, ValidUntil: lb.ValidUntil}
	}
	if payload, err = proto.Marshal(item); err != nil {
		return nil, "", err
	}
	box = officerInbox(authn.Caller{Agency: &authn.Agency{ID: req.Requester.Agency}, Officer: authn.Officer{ID: req.Requester.Officer}})
	if payload, err = s.cfg.Pseudonyms.SealInbox([]byte(box), payload); err != nil {
		return nil, "", err
	}
	return payload, box, nil
}

// releasePending releases every request that met its quorum and is still
// due (its release failed while the keys were unavailable). Run calls it.
func (s *Server) releasePending(ctx context.Context) {
	s.reidMu.Lock()
	defer s.reidMu.Unlock()
	all, err := s.reids(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "pending releases not checked", "error", err)
		return
	}
	now := s.now()
	for _, r := range all {
		if !r.due(now) {
			continue
		}
		if err := s.countStanding(ctx, r); err != nil {
			s.log.WarnContext(ctx, "pending release not checked", "reid_request", r.id, "error", err)
			continue
		}
		if r.due(now) {
			s.release1(ctx, r)
		}
	}
}

// notLoadedYet is err, except that a KeyVersionError for a version newer
// than this replica's keys (rotated since its last refresh; a replica that
// loaded it first made the pseudonym or sealed the reference) is the keys'
// unavailability (pseudonym.ErrUnavailable: KEYS_UNAVAILABLE, retry) until
// the next refresh loads it; it is not retired.
func (s *Server) notLoadedYet(err error) error {
	if kv, ok := errors.AsType[*pseudonym.KeyVersionError](err); ok && kv.Version > s.cfg.Pseudonyms.CurrentVersion() {
		return fmt.Errorf("%w: key version %d is not loaded yet", pseudonym.ErrUnavailable, kv.Version)
	}
	return err
}
