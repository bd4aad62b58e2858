package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
)

// TestSharedSecretFilesWarned: a gateway whose TLS private key, peer
// assertion key or Vault AppRole secret id file its group or others may
// read logs a warning naming the flag, the file and its mode; files
// readable by their owner only log none. They were read whatever their
// mode, silently.
func TestSharedSecretFilesWarned(t *testing.T) {
	dir := t.TempDir()
	pki, err := sample.WritePKI(filepath.Join(dir, "pki"), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := devpki.NewIssuer("https://gateway.nl.test", "p1")
	if err != nil {
		t.Fatal(err)
	}
	peerKey, err := iss.MarshalIssuerKey()
	if err != nil {
		t.Fatal(err)
	}
	peerKeyFile, secretIDFile := filepath.Join(dir, "peer.key"), filepath.Join(dir, "secret-id")
	if err := os.WriteFile(peerKeyFile, peerKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secretIDFile, []byte("not-a-real-secret-id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	start := func() string {
		var logs bytes.Buffer
		gw, err := startGateway(t.Context(), gatewayOptions{
			Listen: taken.Addr().String(), Registry: pki.Registry,
			TLSCert: pki.Path("gateway.pem"), TLSKey: pki.Path("gateway.key"), ClientCAs: []string{pki.Path("ca.pem")},
			AuditDB: filepath.Join(dir, "audit.db"), AuditKey: filepath.Join(dir, "audit-signer.key"), AuditName: "test.liaison",
			Keys: filepath.Join(dir, "keys.json"), Audience: "liaison", Engine: embeddedEngine(t),
			Federation: &federationOptions{Key: peerKeyFile, Issuer: iss.Name, Kid: "p1"},
			// Not a Vault login: the key source fails to start, after
			// the files are checked.
			KeyOptions: &keyOptions{VaultAddr: "http://127.0.0.1:1", VaultAuth: "approle", RoleID: "r", SecretIDFile: secretIDFile, Getenv: func(string) string { return "" }},
			Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
		})
		if err == nil {
			gw.Stop()
			t.Fatal("startGateway succeeded; want it to fail (the listen address is taken, Vault is not there)")
		}
		return logs.String()
	}
	if logs := start(); strings.Contains(logs, "secret file") {
		t.Errorf("owner-only files were warned of:\n%s", logs)
	}
	for _, f := range []string{pki.Path("gateway.key"), peerKeyFile, secretIDFile} {
		if err := os.Chmod(f, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	logs := start()
	for _, flag := range []string{"-tls-key", "-peer-key", "-vault-secret-id-file"} {
		if !strings.Contains(logs, "flag="+flag+" ") || !strings.Contains(logs, "mode=0640") {
			t.Errorf("no warning of %s at mode 0640:\n%s", flag, logs)
		}
	}
	if strings.Contains(logs, "not-a-real-secret-id") {
		t.Errorf("the log holds the secret id:\n%s", logs)
	}
}

// TestClientSecretFilesWarned: the client commands (audit, case, console,
// health) warn on stderr, as serve logs it, when their -key file or the
// -token-file their token is read from may be read or written by its
// group or others (console's -tls-key too); owner-only files draw no
// warning, and the warning never holds the token. They read both whatever
// their mode, silently.
func TestClientSecretFilesWarned(t *testing.T) {
	dir := t.TempDir()
	pki, err := sample.WritePKI(filepath.Join(dir, "pki"), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	const agency = "nl-police-rotterdam"
	cert, key := pki.Path("agencies", agency+".pem"), pki.Path("agencies", agency+".key")
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("not-a-real-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, vkey, err := audit.LoadOrCreateSignerKey(filepath.Join(dir, "audit-signer.key"), "test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	nobody := "127.0.0.1:1" // no gateway: the commands fail after reading the files
	conn := []string{"-gateway", nobody, "-cert", cert, "-key", key, "-ca", pki.Path("ca.pem"), "-token-file", tokenFile}
	commands := []struct {
		args  []string
		flags []string // warned of at mode 0640
	}{
		{append([]string{"audit", "query"}, conn...), []string{"-key", "-token-file"}},
		{append([]string{"case", "list"}, conn...), []string{"-key", "-token-file"}},
		{append([]string{"console", "-listen", taken.Addr().String(), "-verifier-key", vkey, "-state", filepath.Join(dir, "trusted"),
			"-tls-cert", pki.Path("gateway.pem"), "-tls-key", pki.Path("gateway.key")}, conn...), []string{"-key", "-token-file", "-tls-key"}},
		{[]string{"health", "-addr", nobody, "-ca", pki.Path("ca.pem"), "-cert", cert, "-key", key, "-timeout", "1s"}, []string{"-key"}},
	}
	runAll := func() []string {
		var out []string
		for _, c := range commands {
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), c.args, &stdout, &stderr); err == nil {
				t.Fatalf("%s succeeded; want it to fail (there is no gateway)", strings.Join(c.args[:2], " "))
			}
			out = append(out, stderr.String())
		}
		return out
	}
	for i, logs := range runAll() {
		if strings.Contains(logs, "secret file") {
			t.Errorf("%s: owner-only files were warned of:\n%s", commands[i].args[0], logs)
		}
	}
	for _, f := range []string{key, tokenFile, pki.Path("gateway.key")} {
		if err := os.Chmod(f, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	for i, logs := range runAll() {
		for _, flag := range commands[i].flags {
			if !strings.Contains(logs, "a secret file may be read or written by its group or others") ||
				!strings.Contains(logs, "flag="+flag+" ") || !strings.Contains(logs, "mode=0640") {
				t.Errorf("%s: no warning of %s at mode 0640:\n%s", commands[i].args[0], flag, logs)
			}
		}
		if strings.Contains(logs, "not-a-real-token") {
			t.Errorf("%s: stderr holds the token:\n%s", commands[i].args[0], logs)
		}
	}
}

// TestSharedSecretMode: a secret file is open beyond its process when
// others have any bit, or its group any but read; the group's read is
// not, when another user (root) owns the file and its group is the one
// the process runs as: a Kubernetes Secret volume's files with
// defaultMode 0440 and the pod's fsGroup its runAsGroup, which the
// gateway can read no other way (0400 with fsGroup becomes 0440; without
// fsGroup the files are root's alone). Every group-readable file was
// warned of, the Deployment's own.
func TestSharedSecretMode(t *testing.T) {
	const root, gw = 0, 65532
	for _, c := range []struct {
		name     string
		perm     os.FileMode
		uid, gid int
		want     bool
	}{
		{"owner only", 0o600, gw, gw, false},
		{"owner read only", 0o400, root, root, false},
		{"a Secret volume's file, fsGroup the gateway's group", 0o440, root, gw, false},
		{"a Secret volume's file, fsGroup another group", 0o440, root, 1000, true},
		{"its own file, group-readable", 0o640, gw, gw, true},
		{"group-writable", 0o460, root, gw, true},
		{"others may read", 0o444, root, gw, true},
		{"the kubelet's default mode", 0o644, root, root, true},
		{"owner unknown", 0o440, -1, gw, true},
	} {
		if got := sharedSecretMode(c.perm, c.uid, c.gid, gw, gw); got != c.want {
			t.Errorf("%s: sharedSecretMode(%04o, %d:%d) = %v, want %v", c.name, c.perm, c.uid, c.gid, got, c.want)
		}
	}
}
