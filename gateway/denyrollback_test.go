package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestDenyListRollbackRefused: a deny list numbered by a version line is
// not rolled back. Once version 2, denying the prison's certificate, is
// in force, a reload refuses version 1, a list without a version and
// another version 2 (each revoking nothing), and the certificate stays
// refused; so does a gateway started again on the audit store (a
// restart), which refuses to start with version 1. Version 3 loads. The
// deny list had no version, and putting back an older one un-denied the
// certificate.
func TestDenyListRollbackRefused(t *testing.T) {
	deny := filepath.Join(t.TempDir(), "deny.txt")
	var two []byte
	s := startStack(t, stackOptions{denyList: deny, beforeStart: func(st *stack) {
		fp := sha256.Sum256(agencyCert(t, st, dkPrison.agency)[0].Certificate[0])
		two = []byte("# revoked agency certificates\nversion:2\nsha256:" + hex.EncodeToString(fp[:]) + "\n")
		replaceFile(t, deny, two)
	}})
	revokedOn := func(addr string) bool {
		conn := s.dial(t, addr, agencyCert(t, s, dkPrison.agency), s.sign(t, dkPrison.agency, nil))
		st := status.Convert(call(t, conn))
		return st.Code() == codes.Unauthenticated && errorReason(st) == "CERTIFICATE_REVOKED"
	}
	if !revokedOn(s.addr) {
		t.Fatal("deny list version 2 does not revoke the certificate")
	}

	for _, c := range []struct{ name, list, log string }{
		{"version 1 put back", "version:1\n", "is older than the one in force before (version 2)"},
		{"a list without a version", "# nothing revoked\n", "has no version line, and the one in force before has version 2"},
		{"another version 2", "version:2\n", "differs from the one in force before, of the same version"},
	} {
		replaceFile(t, deny, []byte(c.list))
		eventually(t, c.name+" to be refused or applied", func() bool {
			return bytes.Contains(s.logs.Bytes(), []byte(c.log)) || !revokedOn(s.addr)
		})
		for range 3 { // reloads run every 50ms: long enough for one to have applied it
			if !revokedOn(s.addr) {
				t.Fatalf("%s: the certificate version 2 denies is accepted again", c.name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// A restart on the same audit store with version 1 is refused; with
	// version 2 it starts, and the certificate stays refused.
	replaceFile(t, deny, []byte("version:1\n"))
	var got error
	s.opts.trustLoadFails = func(err error) { got = err }
	if g := s.startGateway(t); g != nil {
		t.Fatalf("a gateway started again with deny list version 1 started: revoked %v", revokedOn(g.addr))
	}
	if want := "is older than the one in force before"; got == nil || !strings.Contains(got.Error(), want) {
		t.Errorf("the start with version 1 failed with %v, want an error saying %q", got, want)
	}
	replaceFile(t, deny, two)
	s.opts.trustLoadFails = nil
	if g := s.startGateway(t); !revokedOn(g.addr) {
		t.Error("a gateway started again with version 2 accepts the certificate it denies")
	}

	// The next version, which no longer denies the certificate, loads.
	replaceFile(t, deny, []byte("version:3\n"))
	eventually(t, "version 3, revoking nothing, to load", func() bool { return call(t, s.conn(t, dkPrison)) == nil })
}
