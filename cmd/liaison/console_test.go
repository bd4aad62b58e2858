package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

var loginLink = regexp.MustCompile(`(https?://\S+/login\?code=\S+)`)

// consoleArgs are the flags of `liaison console` for the audit stack's
// auditor, with the token in a file.
func (s *auditStack) consoleArgs(t *testing.T, tokenFile string, extra ...string) []string {
	t.Helper()
	return append([]string{"console", "-gateway", s.d.gw.Addr,
		"-cert", s.d.pki.Path("agencies", "dk-prison-east.pem"), "-key", s.d.pki.Path("agencies", "dk-prison-east.key"),
		"-ca", s.d.pki.Path("ca.pem"), "-token-file", tokenFile, "-verifier-key", s.d.gw.VerifierKey,
		"-state", filepath.Join(s.dir, "trusted")}, extra...)
}

// startConsoleCmd runs `liaison console` until the test ends and returns
// its first login link and a writer to its standard input.
func startConsoleCmd(t *testing.T, args []string) (link string, stdin io.Writer, out *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	inR, inW := io.Pipe()
	out = &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- runConsole(ctx, args[1:], inR, out, out) }()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		if err := <-done; err != nil {
			t.Errorf("liaison console: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := loginLink.FindStringSubmatch(out.String()); m != nil {
			return m[1], inW, out
		}
		select {
		case err := <-done:
			t.Fatalf("liaison console stopped: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("liaison console printed no login link:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func browse(t *testing.T, hc *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsoleCommand runs `liaison console` as an auditor would: the login
// link it prints opens a session on loopback; the pages act with the
// officer's token read from the token file on every call, so that a token
// without the auditor role gets nothing more; the trusted checkpoint is
// the one `liaison audit verify -state` keeps.
func TestConsoleCommand(t *testing.T) {
	s := startAuditStack(t, "")
	s.traffic(t)
	tokFile := filepath.Join(s.dir, "token.jwt")
	if err := os.WriteFile(tokFile, []byte(s.tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link, stdin, out := startConsoleCmd(t, s.consoleArgs(t, tokFile, "-listen", "127.0.0.1:0"))
	if !strings.HasPrefix(link, "http://127.0.0.1:") {
		t.Errorf("login link %q, want http on loopback", link)
	}
	if !strings.Contains(out.String(), "dpo.kristensen (auditor) of dk-prison-east") {
		t.Errorf("the console does not say whom it acts as:\n%s", out)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	code, page := browse(t, hc, link)
	if code != http.StatusOK || !strings.Contains(page, "The log is consistent with the checkpoint you trusted") {
		t.Fatalf("the login link leads to %d:\n%s", code, page)
	}
	if strings.Contains(page, s.tok) {
		t.Error("the overview shows the officer's token")
	}
	// The trusted state is shared with the command line.
	if out, err := s.audit(t, "verify"); err != nil || !strings.Contains(out, "consistent with the checkpoint trusted before") {
		t.Errorf("audit verify after the console: %v\n%s", err, out)
	}
	// Enter prints a new link; opening it ends the first session.
	if _, err := io.WriteString(stdin, "\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(loginLink.FindAllString(out.String(), -1)) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	links := loginLink.FindAllString(out.String(), -1)
	if len(links) < 2 || links[1] == link {
		t.Fatalf("Enter printed no new login link:\n%s", out)
	}
	jar2, _ := cookiejar.New(nil)
	hc2 := &http.Client{Jar: jar2}
	if code, _ := browse(t, hc2, links[1]); code != http.StatusOK {
		t.Errorf("the new link = %d", code)
	}
	u := strings.SplitN(link, "/login", 2)[0]
	if code, _ := browse(t, hc, u+"/"); code != http.StatusUnauthorized {
		t.Errorf("the first session after the new link = %d, want 401", code)
	}
	// The notices page reaches both lists on the command's connection.
	code, page = browse(t, hc2, u+"/notices")
	if code != http.StatusOK || strings.Contains(page, "Not available with this gateway") || strings.Contains(page, `class="alert"`) ||
		!strings.Contains(page, `id="required-`) || !strings.Contains(page, `id="obligations-`) {
		t.Errorf("the notices page = %d, want both lists read from the gateway:\n%s", code, page)
	}

	// A token without the auditor role, put in the file: the console has
	// no more authority than that.
	caseOfficer, err := s.d.pki.Issuers["dk-prison-east"].Mint(devpki.TokenSpec{Officer: "dpo.kristensen", Roles: []string{"case_officer"}, Audience: "liaison"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokFile, []byte(caseOfficer), 0o600); err != nil {
		t.Fatal(err)
	}
	code, page = browse(t, hc2, u+"/timeline")
	if code != http.StatusBadGateway || !strings.Contains(page, "The gateway refused") || !strings.Contains(page, "auditor role") {
		t.Errorf("the timeline with a case officer's token = %d, want the gateway's refusal naming the auditor role:\n%s", code, page)
	}
}

// TestConsoleListen: off loopback the console needs TLS, and then serves
// HTTPS with a Secure, __Host- cookie.
func TestConsoleListen(t *testing.T) {
	s := startAuditStack(t, "")
	tokFile := filepath.Join(s.dir, "token.jwt")
	if err := os.WriteFile(tokFile, []byte(s.tok), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "0.0.0.0:0"}, "is not a loopback address: serving the console elsewhere needs TLS"},
		{[]string{"-tls-cert", "x.pem"}, "-tls-cert and -tls-key go together"},
		{[]string{"-verifier-key", ""}, "-verifier-key is required"},
		{[]string{"-host", "console.test:8443"}, `-host "console.test:8443": give a host name or IP address alone`},
		{[]string{"-host", "https://console.test"}, "without port or scheme"},
	} {
		err := run(t.Context(), s.consoleArgs(t, tokFile, tt.args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("console %v = %v, want %q", tt.args, err, tt.want)
		}
	}

	cert, key := selfSigned(t, s.dir)
	link, _, _ := startConsoleCmd(t, s.consoleArgs(t, tokFile, "-listen", "0.0.0.0:0", "-tls-cert", cert, "-tls-key", key, "-host", "console.test"))
	if !strings.HasPrefix(link, "https://console.test:") {
		t.Fatalf("login link %q, want https on the host name", link)
	}
	link = strings.Replace(link, "console.test", "127.0.0.1", 1) // the certificate names both
	b, _ := os.ReadFile(cert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cs := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cs) != 1 || !cs[0].Secure || !strings.HasPrefix(cs[0].Name, "__Host-") {
		t.Errorf("login over TLS = %s with cookies %+v, want a Secure __Host- cookie", resp.Status, cs)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no HSTS header over TLS")
	}
}

// TestConsoleListenLoopback: on any loopback address -listen names (not
// only 127.0.0.1) the login link the console prints is for that address,
// and the console answers there.
func TestConsoleListenLoopback(t *testing.T) {
	s := startAuditStack(t, "")
	tokFile := filepath.Join(s.dir, "token.jwt")
	if err := os.WriteFile(tokFile, []byte(s.tok), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ listen, want string }{
		{"127.0.0.2:0", "http://127.0.0.2:"},
		{"[::1]:0", "http://[::1]:"},
	} {
		link, _, _ := startConsoleCmd(t, s.consoleArgs(t, tokFile, "-listen", tt.listen))
		if !strings.HasPrefix(link, tt.want) {
			t.Errorf("-listen %s: login link %q, want %s...", tt.listen, link, tt.want)
		}
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := hc.Get(link)
		if err != nil {
			t.Errorf("-listen %s: the login link: %v", tt.listen, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("-listen %s: the login link leads to %s, want the overview", tt.listen, resp.Status)
		}
	}
}

// selfSigned writes a certificate for console.test and 127.0.0.1.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "console.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"console.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "console.pem"), filepath.Join(dir, "console.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
