package authn_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/authn"
)

// crlAt is a CRL the root signs, revoking nothing, with the given
// thisUpdate and nextUpdate.
func (f *chainFixture) crlAt(t *testing.T, this, next time.Time) []byte {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next},
		f.root.Cert, f.root.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// crlWithoutNextUpdate is a CRL the root signs that has no nextUpdate
// (which x509.CreateRevocationList cannot make): RFC 5280 requires one.
func (f *chainFixture) crlWithoutNextUpdate(t *testing.T, this time.Time) []byte {
	t.Helper()
	der := f.handMadeCRL(t, pkix.TBSCertificateList{ThisUpdate: this.UTC()})
	if crl, err := x509.ParseRevocationList(der); err != nil || !crl.NextUpdate.IsZero() {
		t.Fatalf("the CRL without nextUpdate does not parse as one: %v", err)
	}
	return der
}

// handMadeCRL is the CRL of tbs (its version, signature algorithm and
// issuer filled in) signed by the root, for the CRLs that
// x509.CreateRevocationList cannot make.
func (f *chainFixture) handMadeCRL(t *testing.T, tbs pkix.TBSCertificateList) []byte {
	t.Helper()
	sigAlg := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}} // ecdsa-with-SHA256
	if _, err := asn1.Unmarshal(f.root.Cert.RawSubject, &tbs.Issuer); err != nil {
		t.Fatal(err)
	}
	tbs.Version, tbs.Signature = 1, sigAlg
	raw, err := asn1.Marshal(tbs)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(raw)
	sig, err := f.root.Key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		TBS       asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}{asn1.RawValue{FullBytes: raw}, sigAlg, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	if crl, err := x509.ParseRevocationList(der); err != nil || crl.CheckSignatureFrom(f.root.Cert) != nil {
		t.Fatalf("the hand-made CRL does not parse as one the root signed: %v", err)
	}
	return der
}

// TestCRLMustBeCurrent: a CRL loads only while it is current, with a
// nextUpdate, and once its nextUpdate passes every client certificate is
// refused CRL_STALE (Unavailable: the caller may retry), not accepted as
// if the stale CRL still listed all that its CA revoked. The CRL's
// nextUpdate was not read at all: a CRL past it loaded, and a certificate
// its CA revoked after it was accepted.
func TestCRLMustBeCurrent(t *testing.T) {
	f := newChainFixture(t)
	now := f.now.Truncate(time.Second)
	roots := f.root.Pool()
	cas := []*x509.Certificate{f.root.Cert}
	for _, c := range []struct {
		name string
		crl  []byte
		want string // in the error; "" loads
	}{
		{"current", f.crlAt(t, now.Add(-time.Hour), now.Add(time.Hour)), ""},
		{"thisUpdate within the clock skew", f.crlAt(t, now.Add(authn.CRLClockSkew-time.Second), now.Add(time.Hour)), ""},
		{"stale", f.crlAt(t, now.Add(-2*time.Hour), now.Add(-time.Minute)), "stale"},
		{"nextUpdate now", f.crlAt(t, now.Add(-2*time.Hour), now), "stale"},
		{"thisUpdate in the future", f.crlAt(t, now.Add(time.Hour), now.Add(2*time.Hour)), "in the future"},
		{"no nextUpdate", f.crlWithoutNextUpdate(t, now.Add(-time.Hour)), "no nextUpdate"},
	} {
		var r authn.Revocation
		err := r.AddCRL(c.crl, cas, now)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: AddCRL = %v, want it loaded", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: AddCRL = %v, want an error saying %q", c.name, err, c.want)
		}
	}

	// Two CRLs: the earlier nextUpdate is when the revocations go stale.
	var r authn.Revocation
	for _, next := range []time.Time{now.Add(2 * time.Hour), now.Add(time.Hour)} {
		if err := r.AddCRL(f.crlAt(t, now.Add(-time.Hour), next), cas, now); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.NextUpdate(); !got.Equal(now.Add(time.Hour)) {
		t.Errorf("NextUpdate = %v, want the earlier of the two, %v", got, now.Add(time.Hour))
	}
	f.v.SetTrust(roots, &r)
	if got, stale := f.v.CRLNextUpdate(); !got.Equal(now.Add(time.Hour)) || stale {
		t.Errorf("CRLNextUpdate = %v, %v, want %v, not stale", got, stale, now.Add(time.Hour))
	}
	if got := f.check(t); got != "" {
		t.Fatalf("with a current CRL: %s, want accepted", got)
	}
	f.now = now.Add(time.Hour)
	if _, stale := f.v.CRLNextUpdate(); !stale {
		t.Error("CRLNextUpdate says not stale at the nextUpdate")
	}
	_, err := f.v.CheckCertificate(f.conn)
	e, ok := errors.AsType[*authn.Error](err)
	if !ok || e.Reason != "CRL_STALE" || !e.Unavailable || e.Agency != "nl-police-rotterdam" || !e.Proven {
		t.Fatalf("at the CRL's nextUpdate: %v (%+v), want CRL_STALE, Unavailable, booked under the agency", err, e)
	}
	// A current CRL loaded in its place lets the certificate in again.
	var fresh authn.Revocation
	if err := fresh.AddCRL(f.crlAt(t, f.now.Add(-time.Minute), f.now.Add(time.Hour)), cas, f.now); err != nil {
		t.Fatal(err)
	}
	f.v.SetTrust(roots, &fresh)
	if got := f.check(t); got != "" {
		t.Errorf("with a current CRL again: %s, want accepted", got)
	}
	// A deny list alone never goes stale.
	var deny authn.Revocation
	if err := deny.AddDenyList([]byte("serial:01\n")); err != nil {
		t.Fatal(err)
	}
	if deny.Stale(f.now.Add(100*365*24*time.Hour)) || !deny.NextUpdate().IsZero() {
		t.Error("a deny list alone goes stale")
	}
}
