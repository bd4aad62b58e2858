package gateway

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
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
// naming the agency and duty_role. So is one with a Hangul filler or a
// variation selector (which unicode.IsPrint counts printable, and a reader
// of the registry does not see) or with a decomposed letter (not NFC): a
// second spelling of a role that looks like the one the tokens carry.
func TestDutyRoleIsARoleAnOfficerCanRead(t *testing.T) {
	for _, role := range []string{"vagthavende", "duty_officer", "wachtdienst-nacht", "vagthavende_øst", "vagthavende_\\u00f6st"} {
		if err := onboardRegistry(t, "    duty_role: \""+role+"\"\n"); err != nil {
			t.Errorf("duty_role %q: %v", role, err)
		}
	}
	for _, role := range []string{"nacht/dienst", "duty officer", "duty\\u0000officer", "duty\\u200bofficer", "duty\\u0085officer", strings.Repeat("d", 65),
		"duty_officer\\u3164", "duty\\u115fofficer", "duty_officer\\ufe0f", "duty\\u034fofficer", "vagthavende_o\\u0308st"} {
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

// TestFederatedEntriesTakeOnlyWhatIsUsed: an agency behind a peer gateway
// (via) and a peer gateway's own entry took areas, duty_role and, behind a
// peer, algorithms, token_types, max_token_lifetime and checkpoint_key, and
// dropped them: "the police competent for Hamburg" then found no agency
// although the registry listed Hamburg in de-police-hamburg's areas
// (NO_COMPETENT_RECIPIENT), with nothing saying why. Such a registry is now
// refused, naming the agency and the field.
func TestFederatedEntriesTakeOnlyWhatIsUsed(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "de.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	noKeys := func(AgencyFile, string) (map[string]any, error) { return map[string]any{}, nil }
	registry := func(peer, behind func(*AgencyFile)) *RegistryFile {
		p := AgencyFile{ID: "de-gateway", Kind: KindPeerGateway, Jurisdiction: "DE-NI", CertificateIdentity: "spiffe://de/gateway",
			Issuer: "https://gateway.de.example", Provider: "de.example:8443", CheckpointKey: vkey, Algorithms: []string{"EdDSA"}, MaxTokenLifetime: "5m"}
		b := AgencyFile{ID: "de-police-hannover", Kind: "police", Jurisdiction: "DE-NI", Via: "de-gateway"}
		peer(&p)
		behind(&b)
		return &RegistryFile{Agencies: []AgencyFile{p, b}}
	}
	none := func(*AgencyFile) {}
	if _, err := registry(none, none).build("", noKeys); err != nil {
		t.Fatalf("a peer gateway and an agency behind it: %v", err)
	}
	for name, c := range map[string]struct {
		peer, behind func(*AgencyFile)
		agency       string
	}{
		"areas":                 {none, func(a *AgencyFile) { a.Areas = []string{"Hannover"} }, "de-police-hannover"},
		"duty_role":             {none, func(a *AgencyFile) { a.DutyRole = "bereitschaft" }, "de-police-hannover"},
		"algorithms":            {none, func(a *AgencyFile) { a.Algorithms = []string{"ES256"} }, "de-police-hannover"},
		"token_types":           {none, func(a *AgencyFile) { a.TokenTypes = []string{"JWT"} }, "de-police-hannover"},
		"max_token_lifetime":    {none, func(a *AgencyFile) { a.MaxTokenLifetime = "10m" }, "de-police-hannover"},
		"checkpoint_key":        {none, func(a *AgencyFile) { a.CheckpointKey = vkey }, "de-police-hannover"},
		"areas of the peer":     {func(a *AgencyFile) { a.Areas = []string{"Hannover"} }, none, "de-gateway"},
		"duty_role of the peer": {func(a *AgencyFile) { a.DutyRole = "bereitschaft" }, none, "de-gateway"},
	} {
		field, _, _ := strings.Cut(name, " ")
		_, err := registry(c.peer, c.behind).build("", noKeys)
		if err == nil || !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), c.agency) {
			t.Errorf("%s: %v; want the registry refused, naming %s and %s", name, err, c.agency, field)
		}
	}
}

// TestPeerLogNameIsPrintable: a peer gateway's checkpoint key names its
// log (the origin), and the registry takes one name a log. A name with a
// Hangul filler or a variation selector (which unicode.IsPrint counts
// printable, and the note format allows) loaded: a log that looks like
// another's, or like the one the operator meant. It is refused now,
// naming the peer gateway and checkpoint_key; the plain name loads.
func TestPeerLogNameIsPrintable(t *testing.T) {
	noKeys := func(AgencyFile, string) (map[string]any, error) { return map[string]any{}, nil }
	for _, c := range []struct {
		name string
		ok   bool
	}{{"de.liaison.test", true}, {"de.liaison.test\u3164", false}, {"de.liaison\u115f.test", false}, {"de.liaison.test\ufe0f", false}} {
		_, vkey, err := note.GenerateKey(rand.Reader, c.name)
		if err != nil {
			t.Fatal(err)
		}
		f := &RegistryFile{Agencies: []AgencyFile{{ID: "de-gateway", Kind: KindPeerGateway, Jurisdiction: "DE-NI", CertificateIdentity: "spiffe://de/gateway",
			Issuer: "https://gateway.de.example", Provider: "de.example:8443", CheckpointKey: vkey}}}
		_, err = f.build("", noKeys)
		if c.ok && err != nil {
			t.Errorf("checkpoint key named %+q: %v", c.name, err)
		}
		if !c.ok && (err == nil || !strings.Contains(err.Error(), "checkpoint_key") || !strings.Contains(err.Error(), "de-gateway")) {
			t.Errorf("checkpoint key named %+q: %v; want the registry refused, naming de-gateway and checkpoint_key", c.name, err)
		}
	}
}

// TestLocalAgencyTakesNoCheckpointKey: checkpoint_key is a peer gateway's
// log's key; on an agency of this gateway it was dropped unseen (the
// operator may have meant the entry as a peer). It is refused now.
func TestLocalAgencyTakesNoCheckpointKey(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "dk.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	err = onboardRegistry(t, "    checkpoint_key: \""+vkey+"\"\n")
	if err == nil || !strings.Contains(err.Error(), "checkpoint_key") || !strings.Contains(err.Error(), "dk-police-aarhus") {
		t.Errorf("a local agency with a checkpoint_key: %v; want the registry refused, naming the agency and checkpoint_key", err)
	}
}
