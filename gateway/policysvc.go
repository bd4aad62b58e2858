package gateway

import (
	"bytes"
	"context"
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// GetStatus reports the active policy revision.
func (s *Server) GetStatus(ctx context.Context, _ *liaisonv1.GetStatusRequest) (*liaisonv1.GetStatusResponse, error) {
	if _, err := s.requireRole(ctx, RoleLegalOfficer, RoleAuditor); err != nil {
		return nil, s.statusError(ctx, err)
	}
	eng := s.policy.Load()
	return &liaisonv1.GetStatusResponse{Revision: eng.Revision(), Source: s.cfg.PolicySource}, nil
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
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, s.statusError(ctx, invalid("input", "does not follow the policy input contract: %v", err))
	}
	eng := s.policy.Load()
	d, why, err := eng.Explain(ctx, in)
	if err != nil {
		return nil, s.statusError(ctx, invalid("input", "the policy could not decide: %v", err))
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, s.statusError(ctx, err)
	}
	out := &structpb.Struct{}
	if err := protojson.Unmarshal(b, out); err != nil {
		return nil, s.statusError(ctx, err)
	}
	return &liaisonv1.SimulateResponse{Decision: out, Explanation: why, Revision: eng.Revision()}, nil
}
