package sample

import (
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// A Country is one side of the federation sample: its own CA (trust
// domain <code>.liaison.test), gateway certificate, sample agencies,
// registry, and the key its gateway signs officer assertions for peers
// with (issuers/gateway.key, public in issuers/gateway.jwks.json).
type Country struct {
	*PKI
	Jurisdiction string
	// Assertions signs the officer assertions the gateway sends to peers.
	Assertions *devpki.Issuer
}

// AssertionIssuer is the iss of a country's gateway's officer assertions.
func AssertionIssuer(trustDomain string) string { return "https://" + trustDomain + "/gateway" }

// WriteCountry writes the PKI of the sample agencies of one jurisdiction
// under the trust domain domain, and the gateway's assertion key.
func WriteCountry(dir, domain, jurisdiction string, providers map[string]string) (*Country, error) {
	p, err := writePKI(dir, domain, jurisdiction, providers)
	if err != nil {
		return nil, err
	}
	iss, err := devpki.NewIssuer(AssertionIssuer(domain), "gateway-1")
	if err != nil {
		return nil, err
	}
	kb, err := iss.MarshalIssuerKey()
	if err != nil {
		return nil, err
	}
	if err := devpki.WriteFile(p.Path("issuers"), "gateway.key", kb, 0o600); err != nil {
		return nil, err
	}
	jwks, err := authn.MarshalJWKS(iss.PublicKeys())
	if err != nil {
		return nil, err
	}
	if err := devpki.WriteFile(p.Path("issuers"), "gateway.jwks.json", jwks, 0o644); err != nil {
		return nil, err
	}
	return &Country{PKI: p, Jurisdiction: jurisdiction, Assertions: iss}, nil
}

// AddPeer registers peer's gateway in c's registry as a peer gateway
// (id, reached at addr, its checkpoints signed by checkpointKey), and
// peer's sample agencies as reached through it.
func (c *Country) AddPeer(id string, peer *Country, addr, checkpointKey string) error {
	b, err := os.ReadFile(c.Registry)
	if err != nil {
		return err
	}
	var reg gateway.RegistryFile
	if err := yaml.UnmarshalStrict(b, &reg); err != nil {
		return err
	}
	reg.Agencies = append(reg.Agencies, gateway.AgencyFile{
		ID: id, Name: "Liaison gateway, " + peer.Jurisdiction + " (sample)", Kind: gateway.KindPeerGateway,
		Jurisdiction: peer.Jurisdiction, CertificateIdentity: peer.CA.GatewayIdentity(),
		Issuer: peer.Assertions.Name, JWKSFile: filepath.Join(peer.Dir, "issuers", "gateway.jwks.json"),
		Algorithms: []string{"EdDSA"}, MaxTokenLifetime: "5m", Provider: addr, CheckpointKey: checkpointKey,
	})
	for _, a := range SampleAgencies {
		if a.Jurisdiction == peer.Jurisdiction {
			reg.Agencies = append(reg.Agencies, gateway.AgencyFile{ID: a.ID, Name: a.Name, Kind: a.Kind, Jurisdiction: a.Jurisdiction, Via: id})
		}
	}
	out, err := yaml.Marshal(reg)
	if err != nil {
		return err
	}
	return os.WriteFile(c.Registry, out, 0o644)
}
