package authn_test

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// chainFixture is an agency whose client certificate is issued by an
// intermediate CA (valid for two hours) under a trusted root, in front of a
// Verifier with a cache and a clock the test moves.
type chainFixture struct {
	v                  *authn.Verifier
	now                time.Time
	root, inter        *devpki.Authority
	conn               *tls.ConnectionState
	leafCert, interCrt *x509.Certificate
}

func newChainFixture(t *testing.T) *chainFixture {
	t.Helper()
	root, err := devpki.NewRootAuthority("liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.Intermediate("Liaison issuing CA (test)", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.Issue(inter.AgencyIdentity("nl-police-rotterdam"), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.Cert.Certificate) != 2 {
		t.Fatalf("the leaf's chain has %d certificates, want the leaf and the intermediate", len(leaf.Cert.Certificate))
	}
	var peer []*x509.Certificate
	for _, der := range leaf.Cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		peer = append(peer, c)
	}
	iss, err := devpki.NewIssuer("https://idp.police.test", "k1")
	if err != nil {
		t.Fatal(err)
	}
	f := &chainFixture{now: time.Now(), root: root, inter: inter, leafCert: peer[0], interCrt: peer[1],
		conn: &tls.ConnectionState{PeerCertificates: peer}}
	f.v, err = authn.NewVerifier(authn.Config{Audience: "liaison", Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.SetAgencies([]*authn.Agency{{
		ID: "nl-police-rotterdam", Kind: "police", Jurisdiction: "NL",
		CertificateIdentity: inter.AgencyIdentity("nl-police-rotterdam"), Issuer: iss.Name, Keys: iss.PublicKeys(),
	}}); err != nil {
		t.Fatal(err)
	}
	f.v.SetTrust(root.Pool(), nil)
	return f
}

// check verifies the client certificate and returns the refusal's reason,
// or "" if it was accepted.
func (f *chainFixture) check(t *testing.T) string {
	t.Helper()
	a, err := f.v.CheckCertificate(f.conn)
	if err == nil {
		if a.ID != "nl-police-rotterdam" {
			t.Errorf("CheckCertificate = %s, want nl-police-rotterdam", a.ID)
		}
		return ""
	}
	e, ok := errors.AsType[*authn.Error](err)
	if !ok {
		t.Fatalf("CheckCertificate error %v is not an *authn.Error", err)
	}
	return e.Reason
}

// crl is a CRL the root signs, revoking serials.
func (f *chainFixture) crl(t *testing.T, serials ...*big.Int) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, n := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: entries,
	}, f.root.Cert, f.root.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// A revoked intermediate CA revokes every certificate it issued: a chain
// through it is refused CERTIFICATE_REVOKED, whether the root's CRL or the
// deny list names it, also for a certificate verified (and cached) before.
func TestRevokedIntermediateIsRefused(t *testing.T) {
	for _, tt := range []struct {
		name   string
		revoke func(f *chainFixture, r *authn.Revocation) error
		want   string
	}{
		{"nothing revoked", func(f *chainFixture, r *authn.Revocation) error {
			return r.AddCRL(f.crl(t, big.NewInt(12345)), []*x509.Certificate{f.root.Cert}, time.Now())
		}, ""},
		{"the root's CRL revokes the intermediate", func(f *chainFixture, r *authn.Revocation) error {
			return r.AddCRL(f.crl(t, f.interCrt.SerialNumber), []*x509.Certificate{f.root.Cert}, time.Now())
		}, "CERTIFICATE_REVOKED"},
		{"the deny list names the intermediate's fingerprint", func(f *chainFixture, r *authn.Revocation) error {
			fp := sha256.Sum256(f.interCrt.Raw)
			return r.AddDenyList([]byte("sha256:" + hex.EncodeToString(fp[:]) + "\n"))
		}, "CERTIFICATE_REVOKED"},
		{"the deny list names the intermediate's serial", func(f *chainFixture, r *authn.Revocation) error {
			return r.AddDenyList([]byte("serial:" + hex.EncodeToString(f.interCrt.SerialNumber.Bytes()) + "\n"))
		}, "CERTIFICATE_REVOKED"},
		// The leaf was issued by the intermediate, not by the first (or
		// any) trusted root: its serial on the deny list revokes it all
		// the same. It once named a serial under the first client CA
		// only, and revoked nothing here.
		{"the deny list names the leaf's serial", func(f *chainFixture, r *authn.Revocation) error {
			return r.AddDenyList([]byte("# the officer's laptop was stolen\nserial:" + hex.EncodeToString(f.leafCert.SerialNumber.Bytes()) + "\n"))
		}, "CERTIFICATE_REVOKED"},
		{"the root's CRL revokes the leaf", func(f *chainFixture, r *authn.Revocation) error {
			return r.AddCRL(f.crl(t, f.leafCert.SerialNumber), []*x509.Certificate{f.root.Cert}, time.Now())
		}, ""}, // the leaf's serial under the root's name is not the leaf's: the intermediate issued it
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newChainFixture(t)
			if got := f.check(t); got != "" {
				t.Fatalf("before any revocation: refused %s", got)
			}
			r := &authn.Revocation{}
			if err := tt.revoke(f, r); err != nil {
				t.Fatal(err)
			}
			f.v.SetTrust(f.root.Pool(), r)
			if got := f.check(t); got != tt.want {
				t.Errorf("reason %q, want %q", got, tt.want)
			}
			_, err := f.v.CheckCertificate(f.conn)
			if e, ok := errors.AsType[*authn.Error](err); tt.want != "" && (!ok || !e.Proven || e.Agency != "nl-police-rotterdam") {
				t.Errorf("refusal %v does not name the agency the certificate proves", err)
			}
		})
	}
}

// A verified chain is cached no longer than its first certificate to
// expire: once the intermediate has expired, the leaf (valid for a day
// more) no longer chains to a trusted CA.
func TestChainCachedUntilItsFirstExpiry(t *testing.T) {
	f := newChainFixture(t)
	if got := f.check(t); got != "" {
		t.Fatalf("refused %s", got)
	}
	f.now = f.interCrt.NotAfter.Add(time.Minute)
	if !f.now.Before(f.leafCert.NotAfter) {
		t.Fatal("the leaf expires before the intermediate: the test proves nothing")
	}
	if got := f.check(t); got != "CERTIFICATE_NOT_TRUSTED" {
		t.Errorf("after the intermediate expired: reason %q, want CERTIFICATE_NOT_TRUSTED", got)
	}
}
