package gateway

import (
	"crypto/tls"
	"errors"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

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
	if _, err := s.peerConn(t.Context(), peer); err == nil {
		t.Errorf("peerConn after Close dialled the peer; want an error")
	}
	if n := len(s.providers); n != 0 {
		t.Errorf("%d connections dialled after Close, never to be closed; want none", n)
	}
}

// TestRegistryChangeRetiresOldConnections: a holder or a peer the registry
// moves to another address (or identity) is dialled there, and the
// connection to where it was is no longer kept: it is closed after a grace
// (or by Close), not left open for the life of the process. Other
// agencies' connections stay.
func TestRegistryChangeRetiresOldConnections(t *testing.T) {
	t.Parallel()
	s := &Server{providers: map[string]*grpc.ClientConn{}, cfg: Config{ProviderTLS: &tls.Config{}}, deciders: newDeepStacks(1)}
	holder := func(addr string) *Agency {
		return &Agency{Agency: &authn.Agency{ID: "peer", CertificateIdentity: "spiffe://holder"}, Provider: addr}
	}
	peer := func(addr string) *Agency {
		return &Agency{Agency: &authn.Agency{ID: "nl.gateway", CertificateIdentity: "spiffe://peer"}, Provider: addr}
	}
	other := &Agency{Agency: &authn.Agency{ID: "dk.other", CertificateIdentity: "spiffe://other"}, Provider: "127.0.0.1:9"}
	for _, dial := range []func() error{
		func() error { _, err := s.providerClient(holder("127.0.0.1:1")); return err },
		func() error { _, err := s.peerConn(t.Context(), peer("127.0.0.1:2")); return err },
		func() error { _, err := s.providerClient(other); return err },
		func() error { _, err := s.providerClient(holder("127.0.0.1:3")); return err },      // moved
		func() error { _, err := s.peerConn(t.Context(), peer("127.0.0.1:4")); return err }, // moved
		func() error { _, err := s.providerClient(holder("127.0.0.1:3")); return err },      // kept
	} {
		if err := dial(); err != nil {
			t.Fatal(err)
		}
	}
	var kept []string
	for k := range s.providers {
		kept = append(kept, k)
	}
	slices.Sort(kept)
	want := []string{
		"holder|dk.other|127.0.0.1:9|spiffe://other",
		"holder|peer|127.0.0.1:3|spiffe://holder",
		"peer|nl.gateway|127.0.0.1:4|spiffe://peer",
	}
	if !slices.Equal(kept, want) || len(s.retired) != 2 {
		t.Errorf("kept %q and %d retired; want %q and the 2 old ones retired", kept, len(s.retired), want)
	}
	retired := slices.Clone(s.retired)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range retired {
		if st := c.GetState(); st != connectivity.Shutdown {
			t.Errorf("a retired connection is %v after Close; want SHUTDOWN", st)
		}
	}
}

// TestRegistryRemovalRetiresConnections: a registry that no longer lists
// a holder (or lists it with no record provider, or at another address),
// or no longer lists a peer gateway, retires the kept connections to it
// when it is applied: they are not kept open, idle, until Close. Those it
// still gives stay.
func TestRegistryRemovalRetiresConnections(t *testing.T) {
	t.Parallel()
	s := &Server{providers: map[string]*grpc.ClientConn{}, cfg: Config{ProviderTLS: &tls.Config{}}, deciders: newDeepStacks(1)}
	agency := func(id, kind, addr string) *Agency {
		return &Agency{Agency: &authn.Agency{ID: id, Kind: kind, CertificateIdentity: "spiffe://" + id}, Provider: addr}
	}
	kept, gone, moved, noProvider := agency("dk.kept", "prison", "127.0.0.1:1"), agency("dk.gone", "prison", "127.0.0.1:2"),
		agency("dk.moved", "prison", "127.0.0.1:3"), agency("dk.noprov", "prison", "127.0.0.1:4")
	peer, oldPeer := agency("nl.gateway", KindPeerGateway, "127.0.0.1:5"), agency("be.gateway", KindPeerGateway, "127.0.0.1:6")
	for _, h := range []*Agency{kept, gone, moved, noProvider} {
		if _, err := s.providerClient(h); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*Agency{peer, oldPeer} {
		if _, err := s.peerConn(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	s.retireUnlisted(&Registry{Agencies: map[string]*Agency{
		kept.ID: kept, peer.ID: peer,
		moved.ID:      agency("dk.moved", "prison", "127.0.0.1:7"),
		noProvider.ID: agency("dk.noprov", "prison", ""),
	}})
	var got []string
	for k := range s.providers {
		got = append(got, k)
	}
	slices.Sort(got)
	want := []string{"holder|dk.kept|127.0.0.1:1|spiffe://dk.kept", "peer|nl.gateway|127.0.0.1:5|spiffe://nl.gateway"}
	if !slices.Equal(got, want) || len(s.retired) != 4 {
		t.Errorf("kept %q and %d retired; want %q and the 4 others retired", got, len(s.retired), want)
	}
	retired := slices.Clone(s.retired)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range retired {
		if st := c.GetState(); st != connectivity.Shutdown {
			t.Errorf("a retired connection is %v after Close; want SHUTDOWN", st)
		}
	}
}

// TestConnectionDialledAcrossARegistryChangeIsNotKept: a call that read
// the registry before a change dials a holder and a peer the new registry
// no longer gives (after retireUnlisted ran for it). The connections
// serve that call, but are not kept: they are retired, not left open for
// the life of the process. One the registry still gives is kept.
func TestConnectionDialledAcrossARegistryChangeIsNotKept(t *testing.T) {
	t.Parallel()
	s := &Server{providers: map[string]*grpc.ClientConn{}, cfg: Config{ProviderTLS: &tls.Config{}}, deciders: newDeepStacks(1)}
	agency := func(id, kind, addr string) *Agency {
		return &Agency{Agency: &authn.Agency{ID: id, Kind: kind, CertificateIdentity: "spiffe://" + id}, Provider: addr}
	}
	kept, gone, peer := agency("dk.kept", "prison", "127.0.0.1:1"), agency("dk.gone", "prison", "127.0.0.1:2"), agency("nl.gateway", KindPeerGateway, "127.0.0.1:3")
	s.registry.Store(&Registry{Agencies: map[string]*Agency{kept.ID: kept}})
	s.retireUnlisted(s.registry.Load())
	for _, h := range []*Agency{kept, gone} {
		if c, err := s.providerClient(h); err != nil || c == nil {
			t.Fatalf("providerClient(%s) = %v, %v; want a client for the call", h.ID, c, err)
		}
	}
	if c, err := s.peerConn(t.Context(), peer); err != nil || c == nil {
		t.Fatalf("peerConn = %v, %v; want a connection for the call", c, err)
	}
	var got []string
	for k := range s.providers {
		got = append(got, k)
	}
	if want := []string{"holder|dk.kept|127.0.0.1:1|spiffe://dk.kept"}; !slices.Equal(got, want) || len(s.retired) != 2 {
		t.Errorf("kept %q and %d retired; want %q and the 2 others retired", got, len(s.retired), want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
