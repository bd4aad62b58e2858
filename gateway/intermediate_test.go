package gateway_test

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// An agency's certificate issued by an intermediate CA under a trusted
// root (-client-ca) is refused once the root's CRL (-crl) revokes the
// intermediate, on a connection that was accepted before: one refused
// entry, CERTIFICATE_REVOKED, booked under the agency.
func TestRevokedIntermediateCAIsRefused(t *testing.T) {
	const ams = "nl-police-amsterdam"
	crlPath := filepath.Join(t.TempDir(), "root.crl")
	var root, inter *devpki.Authority
	writeCRL := func(serials ...*big.Int) {
		var entries []x509.RevocationListEntry
		for _, n := range serials {
			entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: time.Now()})
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour),
			RevokedCertificateEntries: entries,
		}, root.Cert, root.Key)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crlPath, der, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startStack(t, stackOptions{crls: []string{crlPath}, beforeStart: func(st *stack) {
		var err error
		if root, err = devpki.NewRootAuthority(st.pki.CA.TrustDomain); err != nil {
			t.Fatal(err)
		}
		if inter, err = root.Intermediate("Politie issuing CA (test)", 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		// The second root joins the client CAs (the sample CA stays).
		f, err := os.OpenFile(st.pki.Path("ca.pem"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(root.CertPEM); err != nil {
			t.Fatal(err)
		}
		f.Close()
		writeCRL()
	}})
	leaf, err := inter.Issue(inter.AgencyIdentity(ams), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	conn := s.dial(t, s.addr, []tls.Certificate{leaf.Cert}, s.sign(t, ams, nil))
	if err := call(t, conn); err != nil {
		t.Fatalf("a certificate of the intermediate CA before its revocation: %v", err)
	}

	writeCRL(inter.Cert.SerialNumber)
	eventually(t, "the intermediate's revocation", func() bool { return call(t, conn) != nil })
	before, err := s.db.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st := wantStatus(t, call(t, conn), codes.Unauthenticated)
	if got := errorReason(st); got != "CERTIFICATE_REVOKED" {
		t.Errorf("reason %q (%s), want CERTIFICATE_REVOKED", got, st.Message())
	}
	if n, _ := s.db.Size(t.Context()); n != before+1 {
		t.Fatalf("%d entries written, want one", n-before)
	}
	e := s.entry(t, before)
	if e.Action != audit.ActionAuthenticate || e.Outcome != audit.OutcomeRefused || len(e.Reasons) == 0 || e.Reasons[0] != "CERTIFICATE_REVOKED" ||
		e.Requester == nil || e.Requester.Agency != ams {
		t.Errorf("entry %s %s %v requester %+v; want a refused authenticate entry, CERTIFICATE_REVOKED, of %s", e.Action, e.Outcome, e.Reasons, e.Requester, ams)
	}
	// A new connection is refused alike; the sample CA's agencies are not.
	if err := call(t, s.dial(t, s.addr, []tls.Certificate{leaf.Cert}, s.sign(t, ams, nil))); err == nil {
		t.Error("a new connection with a certificate of the revoked intermediate is accepted")
	}
	if err := call(t, s.conn(t, nlPolice)); err != nil {
		t.Errorf("an agency of the other CA: %v", err)
	}
}
