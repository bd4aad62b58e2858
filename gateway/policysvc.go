package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// GetStatus reports the active policy revision.
func (s *Server) GetStatus(ctx context.Context, _ *liaisonv1.GetStatusRequest) (*liaisonv1.GetStatusResponse, error) {
	if _, err := s.requireRole(ctx, RoleLegalOfficer, RoleAuditor); err != nil {
		return nil, s.statusError(ctx, err)
	}
	eng, st := s.policy.Snapshot() // one activation's engine and times
	resp := &liaisonv1.GetStatusResponse{
		Revision: eng.Revision(), Source: eng.Source(), Digest: eng.Digest(),
		ActivatedAt: st.Active.Time.UTC().Format(time.RFC3339), LastAttempt: activationProto(st.Last),
	}
	resp.Jurisdictions = s.jurisdictions(ctx, eng)
	return resp, nil
}

// jurisdictions returns the codes of an engine's packs. Listing the packs
// evaluates the whole policy tree (about a millisecond and half a megabyte),
// so the codes are kept for the engine that is active.
func (s *Server) jurisdictions(ctx context.Context, eng *policies.Engine) []string {
	if c := s.packCodes.Load(); c != nil && c.eng == eng {
		return slices.Clone(c.codes)
	}
	packs, err := eng.Packs(ctx)
	if err != nil {
		return nil
	}
	c := &packCodes{eng: eng}
	for _, p := range packs {
		c.codes = append(c.codes, p.Code)
	}
	s.packCodes.Store(c)
	return slices.Clone(c.codes)
}

// packCodes are the jurisdictions of one engine's packs.
type packCodes struct {
	eng   *policies.Engine
	codes []string
}

func activationProto(a policies.Activation) *liaisonv1.Activation {
	p := &liaisonv1.Activation{Revision: a.Revision, Digest: a.Digest, Source: a.Source, Time: a.Time.UTC().Format(time.RFC3339), Ok: a.OK()}
	if a.Err != nil {
		p.Error = a.Err.Error()
	}
	return p
}

// Reload activates the configured policy source again, as a legal officer
// asks after changing it; the attempt is audited, with the officer as the
// entry's requester. A caller without the legal_officer role is refused,
// and that attempt is audited too (refused, ROLE_REQUIRED).
//
// Once begun, the activation runs to its end whether or not the caller
// waits for it: a legal officer who hangs up (or whose deadline passes)
// while the candidate's tests run would otherwise have it refused as
// "context canceled", and the entry say that, not whether the candidate
// was good. It is bounded by reloadTimeout instead, and by the gateway's
// life: Close ends an activation still running and waits for its entry
// (failed, POLICY_NOT_ACTIVATED, the gateway stopped), which it writes
// while the log is still open.
func (s *Server) Reload(ctx context.Context, _ *liaisonv1.ReloadRequest) (*liaisonv1.ReloadResponse, error) {
	s.mu.Lock()
	if !s.closed { // once closed, life is over: the activation fails at once
		s.reloads.Add(1)
		defer s.reloads.Done()
	}
	s.mu.Unlock()
	c, err := s.requireRole(ctx, RoleLegalOfficer)
	if err != nil {
		return nil, s.reloadRefused(ctx, c, err)
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reloadTimeout)
	defer cancel()
	life := s.life
	if life == nil { // a Server not made by New
		life = context.Background()
	}
	defer context.AfterFunc(life, cancel)() // the gateway stops: the activation ends, and is recorded
	act, _ := s.policy.Activate(actx, s.cfg.PolicySourceSpec)
	if act.Err != nil && life.Err() != nil {
		act.Err = fmt.Errorf("the gateway stopped before the activation ended: %w", act.Err)
	}
	s.auditActivation(ctx, act, c.Officer.ID, callerRequester(c))
	return &liaisonv1.ReloadResponse{Activation: activationProto(act)}, nil
}

// reloadTimeout bounds an activation a legal officer asked for (Reload),
// which does not end when the caller hangs up. Nothing else bounds an
// activation as a whole (at start or by the watch; each of the
// candidate's Rego tests has two minutes, policies' testTimeout). The
// embedded policy activates in a few seconds, and in about 15 s on two
// cores busy with other work: ten minutes stops only a pathological
// candidate, without refusing a good one on a loaded machine.
const reloadTimeout = 10 * time.Minute

// reloadRefused records a Reload refused before anything was loaded and
// returns the error for the caller.
func (s *Server) reloadRefused(ctx context.Context, c authn.Caller, err error) error {
	var dn *denial
	if !errors.As(err, &dn) || c.Agency == nil {
		return s.statusError(ctx, err)
	}
	e := &audit.Entry{
		Time: s.now(), Action: audit.ActionPolicyActivate, Outcome: audit.OutcomeRefused, Reasons: []string{dn.reason},
		Requester: callerRequester(c), Detail: map[string]string{"source": s.cfg.PolicySourceSpec.String(), "by": c.Officer.ID},
	}
	idx, aerr := s.append(ctx, e)
	if aerr != nil {
		return s.statusError(ctx, aerr)
	}
	dn.auditIdx = idx
	return s.statusError(ctx, err)
}

// callerRequester describes an authenticated caller as an entry's
// requester.
func callerRequester(c authn.Caller) *audit.Requester {
	return &audit.Requester{
		Agency: c.Agency.ID, Kind: c.Agency.Kind, Jurisdiction: c.Agency.Jurisdiction,
		Officer: c.Officer.ID, Roles: c.Officer.Roles, Clearance: c.Officer.Clearance,
	}
}

// ActivatePolicy loads a candidate from src and, if it loads, swaps it in;
// the attempt is recorded in the audit log with the candidate's digest.
func (s *Server) ActivatePolicy(ctx context.Context, src policies.Source, by string) (policies.Activation, error) {
	act, err := s.policy.Activate(ctx, src)
	s.AuditActivation(ctx, act, by)
	return act, err
}

// WatchPolicy activates src whenever it changes, until ctx is done; each
// attempt is audited.
func (s *Server) WatchPolicy(ctx context.Context, src policies.Source, interval time.Duration) {
	s.policy.Watch(ctx, src, interval, func(a policies.Activation) { s.AuditActivation(ctx, a, "watch") })
}

// AuditActivation records one policy activation attempt made by the
// gateway itself (by is "start" or "watch").
func (s *Server) AuditActivation(ctx context.Context, a policies.Activation, by string) {
	s.auditActivation(ctx, a, by, nil)
}

// auditActivation records one policy activation attempt; req is the
// caller who asked for it, or nil.
func (s *Server) auditActivation(ctx context.Context, a policies.Activation, by string, req *audit.Requester) {
	e := &audit.Entry{
		Time: s.now(), Action: audit.ActionPolicyActivate, Outcome: audit.OutcomeOK, PolicyRevision: a.Revision,
		Requester: req, Detail: map[string]string{"digest": a.Digest, "source": a.Source, "by": by},
	}
	if a.Err != nil {
		e.Outcome, e.Reasons = audit.OutcomeFailed, []string{"POLICY_NOT_ACTIVATED"}
		e.Detail["error"] = a.Err.Error()
		s.log.ErrorContext(ctx, "policy candidate refused; the previous revision stays active", "source", a.Source, "digest", a.Digest, "error", a.Err)
	} else {
		s.log.InfoContext(ctx, "policy activated", "policy_revision", a.Revision, "digest", a.Digest, "source", a.Source)
	}
	if _, err := s.append(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit of a policy activation failed", "error", err)
	}
}

// Simulate evaluates one policy input and explains the decision. Nothing is
// disclosed, so nothing is audited.
func (s *Server) Simulate(ctx context.Context, req *liaisonv1.SimulateRequest) (*liaisonv1.SimulateResponse, error) {
	if _, err := s.requireRole(ctx, RoleLegalOfficer, RoleAuditor); err != nil {
		return nil, s.statusError(ctx, err)
	}
	raw, err := protojson.Marshal(req.GetInput())
	if err != nil {
		return nil, s.statusError(ctx, invalid("input", "is not a JSON object"))
	}
	var in policies.Input
	if err := policies.UnmarshalExact(raw, &in); err != nil {
		return nil, s.statusError(ctx, invalid("input", "does not follow the policy input contract: %v", err))
	}
	eng := s.policy.Current()
	x, err := eng.Explanation(ctx, in)
	if err == nil {
		x, err = AsTheGatewayActs(eng, in, x) // as decide checks it
	}
	if err != nil {
		return nil, s.statusError(ctx, invalid("input", "the policy could not decide: %v", err))
	}
	b, err := json.Marshal(x.Decision)
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	out := &structpb.Struct{}
	if err := protojson.Unmarshal(b, out); err != nil {
		return nil, s.statusError(ctx, err)
	}
	return &liaisonv1.SimulateResponse{Decision: out, Explanation: x.Lines, Revision: eng.Revision(), Stage: x.Stage, Assumptions: x.Assumptions}, nil
}

// GetReadiness answers the police checklist from the active policy.
func (s *Server) GetReadiness(ctx context.Context, req *liaisonv1.GetReadinessRequest) (*liaisonv1.GetReadinessResponse, error) {
	if _, err := s.requireRole(ctx, RoleLegalOfficer, RoleAuditor); err != nil {
		return nil, s.statusError(ctx, err)
	}
	if req.GetJurisdiction() == "" {
		return nil, s.statusError(ctx, invalid("jurisdiction", "is required, e.g. DK"))
	}
	eng := s.policy.Current()
	packs, err := eng.Packs(ctx)
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	codes := make([]string, 0, len(packs))
	for _, p := range packs {
		codes = append(codes, p.Code)
	}
	if j := req.GetJurisdiction(); !slices.Contains(codes, j) {
		if u := strings.ToUpper(j); slices.Contains(codes, u) {
			// The codes there are, as for any other code (policy.proto).
			return nil, s.statusError(ctx, invalid("jurisdiction", "is %q; codes are upper case: %q (the active policy's packs are %s)", j, u, strings.Join(codes, ", ")))
		}
		return nil, s.statusError(ctx, invalid("jurisdiction", "has no pack in the active policy, whose packs are %s", strings.Join(codes, ", ")))
	}
	r, err := eng.ReadinessChecked(ctx, req.GetJurisdiction(), clearInPlan) // each answer as decide decides it
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		return nil, s.statusError(ctx, err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	doc := &structpb.Struct{}
	if err := protojson.Unmarshal(b, doc); err != nil {
		return nil, s.statusError(ctx, err)
	}
	return &liaisonv1.GetReadinessResponse{Markdown: md.String(), Report: doc, Revision: eng.Revision()}, nil
}
