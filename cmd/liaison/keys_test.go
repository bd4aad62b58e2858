package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
	"github.com/liaison-gateway/liaison/pseudonym/vault"
	"github.com/liaison-gateway/liaison/pseudonym/vault/vaulttest"
)

// keys runs `liaison keys <args>` and returns its stdout and stderr.
func keys(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(t.Context(), append([]string{"keys"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

// statusLine returns the status column of a version in `keys status`.
func statusLine(t *testing.T, out string, version int) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + fmt.Sprint(version) + `\s+\S+\s+(.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no line for version %d in:\n%s", version, out)
	}
	return m[1]
}

func ringOf(t *testing.T, src pseudonym.KeySource) (int, []int) {
	t.Helper()
	ring, err := src.Keys(t.Context())
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	var vs []int
	for v := range ring.Versions {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return ring.Current, vs
}

func TestKeysCommandsOnAFile(t *testing.T) {
	t.Setenv("VAULT_ADDR", "") // the local file, whatever the environment says
	path := filepath.Join(t.TempDir(), "keys.json")

	out, errOut, err := keys(t, "init", "-keys", path)
	if err != nil || !strings.Contains(out, "created key file") || !strings.Contains(errOut, "NOT FOR PRODUCTION") {
		t.Fatalf("keys init: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	first, _ := os.ReadFile(path)
	if out, _, err := keys(t, "init", "-keys", path); err != nil || !strings.Contains(out, "left unchanged") {
		t.Errorf("second keys init: %v\n%s", err, out)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(first, again) {
		t.Error("a second keys init changed the key file")
	}

	rotating := time.Now()
	for want := 2; want <= 3; want++ {
		out, _, err := keys(t, "rotate", "-keys", path)
		if err != nil || !strings.Contains(out, fmt.Sprintf("new key version %d\n", want)) {
			t.Fatalf("keys rotate: %v\n%s; want new key version %d", err, out, want)
		}
	}
	if cur, vs := ringOf(t, pseudonym.FileKeys{Path: path}); cur != 3 || !slices.Equal(vs, []int{1, 2, 3}) {
		t.Errorf("after two rotations: current %d, versions %v; want 3, [1 2 3]", cur, vs)
	}

	out, _, err = keys(t, "status", "-keys", path)
	if err != nil || !strings.Contains(out, "current version:   3") {
		t.Fatalf("keys status: %v\n%s", err, out)
	}
	if s := statusLine(t, out, 3); s != "current" {
		t.Errorf("version 3: %q, want current", s)
	}
	// The day 30 days after the rotations, which is one of two if midnight
	// (UTC) passed since they began.
	retires := func(at time.Time) string {
		return "live, retires " + at.UTC().Add(30*24*time.Hour).Format("2006-01-02")
	}
	for _, v := range []int{1, 2} {
		if s := statusLine(t, out, v); !strings.HasPrefix(s, retires(rotating)) && !strings.HasPrefix(s, retires(time.Now())) {
			t.Errorf("version %d: %q, want live and retiring in 30 days", v, s)
		}
	}
	// With a window already over, the old versions show as retired.
	out, _, _ = keys(t, "status", "-keys", path, "-transition-window", "1ns")
	for _, v := range []int{1, 2} {
		if s := statusLine(t, out, v); !strings.HasPrefix(s, "retired ") {
			t.Errorf("version %d with a 1ns window: %q, want retired", v, s)
		}
	}
}

func TestKeysCommandErrors(t *testing.T) {
	t.Setenv("VAULT_ADDR", "")
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "no subcommand"},
		{"unknown subcommand", []string{"drop"}, "unknown subcommand"},
		{"rotate a missing file", []string{"rotate", "-keys", filepath.Join(dir, "missing.json")}, "read key file"},
		{"two sources", []string{"status", "-keys", "k.json", "-vault-addr", "http://127.0.0.1:1"}, "choose one key source"},
		{"approle without ids", []string{"status", "-vault-addr", "http://127.0.0.1:1", "-vault-auth", "approle"}, "-vault-role-id"},
		{"vault auth without vault", []string{"status", "-vault-auth", "kubernetes", "-vault-k8s-role", "liaison"}, "no -vault-addr"},
		{"unknown auth", []string{"status", "-vault-addr", "http://127.0.0.1:1", "-vault-auth", "ldap"}, "want token, approle or kubernetes"},
		{"vault auth beside a key file", []string{"status", "-keys", "k.json", "-vault-auth", "approle"}, "choose one key source"},
		{"vault role beside a key file", []string{"status", "-keys", "k.json", "-vault-k8s-role", "liaison"}, "choose one key source"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := keys(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("keys %v: err = %v; want one saying %q", tt.args, err, tt.want)
			}
		})
	}
}

// vaultEnv points the key commands at the dev Vault with its root token
// and returns a client and a mount of this test's own.
func vaultEnv(t *testing.T) (*api.Client, string) {
	t.Helper()
	c := vaulttest.Dev(t) // skips, saying how to run, without a Vault
	t.Setenv("VAULT_ADDR", c.Address())
	t.Setenv("VAULT_TOKEN", c.Token())
	return c, vaulttest.Name("transit")
}

func TestKeysCommandsOnVault(t *testing.T) {
	c, mount := vaultEnv(t)
	out, _, err := keys(t, "init", "-vault-mount", mount)
	if err != nil || !strings.Contains(out, "Vault Transit keys ready") || !strings.Contains(out, "current version:   1") {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	if out, _, err := keys(t, "init", "-vault-mount", mount); err != nil || !strings.Contains(out, "current version:   1") {
		t.Errorf("second keys init (idempotent): %v\n%s", err, out)
	}
	// -vault-addr works as well as VAULT_ADDR.
	out, _, err = keys(t, "rotate", "-vault-mount", mount, "-vault-addr", c.Address())
	if err != nil || !strings.Contains(out, "new key version 2\n") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	out, _, err = keys(t, "status", "-vault-mount", mount, "-transition-window", "1h")
	if err != nil || !strings.Contains(out, "current version:   2") {
		t.Fatalf("keys status: %v\n%s", err, out)
	}
	if s := statusLine(t, out, 1); !strings.HasPrefix(s, "live, retires ") {
		t.Errorf("version 1 after rotation: %q, want live with a retirement time", s)
	}
	// The gateway's source agrees: both versions in the ring.
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	if cur, vs := ringOf(t, src); cur != 2 || !slices.Equal(vs, []int{1, 2}) {
		t.Errorf("Vault ring after keys rotate: current %d, versions %v; want 2, [1 2]", cur, vs)
	}
	// The audit key never rotates.
	sec, err := c.Logical().Read(mount + "/keys/liaison-audit")
	if err != nil || fmt.Sprint(sec.Data["latest_version"]) != "1" {
		t.Errorf("audit key after keys rotate: latest_version %v, %v; want 1", sec.Data["latest_version"], err)
	}
	if _, _, err := keys(t, "status", "-vault-mount", vaulttest.Name("nomount")); err == nil || !strings.Contains(err.Error(), "keys init") {
		t.Errorf("status of a missing key: err = %v, want advice to run keys init", err)
	}
}

func TestKeysCommandsWithAppRole(t *testing.T) {
	root, mount := vaultEnv(t)
	if _, _, err := keys(t, "init", "-vault-mount", mount); err != nil {
		t.Fatal(err)
	}
	authMount := vaulttest.Name("approle")
	if err := root.Sys().EnableAuthWithOptions(authMount, &api.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	pname := vaulttest.Name("liaison-keys")
	if err := root.Sys().PutPolicy(pname, fmt.Sprintf(`path "%[1]s/keys/*" { capabilities = ["read", "update"] }
path "%[1]s/hmac/*" { capabilities = ["update"] }`, mount)); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("auth/"+authMount+"/role/operator", map[string]any{"token_policies": []string{pname}}); err != nil {
		t.Fatal(err)
	}
	rid, err := root.Logical().Read("auth/" + authMount + "/role/operator/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := root.Logical().Write("auth/"+authMount+"/role/operator/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	sidFile := filepath.Join(t.TempDir(), "secret-id")
	os.WriteFile(sidFile, []byte(sid.Data["secret_id"].(string)+"\n"), 0o600)
	t.Setenv("VAULT_TOKEN", "") // AppRole only
	out, _, err := keys(t, "rotate", "-vault-mount", mount, "-vault-auth", "approle",
		"-vault-approle-mount", authMount, "-vault-role-id", rid.Data["role_id"].(string), "-vault-secret-id-file", sidFile)
	if err != nil || !strings.Contains(out, "new key version 2") {
		t.Fatalf("keys rotate with AppRole: %v\n%s", err, out)
	}
	os.WriteFile(sidFile, []byte("not-the-secret-id"), 0o600)
	if _, _, err := keys(t, "status", "-vault-mount", mount, "-vault-auth", "approle",
		"-vault-approle-mount", authMount, "-vault-role-id", rid.Data["role_id"].(string), "-vault-secret-id-file", sidFile); err == nil {
		t.Error("keys status with a wrong AppRole secret id succeeded")
	}
}

func TestKeySourceDefaultsToALocalFile(t *testing.T) {
	t.Setenv("VAULT_ADDR", "")
	t.Chdir(t.TempDir())
	var logs bytes.Buffer
	src, keepLogin, err := (&keyOptions{}).source(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(pseudonym.FileKeys); !ok || keepLogin != nil {
		t.Errorf("source = %T, run %v; want FileKeys and no login to keep", src, keepLogin != nil)
	}
	if _, err := os.Stat(defaultKeyFile); err != nil {
		t.Errorf("default key file not created: %v", err)
	}
	if !strings.Contains(logs.String(), "NOT FOR PRODUCTION") {
		t.Errorf("log does not announce the local file as not for production:\n%s", logs.String())
	}
}

// TestServeRotationEndToEnd runs the gateway on Vault keys as `liaison
// serve` configures them, rotates with `liaison keys rotate`, and checks
// that pseudonymised answers move to the new version at the next key
// refresh while the old pseudonym still resolves.
func TestServeRotationEndToEnd(t *testing.T) {
	c, mount := vaultEnv(t)
	if _, _, err := keys(t, "init", "-vault-mount", mount); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d := &demo{out: io.Discard}
	_, stop, err := d.startHolders(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	ko := &keyOptions{VaultMount: mount, VaultKey: "liaison-pseudonym", VaultAuditKey: "liaison-audit", VaultAuth: "token",
		TransitionWindow: time.Hour, Refresh: 100 * time.Millisecond, MaxStale: time.Minute}
	var logs bytes.Buffer
	gw, err := startGateway(t.Context(), gatewayOptions{
		Listen: "127.0.0.1:0", Registry: d.pki.Registry,
		TLSCert: d.pki.Path("gateway.pem"), TLSKey: d.pki.Path("gateway.key"), ClientCAs: []string{d.pki.Path("ca.pem")},
		AuditDB: filepath.Join(dir, "audit.db"), AuditKey: filepath.Join(dir, "audit-signer.key"), AuditName: "test.liaison",
		Audience: "liaison", KeyOptions: ko, Engine: embeddedEngine(t), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	d.gw = gw
	t.Cleanup(func() { gw.Stop() })
	if !strings.Contains(logs.String(), "pseudonym keys come from Vault") || strings.Contains(logs.String(), "NOT FOR PRODUCTION") {
		t.Errorf("gateway log does not say the keys come from Vault:\n%s", logs.String())
	}

	request := func() *liaisonv1.Released {
		t.Helper()
		conn, err := d.client("nl-police-rotterdam", "insp.de.vries", []string{"case_officer"}, "restricted")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		resp, err := liaisonv1.NewExchangeClient(conn).Request(t.Context(), &liaisonv1.RequestRequest{
			Holder: "nl-probation", SubjectId: "SYN-NL-0001",
			RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
			Justification: "Key rotation test.",
		})
		if err != nil {
			t.Fatalf("Request: %v", err)
		}
		return resp.GetReleased()
	}
	before := request()
	if !strings.HasPrefix(before.GetSubjectPseudonym(), "psn:1:") {
		t.Fatalf("pseudonym before rotation = %q, want version 1", before.GetSubjectPseudonym())
	}
	if out, _, err := keys(t, "rotate", "-vault-mount", mount); err != nil || !strings.Contains(out, "new key version 2") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	var after *liaisonv1.Released
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if after = request(); strings.HasPrefix(after.GetSubjectPseudonym(), "psn:2:") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pseudonym 10s after rotation = %q, want version 2", after.GetSubjectPseudonym())
		}
	}
	// The rotation is in the audit log, after the version the start found
	// (the log was empty: it records the state at start).
	recs, err := gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionKeyRotate})
	if err != nil || len(recs) != 2 {
		t.Fatalf("key rotation entries = %d (%v), want two: version 1 at start, then version 2", len(recs), err)
	}
	if d := recs[0].Entry.Detail; d["new_version"] != "1" || d["seen"] != "start" || d["versions"] != "1" || d["old_version"] != "" {
		t.Errorf("key_rotate entry at start: detail %v; want new_version 1, versions 1, seen start, no old_version", d)
	}
	if d := recs[1].Entry.Detail; d["old_version"] != "1" || d["new_version"] != "2" || d["versions"] != "1,2" || d["seen"] != "" {
		t.Errorf("key_rotate entry of the refresh: detail %v; want old_version 1, new_version 2, versions 1,2", d)
	}
	// Both versions resolve in the window, to the same subject.
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount, TransitionWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pseudonym.New(t.Context(), pseudonym.Config{Source: src, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []*liaisonv1.Released{before, after} {
		if id, err := p.Resolve(rel.GetPseudonymDomain(), rel.GetSubjectPseudonym()); err != nil || id != "SYN-NL-0001" {
			t.Errorf("Resolve(%q) = %v, %v; want the subject", rel.GetSubjectPseudonym(), id == "SYN-NL-0001", err)
		}
	}
	if recs, _ := gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionKeyRetire}); len(recs) != 0 {
		t.Errorf("key retirement entries in the transition window = %d, want none", len(recs))
	}

	// The operator retires version 1 early in Vault: the gateway's refresh
	// sees it leave the ring, and the audit log says so, once.
	if _, err := c.Logical().Write(mount+"/keys/liaison-pseudonym/config", map[string]any{"min_decryption_version": 2}); err != nil {
		t.Fatal(err)
	}
	var retired []audit.Record
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if retired, err = gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionKeyRetire}); err != nil || len(retired) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no key_retire entry 10s after version 1 was retired in Vault")
		}
	}
	time.Sleep(500 * time.Millisecond) // a few more refreshes: nothing more to record
	retired, err = gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionKeyRetire})
	if err != nil || len(retired) != 1 {
		t.Fatalf("key retirement entries = %d (%v), want one", len(retired), err)
	}
	if e := retired[0].Entry; e.Outcome != audit.OutcomeOK || e.Detail["retired_versions"] != "1" || e.Detail["current_version"] != "2" || e.Detail["versions"] != "2" {
		t.Errorf("key_retire entry: outcome %s, detail %v; want ok, retired_versions 1, current_version 2, versions 2", e.Outcome, e.Detail)
	}
	if recs, _ := gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionKeyRotate}); len(recs) != 2 {
		t.Errorf("key rotation entries after the retirement = %d, want still two", len(recs))
	}
	if recs, _ := gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionKeyRestore}); len(recs) != 0 {
		t.Errorf("key restoration entries before any version came back = %d, want none", len(recs))
	}

	// The operator lowers the minimum again: version 1, still in its
	// transition window, is back in the ring, and the audit log says so,
	// once. The gateway recorded nothing: version 1's pseudonyms resolved
	// again with no entry saying when.
	if _, err := c.Logical().Write(mount+"/keys/liaison-pseudonym/config", map[string]any{"min_decryption_version": 1}); err != nil {
		t.Fatal(err)
	}
	var restored []audit.Record
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if restored, err = gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionKeyRestore}); err != nil || len(restored) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no key_restore entry 10s after version 1 was restored in Vault")
		}
	}
	time.Sleep(500 * time.Millisecond) // a few more refreshes: nothing more to record
	restored, err = gw.Audit.Query(t.Context(), audit.Filter{Action: audit.ActionKeyRestore})
	if err != nil || len(restored) != 1 {
		t.Fatalf("key restoration entries = %d (%v), want one", len(restored), err)
	}
	if e := restored[0].Entry; e.Outcome != audit.OutcomeOK || e.Detail["restored_versions"] != "1" || e.Detail["current_version"] != "2" || e.Detail["versions"] != "1,2" {
		t.Errorf("key_restore entry: outcome %s, detail %v; want ok, restored_versions 1, current_version 2, versions 1,2", e.Outcome, e.Detail)
	}
	for a, n := range map[string]int{audit.ActionKeyRotate: 2, audit.ActionKeyRetire: 1} {
		if recs, _ := gw.Audit.Query(t.Context(), audit.Filter{Action: a}); len(recs) != n {
			t.Errorf("%s entries after the restoration = %d, want still %d", a, len(recs), n)
		}
	}
	// Audit.Query takes the action, as it takes its siblings.
	conn, err := d.client("dk-prison-east", "dpo.kristensen", []string{"auditor"}, "confidential")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := liaisonv1.NewAuditClient(conn).Query(t.Context(), &liaisonv1.QueryRequest{Action: audit.ActionKeyRestore}); err != nil {
		t.Errorf("Audit.Query(action key_restore) = %v; want it accepted", err)
	}
}

// In production both the pseudonym keys and the checkpoint key are in
// Vault: the checkpoints an auditor gets verify under the Transit key.
func TestServeWithCheckpointsSignedInVault(t *testing.T) {
	_, mount := vaultEnv(t)
	if _, _, err := keys(t, "init", "-vault-mount", mount); err != nil {
		t.Fatal(err)
	}
	s := startAuditStackWith(t, func(o *gatewayOptions) {
		o.KeyOptions = &keyOptions{VaultMount: mount, VaultKey: "liaison-pseudonym", VaultAuditKey: "liaison-audit", VaultAuth: "token",
			TransitionWindow: time.Hour}
		o.AuditSigner, o.AuditVaultKey = "vault", "liaison-checkpoints"
		o.AuditVaultState = "secret/" + vaulttest.Name("liaison-checkpoints")
	})
	s.traffic(t)
	out, err := s.audit(t, "verify", "-full")
	if err != nil || !strings.Contains(out, "OK: the log verifies") {
		t.Fatalf("verify with the Vault checkpoint key: %v\n%s", err, out)
	}
	if skey, _ := os.ReadFile(s.opts.AuditKey); len(skey) != 0 {
		t.Error("a checkpoint key file was written although Vault signs")
	}
	// The last checkpoint signed is kept in Vault: a rolled-back store is
	// refused at start, and the message names where the record is.
	s.restart(t)
	tamper(t, s.opts.AuditDB, "DELETE FROM inbox WHERE audit_idx >= 2", "DELETE FROM leaves WHERE idx >= 2",
		"DELETE FROM hashes WHERE idx >= 3", "DELETE FROM checkpoints WHERE size > 2")
	s.restartRefused(t, "audit store rolled back: the last signed checkpoint (in Vault "+s.opts.AuditVaultState+")")
}

// TestKeysStatusWithMinEncryptionVersion: versions below the Transit key's
// min_encryption_version are not in the gateway's ring (Vault computes no
// HMAC under them), and `keys status` says so rather than showing them
// live.
func TestKeysStatusWithMinEncryptionVersion(t *testing.T) {
	c, mount := vaultEnv(t)
	if _, _, err := keys(t, "init", "-vault-mount", mount); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := keys(t, "rotate", "-vault-mount", mount); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Logical().Write(mount+"/keys/liaison-pseudonym/config", map[string]any{"min_encryption_version": 2}); err != nil {
		t.Fatal(err)
	}
	out, _, err := keys(t, "status", "-vault-mount", mount)
	if err != nil {
		t.Fatalf("keys status: %v\n%s", err, out)
	}
	if regexp.MustCompile(`(?m)^1\s`).MatchString(out) || !strings.Contains(out, "versions below 2 are disabled in Vault (min_encryption_version)") {
		t.Errorf("keys status with min_encryption_version 2 shows version 1 or no note:\n%s", out)
	}
	if s := statusLine(t, out, 2); !strings.HasPrefix(s, "live, retires ") {
		t.Errorf("version 2: %q, want live", s)
	}
	src, err := vault.New(t.Context(), vault.Config{Client: c, Mount: mount})
	if err != nil {
		t.Fatal(err)
	}
	if cur, vs := ringOf(t, src); cur != 3 || !slices.Equal(vs, []int{2, 3}) {
		t.Errorf("the gateway's ring: current %d, versions %v; want 3, [2 3] as keys status says", cur, vs)
	}
}
