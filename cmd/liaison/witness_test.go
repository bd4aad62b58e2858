package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/witness"
)

// inProcessWitness runs a witness following the log key vkey, over HTTP on
// loopback, and returns it with its -witness flag value.
func inProcessWitness(t *testing.T, name, logVKey string) (*witness.Witness, string) {
	t.Helper()
	dir := t.TempDir()
	signer, err := witness.LoadOrCreateKey(filepath.Join(dir, "witness.key"), name)
	if err != nil {
		t.Fatal(err)
	}
	lv, err := note.NewVerifier(logVKey)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(t.Context(), witness.Config{Signer: signer, State: filepath.Join(dir, "witness.db"),
		Logs: map[string][]note.Verifier{lv.Name(): {lv}}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	t.Cleanup(func() { srv.Close(); w.Close() })
	return w, srv.URL + "=" + w.VerifierKey()
}

// commandWitness runs `liaison witness` until the returned stop is called,
// and returns its -witness flag value.
func commandWitness(t *testing.T, name, logVKey string) (flag string, stop func()) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"witness", "-name", name, "-key", filepath.Join(dir, "w.key")}
	var out bytes.Buffer
	if err := run(t.Context(), append(args, "-print-key"), &out, &out); err != nil {
		t.Fatalf("liaison witness -print-key: %v\n%s", err, &out)
	}
	vkey := strings.TrimSpace(out.String())
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append(args, "-state", filepath.Join(dir, "w.db"), "-listen", "127.0.0.1:0", "-log", logVKey), &logs, &logs)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("liaison witness did not stop")
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			stop()
		}
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for line := range strings.Lines(logs.String()) {
			var l struct {
				Msg         string
				URL         string
				VerifierKey string `json:"verifier_key"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "witness serving" {
				if l.VerifierKey != vkey {
					t.Fatalf("liaison witness serves with key %q, -print-key said %q", l.VerifierKey, vkey)
				}
				return l.URL + "=" + vkey, stop
			}
		}
	}
	t.Fatalf("liaison witness did not start:\n%s", logs.String())
	return "", nil
}

// TestWitnessedGateways: two gateways with one origin and checkpoint key
// share a witness; the second runs on a copy of the first's store whose
// history was rewritten. The witnesses cosign the first gateway's
// checkpoints and refuse the second's; `liaison audit verify` with a 2-of-3
// witness policy accepts the first gateway's checkpoint while two witnesses
// cosign it, refuses the second's, and refuses the first's once only one
// witness cosigned its newest checkpoint.
func TestWitnessedGateways(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "audit-signer.key")
	_, logVKey, err := audit.LoadOrCreateSignerKey(keyFile, "test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	w1, flag1 := inProcessWitness(t, "witness.dpa.test/w1", logVKey)
	flag2, stop2 := commandWitness(t, "witness.police.test/w2", logVKey)
	_, flag3 := inProcessWitness(t, "witness.prison.test/w3", logVKey)
	vkey := func(flag string) string { return flag[strings.Index(flag, "=")+1:] }
	policy := []string{"-witness-key", vkey(flag1), "-witness-key", vkey(flag2), "-witness-key", vkey(flag3), "-witness-quorum", "2"}

	withWitnesses := func(db string, flags ...string) func(o *gatewayOptions) {
		return func(o *gatewayOptions) {
			o.AuditKey, o.AuditName = keyFile, "test.liaison"
			if db != "" {
				o.AuditDB = db
			}
			o.Witnesses = &witnessOptions{Witnesses: flags, Interval: time.Hour} // rounds by hand below
		}
	}
	a := startAuditStackWith(t, withWitnesses("", flag1, flag2))
	a.traffic(t)
	if n, err := a.d.gw.Cosigner.Round(t.Context()); n != 2 || err != nil {
		t.Fatalf("gateway A: Round() = %d, %v; want two cosignatures", n, err)
	}
	out, err := a.audit(t, "verify", policy...)
	if err != nil || !strings.Contains(out, "cosigned by 2 of 3 named witnesses (witness.dpa.test/w1, witness.police.test/w2)") {
		t.Fatalf("audit verify A, 2 of 3: %v\n%s", err, out)
	}

	// B: A's store copied while A is stopped, one exchange rewritten.
	if err := a.d.gw.Stop(); err != nil {
		t.Fatal(err)
	}
	a.d.gw = nil
	bDB := filepath.Join(dir, "rewritten.db")
	copyFile(t, a.opts.AuditDB, bDB)
	rewriteHistory(t, bDB)
	tamper(t, bDB, "DELETE FROM cosignatures", "DELETE FROM published_checkpoints")
	a.restart(t)
	// B keeps its own record of the last signed checkpoint: the shared
	// one would refuse its rolled-back copy at start (the gateway's own
	// check); an operator who forks the log controls the signer's host too,
	// and only the witnesses can catch it.
	b := startAuditStackWith(t, func(o *gatewayOptions) {
		withWitnesses(bDB, flag1)(o)
		o.AuditState = filepath.Join(dir, "forked.checkpoint")
	})
	b.traffic(t)
	n, err := b.d.gw.Cosigner.Round(t.Context())
	if n != 0 || err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("gateway B (rewritten): Round() = %d, %v; want no cosignature and a 422 refusal", n, err)
	}
	refused, err := w1.Refused(t.Context(), "test.liaison")
	if err != nil || len(refused) == 0 {
		t.Fatalf("witness w1 kept %d refused checkpoints, %v; want B's", len(refused), err)
	}
	for _, flags := range [][]string{policy, {"-witness-key", vkey(flag1)}} {
		out, err := b.audit(t, "verify", flags...)
		if err == nil || !strings.Contains(err.Error(), "FAILED") || !strings.Contains(err.Error(), "quorum") {
			t.Errorf("audit verify B %v = %v, want FAILED for want of a quorum\n%s", flags[len(flags)-1], err, out)
		}
	}

	// A goes on, witnessed: w1 is not confused by B.
	a.traffic(t)
	if n, err := a.d.gw.Cosigner.Round(t.Context()); n != 2 || err != nil {
		t.Fatalf("gateway A after B: Round() = %d, %v; want two cosignatures", n, err)
	}
	if out, err := a.audit(t, "verify", policy...); err != nil {
		t.Fatalf("audit verify A after B, 2 of 3: %v\n%s", err, out)
	}
	// w2 goes down: A's next checkpoint is cosigned by w1 alone.
	stop2()
	a.traffic(t)
	if n, err := a.d.gw.Cosigner.Round(t.Context()); n != 1 || err == nil {
		t.Fatalf("gateway A with w2 down: Round() = %d, %v; want one cosignature and an error", n, err)
	}
	out, err = a.audit(t, "verify", policy...)
	if err == nil || !strings.Contains(err.Error(), "cosigned by 1 of the 3 named witnesses (witness.dpa.test/w1), the policy needs 2") {
		t.Errorf("audit verify A, 2 of 3, cosigned by one: %v, want FAILED\n%s", err, out)
	}
	// The export refuses it too, and writes nothing.
	exp := filepath.Join(dir, "export")
	out, err = a.audit(t, "export", append([]string{"-out", exp}, policy...)...)
	if err == nil || !strings.Contains(err.Error(), "quorum") {
		t.Errorf("audit export, 2 of 3, cosigned by one: %v, want a refusal\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(exp, "checkpoint")); err == nil {
		t.Errorf("audit export wrote a checkpoint without the quorum")
	}
	// With 1 of 3 it exports; the export's checkpoint carries the
	// cosignature and verifies offline under the same policy.
	out, err = a.audit(t, "export", "-out", exp, "-witness-key", vkey(flag1), "-witness-key", vkey(flag2), "-witness-key", vkey(flag3), "-witness-quorum", "1")
	if err != nil {
		t.Fatalf("audit export, 1 of 3: %v\n%s", err, out)
	}
	var o bytes.Buffer
	err = run(t.Context(), []string{"audit", "verify", "-export", exp, "-verifier-key", logVKey, "-state", filepath.Join(dir, "offline"),
		"-witness-key", vkey(flag1), "-witness-key", vkey(flag3), "-witness-quorum", "1"}, &o, &o)
	if err != nil || !strings.Contains(o.String(), "cosigned by 1 of 2 named witnesses (witness.dpa.test/w1)") {
		t.Errorf("audit verify -export, 1 of 2: %v\n%s", err, &o)
	}
	o.Reset()
	err = run(t.Context(), []string{"audit", "verify", "-export", exp, "-verifier-key", logVKey, "-state", filepath.Join(dir, "offline2"),
		"-witness-key", vkey(flag3)}, &o, &o)
	if err == nil || !strings.Contains(err.Error(), "FAILED") {
		t.Errorf("audit verify -export cosigned by w1, policy w3 only: %v, want FAILED\n%s", err, &o)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestWitnessPrintKeyTakesKeyAndNameOnly: liaison witness -print-key read
// -key and -name and accepted every other flag unread: a -log that is no
// verifier key, a -state, -listen or TLS pair, which the operator would
// believe checked. They are refused beside it now, naming them, before
// any key file is created; -print-key with -key and -name prints the key.
func TestWitnessPrintKeyTakesKeyAndNameOnly(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "w.key")
	base := []string{"witness", "-print-key", "-key", key, "-name", "witness.dpa.example/w1"}
	for _, tt := range []struct {
		extra []string
		want  string
	}{
		{[]string{"-log", "not a key"}, "-log serve"},
		{[]string{"-log", "a+1+x", "-log", "b+2+y"}, "-log serve"},
		{[]string{"-state", filepath.Join(dir, "w.db"), "-listen", "0.0.0.0:8444"}, "-listen, -state serve"},
		{[]string{"-tls-cert", "w.pem", "-tls-key", "w.pem.key", "-log-format", "text", "-log-level", "debug"}, "-log-format, -log-level, -tls-cert, -tls-key serve"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), slices.Concat(base, tt.extra), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "witness: -print-key prints the verifier key of -key and exits; "+tt.want+" and cannot be given with it") {
			t.Errorf("liaison witness -print-key %s: %v (printed %q); want refused: %s", strings.Join(tt.extra, " "), err, out.String(), tt.want)
		}
		if _, err := os.Stat(key); !os.IsNotExist(err) {
			t.Fatalf("liaison witness -print-key %s was refused but made the key file (%v)", strings.Join(tt.extra, " "), err)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), base, &out, &out); err != nil || !strings.HasPrefix(out.String(), "witness.dpa.example/w1+") {
		t.Errorf("liaison witness -print-key -key -name: %v, printed %q; want the verifier key", err, out.String())
	}
}
