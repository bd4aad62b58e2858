package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
)

// TestTrustReloadAllOrNothing: the deny list changes to revoke the Danish
// prison's certificate while the registry beside it does not apply (an
// agency's algorithm is not allowed). The reload fails and says the
// previous state stays in force: so it does, the revocation included, and
// the prison's calls are still taken. Once the registry applies again,
// both take effect.
func TestTrustReloadAllOrNothing(t *testing.T) {
	deny := t.TempDir() + "/deny.txt"
	if err := os.WriteFile(deny, []byte("# revoked agency certificates\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{denyList: deny})
	conn := s.conn(t, dkPrison)
	if err := call(t, conn); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	badAlgorithm := func(agency string) func(*gateway.RegistryFile) {
		return func(f *gateway.RegistryFile) {
			for i := range f.Agencies {
				if f.Agencies[i].ID == agency {
					f.Agencies[i].Algorithms = []string{"HS256"}
				}
			}
		}
	}
	logged := func(what string) func() bool {
		return func() bool { return bytes.Contains(s.logs.Bytes(), []byte(what)) }
	}
	// A registry that does not apply, then the deny list with another
	// registry that does not apply: the reload that reads the second
	// reads the new deny list too.
	editRegistry(t, s, badAlgorithm(nlPolice.agency))
	eventually(t, "the first registry refused", logged(`agency \"`+nlPolice.agency+`\": algorithm`))
	cert := agencyCert(t, s, dkPrison.agency)[0]
	fp := sha256.Sum256(cert.Certificate[0])
	if err := os.WriteFile(deny, []byte("sha256:"+hex.EncodeToString(fp[:])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Straight to the second registry that does not apply, never through
	// the good one: a reload in between would apply it with the new deny
	// list, and the revocation would be in force (a pause of this test
	// between the two writes longer than the 50ms watch interval, which a
	// loaded machine can cause, was enough).
	rewriteRegistry(t, s, good, badAlgorithm("dk-police-aarhus"))
	eventually(t, "the second registry refused", logged(`agency \"dk-police-aarhus\": algorithm`))
	time.Sleep(200 * time.Millisecond) // a few more reloads
	if err := call(t, conn); err != nil {
		t.Fatalf("a call after a reload that failed: %v; want it taken, the previous trust in force", err)
	}
	// The registry applies again: now the revocation takes effect.
	replaceFile(t, s.pki.Registry, good)
	eventually(t, "the revocation with a registry that applies", func() bool { return status.Code(call(t, conn)) == codes.Unauthenticated })
}

// TestTrustChangeAppliesOnceSettled: a registry caught half written (an
// editor truncates the file, then writes it) can parse, as an empty one
// does; applied at once, it would take every agency out of the registry
// until the next reload. A change applies only when two reloads in a row
// read it the same: the empty registry read once is not applied, the
// agencies' calls go on, and a real change (an agency offboarded) applies
// at the second reload that reads it.
func TestTrustChangeAppliesOnceSettled(t *testing.T) {
	s := startStack(t, stackOptions{trustInterval: time.Hour}) // the test reloads, not the ticker
	ctx := t.Context()
	good, err := os.ReadFile(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	replaceFile(t, s.pki.Registry, nil) // truncated, as an editor leaves it for a moment
	if applied, err := s.srv.ReloadTrust(ctx); applied || err != nil {
		t.Fatalf("reload of an empty registry read once = %v, %v; want not applied yet", applied, err)
	}
	replaceFile(t, s.pki.Registry, good)
	if applied, err := s.srv.ReloadTrust(ctx); applied || err != nil {
		t.Fatalf("reload of the registry as applied = %v, %v; want nothing to apply", applied, err)
	}
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, releaseNotice(s)); err != nil {
		t.Fatalf("the prison's Disclose after the empty registry was read once: %v", err)
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == dkPrison.agency {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	for i, want := range []bool{false, true, false} {
		if applied, err := s.srv.ReloadTrust(ctx); applied != want || err != nil {
			t.Fatalf("reload %d of the offboarding = %v, %v; want %v", i+1, applied, err, want)
		}
	}
	if _, err := s.exchange(t, dkPrison).Disclose(ctx, releaseNotice(s)); err == nil {
		t.Error("the offboarded prison's Disclose was taken")
	}
}

// TestRevokedHolderIsNotAsked: the Dutch probation service's certificate
// put on the deny list after the gateway connected to its RecordProvider:
// the next request is not sent over the kept connection (it would carry
// the subject's identifier to a certificate the gateway no longer trusts),
// nor over a new one, whose handshake refuses the certificate; it fails
// HOLDER_UNAVAILABLE.
func TestRevokedHolderIsNotAsked(t *testing.T) {
	deny := t.TempDir() + "/deny.txt"
	if err := os.WriteFile(deny, []byte("# revoked agency certificates\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{denyList: deny})
	police := s.exchange(t, nlPolice)
	if _, err := police.Request(t.Context(), riskReq(nil)); err != nil {
		t.Fatalf("Request before the revocation: %v", err)
	}
	asked := s.providers["nl-probation"].Fetches()
	fp := sha256.Sum256(agencyCert(t, s, "nl-probation")[0].Certificate[0])
	if err := os.WriteFile(deny, []byte("sha256:"+hex.EncodeToString(fp[:])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The deny list applies once read twice alike; the probation
	// service's own calls are refused from then on.
	eventually(t, "the revocation in force", func() bool { return status.Code(call(t, s.conn(t, nlProbation))) == codes.Unauthenticated })
	_, err := police.Request(t.Context(), riskReq(nil))
	if st := status.Convert(err); err == nil || errorReason(st) != "HOLDER_UNAVAILABLE" {
		t.Errorf("Request after the holder's certificate was revoked: %v; want HOLDER_UNAVAILABLE", err)
	}
	if n := s.providers["nl-probation"].Fetches(); n != asked {
		t.Errorf("the revoked holder was asked %d more times", n-asked)
	}
}
