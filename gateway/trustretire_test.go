package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// TestDroppedDenyListRefused: once deny list version 2, denying the
// prison's certificate, has been in force, a gateway with no deny list
// configured (-deny-list dropped from its configuration) refuses to
// start, saying which version is in force and how to retire it; a
// replica that runs without one, started before version 2 was kept,
// refuses its next reload (a registry change) and says so. Once version
// 3, without entries, is in force, the reload applies and a gateway
// without a deny list starts, and takes the certificate. The store's
// mark was only compared with a deny list configured: without one the
// gateway started, and every revocation of the list was gone.
func TestDroppedDenyListRefused(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDroppedDenyList(t, stackOptions{}) })
	t.Run("postgres", func(t *testing.T) { testDroppedDenyList(t, stackOptions{postgresURL: pgtest.NewDatabase(t)}) })
}

func testDroppedDenyList(t *testing.T, o stackOptions) {
	testDroppedList(t, o, droppedList{
		first: "version:2\n", before: "version 2",
		retire:  "put in force a deny list numbered above 2 with no entries (version:3 alone)",
		retired: "# retired\nversion:3\n",
	})
}

// A droppedList is a deny list, numbered or not, that a configuration
// drops while it has entries (testDroppedList).
type droppedList struct {
	first   string // the list's first line (its version, or a comment)
	before  string // how the refusal names the list in force: "version 2", "no version"
	retire  string // what the refusal says retires it
	retired string // the list that retires it, without entries
}

// testDroppedList: once the list c, denying the prison's certificate, has
// been in force, a gateway with no deny list configured refuses to start,
// saying which list is in force and how to retire it; a replica that runs
// without one, started before the list was kept, refuses its next reload
// and says so. Once c.retired is in force, the reload applies, and a
// gateway without a deny list starts and takes the certificate.
func testDroppedList(t *testing.T, o stackOptions, c droppedList) {
	deny := filepath.Join(t.TempDir(), "deny.txt")
	s := startStack(t, o) // the replica without a deny list, started before any was in force
	fp := sha256.Sum256(agencyCert(t, s, dkPrison.agency)[0].Certificate[0])
	replaceFile(t, deny, []byte(c.first+"sha256:"+hex.EncodeToString(fp[:])+"\n"))
	s.opts.denyList = deny
	withList := s.startGateway(t)
	revokedOn := func(addr string) bool {
		conn := s.dial(t, addr, agencyCert(t, s, dkPrison.agency), s.sign(t, dkPrison.agency, nil))
		st := status.Convert(call(t, conn))
		return st.Code() == codes.Unauthenticated && errorReason(st) == "CERTIFICATE_REVOKED"
	}
	if !revokedOn(withList.addr) {
		t.Fatalf("the deny list (%s) does not revoke the certificate", c.before)
	}

	// A start without the deny list is refused.
	want := "gateway: deny list (-deny-list): authn: there is no deny list, and the one in force before (" + c.before + ") has entries"
	s.opts.denyList = ""
	var got error
	s.opts.trustLoadFails = func(err error) { got = err }
	if g := s.startGateway(t); g != nil {
		t.Fatalf("a gateway without the deny list started after the list (%s) was in force: revoked %v", c.before, revokedOn(g.addr))
	}
	if got == nil || !strings.Contains(got.Error(), want) || !strings.Contains(got.Error(), c.retire) {
		t.Errorf("the start without a deny list failed with %v, want an error saying %q and %q", got, want, c.retire)
	}

	// The replica without one refuses its next reload.
	reloaded := func() int { return bytes.Count(s.logs.Bytes(), []byte("trust files reloaded")) }
	n := reloaded()
	editRegistry(t, s, func(f *gateway.RegistryFile) { f.Agencies[0].Name += " (renamed)" })
	eventually(t, "the reload without a deny list refused", func() bool {
		return bytes.Contains(s.logs.Bytes(), []byte("trust files do not load")) && bytes.Contains(s.logs.Bytes(), []byte(c.retire))
	})
	if reloaded() != n {
		t.Fatalf("the replica without a deny list reloaded after the list (%s) was in force", c.before)
	}

	// The list without entries retires it: the reload applies, and a
	// gateway without a deny list starts.
	replaceFile(t, deny, []byte(c.retired))
	eventually(t, "the list without entries in force on the replica with the list", func() bool { return !revokedOn(withList.addr) })
	eventually(t, "the reload without a deny list to apply", func() bool { return reloaded() > n })
	s.opts.trustLoadFails = nil
	if g := s.startGateway(t); revokedOn(g.addr) {
		t.Error("a gateway started without a deny list after the list without entries refuses the certificate")
	}
}

// TestDroppedCRLRefused: once a CRL of a client CA has been in force, a
// load that still trusts that CA but has no CRL of it is refused: a
// reload whose CRL file of the second CA was overwritten with a copy of
// the first CA's CRL, and a start with the second CA's -crl dropped. A
// start without the second CA and its CRL, together, is accepted. The
// store's marks were only compared with the CRLs configured: without one
// the gateway started, and every revocation of that CA was gone.
func TestDroppedCRLRefused(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDroppedCRL(t, stackOptions{}) })
	t.Run("postgres", func(t *testing.T) { testDroppedCRL(t, stackOptions{postgresURL: pgtest.NewDatabase(t)}) })
}

func testDroppedCRL(t *testing.T, o stackOptions) {
	dir := t.TempDir()
	this := time.Now().Add(-time.Minute).Truncate(time.Second)
	other, err := devpki.NewAuthority("other.test")
	if err != nil {
		t.Fatal(err)
	}
	otherCA, mainCRL, otherCRL := filepath.Join(dir, "other-ca.pem"), filepath.Join(dir, "agencies.crl"), filepath.Join(dir, "other.crl")
	if err := os.WriteFile(otherCA, other.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	var one []byte
	o.clientCAs, o.crls = []string{otherCA}, []string{mainCRL, otherCRL}
	o.beforeStart = func(s *stack) {
		one = numberedCRL(t, s, this, 1)
		replaceFile(t, mainCRL, one)
		replaceFile(t, otherCRL, crlOf(t, other, this, 1))
	}
	s := startStack(t, o)
	if m, err := s.db.Marks(context.Background(), authn.MarkKindCRLByKey); err != nil || len(m) != 2 {
		t.Fatalf("with the CRLs of two CAs in force the store keeps the CRL marks %q (%v), want two", m, err)
	}

	// A reload with the second CA's CRL file overwritten by the first's.
	const want = "is trusted, and its CRL (cRLNumber 1) was in force before, but no CRL of it is now"
	replaceFile(t, otherCRL, one)
	eventually(t, "the reload without the second CA's CRL refused", func() bool {
		return bytes.Contains(s.logs.Bytes(), []byte("trust files do not load")) && bytes.Contains(s.logs.Bytes(), []byte(want))
	})
	if bytes.Contains(s.logs.Bytes(), []byte("trust files reloaded")) {
		t.Error("the reload without the second CA's CRL applied")
	}

	// A start with the second CA's -crl dropped is refused.
	s.opts.crls = []string{mainCRL}
	var got error
	s.opts.trustLoadFails = func(err error) { got = err }
	if g := s.startGateway(t); g != nil {
		t.Fatal("a gateway trusting the second CA without its CRL started after its CRL was in force")
	}
	if got == nil || !strings.Contains(got.Error(), "gateway: CRL (-crl): ") || !strings.Contains(got.Error(), other.Cert.Subject.String()) ||
		!strings.Contains(got.Error(), want) {
		t.Errorf("the start without the second CA's CRL failed with %v, want an error naming -crl and the CA, saying %q", got, want)
	}

	// Without the second CA, it needs no CRL.
	s.opts.clientCAs = nil
	got = nil
	if g := s.startGateway(t); g == nil {
		t.Fatalf("a gateway without the second CA and its CRL is refused: %v", got)
	}
}

// crlOf is a CRL ca signs with cRLNumber number, issued number seconds
// after this and current for an hour from it, revoking nothing.
func crlOf(t *testing.T, ca *devpki.Authority, this time.Time, number int64) []byte {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(number), ThisUpdate: this.Add(time.Duration(number) * time.Second), NextUpdate: this.Add(time.Hour),
	}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
