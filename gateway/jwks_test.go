package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// An agency whose keys are at an HTTPS JWKS URL: fetched in the
// background, never per request; a rotation there is picked up; an outage
// keeps the last good keys.
func TestJWKSFromAnHTTPSURL(t *testing.T) {
	const me = "nl-police-rotterdam"
	var mu sync.Mutex
	var jwks []byte
	fetches := 0
	up := true
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		if !up {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write(jwks)
	}))
	defer srv.Close()
	setKeys := func(issuers ...*devpki.Issuer) {
		keys := map[string]any{}
		for _, i := range issuers {
			keys[i.Kid] = i.Key.Public()
		}
		b, err := authn.MarshalJWKS(keys)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		jwks = b
		mu.Unlock()
	}
	var oldIss *devpki.Issuer
	s := startStack(t, stackOptions{httpClient: srv.Client(), jwksRefresh: 200 * time.Millisecond, beforeStart: func(s *stack) {
		oldIss = s.pki.Issuers[me]
		setKeys(oldIss)
		editRegistry(t, s, func(f *gateway.RegistryFile) {
			for i := range f.Agencies {
				if f.Agencies[i].ID == me {
					f.Agencies[i].JWKSFile, f.Agencies[i].JWKSURL = "", srv.URL+"/jwks.json"
				}
			}
		})
	}})
	conn := s.conn(t, nlPolice)
	if err := call(t, conn); err != nil {
		t.Fatalf("token under a key from the JWKS URL: %v", err)
	}
	mu.Lock()
	before := fetches
	mu.Unlock()
	began := time.Now()
	for range 20 {
		if err := call(t, conn); err != nil {
			t.Fatal(err)
		}
	}
	// The background refresh runs every 200ms whatever the calls do; on a
	// loaded machine 20 calls can span several of its periods.
	background := int(time.Since(began)/(200*time.Millisecond)) + 2
	mu.Lock()
	if fetches-before > background {
		t.Errorf("20 calls made %d JWKS fetches, more than the %d background refreshes of their time: the URL is on the request path", fetches-before, background)
	}
	mu.Unlock()

	newIss, _ := devpki.NewIssuer(oldIss.Name, me+"-2")
	setKeys(newIss)
	eventually(t, "rotated key from the URL", func() bool {
		tok, _ := newIss.Mint(devpki.TokenSpec{Officer: "x", Audience: "liaison"})
		return call(t, s.dial(t, s.addr, agencyCert(t, s, me), tok)) == nil
	})
	mu.Lock()
	up = false
	mu.Unlock()
	time.Sleep(500 * time.Millisecond) // refreshes fail meanwhile
	tok, _ := newIss.Mint(devpki.TokenSpec{Officer: "y", Audience: "liaison"})
	if err := call(t, s.dial(t, s.addr, agencyCert(t, s, me), tok)); err != nil {
		t.Errorf("JWKS server down: the last good keys must stay in use: %v", err)
	}
	old, _ := oldIss.Mint(devpki.TokenSpec{Officer: "z", Audience: "liaison"})
	if err := call(t, s.dial(t, s.addr, agencyCert(t, s, me), old)); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a key removed from the JWKS still works: %v", err)
	}
}
