package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/audit/vaultsign"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/witness"
	"github.com/liaison-gateway/liaison/policies"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// gatewayOptions are what `liaison serve` and the demo configure.
type gatewayOptions struct {
	Listen    string
	Registry  string // registry file (agencies, cases)
	TLSCert   string
	TLSKey    string
	ClientCAs []string
	CRLs      []string // certificate revocation lists, reloaded on change
	DenyList  string   // revoked certificates, reloaded on change
	AuditDB   string   // SQLite file or postgres:// URL
	AuditKey  string   // checkpoint signer key file (created if absent)
	AuditName string   // checkpoint key name and origin
	// AuditSigner is file (AuditKey, the default) or vault (an Ed25519
	// Transit key, AuditVaultKey, that never leaves Vault).
	AuditSigner   string
	AuditVaultKey string
	// AuditState is the file keeping the last checkpoint signed with the
	// file signer, outside the audit database; empty means AuditKey with
	// ".checkpoint" appended. AuditVaultState is the KV version 2 secret
	// (mount/path) keeping it with the vault signer.
	AuditState      string
	AuditVaultState string
	Keys            string // pseudonym key file (created if absent); used when KeyOptions is nil
	Policies        string // policy directory; empty means the embedded policies
	// Engine, if set, is the policy already loaded from the source (tests
	// share one: loading runs every Rego test of the tree).
	Engine *policies.Engine
	// PolicyBundle is a signed OPA bundle (.tar.gz) to load instead, with
	// the PEM public keys its signature must verify under.
	PolicyBundle     string
	PolicyBundleKeys []string
	Audience         string
	// AftercareInterval is how often the timers send expiry notices that
	// are due; zero means the gateway's default (a minute).
	AftercareInterval time.Duration
	Logger            *slog.Logger
	// KeyOptions selects the pseudonym key source (Vault or a local file)
	// as the `liaison serve` flags set it. If nil, the local file Keys.
	KeyOptions *keyOptions
	// HealthInterval is how often the health service is brought up to
	// date; if zero, the gateway's default.
	HealthInterval time.Duration
	// Witnesses cosign the log's checkpoints (-witness); nil for none.
	Witnesses *witnessOptions
	// Federation signs officer assertions for peer gateways; nil for none.
	Federation *federationOptions
	// Admin configures metrics, pprof and traces (admin.go). If nil, none.
	Admin *adminOptions
	// Now is the gateway's clock (the demo's runs ahead by days). If nil,
	// time.Now.
	Now func() time.Time
	// TimerInterval is how often the notice timers run (on the replica
	// holding their lease). If zero, the gateway's default (30s).
	TimerInterval time.Duration
}

// defaultAuditVaultState is the KV version 2 secret (mount/path) keeping
// the last checkpoint signed in Vault.
const defaultAuditVaultState = "secret/liaison-checkpoints"

// runningGateway is a started gateway and what it owns.
type runningGateway struct {
	Addr        string
	VerifierKey string // the audit checkpoint verifier key
	Server      *gateway.Server
	Audit       *audit.Log
	Cosigner    *witness.Cosigner // nil without witnesses
	Telemetry   *telemetrySetup   // nil without metrics and traces
	grpc        *grpc.Server
	store       audit.Store
	cancel      context.CancelFunc
	done        chan error
	ran         chan struct{} // closed when all the background work (Run, the watchers of trust files, policy and keys, the cosigner) has returned
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o gatewayOptions
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8443", "gRPC listen `address`")
	fs.StringVar(&o.Registry, "registry", "registry.yaml", "agency registry `file` (YAML; reloaded on change)")
	fs.StringVar(&o.TLSCert, "tls-cert", "gateway.pem", "gateway certificate `file` (PEM)")
	fs.StringVar(&o.TLSKey, "tls-key", "gateway.key", "gateway private key `file` (PEM)")
	fs.Var((*multiFlag)(&o.ClientCAs), "client-ca", "CA certificate `file` that agency certificates chain to (repeatable)")
	fs.Var((*multiFlag)(&o.CRLs), "crl", "certificate revocation list `file` of a client CA (repeatable; reloaded on change). It must be current: one past its nextUpdate does not load, and once the one in force is past it every client certificate is refused (CRL_STALE) until the CA's current CRL is installed. A reload refuses a CRL older (lower cRLNumber) than the one of its issuer in force before, or another with the same number, and so does a start: the newest of each issuer (a CA by its name and key: a re-keyed CA's CRLs are its own) is kept in the audit store. Nor is a CRL dropped: a reload or start whose -client-ca still holds a CA whose CRL was in force, with no -crl of it, is refused (remove the CA and its CRL together)")
	fs.StringVar(&o.DenyList, "deny-list", "", "`file` of revoked agency certificates, sha256:<hex> or serial:<hex> (any issuer's) a line (reloaded on change), numbered by a version:<decimal> line: once a numbered list is in force, a reload or a start refuses a lower version, the same version with other entries, or a list without a version; and, once a list with entries is in force, numbered or not, no -deny-list at all. To retire the list, put in force one with no entries (a numbered one: a higher version, version:<N+1> alone; one without a version: an empty file), then remove the flag")
	fs.StringVar(&o.AuditDB, "audit-db", "liaison-audit.db", "audit log: a SQLite `file`, or a postgres:// URL for several replicas")
	fs.StringVar(&o.AuditKey, "audit-key", "audit-signer.key", "checkpoint signing key `file` (created if absent, mode 0600; refused if group or others may read or write it)")
	fs.StringVar(&o.AuditName, "audit-name", "liaison.audit", "checkpoint key `name` and log origin (printable, no spaces or '+'); a gateway with peer gateways needs one no other gateway of the federation has (its domain, say): a peer's registry does not load two peer gateways' checkpoint keys of one name")
	fs.StringVar(&o.AuditSigner, "audit-signer", "file", "`signer` of checkpoints: file (the -audit-key file) or vault (a Transit key)")
	fs.StringVar(&o.AuditVaultKey, "audit-vault-key", "liaison-checkpoints", "the Ed25519 Transit `key` that signs checkpoints with -audit-signer vault")
	fs.StringVar(&o.AuditState, "audit-state", "", "`file` keeping the last checkpoint signed with -audit-signer file, outside the audit database: the gateway refuses to start on a store that does not extend it (default: the -audit-key file with .checkpoint appended)")
	fs.StringVar(&o.AuditVaultState, "audit-vault-state", defaultAuditVaultState, "KV version 2 `secret` (mount/path) keeping the last checkpoint signed with -audit-signer vault, shared by the replicas: the gateway refuses to start on a store that does not extend it")
	keys := &keyOptions{}
	keys.flags(fs)
	fs.DurationVar(&keys.Refresh, "key-refresh", time.Minute, "how often the pseudonym keys are reloaded from their source (shorter than -key-max-stale)")
	fs.DurationVar(&keys.MaxStale, "key-max-stale", 15*time.Minute, "how long cached pseudonym keys serve after their source stopped answering; then pseudonymising requests fail with Unavailable")
	fs.StringVar(&o.Policies, "policies", "", "policy `directory`, watched for changes; empty means the policies embedded in the binary")
	fs.StringVar(&o.PolicyBundle, "policy-bundle", "", "signed OPA policy bundle `file` (.tar.gz), watched for changes")
	fs.Var((*multiFlag)(&o.PolicyBundleKeys), "policy-bundle-key", "PEM public key `file` a bundle's signature must verify under (repeatable; the file name without .pem is the key id)")
	fs.StringVar(&o.Audience, "audience", "liaison", "the `aud` every officer token must name")
	o.Witnesses = &witnessOptions{}
	o.Witnesses.flags(fs)
	o.Federation = &federationOptions{}
	o.Federation.flags(fs)
	admin := &adminOptions{}
	admin.flags(fs)
	fs.DurationVar(&o.TimerInterval, "timer-interval", 30*time.Second, "how often the notice timers escalate required notices, record missed deadlines and forward acknowledgements a peer gateway did not take yet (one replica runs them, holding a lease in the audit store)")
	fs.DurationVar(&o.AftercareInterval, "aftercare-interval", time.Minute, "how often the replica holding the timers' lease sends the expiry notices that are due and forwards acknowledgements of obligation notices a peer gateway did not take yet")
	logFormat := fs.String("log-format", "json", "log `format`: json or text")
	logLevel := fs.String("log-level", "info", "log `level`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q: serve takes flags only", fs.Arg(0))
	}
	if err := admin.check(); err != nil {
		return err
	}
	if err := keys.checkDurations(true); err != nil {
		return err
	}
	// A ticker of zero or less panicked once the gateway served (the
	// timers, the expiry notices, the witnesses); a peer timeout of zero
	// or less failed every call to a peer.
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"-timer-interval", o.TimerInterval}, {"-aftercare-interval", o.AftercareInterval}, {"-witness-interval", o.Witnesses.Interval}, {"-peer-timeout", o.Federation.Timeout}} {
		if d.v <= 0 {
			return fmt.Errorf("serve: %s %v: must be positive", d.flag, d.v)
		}
	}
	if o.AuditSigner != "file" && o.AuditSigner != "vault" {
		return fmt.Errorf("serve: -audit-signer %q: want file or vault", o.AuditSigner)
	}
	if !validKeyName(o.AuditName) {
		// The log's origin, by which peers and witnesses know it (one
		// name a log): one with an invisible character looks like
		// another log's.
		return fmt.Errorf("serve: -audit-name %+q: want a key name of printable characters without spaces or '+', e.g. liaison.dk.example", o.AuditName)
	}
	tuneGC()
	logger, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return fmt.Errorf("serve: %v", err)
	}
	if len(o.ClientCAs) == 0 {
		return errors.New("serve: at least one -client-ca is required")
	}
	o.Logger = logger
	o.KeyOptions = keys
	o.Admin = admin
	g, err := startGateway(ctx, o)
	if err != nil {
		return err
	}
	logger.InfoContext(ctx, "gateway serving", "address", g.Addr, "audit_verifier_key", g.VerifierKey)
	select {
	case <-ctx.Done():
	case err := <-g.done:
		g.Stop()
		return err
	}
	logger.InfoContext(ctx, "shutting down")
	return g.Stop()
}

// startGateway opens the audit log, keys and policies, and serves.
func startGateway(ctx context.Context, o gatewayOptions) (_ *runningGateway, err error) {
	log := o.Logger
	cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("gateway certificate: %v", err)
	}
	warnSharedSecret(ctx, log, "-tls-key", o.TLSKey)
	if o.Federation != nil {
		warnSharedSecret(ctx, log, "-peer-key", o.Federation.Key)
	}
	if o.KeyOptions != nil && o.KeyOptions.VaultAuth == "approle" {
		warnSharedSecret(ctx, log, "-vault-secret-id-file", o.KeyOptions.SecretIDFile)
	}
	pool := x509.NewCertPool()
	for _, f := range o.ClientCAs {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("client CA: %v", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("client CA %s: no certificates", f)
		}
	}
	psrc, err := o.policySource()
	if err != nil {
		return nil, err
	}
	eng, loadStart := o.Engine, time.Now()
	if eng == nil {
		log.InfoContext(ctx, "loading policy: compiling it and, unless this binary's build tested the same tree, running its own Rego tests", "source", psrc.String())
		if eng, err = policies.LoadSource(ctx, psrc); err != nil {
			return nil, fmt.Errorf("policies: %v", err)
		}
	}
	testsRun := "load"
	if eng.TestedAtBuild() {
		testsRun = "build"
	}
	log.InfoContext(ctx, "policy ready", "policy_revision", eng.Revision(), "digest", eng.Digest(), "source", eng.Source(),
		"tests_run_at", testsRun, "load_seconds", time.Since(loadStart).Round(time.Millisecond).Seconds())

	keys := o.KeyOptions
	if keys == nil {
		keys = &keyOptions{File: cmp.Or(o.Keys, defaultKeyFile)} // never Vault by accident
	}
	keySource, keepLogin, err := keys.source(ctx, log)
	if err != nil {
		return nil, err
	}
	// Key rotations, retirements and restorations are audited; the server
	// that records them exists only later, so the hooks reach it through
	// this variable.
	var onRotate atomic.Pointer[gateway.Server]
	ps, err := pseudonym.New(ctx, pseudonym.Config{Source: keySource, Refresh: keys.Refresh, MaxStale: keys.MaxStale, Logger: log,
		OnRotate: func(ctx context.Context, old, cur int, ring []int) {
			if srv := onRotate.Load(); srv != nil {
				srv.AuditKeyRotation(ctx, old, cur, ring)
			}
		},
		OnRetire: func(ctx context.Context, retired []int, cur int, ring []int) {
			if srv := onRotate.Load(); srv != nil {
				srv.AuditKeyRetirement(ctx, retired, cur, ring)
			}
		},
		OnRestore: func(ctx context.Context, restored []int, cur int, ring []int) {
			if srv := onRotate.Load(); srv != nil {
				srv.AuditKeyRestoration(ctx, restored, cur, ring)
			}
		}})
	if err != nil {
		return nil, err
	}

	var signer note.Signer
	var vkey string
	var anchor audit.Anchor // the last signed checkpoint, kept with the key
	switch o.AuditSigner {
	case "", "file":
		if signer, vkey, err = audit.LoadOrCreateSignerKey(o.AuditKey, o.AuditName); err != nil {
			return nil, err
		}
		anchor = audit.NewFileAnchor(cmp.Or(o.AuditState, o.AuditKey+".checkpoint"))
	case "vault":
		if keys.client == nil {
			return nil, errors.New("serve: -audit-signer vault needs the Vault key flags (-vault-addr or VAULT_ADDR)")
		}
		if err := vaultsign.EnsureKey(ctx, keys.client, keys.VaultMount, o.AuditVaultKey); err != nil {
			return nil, err
		}
		vs, err := vaultsign.New(ctx, keys.client, keys.VaultMount, o.AuditVaultKey, o.AuditName)
		if err != nil {
			return nil, err
		}
		signer, vkey = vs, vs.VerifierKey()
		mount, path, ok := strings.Cut(cmp.Or(o.AuditVaultState, defaultAuditVaultState), "/")
		if !ok || mount == "" || path == "" {
			return nil, fmt.Errorf("serve: -audit-vault-state %q: want mount/path of a KV version 2 secret", o.AuditVaultState)
		}
		anchor = vaultsign.NewAnchor(keys.client, mount, path)
		log.InfoContext(ctx, "checkpoints are signed in Vault", "key", o.AuditVaultKey, "state", o.AuditVaultState)
	default:
		return nil, fmt.Errorf("serve: -audit-signer %q: want file or vault", o.AuditSigner)
	}
	store, err := openStore(ctx, o.AuditDB)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			store.Close()
		}
	}()
	if s, ok := store.(*sqlite.Store); ok {
		s.Logger = log // a failing WAL checkpoint
	}
	verifier, err := audit.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	// New checks the store against the anchor and refuses one that was
	// rolled back or rewritten.
	alog, err := audit.New(ctx, audit.Config{Store: store, Signer: signer, Verifier: verifier, Anchor: anchor, Logger: log})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			alog.Close(context.WithoutCancel(ctx))
		}
	}()

	cosigner, err := o.Witnesses.cosigner(alog, store, log)
	if err != nil {
		return nil, err
	}
	var checkpoints gateway.CheckpointSource
	if cosigner != nil {
		checkpoints = cosigner
	}

	fed, err := o.Federation.config(signer)
	if err != nil {
		return nil, err
	}

	// The replicas share through the store the jti set, the
	// first-writer-wins claims, the newest trust lists and the aftercare
	// state: never one process's memory (openStore's type says so).
	ver, err := authn.NewVerifier(authn.Config{Audience: o.Audience, Logger: log, Replay: store})
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(ctx, o.Admin, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			tel.close(context.WithoutCancel(ctx))
		}
	}()
	srv, err := gateway.New(gateway.Config{
		Policies: eng, Audit: alog, Pseudonyms: ps, Verifier: ver, Once: store, TrustMarks: store, Aftercare: store, AftercareInterval: o.AftercareInterval,
		ProviderTLS:      &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: pool},
		PolicySourceSpec: psrc,
		HealthInterval:   o.HealthInterval,
		Checkpoints:      checkpoints,
		Federation:       fed,
		Logger:           log,
		Metrics:          tel.metrics(), Tracer: tel.tracerProvider(),
		Now:           o.Now,
		TimerInterval: o.TimerInterval,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			srv.Close() // its decision workers, which would outlive a failed start
		}
	}()
	onRotate.Store(srv)
	if err := srv.LoadTrust(ctx, gateway.TrustFiles{
		Registry: o.Registry, ClientCAs: o.ClientCAs, CRLs: o.CRLs, DenyList: o.DenyList,
	}); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, err
	}
	// The admin listener binds before the background work starts and the
	// start is audited: a gateway that cannot start (an -admin-listen
	// address taken) leaves no policy activation in the log and runs no
	// timer.
	if err := tel.serve(ctx); err != nil {
		lis.Close()
		return nil, err
	}
	// The background work: every goroutine of it uses the log, the store
	// or the keys, so ran is closed only once all of it has returned.
	// What changed in the keys while this gateway (or every replica) was
	// down is recorded now, before the refresh runs: the log's key
	// history has no hole. A log that cannot be read then is said in the
	// gateway's log; the gateway serves all the same, as when an entry
	// cannot be appended.
	if err := srv.AuditKeysAtStart(ctx); err != nil {
		log.ErrorContext(ctx, "the key state at start could not be compared with the audit log's; nothing recorded", "error", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { ps.Run(rctx) })
	if keepLogin != nil {
		bg.Go(func() { keepLogin(rctx) }) // renews the Vault login
	}
	bg.Go(func() { srv.WatchTrust(rctx) })
	srv.AuditActivation(ctx, srv.Policy().Status().Active, "start")
	if o.Policies != "" || o.PolicyBundle != "" {
		bg.Go(func() { srv.WatchPolicy(rctx, psrc, 2*time.Second) })
	}
	bg.Go(func() { srv.Run(rctx) })
	if cosigner != nil {
		bg.Go(func() { cosigner.Run(rctx) })
		log.InfoContext(ctx, "checkpoints are taken to witnesses", "witnesses", len(o.Witnesses.Witnesses))
	}
	ran := make(chan struct{})
	go func() { bg.Wait(); close(ran) }()
	gs := srv.GRPCServer(gateway.ServerTLS(cert))
	g := &runningGateway{
		Addr: lis.Addr().String(), VerifierKey: vkey, Server: srv, Audit: alog, Cosigner: cosigner, Telemetry: tel,
		grpc: gs, store: store, cancel: cancel, done: make(chan error, 1), ran: ran,
	}
	go func() { g.done <- gs.Serve(lis) }()
	return g, nil
}

// Stop drains in-flight calls, stops the background work (which writes
// the open windows' refusal summaries and gives up the timers' leases),
// then closes the log and the store. A nil gateway (one that never
// started) stops at once.
func (g *runningGateway) Stop() error {
	if g == nil {
		return nil
	}
	stopped := make(chan struct{})
	go func() { g.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		g.grpc.Stop()
	}
	g.cancel()
	select {
	case <-g.ran:
	case <-time.After(10 * time.Second):
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(g.Server.Close(), g.Audit.Close(ctx), g.store.Close(), g.Telemetry.close(ctx))
}

// openStore opens the audit store a DSN names: a postgres:// or
// postgresql:// URL, else a SQLite file.
// openExistingStore opens the audit log a gateway keeps, for a command
// that reads or changes it beside the gateway (policy replay, the
// operator's case commands): a SQLite file that does not exist is
// refused, naming -audit-db. sqlite.Open would create an empty log there:
// a mistyped path (or the default, liaison-audit.db, in another folder)
// replayed nothing and said the candidate changes nothing, and an
// operator's close or import wrote its entry, and the imported cases, to
// a new log no gateway reads.
func openExistingStore(ctx context.Context, dsn string) (audit.Store, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		fi, err := os.Stat(dsn)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("-audit-db %s: no such file: name the gateway's audit database (its -audit-db)", dsn)
		case err != nil:
			return nil, fmt.Errorf("-audit-db %s: %v", dsn, err)
		case !fi.Mode().IsRegular():
			return nil, fmt.Errorf("-audit-db %s: not a file: name the gateway's audit database (its -audit-db)", dsn)
		}
	}
	return openStore(ctx, dsn)
}

// gatewayStore is what serve keeps in the audit store: the log, and the
// state the replicas share through it. Both stores are one; a store that
// lacked a part would not compile here, rather than have serve fall back
// to a process's memory (a replayed token taken on another replica, a
// trust list rolled back on restart).
type gatewayStore interface {
	audit.Store
	audit.AftercareStore
	authn.ReplayStore
	authn.MarkStore
	gateway.Once
}

func openStore(ctx context.Context, dsn string) (gatewayStore, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return postgres.Open(ctx, dsn)
	}
	return sqlite.Open(ctx, dsn)
}

// policySource is where the gateway's policy comes from.
func (o *gatewayOptions) policySource() (policies.Source, error) {
	switch {
	case o.Policies != "" && o.PolicyBundle != "":
		return policies.Source{}, errors.New("serve: give -policies or -policy-bundle, not both")
	case o.Policies != "":
		return policies.DirSource(o.Policies), nil
	case o.PolicyBundle != "":
		if len(o.PolicyBundleKeys) == 0 {
			return policies.Source{}, errors.New("serve: -policy-bundle needs -policy-bundle-key: unsigned bundles are refused")
		}
		var keys []policies.PublicKey
		for _, f := range o.PolicyBundleKeys {
			b, err := os.ReadFile(f)
			if err != nil {
				return policies.Source{}, err
			}
			k, err := policies.ParsePublicKey(strings.TrimSuffix(filepath.Base(f), ".pem"), b)
			if err != nil {
				return policies.Source{}, err
			}
			keys = append(keys, k)
		}
		return policies.BundleSource(o.PolicyBundle, keys...), nil
	}
	return policies.EmbeddedSource(), nil
}
