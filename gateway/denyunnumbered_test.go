package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
)

// TestDroppedUnnumberedDenyListRefused: a deny list without a version
// line, denying the prison's certificate, in force on one replica: a
// gateway with no deny list configured (-deny-list dropped from its
// configuration) refuses to start, saying how to retire the list; the
// replica running without one, started before the list was in force,
// refuses its next reload. Once the list, emptied, is in force, the
// reload applies and a gateway without a deny list starts. A list
// without a version was not kept in the store at all: a gateway without
// it started, and every revocation of the list was gone, unsaid.
func TestDroppedUnnumberedDenyListRefused(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDroppedUnnumberedDenyList(t, stackOptions{}) })
	t.Run("postgres", func(t *testing.T) { testDroppedUnnumberedDenyList(t, stackOptions{postgresURL: pgtest.NewDatabase(t)}) })
}

func testDroppedUnnumberedDenyList(t *testing.T, o stackOptions) {
	deny := filepath.Join(t.TempDir(), "deny.txt")
	s := startStack(t, o) // the replica without a deny list, started before any was in force
	fp := sha256.Sum256(agencyCert(t, s, dkPrison.agency)[0].Certificate[0])
	replaceFile(t, deny, []byte("# revoked after the key was lost\nsha256:"+hex.EncodeToString(fp[:])+"\n"))
	s.opts.denyList = deny
	withList := s.startGateway(t)
	revokedOn := func(addr string) bool {
		conn := s.dial(t, addr, agencyCert(t, s, dkPrison.agency), s.sign(t, dkPrison.agency, nil))
		st := status.Convert(call(t, conn))
		return st.Code() == codes.Unauthenticated && errorReason(st) == "CERTIFICATE_REVOKED"
	}
	if !revokedOn(withList.addr) {
		t.Fatal("the deny list does not revoke the certificate")
	}

	// A start without the deny list is refused.
	const want = "gateway: deny list (-deny-list): authn: there is no deny list, and the one in force before (no version) has entries"
	const retire = "put in force a deny list with no entries (an empty file, or version:1 alone), after which it can be removed"
	s.opts.denyList = ""
	var got error
	s.opts.trustLoadFails = func(err error) { got = err }
	if g := s.startGateway(t); g != nil {
		t.Fatalf("a gateway without the deny list started after one with entries was in force: revoked %v", revokedOn(g.addr))
	}
	if got == nil || !strings.Contains(got.Error(), want) || !strings.Contains(got.Error(), retire) {
		t.Errorf("the start without a deny list failed with %v, want an error saying %q and %q", got, want, retire)
	}

	// The replica without one refuses its next reload.
	reloaded := func() int { return bytes.Count(s.logs.Bytes(), []byte("trust files reloaded")) }
	n := reloaded()
	editRegistry(t, s, func(f *gateway.RegistryFile) { f.Agencies[0].Name += " (renamed)" })
	eventually(t, "the reload without a deny list refused", func() bool {
		return bytes.Contains(s.logs.Bytes(), []byte("trust files do not load")) && bytes.Contains(s.logs.Bytes(), []byte(retire))
	})
	if reloaded() != n {
		t.Fatal("the replica without a deny list reloaded after one with entries was in force")
	}

	// The list emptied retires it: the reload applies, and a gateway
	// without a deny list starts.
	replaceFile(t, deny, []byte("# retired\n"))
	eventually(t, "the empty list in force on the replica with the list", func() bool { return !revokedOn(withList.addr) })
	eventually(t, "the reload without a deny list to apply", func() bool { return reloaded() > n })
	s.opts.trustLoadFails = nil
	if g := s.startGateway(t); revokedOn(g.addr) {
		t.Error("a gateway started without a deny list after the empty one refuses the certificate")
	}
}
