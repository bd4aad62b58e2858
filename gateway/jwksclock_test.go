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

// TestJWKSRefreshOnTheGatewaysClock: a JWKS URL is fetched again once
// JWKSRefresh has passed on the gateway's clock (Config.Now), as every
// other schedule of the gateway is kept. It was kept on the wall clock:
// moving the gateway's clock on an hour fetched nothing.
func TestJWKSRefreshOnTheGatewaysClock(t *testing.T) {
	const me = "nl-police-rotterdam"
	var mu sync.Mutex
	var jwks []byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Write(jwks)
	}))
	defer srv.Close()
	setKeys := func(i *devpki.Issuer) {
		b, err := authn.MarshalJWKS(map[string]any{i.Kid: i.Key.Public()})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		jwks = b
		mu.Unlock()
	}
	clk := newClock(time.Now())
	var oldIss *devpki.Issuer
	s := startStack(t, stackOptions{httpClient: srv.Client(), jwksRefresh: time.Hour, serverNow: clk.Now, beforeStart: func(s *stack) {
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
	if err := call(t, s.conn(t, nlPolice)); err != nil {
		t.Fatalf("token under a key from the JWKS URL: %v", err)
	}
	newIss, err := devpki.NewIssuer(oldIss.Name, me+"-2")
	if err != nil {
		t.Fatal(err)
	}
	setKeys(newIss)
	withNewKey := func() error {
		tok, err := newIss.Mint(devpki.TokenSpec{Officer: "x", Audience: "liaison"})
		if err != nil {
			t.Fatal(err)
		}
		return call(t, s.dial(t, s.addr, agencyCert(t, s, me), tok))
	}
	time.Sleep(300 * time.Millisecond) // six reloads of the trust files
	if err := withNewKey(); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a key published at the URL was in use before JWKSRefresh passed: %v", err)
	}
	clk.add(time.Hour)
	eventually(t, "the key published at the URL, an hour on by the gateway's clock", func() bool { return withNewKey() == nil })
}
