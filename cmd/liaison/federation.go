package main

import (
	"flag"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// federationOptions are serve's flags for peer gateways (registry entries
// of kind peer_gateway): the key this gateway signs its officer
// assertions with.
type federationOptions struct {
	Issuer  string // iss of the assertions
	Key     string // Ed25519 private key file (PKCS#8 PEM)
	Kid     string
	Timeout time.Duration
}

func (f *federationOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&f.Issuer, "peer-issuer", "", "the `iss` of the officer assertions this gateway signs for peer gateways (their registry names it)")
	fs.StringVar(&f.Key, "peer-key", "", "Ed25519 private key `file` (PKCS#8 PEM) that signs those assertions; its public key goes in the peers' registries")
	fs.StringVar(&f.Kid, "peer-kid", "gateway-1", "the `kid` of -peer-key in the peers' JWKS")
	fs.DurationVar(&f.Timeout, "peer-timeout", 30*time.Second, "how long a call to a peer gateway may take")
}

// config returns the gateway's federation settings: receipts for peers are
// signed by the checkpoint signer; assertions only with -peer-key.
func (f *federationOptions) config(receipts note.Signer) (gateway.Federation, error) {
	fed := gateway.Federation{Receipts: receipts}
	if f == nil || f.Key == "" {
		return fed, nil
	}
	iss, err := devpki.LoadIssuer(f.Key, f.Issuer, f.Kid)
	if err != nil {
		return fed, err
	}
	fed.Issuer, fed.Kid, fed.Key, fed.Timeout = f.Issuer, f.Kid, iss.Key, f.Timeout
	return fed, nil
}
