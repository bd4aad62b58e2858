package authn_test

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// rekeyedCAs are two CAs of one name and different keys, as a CA re-keyed
// (its new certificate trusted beside the old one) is, and load: the
// Revocation of the CRLs given, each checked against both.
func rekeyedCAs(t *testing.T) (old, rekeyed *devpki.Authority, now time.Time, load func(crls ...[]byte) *authn.Revocation) {
	t.Helper()
	var err error
	if old, err = devpki.NewAuthority("rekeyed.test"); err != nil {
		t.Fatal(err)
	}
	if rekeyed, err = devpki.NewAuthority("rekeyed.test"); err != nil {
		t.Fatal(err)
	}
	if old.Cert.Subject.String() != rekeyed.Cert.Subject.String() || string(old.Cert.RawSubject) != string(rekeyed.Cert.RawSubject) {
		t.Fatalf("the two CAs have the names %q and %q, want one", old.Cert.Subject, rekeyed.Cert.Subject)
	}
	now = time.Now().Truncate(time.Second)
	cas := []*x509.Certificate{old.Cert, rekeyed.Cert}
	return old, rekeyed, now, func(crls ...[]byte) *authn.Revocation {
		t.Helper()
		var r authn.Revocation
		for _, c := range crls {
			if err := r.AddCRL(c, cas, now); err != nil {
				t.Fatal(err)
			}
		}
		return &r
	}
}

// TestCRLHistoryTellsCAsOfOneNameByKey: two CAs of one name and different
// keys (a re-keyed CA, trusted beside the old one) each have CRLs of
// their own, numbered in sequences of their own. The CRL of one does not
// stand for the other's: putting back an older CRL of the new key beside
// the old key's newer CRL is a rollback, and dropping either's CRL while
// both are trusted is refused, naming the CA; the new key's CRL alone,
// once the old CA is no longer trusted, is not a rollback of the old
// key's higher number. The CAs were told by their name alone: their CRLs
// shared one mark, the newest of either, so a rollback or a drop of one
// passed on the other's CRL, and the new key's own sequence was refused
// as older than the old key's.
func TestCRLHistoryTellsCAsOfOneNameByKey(t *testing.T) {
	old, rekeyed, now, load := rekeyedCAs(t)
	both := []*x509.Certificate{old.Cert, rekeyed.Cert}
	oldFive, newTwo := numberedCRL(t, old, 5, now.Add(-time.Hour)), numberedCRL(t, rekeyed, 2, now.Add(-time.Hour))
	var h authn.CRLHistory
	h.Record(load(oldFive, newTwo))

	if err := h.Check(load(oldFive, numberedCRL(t, rekeyed, 1, now.Add(-time.Hour)))); err == nil || !strings.Contains(err.Error(), "(cRLNumber 1) is older than the one of its issuer in force before (cRLNumber 2)") {
		t.Errorf("the new key's CRL 1 beside the old key's CRL 5, after the new key's CRL 2: Check = %v, want a rollback refused", err)
	}
	if err := h.Check(load(numberedCRL(t, old, 4, now.Add(-time.Hour)), numberedCRL(t, rekeyed, 9, now.Add(-time.Hour)))); err == nil || !strings.Contains(err.Error(), "(cRLNumber 4) is older") {
		t.Errorf("the old key's CRL 4 beside the new key's CRL 9, after the old key's CRL 5: Check = %v, want a rollback refused", err)
	}
	if err := h.Check(load(oldFive, newTwo)); err != nil {
		t.Errorf("the same CRLs: Check = %v", err)
	}
	for _, c := range []struct {
		name string
		r    *authn.Revocation
	}{
		{"the new key's CRL dropped", load(oldFive)},
		{"the old key's CRL dropped", load(newTwo)},
	} {
		if err := h.CheckDropped(c.r, both); err == nil || !strings.Contains(err.Error(), "is trusted, and its CRL") {
			t.Errorf("%s, both CAs trusted: CheckDropped = %v, want it refused", c.name, err)
		}
	}
	// The old CA retired with its CRL: the new key's CRLs follow their
	// own sequence.
	onlyNew := load(newTwo)
	if err := h.Check(onlyNew); err != nil {
		t.Errorf("the new key's CRL 2 alone: Check = %v, want nil", err)
	}
	if err := h.CheckDropped(onlyNew, []*x509.Certificate{rekeyed.Cert}); err != nil {
		t.Errorf("the new key's CRL 2 alone, the old CA no longer trusted: CheckDropped = %v, want nil", err)
	}
}

// legacyMark is the mark a gateway kept of crl, signed by ca, before the
// CA's key counted: under the hex SHA-256 of the CA's name, in the JSON
// it wrote.
func legacyMark(t *testing.T, ca *devpki.Authority, crl []byte) (string, []byte) {
	t.Helper()
	c, err := x509.ParseRevocationList(crl)
	if err != nil {
		t.Fatal(err)
	}
	key, sum := sha256.Sum256(ca.Cert.RawSubject), sha256.Sum256(crl)
	return hex.EncodeToString(key[:]), fmt.Appendf(nil, `{"issuer":%q,"crl_number":%q,"this_update":%q,"sha256":%q}`,
		ca.Cert.Subject.String(), c.Number.String(), c.ThisUpdate.UTC().Format(time.RFC3339), hex.EncodeToString(sum[:]))
}

// TestCRLHistoryReadsMarksKeptByName: the marks kept before the CA's key
// counted (MarkKindCRL, by name) still read and count as they did, for
// the CRLs of any CA of the name: CRL 4 after the kept CRL 5 is refused,
// and so is no CRL of the CA while it is trusted; CRL 5 or 6 passes, and
// Kept returns its mark by key (MarkKindCRLByKey). Once a mark by key of
// the name is kept, it stands for the name and the mark by name no longer
// counts: the re-keyed CA's CRL 1, alone, then passes.
func TestCRLHistoryReadsMarksKeptByName(t *testing.T) {
	old, rekeyed, now, load := rekeyedCAs(t)
	k, b := legacyMark(t, old, numberedCRL(t, old, 5, now.Add(-time.Hour)))
	legacy := map[string][]byte{k: b}
	var h authn.CRLHistory
	if _, err := h.Kept(load(numberedCRL(t, old, 4, now.Add(-time.Hour))), nil, legacy); err == nil || !strings.Contains(err.Error(), "(cRLNumber 4) is older than the one of its issuer in force before (cRLNumber 5)") {
		t.Errorf("CRL 4 after the mark by name of CRL 5: Kept = %v, want a rollback refused", err)
	}
	if err := h.CheckDropped(load(), []*x509.Certificate{old.Cert}); err == nil || !strings.Contains(err.Error(), old.Cert.Subject.String()) {
		t.Errorf("no CRL after the mark by name of CRL 5: CheckDropped = %v, want it refused, naming the CA", err)
	}
	six := load(numberedCRL(t, old, 6, now.Add(-time.Hour)))
	var fresh authn.CRLHistory
	next, err := fresh.Kept(six, nil, legacy)
	if err != nil || len(next) != 1 {
		t.Fatalf("CRL 6 after the mark by name of CRL 5: Kept = %q, %v; want its mark by key", next, err)
	}
	for key := range next {
		if g, _, ok := strings.Cut(key, "/"); !ok || g != k {
			t.Errorf("the mark by key %q is not of the name's group %s", key, k)
		}
	}
	// The mark by key kept, the mark by name no longer counts.
	var later authn.CRLHistory
	onlyNew := load(numberedCRL(t, rekeyed, 1, now.Add(-time.Hour)))
	if _, err := later.Kept(onlyNew, next, legacy); err != nil {
		t.Errorf("the re-keyed CA's CRL 1, with the old CA's mark by key kept: Kept = %v, want nil", err)
	}
	if err := later.CheckDropped(onlyNew, []*x509.Certificate{rekeyed.Cert}); err != nil {
		t.Errorf("the re-keyed CA's CRL 1 alone: CheckDropped = %v, want nil", err)
	}
}
