package gateway

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

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
	// Once is the replicas' shared first-writer-wins set, which makes a
	// re-identification release happen once. The audit stores implement
	// it. If nil, once per process.
	Once Once
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
	// TimerInterval is how often Run runs the notice timers (escalations
	// and deadlines of required notices), on the one replica holding the
	// timer lease. If zero, 30s.
	TimerInterval time.Duration
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
	// Logger receives operational logs. If nil, slog.Default().
	Logger *slog.Logger
}

// A Server implements the Exchange, Audit, Policy, Cases and Notices
// services.
type Server struct {
	liaisonv1.UnimplementedExchangeServer
	liaisonv1.UnimplementedAuditServer
	liaisonv1.UnimplementedPolicyServer
	liaisonv1.UnimplementedCasesServer
	liaisonv1.UnimplementedNoticesServer

	cfg      Config
	log      *slog.Logger
	policy   *policies.Active
	registry atomic.Pointer[Registry]

	refusals *refusalLimiter
	trust    *trustLoader

	mu        sync.Mutex
	providers map[string]*grpc.ClientConn

	// replica names this server in the timer lease.
	replica string
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
	if cfg.TimerInterval == 0 {
		cfg.TimerInterval = 30 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger, providers: map[string]*grpc.ClientConn{}, replica: newRequestID()}
	s.refusals = newRefusalLimiter(s, cfg.RefusalBudget, cfg.RefusalWindow)
	if s.log == nil {
		s.log = slog.Default()
	}
	s.policy = policies.NewActive(cfg.Policies)
	s.policy.Now = s.now
	if err := s.SetRegistry(cfg.Registry); err != nil {
		return nil, err
	}
	return s, nil
}

// SetRegistry replaces the agency registry atomically.
func (s *Server) SetRegistry(r *Registry) error {
	if err := s.cfg.Verifier.SetAgencies(r.authnAgencies()); err != nil {
		return err
	}
	for _, a := range r.Agencies {
		if a.Provider != "" && s.cfg.ProviderTLS == nil {
			return errors.New("gateway: Config.ProviderTLS is required to dial record providers")
		}
	}
	s.registry.Store(r)
	return nil
}

// Policy returns the holder of the active policy.
func (s *Server) Policy() *policies.Active { return s.policy }

// GRPCServer returns a gRPC server with the gateway's services, health and
// reflection registered, requiring TLS 1.3 client certificates as tlsConfig
// says. tlsConfig must require and verify client certificates.
func (s *Server) GRPCServer(tlsConfig *tls.Config) *grpc.Server {
	gs := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(tlsConfig)),
		grpc.MaxRecvMsgSize(s.cfg.MaxRecvBytes),
		grpc.ChainUnaryInterceptor(s.unaryAuth),
		grpc.ChainStreamInterceptor(s.streamAuth),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	liaisonv1.RegisterExchangeServer(gs, s)
	liaisonv1.RegisterAuditServer(gs, s)
	liaisonv1.RegisterPolicyServer(gs, s)
	liaisonv1.RegisterCasesServer(gs, s)
	liaisonv1.RegisterNoticesServer(gs, s)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for _, name := range []string{liaisonv1.Exchange_ServiceDesc.ServiceName, liaisonv1.Audit_ServiceDesc.ServiceName, liaisonv1.Policy_ServiceDesc.ServiceName,
		liaisonv1.Cases_ServiceDesc.ServiceName, liaisonv1.Notices_ServiceDesc.ServiceName} {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)
	return gs
}

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
// summaries of refused-authentication windows as they end, makes the
// re-identification releases that a key outage postponed, and runs the
// notice timers (RunTimers) while this replica holds their lease.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.RefusalWindow)
	defer t.Stop()
	r := time.NewTicker(s.cfg.ReleaseRetry)
	defer r.Stop()
	n := time.NewTicker(s.cfg.TimerInterval)
	defer n.Stop()
	for {
		select {
		case <-ctx.Done():
			s.refusals.flush(context.WithoutCancel(ctx), true)
			return
		case <-t.C:
			s.refusals.flush(ctx, false)
		case <-r.C:
			s.releasePending(ctx)
		case <-n.C:
			if _, err := s.RunTimers(ctx); err != nil {
				s.log.WarnContext(ctx, "notice timers did not run", "error", err)
			}
		}
	}
}

// Close closes the connections to record providers.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for addr, c := range s.providers {
		errs = append(errs, c.Close())
		delete(s.providers, addr)
	}
	return errors.Join(errs...)
}

// newRequestID returns a random identifier for one call, for logs and the
// audit entry.
func newRequestID() string { return rand.Text()[:16] }

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }
