package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	stdmaps "maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
	"github.com/liaison-gateway/liaison/gateway/authn"
)

// TestTrustMarksOnlyWhatApplies: the audit store keeps the mark of a CRL
// (or a numbered deny list) only once nothing else in the same load can
// keep it out of force. A reload with the CA's next CRL beside a registry
// that does not apply, and a start with the next CRL beside a deny list
// the store refuses, each leave the CRL marks as they were; the CRL in
// force all along still loads, on a reload and on a restart. The marks
// were kept before the rest of the load was checked: the store then held
// a CRL that was never in force, and the gateway refused to start with
// the one that was.
func TestTrustMarksOnlyWhatApplies(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testTrustMarksOnlyWhatApplies(t, stackOptions{}) })
	t.Run("postgres", func(t *testing.T) {
		testTrustMarksOnlyWhatApplies(t, stackOptions{postgresURL: pgtest.NewDatabase(t)})
	})
}

func testTrustMarksOnlyWhatApplies(t *testing.T, o stackOptions) {
	dir := t.TempDir()
	crlPath, deny := filepath.Join(dir, "agencies.crl"), filepath.Join(dir, "deny.txt")
	this := time.Now().Add(-time.Minute).Truncate(time.Second)
	var one []byte
	o.crls, o.denyList = []string{crlPath}, deny
	o.beforeStart = func(s *stack) {
		one = numberedCRL(t, s, this, 1)
		replaceFile(t, crlPath, one)
		replaceFile(t, deny, []byte("version:2\n"))
	}
	s := startStack(t, o)
	ctx := context.Background()
	marks := func() map[string][]byte {
		t.Helper()
		m, err := s.db.Marks(ctx, authn.MarkKindCRLByKey)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	before := marks()
	if len(before) != 1 {
		t.Fatalf("with CRL 1 in force the store keeps %d CRL marks, want 1", len(before))
	}
	leaf, err := x509.ParseCertificate(agencyCert(t, s, dkPrison.agency)[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	conn := s.conn(t, dkPrison)
	if err := call(t, conn); err != nil {
		t.Fatalf("with CRL 1, revoking nothing: %v", err)
	}
	good, err := os.ReadFile(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	badAlgorithm := func(agency string) func(*gateway.RegistryFile) {
		return func(f *gateway.RegistryFile) {
			for i := range f.Agencies {
				if f.Agencies[i].ID == agency {
					f.Agencies[i].Algorithms = []string{"HS256"}
				}
			}
		}
	}
	logged := func(what string) func() bool {
		return func() bool { return bytes.Contains(s.logs.Bytes(), []byte(what)) }
	}

	// A reload: CRL 2, revoking the prison, beside a registry that does
	// not apply (an algorithm not allowed). The files change in an order
	// in which no reload reads CRL 2 with a registry that applies.
	editRegistry(t, s, badAlgorithm(nlPolice.agency))
	eventually(t, "the first registry refused", logged(`agency \"`+nlPolice.agency+`\": algorithm`))
	replaceFile(t, crlPath, numberedCRL(t, s, this, 2, leaf.SerialNumber))
	rewriteRegistry(t, s, good, badAlgorithm("dk-police-aarhus"))
	eventually(t, "the second registry, with CRL 2, refused", logged(`agency \"dk-police-aarhus\": algorithm`))
	time.Sleep(200 * time.Millisecond) // a few more reloads
	if err := call(t, conn); err != nil {
		t.Fatalf("CRL 2 is in force, though the reload that read it failed: %v", err)
	}
	if got := marks(); !stdmaps.EqualFunc(got, before, bytes.Equal) {
		t.Errorf("a reload that failed changed the CRL marks kept:\nbefore %s\nafter  %s", before, got)
	}
	// CRL 1, in force all along, with the registry that applies: a
	// reload takes it, and so does a restart.
	replaceFile(t, crlPath, one)
	replaceFile(t, s.pki.Registry, good)
	time.Sleep(200 * time.Millisecond)
	var got error
	s.opts.trustLoadFails = func(err error) { got = err }
	if g := s.startGateway(t); g == nil {
		t.Fatalf("a gateway started again with CRL 1, the CRL in force, is refused: %v", got)
	}
	if err := call(t, conn); err != nil {
		t.Fatalf("with CRL 1 and the registry that applies again: %v", err)
	}

	// A start: CRL 3 beside deny list version 1, which the store's
	// version 2 refuses. The deny list is written first, so the running
	// gateway never reads CRL 3 with a deny list it takes.
	replaceFile(t, deny, []byte("version:1\n"))
	replaceFile(t, crlPath, numberedCRL(t, s, this, 3, leaf.SerialNumber))
	got = nil
	if g := s.startGateway(t); g != nil {
		t.Fatal("a gateway started with deny list version 1 after version 2 was in force")
	}
	if want := "is older than the one in force before (version 2)"; got == nil || !strings.Contains(got.Error(), want) {
		t.Errorf("the start with deny list version 1 failed with %v, want an error saying %q", got, want)
	}
	if got := marks(); !stdmaps.EqualFunc(got, before, bytes.Equal) {
		t.Errorf("a start that failed changed the CRL marks kept:\nbefore %s\nafter  %s", before, got)
	}
	// The lists in force all along start.
	replaceFile(t, crlPath, one)
	replaceFile(t, deny, []byte("version:2\n"))
	got = nil
	if g := s.startGateway(t); g == nil {
		t.Fatalf("a gateway started again with CRL 1 and deny list version 2, the lists in force, is refused: %v", got)
	}
}

// TestTrustMarksOfOneLoadMoveTogether: a load with a new CRL and a new
// deny list keeps both marks in one swap. Another replica keeps deny list
// version 4 between this gateway's reading the marks (CRL 1, deny list
// version 2) and its swap for CRL 2 and deny list version 3: the swap
// moves neither mark, and the marks read again refuse deny list 3, so the
// start is refused with the CRL mark as it was; a gateway then starts
// with CRL 1, the CRL in force, and deny list 4. The marks were kept by
// two swaps, the CRL's first: the CRL 2 mark stayed in the store though
// CRL 2 never went in force, and the start with CRL 1 was refused.
func TestTrustMarksOfOneLoadMoveTogether(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testTrustMarksOfOneLoad(t, stackOptions{}) })
	t.Run("postgres", func(t *testing.T) {
		testTrustMarksOfOneLoad(t, stackOptions{postgresURL: pgtest.NewDatabase(t)})
	})
}

func testTrustMarksOfOneLoad(t *testing.T, o stackOptions) {
	dir := t.TempDir()
	crlPath, deny := filepath.Join(dir, "agencies.crl"), filepath.Join(dir, "deny.txt")
	this := time.Now().Add(-time.Minute).Truncate(time.Second)
	var one []byte
	o.crls, o.denyList = []string{crlPath}, deny
	o.trustInterval = time.Hour // the first gateway reads the files once: only the starts below load them again
	o.beforeStart = func(s *stack) {
		one = numberedCRL(t, s, this, 1)
		replaceFile(t, crlPath, one)
		replaceFile(t, deny, []byte("version:2\n"))
	}
	s := startStack(t, o)
	marks := func(kind string) map[string][]byte {
		t.Helper()
		m, err := s.db.Marks(context.Background(), kind)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	crls := marks(authn.MarkKindCRLByKey)
	if len(crls) != 1 || len(marks("deny-list")) != 1 {
		t.Fatalf("with CRL 1 and deny list 2 in force the store keeps the marks %q and %q, want one of each", crls, marks("deny-list"))
	}

	// Deny list version 4 (no entries), as the other replica keeps it.
	empty := sha256.Sum256(nil)
	four := fmt.Appendf(nil, `{"version":4,"sha256":%q}`, hex.EncodeToString(empty[:]))
	race := &aheadMarks{}
	race.arm("deny-list", "deny-list", four)
	s.opts.trustMarks = func(db authn.MarkStore) authn.MarkStore {
		race.MarkStore = db
		return race
	}
	var got error
	s.opts.trustLoadFails = func(err error) { got = err }
	replaceFile(t, crlPath, numberedCRL(t, s, this, 2))
	replaceFile(t, deny, []byte("version:3\n"))
	if g := s.startGateway(t); g != nil {
		t.Fatal("a gateway started with deny list version 3, though another replica kept version 4 before its swap")
	}
	if !race.moved() {
		t.Fatal("the other replica's mark was not kept")
	}
	if want := "the deny list (version 3) is older than the one in force before (version 4)"; got == nil || !strings.Contains(got.Error(), want) {
		t.Errorf("the start with CRL 2 and deny list version 3 failed with %v, want an error saying %q", got, want)
	}
	if after := marks(authn.MarkKindCRLByKey); !stdmaps.EqualFunc(after, crls, bytes.Equal) {
		t.Errorf("a load refused (its deny list's swap lost) moved the CRL mark:\nbefore %s\nafter  %s", crls, after)
	}
	if after := marks("deny-list")["deny-list"]; !bytes.Equal(after, four) {
		t.Errorf("the deny list mark is %s, want the other replica's %s", after, four)
	}

	// The lists in force: CRL 1, and the other replica's deny list 4.
	replaceFile(t, crlPath, one)
	replaceFile(t, deny, []byte("version:4\n"))
	s.opts.trustMarks = nil
	got = nil
	if g := s.startGateway(t); g == nil {
		t.Fatalf("a gateway started with CRL 1, the CRL in force, and deny list version 4 is refused: %v", got)
	}
}

// TestTrustMarkRaceLost: another replica puts CRL 3 in force between this
// gateway's reading the store's mark (CRL 1) and its swap for CRL 2: the
// swap fails, the marks read again hold CRL 3, and CRL 2 is refused, not put in force (the
// certificate it revokes is still taken) and its mark not kept; CRL 3
// then loads. The lost swap took the store's newer mark as the CRL's own
// and the older CRL applied.
func TestTrustMarkRaceLost(t *testing.T) {
	crlPath := filepath.Join(t.TempDir(), "agencies.crl")
	this := time.Now().Add(-time.Minute).Truncate(time.Second)
	race := &aheadMarks{}
	s := startStack(t, stackOptions{crls: []string{crlPath}, trustMarks: func(db authn.MarkStore) authn.MarkStore {
		race.MarkStore = db
		return race
	}, beforeStart: func(s *stack) { replaceFile(t, crlPath, numberedCRL(t, s, this, 1)) }})
	leaf, err := x509.ParseCertificate(agencyCert(t, s, dkPrison.agency)[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	conn := s.conn(t, dkPrison)
	if err := call(t, conn); err != nil {
		t.Fatalf("with CRL 1, revoking nothing: %v", err)
	}
	ctx := context.Background()
	kept, err := s.db.Marks(ctx, authn.MarkKindCRLByKey)
	if err != nil || len(kept) != 1 {
		t.Fatalf("the CRL marks kept with CRL 1: %v, %v", kept, err)
	}
	three := numberedCRL(t, s, this, 3)
	for k := range kept { // CRL 3's mark, as the other replica keeps it
		sum := sha256.Sum256(three)
		race.arm(authn.MarkKindCRLByKey, k, []byte(fmt.Sprintf(`{"issuer":%q,"crl_number":"3","this_update":%q,"sha256":%q}`,
			s.pki.CA.Cert.Subject.String(), this.Add(3*time.Second).UTC().Format(time.RFC3339), hex.EncodeToString(sum[:]))))
	}
	replaceFile(t, crlPath, numberedCRL(t, s, this, 2, leaf.SerialNumber))
	eventually(t, "CRL 2 refused", func() bool {
		return bytes.Contains(s.logs.Bytes(), []byte("(cRLNumber 2) is older than the one of its issuer in force before (cRLNumber 3)"))
	})
	if !race.moved() {
		t.Fatal("the other replica's mark was not kept")
	}
	for range 3 {
		if err := call(t, conn); err != nil {
			t.Fatalf("CRL 2 is in force, though the store kept CRL 3 before its swap: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	reloaded := func() int { return bytes.Count(s.logs.Bytes(), []byte("trust files reloaded")) }
	n := reloaded()
	replaceFile(t, crlPath, three)
	eventually(t, "CRL 3 to load", func() bool { return reloaded() > n })
}

// aheadMarks is a MarkStore over the test's store that, once armed with a
// kind, key and mark, keeps that mark (as another replica would, with a
// swap of its own) just after the gateway's next read of the marks of
// that kind: between the gateway's check of its lists against the marks
// and its swap of theirs.
type aheadMarks struct {
	authn.MarkStore
	mu        sync.Mutex
	kind, key string
	mark      []byte
	movedOnce bool
}

func (a *aheadMarks) arm(kind, key string, mark []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.kind, a.key, a.mark = kind, key, mark
}

func (a *aheadMarks) Marks(ctx context.Context, kind string) (map[string][]byte, error) {
	got, err := a.MarkStore.Marks(ctx, kind)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil && kind == a.kind && a.mark != nil && !a.movedOnce {
		a.movedOnce = true
		other, ok := a.MarkStore.(interface {
			SwapMark(ctx context.Context, kind, key string, old, mark []byte) (bool, error)
		})
		if !ok {
			return nil, fmt.Errorf("%T cannot swap one mark", a.MarkStore)
		}
		if ok, err := other.SwapMark(ctx, kind, a.key, got[a.key], a.mark); !ok || err != nil {
			return nil, fmt.Errorf("the other replica's swap: %v %v", ok, err)
		}
	}
	return got, err
}

func (a *aheadMarks) moved() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.movedOnce
}
