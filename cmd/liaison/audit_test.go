package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// embeddedEngine returns the embedded policies, loaded once per test binary.
func embeddedEngine(t *testing.T) *policies.Engine {
	t.Helper()
	e, err := loadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var loadEmbedded = sync.OnceValues(func() (*policies.Engine, error) {
	return policies.Load(context.Background(), policies.Embedded())
})

// auditStack is the demo's stack kept running for the auditor's commands.
type auditStack struct {
	d    *demo
	opts gatewayOptions
	dir  string
	tok  string
}

func startAuditStack(t *testing.T, auditDB string) *auditStack {
	t.Helper()
	return startAuditStackWith(t, func(o *gatewayOptions) {
		if auditDB != "" {
			o.AuditDB = auditDB
		}
	})
}

// startAuditStackWith starts the demo's holders and a gateway whose options
// edit may change.
func startAuditStackWith(t *testing.T, edit func(*gatewayOptions)) *auditStack {
	t.Helper()
	dir := t.TempDir()
	d := &demo{out: io.Discard}
	_, stop, err := d.startHolders(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	s := &auditStack{d: d, dir: dir, opts: gatewayOptions{
		Listen: "127.0.0.1:0", Registry: d.pki.Registry,
		TLSCert: d.pki.Path("gateway.pem"), TLSKey: d.pki.Path("gateway.key"), ClientCAs: []string{d.pki.Path("ca.pem")},
		AuditDB: filepath.Join(dir, "audit.db"), AuditKey: filepath.Join(dir, "audit-signer.key"), AuditName: "test.liaison",
		Keys: filepath.Join(dir, "keys.json"), Audience: "liaison",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Engine: embeddedEngine(t),
	}}
	edit(&s.opts)
	s.restart(t)
	t.Cleanup(func() { s.d.gw.Stop() })
	s.tok, err = d.pki.Issuers["dk-prison-east"].Mint(devpki.TokenSpec{Officer: "dpo.kristensen", Roles: []string{"auditor"}, Audience: "liaison"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// restart stops the gateway, if running, and starts it again on the same
// database, as an operator would after maintenance.
func (s *auditStack) restart(t *testing.T) {
	t.Helper()
	if s.d.gw != nil {
		if err := s.d.gw.Stop(); err != nil {
			t.Logf("stop: %v", err)
		}
	}
	gw, err := startGateway(t.Context(), s.opts)
	if err != nil {
		t.Fatal(err)
	}
	s.d.gw = gw
}

// traffic makes three exchanges: a disclosure, a pseudonymised answer and
// a refusal.
func (s *auditStack) traffic(t *testing.T) {
	t.Helper()
	fx, err := sample.ParseFixtures(sample.SampleOn(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.d.releaseNotice(t.Context(), fx); err != nil {
		t.Fatal(err)
	}
	if err := s.d.riskAssessment(t.Context(), "nl-police-rotterdam", "insp.de.vries", "police", liaisonv1.Outcome_OUTCOME_PSEUDONYMISE); err != nil {
		t.Fatal(err)
	}
	if err := s.d.riskAssessment(t.Context(), "nl-ngo-exit", "mentor.jansen", "ngo", liaisonv1.Outcome_OUTCOME_DENY); err != nil {
		t.Fatal(err)
	}
}

// audit runs `liaison audit <cmd>` as the auditor and returns its output.
func (s *auditStack) audit(t *testing.T, cmd string, extra ...string) (string, error) {
	t.Helper()
	args := []string{"audit", cmd, "-gateway", s.d.gw.Addr,
		"-cert", s.d.pki.Path("agencies", "dk-prison-east.pem"), "-key", s.d.pki.Path("agencies", "dk-prison-east.key"),
		"-ca", s.d.pki.Path("ca.pem"), "-token", s.tok}
	if cmd != "query" && cmd != "report" && cmd != "corrections" {
		args = append(args, "-verifier-key", s.d.gw.VerifierKey)
	}
	if cmd == "verify" {
		args = append(args, "-state", filepath.Join(s.dir, "trusted"))
	}
	var out, errb bytes.Buffer
	err := run(context.WithoutCancel(t.Context()), append(args, extra...), &out, &errb)
	return out.String() + errb.String(), err
}

func TestAuditCommands(t *testing.T) {
	s := startAuditStack(t, "")
	s.traffic(t)
	out, err := s.audit(t, "verify")
	if err != nil || !strings.Contains(out, "OK: the log verifies") {
		t.Fatalf("first verify: %v\n%s", err, out)
	}
	s.traffic(t)
	out, err = s.audit(t, "verify", "-full")
	if err != nil || !strings.Contains(out, "consistent with the checkpoint trusted before") || !strings.Contains(out, "recomputed") {
		t.Fatalf("second verify: %v\n%s", err, out)
	}
	out, err = s.audit(t, "query", "-outcome", "pseudonymise")
	if err != nil || strings.Count(out, "pseudonymise") != 2 {
		t.Errorf("query -outcome pseudonymise: %v\n%s", err, out)
	}
	out, err = s.audit(t, "prove", "-index", "1")
	if err != nil || !strings.Contains(out, `"verified": true`) {
		t.Errorf("prove: %v\n%s", err, out)
	}
	out, err = s.audit(t, "report", "-subject", "SYN-NL-0001")
	if err != nil || strings.Count(out, "risk assessment, pseudonymised") != 2 || strings.Contains(out, "insp.de.vries") || strings.Contains(out, "nl-ngo-exit") {
		t.Errorf("report: %v\n%s", err, out)
	}
	if strings.Contains(out, "SYN-NL-0001") {
		t.Error("the report prints the subject's identifier")
	}
	out, err = s.audit(t, "report", "-subject", "SYN-NL-0001", "-with-officers")
	if err != nil || !strings.Contains(out, "insp.de.vries") {
		t.Errorf("report -with-officers: %v\n%s", err, out)
	}
	exp := filepath.Join(s.dir, "export")
	if out, err = s.audit(t, "export", "-out", exp); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	for _, f := range []string{"entries.jsonl", "checkpoint", "verifier.key"} {
		if _, err := os.Stat(filepath.Join(exp, f)); err != nil {
			t.Errorf("export lacks %s", f)
		}
	}
	var o bytes.Buffer
	if err := run(t.Context(), []string{"audit", "verify", "-export", exp, "-verifier-key", s.d.gw.VerifierKey, "-state", filepath.Join(s.dir, "offline")}, &o, &o); err != nil {
		t.Errorf("offline verify of the export: %v\n%s", err, o.String())
	}
	// A second export into the same folder is refused, naming the flag,
	// and leaves the first as it was.
	first := folderFiles(t, exp)
	if out, err = s.audit(t, "export", "-out", exp); err == nil || !strings.Contains(err.Error(), "-out "+exp+" is not empty") {
		t.Errorf("a second export into %s: %v\n%s", exp, err, out)
	}
	if again := folderFiles(t, exp); !maps.Equal(first, again) {
		t.Errorf("the refused export changed the first: %d files before, %d after", len(first), len(again))
	}
}

// storeKind is an audit store the tests run against: SQLite always,
// PostgreSQL when the test command has started a server.
type storeKind struct {
	name string
	// newDB returns a DSN for a fresh database ("" for the stack's SQLite
	// file), or skips.
	newDB func(t *testing.T) string
}

var storeKinds = []storeKind{
	{"sqlite", func(t *testing.T) string { return "" }},
	{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
}

// tamper runs SQL on the audit database directly, as an attacker with
// access to the server would. The statements are the same on both stores
// but for how a leaf's text is changed.
func tamper(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres") {
		pgtest.Exec(t, dsn, stmts...)
		return
	}
	db, err := sql.Open("sqlite", dsn+"?_pragma=busy_timeout(10000)") // the gateway may be writing
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// changeLeaf is the SQL that rewrites one word of entry idx in place.
func changeLeaf(dsn string, idx int) string {
	if strings.HasPrefix(dsn, "postgres") {
		return fmt.Sprintf("UPDATE leaves SET leaf = convert_to(replace(convert_from(leaf, 'UTF8'), 'risk_management', 'statistics'), 'UTF8') WHERE idx = %d", idx)
	}
	return fmt.Sprintf("UPDATE leaves SET leaf = CAST(replace(CAST(leaf AS TEXT), 'risk_management', 'statistics') AS BLOB) WHERE idx = %d", idx)
}

// rewriteHistory rewrites the first exchange and recomputes every stored hash, so that
// the database is a consistent tree again: only a trusted checkpoint can
// tell.
func rewriteHistory(t *testing.T, dsn string) {
	t.Helper()
	ctx := t.Context()
	st, err := openStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := st.Size(ctx)
	leaves, err := st.ReadLeaves(ctx, 0, n)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	target := slices.IndexFunc(leaves, func(l []byte) bool { return bytes.Contains(l, []byte("risk_management")) })
	if target < 0 {
		t.Fatal("no entry to rewrite")
	}
	leaves[target] = bytes.Replace(leaves[target], []byte("risk_management"), []byte("statistics"), 1)
	var hashes []tlog.Hash
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, l := range leaves {
		hs, err := tlog.StoredHashes(int64(i), l, r)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	stmts := []string{changeLeaf(dsn, target), "DELETE FROM hashes", "DELETE FROM checkpoints"}
	var vals []string
	for i, h := range hashes {
		if strings.HasPrefix(dsn, "postgres") {
			vals = append(vals, fmt.Sprintf("(%d, '\\x%x'::bytea)", i, h[:]))
		} else {
			vals = append(vals, fmt.Sprintf("(%d, X'%x')", i, h[:]))
		}
	}
	stmts = append(stmts, "INSERT INTO hashes (idx, hash) VALUES "+strings.Join(vals, ", "))
	tamper(t, dsn, stmts...)
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			for _, tt := range []struct {
				name   string
				tamper func(t *testing.T, s *auditStack)
				flags  []string
				want   string
			}{
				// Entry 2 is the first exchange: the start recorded the key
				// version (0) and the policy activation (1) before it.
				{"a row changed in the database", func(t *testing.T, s *auditStack) {
					tamper(t, s.opts.AuditDB, changeLeaf(s.opts.AuditDB, 2))
				}, []string{"-entry", "2"}, "entry does not match the checkpoint"},
				{"a row changed, found by recomputing everything", func(t *testing.T, s *auditStack) {
					tamper(t, s.opts.AuditDB, changeLeaf(s.opts.AuditDB, 2))
				}, []string{"-full"}, "root hash does not match"},
				{"the last entries deleted", func(t *testing.T, s *auditStack) {
					// The gateway stopped first: a running one may be
					// signing a checkpoint of the whole log as the rows
					// go, and save it after "DELETE FROM checkpoints";
					// then even the restart below is refused.
					s.d.gw.Stop()
					n := 3 // entries kept; the log had more
					tamper(t, s.opts.AuditDB,
						fmt.Sprintf("DELETE FROM inbox WHERE audit_idx >= %d", n),
						fmt.Sprintf("DELETE FROM leaves WHERE idx >= %d", n),
						fmt.Sprintf("DELETE FROM hashes WHERE idx >= %d", tlog.StoredHashCount(int64(n))),
						"DELETE FROM checkpoints")
					s.restartRefused(t, "audit store rolled back")
					s.forgetSigned(t) // someone who holds the signer's host too
					s.restart(t)
				}, nil, "log truncated"},
				{"a forked checkpoint over a rewritten history", func(t *testing.T, s *auditStack) {
					s.d.gw.Stop()
					rewriteHistory(t, s.opts.AuditDB)
					s.restartRefused(t, "audit store forked")
					s.forgetSigned(t) // someone who holds the signer's host too
					gw, err := startGateway(t.Context(), s.opts)
					if err != nil {
						t.Fatal(err)
					}
					s.d.gw = gw
				}, nil, "log forked or rewritten"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					s := startAuditStack(t, kind.newDB(t))
					s.traffic(t)
					s.traffic(t)
					if out, err := s.audit(t, "verify"); err != nil {
						t.Fatalf("verify before tampering: %v\n%s", err, out)
					}
					tt.tamper(t, s)
					out, err := s.audit(t, "verify", tt.flags...)
					if err == nil {
						t.Fatalf("verify after tampering succeeded:\n%s", out)
					}
					if !strings.Contains(err.Error(), "FAILED") || !strings.Contains(err.Error(), tt.want) {
						t.Errorf("verify error = %v, want a FAILED message naming %q", err, tt.want)
					}
				})
			}
		})
	}
}

// TestAuditKeyFileMissing: a key given as @file that cannot be read is an
// error naming the flag and the file, never taken for no key at all: with
// -export, no key means the export's own verifier.key, which proves
// nothing.
func TestAuditKeyFileMissing(t *testing.T) {
	dir := t.TempDir()
	exp, vkey := oneEntryExport(t, dir, "test.liaison")
	missing := filepath.Join(dir, "no-such.key")
	for _, tt := range []struct {
		name string
		args []string
		flag string
	}{
		{"verifier key", []string{"-verifier-key", "@" + missing}, "-verifier-key"},
		{"witness key", []string{"-verifier-key", vkey, "-witness-key", "@" + missing}, "-witness-key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"audit", "verify", "-export", exp, "-state", filepath.Join(dir, tt.name+".trusted")}, tt.args...)
			err := run(t.Context(), args, &out, &out)
			if err == nil {
				t.Fatalf("verify %v succeeded:\n%s", tt.args, out.String())
			}
			if !strings.Contains(err.Error(), tt.flag) || !strings.Contains(err.Error(), missing) {
				t.Errorf("verify %v = %v, want an error naming %s and %s", tt.args, err, tt.flag, missing)
			}
		})
	}
}

// TestAuditStateOfAnotherLog: a -state file that holds another log's
// checkpoint (another key) is a mistake in the auditor's set-up, not a
// finding about this log: the error says the trust file is not this
// log's and names it, and does not read as a verification failure.
func TestAuditStateOfAnotherLog(t *testing.T) {
	dir := t.TempDir()
	export := func(name string) (string, string) { return oneEntryExport(t, dir, name) }
	state := filepath.Join(dir, "shared.trusted")
	verify := func(exp, vkey string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), []string{"audit", "verify", "-export", exp, "-verifier-key", vkey, "-state", state}, &out, &out)
		return out.String(), err
	}
	dk, dkKey := export("dk.liaison.test")
	if out, err := verify(dk, dkKey); err != nil {
		t.Fatalf("verify the Danish export: %v\n%s", err, out)
	}
	nl, nlKey := export("nl.liaison.test")
	_, err := verify(nl, nlKey)
	if err == nil || !strings.Contains(err.Error(), state) || !strings.Contains(err.Error(), "not this log's") || strings.Contains(err.Error(), "FAILED") {
		t.Errorf("verify with another log's -state = %v; want an error naming the trust file as not this log's, not FAILED", err)
	}
	// A damaged state file (emptied, say, by a crash) is the set-up too:
	// it was reported as FAILED, naming neither the file nor its state.
	for name, content := range map[string]string{"empty": "", "cut short": "nl.liaison.test\n1\n"} {
		if err := os.WriteFile(state, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := verify(nl, nlKey)
		if err == nil || !strings.Contains(err.Error(), state) || !strings.Contains(err.Error(), "not this log's") || strings.Contains(err.Error(), "FAILED") {
			t.Errorf("verify with a state file %s = %v; want an error naming the trust file as not this log's, not FAILED", name, err)
		}
	}
}

// oneEntryExport writes, in dir/name, an export of a one-entry log whose
// checkpoint is signed by a fresh key called name, and returns the
// export's directory and the key's verifier key.
func oneEntryExport(t *testing.T, dir, name string) (exp, vkey string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	leaf := []byte(`{"time":"2026-11-02T09:00:00Z","action":"key_rotate","outcome":"ok"}`)
	root, err := audit.RootHash([][]byte{leaf})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: name, Size: 1, Hash: root}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	exp = filepath.Join(dir, name)
	if err := os.Mkdir(exp, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string][]byte{"entries.jsonl": append(leaf, '\n'), "checkpoint": signed, "verifier.key": []byte(vkey + "\n")} {
		if err := os.WriteFile(filepath.Join(exp, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return exp, vkey
}

// TestAuditVerifyExportOneLineAnEntry: entries.jsonl holds one entry a
// line; an empty line is no spelling of an entry, and an export with one
// is refused, as docs/auditor refuses it (it reads the empty line as a
// leaf of its own), rather than skipped.
func TestAuditVerifyExportOneLineAnEntry(t *testing.T) {
	dir := t.TempDir()
	exp, vkey := oneEntryExport(t, dir, "test.liaison")
	entries := filepath.Join(exp, "entries.jsonl")
	b, err := os.ReadFile(entries)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(name string) error {
		var out bytes.Buffer
		return run(t.Context(), []string{"audit", "verify", "-export", exp, "-verifier-key", vkey, "-state", filepath.Join(dir, name+".trusted")}, &out, &out)
	}
	if err := verify("as written"); err != nil {
		t.Fatalf("verify the export as written: %v", err)
	}
	for name, content := range map[string][]byte{
		"an empty line before": append([]byte("\n"), b...),
		"an empty line after":  append(bytes.Clone(b), '\n'),
	} {
		os.WriteFile(entries, content, 0o644)
		if err := verify(name); err == nil {
			t.Errorf("verify an export with %s the entry = nil error", name)
		}
	}
}

// TestAuditVerifyRefusesIgnoredFlags: -sample is a count, and an offline
// verification of an export checks every entry, so the flags that choose
// what to ask a gateway are refused with -export, not silently ignored.
func TestAuditVerifyRefusesIgnoredFlags(t *testing.T) {
	dir := t.TempDir()
	exp, vkey := oneEntryExport(t, dir, "test.liaison")
	state := filepath.Join(dir, "s.trusted")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-sample", "-3"}, "-sample -3: must not be negative"},
		{[]string{"-export", exp, "-sample", "100"}, "-sample ask a gateway"},
		{[]string{"-export", exp, "-entry", "0", "-full"}, "-entry, -full ask a gateway"},
		{[]string{"-export", exp, "-gateway", "127.0.0.1:1"}, "-gateway ask a gateway"},
	} {
		var out bytes.Buffer
		args := append([]string{"audit", "verify", "-verifier-key", vkey, "-state", state}, tt.args...)
		err := run(t.Context(), args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("liaison %s = %v; want an error saying %q", strings.Join(args, " "), err, tt.want)
		}
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("a refused verification wrote the state file: %v", err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"audit", "verify", "-export", exp, "-verifier-key", vkey, "-state", state}, &out, &out); err != nil {
		t.Errorf("verify the export without them: %v\n%s", err, &out)
	}
}

// TestAuditVerifyExportSaysWhatItTrusted: audit verify -export said only
// "OK: N entries verify against the checkpoint signed by ...", on the
// first run (the export's checkpoint trusted on first use) and on the
// next (proved consistent with the one trusted before) alike, where the
// online verify says which; the auditor could not tell whether the
// export had been checked against anything trusted. It says it as the
// online verify does, and of an export of one entry "1 entry verifies",
// not "1 entries verify".
func TestAuditVerifyExportSaysWhatItTrusted(t *testing.T) {
	dir := t.TempDir()
	exp, vkey := oneEntryExport(t, dir, "test.liaison")
	state := filepath.Join(dir, "trusted")
	for _, want := range []string{
		"no checkpoint trusted before (" + state + "): trusting this one from now on\n",
		"consistent with the checkpoint trusted before (1 entry)\n",
	} {
		var out bytes.Buffer
		if err := run(t.Context(), []string{"audit", "verify", "-export", exp, "-verifier-key", vkey, "-state", state}, &out, &out); err != nil {
			t.Fatalf("verify -export: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "OK: 1 entry verifies against the checkpoint signed by test.liaison") {
			t.Errorf("verify -export printed:\n%s\nwant %q", out.String(), want)
		}
	}
}

// TestAuditVerifyCountsOneEntryAsOne: audit verify -entry N -sample 0
// checks one entry's inclusion and said "inclusion checked for 1
// entries"; it says "1 entry".
func TestAuditVerifyCountsOneEntryAsOne(t *testing.T) {
	s := startAuditStack(t, "")
	s.traffic(t)
	out, err := s.audit(t, "verify", "-entry", "1", "-sample", "0")
	if err != nil || !strings.Contains(out, "inclusion checked for 1 entry\n") {
		t.Errorf("verify -entry 1 -sample 0: %v\n%s", err, out)
	}
}

// TestAuditLinesCountOneEntryAsOne: audit verify printed "checkpoint: 1
// entries" and audit export "exported 1 entries" for a checkpoint that
// covers one entry (signed between a fresh log's first two entries);
// they say "1 entry".
func TestAuditLinesCountOneEntryAsOne(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ got, want string }{
		{checkpointLine(1, "ROOT", "test.liaison"), "checkpoint: 1 entry, root ROOT, signed by test.liaison\n"},
		{checkpointLine(16, "ROOT", "test.liaison"), "checkpoint: 16 entries, root ROOT, signed by test.liaison\n"},
		{exportedLine(1, "out"), "exported 1 entry and the checkpoint that covers it to out\n"},
		{exportedLine(2, "out"), "exported 2 entries and the checkpoint that covers them to out\n"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
