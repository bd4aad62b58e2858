package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// onboardRegistry writes a one-agency registry file with the given extra
// lines in the agency's entry, and loads it as `liaison serve` does.
func onboardRegistry(t *testing.T, extra string) error {
	t.Helper()
	dir := t.TempDir()
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`
	if err := os.WriteFile(filepath.Join(dir, "k.jwks.json"), []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := `agencies:
  - id: dk-police-aarhus
    kind: police
    jurisdiction: DK
    certificate_identity: spiffe://liaison.example.eu/agency/dk-police-aarhus
    issuer: https://idp.politi.example
    jwks_file: k.jwks.json
` + extra
	p := filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(p, []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadRegistry(p)
	return err
}

// TestDutyRoleIsARoleAnOfficerCanRead: an agency's duty_role is the role
// whose inbox (agency/role/<role>) takes escalations of required notices,
// read by the officers whose token names the role. A role with '/' opens no
// inbox (inboxes), and one with white space or a control character is not
// a role a token would carry: such a registry loaded, and every escalation
// to the agency went to an inbox no officer could read. It is refused now,
// naming the agency and duty_role.
func TestDutyRoleIsARoleAnOfficerCanRead(t *testing.T) {
	for _, role := range []string{"vagthavende", "duty_officer", "wachtdienst-nacht", "vagthavende_øst"} {
		if err := onboardRegistry(t, "    duty_role: \""+role+"\"\n"); err != nil {
			t.Errorf("duty_role %q: %v", role, err)
		}
	}
	for _, role := range []string{"nacht/dienst", "duty officer", "duty\\u0000officer", "duty\\u200bofficer", "duty\\u0085officer", strings.Repeat("d", 65)} {
		err := onboardRegistry(t, "    duty_role: \""+role+"\"\n")
		if err == nil || !strings.Contains(err.Error(), "duty_role") || !strings.Contains(err.Error(), "dk-police-aarhus") {
			t.Errorf("duty_role %q: %v; want the registry refused, naming the agency and duty_role", role, err)
		}
	}
}

// TestMaxTokenLifetimeIsPositive: max_token_lifetime is the longest token
// the agency wants accepted. A negative one loaded and refused every token
// of the agency (TOKEN_LIFETIME_TOO_LONG, "maximum of -1h0m0s"), and "0s"
// loaded as the default hour; both are refused now, naming the agency and
// the field.
func TestMaxTokenLifetimeIsPositive(t *testing.T) {
	for _, d := range []string{"30m", "1h", "90s"} {
		if err := onboardRegistry(t, "    max_token_lifetime: "+d+"\n"); err != nil {
			t.Errorf("max_token_lifetime %s: %v", d, err)
		}
	}
	for _, d := range []string{"0s", "0", "-1h", "-30m"} {
		err := onboardRegistry(t, "    max_token_lifetime: \""+d+"\"\n")
		if err == nil || !strings.Contains(err.Error(), "max_token_lifetime") || !strings.Contains(err.Error(), "dk-police-aarhus") {
			t.Errorf("max_token_lifetime %s: %v; want the registry refused, naming the agency and max_token_lifetime", d, err)
		}
	}
}
