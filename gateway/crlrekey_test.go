package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// TestRekeyedCAKeepsItsOwnCRLMarks: a CA re-keyed, its new certificate
// (the same name, another key) trusted beside the old one, signs CRLs of
// its own, numbered in a sequence of its own; the store keeps a mark of
// each CA's CRLs (MarkKindCRLByKey), told by the CA's key. With the old
// key's CRL 5 and the new key's CRL 1 in force, a reload whose new-key
// CRL file was overwritten with the old key's CRL is refused, naming the
// CA, as a dropped CRL of a trusted CA; the old CA retired with its CRL,
// a start with the new key's CRL 1 alone is accepted. The CAs were told
// by their name alone: one mark held the newest CRL of either, so the
// reload applied, every revocation of the new key's CRL gone, and the
// start was refused as a rollback from CRL 5 to CRL 1. A mark kept by
// name before (MarkKindCRL, as a gateway of the earlier version kept it)
// still counts: a start with an older CRL of its CA, or none, is refused,
// and one with a newer CRL starts and keeps the CRL's mark by key.
func TestRekeyedCAKeepsItsOwnCRLMarks(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testRekeyedCRLs(t, stackOptions{}) })
	t.Run("postgres", func(t *testing.T) { testRekeyedCRLs(t, stackOptions{postgresURL: pgtest.NewDatabase(t)}) })
}

func testRekeyedCRLs(t *testing.T, o stackOptions) {
	dir := t.TempDir()
	this := time.Now().Add(-time.Minute).Truncate(time.Second)
	authority := func(domain string) *devpki.Authority {
		a, err := devpki.NewAuthority(domain)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	old, rekeyed := authority("rekeyed.test"), authority("rekeyed.test")
	if old.Cert.Subject.String() != rekeyed.Cert.Subject.String() {
		t.Fatalf("the CAs are named %s and %s, want one name", old.Cert.Subject, rekeyed.Cert.Subject)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		replaceFile(t, p, b)
		return p
	}
	oldCA, newCA := write("old-ca.pem", old.CertPEM), write("new-ca.pem", rekeyed.CertPEM)
	oldFive, newOne := crlOf(t, old, this, 5), crlOf(t, rekeyed, this, 1)
	oldCRL, newCRL := write("old.crl", oldFive), write("new.crl", newOne)
	o.clientCAs, o.crls = []string{oldCA, newCA}, []string{oldCRL, newCRL}
	s := startStack(t, o)
	ctx := context.Background()
	if m, err := s.db.Marks(ctx, authn.MarkKindCRLByKey); err != nil || len(m) != 2 {
		t.Errorf("with the CRLs of the two CAs of one name in force the store keeps the marks %q (%v), want two", m, err)
	}

	// The new key's CRL file overwritten with the old key's CRL.
	const dropped = "is trusted, and its CRL (cRLNumber 1) was in force before, but no CRL of it is now"
	replaceFile(t, newCRL, oldFive)
	eventually(t, "the reload without the new key's CRL refused", func() bool {
		return bytes.Contains(s.logs.Bytes(), []byte("trust files do not load")) && bytes.Contains(s.logs.Bytes(), []byte(dropped))
	})
	if bytes.Contains(s.logs.Bytes(), []byte("trust files reloaded")) {
		t.Error("the reload without the new key's CRL applied")
	}
	replaceFile(t, newCRL, newOne)

	// The old CA retired with its CRL: the new key's CRL 1 alone.
	s.opts.clientCAs, s.opts.crls = []string{newCA}, []string{newCRL}
	var got error
	s.opts.trustLoadFails = func(err error) { got = err }
	if g := s.startGateway(t); g == nil {
		t.Fatalf("a gateway trusting the re-keyed CA alone, with its CRL 1, is refused: %v", got)
	}

	// A mark kept by name, before the CA's key counted.
	legacy := authority("legacy.test")
	legacyCA := write("legacy-ca.pem", legacy.CertPEM)
	name, sum := sha256.Sum256(legacy.Cert.RawSubject), sha256.Sum256(crlOf(t, legacy, this, 5))
	kept, err := s.db.Marks(ctx, authn.MarkKindCRL)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := s.db.SwapMarks(ctx, map[string]map[string][]byte{authn.MarkKindCRL: kept}, map[string]map[string][]byte{authn.MarkKindCRL: {
		hex.EncodeToString(name[:]): fmt.Appendf(nil, `{"issuer":%q,"crl_number":"5","this_update":%q,"sha256":%q}`,
			legacy.Cert.Subject.String(), this.Add(5*time.Second).UTC().Format(time.RFC3339), hex.EncodeToString(sum[:])),
	}}); err != nil || !done {
		t.Fatalf("keeping the mark by name: %v, %v", done, err)
	}
	for _, c := range []struct {
		what string
		crls []string
		want string
	}{
		{"CRL 4", []string{newCRL, write("legacy-4.crl", crlOf(t, legacy, this, 4))}, "(cRLNumber 4) is older than the one of its issuer in force before (cRLNumber 5)"},
		{"no CRL", []string{newCRL}, `the client CA "` + legacy.Cert.Subject.String() + `" is trusted, and its CRL (cRLNumber 5) was in force before`},
	} {
		s.opts.clientCAs, s.opts.crls, got = []string{newCA, legacyCA}, c.crls, nil
		if g := s.startGateway(t); g != nil {
			t.Errorf("a gateway with %s of the CA the store keeps CRL 5 of by name started", c.what)
		} else if got == nil || !strings.Contains(got.Error(), c.want) {
			t.Errorf("the start with %s failed with %v, want an error saying %q", c.what, got, c.want)
		}
	}
	s.opts.crls = []string{newCRL, write("legacy-6.crl", crlOf(t, legacy, this, 6))}
	if g := s.startGateway(t); g == nil {
		t.Fatalf("a gateway with CRL 6 of the CA the store keeps CRL 5 of by name is refused: %v", got)
	}
	m, err := s.db.Marks(ctx, authn.MarkKindCRLByKey)
	if err != nil {
		t.Fatal(err)
	}
	var byKey int
	for k := range m {
		if strings.HasPrefix(k, hex.EncodeToString(name[:])+"/") {
			byKey++
		}
	}
	if byKey != 1 {
		t.Errorf("after CRL 6 the store keeps %d marks by key of the CA kept by name, want one: %q", byKey, m)
	}
}
