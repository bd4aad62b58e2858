package gateway

import (
	"context"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// auditedActions are the actions of the unary RPCs whose every call ends
// in an entry, by full method name: the exchanges, the actions after
// sharing and the actions on cases.
var auditedActions = map[string]string{
	liaisonv1.Exchange_Disclose_FullMethodName:                "disclose",
	liaisonv1.Exchange_Notify_FullMethodName:                  "notify",
	liaisonv1.Exchange_Request_FullMethodName:                 "request",
	liaisonv1.Exchange_Match_FullMethodName:                   "match",
	liaisonv1.Exchange_Translate_FullMethodName:               "translate",
	liaisonv1.Exchange_RequestReidentification_FullMethodName: "reidentify",
	liaisonv1.Exchange_ApproveReidentification_FullMethodName: "reidentify",
	liaisonv1.Aftercare_Correct_FullMethodName:                "correct",
	liaisonv1.Aftercare_Withdraw_FullMethodName:               "withdraw",
	liaisonv1.Aftercare_AcknowledgeNotice_FullMethodName:      "acknowledge_notice",
	liaisonv1.Aftercare_ReviseExpiry_FullMethodName:           "revise_expiry",
	liaisonv1.Cases_OpenCase_FullMethodName:                   "case_open",
	liaisonv1.Cases_InviteMember_FullMethodName:               "case_invite",
	liaisonv1.Cases_AcceptInvitation_FullMethodName:           "case_accept",
	liaisonv1.Cases_DeclineInvitation_FullMethodName:          "case_decline",
	liaisonv1.Cases_LeaveCase_FullMethodName:                  "case_leave",
	liaisonv1.Cases_RemoveMember_FullMethodName:               "case_remove",
	liaisonv1.Cases_HandOverLead_FullMethodName:               "case_handover",
	liaisonv1.Cases_CloseCase_FullMethodName:                  "case_close",
}

// registerAudited registers a service whose audited methods (see
// auditedActions) record a request that cannot be read. gRPC reads a
// request before any interceptor runs and answers one it cannot read
// itself: RESOURCE_EXHAUSTED for one larger than Config.MaxRecvBytes
// ("received message larger than max"), INTERNAL for bytes that are not
// the method's message ("failed to unmarshal"). Such a request would end
// without an entry; this records it as refused (REQUEST_TOO_LARGE or
// MALFORMED_REQUEST), with the caller authenticated as for any other
// call, and nothing of what was sent; the call is counted and traced as
// any other, under its method.
func (s *Server) registerAudited(gs *grpc.Server, desc *grpc.ServiceDesc, impl any) {
	d := *desc
	d.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		d.Methods[i] = m
		full := "/" + desc.ServiceName + "/" + m.MethodName
		action, ok := auditedActions[full]
		if !ok {
			continue
		}
		handler := m.Handler
		d.Methods[i].Handler = func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			var decErr error
			resp, err := handler(srv, ctx, func(v any) error {
				decErr = dec(v)
				return decErr
			}, ic)
			if decErr != nil && err == decErr {
				return nil, s.refuseUnreadable(ctx, full, action, decErr)
			}
			return resp, err
		}
	}
	gs.RegisterService(&d, impl)
}

// refuseUnreadable authenticates the caller of a request gRPC could not
// read and records the refusal; an unauthenticated caller's refusal is
// recorded as any other (refusals.go). gRPC has answered the call and
// ended its context by then, so neither step may depend on it.
func (s *Server) refuseUnreadable(ctx context.Context, method, action string, decErr error) (err error) {
	ctx = context.WithoutCancel(ctx)
	// No interceptor ran: the call is counted and timed here, under its
	// method, as they would have.
	ctx, r, span := s.tel.startRPC(ctx, method)
	defer func() { s.tel.endRPC(r, span, err) }()
	at := s.tel.stage(ctx, stageAuthenticate)
	ctx, err = s.authenticate(ctx, method)
	at.end()
	if err != nil {
		return err
	}
	ex := s.begin(ctx, action)
	defer ex.finish(ctx, &err)
	if status.Code(decErr) == codes.ResourceExhausted {
		return &badRequest{field: "request", reason: "REQUEST_TOO_LARGE", problem: "larger than the gateway accepts (" + strconv.Itoa(s.cfg.MaxRecvBytes) + " bytes)"}
	}
	return &badRequest{field: "request", reason: "MALFORMED_REQUEST", problem: "not a valid " + method + " message"}
}
