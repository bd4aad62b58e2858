package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
)

// exempt reports whether a method needs no officer token. The TLS layer
// still requires a client certificate from a trusted CA for every call.
func exempt(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(method, "/grpc.reflection.")
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if exempt(info.FullMethod) {
		return handler(ctx, req)
	}
	ctx, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if exempt(info.FullMethod) {
		return handler(srv, ss)
	}
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &authedStream{ServerStream: ss, ctx: ctx})
}

type authedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (a *authedStream) Context() context.Context { return a.ctx }

// authenticate proves the agency by its certificate and the officer by the
// bearer token, and puts the Caller in the context. A refusal is audited.
func (s *Server) authenticate(ctx context.Context, method string) (context.Context, error) {
	var state *tls.ConnectionState
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			state = &ti.State
		}
	}
	agency, err := s.cfg.Verifier.AgencyFromCertificate(state)
	if err == nil {
		var c authn.Caller
		c, err = s.cfg.Verifier.Authenticate(ctx, agency, bearer(ctx))
		if err == nil {
			return authn.NewContext(ctx, c), nil
		}
	}
	var ae *authn.Error
	if !errors.As(err, &ae) {
		ae = &authn.Error{Reason: "INVALID_CREDENTIALS", Detail: "the credentials are invalid"}
	}
	s.auditRefusal(ctx, method, ae)
	return ctx, s.statusError(ctx, err)
}

// bearer returns the token of an "authorization: Bearer <token>" header.
func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if t, ok := strings.CutPrefix(v, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}

// auditRefusal records a refused authentication: the reason and the
// claimed agency, never the token.
func (s *Server) auditRefusal(ctx context.Context, method string, ae *authn.Error) {
	e := &audit.Entry{
		Time:    s.now(),
		Action:  audit.ActionAuthenticate,
		Outcome: audit.OutcomeRefused,
		Reasons: []string{ae.Reason},
		Detail:  map[string]string{"method": method},
	}
	if ae.Agency != "" {
		e.Requester = &audit.Requester{Agency: ae.Agency}
	}
	if _, err := s.cfg.Audit.Append(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit of a refused authentication failed", "reason", ae.Reason, "error", err)
	}
	s.log.WarnContext(ctx, "authentication refused", "reason", ae.Reason, "claimed_agency", ae.Agency, "method", method)
}
