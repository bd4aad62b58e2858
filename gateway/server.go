package gateway

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Config configures a Server. The zero value is not usable: Policies,
// Audit, Pseudonyms and Verifier are required.
type Config struct {
	Policies *policies.Engine // required: the initial policy
	// PolicySourceSpec is where Reload and WatchPolicy read candidates
	// from. If zero, the embedded policies.
	PolicySourceSpec policies.Source
	Audit            *audit.Log               // required
	Pseudonyms       *pseudonym.Pseudonymizer // required
	Verifier         *authn.Verifier          // required
	// Registry is the agencies and cases. If nil, empty until LoadTrust.
	Registry *Registry
	// ProviderTLS is the client TLS configuration the gateway uses to dial
	// holders' RecordProviders (its own certificate and the CAs it trusts).
	// Required when any agency has a Provider address.
	ProviderTLS *tls.Config
	// Checkpoints, if set, serves the checkpoint that GetCheckpoint and
	// Export give auditors: the latest one published with its witnesses'
	// cosignatures (witness.Cosigner). If nil, the log's latest checkpoint.
	Checkpoints CheckpointSource
	// Federation is how the gateway speaks to peer gateways (registry
	// entries of kind peer_gateway); the zero value answers no peer and
	// calls none.
	Federation Federation
	// Once is the replicas' shared first-writer-wins set, which makes a
	// re-identification release happen once, and a peer gateway's
	// forwarded exchange be accepted once (PeerForward.receipt). The
	// audit stores implement it. If nil, once per process.
	Once Once
	// TrustMarks keeps where the CRLs and the deny list put in force
	// stand (the newest CRL of each issuer, the deny list's version), so
	// that a reload or a start refuses to roll one back after a restart
	// too, and on every replica sharing it. The audit stores implement
	// it. If nil, in memory: the rule holds while the process runs.
	TrustMarks authn.MarkStore
	// MaxRecvBytes caps request size. If zero, 1 MiB.
	MaxRecvBytes int
	// ProviderTimeout bounds each call to a holder. If zero, 10s.
	ProviderTimeout time.Duration
	// RefusalBudget is how many refused authentications per peer and
	// RefusalWindow are audited one by one; the rest of the window's are
	// counted into one summary entry. If zero, 20 per minute.
	RefusalBudget int
	RefusalWindow time.Duration
	// ReleaseRetry is how often Run retries re-identification releases
	// whose quorum was met while the keys were unavailable. If zero, 30s.
	ReleaseRetry time.Duration
	// HealthInterval is how often Run checks the conditions under which
	// the gateway fails closed, for the health service (see
	// [Server.GRPCServer]). If zero, five seconds.
	HealthInterval time.Duration
	// TimerInterval is how often Run runs the notice timers (escalations
	// and deadlines of required notices), on the one replica holding the
	// timer lease. If zero, 30s.
	TimerInterval time.Duration
	// Aftercare keeps what outlives a request after sharing: the releases
	// whose legal basis ends, the notices sent and their acknowledgement,
	// the fingerprints of released content and the timers' leases. The
	// audit stores implement it. If nil, the Aftercare service answers
	// Unavailable, releases are not fingerprinted and no expiry is sent.
	Aftercare audit.AftercareStore
	// AftercareInterval is how often Run sends the expiry notices that are
	// due (on the one replica holding the timer's lease). If zero, one
	// minute.
	AftercareInterval time.Duration
	// TimerLease is how long the replica that runs the aftercare timers
	// holds their lease before it must renew it (each pass renews it); a
	// replica that stops hands the timers on when it lapses. If zero, two
	// minutes.
	TimerLease time.Duration
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
	// Logger receives operational logs. If nil, slog.Default().
	Logger *slog.Logger
	// Metrics, if not nil, receives the gateway's Prometheus metrics:
	// calls by method, outcome and reason, latency by stage, the audit
	// log's queue and checkpoint, key freshness and the active policy. If
	// nil, none are kept.
	Metrics prometheus.Registerer
	// Tracer, if not nil, makes the gateway's spans: one per call, per
	// exchange and per stage. If nil, none are made.
	Tracer trace.TracerProvider
}

// A Server implements the Exchange, Audit, Policy, Cases and Notices
// services.
type Server struct {
	liaisonv1.UnimplementedExchangeServer
	liaisonv1.UnimplementedAuditServer
	liaisonv1.UnimplementedPolicyServer
	liaisonv1.UnimplementedCasesServer
	liaisonv1.UnimplementedNoticesServer
	liaisonv1.UnimplementedAftercareServer

	cfg      Config
	log      *slog.Logger
	policy   *policies.Active
	registry atomic.Pointer[Registry]
	// regSwap orders the registry's swaps (write) with the commits of
	// entries that deliver to an agency (read, recipientStanding): a
	// commit that checked the recipient in the registry in force ends
	// before another registry applies, so that nothing reaches an agency
	// once this gateway's registry offboards it.
	regSwap sync.RWMutex
	// localOnce is the Once of this process, for a Config without one:
	// a forwarded exchange is still accepted once (acceptForward).
	localOnce memoryOnce

	refusals  *refusalLimiter
	trust     *trustLoader
	tel       telemetry
	packCodes atomic.Pointer[packCodes] // the active engine's jurisdictions, for GetStatus
	deciders  *deepStacks               // the goroutines decisions run on (deepstack.go)
	// received are the senders the store said were released something
	// about a subject (onward.go).
	received receivedSet

	health     *health.Server
	healthMu   sync.Mutex // serialises checkHealth; guards healthDown
	healthDown string     // what failed at the last check; "" when serving
	// auditDown is set while the audit store did not answer the last
	// check, for the metrics (liaison_audit_store_up).
	auditDown atomic.Bool

	mu        sync.Mutex
	providers map[string]*grpc.ClientConn
	// retired are connections replaced after a registry change
	// (retireConns), closed after a grace or by Close.
	retired []*grpc.ClientConn
	// peerHandshakes holds, per peer connection (providers' key), the TLS
	// state of its last handshake (*tls.ConnectionState), to check its
	// certificate again before each call (peerConn).
	peerHandshakes sync.Map
	// closed is set by Close: no connection is dialled after it, since
	// none would be closed, and no Reload begins.
	closed bool
	// reloads counts the Reloads in progress (Add under mu, while not
	// closed), which Close ends and waits for: their activation outlives
	// their caller, but not the gateway, and their entry is written
	// before Close returns, while the log is still open.
	reloads sync.WaitGroup
	// life is cancelled by Close (endLife), to end the Reloads in progress.
	life    context.Context
	endLife context.CancelFunc
	// views remembers the checkpoint of each peer's log (peerview.go).
	views peerViews
	// fwdRetry paces the forwards of deferred acknowledgements
	// (forwardAcknowledgements, forwardNoticeAcks); awaitingPeer is what
	// their last passes left waiting, for the metrics.
	fwdRetry     retryBackoff
	awaitingPeer awaitingPeer

	// replica names this server in the timer lease.
	replica string
	// holderID names this process in the leases it takes; timerMu lets
	// one pass of the aftercare timers run at a time in it.
	holderID string
	timerMu  sync.Mutex
	// dueNext is the index from which the next pass of the timers reads
	// the releases that may be due (dueReleases), and duePage how many a
	// page holds (0: the constant duePage); both under timerMu.
	dueNext int64
	duePage int

	// reidMu serialises this server's re-identification approvals and
	// releases (reidentify.go).
	reidMu sync.Mutex
}

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Policies == nil:
		return nil, errors.New("gateway: Config.Policies is required")
	case cfg.Audit == nil:
		return nil, errors.New("gateway: Config.Audit is required")
	case cfg.Pseudonyms == nil:
		return nil, errors.New("gateway: Config.Pseudonyms is required")
	case cfg.Verifier == nil:
		return nil, errors.New("gateway: Config.Verifier is required")
	}
	if cfg.Registry == nil {
		cfg.Registry = &Registry{Agencies: map[string]*Agency{}, Cases: map[string]*Case{}}
	}
	if cfg.PolicySourceSpec.IsZero() {
		cfg.PolicySourceSpec = policies.EmbeddedSource()
	}
	if cfg.MaxRecvBytes == 0 {
		cfg.MaxRecvBytes = 1 << 20
	}
	if cfg.ProviderTimeout == 0 {
		cfg.ProviderTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefusalBudget == 0 {
		cfg.RefusalBudget = 20
	}
	if cfg.RefusalWindow == 0 {
		cfg.RefusalWindow = time.Minute
	}
	if cfg.ReleaseRetry == 0 {
		cfg.ReleaseRetry = 30 * time.Second
	}
	if cfg.HealthInterval == 0 {
		cfg.HealthInterval = 5 * time.Second
	}
	if cfg.TimerInterval == 0 {
		cfg.TimerInterval = 30 * time.Second
	}
	if cfg.AftercareInterval == 0 {
		cfg.AftercareInterval = time.Minute
	}
	if cfg.TimerLease == 0 {
		cfg.TimerLease = 2 * time.Minute
	}
	s := &Server{cfg: cfg, log: cfg.Logger, providers: map[string]*grpc.ClientConn{}, health: health.NewServer(), replica: newRequestID()}
	s.life, s.endLife = context.WithCancel(context.Background())
	s.holderID = "gateway-" + s.replica
	s.refusals = newRefusalLimiter(s, cfg.RefusalBudget, cfg.RefusalWindow)
	if s.log == nil {
		s.log = slog.Default()
	}
	s.policy = policies.NewActiveAt(cfg.Policies, s.now) // active since now, on the gateway's clock
	if err := s.SetRegistry(cfg.Registry); err != nil {
		return nil, err
	}
	tel, err := newTelemetry(s, cfg.Metrics, cfg.Tracer)
	if err != nil {
		return nil, err
	}
	s.tel = tel
	s.deciders = newDeepStacks(max(4, 2*runtime.GOMAXPROCS(0)))
	return s, nil
}

// SetRegistry replaces the agency registry atomically.
func (s *Server) SetRegistry(r *Registry) error {
	if err := s.checkRegistry(r); err != nil {
		return err
	}
	if err := s.cfg.Verifier.SetAgencies(r.authnAgencies()); err != nil {
		return err
	}
	s.storeRegistry(r)
	s.retireUnlisted(r)
	for id, a := range r.Agencies {
		if a.Kind == KindPeerGateway && a.Via == "" {
			s.tel.peerKnown(id) // its series at 0, for increase() to see the first
		}
	}
	return nil
}

// storeRegistry puts r in force once every commit that checked its
// recipient against the registry before it has ended (regSwap).
func (s *Server) storeRegistry(r *Registry) {
	s.regSwap.Lock()
	defer s.regSwap.Unlock()
	s.registry.Store(r)
}

// checkRegistry checks what the gateway needs of a registry beyond what
// authentication checks.
func (s *Server) checkRegistry(r *Registry) error {
	for _, a := range r.Agencies {
		if a.Provider != "" && s.cfg.ProviderTLS == nil {
			return errors.New("gateway: Config.ProviderTLS is required to dial record providers")
		}
	}
	return nil
}

// setTrust applies a registry with the CAs and revoked certificates that
// came with it, all or nothing: if any does not apply, the previous ones
// all stay in force. commit, if not nil, runs once all of them are
// checked, just before they apply (which then cannot fail); if it fails,
// nothing applies.
func (s *Server) setTrust(r *Registry, roots *x509.CertPool, revoked *authn.Revocation, commit func() error) error {
	if err := s.checkRegistry(r); err != nil {
		return err
	}
	if err := s.cfg.Verifier.SetAllAfter(roots, revoked, r.authnAgencies(), commit); err != nil {
		return err
	}
	s.storeRegistry(r)
	s.retireUnlisted(r)
	for id, a := range r.Agencies {
		if a.Kind == KindPeerGateway && a.Via == "" {
			s.tel.peerKnown(id) // its series at 0, for increase() to see the first
		}
	}
	return nil
}

// Policy returns the holder of the active policy.
func (s *Server) Policy() *policies.Active { return s.policy }

// GRPCServer returns a gRPC server with the gateway's services, health and
// reflection registered, requiring TLS 1.3 client certificates as tlsConfig
// says. tlsConfig must require and verify client certificates.
//
// Health (grpc.health.v1, open without credentials) reports NOT_SERVING
// while the gateway would fail closed: for the whole gateway ("") and
// liaison.v1.Exchange when the audit store does not answer, the pseudonym
// keys are past their staleness bound or no policy is active; for
// liaison.v1.Audit when the audit store does not answer; for
// liaison.v1.Policy when the store does not answer or no policy is active.
// It is checked once here and then every Config.HealthInterval by Run, and
// goes back to SERVING when the condition clears.
func (s *Server) GRPCServer(tlsConfig *tls.Config) *grpc.Server {
	gs := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(tlsConfig)),
		grpc.MaxRecvMsgSize(s.cfg.MaxRecvBytes),
		grpc.ChainUnaryInterceptor(s.observeUnary, s.recoverUnary, s.unaryAuth),
		grpc.ChainStreamInterceptor(s.observeStream, s.recoverStream, s.streamAuth),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		// Calls run on long-lived workers rather than a new goroutine each:
		// a decision's deep recursion grows a goroutine's stack to tens of
		// kilobytes, which a fresh goroutine pays again on every call (about
		// a fifth of a call's CPU). Past this many calls in flight, gRPC
		// starts goroutines as before.
		grpc.NumStreamWorkers(streamWorkers),
	)
	s.registerAudited(gs, &liaisonv1.Exchange_ServiceDesc, s) // undecodable.go
	liaisonv1.RegisterAuditServer(gs, s)
	liaisonv1.RegisterPolicyServer(gs, s)
	s.registerAudited(gs, &liaisonv1.Cases_ServiceDesc, s)
	liaisonv1.RegisterNoticesServer(gs, s)
	s.registerAudited(gs, &liaisonv1.Aftercare_ServiceDesc, s)
	s.checkHealth(context.Background())
	healthpb.RegisterHealthServer(gs, s.health)
	reflection.Register(gs)
	return gs
}

// streamWorkers is how many goroutines serve calls and keep the stacks
// they grew; each holds at most a few hundred kilobytes.
const streamWorkers = 256

// ServerTLS returns the gateway's server TLS configuration: TLS 1.3 only,
// with the client's certificate requested. The certificate is verified by
// the Verifier on every call, not only at the handshake, so that a missing
// or untrusted certificate gets a clear Unauthenticated status and an audit
// entry, and a revocation reaches open connections and resumed sessions.
func ServerTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
		NextProtos:   []string{"h2"},
	}
}

// Run does the gateway's background work until ctx is done: it writes the
// summaries of refused-authentication windows as they end, checks every
// Config.HealthInterval what the health service reports, makes the
// re-identification releases that a key outage postponed, runs the
// notice timers (RunTimers) while this replica holds their lease, and
// sends the expiry notices that are due (RunAftercare). When ctx is done
// it writes the summaries of the open windows and gives up the timers'
// leases (ReleaseTimers) before it returns: stop the audit log only after.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.RefusalWindow)
	defer t.Stop()
	h := time.NewTicker(s.cfg.HealthInterval)
	defer h.Stop()
	r := time.NewTicker(s.cfg.ReleaseRetry)
	defer r.Stop()
	n := time.NewTicker(s.cfg.TimerInterval)
	defer n.Stop()
	s.checkHealth(ctx)
	a := time.NewTicker(s.cfg.AftercareInterval)
	defer a.Stop()
	for {
		select {
		case <-ctx.Done():
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
			defer cancel()
			s.refusals.flush(stop, true)
			if err := s.ReleaseTimers(stop); err != nil {
				s.log.WarnContext(stop, "the timers' leases were not given up: another replica takes them when they lapse", "error", err)
			}
			return
		case <-t.C:
			s.refusals.flush(ctx, false)
		case <-h.C:
			s.checkHealth(ctx)
		case <-r.C:
			s.releasePending(ctx)
		case <-n.C:
			if _, err := s.RunTimers(ctx); err != nil {
				s.log.WarnContext(ctx, "notice timers: a step did not complete; it is tried again at the next pass", "error", err)
			}
		case <-a.C:
			if err := s.RunAftercare(ctx); err != nil {
				s.log.WarnContext(ctx, "aftercare timers: a step did not complete; it is tried again at the next pass", "error", err)
			}
		}
	}
}

// stopTimeout bounds what Run does when it stops.
const stopTimeout = 5 * time.Second

// ReleaseTimers gives up the timers' leases if this replica holds them,
// so that another replica, or this gateway started again, runs the timers
// at its next pass rather than when the leases lapse. Run calls it when
// it stops.
func (s *Server) ReleaseTimers(ctx context.Context) error {
	// Renewed until now, the notice timers' lease has lapsed for everyone
	// else; held by another replica, it is left alone.
	now := s.now()
	_, err := s.cfg.Audit.Lease(ctx, timerLease, s.replica, now, now)
	errs := []error{err}
	if st, err := s.aftercare(); err == nil {
		errs = append(errs, st.ReleaseLease(ctx, aftercareLease, s.holderID))
	}
	return errors.Join(errs...)
}

// healthTimeout bounds the audit store's answer to one health check.
const healthTimeout = 3 * time.Second

// checkHealth asks each condition under which the gateway fails closed and
// sets the health service's statuses (see GRPCServer). It logs when the
// gateway stops serving and when it recovers.
func (s *Server) checkHealth(ctx context.Context) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	_, auditErr := s.cfg.Audit.Size(cctx)
	if ctx.Err() != nil {
		return // shutting down: a failed answer would say nothing about the store
	}
	s.auditDown.Store(auditErr != nil)
	keysErr := s.cfg.Pseudonyms.Available()
	var policyErr error
	if s.policy.Current() == nil {
		policyErr = errors.New("no active policy")
	}
	status := func(errs ...error) healthpb.HealthCheckResponse_ServingStatus {
		if errors.Join(errs...) != nil {
			return healthpb.HealthCheckResponse_NOT_SERVING
		}
		return healthpb.HealthCheckResponse_SERVING
	}
	all := status(auditErr, keysErr, policyErr)
	s.health.SetServingStatus("", all)
	s.health.SetServingStatus(liaisonv1.Exchange_ServiceDesc.ServiceName, all)
	s.health.SetServingStatus(liaisonv1.Audit_ServiceDesc.ServiceName, status(auditErr))
	s.health.SetServingStatus(liaisonv1.Policy_ServiceDesc.ServiceName, status(auditErr, policyErr))

	var down []string
	for _, c := range []struct {
		name string
		err  error
	}{{"audit store", auditErr}, {"pseudonym keys", keysErr}, {"policy", policyErr}} {
		if c.err != nil {
			down = append(down, c.name)
		}
	}
	was := s.healthDown
	s.healthDown = strings.Join(down, ", ")
	switch {
	case s.healthDown == was:
	case s.healthDown == "":
		s.log.InfoContext(ctx, "health: serving again", "recovered", was)
	default:
		s.log.WarnContext(ctx, "health: not serving; the gateway fails closed", "failing", s.healthDown,
			"error", errors.Join(auditErr, keysErr, policyErr))
	}
}

// Close ends the policy Reloads in progress and waits for their entries,
// closes the connections to record providers and peer gateways and
// stops the goroutines that decisions run on. A call still running (or
// one of Run's passes) that needs a holder or a peer afterwards finds it
// unavailable rather than dialling a connection nobody would close.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if s.endLife != nil { // nil in a Server not made by New
		s.endLife()
	}
	s.reloads.Wait() // each has written its entry
	s.deciders.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for addr, c := range s.providers {
		errs = append(errs, c.Close())
		delete(s.providers, addr)
	}
	for _, c := range s.retired {
		c.Close() // may have been closed after its grace already
	}
	s.retired = nil
	return errors.Join(errs...)
}

// newRequestID returns a random identifier for one call, for logs and the
// audit entry.
func newRequestID() string { return rand.Text()[:16] }

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }
