package gateway

import (
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestPeerGatewayNeedsAnIssuerOfItsOwn: a peer gateway's officer
// assertions name no agency (liaison_agency_id), and a token of an issuer
// registered for several agencies must; so a registry that gives a peer
// gateway the issuer of another agency is refused at load, naming both,
// rather than every call of that peer being refused later.
func TestPeerGatewayNeedsAnIssuerOfItsOwn(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "nl.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	noKeys := func(AgencyFile, string) (map[string]any, error) { return map[string]any{}, nil }
	registry := func(policeIssuer string) *RegistryFile {
		return &RegistryFile{Agencies: []AgencyFile{
			{ID: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK", CertificateIdentity: "spiffe://dk/police", Issuer: policeIssuer},
			{ID: "nl-gateway", Kind: KindPeerGateway, Jurisdiction: "NL", CertificateIdentity: "spiffe://nl/gateway",
				Issuer: "https://gateway.nl.example", Provider: "nl.example:8443", CheckpointKey: vkey},
			{ID: "nl-probation", Kind: "probation", Jurisdiction: "NL", Via: "nl-gateway"},
		}}
	}
	if _, err := registry("https://idp.dk.example").build("", noKeys); err != nil {
		t.Fatalf("a peer gateway with an issuer of its own: %v", err)
	}
	_, err = registry("https://gateway.nl.example").build("", noKeys)
	if err == nil || !strings.Contains(err.Error(), `peer gateway "nl-gateway" shares its issuer`) || !strings.Contains(err.Error(), "dk-police-aarhus") {
		t.Errorf("a peer gateway sharing the police's issuer: %v; want refused, naming both", err)
	}
}

// TestRegistryAgencyIDs: an agency id has one spelling and no '/': ids
// name inboxes (agency/officer/id) and pseudonym domains (agency/purpose),
// and "case" would make an agency's domains those of cases (case/<id>).
func TestRegistryAgencyIDs(t *testing.T) {
	noKeys := func(AgencyFile, string) (map[string]any, error) { return map[string]any{}, nil }
	reg := func(id string) *RegistryFile {
		return &RegistryFile{Agencies: []AgencyFile{{ID: id, Kind: "police", Jurisdiction: "DK", CertificateIdentity: "spiffe://dk/police", Issuer: "https://idp.dk.example"}}}
	}
	if _, err := reg("dk-police-aarhus").build("", noKeys); err != nil {
		t.Fatalf("a well-spelt id: %v", err)
	}
	for _, id := range []string{"", "case", "DK-Police-Aarhus", "dk/police", "dk police", "-dk", strings.Repeat("a", 65)} {
		if _, err := reg(id).build("", noKeys); err == nil || !strings.Contains(err.Error(), "agency id") {
			t.Errorf("agency id %q: %v; want refused", id, err)
		}
	}
}

// TestRegistryCaseIDs: a case of the registry file is spelt as a call
// names a case (case_id) and is unique regardless of letter case, as
// OpenCase keeps case ids. A case "NL ZVH 1" could be named by no call,
// and "nl-zvh-1" beside "NL-ZVH-1" were two cases that OpenCase takes
// for one.
func TestRegistryCaseIDs(t *testing.T) {
	noKeys := func(AgencyFile, string) (map[string]any, error) { return map[string]any{}, nil }
	reg := func(ids ...string) *RegistryFile {
		f := &RegistryFile{Agencies: []AgencyFile{{ID: "nl-municipality-rotterdam", Kind: "local_authority", Jurisdiction: "NL",
			CertificateIdentity: "spiffe://nl/rotterdam", Issuer: "https://idp.nl.example"}}}
		for _, id := range ids {
			f.Cases = append(f.Cases, CaseFile{ID: id, Lead: "nl-municipality-rotterdam", Members: []string{"nl-municipality-rotterdam"}, Kind: "nl.zvh"})
		}
		return f
	}
	if _, err := reg("NL-ZVH-RTM-0042", "NL-ZVH-RTM-0043").build("", noKeys); err != nil {
		t.Fatalf("well-spelt case ids: %v", err)
	}
	for _, ids := range [][]string{{"NL ZVH 1"}, {"NL/ZVH"}, {"-NL"}, {"NL-ZVH-\u00c51"}, {strings.Repeat("A", 65)}, {"NL-ZVH-1", "nl-zvh-1"}} {
		if _, err := reg(ids...).build("", noKeys); err == nil || !strings.Contains(err.Error(), "case") {
			t.Errorf("case ids %q: %v; want refused", ids, err)
		}
	}
}

// TestRegistryAreasAreSpeltAsCallsSpellThem: a registry area is compared
// with the municipality a call names, which must be printable and in
// Unicode NFC. An area with a decomposed letter, a no-break space or an
// invisible character was loaded and then matched no call.
func TestRegistryAreasAreSpeltAsCallsSpellThem(t *testing.T) {
	noKeys := func(AgencyFile, string) (map[string]any, error) { return map[string]any{}, nil }
	reg := func(area string) *RegistryFile {
		return &RegistryFile{Agencies: []AgencyFile{{ID: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK",
			CertificateIdentity: "spiffe://dk/police", Issuer: "https://idp.dk.example", Areas: []string{area}}}}
	}
	for _, area := range []string{"Aarhus", " Aarhus ", "\u00c5rhus", "Den Haag"} {
		if _, err := reg(area).build("", noKeys); err != nil {
			t.Errorf("area %+q: %v", area, err)
		}
	}
	for _, area := range []string{"", " ", "A\u030arhus", "Den\u00a0Haag", "Aar\u200bhus", "Aar\u0085hus", strings.Repeat("a", 129)} {
		if _, err := reg(area).build("", noKeys); err == nil || !strings.Contains(err.Error(), "area") {
			t.Errorf("area %+q: %v; want refused", area, err)
		}
	}
}

// TestRegistrySpellsAnAreaOneWay: areas are matched without regard to
// case, and a competent route records the registry's spelling of the area
// that matched; a registry whose agencies of one kind spell an area two
// ways ("Aarhus", "aarhus"), in one agency or in two, would record two, and
// is refused. One spelling in two agencies of a kind, or two spellings in
// agencies of two kinds, loads; Agency.Area gives the registry's spelling.
func TestRegistrySpellsAnAreaOneWay(t *testing.T) {
	noKeys := func(AgencyFile, string) (map[string]any, error) { return map[string]any{}, nil }
	agency := func(id, kind string, areas ...string) AgencyFile {
		return AgencyFile{ID: id, Kind: kind, Jurisdiction: "DK", CertificateIdentity: "spiffe://dk/" + id, Issuer: "https://idp.dk.example/" + id, Areas: areas}
	}
	for name, f := range map[string][]AgencyFile{
		"one agency":                 {agency("dk-police-aarhus", "police", "Aarhus", "aarhus")},
		"two agencies":               {agency("dk-police-aarhus", "police", "Aarhus"), agency("dk-police-east", "police", " AARHUS ")},
		"a final sigma":              {agency("dk-police-aarhus", "police", "\u039a\u03c9\u03c2"), agency("dk-police-east", "police", "\u039a\u03a9\u03a3")},
		"one agency, space and case": {agency("dk-social-aarhus", "social_services", "Aarhus", " aarhus")},
	} {
		if _, err := (&RegistryFile{Agencies: f}).build("", noKeys); err == nil || !strings.Contains(err.Error(), "area") {
			t.Errorf("%s: %v; want refused", name, err)
		}
	}
	r, err := (&RegistryFile{Agencies: []AgencyFile{
		agency("dk-police-aarhus", "police", " Aarhus", "Odder"), agency("dk-police-east", "police", "Aarhus "),
		agency("dk-social-aarhus", "social_services", "aarhus"),
	}}).build("", noKeys)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"dk-police-aarhus": "Aarhus", "dk-police-east": "Aarhus", "dk-social-aarhus": "aarhus"} {
		if got, ok := r.Agencies[id].Area(" aarHUS "); !ok || got != want {
			t.Errorf("%s: Area(\" aarHUS \") = %q, %t; want %q", id, got, ok, want)
		}
	}
	if _, ok := r.Agencies["dk-police-aarhus"].Area("Skanderborg"); ok {
		t.Error("Area(Skanderborg) of an agency not competent for it: ok")
	}
}

// TestPeerGatewayJWKSSourceIsCheckedAsAnAgencys: a peer gateway's
// assertions are verified with the keys its entry names, as an agency's
// tokens are. An agency's entry with a plain-http jwks_url, or with both
// jwks_file and jwks_url, does not load; a peer gateway's loaded: its keys
// were fetched over http (anyone on the way could answer with keys of
// their own and sign assertions in its name), or its jwks_file was dropped
// unseen for the URL.
func TestPeerGatewayJWKSSourceIsCheckedAsAnAgencys(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "nl.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	noKeys := func(AgencyFile, string) (map[string]any, error) { return map[string]any{}, nil }
	registry := func(file, url string) *RegistryFile {
		return &RegistryFile{Agencies: []AgencyFile{
			{ID: "nl-gateway", Kind: KindPeerGateway, Jurisdiction: "NL", CertificateIdentity: "spiffe://nl/gateway",
				Issuer: "https://gateway.nl.example", JWKSFile: file, JWKSURL: url, Provider: "nl.example:8443", CheckpointKey: vkey},
			{ID: "nl-probation", Kind: "probation", Jurisdiction: "NL", Via: "nl-gateway"},
		}}
	}
	for _, c := range [][2]string{{"nl-gateway.jwks.json", ""}, {"", "https://gateway.nl.example/jwks.json"}} {
		if _, err := registry(c[0], c[1]).build("", noKeys); err != nil {
			t.Errorf("a peer gateway with jwks_file %q, jwks_url %q: %v", c[0], c[1], err)
		}
	}
	for _, c := range []struct{ file, url, want string }{
		{"", "http://gateway.nl.example/jwks.json", "jwks_url must be https"},
		{"nl-gateway.jwks.json", "https://gateway.nl.example/jwks.json", "not both"},
	} {
		_, err := registry(c.file, c.url).build("", noKeys)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nl-gateway") {
			t.Errorf("a peer gateway with jwks_file %q, jwks_url %q: %v; want refused (%s)", c.file, c.url, err, c.want)
		}
	}
}
