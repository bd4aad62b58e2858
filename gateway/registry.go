package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/internal/spelling"
)

// A Registry is the set of agencies and multi-agency cases the gateway
// knows. It is read from a file and replaced whole on reload.
type Registry struct {
	Agencies map[string]*Agency
	Cases    map[string]*Case
}

// An Agency is a registered agency.
type Agency struct {
	*authn.Agency
	// Name is the agency's name, for people.
	Name string
	// Provider is the address of its RecordProvider, if it holds records;
	// for a peer gateway, the address of the peer's gRPC API.
	Provider string
	// Via is, for an agency of another country's gateway, the id of the
	// peer gateway entry through which it is reached (see federation.go).
	Via string
	// CheckpointKey is, for a peer gateway, its log's checkpoint verifier
	// key, under which its receipts must verify.
	CheckpointKey string
	// Areas are the municipalities the agency is competent for, as the
	// registry spells them (as calls must spell a municipality:
	// municipalityProblem): a recipient role "competent for X" resolves to
	// the agencies of the kind asked whose areas include X.
	Areas []string
	// DutyRole is the officer role that receives escalations of required
	// notices the agency has not acknowledged in time. Never empty:
	// "duty_officer" unless the registry says otherwise.
	DutyRole string
}

// defaultDutyRole is an agency's duty role when the registry names none.
const defaultDutyRole = "duty_officer"

// validDutyRole reports whether role is a duty role the officers holding
// it can read escalations for: 1 to 64 bytes of printable characters
// (spelling.Unprintable: no control or format character, Hangul filler or
// variation selector, which a token's role would not have and no reader
// of the registry sees) in Unicode NFC, no white space, and no '/'
// (inboxes: an officer's role with '/' opens no role inbox, so escalations
// to such a duty role would be read by no one).
func validDutyRole(role string) bool {
	if role == "" || len(role) > 64 || !utf8.ValidString(role) || strings.Contains(role, "/") || !norm.NFC.IsNormalString(role) {
		return false
	}
	for _, r := range role {
		if spelling.Unprintable(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// Covers reports whether the agency is competent for the municipality
// (compared without regard to case or surrounding space).
func (a *Agency) Covers(municipality string) bool {
	_, ok := a.Area(municipality)
	return ok
}

// Area returns the registry's spelling (without surrounding space) of the
// agency's area that is the municipality, compared without regard to case
// or surrounding space, and whether the agency has one: "aarhus" and
// " Aarhus" are both the registry's "Aarhus". The registry spells an area
// one way among the agencies of a kind (build), so every agency a
// competent role finds gives the route one spelling of its area.
func (a *Agency) Area(municipality string) (string, bool) {
	m := strings.TrimSpace(municipality)
	for _, x := range a.Areas {
		if x = strings.TrimSpace(x); strings.EqualFold(x, m) {
			return x, true
		}
	}
	return "", false
}

// foldKey returns s with each rune replaced by the least of its simple
// case folding orbit (unicode.SimpleFold): two strings have one key
// exactly when strings.EqualFold reports them equal.
// AreaKey is the key by which a registry matches an agency's area (its
// ends' white space aside, without regard to case): two areas of the
// agencies of one kind with the same key must be spelt alike
// (checkAreaSpellings).
func AreaKey(area string) string { return foldKey(strings.TrimSpace(area)) }

func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// A Case is a multi-agency working group case: its members may share for
// the case's purpose under the law of its jurisdiction.
type Case struct {
	ID      string
	Lead    string
	Members []string
	// Kind is the policy's case kind, if the file names one (what
	// `liaison case import` gives the case in the store).
	Kind string
}

// RegistryFile is the registry's file format (YAML or JSON).
type RegistryFile struct {
	Agencies []AgencyFile `json:"agencies"`
	Cases    []CaseFile   `json:"cases"`
}

// AgencyFile is one agency in the registry file.
type AgencyFile struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Kind                string   `json:"kind"`
	Jurisdiction        string   `json:"jurisdiction"`
	CertificateIdentity string   `json:"certificate_identity"`
	Issuer              string   `json:"issuer"`
	JWKSFile            string   `json:"jwks_file"`
	JWKSURL             string   `json:"jwks_url"`
	Algorithms          []string `json:"algorithms"`
	TokenTypes          []string `json:"token_types"`
	MaxTokenLifetime    string   `json:"max_token_lifetime"`
	Provider            string   `json:"provider"`
	Offboarded          bool     `json:"offboarded"`
	// Via names the peer gateway (an entry of kind peer_gateway) through
	// which an agency of another country is reached; such an entry needs
	// no certificate identity, issuer or keys.
	Via string `json:"via"`
	// CheckpointKey is a peer gateway's checkpoint verifier key.
	CheckpointKey string `json:"checkpoint_key"`
	// Areas are the municipalities the agency covers (for recipients by
	// role, e.g. the police competent for the place a person will live).
	Areas []string `json:"areas,omitempty"`
	// DutyRole is the officer role that receives escalations of required
	// notices; empty means "duty_officer".
	DutyRole string `json:"duty_role,omitempty"`
}

// CaseFile is one case in the registry file.
type CaseFile struct {
	ID      string   `json:"id"`
	Lead    string   `json:"lead"`
	Members []string `json:"members"`
	// Kind is the policy's case kind (e.g. nl.zvh), if known; `liaison
	// case import` needs it to move the case into the gateway.
	Kind string `json:"kind,omitempty"`
}

// Kinds and jurisdictions the gateway knows (policies/README.md).
var (
	agencyKinds   = []string{"police", "probation", "prison", "social_services", "local_authority", "intelligence", "ngo"}
	jurisdictions = []string{"DK", "NL", "BE", "FR", "DE-BY", "DE-NI"}
)

// LoadRegistry reads a registry file. Relative JWKS paths are resolved
// against the file's folder. Keys are read here, never on the request path;
// JWKS URLs are not fetched by LoadRegistry (use Server.LoadTrust).
func LoadRegistry(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gateway: read registry: %v", err)
	}
	f, err := parseRegistry(b, path)
	if err != nil {
		return nil, err
	}
	return f.Build(filepath.Dir(path))
}

func parseRegistry(b []byte, path string) (*RegistryFile, error) {
	var f RegistryFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, fmt.Errorf("gateway: parse registry %s: %v", filepath.Base(path), err)
	}
	return &f, nil
}

func dirOf(path string) string { return filepath.Dir(path) }

// Build validates the registry and reads the agencies' JWKS files, resolving
// relative paths against dir.
func (f *RegistryFile) Build(dir string) (*Registry, error) {
	return f.build(dir, func(a AgencyFile, dir string) (map[string]any, error) {
		if a.JWKSURL != "" {
			return nil, fmt.Errorf("JWKS URL %s needs Server.LoadTrust", a.JWKSURL)
		}
		return readJWKS(a, dir, os.ReadFile)
	})
}

// readJWKS reads an agency's JWKS file.
func readJWKS(a AgencyFile, dir string, read func(string) ([]byte, error)) (map[string]any, error) {
	if a.JWKSFile == "" {
		return nil, errors.New("no jwks_file or jwks_url")
	}
	path := a.JWKSFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	b, err := read(path)
	if err != nil {
		return nil, err
	}
	return authn.ParseJWKS(b)
}

// checkJWKSSource refuses an entry that gives its issuer's keys twice
// (jwks_file and jwks_url: one would be dropped unseen) or as a JWKS URL
// that is not https (the keys that verify its tokens, or a peer gateway's
// assertions, fetched over a channel anyone on the way could answer).
func checkJWKSSource(a AgencyFile) error {
	if a.JWKSFile != "" && a.JWKSURL != "" {
		return fmt.Errorf("gateway: registry: agency %q: give jwks_file or jwks_url, not both", a.ID)
	}
	if a.JWKSURL != "" && !strings.HasPrefix(a.JWKSURL, "https://") {
		return fmt.Errorf("gateway: registry: agency %q: jwks_url must be https", a.ID)
	}
	return nil
}

// parseMaxTokenLifetime reads an agency's max_token_lifetime: empty is
// the default (zero: authn's hour); otherwise a positive duration. Zero or
// a negative one loaded before, the first meaning an hour whatever was
// written, the second refusing every token the agency's issuer signs
// (TOKEN_LIFETIME_TOO_LONG).
func parseMaxTokenLifetime(a AgencyFile) (time.Duration, error) {
	if a.MaxTokenLifetime == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(a.MaxTokenLifetime)
	if err != nil {
		return 0, fmt.Errorf("gateway: registry: agency %q: max_token_lifetime: %v", a.ID, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("gateway: registry: agency %q: max_token_lifetime %q: want a positive duration such as 30m or 1h (leave it out for the default, 1h)", a.ID, a.MaxTokenLifetime)
	}
	return d, nil
}

// checkAreaSpellings refuses a registry that spells one area two ways
// among the agencies of a kind ("Aarhus" and "aarhus", in one agency's
// areas or in two): a competent role matches areas without regard to
// case, and the route it records (route_area in the log, route.area for
// the policy) is the registry's spelling of the area that matched
// (Agency.Area), which must be one.
func (r *Registry) checkAreaSpellings() error {
	type seen struct{ agency, area string }
	first := map[[2]string]seen{} // by kind and foldKey of the area
	for _, id := range sortedKeys(r.Agencies) {
		a := r.Agencies[id]
		for _, x := range a.Areas {
			x = strings.TrimSpace(x)
			k := [2]string{a.Kind, foldKey(x)}
			s, ok := first[k]
			if !ok {
				first[k] = seen{id, x}
				continue
			}
			if s.area != x {
				return fmt.Errorf("gateway: registry: agency %q: area %q is %q of agency %q in other letters: spell an area one way among the %s agencies (areas are matched without regard to case, and a route records the registry's spelling)",
					id, x, s.area, s.agency, strings.ReplaceAll(a.Kind, "_", " "))
			}
		}
	}
	return nil
}

// agencyIDRE is the spelling of an agency id: one spelling per agency (no
// upper case), and no '/', which separates the parts of inbox names
// (agency/officer/id) and pseudonym domains (agency/purpose).
var agencyIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidAgencyID reports whether id is spelt as a registry spells an agency
// id (agencyIDRE, and not "case"), for those that build a registry (the
// exercises) and must refuse another spelling before they do.
func ValidAgencyID(id string) bool { return agencyIDRE.MatchString(id) && id != "case" }

// ValidDutyRole reports whether role is a duty role a registry takes
// (validDutyRole), for those that build a registry.
func ValidDutyRole(role string) bool { return validDutyRole(role) }

func (f *RegistryFile) build(dir string, keysFor func(a AgencyFile, dir string) (map[string]any, error)) (*Registry, error) {
	r := &Registry{Agencies: map[string]*Agency{}, Cases: map[string]*Case{}}
	for _, a := range f.Agencies {
		if !ValidAgencyID(a.ID) {
			return nil, fmt.Errorf("gateway: registry: agency id %q: want 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, and not \"case\" (ids name inboxes and pseudonym domains, as case/<id> names a case's)", a.ID)
		}
		if a.Via != "" || a.Kind == KindPeerGateway {
			if err := r.addFederated(a, dir, keysFor); err != nil {
				return nil, err
			}
			continue
		}
		if !slices.Contains(agencyKinds, a.Kind) {
			return nil, fmt.Errorf("gateway: registry: agency %q: unknown kind %q", a.ID, a.Kind)
		}
		if !slices.Contains(jurisdictions, a.Jurisdiction) {
			return nil, fmt.Errorf("gateway: registry: agency %q: unknown jurisdiction %q", a.ID, a.Jurisdiction)
		}
		if _, dup := r.Agencies[a.ID]; dup {
			return nil, fmt.Errorf("gateway: registry: agency %q appears twice", a.ID)
		}
		if a.CheckpointKey != "" {
			// Only a peer gateway's log signs checkpoints this gateway
			// verifies: the key would be dropped unseen.
			return nil, fmt.Errorf("gateway: registry: agency %q: checkpoint_key is for a peer_gateway entry only; leave it out", a.ID)
		}
		if err := checkJWKSSource(a); err != nil {
			return nil, err
		}
		keys, err := keysFor(a, dir)
		if err != nil {
			return nil, fmt.Errorf("gateway: registry: agency %q: %v", a.ID, err)
		}
		maxLife, err := parseMaxTokenLifetime(a)
		if err != nil {
			return nil, err
		}
		for _, area := range a.Areas {
			// Spelt as a call must spell a municipality (municipalityProblem):
			// an area in another spelling (a decomposed letter, a no-break
			// space) would be matched by no call.
			if m := strings.TrimSpace(area); m == "" || municipalityProblem(m) != "" {
				return nil, fmt.Errorf("gateway: registry: agency %q: area %+q: an area must be a municipality's name of 1 to 128 bytes of printable characters in Unicode NFC, as calls spell it", a.ID, area)
			}
		}
		if a.DutyRole != "" && !validDutyRole(a.DutyRole) {
			return nil, fmt.Errorf("gateway: registry: agency %q: duty_role %+q: want 1 to 64 printable characters in Unicode NFC, no white space and no '/', as a token's roles claim names it (the duty role's inbox is read by the officers holding that role, and a role with '/' names no inbox they read)", a.ID, a.DutyRole)
		}
		r.Agencies[a.ID] = &Agency{
			Agency: &authn.Agency{
				ID: a.ID, Kind: a.Kind, Jurisdiction: a.Jurisdiction,
				CertificateIdentity: a.CertificateIdentity, Issuer: a.Issuer, Keys: keys,
				Algorithms: a.Algorithms, TokenTypes: a.TokenTypes, MaxTokenLifetime: maxLife, Offboarded: a.Offboarded,
			},
			Name:     a.Name,
			Provider: a.Provider,
			Areas:    slices.Clone(a.Areas),
			DutyRole: cmp.Or(a.DutyRole, defaultDutyRole),
		}
	}
	if err := r.checkAreaSpellings(); err != nil {
		return nil, err
	}
	if err := r.checkVia(); err != nil {
		return nil, err
	}
	if err := r.checkPeerIssuers(); err != nil {
		return nil, err
	}
	for _, c := range f.Cases {
		if c.ID == "" {
			return nil, errors.New("gateway: registry: a case has no id")
		}
		if !caseIDRE.MatchString(c.ID) {
			// Calls name a case so (case_id), and its pseudonyms live in
			// case/<id>: a case spelt otherwise could not be named.
			return nil, fmt.Errorf("gateway: registry: case id %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", c.ID)
		}
		for id := range r.Cases {
			// A case id is unique regardless of letter case, as OpenCase
			// keeps it (CASE_EXISTS).
			if strings.EqualFold(id, c.ID) {
				return nil, fmt.Errorf("gateway: registry: case %q appears twice (as %q; case ids are compared without regard to letter case)", c.ID, id)
			}
		}
		for _, m := range append([]string{c.Lead}, c.Members...) {
			if _, ok := r.Agencies[m]; !ok {
				return nil, fmt.Errorf("gateway: registry: case %q: unknown agency %q", c.ID, m)
			}
		}
		if !slices.Contains(c.Members, c.Lead) {
			return nil, fmt.Errorf("gateway: registry: case %q: the lead %q is not a member", c.ID, c.Lead)
		}
		r.Cases[c.ID] = &Case{ID: c.ID, Lead: c.Lead, Members: slices.Clone(c.Members), Kind: c.Kind}
	}
	return r, nil
}

// checkPeerIssuers refuses a peer gateway that shares its issuer with
// another agency: a peer's assertions name no agency (liaison_agency_id),
// and a token of an issuer registered for several agencies must, so every
// call of that peer would be refused.
func (r *Registry) checkPeerIssuers() error {
	for _, id := range slices.Sorted(maps.Keys(r.Agencies)) {
		p := r.Agencies[id]
		if p.Kind != KindPeerGateway || p.Via != "" || p.Issuer == "" {
			continue
		}
		for _, oid := range slices.Sorted(maps.Keys(r.Agencies)) {
			if o := r.Agencies[oid]; oid != id && o.Via == "" && o.Issuer == p.Issuer {
				return fmt.Errorf("gateway: registry: peer gateway %q shares its issuer %q with %q: a peer gateway's assertions name no agency, so it needs an issuer of its own", id, p.Issuer, oid)
			}
		}
	}
	return nil
}

// authnAgencies returns the agencies as authentication needs them.
func (r *Registry) authnAgencies() []*authn.Agency {
	out := make([]*authn.Agency, 0, len(r.Agencies))
	for _, a := range r.Agencies {
		if a.Via == "" { // agencies behind a peer never connect here
			out = append(out, a.Agency)
		}
	}
	return out
}
