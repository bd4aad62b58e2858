package main

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPeerFlagsGoTogether: -peer-key signs the assertions a peer checks
// by their iss and kid, so serve refuses to start with -peer-key and no
// -peer-issuer or -peer-kid, or with -peer-issuer and no -peer-key (which
// signs nothing), naming the flag missing, instead of starting a gateway
// whose every call to a peer fails FEDERATION_NOT_CONFIGURED.
func TestPeerFlagsGoTogether(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "peer.key")
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts federationOptions
		flag string // named in the error; "" for none
	}{
		{"KeyWithoutIssuer", federationOptions{Key: key, Kid: "gateway-1"}, "-peer-issuer"},
		{"KeyWithoutKid", federationOptions{Key: key, Issuer: "https://nl.example/gateway"}, "-peer-kid"},
		{"IssuerWithoutKey", federationOptions{Issuer: "https://nl.example/gateway", Kid: "gateway-1"}, "-peer-key"},
		{"All", federationOptions{Key: key, Issuer: "https://nl.example/gateway", Kid: "gateway-1"}, ""},
		{"None", federationOptions{Kid: "gateway-1"}, ""},
		// A negative -peer-timeout made every call to a peer time out
		// before it left (PEER_UNAVAILABLE), the gateway started as if
		// nothing were wrong.
		{"NegativeTimeout", federationOptions{Key: key, Issuer: "https://nl.example/gateway", Kid: "gateway-1", Timeout: -time.Second}, "-peer-timeout"},
		{"NegativeTimeoutWithoutKey", federationOptions{Kid: "gateway-1", Timeout: -time.Second}, "-peer-timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.config(nil)
			switch {
			case tc.flag == "" && err != nil:
				t.Errorf("config = %v; want no error", err)
			case tc.flag != "" && (err == nil || !strings.Contains(err.Error(), tc.flag)):
				t.Errorf("config = %v; want an error naming %s", err, tc.flag)
			}
		})
	}
}
