package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unit parses a systemd unit file: section.key to its values, in order,
// with continuation lines joined.
func unit(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := map[string][]string{}
	section, pending := "", ""
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";")) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending += cont + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not key=value: %q", path, line)
		}
		u[section+"."+k] = append(u[section+"."+k], v)
	}
	return u
}

// The unit creates its state directory and keeps every file it writes
// there, under ProtectSystem=strict; its command line is one that
// `liaison serve` accepts, and it starts.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	const path = "systemd/liaison.service"
	u := unit(t, path)
	one := func(k string) string {
		if v := u[k]; len(v) == 1 {
			return v[0]
		}
		t.Errorf("%s: %s given %d times, want once", path, k, len(u[k]))
		return ""
	}
	if got := one("Service.StateDirectory"); got != "liaison" {
		t.Errorf("StateDirectory=%q, want liaison", got)
	}
	if got := one("Service.ProtectSystem"); got != "strict" {
		t.Errorf("ProtectSystem=%q, want strict", got)
	}
	if got := one("Service.WorkingDirectory"); got != "/var/lib/liaison" {
		t.Errorf("WorkingDirectory=%q, want the state directory (the local key file lands there)", got)
	}
	for _, k := range []string{"Service.ReadWritePaths", "Service.DynamicUser"} {
		if v, ok := u[k]; ok {
			t.Errorf("%s=%v: the state directory is the only writable place", k, v)
		}
	}
	argv := strings.Fields(one("Service.ExecStart"))
	if len(argv) < 2 || argv[0] != "/usr/local/bin/liaison" {
		t.Fatalf("ExecStart %q does not run /usr/local/bin/liaison", argv)
	}
	flags := parseArgs(t, argv[1:], "serve")
	for _, f := range []string{"audit-db", "audit-key"} {
		if !strings.HasPrefix(flags.get(f), "/var/lib/liaison/") {
			t.Errorf("-%s %q is not in the state directory", f, flags.get(f))
		}
	}
	for _, p := range flags.paths() {
		if !strings.HasPrefix(p, "/var/lib/liaison/") && !strings.HasPrefix(p, "/etc/liaison/") {
			t.Errorf("%s is neither configuration (/etc/liaison) nor state (/var/lib/liaison)", p)
		}
	}
	if flags.get("policy-bundle") == "" || filepath.Base(flags.get("policy-bundle-key")) != "liaison.pem" {
		t.Error("the unit does not load a signed bundle with its key liaison.pem")
	}

	// systemd's own check, where systemd is installed: no unknown keys or
	// bad values (the binary is ours, built for the test).
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		b, _ := os.ReadFile(path)
		tmp := filepath.Join(t.TempDir(), "liaison.service")
		if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/liaison", liaisonBin)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "verify", tmp).CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	} else {
		t.Log("systemd-analyze not installed; the unit's keys are checked by this test only")
	}

	// Start it as systemd would: in the state directory, without Vault
	// (the local key file then lands in the state directory).
	l := newLayout(t)
	l.copy("gateway.pem", "/etc/liaison/tls/gateway.pem")
	l.copy("gateway.key", "/etc/liaison/tls/gateway.key")
	agencies, _ := os.ReadFile(filepath.Join(l.pki, "ca.pem"))
	crlCA, crl := l.crl()
	l.write("/etc/liaison/tls/agencies-ca.pem", append(agencies, crlCA...))
	l.write("/etc/liaison/tls/agencies-ca.crl", crl)
	l.registry("/etc/liaison", "registry.yaml")
	l.policyBundle("/etc/liaison/policy/policies.tar.gz", "/etc/liaison/policy/liaison.pem")
	state := l.path("/var/lib/liaison")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := replaceFlag(l.remap(argv[1:], "/etc/liaison/", "/var/lib/liaison/"), "listen", addr)
	logs, exited := serve(t, state, baseEnv(), cmd)
	waitProbe(t, []string{"health", "-addr", addr, "-ca", filepath.Join(l.pki, "ca.pem")}, logs, exited)
	for _, f := range []string{"audit.db", "audit-signer.key", "pseudonym-keys.json"} {
		if _, err := os.Stat(filepath.Join(state, f)); err != nil {
			t.Errorf("%s is not in the state directory: %v", f, err)
		}
	}
}
