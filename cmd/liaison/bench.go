package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/liaison-gateway/liaison/gateway/loopback"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// tesseraVersion is the Tessera release whose POSIX conformance log
// `liaison bench -peers` measures. It is installed into the cache folder,
// never into go.mod.
const tesseraVersion = "v1.0.4"

const benchUsage = `Usage: liaison bench [flags]

Measures, in one run on this machine, what a call costs the gateway: a bare
mTLS echo (grpc.health.v1.Health/Check over the same TLS connection and
client certificate) and the full pipeline (Disclose, and a pseudonymised
Request, each decided, transformed and durably audited), on SQLite and, with
-postgres, on PostgreSQL. Every phase uses the same client: -concurrency
calls in flight over one mTLS connection to a gateway that runs as a child
process (liaison serve), whose CPU time per call is read from /proc. Phases
are interleaved over -rounds rounds so that a busy machine weighs on all of
them alike. Everything listens on loopback; each phase stops after
-duration (split over the rounds) or -max-requests, whichever comes first.

With -peers it also runs, on the same machine and disk:
  - OPA's own server (go tool opa run --server, decision logs on the
    console) deciding the Disclose phase's policy input over REST, with the
    same concurrency;
  - the audit log's durable group commit (SQLite, in this process) and
    Tessera's POSIX log (its cmd/conformance/posix at ` + tesseraVersion + `,
    installed with go install into $LIAISON_CACHE or ~/.cache/liaison),
    each with -append-concurrency appends in flight.
-peers needs the Go toolchain and this repository's checkout (go tool opa).

It prints requests/s, p50 and p99 latency and CPU per request, and the
ratios to the echo, to OPA and to Tessera; and, for the audited phases,
where a call's time went, from the gateway's own stage metrics (scraped
from its admin listener around each measured round): the mean time a call
spent in each stage (authenticate, validate, describe, decide, fetch,
transform, audit_wait) and the audit log's commits a second and entries a
commit.

The gateway runs its garbage collector at GOGC=400 unless GOGC is set (as
liaison serve does), and so does this load tool, which shares the cores
with it: its client, the sample holders and the append phase's log. OPA's
server and Tessera run at Go's default unless GOGC is set. The last line
gives the targets in force, the gateway's as its metrics report it.

Flags:
`

// benchOptions are `liaison bench`'s flags.
type benchOptions struct {
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	concurrency int
	maxRequests int
	appendConc  int
	postgres    string
	peers       bool
	phases      string
	dir         string
	cpuprofile  string
	gatewayBin  string
	opaBin      string
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("liaison bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
	}
	var o benchOptions
	fs.DurationVar(&o.duration, "duration", 9*time.Second, "measured `time` per phase, split over the rounds")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured `time` each phase runs first")
	fs.IntVar(&o.rounds, "rounds", 3, "interleaved `rounds`: each phase runs -duration/rounds in turn, rounds times")
	fs.IntVar(&o.concurrency, "concurrency", 32, "calls in `flight` per phase, over one connection")
	fs.IntVar(&o.maxRequests, "max-requests", 1_000_000, "at most this many `calls` per phase and round")
	fs.IntVar(&o.appendConc, "append-concurrency", 256, "appends in `flight` for the log comparison (-peers)")
	fs.StringVar(&o.postgres, "postgres", "", "PostgreSQL server `URL` on loopback on which to create (and drop afterwards) a scratch database, to run the pipeline on PostgreSQL too")
	fs.BoolVar(&o.peers, "peers", false, "also run the peers: OPA's server over REST, and Tessera's POSIX log against the audit log's group commit")
	fs.StringVar(&o.phases, "phases", "", "comma-separated `names` of the phases to run (echo, disclose, request, disclose-pg, request-pg, opa, append, tessera); empty means all that the other flags enable")
	fs.StringVar(&o.dir, "dir", "", "working `directory` (kept afterwards: databases, logs, keys); empty means a temporary one, removed at the end")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write the gateway's CPU profile (pprof, from its admin listener) during each pipeline phase's first round, and this process's during the append phase's, to `prefix`-<phase>.pprof")
	fs.StringVar(&o.gatewayBin, "gateway", "", "the liaison `binary` to run as the gateway; empty means this one")
	fs.StringVar(&o.opaBin, "opa", "", "the OPA `binary` for -peers; empty means the one `go tool opa` runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	if err := o.check(); err != nil {
		return err
	}
	// The load tool shares the machine's cores with the gateway: its
	// collector runs as seldom as the gateway's (GOGC=400 unless GOGC is
	// set), and the append phase's log runs as in the gateway.
	tuneGC()
	b := &bench{o: o, out: stdout, log: stderr}
	defer b.close()
	if err := b.setup(ctx); err != nil {
		return err
	}
	if err := b.run(ctx); err != nil {
		return err
	}
	b.report()
	return nil
}

// benchPhases are the phases -phases names, and what each needs besides.
var benchPhases = []struct{ name, needs string }{
	{"echo", ""}, {"disclose", ""}, {"request", ""}, {"disclose-pg", "-postgres"}, {"request-pg", "-postgres"},
	{"opa", "-peers"}, {"append", "-peers"}, {"tessera", "-peers"},
}

// check refuses, before anything starts and naming the flag, a bound that
// is not positive and a phase -phases names that does not exist or that
// the other flags do not enable (it ran nothing of it, or nothing at all:
// "no phase selected" once the holders had started).
func (o *benchOptions) check() error {
	for _, f := range []struct {
		name string
		bad  bool
		v    any
	}{
		{"-duration", o.duration <= 0, o.duration}, {"-rounds", o.rounds < 1, o.rounds}, {"-concurrency", o.concurrency < 1, o.concurrency},
		{"-max-requests", o.maxRequests < 1, o.maxRequests}, {"-append-concurrency", o.appendConc < 1, o.appendConc},
	} {
		if f.bad {
			return fmt.Errorf("bench: %s %v: must be positive", f.name, f.v)
		}
	}
	if o.warmup < 0 {
		return fmt.Errorf("bench: -warmup %v: must not be negative", o.warmup)
	}
	if o.duration > time.Hour {
		return fmt.Errorf("bench: -duration %v: at most an hour", o.duration)
	}
	if o.phases == "" {
		return nil
	}
	var names []string
	for _, p := range benchPhases {
		names = append(names, p.name)
	}
	for _, name := range strings.Split(o.phases, ",") {
		i := slices.IndexFunc(benchPhases, func(p struct{ name, needs string }) bool { return p.name == name })
		switch {
		case i < 0:
			return fmt.Errorf("bench: -phases: unknown phase %q: accepted values are %s", name, strings.Join(names, ", "))
		case benchPhases[i].needs == "-postgres" && o.postgres == "":
			return fmt.Errorf("bench: -phases: %s runs only with -postgres URL", name)
		case benchPhases[i].needs == "-peers" && !o.peers:
			return fmt.Errorf("bench: -phases: %s runs only with -peers", name)
		}
	}
	return nil
}

// bench is one run of `liaison bench`.
type bench struct {
	o        benchOptions
	out, log io.Writer
	dir      string
	pki      *sample.PKI
	fx       *sample.Fixtures
	phases   []*phase
	cleanups []func()
}

// A phase is one kind of call measured against one server.
type phase struct {
	name, label string
	kind        string // "pipeline", "peer" or "log"
	conc        int
	call        func(ctx context.Context, n int64) error
	cpu         func() (time.Duration, error) // CPU time used so far by the process that serves the calls
	cpuOf       string                        // whose CPU that is
	admin       string                        // the serving gateway's admin listener, for -cpuprofile and the stages
	res         result
	stages      stageTimes // what the measured rounds added to the gateway's stage metrics
}

// stageTimes are the gateway's stage metrics (liaison_stage_duration_seconds)
// and the audit log's commits (liaison_audit_batches_total and
// liaison_audit_entries_total), or what a measured round added to them.
type stageTimes struct {
	sum, count       map[string]float64 // seconds and observations, by stage
	batches, entries float64
	gogc             float64 // the gateway's garbage collector target (go_gc_gogc_percent), as last scraped; 0 if unknown
	err              error   // the first scrape that failed
}

// stageOrder is the order in which a call passes the stages.
var stageOrder = []string{"authenticate", "validate", "describe", "decide", "fetch", "transform", "audit_wait"}

// scrapeStages reads the stage metrics from a gateway's admin listener.
func scrapeStages(ctx context.Context, admin string) (stageTimes, error) {
	st := stageTimes{sum: map[string]float64{}, count: map[string]float64{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/metrics", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return st, fmt.Errorf("GET /metrics: %v", err)
	}
	if f := fams["liaison_stage_duration_seconds"]; f != nil {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" {
					st.sum[l.GetValue()] += m.GetHistogram().GetSampleSum()
					st.count[l.GetValue()] += float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	if f := fams["go_gc_gogc_percent"]; f != nil && len(f.GetMetric()) == 1 {
		st.gogc = f.GetMetric()[0].GetGauge().GetValue()
	}
	for name, v := range map[string]*float64{"liaison_audit_batches_total": &st.batches, "liaison_audit_entries_total": &st.entries} {
		if f := fams[name]; f != nil {
			for _, m := range f.GetMetric() {
				*v += m.GetCounter().GetValue()
			}
		}
	}
	return st, nil
}

// add adds what the metrics grew by from before to after.
func (st *stageTimes) add(before, after stageTimes, err error) {
	if err != nil {
		st.err = cmpErr(st.err, err)
		return
	}
	if st.sum == nil {
		st.sum, st.count = map[string]float64{}, map[string]float64{}
	}
	for k := range after.sum {
		st.sum[k] += after.sum[k] - before.sum[k]
		st.count[k] += after.count[k] - before.count[k]
	}
	st.batches += after.batches - before.batches
	st.entries += after.entries - before.entries
	st.gogc = after.gogc
}

// describe says where a phase's calls spent their time, in one line.
func (st *stageTimes) describe(wall time.Duration) string {
	if st.err != nil {
		return "unknown: " + st.err.Error()
	}
	var parts []string
	for _, k := range stageOrder {
		if n := st.count[k]; n > 0 {
			parts = append(parts, k+" "+human(st.sum[k]/n))
		}
	}
	if st.batches > 0 && wall > 0 {
		parts = append(parts, fmt.Sprintf("log %s commits/s of %.1f entries", thousands(int64(st.batches/wall.Seconds()+0.5)), st.entries/st.batches))
	}
	if len(parts) == 0 {
		return "no stage observed"
	}
	return strings.Join(parts, ", ")
}

// result accumulates a phase's rounds.
type result struct {
	n, errs  int64
	firstErr error
	lat      []time.Duration
	wall     time.Duration
	cpu      time.Duration
	cpuErr   error
}

func (b *bench) close() {
	for _, f := range slices.Backward(b.cleanups) {
		f()
	}
}

func (b *bench) cleanup(f func()) { b.cleanups = append(b.cleanups, f) }

// want reports whether a phase is selected by -phases.
func (b *bench) want(name string) bool {
	if b.o.phases == "" {
		return true
	}
	return slices.Contains(strings.Split(b.o.phases, ","), name)
}

func (b *bench) setup(ctx context.Context) error {
	b.dir = b.o.dir
	if b.dir == "" {
		tmp, err := os.MkdirTemp("", "liaison-bench-")
		if err != nil {
			return err
		}
		b.cleanup(func() { os.RemoveAll(tmp) })
		b.dir = tmp
	} else if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return err
	}
	d := &demo{out: io.Discard}
	fx, stop, err := d.startHolders(filepath.Join(b.dir, "pki"))
	if err != nil {
		return err
	}
	b.cleanup(stop)
	b.pki, b.fx = d.pki, fx
	fmt.Fprintf(b.out, "liaison bench: %d in flight over one mTLS connection; %d rounds of %s per phase (after %s of warm-up); files in %s\n",
		b.o.concurrency, b.o.rounds, b.o.duration/time.Duration(b.o.rounds), b.o.warmup, b.dir)

	pipeline := b.want("echo") || b.want("disclose") || b.want("request")
	if pipeline {
		gw, err := b.startGateway(ctx, "sqlite", filepath.Join(b.dir, "audit.db"))
		if err != nil {
			return err
		}
		if err := b.pipelinePhases(ctx, gw, "", "SQLite"); err != nil {
			return err
		}
	}
	if b.o.postgres != "" && (b.want("disclose-pg") || b.want("request-pg")) {
		dbURL, err := b.scratchDatabase(ctx, b.o.postgres)
		if err != nil {
			return err
		}
		gw, err := b.startGateway(ctx, "postgres", dbURL)
		if err != nil {
			return err
		}
		if err := b.pipelinePhases(ctx, gw, "-pg", "PostgreSQL"); err != nil {
			return err
		}
	}
	if b.o.peers {
		if b.want("opa") {
			if err := b.opaPhase(ctx); err != nil {
				return err
			}
		}
		if b.want("append") {
			if err := b.appendPhase(ctx); err != nil {
				return err
			}
		}
		if b.want("tessera") {
			if err := b.tesseraPhase(ctx); err != nil {
				return err
			}
		}
	}
	if len(b.phases) == 0 {
		return errors.New("bench: no phase selected")
	}
	return nil
}

// childGateway is `liaison serve` running as a process of its own.
type childGateway struct {
	pid         int
	addr, admin string
}

// startGateway starts `liaison serve` on loopback with the sample PKI and
// the given audit database, and waits until it serves.
func (b *bench) startGateway(ctx context.Context, name, auditDB string) (*childGateway, error) {
	bin := b.o.gatewayBin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		bin = exe
	}
	logPath := filepath.Join(b.dir, "gateway-"+name+".log")
	args := []string{"serve", "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0",
		"-registry", b.pki.Registry, "-tls-cert", b.pki.Path("gateway.pem"), "-tls-key", b.pki.Path("gateway.key"),
		"-client-ca", b.pki.Path("ca.pem"), "-audit-db", auditDB,
		// One signing key (and so one record of the last signed
		// checkpoint) per store: each store is a log of its own, and the
		// gateway refuses a store that does not extend what its key signed.
		"-audit-key", filepath.Join(b.dir, "audit-signer-"+name+".key"), "-keys", filepath.Join(b.dir, "pseudonym-keys.json"),
		"-log-format", "json"}
	pid, err := b.startChild(ctx, bin, args, logPath, nil)
	if err != nil {
		return nil, err
	}
	gw := &childGateway{pid: pid}
	// The gateway logs its addresses once it serves.
	for deadline := time.Now().Add(2 * time.Minute); gw.addr == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bench: gateway (%s) did not start; see %s", name, logPath)
		}
		if err := childAlive(pid); err != nil {
			return nil, fmt.Errorf("bench: gateway (%s) exited; see %s", name, logPath)
		}
		gw.addr, gw.admin = logAddresses(logPath)
	}
	return gw, nil
}

// logAddresses reads the API and admin addresses from a gateway's JSON log.
func logAddresses(path string) (addr, admin string) {
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Msg     string `json:"msg"`
			Address string `json:"address"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch line.Msg {
		case "gateway serving":
			addr = line.Address
		case "admin listening":
			admin = line.Address
		}
	}
	return addr, admin
}

// startChild starts a process whose output goes to logPath, and stops it
// (SIGTERM, then SIGKILL) when the bench ends.
func (b *bench) startChild(ctx context.Context, bin string, args []string, logPath string, env []string) (int, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return 0, fmt.Errorf("bench: start %s: %v", filepath.Base(bin), err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	b.cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	return cmd.Process.Pid, nil
}

func childAlive(pid int) error {
	_, err := procCPU(pid)
	return err
}

// procCPU returns the user and system CPU time a process has used, from
// /proc/<pid>/stat (in clock ticks of 10 ms, USER_HZ on Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("bench: CPU of process %d: %v", pid, err)
	}
	// The command name, in parentheses, may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 || fields[0] == "Z" {
		return 0, fmt.Errorf("bench: process %d is gone", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: CPU of process %d: malformed stat", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// selfCPU returns the CPU time this process has used.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// dial opens one mTLS connection to a gateway as an officer of agency.
func (b *bench) dial(addr, agency, officer string, roles []string, clearance string) (*grpc.ClientConn, error) {
	cert, err := tls.LoadX509KeyPair(b.pki.Path("agencies", agency+".pem"), b.pki.Path("agencies", agency+".key"))
	if err != nil {
		return nil, err
	}
	tok, err := b.pki.Issuers[agency].Mint(devpki.TokenSpec{Officer: officer, Roles: roles, Clearance: clearance, Audience: "liaison", TTL: 55 * time.Minute})
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: b.pki.CA.Pool()}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)), grpc.WithPerRPCCredentials(bearerToken(tok)))
	if err != nil {
		return nil, err
	}
	b.cleanup(func() { conn.Close() })
	return conn, nil
}

// discloseRequest is the Disclose the pipeline phases make: a release
// notice from the Danish prison service to Aarhus police (disclosed).
func (b *bench) discloseRequest() (*liaisonv1.DiscloseRequest, error) {
	rec, attrs, ok := b.fx.Record("dk-prison-east", "SYN-DK-0001", liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE)
	if !ok {
		return nil, errors.New("bench: sample release notice missing")
	}
	return &liaisonv1.DiscloseRequest{
		Record: rec, Subject: attrs, Recipients: []string{"dk-police-aarhus"},
		Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT, Justification: "Load test of the gateway.",
	}, nil
}

// pipelinePhases adds the echo (SQLite only), Disclose and Request phases
// against one gateway, after checking that each call gets the outcome the
// measurement assumes.
func (b *bench) pipelinePhases(ctx context.Context, gw *childGateway, suffix, store string) error {
	prison, err := b.dial(gw.addr, "dk-prison-east", "kf.release.coordinator", []string{"case_officer"}, "confidential")
	if err != nil {
		return err
	}
	police, err := b.dial(gw.addr, "nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "restricted")
	if err != nil {
		return err
	}
	cpu := func() (time.Duration, error) { return procCPU(gw.pid) }
	cpuOf := fmt.Sprintf("gateway (pid %d)", gw.pid)
	if suffix == "" && b.want("echo") {
		hc := healthpb.NewHealthClient(prison)
		b.phases = append(b.phases, &phase{name: "echo", label: "echo: health Check, same mTLS", kind: "pipeline",
			conc: b.o.concurrency, cpu: cpu, cpuOf: cpuOf, admin: gw.admin,
			call: func(ctx context.Context, _ int64) error {
				_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
				return err
			}})
	}
	if b.want("disclose" + suffix) {
		req, err := b.discloseRequest()
		if err != nil {
			return err
		}
		ex := liaisonv1.NewExchangeClient(prison)
		resp, err := ex.Disclose(ctx, req)
		if err != nil {
			return fmt.Errorf("bench: first Disclose (%s): %v", store, err)
		}
		if got := resp.GetResults()[0].GetOutcome(); got != liaisonv1.Outcome_OUTCOME_DISCLOSE {
			return fmt.Errorf("bench: Disclose (%s) outcome %v, want DISCLOSE", store, got)
		}
		b.phases = append(b.phases, &phase{name: "disclose" + suffix, label: "Disclose, audited (" + store + ")", kind: "pipeline",
			conc: b.o.concurrency, cpu: cpu, cpuOf: cpuOf, admin: gw.admin,
			call: func(ctx context.Context, _ int64) error {
				_, err := ex.Disclose(ctx, req)
				return err
			}})
	}
	if b.want("request" + suffix) {
		req := &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: "SYN-NL-0001",
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Load test of the gateway.",
		}
		ex := liaisonv1.NewExchangeClient(police)
		resp, err := ex.Request(ctx, req)
		if err != nil {
			return fmt.Errorf("bench: first Request (%s): %v", store, err)
		}
		if got := resp.GetReleased().GetOutcome(); got != liaisonv1.Outcome_OUTCOME_PSEUDONYMISE {
			return fmt.Errorf("bench: Request (%s) outcome %v, want PSEUDONYMISE", store, got)
		}
		b.phases = append(b.phases, &phase{name: "request" + suffix, label: "Request, pseudonymised, audited (" + store + ")", kind: "pipeline",
			conc: b.o.concurrency, cpu: cpu, cpuOf: cpuOf, admin: gw.admin,
			call: func(ctx context.Context, _ int64) error {
				_, err := ex.Request(ctx, req)
				return err
			}})
	}
	return nil
}

// scratchDatabase creates an empty database on the server at serverURL and
// drops it when the bench ends.
func (b *bench) scratchDatabase(ctx context.Context, serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("bench: -postgres must be a postgres:// URL")
	}
	// The load stays on this machine.
	if h := u.Hostname(); h != "" && !loopbackHost(h) && !strings.HasPrefix(h, "/") {
		return "", fmt.Errorf("bench: -postgres must name a server on this machine (loopback or a socket), not %q", h)
	}
	name := strings.ToLower("liaison_bench_" + rand.Text()[:12])
	admin := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("bench: -postgres: create a scratch database: %v", err)
	}
	b.cleanup(func() {
		if err := admin(context.WithoutCancel(ctx), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(b.log, "bench: drop database %s: %v\n", name, err)
		}
	})
	u.Path = "/" + name
	return u.String(), nil
}

// h2cClient is an HTTP client that speaks HTTP/2 without TLS, so that all
// of a phase's calls share one connection, as the gRPC phases do.
func h2cClient() *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols), MaxIdleConnsPerHost: 1024}
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// opaPhase starts OPA's server on the embedded policies, with decision
// logs on the console, and decides the Disclose phase's input over REST.
func (b *bench) opaPhase(ctx context.Context) error {
	bin := b.o.opaBin
	if bin == "" {
		out, err := exec.CommandContext(ctx, "go", "tool", "-n", "opa").Output()
		if err != nil {
			return fmt.Errorf("bench: -peers: find OPA with `go tool -n opa` (run from the repository's checkout, or give -opa): %v", err)
		}
		bin = strings.TrimSpace(string(out))
	}
	pdir := filepath.Join(b.dir, "opa-policies")
	if err := writePolicies(pdir); err != nil {
		return err
	}
	addr, err := loopback.Addr()
	if err != nil {
		return err
	}
	pid, err := b.startChild(ctx, bin, []string{"run", "--server", "--addr", addr, "--h2c",
		"--set", "decision_logs.console=true", pdir}, filepath.Join(b.dir, "opa.log"), nil)
	if err != nil {
		return err
	}
	in, err := b.disclosePolicyInput()
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"input": in})
	if err != nil {
		return err
	}
	client := h2cClient()
	target := "http://" + addr + "/v1/data/liaison/decision"
	decide := func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var out struct {
			Result struct {
				Outcome string `json:"outcome"`
			} `json:"result"`
		}
		if resp.StatusCode != http.StatusOK {
			io.Copy(io.Discard, resp.Body)
			return "", fmt.Errorf("OPA: %s", resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return "", err
		}
		return out.Result.Outcome, nil
	}
	var outcome string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if outcome, err = decide(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) || childAlive(pid) != nil {
			return fmt.Errorf("bench: OPA server did not answer (see %s): %v", filepath.Join(b.dir, "opa.log"), err)
		}
	}
	if outcome != policies.OutcomeDisclose {
		return fmt.Errorf("bench: OPA decided %q on the Disclose input, want disclose", outcome)
	}
	b.phases = append(b.phases, &phase{name: "opa", label: "OPA server: REST decision, decision logs", kind: "peer",
		conc: b.o.concurrency, cpu: func() (time.Duration, error) { return procCPU(pid) }, cpuOf: fmt.Sprintf("opa (pid %d)", pid),
		call: func(ctx context.Context, _ int64) error {
			o, err := decide(ctx)
			if err == nil && o != policies.OutcomeDisclose {
				err = fmt.Errorf("OPA decided %q", o)
			}
			return err
		}})
	return nil
}

// writePolicies writes the embedded policy tree, without its tests, for
// OPA's server.
func writePolicies(dir string) error {
	src := policies.Embedded()
	return fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
}

// disclosePolicyInput is the policy input the gateway builds for the
// Disclose phase's call.
func (b *bench) disclosePolicyInput() (policies.Input, error) {
	req, err := b.discloseRequest()
	if err != nil {
		return policies.Input{}, err
	}
	party := func(id string) policies.Party {
		for _, a := range sample.SampleAgencies {
			if a.ID == id {
				return policies.Party{Agency: a.ID, Kind: a.Kind, Jurisdiction: a.Jurisdiction}
			}
		}
		return policies.Party{Agency: id}
	}
	holder, rcpt := party("dk-prison-east"), party("dk-police-aarhus")
	s := req.GetSubject()
	return policies.Input{
		Action: "disclose",
		Time:   time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z07:00"),
		Requester: policies.Requester{Agency: holder.Agency, Kind: holder.Kind, Jurisdiction: holder.Jurisdiction,
			Officer: policies.Officer{ID: "kf.release.coordinator", Roles: []string{"case_officer"}, Clearance: "confidential"}},
		Holder: holder, Recipient: rcpt,
		Subject: policies.Subject{Category: enumLower(s.GetCategory().String(), "SUBJECT_CATEGORY_"), InCustody: s.GetInCustody(),
			ReleaseDate: s.GetReleaseDate(), ProbationUntil: s.GetProbationUntil(), Municipality: s.GetMunicipality()},
		RecordType:    "release_notice",
		Purpose:       "risk_management",
		Justification: req.GetJustification(),
	}, nil
}

func enumLower(name, prefix string) string { return strings.ToLower(strings.TrimPrefix(name, prefix)) }

// benchEntry is the entry the log phases append: the size and shape of a
// Disclose's, told apart by n.
func benchEntry(n int64) *audit.Entry {
	return &audit.Entry{
		Time:              time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
		Action:            "disclose",
		RequestID:         fmt.Sprintf("bench-%012d", n),
		Requester:         &audit.Requester{Agency: "dk-prison-east", Kind: "prison", Jurisdiction: "DK", Officer: "kf.release.coordinator", Roles: []string{"case_officer"}, Clearance: "confidential"},
		Holder:            &audit.Party{Agency: "dk-prison-east", Kind: "prison", Jurisdiction: "DK"},
		Recipients:        []audit.Party{{Agency: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK"}},
		Subject:           &audit.Subject{Pseudonym: "apsn:abcdefghijklmnopqrstuvwxyz", Category: "convicted", InCustody: true, ReleaseDate: "2026-12-15"},
		RecordType:        "release_notice",
		Purpose:           "risk_management",
		ClaimedLegalBasis: "",
		Justification:     "Load test of the audit log.",
		Outcome:           "disclose",
		LegalBasis:        &audit.LegalBasis{ID: "dk.rpl.115.stk1.nr3", Citation: "Retsplejeloven § 115, stk. 1, nr. 3"},
		Conditions:        []string{"NOT_FOR_CRIMINAL_INVESTIGATION"},
		FieldsDisclosed:   []string{"ReleaseNotice.subject", "ReleaseNotice.release_date", "ReleaseNotice.facility"},
		PolicyRevision:    "sha256:0123456789abcdef0123456789abcdef",
	}
}

// appendPhase appends to the audit log (SQLite, group commit, fsync per
// batch) in this process, with -append-concurrency appends in flight.
func (b *bench) appendPhase(ctx context.Context) error {
	store, err := sqlite.Open(ctx, filepath.Join(b.dir, "append.db"))
	if err != nil {
		return err
	}
	skey, _, err := audit.GenerateSignerKey("bench.liaison")
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	l, err := audit.New(ctx, audit.Config{Store: store, Signer: signer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		store.Close()
		return err
	}
	b.cleanup(func() {
		l.Close(context.WithoutCancel(ctx))
		store.Close()
	})
	b.phases = append(b.phases, &phase{name: "append", label: "audit log: durable append, group commit (SQLite)", kind: "log",
		conc: b.o.appendConc, cpu: selfCPU, cpuOf: "this process",
		call: func(ctx context.Context, n int64) error {
			_, err := l.Append(ctx, benchEntry(n))
			return err
		}})
	return nil
}

// cacheDir is where tools that are not Go modules of the project are kept.
func cacheDir() (string, error) {
	if d := os.Getenv("LIAISON_CACHE"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "liaison"), nil
}

// tesseraPhase installs Tessera's POSIX conformance log into the cache
// folder if needed, runs it on this bench's disk and appends to it over
// HTTP with -append-concurrency appends in flight.
func (b *bench) tesseraPhase(ctx context.Context) error {
	cache, err := cacheDir()
	if err != nil {
		return err
	}
	gobin := filepath.Join(cache, "tessera-"+tesseraVersion)
	bin := filepath.Join(gobin, "posix")
	if _, err := os.Stat(bin); err != nil {
		fmt.Fprintf(b.log, "bench: installing Tessera's POSIX log %s into %s\n", tesseraVersion, gobin)
		cmd := exec.CommandContext(ctx, "go", "install", "github.com/transparency-dev/tessera/cmd/conformance/posix@"+tesseraVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod")
		cmd.Dir = os.TempDir() // outside any module: never this one's go.mod
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("bench: go install Tessera %s: %v\n%s", tesseraVersion, err, out)
		}
	}
	skey, _, err := note.GenerateKey(rand.Reader, "bench.tessera")
	if err != nil {
		return err
	}
	keyFile := filepath.Join(b.dir, "tessera.key")
	if err := os.WriteFile(keyFile, []byte(skey), 0o600); err != nil {
		return err
	}
	addr, err := loopback.Addr()
	if err != nil {
		return err
	}
	storage := filepath.Join(b.dir, "tessera")
	pid, err := b.startChild(ctx, bin, []string{"--storage_dir=" + storage, "--listen=" + addr, "--private_key=" + keyFile},
		filepath.Join(b.dir, "tessera.log"), nil)
	if err != nil {
		return err
	}
	client := h2cClient()
	add := func(ctx context.Context, n int64) error {
		leaf, err := benchEntry(n).Marshal()
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/add", bytes.NewReader(leaf))
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("tessera: %s", resp.Status)
		}
		return nil
	}
	var seq atomic.Int64
	seq.Store(1 << 40) // apart from the measured entries
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if err = add(ctx, seq.Add(1)); err == nil {
			break
		}
		if time.Now().After(deadline) || childAlive(pid) != nil {
			return fmt.Errorf("bench: Tessera did not answer (see %s): %v", filepath.Join(b.dir, "tessera.log"), err)
		}
	}
	b.phases = append(b.phases, &phase{name: "tessera", label: "Tessera " + tesseraVersion + " POSIX log: POST /add", kind: "log",
		conc: b.o.appendConc, cpu: func() (time.Duration, error) { return procCPU(pid) }, cpuOf: fmt.Sprintf("tessera (pid %d)", pid),
		call: add})
	return nil
}

// run drives the phases: a warm-up each, then the rounds, interleaved.
func (b *bench) run(ctx context.Context) (err error) {
	var seq atomic.Int64 // tells appended entries apart across phases and rounds
	for _, p := range b.phases {
		if b.o.warmup > 0 {
			var scratch result
			drive(ctx, p, b.o.warmup, b.o.maxRequests, &seq, &scratch)
		}
	}
	per := b.o.duration / time.Duration(b.o.rounds)
	for r := range b.o.rounds {
		for _, p := range b.phases {
			if err := ctx.Err(); err != nil {
				return err
			}
			var prof chan error
			if r == 0 && b.o.cpuprofile != "" && p.admin != "" && p.kind == "pipeline" {
				prof = make(chan error, 1)
				go func() {
					prof <- fetchProfile(ctx, p.admin, max(int(per/time.Second), 1), b.o.cpuprofile+"-"+p.name+".pprof")
				}()
				time.Sleep(100 * time.Millisecond) // let the profile start
			}
			var self *os.File
			if r == 0 && b.o.cpuprofile != "" && p.name == "append" { // the log runs in this process
				if self, err = os.Create(b.o.cpuprofile + "-append.pprof"); err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(self); err != nil {
					self.Close()
					return err
				}
			}
			var before stageTimes
			var serr error
			if p.admin != "" && p.kind == "pipeline" && p.name != "echo" {
				before, serr = scrapeStages(ctx, p.admin)
			}
			drive(ctx, p, per, b.o.maxRequests, &seq, &p.res)
			if p.admin != "" && p.kind == "pipeline" && p.name != "echo" {
				var after stageTimes
				if serr == nil {
					after, serr = scrapeStages(ctx, p.admin)
				}
				p.stages.add(before, after, serr)
			}
			if self != nil {
				pprof.StopCPUProfile()
				if err := self.Close(); err != nil {
					return err
				}
			}
			if prof != nil {
				if err := <-prof; err != nil {
					fmt.Fprintf(b.log, "bench: CPU profile of %s: %v\n", p.name, err)
				}
			}
		}
	}
	return nil
}

// fetchProfile saves a CPU profile of seconds from a gateway's admin
// listener.
func fetchProfile(ctx context.Context, admin string, seconds int, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// drive runs p's call from p.conc goroutines for d or until maxN calls,
// and adds what it saw to res.
func drive(ctx context.Context, p *phase, d time.Duration, maxN int, seq *atomic.Int64, res *result) {
	ctx, cancel := context.WithTimeout(ctx, d+time.Minute) // a call stuck past the phase does not hold the run
	defer cancel()
	var issued atomic.Int64
	lats := make([][]time.Duration, p.conc)
	var errs atomic.Int64
	var firstErr atomic.Pointer[error]
	cpu0, cpuErr := p.cpu()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for g := range p.conc {
		wg.Go(func() {
			for time.Now().Before(deadline) && issued.Add(1) <= int64(maxN) {
				t0 := time.Now()
				err := p.call(ctx, seq.Add(1))
				lats[g] = append(lats[g], time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	cpu1, err := p.cpu()
	res.cpuErr = cmpErr(res.cpuErr, cmpErr(cpuErr, err))
	res.cpu += cpu1 - cpu0
	res.wall += wall
	for _, l := range lats {
		res.lat = append(res.lat, l...)
		res.n += int64(len(l))
	}
	res.errs += errs.Load()
	if e := firstErr.Load(); e != nil && res.firstErr == nil {
		res.firstErr = *e
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// report prints the phases and the ratios.
func (b *bench) report() {
	fmt.Fprintln(b.out)
	fmt.Fprintf(b.out, "%-48s %12s %9s %9s %13s %7s  %s\n", "phase", "calls/s", "p50", "p99", "CPU per call", "errors", "CPU of")
	for _, p := range b.phases {
		r := &p.res
		fmt.Fprintf(b.out, "%-48s %12s %9s %9s %13s %7d  %s\n", p.label, rate(r), quantile(r, 50), quantile(r, 99), perCall(r), r.errs, p.cpuOf)
	}
	for _, p := range b.phases {
		if p.res.firstErr != nil {
			fmt.Fprintf(b.out, "first error of %s: %v\n", p.name, p.res.firstErr)
		}
		if p.res.cpuErr != nil {
			fmt.Fprintf(b.out, "CPU of %s unknown: %v\n", p.name, p.res.cpuErr)
		}
	}
	byName := map[string]*phase{}
	for _, p := range b.phases {
		byName[p.name] = p
	}
	fmt.Fprintln(b.out)
	if echo := byName["echo"]; echo != nil {
		for _, p := range b.phases {
			if p.kind == "pipeline" && p != echo {
				fmt.Fprintf(b.out, "%-48s %s the echo's requests/s, %s its CPU per request\n", p.label+":", ratio(callsPerSec(&p.res), callsPerSec(&echo.res)), ratio(cpuPerCall(&p.res), cpuPerCall(&echo.res)))
			}
		}
	}
	if opa := byName["opa"]; opa != nil {
		for _, p := range b.phases {
			if p.kind == "pipeline" && p.name != "echo" {
				fmt.Fprintf(b.out, "%-48s %s OPA's requests/s, %s its CPU per request\n", p.label+":", ratio(callsPerSec(&p.res), callsPerSec(&opa.res)), ratio(cpuPerCall(&p.res), cpuPerCall(&opa.res)))
			}
		}
	}
	if ap, ts := byName["append"], byName["tessera"]; ap != nil && ts != nil {
		fmt.Fprintf(b.out, "%-48s %s Tessera's appends/s (%d in flight each, same disk)\n", "audit log group commit (SQLite):", ratio(callsPerSec(&ap.res), callsPerSec(&ts.res)), b.o.appendConc)
	}
	header := false
	for _, p := range b.phases {
		if p.kind != "pipeline" || p.name == "echo" || p.admin == "" {
			continue
		}
		if !header {
			fmt.Fprintln(b.out)
			fmt.Fprintln(b.out, "where a call's time went (the gateway's stage metrics over the measured rounds: mean time in each stage):")
			header = true
		}
		fmt.Fprintf(b.out, "%-48s %s\n", p.label+":", p.stages.describe(p.res.wall))
	}
	// The garbage collectors' targets, which weigh on every figure: the
	// gateway's as it reports it, and this process's (the client, the
	// sample holders and the append phase's log).
	var gw float64
	for _, p := range b.phases {
		if p.stages.gogc != 0 {
			gw = p.stages.gogc
		}
	}
	fmt.Fprintln(b.out)
	if gw != 0 {
		fmt.Fprintf(b.out, "garbage collector: the gateway at GOGC=%g (its go_gc_gogc_percent), this load tool at GOGC=%d\n", gw, gcPercent())
	} else {
		fmt.Fprintf(b.out, "garbage collector: this load tool at GOGC=%d\n", gcPercent())
	}
}

// gcPercent is this process's garbage collector target (GOGC).
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int(s[0].Value.Uint64())
}

func callsPerSec(r *result) float64 {
	if r.wall <= 0 {
		return 0
	}
	return float64(r.n-r.errs) / r.wall.Seconds()
}

func cpuPerCall(r *result) float64 {
	if r.n == 0 || r.cpuErr != nil {
		return 0
	}
	return r.cpu.Seconds() / float64(r.n)
}

func rate(r *result) string {
	v := callsPerSec(r)
	switch {
	case v >= 100:
		return thousands(int64(v + 0.5))
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func quantile(r *result, q int) string {
	if len(r.lat) == 0 {
		return "-"
	}
	if !slices.IsSorted(r.lat) {
		slices.Sort(r.lat)
	}
	return human(r.lat[min(len(r.lat)-1, len(r.lat)*q/100)].Seconds())
}

func perCall(r *result) string {
	if r.cpuErr != nil || r.n == 0 {
		return "?"
	}
	return human(cpuPerCall(r))
}

// human prints seconds as µs, ms or s with three significant digits.
func human(s float64) string {
	switch {
	case s < 1e-3:
		return strconv.FormatFloat(s*1e6, 'f', sig(s*1e6), 64) + " µs"
	case s < 1:
		return strconv.FormatFloat(s*1e3, 'f', sig(s*1e3), 64) + " ms"
	}
	return strconv.FormatFloat(s, 'f', sig(s), 64) + " s"
}

func sig(v float64) int {
	switch {
	case v >= 100:
		return 0
	case v >= 10:
		return 1
	}
	return 2
}

func ratio(a, b float64) string {
	if b == 0 {
		return "?"
	}
	v := a / b
	switch {
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + "x"
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 1, 64) + "x"
	}
	return strconv.FormatFloat(v, 'f', 3, 64) + "x"
}
