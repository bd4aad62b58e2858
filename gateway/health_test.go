package gateway_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/pseudonym"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

// healthGateway is a gateway on loopback TLS with its background work
// running (Run checks health every 50ms), on the audit store and key
// source a test gives it, and a health client that presents no
// certificate, as a load balancer's probe would.
type healthGateway struct {
	health  healthpb.HealthClient
	logs    *syncBuffer
	metrics *prometheus.Registry
	keys    *pseudonym.Pseudonymizer
}

func startHealthGateway(t *testing.T, store audit.Store, keys pseudonym.KeySource, maxStale time.Duration) *healthGateway {
	t.Helper()
	ctx := t.Context()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	eng, err := embeddedEngine()
	if err != nil {
		t.Fatal(err)
	}
	if keys == nil {
		keys = pseudonym.FileKeys{Path: filepath.Join(t.TempDir(), "keys.json")}
		if _, err := pseudonym.CreateKeyFile(keys.(pseudonym.FileKeys).Path); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := pseudonym.New(ctx, pseudonym.Config{Source: keys, Refresh: 100 * time.Millisecond, MaxStale: maxStale, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := audit.LoadOrCreateSignerKey(filepath.Join(t.TempDir(), "audit.key"), "test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.New(ctx, audit.Config{Store: store, Signer: signer, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ver, err := authn.NewVerifier(authn.Config{Audience: "liaison", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := gateway.New(gateway.Config{Policies: eng, Audit: alog, Pseudonyms: ps, Verifier: ver,
		HealthInterval: 50 * time.Millisecond, Logger: logger, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := devpki.NewAuthority("test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(ca.GatewayIdentity(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := srv.GRPCServer(gateway.ServerTLS(leaf.Cert))
	rctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { ps.Run(rctx) })
	wg.Go(func() { srv.Run(rctx) })
	go gs.Serve(l)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, RootCAs: ca.Pool()})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		gs.Stop()
		cancel()
		wg.Wait()
		srv.Close()
		alog.Close(context.Background()) // its final checkpoint may fail on a store the test broke
	})
	return &healthGateway{health: healthpb.NewHealthClient(conn), logs: logs, metrics: reg, keys: ps}
}

// gauge returns the value of a gauge without labels in the gateway's
// metrics, and whether it is there.
func (g *healthGateway) gauge(t *testing.T, name string) (float64, bool) {
	t.Helper()
	fams, err := g.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// want waits up to 15s until every named service reports the status
// wanted, and fails the test with what they said if they do not.
func (g *healthGateway) want(t *testing.T, want healthpb.HealthCheckResponse_ServingStatus, services ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, svc := range services {
		for {
			resp, err := g.health.Check(t.Context(), &healthpb.HealthCheckRequest{Service: svc})
			if err == nil && resp.GetStatus() == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("health of %q = %v, %v; want %v", svc, resp.GetStatus(), err, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// wantLogs waits up to 5s until the gateway's log holds every fragment.
func (g *healthGateway) wantLogs(t *testing.T, fragments ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, f := range fragments {
		for !strings.Contains(string(g.logs.Bytes()), f) {
			if time.Now().After(deadline) {
				t.Fatalf("the gateway's log lacks %s:\n%s", f, g.logs.Bytes())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

var allServices = []string{"", "liaison.v1.Exchange", "liaison.v1.Audit", "liaison.v1.Policy"}

// reopenable is a SQLite audit store that the test can close, as a failed
// disk or a store closed under the gateway would be, and open again on
// the same file.
type reopenable struct {
	path string
	cur  atomic.Pointer[sqlite.Store]
}

func openReopenable(t *testing.T) *reopenable {
	r := &reopenable{path: filepath.Join(t.TempDir(), "audit.db")}
	r.reopen(t)
	t.Cleanup(func() { r.Close() })
	return r
}

func (r *reopenable) reopen(t *testing.T) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), r.path)
	if err != nil {
		t.Fatal(err)
	}
	r.cur.Store(s)
}

func (r *reopenable) Append(ctx context.Context, b []audit.Pending) (int64, error) {
	return r.cur.Load().Append(ctx, b)
}
func (r *reopenable) Size(ctx context.Context) (int64, error)      { return r.cur.Load().Size(ctx) }
func (r *reopenable) Stat(ctx context.Context) (audit.Stat, error) { return r.cur.Load().Stat(ctx) }
func (r *reopenable) CheckIndex(ctx context.Context, start, end int64) error {
	return r.cur.Load().CheckIndex(ctx, start, end)
}
func (r *reopenable) ReadHashes(ctx context.Context, ix []int64) ([]tlog.Hash, error) {
	return r.cur.Load().ReadHashes(ctx, ix)
}
func (r *reopenable) ReadLeaves(ctx context.Context, start, end int64) ([][]byte, error) {
	return r.cur.Load().ReadLeaves(ctx, start, end)
}
func (r *reopenable) Query(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	return r.cur.Load().Query(ctx, f)
}
func (r *reopenable) SaveCheckpoint(ctx context.Context, size int64, note []byte) error {
	return r.cur.Load().SaveCheckpoint(ctx, size, note)
}
func (r *reopenable) LatestCheckpoint(ctx context.Context) (int64, []byte, error) {
	return r.cur.Load().LatestCheckpoint(ctx)
}
func (r *reopenable) Inbox(ctx context.Context, agency string, after int64, limit int) ([]audit.InboxItem, error) {
	return r.cur.Load().Inbox(ctx, agency, after, limit)
}
func (r *reopenable) Ack(ctx context.Context, agency string, cursor int64) error {
	return r.cur.Load().Ack(ctx, agency, cursor)
}
func (r *reopenable) MarkSent(ctx context.Context, cursor int64, inboxes ...string) error {
	return r.cur.Load().MarkSent(ctx, cursor, inboxes...)
}
func (r *reopenable) Sent(ctx context.Context, inbox string) (int64, error) {
	return r.cur.Load().Sent(ctx, inbox)
}
func (r *reopenable) Close() error { return r.cur.Load().Close() }

// A closed audit store makes every service but none of the others'
// conditions report NOT_SERVING, and the gateway serves again once the
// store is back; both changes are logged.
func TestHealthFollowsTheAuditStore(t *testing.T) {
	store := openReopenable(t)
	g := startHealthGateway(t, store, nil, time.Minute)
	g.want(t, healthpb.HealthCheckResponse_SERVING, allServices...)
	if strings.Contains(string(g.logs.Bytes()), "not serving") {
		t.Fatalf("a healthy gateway logged that it is not serving:\n%s", g.logs.Bytes())
	}

	// The metrics say so too, for the alert: with every replica NOT_SERVING,
	// no call reaches one to fail with AUDIT_UNAVAILABLE.
	if up, ok := g.gauge(t, "liaison_audit_store_up"); !ok || up != 1 {
		t.Errorf("liaison_audit_store_up = %v (found %v) on a serving gateway, want 1", up, ok)
	}

	store.Close()
	g.want(t, healthpb.HealthCheckResponse_NOT_SERVING, allServices...)
	if up, ok := g.gauge(t, "liaison_audit_store_up"); !ok || up != 0 {
		t.Errorf("liaison_audit_store_up = %v (found %v) while the store is closed, want 0", up, ok)
	}

	store.reopen(t)
	g.want(t, healthpb.HealthCheckResponse_SERVING, allServices...)
	if up, ok := g.gauge(t, "liaison_audit_store_up"); !ok || up != 1 {
		t.Errorf("liaison_audit_store_up = %v (found %v) once the store is back, want 1", up, ok)
	}
	g.wantLogs(t, `"health: not serving; the gateway fails closed","failing":"audit store"`, `"health: serving again","recovered":"audit store"`)
}

// cutProxy forwards TCP connections to a server until it is cut: then it
// drops every connection and refuses new ones, until restored. It stands
// for a network outage between the gateway and PostgreSQL.
type cutProxy struct {
	l      net.Listener
	target string
	down   atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { l.Close(); p.cut() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if p.down.Load() {
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[u] = true, true
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	p.down.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *cutProxy) restore() { p.down.Store(false) }

// PostgreSQL out of reach: NOT_SERVING; reachable again: SERVING, with the
// same store (its pool reconnects).
func TestHealthFollowsPostgreSQLReachability(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCutProxy(t, u.Host)
	u.Host = proxy.l.Addr().String()
	store, err := postgres.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	g := startHealthGateway(t, store, nil, time.Minute)
	g.want(t, healthpb.HealthCheckResponse_SERVING, allServices...)

	proxy.cut()
	g.want(t, healthpb.HealthCheckResponse_NOT_SERVING, allServices...)

	proxy.restore()
	g.want(t, healthpb.HealthCheckResponse_SERVING, allServices...)
}

// Keys past their staleness bound (Vault stopped): the gateway as a whole
// and Exchange report NOT_SERVING, while Audit, which needs no key the
// outage takes away, still serves; with Vault back, everything serves.
func TestHealthFollowsKeyStaleness(t *testing.T) {
	vs := vaulttest.Start(t)
	c := vs.Client()
	mount := vaulttest.Name("transit")
	if err := vault.EnsureKeys(t.Context(), c, mount, "liaison-pseudonym", "liaison-audit"); err != nil {
		t.Fatal(err)
	}
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	store := openReopenable(t)
	g := startHealthGateway(t, store, src, 2*time.Second)
	g.want(t, healthpb.HealthCheckResponse_SERVING, allServices...)

	// The staleness bound counts from the keys' last load, not from
	// Stop's return: Vault seals and stops answering the moment it gets
	// the signal but takes half a second or more to exit, and on a loaded
	// machine the last load may be some way before the signal.
	age, _ := g.keys.Freshness()
	stopped := time.Now()
	vs.Stop()
	g.want(t, healthpb.HealthCheckResponse_NOT_SERVING, "", "liaison.v1.Exchange")
	if d := age + time.Since(stopped); d < 1500*time.Millisecond {
		t.Errorf("NOT_SERVING %v after the keys were last loaded, within the 2s staleness bound", d)
	}
	g.want(t, healthpb.HealthCheckResponse_SERVING, "liaison.v1.Audit", "liaison.v1.Policy")

	vs.Resume()
	g.want(t, healthpb.HealthCheckResponse_SERVING, allServices...)
	g.wantLogs(t, `"failing":"pseudonym keys"`, `"recovered":"pseudonym keys"`)
}

var _ audit.Store = (*reopenable)(nil)
