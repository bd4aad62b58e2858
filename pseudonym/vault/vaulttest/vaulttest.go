// Package vaulttest gives tests a real Vault: the dev server that the test
// command starts (LIAISON_TEST_VAULT_ADDR, LIAISON_TEST_VAULT_TOKEN), or a
// server of the test's own, with file storage, that it can stop and start
// again (LIAISON_TEST_VAULT_BIN). Without them, tests skip and say how to
// run them.
package vaulttest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/loopback"

	"github.com/hashicorp/vault/api"
)

const howToRun = "`make test` starts Vault; or: bash -c '. .ci/vault.sh; start_vault; go test ./...'"

// Dev returns a client of the shared dev server with its root token, or
// skips the test.
func Dev(tb testing.TB) *api.Client {
	tb.Helper()
	addr, token := os.Getenv("LIAISON_TEST_VAULT_ADDR"), os.Getenv("LIAISON_TEST_VAULT_TOKEN")
	if addr == "" || token == "" {
		tb.Skip("LIAISON_TEST_VAULT_ADDR not set; skipping the Vault tests. " + howToRun)
	}
	return client(tb, addr, token)
}

func client(tb testing.TB, addr, token string) *api.Client {
	tb.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	cfg.Timeout = 5 * time.Second
	c, err := api.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// Name returns a key or mount name unique to this test.
func Name(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:10])
}

// A Counter counts the HTTP requests a client makes to Vault.
type Counter struct {
	n    atomic.Int64
	next http.RoundTripper
}

// RoundTrip counts and forwards.
func (c *Counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// Count returns the requests made so far.
func (c *Counter) Count() int64 { return c.n.Load() }

// Counted returns a client of the same server and token as c whose HTTP
// requests are counted.
func Counted(tb testing.TB, c *api.Client) (*api.Client, *Counter) {
	tb.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = c.Address()
	cfg.MaxRetries = 0
	ctr := &Counter{next: cfg.HttpClient.Transport}
	if ctr.next == nil {
		ctr.next = http.DefaultTransport
	}
	cfg.HttpClient.Transport = ctr
	cc, err := api.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	cc.SetToken(c.Token())
	return cc, ctr
}

// A Server is a Vault server of one test, with file storage, so that it
// keeps its keys when stopped and started again.
type Server struct {
	tb        testing.TB
	bin, dir  string
	Addr      string
	RootToken string
	unsealKey string
	cmd       *exec.Cmd
}

// Start starts a new server (init and unseal included), or skips.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := os.Getenv("LIAISON_TEST_VAULT_BIN")
	if bin == "" {
		tb.Skip("LIAISON_TEST_VAULT_BIN not set; skipping the Vault outage tests. " + howToRun)
	}
	dir := tb.TempDir()
	addr, err := loopback.Addr() // restarted on this port: see package loopback
	if err != nil {
		tb.Fatal(err)
	}
	cfg := fmt.Sprintf(`storage "file" { path = %q }
listener "tcp" {
  address = %q
  tls_disable = true
}
disable_mlock = true
api_addr = "http://%s"
`, filepath.Join(dir, "data"), addr, addr)
	if err := os.WriteFile(filepath.Join(dir, "vault.hcl"), []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, bin: bin, dir: dir, Addr: "http://" + addr}
	s.Resume()
	tb.Cleanup(s.Stop)
	c := client(tb, s.Addr, "")
	init, err := c.Sys().InitWithContext(tb.Context(), &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		tb.Fatalf("vault init: %v", err)
	}
	s.RootToken, s.unsealKey = init.RootToken, init.Keys[0]
	s.unseal()
	return s
}

// Client returns a root client of the server.
func (s *Server) Client() *api.Client { return client(s.tb, s.Addr, s.RootToken) }

// Interrupt tells the server to stop and returns at once: it seals and
// stops answering within milliseconds, but takes half a second or more
// to exit, which Stop waits for. A test that must act while keys are
// fresh acts between the two.
func (s *Server) Interrupt() {
	if s.cmd != nil {
		s.cmd.Process.Signal(os.Interrupt)
	}
}

// Stop stops the server (SIGINT) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Resume starts the server again on its storage and unseals it.
func (s *Server) Resume() {
	s.tb.Helper()
	log, err := os.OpenFile(filepath.Join(s.dir, "vault.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.cmd = exec.Command(s.bin, "server", "-config", filepath.Join(s.dir, "vault.hcl"))
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	c := client(s.tb, s.Addr, "")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := c.Sys().SealStatusWithContext(context.Background()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(s.dir, "vault.log"))
			s.tb.Fatalf("vault did not start:\n%s", b)
		}
	}
	if s.unsealKey != "" {
		s.unseal()
	}
}

func (s *Server) unseal() {
	s.tb.Helper()
	c := client(s.tb, s.Addr, "")
	st, err := c.Sys().UnsealWithContext(context.Background(), s.unsealKey)
	if err != nil || st.Sealed {
		s.tb.Fatalf("vault unseal: %v", err)
	}
}
