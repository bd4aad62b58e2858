// Package devpki creates a development certificate authority, certificates
// for the gateway and for agencies, and officer tokens. It serves
// `liaison demo`, `liaison dev pki`, `liaison dev token` and tests. Nothing
// it makes is fit for production: keys are written unencrypted.
package devpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// An Authority is a development CA.
type Authority struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	// TrustDomain names identities: spiffe://<TrustDomain>/agency/<id>.
	TrustDomain string
	// ChainPEM is, for an intermediate CA (Intermediate), Cert and the CAs
	// above it but the root, in PEM: Issue appends it to a leaf's chain.
	// Empty for a root.
	ChainPEM []byte
}

// NewAuthority creates a CA valid for 30 days that issues leaf
// certificates only.
func NewAuthority(trustDomain string) (*Authority, error) {
	return newCA(trustDomain, "Liaison development CA ("+trustDomain+")", 30*24*time.Hour, 0, nil)
}

// NewRootAuthority creates a CA valid for 30 days that may also certify
// intermediate CAs (Intermediate), one level deep.
func NewRootAuthority(trustDomain string) (*Authority, error) {
	return newCA(trustDomain, "Liaison development root CA ("+trustDomain+")", 30*24*time.Hour, 1, nil)
}

// Intermediate creates a CA certified by a (a NewRootAuthority), valid for
// lifetime, that issues leaf certificates; their chain includes it.
func (a *Authority) Intermediate(name string, lifetime time.Duration) (*Authority, error) {
	return newCA(a.TrustDomain, name, lifetime, 0, a)
}

// newCA creates a CA whose paths below it are at most pathLen CAs long,
// self-signed if parent is nil.
func newCA(trustDomain, name string, lifetime time.Duration, pathLen int, parent *Authority) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            pathLen,
		MaxPathLenZero:        pathLen == 0,
	}
	issuer, signer := tmpl, crypto.Signer(key)
	var chain []byte
	if parent != nil {
		issuer, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if parent != nil {
		chain = append(pemBlock("CERTIFICATE", der), parent.ChainPEM...)
	}
	return &Authority{Cert: cert, Key: key, CertPEM: pemBlock("CERTIFICATE", der), TrustDomain: trustDomain, ChainPEM: chain}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// Pool returns a pool holding the CA.
func (a *Authority) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.Cert)
	return p
}

// AgencyIdentity is the URI SAN of an agency's certificates.
func (a *Authority) AgencyIdentity(id string) string {
	return "spiffe://" + a.TrustDomain + "/agency/" + id
}

// GatewayIdentity is the URI SAN of the gateway's certificate.
func (a *Authority) GatewayIdentity() string { return "spiffe://" + a.TrustDomain + "/gateway" }

// A Leaf is an issued certificate with its key.
type Leaf struct {
	Cert    tls.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// Issue makes a certificate for identity (a URI SAN) that is valid for
// client and server use on loopback (localhost, 127.0.0.1, ::1). Its
// CertPEM and Cert hold the chain up to the root, the root left out.
func (a *Authority) Issue(identity string, lifetime time.Duration) (*Leaf, error) {
	u, err := url.Parse(identity)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: identity},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		URIs:         []*url.URL{u},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, &key.PublicKey, a.Key)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	l := &Leaf{CertPEM: append(pemBlock("CERTIFICATE", der), a.ChainPEM...), KeyPEM: pemBlock("PRIVATE KEY", kder)}
	l.Cert, err = tls.X509KeyPair(l.CertPEM, l.KeyPEM)
	return l, err
}

// An Issuer is an agency's development identity provider: an Ed25519 key
// that signs officer tokens.
type Issuer struct {
	Name string // the iss claim
	Kid  string
	Key  ed25519.PrivateKey
}

// NewIssuer creates an issuer with a fresh key.
func NewIssuer(name, kid string) (*Issuer, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Issuer{Name: name, Kid: kid, Key: key}, nil
}

// PublicKeys returns the issuer's public key by kid, as a JWKS holds it.
func (i *Issuer) PublicKeys() map[string]any {
	return map[string]any{i.Kid: i.Key.Public()}
}

// TokenSpec describes an officer token.
type TokenSpec struct {
	Officer   string
	Roles     []string
	Clearance string
	Audience  string
	TTL       time.Duration // if zero, 15 minutes
	ID        string        // jti; if empty, random
	// Agency, if set, is the agency the token names in its
	// liaison_agency_id claim (authn.AgencyClaim), which tokens of an
	// issuer serving several agencies must carry.
	Agency string
}

// Mint signs an officer token.
func (i *Issuer) Mint(s TokenSpec) (string, error) {
	if s.TTL == 0 {
		s.TTL = 15 * time.Minute
	}
	if s.ID == "" {
		s.ID = rand.Text()
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss":       i.Name,
		"sub":       s.Officer,
		"aud":       s.Audience,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(s.TTL).Unix(),
		"jti":       s.ID,
		"roles":     s.Roles,
		"clearance": s.Clearance,
	}
	if s.Agency != "" {
		claims["liaison_agency_id"] = s.Agency
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = i.Kid
	return t.SignedString(i.Key)
}

// WriteFile writes data to dir/name with the given mode, creating dir.
func WriteFile(dir, name string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), data, mode)
}

// MarshalIssuerKey encodes an issuer's private key as PKCS#8 PEM.
func (i *Issuer) MarshalIssuerKey() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(i.Key)
	if err != nil {
		return nil, err
	}
	return pemBlock("PRIVATE KEY", der), nil
}

// LoadIssuer reads an issuer key written by MarshalIssuerKey.
func LoadIssuer(path, name, kid string) (*Issuer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("devpki: %s: no PEM block", filepath.Base(path))
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("devpki: issuer key is not Ed25519")
	}
	return &Issuer{Name: name, Kid: kid, Key: ek}, nil
}
