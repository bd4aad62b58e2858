package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/sample"
)

// `liaison dev token` names the agency in the liaison_agency_id claim,
// which tokens of an issuer serving several agencies need, unless told not
// to.
func TestDevTokenNamesTheAgency(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := sample.WritePKI(dir, nil); err != nil {
		t.Fatal(err)
	}
	claims := func(extra ...string) map[string]any {
		t.Helper()
		var out bytes.Buffer
		args := append([]string{"token", "-pki", dir, "-agency", "nl-police-amsterdam", "-officer", "insp.bakker"}, extra...)
		if err := runDev(t.Context(), args, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(strings.TrimSpace(out.String()), ".")
		if len(parts) != 3 {
			t.Fatalf("dev token printed %d parts, want a JWT", len(parts))
		}
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := claims()["liaison_agency_id"]; got != "nl-police-amsterdam" {
		t.Errorf("liaison_agency_id = %v, want nl-police-amsterdam", got)
	}
	if got, ok := claims("-agency-claim=false")["liaison_agency_id"]; ok {
		t.Errorf("-agency-claim=false: liaison_agency_id = %v, want no claim", got)
	}
}

// TestDevTokenLifetimeIsTheAgencysMaximum: liaison dev token minted a
// token of any -ttl, though the gateway refuses one that lives longer
// than the agency's max_token_lifetime in the registry (an hour if it
// gives none; TOKEN_LIFETIME_TOO_LONG), so "-ttl 8h" printed a token no
// call could use. It now refuses such a -ttl, naming the maximum and the
// registry: the one liaison dev pki wrote into -pki, or -registry. An
// agency the registry does not list is refused too.
func TestDevTokenLifetimeIsTheAgencysMaximum(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := sample.WritePKI(dir, nil); err != nil {
		t.Fatal(err)
	}
	mint := func(extra ...string) error {
		args := append([]string{"token", "-pki", dir, "-agency", "nl-police-amsterdam", "-officer", "insp.bakker"}, extra...)
		return runDev(t.Context(), args, io.Discard, io.Discard)
	}
	for _, ttl := range []string{"1h", "59m"} {
		if err := mint("-ttl", ttl); err != nil {
			t.Errorf("-ttl %s (the registry's maximum is 1h): %v", ttl, err)
		}
	}
	err := mint("-ttl", "8h")
	if err == nil || !strings.Contains(err.Error(), "-ttl 8h0m0s is longer than nl-police-amsterdam's max_token_lifetime of 1h0m0s") ||
		!strings.Contains(err.Error(), filepath.Join(dir, "registry.yaml")) {
		t.Errorf("-ttl 8h: %v, want refused naming the maximum of 1h and the registry", err)
	}

	// Another registry, which gives the agency a maximum of 5 minutes.
	b, err := os.ReadFile(filepath.Join(dir, "registry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var reg gateway.RegistryFile
	if err := yaml.Unmarshal(b, &reg); err != nil {
		t.Fatal(err)
	}
	for i := range reg.Agencies {
		if reg.Agencies[i].ID == "nl-police-amsterdam" {
			reg.Agencies[i].MaxTokenLifetime = "5m"
		}
	}
	if b, err = yaml.Marshal(reg); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.yaml")
	if err := os.WriteFile(short, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mint("-registry", short, "-ttl", "5m"); err != nil {
		t.Errorf("-ttl 5m with a maximum of 5m: %v", err)
	}
	if err := mint("-registry", short); err == nil || !strings.Contains(err.Error(), "max_token_lifetime of 5m0s") {
		t.Errorf("-ttl 15m (the default) with a maximum of 5m: %v, want refused", err)
	}
	if err := mint("-registry", filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "-registry") {
		t.Errorf("-registry naming no file: %v, want refused", err)
	}
	err = runDev(t.Context(), []string{"token", "-pki", dir, "-registry", short, "-agency", "nl-police-nowhere", "-officer", "insp.bakker"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `-agency "nl-police-nowhere" is not in the registry`) {
		t.Errorf("an agency the registry does not list: %v, want refused", err)
	}
}

// TestDevTokenRolesAsTheGatewayTakesThem: liaison dev token split -roles
// on commas as given, so "case_officer, auditor" minted the role
// " auditor" and -roles "" the role "", which the gateway refuses
// (BAD_CLAIMS: a role is spelt as an identifier). White space around a
// role is dropped, and so are empty ones; a role the gateway would refuse
// still (an invisible character in it) is refused, naming -roles.
func TestDevTokenRolesAsTheGatewayTakesThem(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := sample.WritePKI(dir, nil); err != nil {
		t.Fatal(err)
	}
	mint := func(roles string) (any, error) {
		var out bytes.Buffer
		err := runDev(t.Context(), []string{"token", "-pki", dir, "-agency", "nl-police-amsterdam", "-officer", "insp.bakker", "-roles", roles}, &out, io.Discard)
		if err != nil {
			return nil, err
		}
		parts := strings.Split(strings.TrimSpace(out.String()), ".")
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		return c["roles"], nil
	}
	for roles, want := range map[string]string{"case_officer, auditor": `["case_officer","auditor"]`, "": `null`, " auditor ,": `["auditor"]`} {
		got, err := mint(roles)
		if err != nil {
			t.Errorf("-roles %q: %v", roles, err)
			continue
		}
		if b, _ := json.Marshal(got); string(b) != want {
			t.Errorf("-roles %q: roles claim %s, want %s", roles, b, want)
		}
	}
	if _, err := mint("case_officer,auditor\u200b"); err == nil || !strings.Contains(err.Error(), "-roles") {
		t.Errorf("-roles with a zero-width space: %v, want an error naming -roles", err)
	}
}
