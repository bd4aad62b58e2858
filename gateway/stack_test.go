package gateway_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// syncBuffer collects the gateway's log output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// stack is a gateway with real parts: the sample holders' RecordProviders
// and the gateway on loopback TCP with TLS 1.3 and client certificates, the
// embedded policies (or a test tree), SQLite and a local key file.
type stack struct {
	pki     *sample.PKI
	addr    string
	srv     *gateway.Server
	log     *audit.Log
	store   *sqlite.Store // nil on PostgreSQL
	db      testStore
	dbPath  string
	keyFile string
	logs    *syncBuffer
	keys    *pseudonym.Pseudonymizer
	opts    stackOptions
	// providers are the sample agencies' RecordProviders, by agency.
	providers map[string]*sample.Server
	// fx are the fixtures the providers serve (see sampleFor).
	fx *sample.Fixtures
}

// sampleFor is the sample fixtures for a gateway whose clock is now (nil:
// the real clock): as written for a clock a test sets, whose dates were
// chosen against them; moved to today for the real clock, so that a test
// on it gets the same decisions on any day it runs.
func sampleFor(now func() time.Time) []byte {
	if now != nil {
		return sample.Sample()
	}
	return sample.SampleOn(time.Now())
}

type stackOptions struct {
	// signer, if set, wraps the log's checkpoint and receipt signer (one
	// that can be made to fail, say).
	signer        func(note.Signer) note.Signer
	policy        fs.FS            // if nil, the embedded policies
	policyDir     string           // if set, the policy is this directory, watched
	cacheSize     int              // verified-token cache; 0 default, <0 off
	refusalBudget int              // refusals audited one by one per peer and minute; 0 default
	denyList      string           // deny list file, if any
	crls          []string         // CRL files, if any
	clientCAs     []string         // client CA files beside the stack's CA, if any
	now           func() time.Time // the verifier's clock; nil means time.Now
	beforeStart   func(*stack)     // edits the stack's files before the gateway starts
	serverNow     func() time.Time // the gateway's clock; nil means time.Now
	// keySource replaces the local key file (a Vault source, say), with
	// the refresh interval and staleness bound to use.
	keySource pseudonym.KeySource
	// JWKS URLs: the client that fetches them and how often.
	httpClient  *http.Client
	jwksRefresh time.Duration
	keyRefresh  time.Duration
	keyMaxStale time.Duration
	// releaseRetry, if set, runs the gateway's background work (Run) with
	// that interval for postponed re-identification releases.
	releaseRetry time.Duration
	// metrics and tracer, if set, receive the gateway's metrics and spans.
	metrics prometheus.Registerer
	tracer  trace.TracerProvider
	// postgresURL, if set, is the PostgreSQL database of the log instead
	// of a SQLite file; replicas started on the stack share it.
	postgresURL string
	// timerInterval, if set, runs the gateway's background work (Run)
	// with that interval for the notice timers.
	timerInterval time.Duration
	// trustInterval, if set, is how often the trust files are read
	// (default 50 ms).
	trustInterval time.Duration
	// timerLease is Config.TimerLease; zero means the default.
	timerLease time.Duration
	// sampleOn, if set, moves the sample fixtures to that day
	// (sample.SampleOn) whatever the clock; see sampleFor for the default.
	sampleOn time.Time
	// holderInterceptor, if set, runs in front of every holder's
	// RecordProvider (a test holds a call there while the case changes).
	holderInterceptor grpc.UnaryServerInterceptor
	// race, if set, is the first gateway's aftercare store and its log's
	// store, over the stack's (a test commits a change between the
	// gateway's reading its notices, or the log, and its commit:
	// raceStore.armSent, armQuery).
	race *raceStore
	// faults, if set, is the first gateway's aftercare store and its
	// log's store, over the stack's: a read of it fails while armed
	// (faultStore, auditread_test.go).
	faults *faultStore
	// trustMarks, if set, wraps the store as the gateways' TrustMarks
	// (a test moves a mark as another replica would, between the
	// gateway's reading it and its swap).
	trustMarks func(authn.MarkStore) authn.MarkStore
	// providerTimeout is Config.ProviderTimeout; zero means the default.
	providerTimeout time.Duration
	// zeroPolicySource leaves Config.PolicySourceSpec zero (the embedded
	// policy, as Config documents), as a program that embeds the gateway
	// may.
	zeroPolicySource bool
	// trustLoadFails, if set, is given the error of a gateway whose
	// trust files do not load at start (a restart the gateway refuses),
	// and startGateway returns nil instead of failing the test.
	trustLoadFails func(error)
}

// testStore is what both audit stores are: the log's store, the replay
// set, the cases' state and the aftercare state.
type testStore interface {
	audit.Store
	audit.StateStore
	audit.AftercareStore
	authn.ReplayStore
	authn.MarkStore
	gateway.Once
}

func startStack(tb testing.TB, o stackOptions) *stack {
	tb.Helper()
	dir := tb.TempDir()
	b := sampleFor(o.serverNow)
	if !o.sampleOn.IsZero() {
		b = sample.SampleOn(o.sampleOn)
	}
	fx, err := sample.ParseFixtures(b)
	if err != nil {
		tb.Fatal(err)
	}
	lis := map[string]net.Listener{}
	addrs := map[string]string{}
	for _, a := range sample.SampleAgencies {
		if a.Holder {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				tb.Fatal(err)
			}
			lis[a.ID], addrs[a.ID] = l, l.Addr().String()
		}
	}
	pki, err := sample.WritePKI(filepath.Join(dir, "pki"), addrs)
	if err != nil {
		tb.Fatal(err)
	}
	providers := map[string]*sample.Server{}
	for id, l := range lis {
		ps, err := fx.NewServer(id, pki.CA.GatewayIdentity())
		providers[id] = ps
		if err != nil {
			tb.Fatal(err)
		}
		leaf, err := tls.LoadX509KeyPair(pki.Path("agencies", id+".pem"), pki.Path("agencies", id+".key"))
		if err != nil {
			tb.Fatal(err)
		}
		var popts []grpc.ServerOption
		if o.holderInterceptor != nil {
			popts = append(popts, grpc.ChainUnaryInterceptor(o.holderInterceptor))
		}
		gs := ps.Register(credentials.NewTLS(&tls.Config{
			MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{leaf},
			ClientCAs: pki.CA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert,
		}), popts...)
		go gs.Serve(l)
		tb.Cleanup(gs.Stop)
	}

	s := &stack{fx: fx, providers: providers, pki: pki, dbPath: filepath.Join(dir, "audit.db"), keyFile: filepath.Join(dir, "keys.json"), opts: o}
	if _, err := pseudonym.CreateKeyFile(s.keyFile); err != nil {
		tb.Fatal(err)
	}
	if _, _, err := audit.LoadOrCreateSignerKey(filepath.Join(dir, "audit.key"), "test.liaison"); err != nil {
		tb.Fatal(err)
	}
	if o.beforeStart != nil {
		o.beforeStart(s)
	}
	g := s.startGateway(tb)
	s.addr, s.srv, s.log, s.store, s.db, s.logs, s.keys = g.addr, g.srv, g.log, g.store, g.db, g.logs, g.keys
	return s
}

// embeddedEngine loads the embedded policies once per test binary: loading
// runs every Rego test of the tree, which the policies package covers.
var embeddedEngine = sync.OnceValues(func() (*policies.Engine, error) {
	return policies.Load(context.Background(), policies.Embedded())
})

// instance is one gateway process of a stack.
type instance struct {
	addr  string
	srv   *gateway.Server
	log   *audit.Log
	store *sqlite.Store // nil on PostgreSQL
	db    testStore
	logs  *syncBuffer
	keys  *pseudonym.Pseudonymizer
}

// startGateway starts a gateway on the stack's database, keys and trust
// files; a second call makes a second replica sharing them.
func (s *stack) startGateway(tb testing.TB) *instance {
	tb.Helper()
	ctx := context.Background()
	o := s.opts
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fsys := o.policy
	if fsys == nil {
		fsys = policies.Embedded()
	}
	psrc := policies.EmbeddedSource()
	if o.policyDir != "" {
		fsys, psrc = os.DirFS(o.policyDir), policies.DirSource(o.policyDir)
	}
	var eng *policies.Engine
	var err error
	switch {
	case o.policy == nil && o.policyDir == "":
		eng, err = embeddedEngine()
	case o.policyDir != "":
		eng, err = policies.LoadSource(ctx, psrc) // as liaison serve does
	default:
		eng, err = policies.Load(ctx, fsys)
	}
	if err != nil {
		tb.Fatalf("policies.Load: %v", err)
	}
	var src pseudonym.KeySource = pseudonym.FileKeys{Path: s.keyFile}
	if o.keySource != nil {
		src = o.keySource
	}
	keys, err := pseudonym.New(ctx, pseudonym.Config{Source: src, Refresh: o.keyRefresh, MaxStale: o.keyMaxStale, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	var db testStore
	var store *sqlite.Store
	if o.postgresURL != "" {
		pg, err := postgres.Open(ctx, o.postgresURL)
		if err != nil {
			tb.Fatal(err)
		}
		db = pg
	} else {
		if store, err = sqlite.Open(ctx, s.dbPath); err != nil {
			tb.Fatal(err)
		}
		db = store
	}
	var aftercareStore audit.AftercareStore = db
	var logStore audit.Store = db
	if o.race != nil && o.race.testStore == nil {
		o.race.testStore, aftercareStore, logStore = db, o.race, o.race
	}
	if o.faults != nil && o.faults.testStore == nil {
		o.faults.testStore, aftercareStore, logStore = db, o.faults, o.faults
	}
	signer, _, err := audit.LoadOrCreateSignerKey(filepath.Join(filepath.Dir(s.dbPath), "audit.key"), "test.liaison")
	if err != nil {
		tb.Fatal(err)
	}
	var logSigner note.Signer = signer
	if o.signer != nil {
		logSigner = o.signer(signer)
	}
	alog, err := audit.New(ctx, audit.Config{Store: logStore, Signer: logSigner, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	ver, err := authn.NewVerifier(authn.Config{Audience: "liaison", Logger: logger, Replay: db.(authn.ReplayStore), CacheSize: o.cacheSize, Now: o.now})
	if err != nil {
		tb.Fatal(err)
	}
	gwLeaf, err := tls.LoadX509KeyPair(s.pki.Path("gateway.pem"), s.pki.Path("gateway.key"))
	if err != nil {
		tb.Fatal(err)
	}
	if o.zeroPolicySource {
		psrc = policies.Source{}
	}
	var marks authn.MarkStore = db
	if o.trustMarks != nil {
		marks = o.trustMarks(db)
	}
	srv, err := gateway.New(gateway.Config{
		Policies: eng, PolicySourceSpec: psrc, Audit: alog, Pseudonyms: keys, Verifier: ver, Once: db, TrustMarks: marks, Now: o.serverNow,
		Aftercare: aftercareStore, TimerLease: o.timerLease, ProviderTimeout: o.providerTimeout,
		ProviderTLS:   &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{gwLeaf}, RootCAs: s.pki.CA.Pool()},
		RefusalBudget: o.refusalBudget, ReleaseRetry: o.releaseRetry, TimerInterval: o.timerInterval,
		Logger: logger, Metrics: o.metrics, Tracer: o.tracer,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tf := gateway.TrustFiles{Registry: s.pki.Registry, ClientCAs: append([]string{s.pki.Path("ca.pem")}, o.clientCAs...), DenyList: o.denyList, CRLs: o.crls,
		Interval: cmp.Or(o.trustInterval, 50*time.Millisecond), HTTPClient: o.httpClient, JWKSRefresh: o.jwksRefresh}
	if err := srv.LoadTrust(ctx, tf); err != nil {
		if o.trustLoadFails == nil {
			tb.Fatal(err)
		}
		srv.Close()
		alog.Close(ctx)
		db.Close()
		o.trustLoadFails(err)
		return nil
	}
	// The keys were loaded before the store, the log and the gateway
	// were: load them again now, so that a short staleness bound counts
	// from when the stack is ready (under -race, starting took longer
	// than the 2 s some tests allow).
	if err := keys.Reload(ctx); err != nil {
		tb.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	go srv.WatchTrust(wctx)
	go keys.Run(wctx)
	if o.releaseRetry > 0 || o.timerInterval > 0 {
		go srv.Run(wctx)
	}
	if o.policyDir != "" {
		go srv.WatchPolicy(wctx, psrc, 50*time.Millisecond)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	gs := srv.GRPCServer(gateway.ServerTLS(gwLeaf))
	go gs.Serve(l)
	tb.Cleanup(func() {
		cancel()
		gs.Stop()
		srv.Close()
		alog.Close(context.Background())
		db.Close()
	})
	return &instance{addr: l.Addr().String(), srv: srv, log: alog, store: store, db: db, logs: logs, keys: keys}
}

// officer describes who calls.
type officer struct {
	agency, id string
	roles      []string
	clearance  string
}

func (s *stack) conn(tb testing.TB, o officer) *grpc.ClientConn {
	tb.Helper()
	tok, err := s.pki.Issuers[o.agency].Mint(devpki.TokenSpec{Officer: o.id, Roles: o.roles, Clearance: o.clearance, Audience: "liaison"})
	if err != nil {
		tb.Fatal(err)
	}
	return s.connWith(tb, o.agency, tok)
}

// connWith dials as an agency's certificate with a given token ("" for none).
func (s *stack) connWith(tb testing.TB, agency, token string) *grpc.ClientConn {
	tb.Helper()
	cert, err := tls.LoadX509KeyPair(s.pki.Path("agencies", agency+".pem"), s.pki.Path("agencies", agency+".key"))
	if err != nil {
		tb.Fatal(err)
	}
	return s.dial(tb, s.addr, []tls.Certificate{cert}, token)
}

// dial connects to a gateway with the given client certificates (none for
// no certificate) and token ("" for none).
func (s *stack) dial(tb testing.TB, addr string, certs []tls.Certificate, token string) *grpc.ClientConn {
	tb.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: certs, RootCAs: s.pki.CA.Pool(),
	}))}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(token)))
	}
	c, err := grpc.NewClient(addr, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearer) RequireTransportSecurity() bool { return true }

func (s *stack) exchange(tb testing.TB, o officer) liaisonv1.ExchangeClient {
	return liaisonv1.NewExchangeClient(s.conn(tb, o))
}

// entry returns the audit entry at index, read from the store.
func (s *stack) entry(tb testing.TB, index int64) *audit.Entry {
	tb.Helper()
	leaves, err := s.db.ReadLeaves(context.Background(), index, index+1)
	if err != nil || len(leaves) != 1 {
		tb.Fatalf("ReadLeaves(%d) = %d leaves, %v", index, len(leaves), err)
	}
	e, err := audit.Unmarshal(leaves[0])
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// lastEntry returns the newest audit entry.
func (s *stack) lastEntry(tb testing.TB) (int64, *audit.Entry) {
	tb.Helper()
	n, err := s.db.Size(context.Background())
	if err != nil || n == 0 {
		tb.Fatalf("Size() = %d, %v; want entries", n, err)
	}
	return n - 1, s.entry(tb, n-1)
}

var (
	dkPrison  = officer{"dk-prison-east", "kf.release.coordinator", []string{"case_officer"}, "confidential"}
	dkPolice  = officer{"dk-police-aarhus", "pi.soerensen", []string{"case_officer"}, "confidential"}
	nlPolice  = officer{"nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "restricted"}
	nlNGO     = officer{"nl-ngo-exit", "mentor.jansen", []string{"case_officer"}, "none"}
	dkAuditor = officer{"dk-prison-east", "dpo.kristensen", []string{"auditor"}, "confidential"}
)
