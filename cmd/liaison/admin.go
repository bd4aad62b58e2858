package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// defaultAdminListen is where the admin listener binds unless told
// otherwise: loopback only.
const defaultAdminListen = "127.0.0.1:9090"

// adminOptions configure what operators see: the admin HTTP listener
// (Prometheus metrics and pprof), separate from the API, and traces.
type adminOptions struct {
	// Listen is the admin listener's address; "" or "off" means none.
	Listen string
	// AllowRemote lets Listen name an address other than loopback.
	AllowRemote bool
	// OTLPEndpoint, if set, is the OTLP/gRPC collector spans are sent to;
	// empty means no traces.
	OTLPEndpoint string
	// OTLPInsecure sends spans without TLS (a collector on the same host).
	OTLPInsecure bool
	// SampleRatio is the share of calls traced, from 0 to 1.
	SampleRatio float64
	// explicit is set when -admin-listen was given on the command line:
	// then a listener that cannot bind stops the gateway; at its default,
	// the gateway logs a warning and serves without it.
	explicit bool
}

func (a *adminOptions) flags(fs *flag.FlagSet) {
	fs.Func("admin-listen", "admin HTTP `address` for Prometheus metrics (/metrics) and pprof (/debug/pprof/), separate from the API; off disables it; loopback only unless -admin-allow-remote (default "+defaultAdminListen+")", func(v string) error {
		a.Listen, a.explicit = v, true
		return nil
	})
	a.Listen = defaultAdminListen
	fs.BoolVar(&a.AllowRemote, "admin-allow-remote", false, "let -admin-listen bind an address other than loopback (metrics and profiles are then reachable from the network: put them behind a firewall)")
	fs.StringVar(&a.OTLPEndpoint, "otlp-endpoint", "", "OpenTelemetry collector `host:port` (OTLP over gRPC) to send spans to, one per call, exchange and stage; empty means no traces")
	fs.BoolVar(&a.OTLPInsecure, "otlp-insecure", false, "send spans to -otlp-endpoint without TLS (a collector on the same host)")
	fs.Float64Var(&a.SampleRatio, "otlp-sample-ratio", 1, "share of calls traced with -otlp-endpoint, from 0 to 1")
}

// enabled reports whether an admin listener is wanted.
func (a *adminOptions) enabled() bool {
	return a != nil && a.Listen != "" && a.Listen != "off"
}

// check refuses an admin address that is not loopback unless AllowRemote
// (metrics and profiles say a lot about the traffic, and pprof can be made
// to work hard), and a sample ratio outside 0 to 1. serve calls it before
// it starts anything.
func (a *adminOptions) check() error {
	if !(a.SampleRatio >= 0 && a.SampleRatio <= 1) { // NaN too
		return fmt.Errorf("serve: -otlp-sample-ratio %v: want 0 to 1", a.SampleRatio)
	}
	if !a.enabled() {
		return nil
	}
	host, _, err := net.SplitHostPort(a.Listen)
	if err != nil {
		return fmt.Errorf("serve: -admin-listen %q: %v", a.Listen, err)
	}
	if a.AllowRemote || loopbackHost(host) {
		return nil
	}
	return fmt.Errorf("serve: -admin-listen %q is not a loopback address; give -admin-allow-remote to expose metrics and pprof beyond this host", a.Listen)
}

// loopbackHost reports whether host is localhost or a loopback IP. An
// empty host means every interface.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// telemetrySetup is what the gateway is given to report into, and the
// admin listener that serves it.
type telemetrySetup struct {
	opts     *adminOptions
	log      *slog.Logger
	registry *prometheus.Registry
	tracer   *sdktrace.TracerProvider
	server   *http.Server
	Addr     string // the admin listener's address, once serving
}

// newTelemetry prepares the metrics registry (if the admin listener is
// wanted) and the tracer (if a collector is named). It returns nil when
// neither is.
func newTelemetry(ctx context.Context, o *adminOptions, log *slog.Logger) (*telemetrySetup, error) {
	if o == nil || (!o.enabled() && o.OTLPEndpoint == "") {
		return nil, nil
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	t := &telemetrySetup{opts: o, log: log}
	if o.enabled() {
		t.registry = prometheus.NewRegistry()
		t.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if o.OTLPEndpoint != "" {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(o.OTLPEndpoint)}
		if o.OTLPInsecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		exp, err := otlptracegrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("serve: -otlp-endpoint: %v", err)
		}
		t.tracer = sdktrace.NewTracerProvider(
			sdktrace.WithBatcher(exp),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.SampleRatio))),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "liaison"))),
		)
		log.InfoContext(ctx, "sending traces", "otlp_endpoint", o.OTLPEndpoint, "sample_ratio", o.SampleRatio)
	}
	return t, nil
}

// metrics returns the registry the gateway registers its metrics with, or
// nil for none. It is nil-safe, as are the methods below.
func (t *telemetrySetup) metrics() prometheus.Registerer {
	if t == nil || t.registry == nil {
		return nil
	}
	return t.registry
}

// tracerProvider returns the tracer provider, or nil for no spans.
func (t *telemetrySetup) tracerProvider() trace.TracerProvider {
	if t == nil || t.tracer == nil {
		return nil
	}
	return t.tracer
}

// serve starts the admin listener, if one is wanted.
func (t *telemetrySetup) serve(ctx context.Context) error {
	if t == nil || t.registry == nil {
		return nil
	}
	lis, err := net.Listen("tcp", t.opts.Listen)
	if err != nil {
		if !t.opts.explicit {
			t.log.WarnContext(ctx, "admin listener not started: its default address is taken; give -admin-listen", "address", t.opts.Listen, "error", err)
			return nil
		}
		return fmt.Errorf("serve: admin listener: %v", err)
	}
	t.Addr = lis.Addr().String()
	t.server = &http.Server{Handler: adminHandler(t.registry), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := t.server.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.log.ErrorContext(ctx, "admin listener stopped", "error", err)
		}
	}()
	t.log.InfoContext(ctx, "admin listening", "address", t.Addr, "metrics", "/metrics", "pprof", "/debug/pprof/")
	return nil
}

// close stops the admin listener and flushes the spans still buffered.
func (t *telemetrySetup) close(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.server != nil {
		errs = append(errs, t.server.Shutdown(ctx))
	}
	if t.tracer != nil {
		errs = append(errs, t.tracer.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// adminHandler serves /metrics and /debug/pprof/ on a mux of its own (not
// http.DefaultServeMux, which any imported package may add to), without
// the process's command line.
func adminHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	// Not pprof.Cmdline: the command line can carry a credential (the
	// Kubernetes manifest passes -audit-db=$(LIAISON_AUDIT_DB), which the
	// kubelet expands to the database URL with its password), and this
	// listener may be open beyond the host (-admin-allow-remote).
	mux.HandleFunc("/debug/pprof/cmdline", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "not served: the command line can carry credentials", http.StatusNotFound)
	})
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "liaison admin: /metrics (Prometheus), /debug/pprof/ (Go profiles)")
	})
	return mux
}
