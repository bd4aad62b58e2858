package deploy_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// liaisonBin is the liaison binary built from this repository by TestMain.
var liaisonBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "liaison-deploy-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	liaisonBin = filepath.Join(dir, "liaison")
	build := exec.Command("go", "build", "-o", liaisonBin, "./cmd/liaison")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/liaison: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runLiaison runs the binary and returns its combined output and error.
func runLiaison(args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(liaisonBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// layout holds the files an operator provides, under a test root that
// stands for the container's or the host's /.
type layout struct {
	t    *testing.T
	root string
	pki  string // `liaison dev pki` output: gateway certificate, CA, registry
}

func newLayout(t *testing.T) *layout {
	root := t.TempDir()
	l := &layout{t: t, root: root, pki: filepath.Join(root, "pki")}
	if out, err := runLiaison("dev", "pki", "-out", l.pki); err != nil {
		t.Fatalf("liaison dev pki: %v\n%s", err, out)
	}
	return l
}

// path maps an absolute path of the deployment files into the test root.
func (l *layout) path(p string) string { return filepath.Join(l.root, filepath.FromSlash(p)) }

// copy copies a file of the development PKI to the absolute path dst.
func (l *layout) copy(src, dst string) {
	l.t.Helper()
	b, err := os.ReadFile(filepath.Join(l.pki, src))
	if err != nil {
		l.t.Fatal(err)
	}
	l.write(dst, b)
}

func (l *layout) write(dst string, b []byte) {
	l.t.Helper()
	p := l.path(dst)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		l.t.Fatal(err)
	}
}

// registry lays out the development registry and its JWKS files flat in
// dir, as a ConfigMap holds them (deploy/README.md).
func (l *layout) registry(dir, name string) {
	l.t.Helper()
	b, err := os.ReadFile(filepath.Join(l.pki, "registry.yaml"))
	if err != nil {
		l.t.Fatal(err)
	}
	l.write(dir+"/"+name, bytes.ReplaceAll(b, []byte("jwks_file: issuers/"), []byte("jwks_file: ")))
	jwks, _ := filepath.Glob(filepath.Join(l.pki, "issuers", "*.jwks.json"))
	if len(jwks) == 0 {
		l.t.Fatal("the development PKI has no JWKS files")
	}
	for _, f := range jwks {
		l.copy(filepath.Join("issuers", filepath.Base(f)), dir+"/"+filepath.Base(f))
	}
}

// crl makes a CA of its own and an empty CRL it signs, and returns the CA
// certificate and the CRL, both PEM: the operator's revocation list.
func (l *layout) crl() (caPEM, crlPEM []byte) {
	l.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		l.t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "revocation test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		l.t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(24 * time.Hour)}, ca, key)
	if err != nil {
		l.t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})
}

// policyBundle builds and signs a bundle of the repository's policies as
// the README says, and writes it and its verification key to the absolute
// paths given.
func (l *layout) policyBundle(bundle, key string) {
	l.t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		l.t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	signing := filepath.Join(l.root, "bundle-signing.pem")
	if err := os.WriteFile(signing, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		l.t.Fatal(err)
	}
	for _, p := range []string{bundle, key} {
		if err := os.MkdirAll(filepath.Dir(l.path(p)), 0o755); err != nil {
			l.t.Fatal(err)
		}
	}
	out, err := runLiaison("policy", "bundle", "-policies", filepath.Join("..", "policies"), "-out", l.path(bundle),
		"-signing-key", signing, "-public-key-out", l.path(key))
	if err != nil {
		l.t.Fatalf("liaison policy bundle: %v\n%s", err, out)
	}
	if fi, err := os.Stat(l.path(bundle)); err != nil || fi.Size() > 1<<20-64<<10 {
		l.t.Fatalf("the bundle does not fit a ConfigMap (1 MiB with its metadata): %v, %v", fi, err)
	}
}

// remap rewrites the absolute paths of a command line into the test root.
func (l *layout) remap(argv []string, prefixes ...string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		for _, p := range prefixes { // each ends in /
			a = strings.ReplaceAll(a, p, l.path(p)+"/")
		}
		out[i] = a
	}
	return out
}

// handedPorts holds the addresses freeAddr returned (or tried).
var handedPorts sync.Map

func freeAddr(t *testing.T) string {
	t.Helper()
	// Not port 0: that lies in the ephemeral range, where any outgoing
	// connection may take it before the process listens (the main
	// module's gateway/loopback explains; this module does not import it).
	for range 200 {
		a := net.JoinHostPort("127.0.0.1", strconv.Itoa(10000+mrand.IntN(22000)))
		if _, taken := handedPorts.LoadOrStore(a, true); taken {
			continue
		}
		ln, err := net.Listen("tcp", a)
		if err == nil {
			ln.Close()
			return a
		}
	}
	t.Fatal("no free loopback port below 32000")
	return ""
}

// replaceFlag sets the value of -name (given as -name=v or -name v).
func replaceFlag(argv []string, name, val string) []string {
	out := []string{}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-"+name && i+1 < len(argv):
			out = append(out, a, val)
			i++
		case strings.HasPrefix(a, "-"+name+"="):
			out = append(out, "-"+name+"="+val)
		default:
			out = append(out, a)
		}
	}
	return out
}

// serve starts `liaison <argv>` in dir with env and returns a function
// reporting its log and a channel closed when it exits; the process is
// stopped when the test ends.
func serve(t *testing.T, dir string, env []string, argv []string) (logs func() string, exited <-chan struct{}) {
	t.Helper()
	var out lockedBuffer
	cmd := exec.Command(liaisonBin, argv...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return out.String, done
}

// waitProbe runs probe (a `liaison health ...` command line) until it
// exits 0, and fails the test if the gateway exits or 3 minutes pass.
func waitProbe(t *testing.T, probe []string, logs func() string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, err := runLiaison(probe...)
		if err == nil {
			if !strings.Contains(out, "SERVING") {
				t.Fatalf("%q exited 0 saying %q", probe, out)
			}
			return
		}
		select {
		case <-exited:
			t.Fatalf("the gateway exited:\n%s", logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q still fails: %v, %s\ngateway log:\n%s", probe, err, out, logs())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// baseEnv is the test's environment without Vault.
func baseEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "VAULT_") {
			env = append(env, e)
		}
	}
	return env
}

// The image's default command starts, given the mounts its comment and
// deploy/README.md name, and the probe command says it serves.
func TestImageDefaultCommandStarts(t *testing.T) {
	t.Parallel()
	ins := dockerfile(t)
	var cmd []string
	if err := json.Unmarshal([]byte(ins["CMD"]), &cmd); err != nil {
		t.Fatalf("CMD %q: want the exec form: %v", ins["CMD"], err)
	}
	if ins["WORKDIR"] != "/var/lib/liaison" {
		t.Errorf("WORKDIR %q, want the state directory /var/lib/liaison", ins["WORKDIR"])
	}
	l := newLayout(t)
	l.copy("gateway.pem", "/etc/liaison/tls/gateway.pem")
	l.copy("gateway.key", "/etc/liaison/tls/gateway.key")
	l.copy("ca.pem", "/etc/liaison/tls/agencies-ca.pem")
	l.registry("/etc/liaison/registry", "registry.yaml")
	state := l.path("/var/lib/liaison")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	argv := replaceFlag(l.remap(cmd, "/etc/liaison/", "/var/lib/liaison/"), "listen", addr)
	logs, exited := serve(t, state, baseEnv(), argv)
	waitProbe(t, []string{"health", "-addr", addr, "-ca", filepath.Join(l.pki, "ca.pem")}, logs, exited)
	for _, f := range []string{"audit.db", "audit-signer.key"} {
		if _, err := os.Stat(filepath.Join(state, f)); err != nil {
			t.Errorf("the default command keeps no %s in the state directory: %v", f, err)
		}
	}
}

// The Deployment's container starts as the manifest configures it, with
// the files its volumes are documented to hold (deploy/README.md), Vault
// for the keys and the checkpoint signer, and the signed bundle; its
// readiness and liveness probe commands then exit 0. What only a cluster
// has is replaced: Kubernetes auth by a token, the port, the database URL
// (a SQLite file for the PostgreSQL secret) and a Transit mount of the
// test's own.
func TestDeploymentStarts(t *testing.T) {
	t.Parallel()
	vaultAddr, token := os.Getenv("LIAISON_TEST_VAULT_ADDR"), os.Getenv("LIAISON_TEST_VAULT_TOKEN")
	if vaultAddr == "" || token == "" {
		t.Skip("LIAISON_TEST_VAULT_ADDR not set; `make test` starts Vault")
	}
	_, c := deployment(t)
	l := newLayout(t)
	// Secret liaison-tls.
	l.copy("gateway.pem", "/etc/liaison/tls/gateway.pem")
	l.copy("gateway.key", "/etc/liaison/tls/gateway.key")
	l.copy("ca.pem", "/etc/liaison/tls/gateway-ca.pem")
	l.copy("ca.pem", "/etc/liaison/tls/vault-ca.pem") // any CA: this Vault speaks plain HTTP
	agencies, _ := os.ReadFile(filepath.Join(l.pki, "ca.pem"))
	crlCA, crl := l.crl()
	l.write("/etc/liaison/tls/agencies-ca.pem", append(agencies, crlCA...))
	l.write("/etc/liaison/tls/agencies-ca.crl", crl)
	// ConfigMaps liaison-registry, liaison-policy and liaison-policy-key.
	l.registry("/etc/liaison/registry", "registry.yaml")
	l.policyBundle("/etc/liaison/policy/policies.tar.gz", "/etc/liaison/policy-key/liaison.pem")

	// The database the secret names: here a SQLite file for PostgreSQL.
	db := filepath.Join(t.TempDir(), "audit.db")
	mount := "transit-deploy-" + strings.ToLower(rand.Text()[:8])
	environ := append(baseEnv(), "VAULT_ADDR="+vaultAddr, "VAULT_TOKEN="+token,
		"VAULT_CACERT="+l.path(env(c, "VAULT_CACERT")), "LIAISON_AUDIT_DB="+db)
	if out, err := runInEnv(environ, "keys", "init", "-vault-mount", mount); err != nil {
		t.Fatalf("liaison keys init: %v\n%s", err, out)
	}
	// The gateway runs with the Vault policy deploy/README.md gives it, and
	// no more: the checkpoint key made beforehand, as step 1 says.
	vaultCall(t, vaultAddr, token, http.MethodPost, mount+"/keys/liaison-checkpoints", map[string]any{"type": "ed25519"})
	environ = append(environ, "VAULT_TOKEN="+documentedPolicyToken(t, vaultAddr, token, mount))
	addr := freeAddr(t)
	argv := l.remap(c.Args, "/etc/liaison/")
	argv = replaceFlag(argv, "listen", addr)
	argv = replaceFlag(argv, "vault-auth", "token")
	argv = replaceFlag(argv, "audit-db", db)
	adminAddr := freeAddr(t)
	argv = replaceFlag(argv, "admin-listen", adminAddr)
	// A checkpoint record of its own: the Vault the tests share keeps
	// every run's, and a fresh database under an older record is refused.
	argv = append(argv, "-vault-mount="+mount, "-audit-vault-state=secret/"+mount)
	logs, exited := serve(t, l.root, environ, dropFlag(argv, "vault-k8s-role"))
	for _, p := range []string{"readinessProbe", "livenessProbe"} {
		probe := c.ReadinessProbe.Exec.Command
		if p == "livenessProbe" {
			probe = c.LivenessProbe.Exec.Command
		}
		probe = l.remap(probe[1:], "/etc/liaison/")
		probe = replaceFlag(replaceFlag(probe, "addr", addr), "server-name", "localhost")
		waitProbe(t, probe, logs, exited)
	}
	for _, want := range []string{"checkpoints are signed in Vault", "pseudonym keys come from Vault", "policies.tar.gz"} {
		if !strings.Contains(logs(), want) {
			t.Errorf("the gateway's log does not say %q:\n%s", want, logs())
		}
	}
	// Prometheus's scrape of the admin listener, as the manifest opens it.
	resp, err := http.Get("http://" + adminAddr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", adminAddr, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d %v", adminAddr, resp.StatusCode, err)
	}
	for _, want := range []string{"liaison_policy_info{", "liaison_audit_tree_size ", "liaison_pseudonym_keys_stale "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the scrape has no %q:\n%.2000s", want, body)
		}
	}
	// With the documented Vault policy, the checkpoints are signed (and
	// recorded): the start's entry is soon covered by one.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(string(body), "\nliaison_audit_unsigned_entries 0\n"); {
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint signed with the Vault policy of deploy/README.md:\n%s\ngateway log:\n%s", grepLines(string(body), "liaison_audit_"), logs())
		}
		time.Sleep(500 * time.Millisecond)
		resp, err := http.Get("http://" + adminAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	// The admin port is open to the monitoring namespace, and the
	// command line holds the database URL the kubelet expanded (here the
	// SQLite file standing for it): pprof's cmdline must not show it.
	resp, err = http.Get("http://" + adminAddr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), db) {
		t.Errorf("GET /debug/pprof/cmdline on the admin listener: %s, %q; want 404 without the -audit-db URL", resp.Status, body)
	}
}

func runInEnv(env []string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(liaisonBin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &out
	err := cmd.Run()
	return out.String(), err
}

func dropFlag(argv []string, name string) []string {
	var out []string
	for _, a := range argv {
		if a != "-"+name && !strings.HasPrefix(a, "-"+name+"=") {
			out = append(out, a)
		}
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe for a process's output and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// documentedPolicyToken writes the Vault policy of deploy/README.md, its
// Transit mount and checkpoint record moved to the test's own (mount), and
// returns a token that holds it and Vault's default policy only.
func documentedPolicyToken(t *testing.T, addr, root, mount string) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, hcl, ok := strings.Cut(string(b), "```hcl\n")
	hcl, _, ok2 := strings.Cut(hcl, "```")
	if !ok || !ok2 || !strings.Contains(hcl, `path "transit/`) {
		t.Fatal("deploy/README.md has no hcl block with the gateway's Vault policy")
	}
	hcl = strings.ReplaceAll(hcl, `path "transit/`, `path "`+mount+`/`)
	hcl = strings.ReplaceAll(hcl, `path "secret/data/liaison-checkpoints"`, `path "secret/data/`+mount+`"`)
	vaultCall(t, addr, root, http.MethodPut, "sys/policies/acl/"+mount, map[string]any{"policy": hcl})
	t.Cleanup(func() { vaultCall(t, addr, root, http.MethodDelete, "sys/policies/acl/"+mount, nil) })
	var tok struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(vaultCall(t, addr, root, http.MethodPost, "auth/token/create", map[string]any{"policies": []string{mount}, "ttl": "1h"}), &tok); err != nil || tok.Auth.ClientToken == "" {
		t.Fatalf("token create: %v", err)
	}
	return tok.Auth.ClientToken
}

// vaultCall makes one call to Vault's HTTP API and returns its body.
func vaultCall(t *testing.T, addr, token, method, path string, body any) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(addr, "/")+"/v1/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("vault %s %s: %s %s", method, path, resp.Status, out)
	}
	return out
}

// grepLines returns the lines of s that contain substr.
func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
