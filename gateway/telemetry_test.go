package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// spanTree indexes finished spans by id and by name.
type spanTree struct {
	byID map[trace.SpanID]tracetest.SpanStub
	all  tracetest.SpanStubs
}

func newSpanTree(spans tracetest.SpanStubs) spanTree {
	t := spanTree{byID: map[trace.SpanID]tracetest.SpanStub{}, all: spans}
	for _, s := range spans {
		t.byID[s.SpanContext.SpanID()] = s
	}
	return t
}

// named returns the spans called name.
func (t spanTree) named(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range t.all {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// children returns the names of the spans whose parent is s.
func (t spanTree) children(s tracetest.SpanStub) []string {
	var out []string
	for _, c := range t.all {
		if c.Parent.SpanID() == s.SpanContext.SpanID() {
			out = append(out, c.Name)
		}
	}
	slices.Sort(out)
	return out
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// TestSpans checks the spans of real calls over TLS, with an in-memory
// exporter: one per call (server), its authentication, one per exchange
// with the outcome and audit index its entry has, and one per stage under
// the exchange. No span carries the subject's identifier or the token.
func TestSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(t.Context()) })
	s := startStack(t, stackOptions{tracer: tp})
	ctx := t.Context()

	t.Run("request", func(t *testing.T) {
		exp.Reset()
		resp, err := s.exchange(t, nlPolice).Request(ctx, &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: "SYN-NL-0001",
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Span test.",
		})
		if err != nil {
			t.Fatal(err)
		}
		tree := newSpanTree(exp.GetSpans())
		calls := tree.named("liaison.v1.Exchange/Request")
		if len(calls) != 1 {
			t.Fatalf("%d call spans, want 1; spans: %v", len(calls), names(tree.all))
		}
		call := calls[0]
		if call.SpanKind != trace.SpanKindServer || call.Parent.IsValid() {
			t.Errorf("call span kind %v, parent %v: want a root server span", call.SpanKind, call.Parent)
		}
		if got, want := tree.children(call), []string{"authenticate", "exchange"}; !slices.Equal(got, want) {
			t.Errorf("call span children = %v, want %v", got, want)
		}
		exs := tree.named("exchange")
		if len(exs) != 1 {
			t.Fatalf("%d exchange spans, want 1", len(exs))
		}
		ex := exs[0]
		if got := attr(ex, "liaison.outcome"); got != "pseudonymise" {
			t.Errorf("exchange outcome = %q, want pseudonymise", got)
		}
		if got, want := attr(ex, "liaison.audit_index"), fmt.Sprint(resp.GetReleased().GetAuditIndex()); got != want {
			t.Errorf("exchange audit index = %s, want %s (the response's)", got, want)
		}
		if got, want := tree.children(ex), []string{"audit_wait", "decide", "describe", "fetch", "transform", "validate"}; !slices.Equal(got, want) {
			t.Errorf("exchange stages = %v, want %v", got, want)
		}
		for _, sp := range tree.all {
			if sp.SpanContext.TraceID() != call.SpanContext.TraceID() {
				t.Errorf("span %s is in another trace", sp.Name)
			}
			for _, a := range sp.Attributes {
				if strings.Contains(a.Value.Emit(), "SYN-NL-0001") || strings.Contains(a.Value.Emit(), "Bearer") {
					t.Errorf("span %s attribute %s carries the subject or the token: %s", sp.Name, a.Key, a.Value.Emit())
				}
			}
		}
	})

	t.Run("disclose_to_two", func(t *testing.T) {
		exp.Reset()
		fx := s.fx
		rec, attrs, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
		_, err := s.exchange(t, dkPrison).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus", "nl-ngo-exit"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Span test.",
		})
		if err != nil {
			t.Fatal(err)
		}
		tree := newSpanTree(exp.GetSpans())
		exs := tree.named("exchange")
		// The call's own exchange (validation, handed over) and one per recipient.
		if len(exs) != 3 {
			t.Fatalf("%d exchange spans, want 3 (the call's and one per recipient): %v", len(exs), names(tree.all))
		}
		var outcomes []string
		for _, ex := range exs {
			if o := attr(ex, "liaison.outcome"); o != "" {
				outcomes = append(outcomes, o)
				if o == "deny" && ex.Status.Code != otelcodes.Error {
					t.Errorf("denied exchange span status = %v, want Error", ex.Status)
				}
			}
		}
		slices.Sort(outcomes)
		if want := []string{"deny", "disclose"}; !slices.Equal(outcomes, want) {
			t.Errorf("recipient exchange outcomes = %v, want %v", outcomes, want)
		}
	})

	t.Run("refused_authentication", func(t *testing.T) {
		exp.Reset()
		_, err := liaisonv1.NewExchangeClient(s.connWith(t, "dk-prison-east", "not-a-token")).Request(ctx, &liaisonv1.RequestRequest{})
		wantStatus(t, err, codes.Unauthenticated)
		tree := newSpanTree(exp.GetSpans())
		calls := tree.named("liaison.v1.Exchange/Request")
		if len(calls) != 1 {
			t.Fatalf("%d call spans, want 1: %v", len(calls), names(tree.all))
		}
		if calls[0].Status.Code != otelcodes.Error {
			t.Errorf("refused call span status = %v, want Error", calls[0].Status)
		}
		if got, want := tree.children(calls[0]), []string{"authenticate"}; !slices.Equal(got, want) {
			t.Errorf("refused call children = %v, want %v (no exchange)", got, want)
		}
	})
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
