package exercise

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/policies"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// clock is the exercise gateway's simulated clock: it stands still until
// the exercise sets it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// seedKeys is a pseudonym key source derived from a seed: the same seed
// gives the same keys, so that an exercise is the same every run.
type seedKeys struct{ ring *pseudonym.KeyRing }

func newSeedKeys(seed string) seedKeys {
	k := func(label string) []byte {
		h := sha256.Sum256([]byte("liaison exercise " + label + " key\x00" + seed))
		return h[:]
	}
	return seedKeys{&pseudonym.KeyRing{Current: 1, Versions: map[int][]byte{1: k("pseudonym")}, Audit: k("audit")}}
}

func (s seedKeys) Keys(context.Context) (*pseudonym.KeyRing, error) { return s.ring, nil }

// seedReader is a deterministic stream of bytes from a seed.
func seedReader(seed, label string) io.Reader {
	h := sha256.Sum256([]byte("liaison exercise " + label + "\x00" + seed))
	return chachaReader{rand.NewChaCha8(h)}
}

type chachaReader struct{ c *rand.ChaCha8 }

func (r chachaReader) Read(p []byte) (int, error) { return r.c.Read(p) }

// stage is the exercise's gateway: a real gateway.Server serving gRPC
// over TLS 1.3 with client certificates on loopback, with its own SQLite
// store, keys, registry and the holders' RecordProviders.
type stage struct {
	dir   string
	clock *clock
	ca    *devpki.Authority
	iss   map[string]*devpki.Issuer
	srv   *gateway.Server
	alog  *audit.Log
	store audit.AftercareStore
	addr  string
	stops []func()
	conns map[string]*grpc.ClientConn // by agency and role
}

// officerName is the officer of an agency who acts in the exercise.
func officerName(agency string) string { return "exercise.officer." + agency }

// startStage starts the gateway for the scenario on eng. holds are the
// record types each holder holds; subject is the person as the holders
// know them on the simulated day.
func startStage(ctx context.Context, eng *policies.Engine, s *Scenario, holds map[string][]string, subject *liveSubject, clk *clock) (_ *stage, err error) {
	dir, err := os.MkdirTemp("", "liaison-exercise-")
	if err != nil {
		return nil, err
	}
	st := &stage{dir: dir, clock: clk, iss: map[string]*devpki.Issuer{}, conns: map[string]*grpc.ClientConn{}}
	st.stops = append(st.stops, func() { os.RemoveAll(dir) })
	defer func() {
		if err != nil {
			st.stop()
		}
	}()
	seed := s.Name
	logger := slog.New(slog.DiscardHandler)

	// PKI: a development CA, the gateway's and every agency's certificate
	// and token issuer. These keys never reach the report.
	if st.ca, err = devpki.NewAuthority("exercise.liaison.test"); err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, st.ca.CertPEM, 0o644); err != nil {
		return nil, err
	}
	gwLeaf, err := st.ca.Issue(st.ca.GatewayIdentity(), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	gwCert, err := tls.X509KeyPair(gwLeaf.CertPEM, gwLeaf.KeyPEM)
	if err != nil {
		return nil, err
	}

	// The holders' RecordProviders, on loopback with mTLS.
	providers := map[string]string{}
	for _, a := range s.Agencies {
		types := holds[a.ID]
		if len(types) == 0 {
			continue
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		leaf, err := st.ca.Issue(st.ca.AgencyIdentity(a.ID), 24*time.Hour)
		if err != nil {
			lis.Close()
			return nil, err
		}
		cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
		if err != nil {
			lis.Close()
			return nil, err
		}
		ps := &provider{sc: s, holder: a.ID, types: types, subject: subject, gateway: st.ca.GatewayIdentity()}
		gs := ps.register(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
			ClientCAs: st.ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert}))
		go gs.Serve(lis)
		st.stops = append(st.stops, gs.Stop)
		providers[a.ID] = lis.Addr().String()
	}

	// The registry.
	var reg gateway.RegistryFile
	for _, a := range s.Agencies {
		iss, err := devpki.NewIssuer("https://idp.exercise.invalid/"+a.ID, a.ID+"-1")
		if err != nil {
			return nil, err
		}
		st.iss[a.ID] = iss
		jwks, err := authn.MarshalJWKS(iss.PublicKeys())
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, a.ID+".jwks.json"), jwks, 0o644); err != nil {
			return nil, err
		}
		reg.Agencies = append(reg.Agencies, gateway.AgencyFile{
			ID: a.ID, Name: cmp.Or(a.Name, a.ID), Kind: a.Kind, Jurisdiction: a.Jurisdiction,
			CertificateIdentity: st.ca.AgencyIdentity(a.ID), Issuer: iss.Name, JWKSFile: a.ID + ".jwks.json",
			Algorithms: []string{"EdDSA"}, MaxTokenLifetime: "1h", Provider: providers[a.ID], Areas: a.Areas, DutyRole: a.DutyRole,
		})
	}
	rb, err := yaml.Marshal(reg)
	if err != nil {
		return nil, err
	}
	regFile := filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(regFile, rb, 0o644); err != nil {
		return nil, err
	}

	// Keys from the seed, the store, the log and the gateway on the
	// simulated clock.
	keys, err := pseudonym.New(ctx, pseudonym.Config{Source: newSeedKeys(seed), Logger: logger})
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, "audit.db"))
	if err != nil {
		return nil, err
	}
	st.stops = append(st.stops, func() { store.Close() })
	st.store = store
	skey, _, err := note.GenerateKey(seedReader(seed, "audit signer"), "exercise.liaison.test")
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	if st.alog, err = audit.New(ctx, audit.Config{Store: store, Signer: signer, Logger: logger, Now: clk.Now}); err != nil {
		return nil, err
	}
	st.stops = append(st.stops, func() { st.alog.Close(context.Background()) })
	ver, err := authn.NewVerifier(authn.Config{Audience: "liaison", Logger: logger, Replay: store})
	if err != nil {
		return nil, err
	}
	st.srv, err = gateway.New(gateway.Config{
		Policies: eng, Audit: st.alog, Pseudonyms: keys, Verifier: ver, Once: store, Aftercare: store, Now: clk.Now, Logger: logger,
		ProviderTLS: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{gwCert}, RootCAs: st.ca.Pool()},
	})
	if err != nil {
		return nil, err
	}
	st.stops = append(st.stops, func() { st.srv.Close() })
	if err := st.srv.LoadTrust(ctx, gateway.TrustFiles{Registry: regFile, ClientCAs: []string{caFile}}); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gs := st.srv.GRPCServer(gateway.ServerTLS(gwCert))
	go gs.Serve(lis)
	st.stops = append(st.stops, gs.Stop)
	st.addr = lis.Addr().String()
	return st, nil
}

// stop stops everything in the reverse order of starting.
func (st *stage) stop() {
	for _, c := range st.conns {
		c.Close()
	}
	for _, f := range slices.Backward(st.stops) {
		f()
	}
}

// conn is a connection as an officer of an agency with roles.
func (st *stage) conn(agency string, clearance string, roles ...string) (*grpc.ClientConn, error) {
	key := agency + "/" + fmt.Sprint(roles)
	if c, ok := st.conns[key]; ok {
		return c, nil
	}
	leaf, err := st.ca.Issue(st.ca.AgencyIdentity(agency), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		return nil, err
	}
	iss, ok := st.iss[agency]
	if !ok {
		return nil, fmt.Errorf("exercise: unknown agency %q", agency)
	}
	tok, err := iss.Mint(devpki.TokenSpec{Officer: officerName(agency), Roles: roles, Clearance: cmp.Or(clearance, "confidential"), Audience: "liaison", TTL: time.Hour})
	if err != nil {
		return nil, err
	}
	c, err := grpc.NewClient(st.addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: st.ca.Pool()})),
		grpc.WithPerRPCCredentials(bearer(tok)))
	if err != nil {
		return nil, err
	}
	st.conns[key] = c
	return c, nil
}

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return true }
