package gateway

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A panic in a call must not take the gateway down for every agency: the
// recovering interceptors turn it into codes.Internal for that call alone.
// The exchange's own deferred finish has already run by then: an exchange
// that had not written its entry gets one that says so (failed, INTERNAL:
// "exchange ended without its entry"), and one that had, keeps it. The log gets the method, the panic's kind and the stack, never
// the panic's value unless it is a runtime error: a value made by code
// could hold what a request carried.

// recoverUnary is the unary interceptor that recovers a panic.
func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, s.recovered(ctx, info.FullMethod, p)
		}
	}()
	return handler(ctx, req)
}

// recoverStream is recoverUnary for streams.
func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = s.recovered(ss.Context(), info.FullMethod, p)
		}
	}()
	return handler(srv, ss)
}

// recovered logs a recovered panic and returns the caller's error.
func (s *Server) recovered(ctx context.Context, method string, p any) error {
	what := fmt.Sprintf("%T", p)
	if re, ok := p.(runtime.Error); ok {
		what = re.Error()
	}
	s.log.ErrorContext(ctx, "a call panicked; the gateway goes on", "method", method, "panic", what, "stack", string(debug.Stack()))
	return status.Error(codes.Internal, "internal error: the call failed; its audit entry, if it has one, says what was done")
}
