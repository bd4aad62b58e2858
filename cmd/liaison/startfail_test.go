package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	"github.com/liaison-gateway/liaison/gateway/sample"
)

// TestFailedStartLeavesNoDecisionWorkers: a gateway whose start fails
// after its server was made (here: its listen address is taken) closes
// that server, whose decision workers, goroutines holding stacks of a
// quarter of a megabyte or more, would otherwise live on for every
// failed start in the process. Not parallel: it counts the workers of
// the whole process.
func TestFailedStartLeavesNoDecisionWorkers(t *testing.T) {
	dir := t.TempDir()
	pki, err := sample.WritePKI(filepath.Join(dir, "pki"), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	eng := embeddedEngine(t)
	before := decisionWorkers()
	gw, err := startGateway(t.Context(), gatewayOptions{
		Listen: taken.Addr().String(), Registry: pki.Registry,
		TLSCert: pki.Path("gateway.pem"), TLSKey: pki.Path("gateway.key"), ClientCAs: []string{pki.Path("ca.pem")},
		AuditDB: filepath.Join(dir, "audit.db"), AuditKey: filepath.Join(dir, "audit-signer.key"), AuditName: "test.liaison",
		Keys: filepath.Join(dir, "keys.json"), Audience: "liaison", Engine: eng,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err == nil {
		gw.Stop()
		t.Fatal("startGateway on a taken address succeeded; want an error")
	}
	var after int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if after = decisionWorkers(); after <= before || time.Now().After(deadline) {
			break
		}
	}
	if after > before {
		t.Errorf("%d decision workers after a failed start, %d before: the failed start's server was not closed", after, before)
	}
}

// decisionWorkers counts the goroutines of the process that serve
// gateways' decisions.
func decisionWorkers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("gateway.(*deepStacks).serve"))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestAdminTakenLeavesNoEntry: a gateway that cannot start because the
// -admin-listen address given is taken fails before it audits its start
// (a policy activation, by start) or runs any background work: the log
// holds no entry of a gateway that never served.
func TestAdminTakenLeavesNoEntry(t *testing.T) {
	dir := t.TempDir()
	pki, err := sample.WritePKI(filepath.Join(dir, "pki"), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	db := filepath.Join(dir, "audit.db")
	gw, err := startGateway(t.Context(), gatewayOptions{
		Listen: "127.0.0.1:0", Registry: pki.Registry,
		TLSCert: pki.Path("gateway.pem"), TLSKey: pki.Path("gateway.key"), ClientCAs: []string{pki.Path("ca.pem")},
		AuditDB: db, AuditKey: filepath.Join(dir, "audit-signer.key"), AuditName: "test.liaison",
		Keys: filepath.Join(dir, "keys.json"), Audience: "liaison", Engine: embeddedEngine(t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Admin:  &adminOptions{Listen: taken.Addr().String(), explicit: true},
	})
	if err == nil {
		gw.Stop()
		t.Fatal("startGateway with a taken -admin-listen succeeded; want an error")
	}
	store, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if n, err := store.Size(t.Context()); err != nil || n != 0 {
		t.Errorf("the log of a gateway that did not start holds %d entries (%v), want none", n, err)
	}
}
