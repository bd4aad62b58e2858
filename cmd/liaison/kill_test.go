package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/loopback"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// buildLiaison builds the binary once per test run.
func buildLiaison(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "liaison")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort is a loopback address for a gateway process (see package
// loopback for why not port 0).
func freePort(t *testing.T) string {
	t.Helper()
	a, err := loopback.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// serveProcess is `liaison serve` running as a process of its own.
type serveProcess struct {
	cmd  *exec.Cmd
	addr string
}

func startServe(t *testing.T, bin string, pki *sample.PKI, dir, auditDB string, extra ...string) *serveProcess {
	t.Helper()
	addr := freePort(t)
	logf, err := os.OpenFile(filepath.Join(dir, "serve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "-listen", addr, "-registry", pki.Registry,
		"-tls-cert", pki.Path("gateway.pem"), "-tls-key", pki.Path("gateway.key"), "-client-ca", pki.Path("ca.pem"),
		"-audit-db", auditDB, "-audit-key", filepath.Join(dir, "audit.key"), "-keys", filepath.Join(dir, "keys.json"))
	cmd.Args = append(cmd.Args, extra...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, addr: addr}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait(); logf.Close() })
	// Ready when the health check answers over TLS: after the policy has
	// compiled and passed its own tests, about 5 s on an idle machine of
	// two cores and 30 s on one busy with other work. The wait is no
	// measure of anything; it only must not end before the gateway starts.
	cert, _ := tls.LoadX509KeyPair(pki.Path("agencies", "dk-prison-east.pem"), pki.Path("agencies", "dk-prison-east.key"))
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: pki.CA.Pool()})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil {
			return p
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
			t.Fatalf("liaison serve not ready: %v\n%s", err, b)
		}
	}
}

// acked is a disclosure the gateway acknowledged.
type acked struct {
	index int64
	tag   string
}

// load discloses concurrently until stop is closed and returns what was
// acknowledged.
func load(t *testing.T, d *demo, addrs []string, round, workers int, stop <-chan struct{}, acks ...*atomic.Int64) []acked {
	fx, _ := sample.ParseFixtures(sample.SampleOn(time.Now()))
	rec, attrs, _ := fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	cert, _ := tls.LoadX509KeyPair(d.pki.Path("agencies", "dk-prison-east.pem"), d.pki.Path("agencies", "dk-prison-east.key"))
	var mu sync.Mutex
	var out []acked
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, _ := d.pki.Issuers["dk-prison-east"].Mint(devpki.TokenSpec{Officer: fmt.Sprintf("w%d", w), Roles: []string{"case_officer"}, Audience: "liaison"})
			conn, err := grpc.NewClient(addrs[w%len(addrs)], grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
				MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: d.pki.CA.Pool()})),
				grpc.WithPerRPCCredentials(bearerToken(tok)))
			if err != nil {
				return
			}
			defer conn.Close()
			ex := liaisonv1.NewExchangeClient(conn)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				tag := fmt.Sprintf("kill-test r%d w%d n%d", round, w, n)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				resp, err := ex.Disclose(ctx, &liaisonv1.DiscloseRequest{Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
					Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: tag})
				cancel()
				if err != nil {
					continue // in flight at the kill, or refused while down: not acknowledged
				}
				mu.Lock()
				out = append(out, acked{resp.GetResults()[0].GetAuditIndex(), tag})
				mu.Unlock()
				for _, a := range acks {
					a.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

func TestKill9LosesNoAcknowledgedDisclosure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills gateway processes; run without -short")
	}
	bin := buildLiaison(t)
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			dir := t.TempDir()
			d := &demo{out: io.Discard}
			_, stop, err := d.startHolders(filepath.Join(dir, "pki"))
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			auditDB := kind.newDB(t)
			if auditDB == "" {
				auditDB = filepath.Join(dir, "audit.db")
			}
			var all []acked
			for round := range 3 {
				p := startServe(t, bin, d.pki, dir, auditDB)
				done := make(chan struct{})
				var got []acked
				var wg sync.WaitGroup
				var acks atomic.Int64
				wg.Add(1)
				go func() { defer wg.Done(); got = load(t, d, []string{p.addr}, round, 12, done, &acks) }()
				// Disclosures in full flight: the first ones acknowledged (a
				// loaded machine may take seconds), then a little more.
				for deadline := time.Now().Add(30 * time.Second); acks.Load() == 0 && time.Now().Before(deadline); {
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(500 * time.Millisecond)
				if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				p.cmd.Wait()
				close(done)
				wg.Wait()
				if len(got) == 0 {
					t.Fatalf("round %d: nothing was acknowledged before the kill", round)
				}
				t.Logf("round %d: %d disclosures acknowledged before kill -9", round, len(got))
				all = append(all, got...)
			}
			// A last start after the final kill: the gateway must open the log.
			p := startServe(t, bin, d.pki, dir, auditDB)
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
			n := checkLog(t, auditDB, all, "")
			t.Logf("%d acknowledged disclosures over 3 kill -9 rounds, all in a log of %d entries that verifies", len(all), n)
		})
	}
}

// checkLog opens the log and checks that every acknowledged disclosure is
// at its index, that none is recorded twice, that the stored tree is the
// tree of the leaves, and (with a verifier key) that every checkpoint any
// process signed is a checkpoint of this one tree.
func checkLog(t *testing.T, dsn string, all []acked, vkey string) int64 {
	t.Helper()
	ctx := t.Context()
	st, err := openStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := st.ReadLeaves(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int64{}
	for i, l := range leaves {
		e, err := audit.Unmarshal(l)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if strings.HasPrefix(e.Justification, "kill-test") {
			if prev, dup := seen[e.Justification]; dup {
				t.Errorf("disclosure %q recorded twice, at %d and %d", e.Justification, prev, i)
			}
			seen[e.Justification] = int64(i)
		}
	}
	for _, a := range all {
		if idx, ok := seen[a.tag]; !ok || idx != a.index {
			t.Errorf("acknowledged disclosure %q (index %d) is at %d in the log (present: %v)", a.tag, a.index, idx, ok)
		}
	}
	root, err := audit.RootHash(leaves)
	if err != nil {
		t.Fatal(err)
	}
	hr := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) { return st.ReadHashes(ctx, ix) })
	stored, err := tlog.TreeHash(n, hr)
	if err != nil || stored != root {
		t.Fatalf("tree of %d entries: stored root %v, recomputed %v (%v)", n, stored, root, err)
	}
	if vkey != "" {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatal(err)
		}
		_, latest, err := st.LatestCheckpoint(ctx)
		if err != nil || latest == nil {
			t.Fatalf("no checkpoint: %v", err)
		}
		cp, err := audit.OpenCheckpoint(latest, v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := audit.RootHash(leaves[:cp.Size])
		if err != nil || want != cp.Hash {
			t.Errorf("the latest checkpoint (size %d) is not of this tree", cp.Size)
		}
	}
	return n
}

func TestThreeGatewaysOnePostgresBuildOneTree(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three gateway processes; run without -short")
	}
	dsn := pgtest.NewDatabase(t)
	bin := buildLiaison(t)
	dir := t.TempDir()
	d := &demo{out: io.Discard}
	_, stop, err := d.startHolders(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var addrs []string
	var procs []*serveProcess
	for range 3 {
		p := startServe(t, bin, d.pki, dir, dsn)
		procs = append(procs, p)
		addrs = append(addrs, p.addr)
	}
	done := make(chan struct{})
	var got []acked
	var wg sync.WaitGroup
	var acks atomic.Int64
	wg.Add(1)
	go func() { defer wg.Done(); got = load(t, d, addrs, 0, 12, done, &acks) }()
	// Two seconds of load, and at least the 30 disclosures checked below
	// (a loaded machine may need longer for them).
	time.Sleep(2 * time.Second)
	for deadline := time.Now().Add(time.Minute); acks.Load() < 30 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	close(done)
	wg.Wait()
	for _, p := range procs {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}
	if len(got) < 30 {
		t.Fatalf("only %d disclosures acknowledged across three gateways", len(got))
	}
	skey, err := os.ReadFile(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := audit.VerifierKey(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	n := checkLog(t, dsn, got, vkey)
	t.Logf("3 gateway processes, %d acknowledged disclosures, one tree of %d entries", len(got), n)
}
