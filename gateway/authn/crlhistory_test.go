package authn_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// numberedCRL is a CRL ca signs with the given cRLNumber and thisUpdate,
// revoking serials.
func numberedCRL(t *testing.T, ca *devpki.Authority, number int64, this time.Time, serials ...int64) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, n := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(n), RevocationTime: this})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number),
		ThisUpdate: this, NextUpdate: this.Add(2 * time.Hour), RevokedCertificateEntries: entries}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// unnumberedCRL is a CRL the root signs without a cRLNumber (which
// x509.CreateRevocationList cannot make), current for two hours.
func (f *chainFixture) unnumberedCRL(t *testing.T, this time.Time) []byte {
	t.Helper()
	der := f.handMadeCRL(t, pkix.TBSCertificateList{ThisUpdate: this.UTC(), NextUpdate: this.Add(2 * time.Hour).UTC()})
	if crl, err := x509.ParseRevocationList(der); err != nil || crl.Number != nil {
		t.Fatalf("the CRL without cRLNumber does not parse as one: %v", err)
	}
	return der
}

// crlLoads is a chain's fixture, its time to the second, and load: the
// Revocation of the CRLs given, each checked against the root and the
// intermediate at that time.
func crlLoads(t *testing.T) (f *chainFixture, now time.Time, load func(crls ...[]byte) *authn.Revocation) {
	t.Helper()
	f = newChainFixture(t)
	now = f.now.Truncate(time.Second)
	cas := []*x509.Certificate{f.root.Cert, f.inter.Cert}
	return f, now, func(crls ...[]byte) *authn.Revocation {
		t.Helper()
		var r authn.Revocation
		for _, c := range crls {
			if err := r.AddCRL(c, cas, now); err != nil {
				t.Fatal(err)
			}
		}
		return &r
	}
}

// TestCRLHistoryRefusesRollback: once a CRL of an issuer has been in
// force, one of a lower cRLNumber (without numbers, an earlier
// thisUpdate), or another of the same number, is refused; the same CRL,
// a newer one, or one of another issuer is not.
func TestCRLHistoryRefusesRollback(t *testing.T) {
	f, now, load := crlLoads(t)
	var h authn.CRLHistory
	five := numberedCRL(t, f.root, 5, now.Add(-time.Hour), 7)
	h.Record(load(five))
	for _, c := range []struct {
		name string
		crl  []byte
		want string // in the error; "" passes
	}{
		{"the same CRL", five, ""},
		{"a newer CRL", numberedCRL(t, f.root, 6, now.Add(-time.Hour)), ""},
		{"an older CRL, thisUpdate later", numberedCRL(t, f.root, 4, now.Add(-time.Minute)), "older than the one of its issuer"},
		{"another CRL of the same number", numberedCRL(t, f.root, 5, now.Add(-time.Hour)), "differs from the one of its issuer"},
		{"another issuer's CRL of a lower number", numberedCRL(t, f.inter, 1, now.Add(-time.Hour)), ""},
	} {
		err := h.Check(load(c.crl))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: Check = %v, want nil", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: Check = %v, want an error saying %q", c.name, err, c.want)
		}
	}
	// The newest recorded counts: 6 recorded, 5 is a rollback.
	h.Record(load(numberedCRL(t, f.root, 6, now.Add(-time.Hour))))
	h.Record(load(five))
	if err := h.Check(load(five)); err == nil {
		t.Error("CRL 5 passes after CRL 6 was in force")
	}

	// Without cRLNumbers, by thisUpdate.
	var byTime authn.CRLHistory
	byTime.Record(load(f.unnumberedCRL(t, now.Add(-time.Hour))))
	if err := byTime.Check(load(f.unnumberedCRL(t, now.Add(-90*time.Minute)))); err == nil || !strings.Contains(err.Error(), "older") {
		t.Errorf("an unnumbered CRL of an earlier thisUpdate: Check = %v, want it refused", err)
	}
	if err := byTime.Check(load(f.unnumberedCRL(t, now.Add(-time.Minute)))); err != nil {
		t.Errorf("an unnumbered CRL of a later thisUpdate: Check = %v, want nil", err)
	}

}

// TestCRLHistoryRefusesDroppedCRL: once a CRL of an issuer has been in
// force, a load whose CAs still hold that issuer but that has no CRL of
// it is refused, naming the CA; one without the issuer among its CAs, or
// with a CRL of it, passes.
func TestCRLHistoryRefusesDroppedCRL(t *testing.T) {
	f, now, load := crlLoads(t)
	cas := []*x509.Certificate{f.root.Cert, f.inter.Cert}
	var h authn.CRLHistory
	rootCRL, interCRL := numberedCRL(t, f.root, 5, now.Add(-time.Hour)), numberedCRL(t, f.inter, 2, now.Add(-time.Hour))
	h.Record(load(rootCRL, interCRL))
	for _, c := range []struct {
		name string
		cas  []*x509.Certificate
		r    *authn.Revocation
		want string // in the error; "" passes
	}{
		{"both CRLs", cas, load(rootCRL, interCRL), ""},
		{"the intermediate's CRL dropped", cas, load(rootCRL), `the client CA "` + f.inter.Cert.Subject.String() + `" is trusted, and its CRL (cRLNumber 2) was in force before, but no CRL of it is now`},
		{"no CRL", cas, load(), "was in force before, but no CRL of it is now"},
		{"the intermediate and its CRL dropped", cas[:1], load(rootCRL), ""},
		{"no CA", nil, load(), ""},
	} {
		err := h.CheckDropped(c.r, c.cas)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: CheckDropped = %v, want nil", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: CheckDropped = %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
