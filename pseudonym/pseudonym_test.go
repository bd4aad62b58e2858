package pseudonym_test

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/pseudonym"
)

func newPseudonymizer(t *testing.T, now func() time.Time) *pseudonym.Pseudonymizer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	p, err := pseudonym.New(t.Context(), pseudonym.Config{Source: pseudonym.FileKeys{Path: path}, Now: now, MaxStale: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPseudonymsAreDeterministicPerDomainAndUnlinkableAcross(t *testing.T) {
	p := newPseudonymizer(t, nil)
	a1, _ := p.Pseudonym("nl-police-rotterdam/risk_management", "SYN-NL-0001")
	a2, _ := p.Pseudonym("nl-police-rotterdam/risk_management", "SYN-NL-0001")
	b, _ := p.Pseudonym("case/NL-ZVH-RTM-0042", "SYN-NL-0001")
	c, _ := p.Pseudonym("nl-police-rotterdam/risk_management", "SYN-NL-0002")
	if a1 != a2 {
		t.Errorf("same subject and domain: %q != %q", a1, a2)
	}
	if a1 == b || a1 == c {
		t.Errorf("pseudonyms collide across domains or subjects: %q %q %q", a1, b, c)
	}
	if v, err := pseudonym.ParseVersion(a1); err != nil || v != 1 || !strings.HasPrefix(a1, "psn:1:") {
		t.Errorf("ParseVersion(%q) = %d, %v; want 1", a1, v, err)
	}
}

func TestPseudonymIsNotAPlainHash(t *testing.T) {
	p := newPseudonymizer(t, nil)
	id := "SYN-NL-0001"
	ps, _ := p.Pseudonym("d", pseudonym.SubjectID(id))
	body := ps[strings.LastIndex(ps, ":")+1:]
	s256, s512, m5 := sha256.Sum256([]byte(id)), sha512.Sum512([]byte(id)), md5.Sum([]byte(id))
	for _, h := range [][]byte{s256[:], s512[:], m5[:]} {
		for _, enc := range []string{hex.EncodeToString(h), base64.StdEncoding.EncodeToString(h), base64.RawURLEncoding.EncodeToString(h)} {
			if strings.Contains(enc, body) || strings.Contains(body, enc[:16]) {
				t.Fatalf("pseudonym %q overlaps an unkeyed hash of the identifier", ps)
			}
		}
	}
}

func TestSubjectIDNeverPrints(t *testing.T) {
	id := pseudonym.SubjectID("SYN-NL-0001")
	for _, s := range []string{fmt.Sprint(id), fmt.Sprintf("%v %s %#v", id, id, id), fmt.Sprint(struct{ ID pseudonym.SubjectID }{id})} {
		if strings.Contains(s, "SYN") {
			t.Errorf("formatted SubjectID = %q, want it redacted", s)
		}
	}
}

func TestStaleKeysBecomeUnavailable(t *testing.T) {
	now := time.Now()
	p := newPseudonymizer(t, func() time.Time { return now })
	if _, err := p.Pseudonym("d", "x"); err != nil {
		t.Fatalf("fresh keys: %v", err)
	}
	before, _ := p.AuditPseudonym("x")
	now = now.Add(2 * time.Minute) // past MaxStale with no refresh
	if _, err := p.Pseudonym("d", "x"); !errors.Is(err, pseudonym.ErrUnavailable) {
		t.Errorf("stale keys: err = %v, want ErrUnavailable", err)
	}
	// The gateway's own uses go on: the audit log and sealed inboxes.
	if after, err := p.AuditPseudonym("x"); err != nil || after != before || !strings.HasPrefix(after, "apsn:") {
		t.Errorf("AuditPseudonym past the bound = %q, %v; want %q", after, err, before)
	}
	if _, err := p.Seal(nil, []byte("x")); err != nil {
		t.Errorf("Seal past the bound: %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	p := newPseudonymizer(t, nil)
	sealed, err := p.Seal([]byte("dk-police-aarhus"), []byte("release notice"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "release notice") {
		t.Fatal("sealed data holds the plaintext")
	}
	got, err := p.Open([]byte("dk-police-aarhus"), sealed)
	if err != nil || string(got) != "release notice" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := p.Open([]byte("nl-ngo-exit"), sealed); err == nil {
		t.Error("Open with another recipient's binding succeeded")
	}
}

func TestResolveOnlyInTheRightDomain(t *testing.T) {
	p := newPseudonymizer(t, nil)
	ps, err := p.Pseudonym("case/NL-ZVH-RTM-0042", "SYN-NL-0001")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.Resolve("case/NL-ZVH-RTM-0042", ps); err != nil || got != "SYN-NL-0001" {
		t.Fatalf("Resolve = %v, %v", got == "SYN-NL-0001", err)
	}
	if _, err := p.Resolve("nl-police-rotterdam/risk_management", ps); !errors.Is(err, pseudonym.ErrNotAPseudonym) {
		t.Errorf("Resolve in another domain: err = %v, want ErrNotAPseudonym", err)
	}
	tampered := ps[:len(ps)-1] + map[bool]string{true: "b", false: "a"}[ps[len(ps)-1] == 'a']
	if _, err := p.Resolve("case/NL-ZVH-RTM-0042", tampered); !errors.Is(err, pseudonym.ErrNotAPseudonym) {
		t.Errorf("Resolve of an altered pseudonym: err = %v", err)
	}
	short, _ := p.Pseudonym("d", "X")
	long, _ := p.Pseudonym("d", "A-MUCH-LONGER-IDENTIFIER-12345")
	if len(short) != len(long) {
		t.Errorf("pseudonym lengths %d and %d reveal the identifier's length", len(short), len(long))
	}
}
