package main

import (
	"errors"
	"flag"
	"fmt"
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
	fs.StringVar(&f.Issuer, "peer-issuer", "", "the `iss` of the officer assertions this gateway signs for peer gateways (their registry names it); required with -peer-key")
	fs.StringVar(&f.Key, "peer-key", "", "Ed25519 private key `file` (PKCS#8 PEM) that signs those assertions; its public key goes in the peers' registries (needs -peer-issuer and -peer-kid)")
	fs.StringVar(&f.Kid, "peer-kid", "gateway-1", "the `kid` of -peer-key in the peers' JWKS")
	fs.DurationVar(&f.Timeout, "peer-timeout", 30*time.Second, "how long a call to a peer gateway may take (positive)")
}

// config returns the gateway's federation settings: receipts for peers are
// signed by the checkpoint signer; assertions only with -peer-key, which
// needs -peer-issuer and -peer-kid (the peers check them), as
// -peer-issuer needs -peer-key.
func (f *federationOptions) config(receipts note.Signer) (gateway.Federation, error) {
	fed := gateway.Federation{Receipts: receipts}
	if f == nil {
		return fed, nil
	}
	switch {
	case f.Timeout < 0:
		// Every call to a peer would time out before it left.
		return fed, fmt.Errorf("-peer-timeout %s: must be positive", f.Timeout)
	case f.Key == "" && f.Issuer != "":
		return fed, errors.New("-peer-issuer needs -peer-key, the key that signs the assertions")
	case f.Key == "":
		return fed, nil
	case f.Issuer == "":
		return fed, errors.New("-peer-key needs -peer-issuer, the iss the peers' registries name for this gateway")
	case f.Kid == "":
		return fed, errors.New("-peer-key needs -peer-kid, the kid of its public key in the peers' JWKS")
	}
	iss, err := devpki.LoadIssuer(f.Key, f.Issuer, f.Kid)
	if err != nil {
		return fed, err
	}
	fed.Issuer, fed.Kid, fed.Key, fed.Timeout = f.Issuer, f.Kid, iss.Key, f.Timeout
	return fed, nil
}
