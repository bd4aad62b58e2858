package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// providerClient returns a client for a holder's RecordProvider. The
// connection is made once and kept; its TLS handshake checks that the
// server's certificate carries the holder's registered identity, so that a
// wrong address can never feed records in the holder's name, and that it
// is trusted now (not revoked by a CRL or the deny list). The kept
// connection is used again only while the certificate of its last
// handshake still is: a revocation since closes it, and the new
// connection's handshake refuses the certificate.
func (s *Server) providerClient(holder *Agency) (liaisonv1.RecordProviderClient, error) {
	key := "holder|" + holder.ID + "|" + holder.Provider + "|" + holder.CertificateIdentity
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.providers[key]; ok {
		if s.peerStillTrusted(key, holder.ID) {
			return liaisonv1.NewRecordProviderClient(c), nil
		}
		s.log.Warn("the record provider's certificate is no longer trusted: its connection is closed", "holder", holder.ID)
		c.Close()
		delete(s.providers, key)
	}
	if s.closed {
		return nil, fmt.Errorf("%w: %v", errProvider, errClosed)
	}
	tc := s.cfg.ProviderTLS.Clone()
	tc.MinVersion = tls.VersionTLS13
	want, id := holder.CertificateIdentity, holder.ID
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("gateway: record provider presented no certificate")
		}
		for _, u := range cs.PeerCertificates[0].URIs {
			if u.String() != want {
				continue
			}
			// The certificate must be one this gateway takes the
			// holder's own calls with now (the trust files as last
			// loaded: CAs, CRLs, deny list): a revoked one is not sent a
			// subject's identifier.
			if s.cfg.Verifier != nil {
				a, err := s.cfg.Verifier.CheckCertificate(&cs)
				if err != nil || a.ID != id {
					return fmt.Errorf("gateway: the record provider's certificate is not one this gateway trusts now: %v", err)
				}
				s.peerHandshakes.Store(key, &cs)
			}
			return nil
		}
		return fmt.Errorf("gateway: record provider's certificate does not name %s", want)
	}
	c, err := grpc.NewClient(holder.Provider, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errProvider, err)
	}
	s.retireConns("holder|"+holder.ID+"|", key)
	s.keepConn(key, c)
	return liaisonv1.NewRecordProviderClient(c), nil
}

// connRetireGrace is how long a connection to an address the registry no
// longer gives stays open after its replacement is dialled: longer than
// any call's deadline, so that a call made on it just before the change
// ends on its own, and not forever.
const connRetireGrace = 2 * time.Minute

// retireConns closes, after connRetireGrace, the kept connections whose
// key starts with prefix (one holder's, or one peer's) other than key:
// those to an address or identity the registry gave before. s.mu is held.
func (s *Server) retireConns(prefix, key string) {
	for k, c := range s.providers {
		if k != key && strings.HasPrefix(k, prefix) {
			delete(s.providers, k)
			s.peerHandshakes.Delete(k)
			s.retire(c)
		}
	}
}

// retireUnlisted retires (as retireConns does) the kept connections that
// registry r no longer gives: to a holder or peer gateway it no longer
// lists, or lists at another address or identity (or, for a peer, no
// longer as a peer gateway). A moved one is otherwise retired only when
// its new address is dialled, and a removed one never would be.
func (s *Server) retireUnlisted(r *Registry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.providers {
		if gives(r, k) {
			continue
		}
		delete(s.providers, k)
		s.peerHandshakes.Delete(k)
		s.retire(c)
	}
}

// keepConn keeps the connection c dialled under key for later calls,
// unless the registry in force no longer gives it (it changed while the
// connection was dialled: retireUnlisted has run, or is waiting for
// s.mu): then c serves the call that dialled it and is retired. s.mu is
// held.
func (s *Server) keepConn(key string, c *grpc.ClientConn) {
	if r := s.registry.Load(); r != nil && !gives(r, key) {
		s.retire(c)
		return
	}
	s.providers[key] = c
}

// retire closes c after connRetireGrace, or at Close. s.mu is held.
func (s *Server) retire(c *grpc.ClientConn) {
	s.retired = append(s.retired, c)
	time.AfterFunc(connRetireGrace, func() { c.Close() })
}

// gives reports whether registry r gives the connection key names
// ("holder|" or "peer|", then the agency id, address and identity).
func gives(r *Registry, key string) bool {
	kind, rest, _ := strings.Cut(key, "|")
	id, _, _ := strings.Cut(rest, "|")
	a := r.Agencies[id]
	switch {
	case a == nil:
		return false
	case kind == "holder" && a.Provider != "":
		return key == "holder|"+a.ID+"|"+a.Provider+"|"+a.CertificateIdentity
	case kind == "peer" && a.Kind == KindPeerGateway:
		return key == "peer|"+a.ID+"|"+a.Provider+"|"+a.CertificateIdentity
	}
	return false
}

// errClosed is why a holder or a peer gateway is not dialled after Close.
var errClosed = errors.New("gateway: the gateway is shutting down")

// holdsRecordType reports whether a Describe answer lists the record type.
func holdsRecordType(d *liaisonv1.DescribeResponse, rt liaisonv1.RecordType) bool {
	return slices.Contains(d.GetRecordTypes(), rt)
}

// hitAnswer is a hit/no-hit answer as an entry's detail "answer" records
// it, as for Match.
func hitAnswer(hit bool) string {
	if hit {
		return "hit"
	}
	return "no_hit"
}
