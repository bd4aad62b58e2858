package gateway_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gauge is the value of an unlabelled gauge reg exports, and whether it
// does.
func gauge(t *testing.T, reg *prometheus.Registry, name string) (float64, bool) {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// TestStaleCRLFailsClosed: once the CRL in force is past its nextUpdate,
// every call with a client certificate is refused Unavailable, CRL_STALE
// (with a RetryInfo), audited and counted (failed, CRL_STALE), logged once for the
// operator, and liaison_crl_stale says 1; a CRL file past its nextUpdate
// does not load. The nextUpdate was not read: a stale CRL kept letting in
// any certificate its CA had revoked since.
func TestStaleCRLFailsClosed(t *testing.T) {
	crlPath := filepath.Join(t.TempDir(), "agencies.crl")
	var s *stack
	writeCRL := func(this, next time.Time) {
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: this, NextUpdate: next,
		}, s.pki.CA.Cert, s.pki.CA.Key)
		if err != nil {
			t.Fatal(err)
		}
		replaceFile(t, crlPath, der)
	}
	start := time.Now().Truncate(time.Second)
	next := start.Add(time.Hour)
	var skew atomic.Int64 // of the verifier's clock
	reg := prometheus.NewRegistry()
	s = startStack(t, stackOptions{crls: []string{crlPath}, metrics: reg,
		now:         func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
		beforeStart: func(st *stack) { s = st; writeCRL(start.Add(-time.Minute), next) }})
	conn := s.conn(t, dkPrison)
	if err := call(t, conn); err != nil {
		t.Fatalf("with a current CRL: %v", err)
	}
	if v, ok := gauge(t, reg, "liaison_crl_next_update_timestamp_seconds"); v != float64(next.Unix()) {
		t.Errorf("liaison_crl_next_update_timestamp_seconds = %v (exported %v), want %d", v, ok, next.Unix())
	}
	if v, ok := gauge(t, reg, "liaison_crl_stale"); v != 0 || !ok {
		t.Errorf("liaison_crl_stale = %v (exported %v), want 0", v, ok)
	}

	skew.Store(int64(2 * time.Hour))
	for range 2 {
		st := status.Convert(call(t, conn))
		if st.Code() != codes.Unavailable || errorReason(st) != "CRL_STALE" || retryAfter(st) == 0 {
			t.Fatalf("past the CRL's nextUpdate: %v %q (%s), retry after %v; want Unavailable, CRL_STALE, a RetryInfo",
				st.Code(), errorReason(st), st.Message(), retryAfter(st))
		}
	}
	if v, _ := gauge(t, reg, "liaison_crl_stale"); v != 1 {
		t.Errorf("liaison_crl_stale = %v past the nextUpdate, want 1", v)
	}
	if n := gatherCounts(t, reg)["liaison_requests_total liaison.v1.Exchange/Subscribe failed CRL_STALE"]; n != 2 {
		t.Errorf("liaison_requests_total{outcome=failed,reason=CRL_STALE} = %v, want 2", n)
	}
	if _, e := s.lastEntry(t); len(e.Reasons) == 0 || e.Reasons[0] != "CRL_STALE" || e.Requester.Agency != dkPrison.agency {
		t.Errorf("entry %v of %+v, want CRL_STALE of %s", e.Reasons, e.Requester, dkPrison.agency)
	}
	if n := bytes.Count(s.logs.Bytes(), []byte("past its nextUpdate: every call with a client certificate is refused")); n != 1 {
		t.Errorf("the operator was told %d times that the CRL is stale, want once:\n%s", n, s.logs.Bytes())
	}

	// A CRL file past its nextUpdate does not load; the one in force
	// stays.
	skew.Store(0)
	writeCRL(start.Add(-2*time.Hour), start.Add(-time.Minute))
	eventually(t, "the stale CRL file to be refused", func() bool {
		return bytes.Contains(s.logs.Bytes(), []byte("the CRL is stale: its nextUpdate"))
	})
	if err := call(t, conn); err != nil {
		t.Errorf("with the current CRL still in force: %v", err)
	}
}
