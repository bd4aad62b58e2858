package gateway_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
)

// TestCRLRollbackRefused: a reload does not put in force a CRL older than
// the one of its issuer in force before (a lower cRLNumber), nor another
// CRL with the same cRLNumber: the certificate the newer CRL revoked stays
// refused, and the operator is told. A newer CRL still loads. The file's
// CRL only had to be signed by a client CA and current, so putting back
// the CA's previous CRL, still before its nextUpdate, un-revoked the
// certificate.
func TestCRLRollbackRefused(t *testing.T) {
	crlPath := filepath.Join(t.TempDir(), "agencies.crl")
	var s *stack
	this := time.Now().Add(-time.Minute).Truncate(time.Second)
	crl := func(number int64, serials ...*big.Int) []byte { return numberedCRL(t, s, this, number, serials...) }
	var first []byte
	s = startStack(t, stackOptions{crls: []string{crlPath}, beforeStart: func(st *stack) {
		s = st
		first = crl(1)
		replaceFile(t, crlPath, first)
	}})
	leaf, err := x509.ParseCertificate(agencyCert(t, s, dkPrison.agency)[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	conn := s.conn(t, dkPrison)
	if err := call(t, conn); err != nil {
		t.Fatalf("with CRL 1, revoking nothing: %v", err)
	}
	revoked := func() bool {
		st := status.Convert(call(t, conn))
		return st.Code() == codes.Unauthenticated && errorReason(st) == "CERTIFICATE_REVOKED"
	}
	replaceFile(t, crlPath, crl(2, leaf.SerialNumber))
	eventually(t, "CRL 2, revoking the certificate, to load", revoked)

	for _, c := range []struct {
		name, log string
		crl       []byte
	}{
		{"CRL 1 put back", "is older than the one of its issuer in force before", first},
		{"another CRL 2, revoking nothing", "differs from the one of its issuer in force before", crl(2)},
	} {
		replaceFile(t, crlPath, c.crl)
		eventually(t, c.name+" to be refused or applied", func() bool {
			return bytes.Contains(s.logs.Bytes(), []byte(c.log)) || !revoked()
		})
		if !bytes.Contains(s.logs.Bytes(), []byte("trust files do not load; the ones applied last stay in force")) {
			t.Errorf("%s: the operator was not told the trust files do not load:\n%s", c.name, s.logs.Bytes())
		}
		for range 3 { // reloads run every 50ms: long enough for one to have applied it
			if !revoked() {
				t.Fatalf("%s: the certificate CRL 2 revoked is accepted again", c.name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// The CA's next CRL, which no longer lists the certificate, loads.
	replaceFile(t, crlPath, crl(3))
	eventually(t, "CRL 3, revoking nothing, to load", func() bool { return call(t, conn) == nil })
}

// TestCRLRollbackRefusedAfterRestart: the newest CRL of each issuer the
// gateway put in force is kept in the audit store, so that a gateway
// started again on it (a restart, or another replica) refuses to start
// with an older CRL of that issuer, or another of the same cRLNumber,
// rather than un-revoke what the newer one revoked; with the CRL in
// force before, it starts and the certificate stays revoked. The rule
// was kept in memory only, and a restart loaded any current CRL.
func TestCRLRollbackRefusedAfterRestart(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testCRLRollbackAfterRestart(t, stackOptions{}) })
	t.Run("postgres", func(t *testing.T) { testCRLRollbackAfterRestart(t, stackOptions{postgresURL: pgtest.NewDatabase(t)}) })
}

func testCRLRollbackAfterRestart(t *testing.T, o stackOptions) {
	crlPath := filepath.Join(t.TempDir(), "agencies.crl")
	this := time.Now().Add(-time.Minute).Truncate(time.Second)
	crl := func(s *stack, number int64, serials ...*big.Int) []byte {
		return numberedCRL(t, s, this, number, serials...)
	}
	var two []byte
	o.crls = []string{crlPath}
	o.beforeStart = func(s *stack) {
		leaf, err := x509.ParseCertificate(agencyCert(t, s, dkPrison.agency)[0].Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		two = crl(s, 2, leaf.SerialNumber)
		replaceFile(t, crlPath, two)
	}
	s := startStack(t, o)
	revokedOn := func(addr string) bool {
		conn := s.dial(t, addr, agencyCert(t, s, dkPrison.agency), s.sign(t, dkPrison.agency, nil))
		st := status.Convert(call(t, conn))
		return st.Code() == codes.Unauthenticated && errorReason(st) == "CERTIFICATE_REVOKED"
	}
	if !revokedOn(s.addr) {
		t.Fatal("CRL 2 does not revoke the certificate")
	}

	for _, c := range []struct {
		name, want string
		crl        []byte
	}{
		{"CRL 1, revoking nothing", "is older than the one of its issuer in force before", crl(s, 1)},
		{"another CRL 2, revoking nothing", "differs from the one of its issuer in force before", crl(s, 2)},
	} {
		replaceFile(t, crlPath, c.crl)
		var got error
		s.opts.trustLoadFails = func(err error) { got = err }
		if g := s.startGateway(t); g != nil {
			t.Fatalf("%s: a gateway started again on the store started, and serves: revoked %v", c.name, revokedOn(g.addr))
		}
		if got == nil || !strings.Contains(got.Error(), c.want) {
			t.Errorf("%s: the start failed with %v, want an error saying %q", c.name, got, c.want)
		}
	}

	// With the CRL in force before, a gateway starts, and refuses the
	// certificate.
	replaceFile(t, crlPath, two)
	s.opts.trustLoadFails = nil
	if g := s.startGateway(t); !revokedOn(g.addr) {
		t.Error("a gateway started again with CRL 2 accepts the certificate it revokes")
	}
}

// numberedCRL is a CRL of the stack's client CA with cRLNumber number,
// issued number seconds after this and current for an hour from it,
// revoking serials.
func numberedCRL(t *testing.T, s *stack, this time.Time, number int64, serials ...*big.Int) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, n := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: this})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(number), ThisUpdate: this.Add(time.Duration(number) * time.Second), NextUpdate: this.Add(time.Hour),
		RevokedCertificateEntries: entries,
	}, s.pki.CA.Cert, s.pki.CA.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
