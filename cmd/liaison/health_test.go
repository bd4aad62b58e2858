package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
)

// TestHealthProbe runs the probe command, the built binary as a Kubernetes
// exec probe runs it, against a gateway on real TLS: exit 0 while it
// serves, non-zero once its audit store is gone (but 0 with -live), and
// non-zero when the certificate does not verify or nothing listens.
func TestHealthProbe(t *testing.T) {
	bin := buildLiaison(t)
	dir := t.TempDir()
	pki, err := sample.WritePKI(filepath.Join(dir, "pki"), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := startGateway(t.Context(), gatewayOptions{
		Listen: "127.0.0.1:0", Registry: pki.Registry,
		TLSCert: pki.Path("gateway.pem"), TLSKey: pki.Path("gateway.key"), ClientCAs: []string{pki.Path("ca.pem")},
		AuditDB: filepath.Join(dir, "audit.db"), AuditKey: filepath.Join(dir, "audit-signer.key"), AuditName: "test.liaison",
		Keys: filepath.Join(dir, "keys.json"), Audience: "liaison", Engine: embeddedEngine(t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HealthInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			gw.Stop()
		}
	})
	// probe runs `liaison health` and returns its output and exit code.
	probe := func(args ...string) (string, int) {
		t.Helper()
		var out bytes.Buffer
		cmd := exec.Command(bin, append([]string{"health"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return out.String(), 0
		case errors.As(err, &exit):
			return out.String(), exit.ExitCode()
		}
		t.Fatalf("liaison health: %v", err)
		return "", 0
	}
	ca := pki.Path("ca.pem")
	for _, args := range [][]string{
		{"-addr", gw.Addr, "-ca", ca},
		{"-addr", gw.Addr, "-ca", ca, "-service", "liaison.v1.Exchange"},
		{"-addr", gw.Addr, "-ca", ca, "-server-name", "localhost"},
		{"-addr", gw.Addr, "-ca", ca, "-cert", pki.Path("agencies", "dk-prison-east.pem"), "-key", pki.Path("agencies", "dk-prison-east.key")},
	} {
		if out, code := probe(args...); code != 0 || !strings.Contains(out, "SERVING") {
			t.Errorf("liaison health %s = exit %d, %q; want exit 0, SERVING", strings.Join(args, " "), code, out)
		}
	}

	other, err := devpki.NewAuthority("other.example")
	if err != nil {
		t.Fatal(err)
	}
	otherCA := filepath.Join(dir, "other-ca.pem")
	if err := devpki.WriteFile(dir, "other-ca.pem", other.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-addr", gw.Addr, "-ca", otherCA},                                  // the gateway's certificate does not verify
		{"-addr", gw.Addr, "-ca", ca, "-server-name", "gateway.example"},    // nor carry that name
		{"-addr", gw.Addr, "-ca", ca, "-service", "liaison.v1.Nonexistent"}, // NOT_FOUND
	} {
		if out, code := probe(args...); code == 0 {
			t.Errorf("liaison health %s = exit 0, %q; want a failure", strings.Join(args, " "), out)
		}
	}

	gw.store.Close() // the audit store goes away under the gateway
	var out string
	var code int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if out, code = probe("-addr", gw.Addr, "-ca", ca); code != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("liaison health still exits 0 with the audit store closed: %q", out)
		}
	}
	if !strings.Contains(out, "gateway NOT_SERVING") {
		t.Errorf("liaison health with the store closed printed %q; want gateway NOT_SERVING", out)
	}
	if out, code := probe("-addr", gw.Addr, "-ca", ca, "-live"); code != 0 || !strings.Contains(out, "NOT_SERVING") {
		t.Errorf("liaison health -live = exit %d, %q; want exit 0 and the status", code, out)
	}

	gw.Stop()
	stopped = true
	if out, code := probe("-addr", gw.Addr, "-ca", ca, "-live", "-timeout", "2s"); code == 0 {
		t.Errorf("liaison health -live against a stopped gateway = exit 0, %q", out)
	}
}

func TestHealthUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"health", "-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("health -h: %v", err)
	}
	for _, want := range []string{"Usage: liaison health", "-addr", "-ca", "-server-name", "-cert", "-service", "-timeout", "-live", "NOT_SERVING"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("health -h does not mention %s:\n%s", want, stderr.String())
		}
	}
	if err := run(t.Context(), []string{"health", "-addr", "127.0.0.1:1", "-cert", "x.pem"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "-cert and -key together") {
		t.Errorf("health -cert without -key: %v", err)
	}
}
