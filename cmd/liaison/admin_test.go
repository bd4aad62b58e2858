package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// scrape reads the admin listener's /metrics as Prometheus would.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value sums the samples of a family whose labels include want (a
// histogram's count, a counter's or a gauge's value); found reports
// whether any matched.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, found bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, w := range want {
			if labels[k] != w {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			v += m.GetCounter().GetValue()
		case m.Gauge != nil:
			v += m.GetGauge().GetValue()
		case m.Histogram != nil:
			v += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return v, found
}

// TestAdminMetrics makes known calls to a running gateway over mTLS and
// scrapes its admin listener: every count matches the calls made, by
// method, outcome and reason, stage by stage; the audit log's counters
// match its size; the active policy and the keys' freshness are there; and
// pprof answers.
func TestAdminMetrics(t *testing.T) {
	s := startAuditStackWith(t, func(o *gatewayOptions) {
		o.Admin = &adminOptions{Listen: "127.0.0.1:0", explicit: true}
	})
	admin := s.d.gw.Telemetry.Addr
	if admin == "" {
		t.Fatal("no admin listener")
	}
	ctx := t.Context()
	fx, _ := sample.ParseFixtures(sample.SampleOn(time.Now()))
	rec, attrs, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	prison, err := s.d.client("dk-prison-east", "kf.release.coordinator", []string{"case_officer"}, "confidential")
	if err != nil {
		t.Fatal(err)
	}
	defer prison.Close()
	police, err := s.d.client("nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "restricted")
	if err != nil {
		t.Fatal(err)
	}
	defer police.Close()
	ngo, err := s.d.client("nl-ngo-exit", "mentor.jansen", []string{"case_officer"}, "none")
	if err != nil {
		t.Fatal(err)
	}
	defer ngo.Close()

	const discloses, requests = 3, 2
	for range discloses {
		if _, err := liaisonv1.NewExchangeClient(prison).Disclose(ctx, &liaisonv1.DiscloseRequest{
			Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
			Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Metrics test.",
		}); err != nil {
			t.Fatal(err)
		}
	}
	ask := &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Metrics test.",
	}
	for range requests {
		if _, err := liaisonv1.NewExchangeClient(police).Request(ctx, ask); err != nil {
			t.Fatal(err)
		}
	}
	// A denial, a refused request (no justification) and a refused
	// authentication (a token the issuer never signed).
	_, err = liaisonv1.NewExchangeClient(ngo).Request(ctx, ask)
	denyReason := wantReason(t, err, codes.PermissionDenied)
	bad := &liaisonv1.RequestRequest{Holder: "nl-probation", SubjectId: "SYN-NL-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT}
	if _, err := liaisonv1.NewExchangeClient(police).Request(ctx, bad); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("request without justification: %v, want InvalidArgument", err)
	}
	forged, err := s.d.clientWithToken("nl-police-rotterdam", "eyJhbGciOiJFZERTQSJ9.e30.AAAA")
	if err != nil {
		t.Fatal(err)
	}
	defer forged.Close()
	_, err = liaisonv1.NewExchangeClient(forged).Request(ctx, ask)
	authReason := wantReason(t, err, codes.Unauthenticated)
	if _, err := healthpb.NewHealthClient(prison).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}

	// As the checkpointer does each second while the tree grows.
	if _, _, err := s.d.gw.Audit.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, admin)
	const disclose, request = "liaison.v1.Exchange/Disclose", "liaison.v1.Exchange/Request"
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"liaison_requests_total", map[string]string{"method": disclose, "outcome": "disclose"}, discloses},
		{"liaison_requests_total", map[string]string{"method": disclose}, discloses},
		{"liaison_requests_total", map[string]string{"method": request, "outcome": "pseudonymise"}, requests},
		{"liaison_requests_total", map[string]string{"method": request, "outcome": "deny", "reason": denyReason}, 1},
		{"liaison_requests_total", map[string]string{"method": request, "outcome": "refused", "reason": "INVALID_ARGUMENT"}, 1},
		{"liaison_requests_total", map[string]string{"method": request, "outcome": "refused", "reason": authReason}, 1},
		{"liaison_requests_total", map[string]string{"method": request}, requests + 3},
		{"liaison_requests_total", map[string]string{"method": "grpc.health.v1.Health/Check", "outcome": "ok"}, 1},
		{"liaison_refusals_total", map[string]string{"reason": "INVALID_ARGUMENT"}, 1},
		{"liaison_refusals_total", map[string]string{"reason": authReason}, 1},
		{"liaison_refusals_total", nil, 2},
		{"liaison_request_duration_seconds", map[string]string{"method": disclose}, discloses},
		{"liaison_request_duration_seconds", map[string]string{"method": request}, requests + 3},
		// Every authenticated call, the refused one included; not health.
		{"liaison_stage_duration_seconds", map[string]string{"stage": "authenticate"}, discloses + requests + 3},
		{"liaison_stage_duration_seconds", map[string]string{"stage": "validate"}, discloses + requests + 2},
		{"liaison_stage_duration_seconds", map[string]string{"stage": "describe"}, requests + 1},
		{"liaison_stage_duration_seconds", map[string]string{"stage": "decide"}, discloses + requests + 1},
		{"liaison_stage_duration_seconds", map[string]string{"stage": "fetch"}, requests},
		{"liaison_stage_duration_seconds", map[string]string{"stage": "transform"}, discloses + requests},
		// One entry per exchange: the refused request's too.
		{"liaison_stage_duration_seconds", map[string]string{"stage": "audit_wait"}, discloses + requests + 2},
		{"liaison_audit_queue_depth", nil, 0},
		{"liaison_audit_wal_checkpoint_failing", nil, 0}, // the demo's store is SQLite
		{"liaison_audit_unsigned_entries", nil, 0},
		{"liaison_policy_info", map[string]string{"revision": s.d.gw.Server.Policy().Current().Revision()}, 1},
		{"liaison_policy_last_activation_ok", nil, 1},
		{"liaison_pseudonym_keys_max_stale_seconds", nil, 900},
		{"liaison_pseudonym_keys_stale", nil, 0},
	} {
		got, found := value(fams, c.name, c.labels)
		if !found || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, found, c.want)
		}
	}
	size, err := s.d.gw.Audit.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := value(fams, "liaison_audit_entries_total", nil); got != float64(size) {
		t.Errorf("liaison_audit_entries_total = %v, want the log's size %d (every entry went through this process)", got, size)
	}
	if got, _ := value(fams, "liaison_audit_batches_total", nil); got < 1 || got > float64(size) {
		t.Errorf("liaison_audit_batches_total = %v, want 1 to %d", got, size)
	}
	if got, _ := value(fams, "liaison_audit_tree_size", nil); got != float64(size) {
		t.Errorf("liaison_audit_tree_size = %v, want %d", got, size)
	}
	if got, found := value(fams, "liaison_audit_wal_pages", nil); !found || got < 0 || got > 1<<20 {
		t.Errorf("liaison_audit_wal_pages = %v (found %v), want the SQLite store's WAL's size in pages", got, found)
	}
	if got, found := value(fams, "liaison_audit_checkpoint_age_seconds", nil); !found || got < 0 || got > 60 {
		t.Errorf("liaison_audit_checkpoint_age_seconds = %v (found %v), want a checkpoint just signed", got, found)
	}
	if got, found := value(fams, "liaison_pseudonym_keys_age_seconds", nil); !found || got < 0 || got > 60 {
		t.Errorf("liaison_pseudonym_keys_age_seconds = %v (found %v), want a fresh load", got, found)
	}
	if _, found := value(fams, "go_goroutines", nil); !found {
		t.Error("no Go runtime metrics")
	}

	// The Grafana dashboard asks only for metrics the gateway has.
	dash, err := os.ReadFile("../../deploy/grafana/liaison.json")
	if err != nil {
		t.Fatal(err)
	}
	var board struct{ Panels []json.RawMessage }
	if err := json.Unmarshal(dash, &board); err != nil || len(board.Panels) == 0 {
		t.Fatalf("deploy/grafana/liaison.json: %v, %d panels", err, len(board.Panels))
	}
	names := regexp.MustCompile(`\b(liaison|process|go)_[a-z_]+`).FindAllString(string(dash), -1)
	if len(names) < 10 {
		t.Fatalf("the dashboard names %d metrics", len(names))
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count"), "_sum")
		if _, ok := fams[base]; !ok {
			t.Errorf("the dashboard queries %s, which the gateway does not export", n)
		}
	}

	checkAlertRules(t, fams)
	checkMetricsTable(t, fams)
	checkQueryLabels(t, fams, "deploy/grafana/liaison.json", regexp.MustCompile(`"expr": "((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(string(dash), -1))
	checkHealthLeftOut(t, regexp.MustCompile(`"expr": "((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(string(dash), -1))
	alerts, err := os.ReadFile("../../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkQueryLabels(t, fams, "deploy/prometheus/alerts.yaml", regexp.MustCompile(`(?s)expr: (?:>-\n)?(.*?)\n\s+for:`).FindAllStringSubmatch(string(alerts), -1))

	resp, err := http.Get("http://" + admin + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "goroutine profile:") {
		t.Errorf("pprof goroutine profile: %s\n%.200s", resp.Status, b)
	}
}

func wantReason(t *testing.T, err error, want codes.Code) string {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != want {
		t.Fatalf("status %v, want %v", err, want)
	}
	reason := ""
	for _, d := range st.Details() {
		if ei, ok := d.(interface{ GetReason() string }); ok {
			reason = ei.GetReason()
		}
	}
	if reason == "" {
		t.Fatalf("status %v has no reason", err)
	}
	return reason
}

// clientWithToken dials the gateway with an agency's certificate and the
// given token.
func (d *demo) clientWithToken(agency, token string) (*grpc.ClientConn, error) {
	cert, err := tls.LoadX509KeyPair(d.pki.Path("agencies", agency+".pem"), d.pki.Path("agencies", agency+".key"))
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: d.pki.CA.Pool()}
	return grpc.NewClient(d.gw.Addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)), grpc.WithPerRPCCredentials(bearerToken(token)))
}

// TestAdminListenLoopbackOnly checks that the admin listener binds only to
// loopback unless -admin-allow-remote says otherwise, and that serve
// refuses such a flag before starting anything.
func TestAdminListenLoopbackOnly(t *testing.T) {
	for _, c := range []struct {
		listen string
		allow  bool
		ok     bool
	}{
		{"127.0.0.1:9090", false, true},
		{"127.0.0.2:0", false, true},
		{"[::1]:9090", false, true},
		{"localhost:9090", false, true},
		{"off", false, true},
		{"", false, true},
		{":9090", false, false}, // every interface
		{"0.0.0.0:9090", false, false},
		{"[::]:9090", false, false},
		{"192.0.2.10:9090", false, false},
		{"metrics.example:9090", false, false},
		{"9090", false, false}, // not host:port
		{"0.0.0.0:9090", true, true},
		{":9090", true, true},
	} {
		err := (&adminOptions{Listen: c.listen, AllowRemote: c.allow}).check()
		if (err == nil) != c.ok {
			t.Errorf("check(-admin-listen %q, allow remote %v) = %v, want ok %v", c.listen, c.allow, err, c.ok)
		}
		if err != nil && !c.allow && c.listen != "9090" && !strings.Contains(err.Error(), "-admin-allow-remote") {
			t.Errorf("check(%q) = %v; the error should name -admin-allow-remote", c.listen, err)
		}
	}
	err := run(t.Context(), []string{"serve", "-admin-listen", "0.0.0.0:9090", "-client-ca", "ca.pem"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-admin-allow-remote") {
		t.Errorf("serve -admin-listen 0.0.0.0:9090 = %v, want a refusal naming -admin-allow-remote", err)
	}

	// Allowed explicitly, it binds every interface (reached here through
	// loopback), with no other change.
	s := startAuditStackWith(t, func(o *gatewayOptions) {
		o.Admin = &adminOptions{Listen: "0.0.0.0:0", AllowRemote: true, explicit: true}
	})
	host, port, err := net.SplitHostPort(s.d.gw.Telemetry.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
		t.Errorf("admin bound to %s, want every interface", s.d.gw.Telemetry.Addr)
	}
	if _, ok := scrape(t, net.JoinHostPort("127.0.0.1", port))["liaison_policy_info"]; !ok {
		t.Error("no liaison_policy_info on the admin listener")
	}
}

// collector is an OTLP trace collector on loopback that keeps what it is
// sent.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans map[string][]map[string]string // span name -> attributes of each
	svc   []string                       // service.name of each batch
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				c.svc = append(c.svc, a.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				attrs := map[string]string{}
				for _, a := range sp.GetAttributes() {
					v := a.GetValue().GetStringValue()
					if v == "" {
						v = fmt.Sprint(a.GetValue().GetIntValue())
					}
					attrs[a.GetKey()] = v
				}
				c.spans[sp.GetName()] = append(c.spans[sp.GetName()], attrs)
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// TestOTLPExport starts the gateway with -otlp-endpoint naming a collector
// on loopback: the spans of a Disclose reach it, from service liaison,
// once the gateway stops (which flushes them).
func TestOTLPExport(t *testing.T) {
	col := &collector{spans: map[string][]map[string]string{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, col)
	go gs.Serve(lis)
	defer gs.Stop()

	s := startAuditStackWith(t, func(o *gatewayOptions) {
		o.Admin = &adminOptions{Listen: "off", OTLPEndpoint: lis.Addr().String(), OTLPInsecure: true, SampleRatio: 1}
	})
	fx, _ := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err := s.d.releaseNotice(t.Context(), fx); err != nil {
		t.Fatal(err)
	}
	if err := s.d.gw.Stop(); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, name := range []string{"liaison.v1.Exchange/Disclose", "authenticate", "exchange", "validate", "decide", "transform", "audit_wait"} {
		if _, ok := col.spans[name]; !ok {
			t.Errorf("the collector got no %q span; got %v", name, slices.Sorted(maps.Keys(col.spans)))
		}
	}
	if !slices.ContainsFunc(col.spans["exchange"], func(a map[string]string) bool { return a["liaison.outcome"] == "disclose" }) {
		t.Errorf("no exchange span with outcome disclose: %v", col.spans["exchange"])
	}
	if len(col.svc) == 0 || col.svc[0] != "liaison" {
		t.Errorf("service.name = %v, want liaison", col.svc)
	}
}

// checkAlertRules: deploy/prometheus/alerts.yaml is a rules file whose
// every rule has a name, an expression over metrics the gateway exports
// (fams, a scrape), a duration, a severity and words for the operator.
// withPeers are metrics a gateway exports once its registry names a peer
// gateway (TestPeerForkedLogDetected sees them from the start).
var withPeers = map[string]bool{"liaison_peer_log_inconsistent_total": true}

func checkAlertRules(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	if err := yaml.UnmarshalStrict(raw, &file); err != nil || len(file.Groups) == 0 {
		t.Fatalf("deploy/prometheus/alerts.yaml: %v, %d groups", err, len(file.Groups))
	}
	seen := map[string]bool{}
	metric := regexp.MustCompile(`\bliaison_[a-z_]+`)
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if !strings.HasPrefix(r.Alert, "Liaison") || seen[r.Alert] {
				t.Errorf("alert %q: want a unique name starting with Liaison", r.Alert)
			}
			seen[r.Alert] = true
			if _, err := model.ParseDuration(r.For); err != nil {
				t.Errorf("alert %s: for %q: %v", r.Alert, r.For, err)
			}
			if sev := r.Labels["severity"]; sev != "warning" && sev != "critical" {
				t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, sev)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: no summary or description", r.Alert)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("alert %s: unbalanced parentheses in %q", r.Alert, r.Expr)
			}
			if r.Alert == "LiaisonFailuresHigh" && strings.Count(r.Expr, `method!~"grpc[.]health[.].*"`) != strings.Count(r.Expr, "liaison_requests_total") {
				// The share of calls that failed: every probe's health
				// check, counted as an ok call, would dilute it.
				t.Errorf("alert %s: %q counts health checks among the calls", r.Alert, r.Expr)
			}
			names := metric.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("alert %s: its expression %q names no gateway metric", r.Alert, r.Expr)
			}
			for _, n := range names {
				if _, ok := fams[n]; !ok && !withPeers[n] {
					t.Errorf("alert %s queries %s, which the gateway does not export", r.Alert, n)
				}
			}
		}
	}
	if len(seen) < 5 {
		t.Errorf("deploy/prometheus/alerts.yaml has %d alerts", len(seen))
	}
}

// TestAdminServesNoCommandLine: the admin listener serves Go's profiles
// but not the process's command line, which can carry a credential (the
// Kubernetes manifest's -audit-db=$(LIAISON_AUDIT_DB) is the database URL
// with its password once the kubelet expands it).
func TestAdminServesNoCommandLine(t *testing.T) {
	srv := httptest.NewServer(adminHandler(prometheus.NewRegistry()))
	defer srv.Close()
	for _, path := range []string{"/debug/pprof/cmdline", "/debug/pprof/cmdline?debug=1"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(b), os.Args[0]) {
			t.Errorf("GET %s: %s, %q; want 404 without the command line", path, resp.Status, b)
		}
	}
	// The profiles are still there.
	resp, err := http.Get(srv.URL + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "goroutine profile:") {
		t.Errorf("pprof goroutine profile: %s\n%.200s", resp.Status, b)
	}
}

// TestServeRefusesSampleRatio: a -otlp-sample-ratio outside 0 to 1 (NaN
// included, which no comparison refuses) is refused before serve starts
// anything, naming the flag, rather than after the policy, keys and log.
func TestServeRefusesSampleRatio(t *testing.T) {
	for _, v := range []string{"2", "-0.5", "NaN"} {
		err := run(t.Context(), []string{"serve", "-otlp-endpoint", "127.0.0.1:1", "-otlp-sample-ratio", v, "-client-ca", "ca.pem"}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-otlp-sample-ratio") {
			t.Errorf("serve -otlp-sample-ratio %s = %v, want a refusal naming -otlp-sample-ratio", v, err)
		}
	}
}

// checkMetricsTable: the README's table of metrics (Seeing into a running
// gateway) names every liaison_* family the gateway exports (fams, a
// scrape), each with the labels it has, and no other.
func checkMetricsTable(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, _ := strings.Cut(string(raw), "## Seeing into a running gateway")
	sec, _, _ = strings.Cut(sec, "\n## ")
	documented := map[string][]string{}
	for _, line := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(line, "  | `liaison_") {
			continue
		}
		cell, _, _ := strings.Cut(strings.TrimPrefix(line, "  | "), " |")
		for _, m := range regexp.MustCompile("`(liaison_[a-z_]+)(?:\\{([a-z_,]*)\\})?`").FindAllStringSubmatch(cell, -1) {
			var labels []string
			if m[2] != "" {
				labels = strings.Split(m[2], ",")
			}
			slices.Sort(labels)
			documented[m[1]] = labels
		}
	}
	if len(documented) < 15 {
		t.Fatalf("the README's metrics table names %d metrics", len(documented))
	}
	for name, want := range documented {
		f := fams[name]
		if f == nil {
			if !withPeers[name] {
				t.Errorf("the README's metrics table names %s, which the gateway does not export", name)
			}
			continue
		}
		for _, m := range f.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetName())
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s has the labels %v; the README's metrics table says %v", name, got, want)
				break
			}
		}
	}
	for name := range fams {
		if _, ok := documented[name]; strings.HasPrefix(name, "liaison_") && !ok {
			t.Errorf("the gateway exports %s, which the README's metrics table does not name", name)
		}
	}
}

// checkQueryLabels: every label a query of the dashboard or an alert rule
// selects on (metric{label="value"}) is one its metric has, with a value it
// can take (the outcomes of the audit vocabulary, the stages, the kinds of
// acknowledgement), and every label it groups or matches by (by, without,
// ignoring, on) is one of a metric the query names, or a label Prometheus
// adds to every target (instance, job) or a histogram's le: a query on a
// label the gateway does not export shows nothing, and an alert on one
// never fires.
// checkHealthLeftOut checks that the dashboard's queries over calls that
// do not show them by method leave the health checks out: a load
// balancer's probes would otherwise count as calls by outcome and dilute
// the stage averages and the CPU per call.
func checkHealthLeftOut(t *testing.T, exprs [][]string) {
	t.Helper()
	calls := regexp.MustCompile(`\b(liaison_requests_total|liaison_request_duration_seconds_(?:count|sum|bucket))\{([^}]*)\}`)
	byMethod := regexp.MustCompile(`\bby\s*\([^)]*\bmethod\b`)
	checked := 0
	for _, e := range exprs {
		expr := e[1]
		if byMethod.MatchString(expr) {
			continue
		}
		for _, m := range calls.FindAllStringSubmatch(expr, -1) {
			checked++
			if !strings.Contains(m[2], `method!~\"grpc[.]health[.].*\"`) {
				t.Errorf("deploy/grafana/liaison.json: %s counts health checks as calls: %s", m[1], expr)
			}
		}
	}
	if checked < 3 {
		t.Errorf("deploy/grafana/liaison.json: %d queries over all calls checked, want at least 3", checked)
	}
}

func checkQueryLabels(t *testing.T, fams map[string]*dto.MetricFamily, file string, exprs [][]string) {
	t.Helper()
	if len(exprs) < 5 {
		t.Fatalf("%s: found %d queries", file, len(exprs))
	}
	labelsOf := func(name string) map[string]bool {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
		ls := map[string]bool{"instance": true, "job": true}
		if withPeers[base] {
			ls["peer"] = true
		}
		if base != name && strings.HasSuffix(name, "_bucket") {
			ls["le"] = true
		}
		if f := fams[base]; f != nil {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					ls[l.GetName()] = true
				}
			}
		}
		return ls
	}
	values := map[string][]string{
		"outcome": {"disclose", "pseudonymise", "hit_only", "deny", "refused", "failed", "not_found", "ok", "pending"},
		"stage":   {"authenticate", "validate", "describe", "decide", "fetch", "transform", "audit_wait"},
		"kind":    {"required_notice", "obligation_notice"},
	}
	selector := regexp.MustCompile(`\b((?:liaison|go|process)_[a-z_]+)\{([^}]*)\}`)
	matcher := regexp.MustCompile(`([a-z_]+)\s*(=~|!=|!~|=)\s*\\?"((?:[^"\\]|\\.)*?)\\?"`)
	grouping := regexp.MustCompile(`\b(?:by|without|ignoring|on)\s*\(([^)]*)\)`)
	metric := regexp.MustCompile(`\b(?:liaison|go|process)_[a-z_]+`)
	for _, e := range exprs {
		expr := e[1]
		named := map[string]bool{}
		for _, n := range metric.FindAllString(expr, -1) {
			for l := range labelsOf(n) {
				named[l] = true
			}
		}
		for _, m := range selector.FindAllStringSubmatch(expr, -1) {
			has := labelsOf(m[1])
			for _, lm := range matcher.FindAllStringSubmatch(m[2], -1) {
				label, op, val := lm[1], lm[2], lm[3]
				if !has[label] {
					t.Errorf("%s: %q selects %s on the label %s, which it does not have", file, expr, m[1], label)
				}
				if vs, ok := values[label]; ok && op == "=" && !slices.Contains(vs, val) {
					t.Errorf("%s: %q selects %s=%q, a value it never takes (%v)", file, expr, label, val, vs)
				}
			}
		}
		for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(g[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !named[l] {
					t.Errorf("%s: %q groups or matches by %s, a label of none of its metrics", file, expr, l)
				}
			}
		}
	}
}
