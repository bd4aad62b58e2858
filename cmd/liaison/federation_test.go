package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	"github.com/liaison-gateway/liaison/policies"
	"github.com/liaison-gateway/liaison/policies/policytest"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// country is one side of a federation test: its PKI, gateway and keys.
type country struct {
	*sample.Country
	domain string
	vkey   string // its log's checkpoint verifier key
	opts   gatewayOptions
	gw     *runningGateway // in this process, or
	proc   *exec.Cmd       // `liaison serve` as a process of its own
	bin    string          // the binary proc runs
	// auditAs, if set, is the agency whose officer dpo.1 audits its
	// gateway (trackedNotices, audit, consoleNotices) instead of
	// auditorAgency's: one its registry has not offboarded.
	auditAs string
}

// fedConfig says how to start a federation: each country's policy (nil:
// embedded) and which country's gateway runs as a `liaison serve` process
// of its own (bin), so that a test can kill it.
type fedConfig struct {
	dkEngine, nlEngine *policies.Engine
	process            string // "DK", "NL" or ""
	bin                string
	now                func() time.Time // both gateways' clock, if set
	// hostile, if set, is the country ("DK" or "NL") whose gateway the
	// other reaches through a hostilePeer (federation.hostile).
	hostile string
	// revokedAt, if set, is the country ("DK" or "NL") whose deny list
	// names the other's gateway certificate from the start.
	revokedAt string
	// denyListAt, if set, is the country ("DK" or "NL") whose gateway
	// starts with an empty deny list (opts.DenyList) that a test may fill.
	denyListAt string
	// logs, if set, takes what each in-process gateway logs, by country
	// ("DK", "NL"); a country not named logs nothing.
	logs map[string]io.Writer
	// peerTimeout is how long each gateway's calls to the other may take
	// (-peer-timeout; 0: 10 s).
	peerTimeout time.Duration
}

// federation is the Danish and the Dutch gateway, peers of each other.
type federation struct {
	dk, nl *country
	// fetch, when set, is called by the Danish holder before it answers a
	// Fetch (so that a test can stop the Danish gateway mid-exchange).
	mu    sync.Mutex
	fetch func()
	// hostile stands in front of one gateway, if fedConfig.hostile says so.
	hostile *hostilePeer
}

// patchedEngine loads the embedded policies with one text replaced in one
// file (without the Rego tests, which the change may break): another
// country's reading of the law.
func patchedEngine(t *testing.T, file, old, new string) *policies.Engine {
	t.Helper()
	e, err := policies.Load(t.Context(), policytest.Patched(t, file, old, new))
	if err != nil {
		t.Fatalf("load patched policies: %v", err)
	}
	return e
}

// patchedPolicies writes the embedded policies, with one text replaced in
// one file and without the Rego tests, to a directory it returns.
func patchedPolicies(t *testing.T, file, old, new string) string {
	t.Helper()
	return policytest.Dir(t, policytest.Patched(t, file, old, new))
}

// startFederation starts the Danish and the Dutch gateway, each with its
// own CA, sample agencies, holder, audit log and policy (nil: embedded),
// on loopback TCP with TLS 1.3, peers of each other.
func startFederation(t *testing.T, dkEngine, nlEngine *policies.Engine) *federation {
	t.Helper()
	return startFederationWith(t, fedConfig{dkEngine: dkEngine, nlEngine: nlEngine})
}

// startFederationWith is startFederation as cfg says.
func startFederationWith(t *testing.T, cfg fedConfig) *federation {
	t.Helper()
	dkEngine, nlEngine := cfg.dkEngine, cfg.nlEngine
	dir := t.TempDir()
	f := &federation{}
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(code, jur, holder string, eng *policies.Engine) *country {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		domain := code + ".liaison.test"
		c, err := sample.WriteCountry(filepath.Join(dir, code), domain, jur, map[string]string{holder: lis.Addr().String()})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := fx.NewServer(holder, c.CA.GatewayIdentity())
		if err != nil {
			t.Fatal(err)
		}
		tc, err := mtlsServerConfig(c.Path("agencies", holder+".pem"), c.Path("agencies", holder+".key"), c.Path("ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		gs := srv.Register(credentials.NewTLS(tc), grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			f.mu.Lock()
			hook := f.fetch
			f.mu.Unlock()
			if hook != nil && strings.HasSuffix(info.FullMethod, "/Fetch") {
				hook()
			}
			return h(ctx, req)
		}))
		go gs.Serve(lis)
		t.Cleanup(gs.Stop)
		keyFile := filepath.Join(dir, code, "audit-signer.key")
		_, vkey, err := audit.LoadOrCreateSignerKey(keyFile, domain)
		if err != nil {
			t.Fatal(err)
		}
		if eng == nil {
			eng = embeddedEngine(t)
		}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		if w := cfg.logs[jur]; w != nil {
			logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		return &country{Country: c, domain: domain, vkey: vkey, opts: gatewayOptions{
			Listen: freePort(t), Registry: c.Registry, TLSCert: c.Path("gateway.pem"), TLSKey: c.Path("gateway.key"),
			AuditDB: filepath.Join(dir, code, "audit.db"), AuditKey: keyFile, AuditName: domain,
			Keys: filepath.Join(dir, code, "keys.json"), Audience: "liaison", Engine: eng,
			Logger:     logger,
			Federation: &federationOptions{Issuer: sample.AssertionIssuer(domain), Key: c.Path("issuers", "gateway.key"), Kid: "gateway-1", Timeout: cmp.Or(cfg.peerTimeout, 10*time.Second)},
			Now:        cfg.now,
			Admin:      &adminOptions{Listen: "127.0.0.1:0", explicit: true}, // its metrics (an in-process gateway's)
		}}
	}
	f.dk = mk("dk", "DK", "dk-prison-east", dkEngine)
	f.nl = mk("nl", "NL", "nl-probation", nlEngine)
	for _, p := range [][2]*country{{f.dk, f.nl}, {f.nl, f.dk}} {
		me, peer := p[0], p[1]
		addr := peer.opts.Listen
		if cfg.hostile == peer.Jurisdiction {
			f.hostile, addr = startHostilePeer(t, me, peer)
		}
		if err := me.AddPeer(strings.ToLower(peer.Jurisdiction)+"-gateway", peer.Country, addr, peer.vkey); err != nil {
			t.Fatal(err)
		}
		me.opts.ClientCAs = []string{me.Path("ca.pem"), peer.Path("ca.pem")}
		if cfg.revokedAt == me.Jurisdiction {
			me.opts.DenyList = denyList(t, me.Path("deny.txt"), peer.Path("gateway.pem"))
		}
		if cfg.denyListAt == me.Jurisdiction {
			me.opts.DenyList = me.Path("deny.txt")
			if err := os.WriteFile(me.opts.DenyList, []byte("# none yet\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []*country{f.dk, f.nl} {
		if c.Jurisdiction == cfg.process {
			c.bin = cfg.bin
			c.start(t)
			continue
		}
		gw, err := startGateway(t.Context(), c.opts)
		if err != nil {
			t.Fatalf("start the %s gateway: %v", c.Jurisdiction, err)
		}
		c.gw = gw
		t.Cleanup(func() {
			if c.gw != nil {
				c.gw.Stop()
			}
		})
	}
	return f
}

// start runs the country's gateway as `liaison serve`, with the flags
// that give it the options startGateway would get, and waits until it
// answers its health check over TLS.
func (c *country) start(t *testing.T) {
	t.Helper()
	o := c.opts
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(o.AuditDB), "serve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "-listen", o.Listen, "-registry", o.Registry, "-tls-cert", o.TLSCert, "-tls-key", o.TLSKey,
		"-audit-db", o.AuditDB, "-audit-key", o.AuditKey, "-audit-name", o.AuditName, "-keys", o.Keys, "-audience", o.Audience,
		"-peer-issuer", o.Federation.Issuer, "-peer-key", o.Federation.Key, "-peer-kid", o.Federation.Kid,
		"-peer-timeout", o.Federation.Timeout.String(), "-log-format", "text"}
	for _, ca := range o.ClientCAs {
		args = append(args, "-client-ca", ca)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.proc = cmd
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	cert, err := tls.LoadX509KeyPair(c.Path("gateway.pem"), c.Path("gateway.key"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(o.Listen, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: c.CA.Pool()})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) { // as startServe's
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("the %s gateway process is not ready: %v\n%s", c.Jurisdiction, err, b)
		}
	}
}

// kill kills the country's gateway process with SIGKILL.
func (c *country) kill(t *testing.T) {
	t.Helper()
	if err := c.proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.proc.Wait()
}

// awaitingPeer scrapes an in-process country's gateway's metrics and
// returns how many acknowledgements of a kind of notice wait for a peer
// gateway, and how long the oldest has.
func (c *country) awaitingPeer(t *testing.T, kind string) (n, oldest float64) {
	t.Helper()
	fams := scrape(t, c.gw.Telemetry.Addr)
	n, found := value(fams, "liaison_acknowledgements_awaiting_peer", map[string]string{"kind": kind})
	oldest, found2 := value(fams, "liaison_acknowledgements_awaiting_peer_oldest_seconds", map[string]string{"kind": kind})
	if !found || !found2 {
		t.Fatalf("the %s gateway exports no liaison_acknowledgements_awaiting_peer{kind=%q}", c.Jurisdiction, kind)
	}
	return n, oldest
}

// client dials a country's gateway as an officer of one of its agencies.
func (c *country) client(t *testing.T, agency, officer string) liaisonv1.ExchangeClient {
	t.Helper()
	return liaisonv1.NewExchangeClient(c.dial(t, agency, officer, "case_officer"))
}

// dial connects to a country's gateway as an officer of one of its
// agencies, with one role.
func (c *country) dial(t *testing.T, agency, officer, role string) *grpc.ClientConn {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(c.Path("agencies", agency+".pem"), c.Path("agencies", agency+".key"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Issuers[agency].Mint(devpki.TokenSpec{Officer: officer, Roles: []string{role}, Clearance: "restricted", Audience: "liaison"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(c.opts.Listen, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: c.CA.Pool()})), grpc.WithPerRPCCredentials(bearerToken(tok)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// entries returns a country's log entries of requests, by officer, but
// the pending entries a gateway logs before it forwards.
func (c *country) entries(t *testing.T, officer string) []*audit.Entry {
	t.Helper()
	var out []*audit.Entry
	for _, e := range c.all(t, "request", officer) {
		if e.Outcome != audit.OutcomePending {
			out = append(out, e)
		}
	}
	return out
}

// all returns a country's log entries of an action by officer, pending
// ones included, in log order.
func (c *country) all(t *testing.T, action, officer string) []*audit.Entry {
	t.Helper()
	var recs []audit.Record
	var err error
	if c.gw != nil {
		recs, err = c.gw.Audit.Query(t.Context(), audit.Filter{Officer: officer})
	} else { // a process of its own: its store, as an auditor opens it
		var st audit.Store
		if st, err = openStore(t.Context(), c.opts.AuditDB); err == nil {
			recs, err = st.Query(t.Context(), audit.Filter{Officer: officer})
			st.Close()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []*audit.Entry
	for _, r := range recs {
		if r.Entry.Action == action {
			out = append(out, r.Entry)
		}
	}
	return out
}

// outcomes lists entries' outcomes, for messages.
func outcomes(es []*audit.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Outcome)
	}
	return out
}

var riskAssessmentRequest = &liaisonv1.RequestRequest{
	Holder: "dk-prison-east", SubjectId: "SYN-DK-0001",
	RecordType:    liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT,
	Purpose:       liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
	Justification: "The person moved to Rotterdam after release; planning the first contact.",
}

// TestFederatedRequest: a Dutch officer asks the Dutch gateway for a
// Danish prison's risk assessment; the Danish gateway applies Danish law
// and releases it through both gateways, over TLS between two gateways.
// Both logs hold their entry; the Dutch one holds the Danish receipt,
// which verifies offline against the Danish checkpoint key alone, and
// names the Danish entry whose assertion digest matches the Dutch one's.
func TestFederatedRequest(t *testing.T) {
	f := startFederation(t, nil, nil)
	resp, err := f.nl.client(t, "nl-probation", "insp.de.vries").Request(t.Context(), riskAssessmentRequest)
	if err != nil {
		t.Fatalf("Request through both gateways: %v", err)
	}
	rel := resp.GetReleased()
	if o := rel.GetOutcome(); o == liaisonv1.Outcome_OUTCOME_DENY || o == liaisonv1.Outcome_OUTCOME_UNSPECIFIED || rel.GetRecord().GetRiskAssessment() == nil {
		t.Fatalf("released %v with record %v; want the risk assessment", rel.GetOutcome(), rel.GetRecord())
	}
	if resp.GetReceipt() != nil {
		t.Errorf("an agency caller got a peer receipt")
	}
	nl, dk := f.nl.entries(t, "insp.de.vries"), f.dk.entries(t, "insp.de.vries")
	if len(nl) != 1 || len(dk) != 1 {
		t.Fatalf("entries: %d Dutch, %d Danish; want one each", len(nl), len(dk))
	}
	if nl[0].Outcome != dk[0].Outcome || dk[0].Requester.Agency != "nl-probation" || dk[0].Requester.Jurisdiction != "NL" {
		t.Errorf("Dutch entry %s, Danish entry %s by %+v", nl[0].Outcome, dk[0].Outcome, dk[0].Requester)
	}
	if dk[0].Detail["via_peer"] != "nl-gateway" || dk[0].Detail["assertion_sha256"] == "" || dk[0].Detail["assertion_sha256"] != nl[0].Detail["assertion_sha256"] {
		t.Errorf("the Danish entry does not name the Dutch gateway's assertion: %v / %v", dk[0].Detail, nl[0].Detail)
	}
	// Offline: the receipt from the Dutch log, the Danish key, nothing else.
	var rc liaisonv1.PeerReceipt
	if err := protojson.Unmarshal([]byte(nl[0].Detail["peer_receipt"]), &rc); err != nil {
		t.Fatalf("the Dutch entry holds no receipt: %v", err)
	}
	key, _ := note.NewVerifier(f.dk.vkey)
	got, err := gateway.VerifyReceipt(&rc, key, "nl-probation", nil)
	if err != nil {
		t.Fatalf("VerifyReceipt(offline) = %v", err)
	}
	if got.Origin != "dk.liaison.test" || got.Entry.Outcome != dk[0].Outcome || got.Entry.RequestID != dk[0].RequestID {
		t.Errorf("the receipt names %+v, not the Danish entry", got)
	}
	// A receipt changed in transit does not verify.
	rc.Entry = strings.Replace(rc.Entry, "insp.de.vries", "insp.de.vriez", 1)
	if _, err := gateway.VerifyReceipt(&rc, key, "", nil); err == nil {
		t.Errorf("VerifyReceipt accepted a changed entry")
	}
	// The Dutch gateway logged the request before it forwarded it, and the
	// Danish entry holds the Dutch receipt of that pending entry.
	all := f.nl.all(t, "request", "insp.de.vries")
	if len(all) != 2 || all[0].Outcome != audit.OutcomePending || all[0].Detail["phase"] != "forwarded" {
		t.Fatalf("Dutch entries %v; want the pending entry, then the final one", outcomes(all))
	}
	pending := nl[0].Detail["pending_index"]
	if pending == "" || dk[0].Detail["peer_index"] != pending {
		t.Errorf("the Danish entry names Dutch entry %q, the Dutch pending entry is %q", dk[0].Detail["peer_index"], pending)
	}
	nlKey, _ := note.NewVerifier(f.nl.vkey)
	var prc liaisonv1.PeerReceipt
	if err := protojson.Unmarshal([]byte(dk[0].Detail["peer_receipt"]), &prc); err != nil {
		t.Fatalf("the Danish entry holds no Dutch receipt: %v", err)
	}
	if got, err := gateway.VerifyReceipt(&prc, nlKey, "nl-probation", nil); err != nil || got.Entry.Outcome != audit.OutcomePending ||
		strconv.FormatInt(got.Index, 10) != pending {
		t.Errorf("the Dutch receipt in the Danish log: %+v, %v; want the Dutch pending entry %s", got, err, pending)
	}
	rc2 := liaisonv1.PeerReceipt{}
	protojson.Unmarshal([]byte(nl[0].Detail["peer_receipt"]), &rc2)
	if _, err := gateway.VerifyReceipt(&rc2, nlKey, "", nil); err == nil {
		t.Errorf("VerifyReceipt accepted the Danish receipt under the Dutch key")
	}

	// Received here, the release is the Dutch gateway's own to its officer:
	// the provenance names the Dutch entry, which records the same digest,
	// and the Dutch gateway signs its receipt, again on request.
	prov := rel.GetProvenance()
	if prov.GetAuditIndex() != rel.GetAuditIndex() || prov.GetReleasedDigest() == "" || nl[0].Detail["released_digest"] != prov.GetReleasedDigest() {
		t.Errorf("provenance names entry %d with digest %q; want the Dutch entry %d, whose digest is %q",
			prov.GetAuditIndex(), prov.GetReleasedDigest(), rel.GetAuditIndex(), nl[0].Detail["released_digest"])
	}
	if _, err := note.Open([]byte(prov.GetReceipt()), note.VerifierList(nlKey)); err != nil {
		t.Errorf("the provenance's receipt does not verify with the Dutch key: %v", err)
	}
	again, err := liaisonv1.NewAftercareClient(f.nl.dial(t, "nl-probation", "insp.de.vries", "case_officer")).
		GetReceipt(t.Context(), &liaisonv1.GetReceiptRequest{AuditIndex: rel.GetAuditIndex()})
	if err != nil || again.GetProvenance().GetReleasedDigest() != prov.GetReleasedDigest() {
		t.Errorf("GetReceipt(the Dutch entry) = %v, %v; want the same release", again, err)
	}
}

// TestFederatedLaw: each side's law applies to a request.
//
//   - The Dutch rules refuse before forwarding: the Dutch gateway's policy
//     reads the Dutch probation service's receipt rule without risk
//     assessments, so the Dutch gateway denies without asking the Danish
//     gateway (one Dutch entry, none in Denmark).
//   - Danish law allows and the Dutch law refuses on receipt: the Dutch
//     gateway reads Danish law as covering only suspects, which it learns
//     the person is not from the Danish entry; the Danish gateway releases
//     and logs, the Dutch gateway logs a denial with the Danish receipt
//     beside it, and the officer gets nothing.
//   - Danish law refuses (the Danish gateway's policy has no basis for
//     risk assessments): the Danish gateway denies and logs, and the Dutch
//     gateway logs the denial naming the Danish entry.
func TestFederatedLaw(t *testing.T) {
	t.Run("DutchRulesRefuseBeforeForwarding", func(t *testing.T) {
		nlEng := patchedEngine(t, "nl/nl.rego",
			`"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],`,
			`"record_types": ["release_notice", "probation_measures", "exit_programme_status", "case_plan"],`)
		f := startFederation(t, nil, nlEng)
		_, err := f.nl.client(t, "nl-probation", "insp.bakker").Request(t.Context(), riskAssessmentRequest)
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("Request = %v, want PermissionDenied by the Dutch receipt rules", err)
		}
		nl, dk := f.nl.all(t, "request", "insp.bakker"), f.dk.all(t, "request", "insp.bakker")
		if len(nl) != 1 || len(dk) != 0 {
			t.Fatalf("entries: %d Dutch, %d Danish; want one Dutch and none in Denmark", len(nl), len(dk))
		}
		if nl[0].Outcome != audit.OutcomeDeny || nl[0].Detail["checked"] != "before_forwarding" || nl[0].Detail["peer"] != "" {
			t.Errorf("Dutch entry %s %v; want a denial before forwarding", nl[0].Outcome, nl[0].Detail)
		}
		if !strings.Contains(strings.Join(nl[0].Reasons, ","), "RECIPIENT_LAW") {
			t.Errorf("Dutch reasons %v, want the recipient's law", nl[0].Reasons)
		}
	})
	t.Run("DanishAllowsDutchRefusesOnReceipt", func(t *testing.T) {
		nlEng := patchedEngine(t, "dk/dk.rego", `"subject": {"categories": ["convicted"]},`, `"subject": {"categories": ["suspect"]},`)
		f := startFederation(t, nil, nlEng)
		_, err := f.nl.client(t, "nl-probation", "insp.visser").Request(t.Context(), riskAssessmentRequest)
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("Request = %v, want PermissionDenied by the Dutch law on receipt", err)
		}
		nl, dk := f.nl.entries(t, "insp.visser"), f.dk.entries(t, "insp.visser")
		if len(nl) != 1 || len(dk) != 1 {
			t.Fatalf("entries: %d Dutch, %d Danish; want one each", len(nl), len(dk))
		}
		if !audit.Released(dk[0].Outcome) || nl[0].Outcome != audit.OutcomeDeny || nl[0].Detail["peer_receipt"] == "" {
			t.Errorf("Danish %s, Dutch %s (receipt kept: %v); want a Danish release refused on Dutch receipt", dk[0].Outcome, nl[0].Outcome, nl[0].Detail["peer_receipt"] != "")
		}
		if nl[0].Subject == nil || nl[0].Subject.Category != "convicted" {
			t.Errorf("the Dutch entry does not hold the subject's attributes the Danish entry gave: %+v", nl[0].Subject)
		}
	})
	t.Run("DutchAllowsDanishRefuses", func(t *testing.T) {
		dkEng := patchedEngine(t, "dk/dk.rego", `"release_notice", "risk_assessment", `, `"release_notice", `)
		f := startFederation(t, dkEng, nil)
		_, err := f.nl.client(t, "nl-probation", "insp.smit").Request(t.Context(), riskAssessmentRequest)
		if status.Code(err) != codes.PermissionDenied && status.Code(err) != codes.NotFound {
			t.Fatalf("Request = %v, want the Danish refusal", err)
		}
		nl, dk := f.nl.entries(t, "insp.smit"), f.dk.entries(t, "insp.smit")
		if len(nl) != 1 || len(dk) != 1 {
			t.Fatalf("entries: %d Dutch, %d Danish; want one each", len(nl), len(dk))
		}
		if audit.Released(dk[0].Outcome) || audit.Released(nl[0].Outcome) || nl[0].Outcome != dk[0].Outcome {
			t.Errorf("Danish %s, Dutch %s; want the same refusal on both sides", dk[0].Outcome, nl[0].Outcome)
		}
		if nl[0].Detail["peer_index"] == "" {
			t.Errorf("the Dutch entry does not name the Danish entry: %v", nl[0].Detail)
		}
	})
}

// TestPeerGoneMidExchange stops the Danish gateway while it waits for its
// holder: the Dutch officer gets Unavailable, the Dutch log records the
// failure (PEER_UNAVAILABLE), the Danish log records no release, and
// nothing is delivered.
func TestPeerGoneMidExchange(t *testing.T) {
	f := startFederation(t, nil, nil)
	inFetch, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.mu.Lock()
	f.fetch = func() { once.Do(func() { close(inFetch) }); <-release }
	f.mu.Unlock()
	errc := make(chan error, 1)
	go func() {
		_, err := f.nl.client(t, "nl-probation", "insp.jansen").Request(t.Context(), riskAssessmentRequest)
		errc <- err
	}()
	select {
	case <-inFetch:
	case err := <-errc:
		t.Fatalf("Request ended before the Danish holder was asked: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the Danish holder was never asked")
	}
	f.dk.gw.grpc.Stop() // the Danish gateway goes away: connections cut
	err := <-errc
	close(release)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Request with the peer gone = %v, want Unavailable", err)
	}
	f.dk.gw.Stop()
	f.dk.gw = nil
	// The Danish log, reopened as an auditor would.
	st, err := openStore(t.Context(), f.dk.opts.AuditDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dkRecs, _ := st.Query(t.Context(), audit.Filter{Officer: "insp.jansen"})
	for _, r := range dkRecs {
		if audit.Released(r.Entry.Outcome) {
			t.Errorf("the Danish log records a release no one received: %s", r.Leaf)
		}
	}
	nl := f.nl.entries(t, "insp.jansen")
	if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !strings.Contains(strings.Join(nl[0].Reasons, ","), "PEER_UNAVAILABLE") {
		b, _ := json.Marshal(nl)
		t.Errorf("Dutch entries %s; want one failed with PEER_UNAVAILABLE", b)
	}
}
