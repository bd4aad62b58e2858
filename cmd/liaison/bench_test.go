package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// benchRow finds a phase's row in bench's output and returns its calls/s
// and error count columns.
func benchRow(t *testing.T, out, label string) (rate, errs string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `\s+([\d,.]+)\s+\S+ \S+\s+\S+ \S+\s+\S+ \S+\s+(\d+)\s`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no row %q in:\n%s", label, out)
	}
	return m[1], m[2]
}

// TestBench runs the load tool briefly (no speed is asserted): every phase
// gets its answers without an error, the gateway's CPU is measured, and the
// ratios are printed.
func TestBench(t *testing.T) {
	bin := buildLiaison(t)
	var out, errOut bytes.Buffer
	args := []string{"-gateway", bin, "-duration", "600ms", "-rounds", "2", "-warmup", "0", "-concurrency", "4"}
	if pg := os.Getenv("LIAISON_TEST_POSTGRES_URL"); pg != "" {
		args = append(args, "-postgres", pg)
	}
	if err := runBench(t.Context(), args, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	s := out.String()
	labels := []string{"echo: health Check, same mTLS", "Disclose, audited (SQLite)", "Request, pseudonymised, audited (SQLite)"}
	if os.Getenv("LIAISON_TEST_POSTGRES_URL") != "" {
		labels = append(labels, "Disclose, audited (PostgreSQL)", "Request, pseudonymised, audited (PostgreSQL)")
	} else {
		t.Log("LIAISON_TEST_POSTGRES_URL not set: PostgreSQL phases not run")
	}
	for _, l := range labels {
		rate, errs := benchRow(t, s, l)
		if errs != "0" || rate == "0.0" {
			t.Errorf("%s: %s calls/s, %s errors; want answers and no error\n%s", l, rate, errs, s)
		}
	}
	if strings.Contains(s, "CPU of ") && strings.Contains(s, "unknown") {
		t.Errorf("the gateway's CPU was not measured:\n%s", s)
	}
	if !strings.Contains(s, "Disclose, audited (SQLite):") || !strings.Contains(s, "the echo's requests/s") {
		t.Errorf("no ratios to the echo:\n%s", s)
	}
	// Where the audited calls' time went, from the gateway's stage
	// metrics: every audited call decides and waits for the log, which
	// commits at least one entry a commit.
	if !strings.Contains(s, "where a call's time went") {
		t.Errorf("no stages:\n%s", s)
	}
	for _, l := range labels[1:] {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(l+":") + `\s+authenticate \S+ \S+, .*decide \S+ \S+, .*audit_wait \S+ \S+, log ([\d,]+) commits/s of ([\d.]+) entries$`)
		m := re.FindStringSubmatch(s)
		if m == nil {
			t.Errorf("%s: no stages with the log's commits:\n%s", l, s)
			continue
		}
		if m[1] == "0" {
			t.Errorf("%s: %s commits/s, want some", l, m[1])
		}
		if per, err := strconv.ParseFloat(m[2], 64); err != nil || per < 1 {
			t.Errorf("%s: %s entries a commit, want at least one", l, m[2])
		}
	}
	// The collectors' targets: the gateway's (liaison serve's default, as
	// its metrics report it) and the load tool's, both GOGC=400 unless
	// the environment sets GOGC.
	want := "GOGC=" + strconv.Itoa(serveGCPercent)
	if v := os.Getenv("GOGC"); v != "" {
		want = "GOGC=" + v
	}
	if line := "garbage collector: the gateway at " + want + " (its go_gc_gogc_percent), this load tool at " + want + "\n"; !strings.Contains(s, line) {
		t.Errorf("want the line %q:\n%s", line, s)
	}
}

// TestTuneGC: liaison serve and liaison bench run the collector at
// serveGCPercent, unless GOGC is set, which stands.
func TestTuneGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })
	t.Setenv("GOGC", "")
	tuneGC()
	if got := gcPercent(); got != serveGCPercent {
		t.Errorf("without GOGC: the collector at %d, want %d", got, serveGCPercent)
	}
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150) // as the runtime read it at start
	tuneGC()
	if got := gcPercent(); got != 150 {
		t.Errorf("with GOGC=150: the collector at %d, want 150 (the environment's)", got)
	}
}

// TestBenchPeers runs the peers briefly: OPA's server decides the Disclose
// input as the gateway does (disclose), the audit log appends, and
// Tessera's POSIX log (installed into the cache folder, not go.mod)
// appends; the ratio to Tessera is printed.
func TestBenchPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and runs the peers; not in -short")
	}
	modBefore, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = runBench(t.Context(), []string{"-peers", "-phases", "opa,append,tessera", "-duration", "600ms", "-rounds", "1", "-warmup", "0",
		"-concurrency", "4", "-append-concurrency", "16"}, &out, &errOut)
	if err != nil {
		t.Fatalf("bench -peers: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	s := out.String()
	for _, l := range []string{"OPA server: REST decision, decision logs", "audit log: durable append, group commit (SQLite)", "Tessera " + tesseraVersion + " POSIX log: POST /add"} {
		rate, errs := benchRow(t, s, l)
		if errs != "0" || rate == "0.0" {
			t.Errorf("%s: %s calls/s, %s errors; want answers and no error\n%s", l, rate, errs, s)
		}
	}
	if !strings.Contains(s, "Tessera's appends/s") {
		t.Errorf("no ratio to Tessera:\n%s", s)
	}
	modAfter, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(modBefore, modAfter) || strings.Contains(string(modAfter), "tessera") {
		t.Error("installing Tessera changed go.mod")
	}
}

// TestBenchAppendProfile checks that -cpuprofile profiles this process
// during the append phase, where the log runs.
func TestBenchAppendProfile(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "prof")
	var out, errOut bytes.Buffer
	if err := runBench(t.Context(), []string{"-peers", "-phases", "append", "-duration", "600ms", "-rounds", "1", "-warmup", "0",
		"-append-concurrency", "16", "-cpuprofile", prefix}, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	prof, err := os.ReadFile(prefix + "-append.pprof")
	if err != nil {
		t.Fatal(err)
	}
	// A profile is gzip-compressed protobuf: it starts with gzip's magic.
	if len(prof) < 100 || prof[0] != 0x1f || prof[1] != 0x8b {
		t.Errorf("append profile: %d bytes, not a gzip-compressed profile", len(prof))
	}
}

// TestBenchUsage checks that -h explains the tool and bad flags are refused.
func TestBenchUsage(t *testing.T) {
	var out bytes.Buffer
	if err := runBench(t.Context(), []string{"-h"}, &out, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("bench -h = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"Usage: liaison bench", "-concurrency", "-peers", "-postgres", "Tessera", "go tool opa"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench -h does not mention %q:\n%s", want, out.String())
		}
	}
	if err := runBench(t.Context(), []string{"-rounds", "0"}, &out, &out); err == nil {
		t.Error("bench -rounds 0 succeeded")
	}
	b := &bench{log: io.Discard}
	defer b.close()
	if _, err := b.scratchDatabase(t.Context(), "postgres://bench@db.example:5432/postgres"); err == nil || !strings.Contains(err.Error(), "this machine") {
		t.Errorf("bench -postgres with a remote server = %v, want a refusal", err)
	}
}
