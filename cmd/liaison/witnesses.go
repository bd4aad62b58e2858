package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres"
	"github.com/liaison-gateway/liaison/gateway/witness"
)

// witnessOptions are serve's flags for the witnesses that cosign the log's
// checkpoints.
type witnessOptions struct {
	Witnesses []string // URL=VKEY
	CA        string   // CA file for https witnesses; empty means the system's roots
	Interval  time.Duration
}

func (w *witnessOptions) flags(fs *flag.FlagSet) {
	fs.Var((*multiFlag)(&w.Witnesses), "witness", "a witness that cosigns the log's checkpoints, as `URL=VKEY`: its add-checkpoint prefix (no '=' in it) and its cosignature verifier key (repeatable)")
	fs.StringVar(&w.CA, "witness-ca", "", "CA certificate `file` that https witnesses' certificates chain to (default: the system's roots)")
	fs.DurationVar(&w.Interval, "witness-interval", time.Second, "how often a new checkpoint is taken to the witnesses while the log grows")
}

// parseWitness parses URL=VKEY.
func parseWitness(s string) (witness.Endpoint, error) {
	u, vkey, ok := strings.Cut(s, "=")
	if !ok || !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
		return witness.Endpoint{}, fmt.Errorf("-witness %q: want URL=VKEY with an http:// or https:// URL", s)
	}
	v, err := audit.NewCosignatureVerifier(vkey)
	if err != nil {
		return witness.Endpoint{}, fmt.Errorf("-witness %q: %v", s, err)
	}
	return witness.Endpoint{URL: u, Verifier: v}, nil
}

// cosigner returns the Cosigner for the configured witnesses, or nil if
// there are none. The store must keep published checkpoints.
func (w *witnessOptions) cosigner(l *audit.Log, store audit.Store, log *slog.Logger) (*witness.Cosigner, error) {
	if w == nil || len(w.Witnesses) == 0 {
		return nil, nil
	}
	ws, ok := store.(audit.WitnessStore)
	if !ok {
		return nil, errors.New("serve: -witness: the audit store does not keep published checkpoints")
	}
	var eps []witness.Endpoint
	for _, s := range w.Witnesses {
		e, err := parseWitness(s)
		if err != nil {
			return nil, err
		}
		eps = append(eps, e)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if w.CA != "" {
		b, err := os.ReadFile(w.CA)
		if err != nil {
			return nil, fmt.Errorf("serve: -witness-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("serve: -witness-ca %s: no certificates", w.CA)
		}
		tc.RootCAs = pool
	}
	// On PostgreSQL several replicas share the log: one at a time sends,
	// through the claims the store shares. A SQLite log has one process.
	var lease witness.Claims
	if pg, ok := store.(*postgres.Store); ok {
		lease = pg
	}
	return witness.NewCosigner(witness.CosignerConfig{
		Log: l, Store: ws, Witnesses: eps, Interval: w.Interval, Logger: log, Lease: lease,
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}},
	})
}
