package gateway

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRecoveredPanic: a call that panics gets codes.Internal and the
// gateway goes on; the log names the method and a runtime error, and
// never a panic value made by code (it could hold what the call carried).
func TestRecoveredPanic(t *testing.T) {
	var buf bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&buf, nil))}
	info := &grpc.UnaryServerInfo{FullMethod: "/liaison.v1.Exchange/Disclose"}
	for _, tt := range []struct {
		name    string
		handler grpc.UnaryHandler
		logged  string
	}{
		{"runtime error", func(context.Context, any) (any, error) {
			var m map[string]int
			m["x"] = 1
			return nil, nil
		}, "assignment to entry in nil map"},
		{"value", func(context.Context, any) (any, error) { panic("subject SYN-NL-0001 broke it") }, `"panic":"string"`},
	} {
		buf.Reset()
		resp, err := s.recoverUnary(t.Context(), nil, info, tt.handler)
		if resp != nil || status.Code(err) != codes.Internal {
			t.Errorf("%s: recoverUnary = %v, %v; want nil and Internal", tt.name, resp, err)
		}
		log := buf.String()
		if !strings.Contains(log, tt.logged) || !strings.Contains(log, info.FullMethod) || strings.Contains(log, "SYN-NL-0001") {
			t.Errorf("%s: log %s; want the method and %q, and no request data", tt.name, log, tt.logged)
		}
	}
	err := s.recoverStream(nil, ctxStream{ctx: t.Context()}, &grpc.StreamServerInfo{FullMethod: "/liaison.v1.Exchange/Subscribe"},
		func(any, grpc.ServerStream) error { panic("boom") })
	if status.Code(err) != codes.Internal {
		t.Errorf("recoverStream = %v, want Internal", err)
	}
	// A call that does not panic is untouched.
	if resp, err := s.recoverUnary(t.Context(), nil, info, func(context.Context, any) (any, error) { return "ok", nil }); resp != "ok" || err != nil {
		t.Errorf("recoverUnary(no panic) = %v, %v", resp, err)
	}
}

// ctxStream is a server stream that has only a context.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c ctxStream) Context() context.Context { return c.ctx }

// A policy decision runs on a deep-stack worker (deepstack.go), not on
// the call's goroutine: a panic there is the call's all the same, Internal
// for that call alone with the log naming its kind, never its value, and
// the worker serves the next decision. It ended the process, printing the
// value, before.
func TestPanicInADecisionIsTheCallsOwn(t *testing.T) {
	var buf bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&buf, nil)), deciders: newDeepStacks(1)}
	defer s.deciders.Close()
	info := &grpc.UnaryServerInfo{FullMethod: "/liaison.v1.Exchange/Request"}
	resp, err := s.recoverUnary(t.Context(), nil, info, func(ctx context.Context, _ any) (any, error) {
		return nil, s.deciders.run(ctx, func() { panic("the policy broke on subject SYN-NL-PRIV-0007") })
	})
	if resp != nil || status.Code(err) != codes.Internal {
		t.Errorf("recoverUnary = %v, %v; want nil and Internal", resp, err)
	}
	if log := buf.String(); !strings.Contains(log, `"panic":"string"`) || strings.Contains(log, "SYN-NL-PRIV-0007") {
		t.Errorf("log %s; want the panic's kind and no request data", log)
	}
	ran := false
	if err := s.deciders.run(t.Context(), func() { ran = true }); err != nil || !ran {
		t.Errorf("the next decision: ran %v, err %v; want it run on the worker", ran, err)
	}
}
