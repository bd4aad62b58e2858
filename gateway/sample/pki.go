package sample

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// TrustDomain is the SPIFFE trust domain of the sample PKI.
const TrustDomain = "liaison.test"

// IssuerName is the iss of a sample agency's tokens.
func IssuerName(agency string) string { return "https://idp.sample.invalid/" + agency }

// IssuerKid is the kid of a sample agency's token key.
func IssuerKid(agency string) string { return agency + "-1" }

// A PKI is the sample agencies' development PKI, laid out in a folder:
// ca.pem, gateway.pem/.key, agencies/<id>.pem/.key, issuers/<id>.key and
// .jwks.json, and registry.yaml.
type PKI struct {
	Dir       string
	CA        *devpki.Authority
	Issuers   map[string]*devpki.Issuer
	Registry  string // registry.yaml
	Providers map[string]string
}

// Path joins parts to the PKI folder.
func (p *PKI) Path(parts ...string) string {
	return filepath.Join(append([]string{p.Dir}, parts...)...)
}

// WritePKI creates a CA, the gateway's and every sample agency's
// certificate and issuer key, and a registry file that names the holders'
// provider addresses, and writes them to dir file by file, over any
// written there before. [NewPKI] makes the same without writing it.
func WritePKI(dir string, providers map[string]string) (*PKI, error) {
	return writePKI(dir, TrustDomain, "", providers)
}

// A File is one file of a PKI: its path in the PKI folder
// (slash-separated, such as "agencies/nl-fiod.key"), its content and its
// mode (0600 for a private key).
type File struct {
	Name string
	Data []byte
	Mode os.FileMode
}

// NewPKI makes what [WritePKI] writes to dir without writing it: the
// PKI, whose paths are in dir, and its files, in the order WritePKI
// writes them (registry.yaml last), for a caller that places them
// itself.
func NewPKI(dir string, providers map[string]string) (*PKI, []File, error) {
	return makePKI(dir, TrustDomain, "", providers)
}

// writePKI writes the PKI of the sample agencies of jurisdiction (all of
// them if empty) under trustDomain.
func writePKI(dir, trustDomain, jurisdiction string, providers map[string]string) (*PKI, error) {
	p, files, err := makePKI(dir, trustDomain, jurisdiction, providers)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := filepath.FromSlash(f.Name)
		if err := devpki.WriteFile(filepath.Join(dir, filepath.Dir(name)), filepath.Base(name), f.Data, f.Mode); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// makePKI makes the PKI writePKI writes, and its files.
func makePKI(dir, trustDomain, jurisdiction string, providers map[string]string) (*PKI, []File, error) {
	ca, err := devpki.NewAuthority(trustDomain)
	if err != nil {
		return nil, nil, err
	}
	p := &PKI{Dir: dir, CA: ca, Issuers: map[string]*devpki.Issuer{}, Registry: filepath.Join(dir, "registry.yaml"), Providers: providers}
	files := []File{{"ca.pem", ca.CertPEM, 0o644}}
	gw, err := ca.Issue(ca.GatewayIdentity(), 30*24*time.Hour)
	if err != nil {
		return nil, nil, err
	}
	files = appendPair(files, "gateway", gw)
	var reg gateway.RegistryFile
	for _, a := range SampleAgencies {
		if jurisdiction != "" && a.Jurisdiction != jurisdiction {
			continue
		}
		leaf, err := ca.Issue(ca.AgencyIdentity(a.ID), 30*24*time.Hour)
		if err != nil {
			return nil, nil, err
		}
		files = appendPair(files, "agencies/"+a.ID, leaf)
		iss, err := devpki.NewIssuer(IssuerName(a.ID), IssuerKid(a.ID))
		if err != nil {
			return nil, nil, err
		}
		p.Issuers[a.ID] = iss
		kb, err := iss.MarshalIssuerKey()
		if err != nil {
			return nil, nil, err
		}
		jwks, err := authn.MarshalJWKS(iss.PublicKeys())
		if err != nil {
			return nil, nil, err
		}
		files = append(files, File{"issuers/" + a.ID + ".key", kb, 0o600}, File{"issuers/" + a.ID + ".jwks.json", jwks, 0o644})
		reg.Agencies = append(reg.Agencies, gateway.AgencyFile{
			ID: a.ID, Name: a.Name, Kind: a.Kind, Jurisdiction: a.Jurisdiction,
			CertificateIdentity: ca.AgencyIdentity(a.ID),
			Issuer:              IssuerName(a.ID),
			JWKSFile:            filepath.Join("issuers", a.ID+".jwks.json"),
			Algorithms:          []string{"EdDSA"},
			MaxTokenLifetime:    "1h",
			Provider:            providers[a.ID],
			Areas:               a.Areas,
		})
	}
	for _, c := range SampleCases {
		if jurisdiction != "" && !strings.HasPrefix(c.ID, jurisdiction+"-") {
			continue
		}
		reg.Cases = append(reg.Cases, gateway.CaseFile{ID: c.ID, Lead: c.Lead, Members: c.Members})
	}
	b, err := yaml.Marshal(reg)
	if err != nil {
		return nil, nil, err
	}
	header := "# Agency registry written by `liaison dev pki` for the sample agencies.\n# Edit and the gateway reloads it; see README.md, \"Onboarding an agency\".\n"
	files = append(files, File{"registry.yaml", append([]byte(header), b...), 0o644})
	return p, files, nil
}

// appendPair appends a leaf's certificate, name.pem, and its private key,
// name.key.
func appendPair(files []File, name string, l *devpki.Leaf) []File {
	return append(files, File{name + ".pem", l.CertPEM, 0o644}, File{name + ".key", l.KeyPEM, 0o600})
}
