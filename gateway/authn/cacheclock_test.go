package authn_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// countingReplay is a process-local ReplayStore that counts the tokens it
// is asked about: each is a token the Verifier did not take from its
// cache.
type countingReplay struct {
	mu    sync.Mutex
	seen  map[[32]byte][32]byte
	asked int
}

func (r *countingReplay) Remember(_ context.Context, id, binding [32]byte, _ time.Time) ([32]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked++
	if first, ok := r.seen[id]; ok {
		return first, nil
	}
	r.seen[id] = binding
	return binding, nil
}

// TestTokenCacheSweepsByTheVerifiersClock: when the verified-token cache
// is full, the entries it drops first are those expired by the
// Verifier's clock (Config.Now), the clock every other check uses. It
// swept by the wall clock: with the Verifier's clock ahead (a test's, an
// exercise's), tokens expired by it stayed, and live ones were dropped
// instead, to be verified again.
func TestTokenCacheSweepsByTheVerifiersClock(t *testing.T) {
	ca, err := devpki.NewAuthority("liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(ca.AgencyIdentity("nl-police-rotterdam"), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(leaf.Cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	iss, err := devpki.NewIssuer("https://idp.police.test", "k1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(3 * time.Hour)
	replay := &countingReplay{seen: map[[32]byte][32]byte{}}
	v, err := authn.NewVerifier(authn.Config{Audience: "liaison", CacheSize: 4, Replay: replay, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetAgencies([]*authn.Agency{{ID: "nl-police-rotterdam", Kind: "police", Jurisdiction: "NL",
		CertificateIdentity: ca.AgencyIdentity("nl-police-rotterdam"), Issuer: iss.Name, Keys: iss.PublicKeys()}}); err != nil {
		t.Fatal(err)
	}
	v.SetTrust(ca.Pool(), nil)
	conn := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	token := func() string {
		tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
			"iss": iss.Name, "sub": "insp.de.vries", "aud": "liaison",
			"iat": now.Unix(), "exp": now.Add(30 * time.Minute).Unix(), "jti": rand.Text(),
		})
		tk.Header["kid"] = iss.Kid
		s, err := tk.SignedString(iss.Key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	auth := func(toks []string) int {
		t.Helper()
		before := replay.asked
		for _, tok := range toks {
			if _, err := v.Authenticate(t.Context(), conn, tok); err != nil {
				t.Fatal(err)
			}
		}
		return replay.asked - before
	}
	var old []string
	for range 4 {
		old = append(old, token())
	}
	auth(old) // the cache is full
	// An hour on, by the Verifier's clock: the four have expired (not
	// yet by the wall clock).
	now = now.Add(time.Hour)
	var live []string
	for range 4 {
		live = append(live, token())
	}
	if n := auth(live); n != 4 {
		t.Fatalf("%d of 4 new tokens were checked for replay, want all", n)
	}
	if n := auth(live); n != 0 {
		t.Errorf("%d of the 4 live tokens were verified again: the full cache dropped live tokens, not the expired ones", n)
	}
}
