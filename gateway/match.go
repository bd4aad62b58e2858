package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Hit/no-hit limits.
const (
	matchDefaultDeadline = 2 * time.Second
	matchMaxDeadline     = 30 * time.Second
	matchMaxHolders      = maxRecipients
	// MatchReferenceTTL is how long a hit's reference opens step two.
	MatchReferenceTTL = 24 * time.Hour
)

// matchRefAAD binds sealed match references to their use.
var matchRefAAD = []byte("liaison/match-reference/v1")

// matchRef is what a hit's reference holds, sealed by the gateway's keys
// (pseudonym.Seal): the caller reads nothing of it, and cannot forge or
// alter one. The subject is its audit pseudonym, never the identifier.
type matchRef struct {
	Agency     string `json:"a"`
	Officer    string `json:"o"`
	Subject    string `json:"s"`
	Holder     string `json:"h"`
	RecordType string `json:"t"`
	Expires    int64  `json:"e"` // Unix seconds, gateway time
	RequestID  string `json:"r"` // the match exchange's request id
}

// Match answers hit, no-hit or unavailable per holder and record type.
// A call refused by validation is one exchange with one entry; a valid
// call is one exchange per holder and record type, each decided (action
// "match") and logged on its own. Denied pairs are not asked; the holders
// the policy allows are asked once each, in parallel, until the deadline.
func (s *Server) Match(ctx context.Context, req *liaisonv1.MatchRequest) (_ *liaisonv1.MatchResponse, err error) {
	call := s.begin(ctx, "match")
	defer call.finish(ctx, &err)
	reg := s.registry.Load()
	holders, types, cs, err := s.validateMatch(ctx, reg, req)
	if err != nil {
		return nil, err
	}
	deadline := matchDefaultDeadline
	if d := req.GetDeadlineMs(); d > 0 {
		deadline = time.Duration(d) * time.Millisecond
	}
	// Each holder's exchanges below write their own entries, and are
	// counted and traced on their own: the call is not an exchange of its
	// own (it was counted failed AUDIT_UNAVAILABLE, its entry never
	// written, for every Match).
	call.closed, call.handedOver = true, true
	mctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()

	results := make([][]*liaisonv1.MatchResult, len(holders))
	// A holder's goroutine that panics (a bug) ends this call, not the
	// gateway: its panic goes on here, on the call's goroutine, where the
	// recovering interceptor answers Internal (recover.go); matchHolder
	// has given its exchanges their entries.
	panics := make([]any, len(holders))
	var wg sync.WaitGroup
	for i, h := range holders {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			results[i] = s.matchHolder(ctx, mctx, req, h, types, cs)
		})
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	resp := &liaisonv1.MatchResponse{}
	logged := false
	for _, r := range results {
		resp.Results = append(resp.Results, r...)
		logged = logged || slices.ContainsFunc(r, func(m *liaisonv1.MatchResult) bool { return m.GetAuditIndex() >= 0 })
	}
	if !logged {
		// No answer could be logged (the audit store is down): the caller
		// gets Unavailable and nothing else, as for any exchange.
		return nil, fmt.Errorf("%w: no answer of the match could be logged", audit.ErrUnavailable)
	}
	return resp, nil
}

// matchHolder asks one holder, if the policy allows any of the record
// types, and writes one entry per record type. ctx is the call's (entries
// are written whatever the deadline); mctx carries the deadline.
func (s *Server) matchHolder(ctx, mctx context.Context, req *liaisonv1.MatchRequest, holder *Agency,
	types []liaisonv1.RecordType, cs *policies.Case) []*liaisonv1.MatchResult {
	type pair struct {
		ex  *exchange
		res *liaisonv1.MatchResult
		dec policies.Decision
		err error
	}
	pairs := make([]*pair, len(types))
	defer func() {
		if p := recover(); p != nil {
			// Each exchange begun has its entry, as a call's that panics
			// does (pipeline.go, finish): failed, INTERNAL.
			for _, q := range pairs {
				if q != nil && !q.ex.closed {
					var err error
					q.ex.finish(ctx, &err)
				}
			}
			panic(p)
		}
	}()
	var allowed []*pair
	for i, rt := range types {
		p := &pair{ex: s.begin(ctx, "match"), res: &liaisonv1.MatchResult{Holder: holder.ID, RecordType: rt}}
		pairs[i] = p
		ex := p.ex
		ex.describe(party(holder.Agency), party(ex.caller.Agency), policies.Input{
			RecordType:        enumName(rt),
			Purpose:           enumName(req.GetPurpose()),
			ClaimedLegalBasis: req.GetClaimedLegalBasis(),
			Case:              cs,
			Justification:     req.GetJustification(),
		})
		ex.subject = pseudonym.SubjectID(req.GetSubjectId())
		if p.err = s.pseudonymiseSubject(ex); p.err != nil {
			continue
		}
		if p.dec, p.err = s.decide(ctx, ex); p.err != nil {
			continue
		}
		if p.dec.Outcome != policies.OutcomeHitOnly {
			// The policy caps match at hit_only; anything else is a bug.
			p.err = failed("POLICY_ERROR", fmt.Errorf("gateway: a match decided %q", p.dec.Outcome))
			continue
		}
		allowed = append(allowed, p)
	}

	var desc *liaisonv1.DescribeResponse
	found := false
	if len(allowed) > 0 {
		var err error
		desc, found, err = s.describeForMatch(ctx, mctx, holder, req.GetSubjectId())
		if err != nil {
			for _, p := range allowed {
				p.err = err
			}
		}
	}
	out := make([]*liaisonv1.MatchResult, len(pairs))
	for i, p := range pairs {
		out[i] = s.finishMatch(ctx, p.ex, p.res, p.err, found && holdsRecordType(desc, p.res.GetRecordType()))
	}
	return out
}

// describeForMatch asks a holder whether it knows the subject, within the
// match's deadline (mctx). A holder that cannot be reached or does not
// answer in time is unavailable (errProvider), never "not found"; but if
// the call itself (ctx) ended meanwhile, its deadline passed or its caller
// hung up, that is the error (holderError): the holder was not down.
func (s *Server) describeForMatch(ctx, mctx context.Context, holder *Agency, subjectID string) (*liaisonv1.DescribeResponse, bool, error) {
	client, err := s.providerClient(holder)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", errProvider, err)
	}
	pctx, cancel := context.WithTimeout(mctx, s.cfg.ProviderTimeout)
	defer cancel()
	desc, err := client.Describe(pctx, &liaisonv1.DescribeRequest{SubjectId: subjectID})
	switch {
	case err == nil:
		return desc, true, nil
	case status.Code(err) == codes.NotFound:
		return nil, false, nil
	default:
		return nil, false, holderError(ctx, "describe", err)
	}
}

// finishMatch closes one (holder, record type) exchange: a hit or a no-hit
// is committed as hit_only with its answer in the entry's detail (a no-hit
// discloses no content, only the answer); an error is settled by finish
// (deny, or failed HOLDER_UNAVAILABLE for an unavailable holder, or
// DEADLINE_EXCEEDED or CANCELED for a call that ended first).
func (s *Server) finishMatch(ctx context.Context, ex *exchange, res *liaisonv1.MatchResult, err error, hit bool) *liaisonv1.MatchResult {
	defer func() {
		ex.finish(ctx, &err)
		res.AuditIndex = ex.index
		res.Reasons = ex.entry.Reasons
		if err == nil {
			return
		}
		res.Reference, res.ReferenceExpiresAt = "", ""
		switch {
		case ex.index < 0:
			// Its entry could not be written: nothing of the answer
			// leaves, and the reasons say why (the entry's, which it does
			// not record, were the decision's).
			res.Answer = liaisonv1.MatchAnswer_MATCH_ANSWER_UNAVAILABLE
			res.Reasons = append(slices.Clone(res.Reasons), "AUDIT_UNAVAILABLE")
		case ex.entry.Outcome == audit.OutcomeDeny, ex.entry.Outcome == audit.OutcomeRefused:
			res.Answer = liaisonv1.MatchAnswer_MATCH_ANSWER_DENIED
		default:
			res.Answer = liaisonv1.MatchAnswer_MATCH_ANSWER_UNAVAILABLE
		}
	}()
	if err != nil {
		return res
	}
	// The entry records the subject as the decision saw it: by its
	// pseudonym only. The holder's attributes came after the decision
	// (describeForMatch); recorded, they would be replayed as if decided
	// on.
	e := ex.entry
	e.Outcome = audit.OutcomeHitOnly
	e.FieldsDisclosed = []string{"hit"}
	if e.Detail == nil {
		e.Detail = map[string]string{}
	}
	res.Answer = liaisonv1.MatchAnswer_MATCH_ANSWER_NO_HIT
	e.Detail["answer"] = "no_hit"
	if hit {
		res.Answer = liaisonv1.MatchAnswer_MATCH_ANSWER_HIT
		e.Detail["answer"] = "hit"
		exp := s.now().Add(MatchReferenceTTL).Truncate(time.Second)
		ref, rerr := s.sealMatchRef(matchRef{
			Agency: ex.caller.Agency.ID, Officer: ex.caller.Officer.ID, Subject: e.Subject.Pseudonym,
			Holder: ex.in.Holder.Agency, RecordType: ex.in.RecordType, Expires: exp.Unix(), RequestID: ex.reqID,
		})
		if rerr != nil {
			err = rerr
			return res
		}
		res.Reference, res.ReferenceExpiresAt = ref, exp.Format(time.RFC3339)
		e.Detail["reference_expires_at"] = res.ReferenceExpiresAt
	}
	if _, err = ex.commit(ctx); err != nil {
		return res
	}
	s.log.InfoContext(ctx, "match answered", "request_id", ex.reqID, "audit_index", ex.index, "requester", ex.caller.Agency.ID,
		"holder", ex.in.Holder.Agency, "record_type", ex.in.RecordType, "answer", e.Detail["answer"])
	return res
}

func (s *Server) sealMatchRef(r matchRef) (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", failed("ENCODE_FAILED", err)
	}
	sealed, err := s.cfg.Pseudonyms.Seal(matchRefAAD, b)
	if err != nil {
		return "", err
	}
	return "mref1." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// checkMatchRef checks a step-two Request's match reference against the
// exchange (its caller, subject pseudonym, holder and record type) and the
// gateway's clock, and records the match it follows in the entry.
func (s *Server) checkMatchRef(ex *exchange, ref string) error {
	refuse := func(reason, msg string) error {
		return &denial{reason: reason, message: msg, auditIdx: -1, refusal: true}
	}
	const prefix = "mref1."
	if len(ref) < len(prefix) || ref[:len(prefix)] != prefix || len(ref) > 4096 {
		return refuse("MATCH_REFERENCE_INVALID", "The match reference is not one this gateway issued.")
	}
	// Strict: the decoder alone ignores the unused bits of the last
	// character, so that several spellings would open as one reference.
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(ref[len(prefix):])
	if err != nil {
		return refuse("MATCH_REFERENCE_INVALID", "The match reference is not one this gateway issued.")
	}
	plain, err := s.cfg.Pseudonyms.Open(matchRefAAD, sealed)
	// Sealed under a version newer than this replica's keys, one that
	// loaded it first issued it: unavailable until the next refresh.
	if err = s.notLoadedYet(err); errors.Is(err, pseudonym.ErrUnavailable) {
		return err
	}
	if kv, ok := errors.AsType[*pseudonym.KeyVersionError](err); ok && kv.Version > 0 && kv.Version < s.cfg.Pseudonyms.CurrentVersion() {
		// Sealed under a key version that has retired since (an operator
		// may retire one within a day): the gateway can no longer tell
		// whether it issued the reference, nor for what, so it is not
		// "not issued here" but no longer checkable, as a pseudonym of a
		// retired version is for re-identification.
		return refuse(reasonKeyVersionRetired, "The match reference was sealed under a key version that has since retired, "+
			"so it can no longer be checked; match again.")
	}
	var r matchRef
	if err != nil || json.Unmarshal(plain, &r) != nil {
		return refuse("MATCH_REFERENCE_INVALID", "The match reference is not one this gateway issued.")
	}
	if ex.entry.Detail == nil {
		ex.entry.Detail = map[string]string{}
	}
	ex.entry.Detail["match_request_id"] = r.RequestID
	switch {
	case r.Agency != ex.caller.Agency.ID || r.Officer != ex.caller.Officer.ID:
		return refuse("MATCH_REFERENCE_NOT_YOURS", "The match reference was issued to another officer or agency.")
	case ex.entry.Subject == nil || r.Subject != ex.entry.Subject.Pseudonym || r.Holder != ex.in.Holder.Agency || r.RecordType != ex.in.RecordType:
		return refuse("MATCH_REFERENCE_MISMATCH", "The match reference is for another subject, holder or record type.")
	case !s.now().Before(time.Unix(r.Expires, 0)):
		return refuse("MATCH_REFERENCE_EXPIRED", "The match reference has expired; match again.")
	}
	return nil
}

// validateMatch checks a Match and returns the holders to ask, the record
// types and the case.
func (s *Server) validateMatch(ctx context.Context, reg *Registry, req *liaisonv1.MatchRequest) ([]*Agency, []liaisonv1.RecordType, *policies.Case, error) {
	if err := validSubjectID("subject_id", req.GetSubjectId()); err != nil {
		return nil, nil, nil, err
	}
	types := req.GetRecordTypes()
	if len(types) == 0 {
		return nil, nil, nil, invalid("record_types", "name at least one record type")
	}
	for i, rt := range types {
		if enumName(rt) == "" {
			return nil, nil, nil, invalid(fmt.Sprintf("record_types[%d]", i), "must name one of the seven record types")
		}
		if slices.Contains(types[:i], rt) {
			return nil, nil, nil, invalid(fmt.Sprintf("record_types[%d]", i), "appears twice")
		}
	}
	if enumName(req.GetPurpose()) == "" {
		return nil, nil, nil, invalid("purpose", "must name a purpose")
	}
	if err := validJustification(req.GetJustification(), req.GetSubjectId()); err != nil {
		return nil, nil, nil, err
	}
	if err := validClaimedBasis(req.GetClaimedLegalBasis(), req.GetSubjectId()); err != nil {
		return nil, nil, nil, err
	}
	if d := req.GetDeadlineMs(); d < 0 || time.Duration(d)*time.Millisecond > matchMaxDeadline {
		return nil, nil, nil, invalid("deadline_ms", "must be between 0 and %d", matchMaxDeadline.Milliseconds())
	}
	if len(req.GetHolders()) > matchMaxHolders {
		return nil, nil, nil, invalid("holders", "at most %d holders per call", matchMaxHolders)
	}
	cs, err := s.resolveCase(ctx, req.GetCaseId(), s.callerID(ctx), pseudonym.SubjectID(req.GetSubjectId()))
	if err != nil {
		return nil, nil, nil, err
	}
	// Only a member asks within a case: to anyone else, the holders asked
	// (by default the case's members) would name its members.
	if cs != nil && cs.RequesterStatus != "lead" && cs.RequesterStatus != "member" {
		return nil, nil, nil, &denial{reason: "NOT_A_CASE_MEMBER", refusal: true, auditIdx: -1, caseID: cs.ID,
			message: fmt.Sprintf("case_id: only a member of case %s may ask within it, and %s is not one", cs.ID, s.callerID(ctx))}
	}
	// An agency that was offboarded is not asked, as it is not reached by
	// role either.
	asks := func(a *Agency) bool {
		return a.Provider != "" && a.Via == "" && a.Kind != KindPeerGateway && !a.Offboarded
	}
	var holders []*Agency
	for i, id := range req.GetHolders() {
		a, ok := reg.Agencies[id]
		switch {
		case !ok:
			return nil, nil, nil, invalid(fmt.Sprintf("holders[%d]", i), "is not a registered agency")
		case slices.Contains(req.GetHolders()[:i], id):
			return nil, nil, nil, invalid(fmt.Sprintf("holders[%d]", i), "appears twice")
		case a.Offboarded:
			return nil, nil, nil, offboardedHolder(fmt.Sprintf("holders[%d]", i))
		case !asks(a):
			return nil, nil, nil, invalid(fmt.Sprintf("holders[%d]", i), "holds no records this gateway can ask")
		}
		holders = append(holders, a)
	}
	if len(holders) == 0 {
		var ids []string
		if cs != nil {
			ids = slices.Clone(cs.Members)
		} else {
			for id := range reg.Agencies {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			if a, ok := reg.Agencies[id]; ok && asks(a) {
				holders = append(holders, a)
			}
		}
		if len(holders) == 0 {
			return nil, nil, nil, invalid("holders", "no registered holder to ask")
		}
	}
	return holders, types, cs, nil
}
