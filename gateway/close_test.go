package gateway

import (
	"crypto/tls"
	"errors"
	"testing"

	"google.golang.org/grpc"

	"github.com/liaison-gateway/liaison/gateway/authn"
)

// TestNoDialAfterClose: Close closes the connections to holders and peer
// gateways; a call or a timer pass still running afterwards (Run is given
// a bounded time to stop before Close) that needs one finds it unavailable
// rather than dialling a connection that nobody closes, and that leaks its
// goroutines for the rest of the process.
func TestNoDialAfterClose(t *testing.T) {
	t.Parallel()
	s := &Server{providers: map[string]*grpc.ClientConn{}, cfg: Config{ProviderTLS: &tls.Config{}}, deciders: newDeepStacks(1)}
	holder := &Agency{Agency: &authn.Agency{ID: "dk.holder", CertificateIdentity: "spiffe://holder"}, Provider: "127.0.0.1:1"}
	peer := &Agency{Agency: &authn.Agency{ID: "nl.gateway", CertificateIdentity: "spiffe://peer"}, Provider: "127.0.0.1:2"}
	if _, err := s.providerClient(holder); err != nil {
		t.Fatalf("providerClient before Close: %v", err)
	}
	if len(s.providers) != 1 {
		t.Fatalf("%d connections before Close; want 1", len(s.providers))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.providerClient(holder); !errors.Is(err, errProvider) {
		t.Errorf("providerClient after Close: %v; want the holder unavailable", err)
	}
	if _, err := s.peerConn(peer); err == nil {
		t.Errorf("peerConn after Close dialled the peer; want an error")
	}
	if n := len(s.providers); n != 0 {
		t.Errorf("%d connections dialled after Close, never to be closed; want none", n)
	}
}
