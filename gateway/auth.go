package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/liaison-gateway/liaison/gateway/authn"
)

// exempt reports whether a method is open without credentials: the health
// check, for load balancers.
func exempt(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/")
}

// certOnly reports whether a method needs a client certificate but no
// officer token: server reflection, so that grpcurl works.
func certOnly(method string) bool {
	return strings.HasPrefix(method, "/grpc.reflection.")
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if exempt(info.FullMethod) {
		return handler(ctx, req)
	}
	at := s.tel.stage(ctx, stageAuthenticate)
	ctx, err := s.authenticate(ctx, info.FullMethod)
	at.end()
	if err != nil {
		return nil, err
	}
	resp, err := handler(ctx, req)
	if err == nil {
		s.withReceipts(ctx, resp) // only for calls a peer gateway made
		if _, ok := peerFromContext(ctx); ok {
			s.withConsistency(ctx, req, resp)
		}
	} else {
		err = s.withRefusalReceipt(ctx, req, err) // likewise
	}
	return resp, err
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if exempt(info.FullMethod) {
		return handler(srv, ss)
	}
	at := s.tel.stage(ss.Context(), stageAuthenticate)
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	at.end()
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
// bearer token, on every call, and puts the Caller in the context. A
// refusal is audited (rate-limited per peer).
func (s *Server) authenticate(ctx context.Context, method string) (context.Context, error) {
	var state *tls.ConnectionState
	p, _ := peer.FromContext(ctx)
	if p != nil {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			state = &ti.State
		}
	}
	var err error
	if certOnly(method) {
		if _, err = s.cfg.Verifier.CheckCertificate(state); err == nil {
			return ctx, nil
		}
	} else if md, _ := metadata.FromIncomingContext(ctx); len(md.Get("authorization")) > 1 {
		// Two credentials in one call: which officer acts would be the
		// gateway's guess. The certificate still says which agency it is.
		var a *authn.Agency
		if a, err = s.cfg.Verifier.CheckCertificate(state); err == nil {
			err = &authn.Error{Reason: "MALFORMED_TOKEN", Agency: a.ID, Proven: true,
				Detail: "the call carries more than one authorization header: send one, with one bearer token"}
		}
	} else {
		var c authn.Caller
		if c, err = s.cfg.Verifier.Authenticate(ctx, state, bearer(ctx)); err == nil {
			if c.Agency.Kind != KindPeerGateway {
				return authn.NewContext(ctx, c), nil
			}
			var pctx context.Context
			if pctx, err = s.asPeer(ctx, method, c, bearer(ctx)); err == nil {
				return pctx, nil // a peer gateway, for one of its officers
			}
			ctx = pctx // a refusal of an agency behind the peer names the peer
		}
	}
	var ae *authn.Error
	if !errors.As(err, &ae) {
		ae = &authn.Error{Reason: "INVALID_CREDENTIALS", Detail: "the credentials are invalid"}
	}
	s.refusals.refuse(ctx, peerKey(p, ae), method, ae)
	return ctx, s.statusError(ctx, err)
}

// peerKey identifies a refused peer for rate limiting: the agency its
// certificate proves (a revoked certificate or a bad token still proves
// which agency it is), else its network address without the port: a
// certificate that does not chain to a trusted CA proves nothing, so what
// it claims cannot open or use up another agency's budget.
func peerKey(p *peer.Peer, ae *authn.Error) string {
	if ae.Proven && ae.Agency != "" {
		return ae.Agency
	}
	if p != nil && p.Addr != nil {
		host, _, err := net.SplitHostPort(p.Addr.String())
		if err == nil {
			return host
		}
		return p.Addr.String()
	}
	return "unknown"
}

// bearer returns the token of an "authorization: Bearer <token>" header.
// The scheme is case-insensitive (RFC 7235, section 2.1): "bearer <token>"
// carries a token too, and is not refused as carrying none.
func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if len(v) > len("Bearer ") && strings.EqualFold(v[:len("Bearer ")], "Bearer ") {
			return strings.TrimSpace(v[len("Bearer "):])
		}
	}
	return ""
}

// caller returns the authenticated caller of a call, or the status to
// return: the interceptors put it in every context but health's.
func (s *Server) caller(ctx context.Context) (authn.Caller, error) {
	c, ok := authn.FromContext(ctx)
	if !ok {
		return c, s.statusError(ctx, &authn.Error{Reason: "NO_CREDENTIALS", Detail: "caller not authenticated"})
	}
	return c, nil
}
