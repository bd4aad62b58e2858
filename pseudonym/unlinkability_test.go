package pseudonym_test

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/pseudonym"
)

// syntheticIDs returns n distinct synthetic identifiers in four formats:
// SYN-NNNNNN, a Danish CPR-like DDMMYY-NNNN, a Dutch BSN-like nine digits
// passing the eleven test, and a Swedish personnummer-like YYYYMMDD-NNNN.
// The realistic formats have small spaces: exactly what a dictionary of
// unkeyed hashes would reverse.
func syntheticIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		k := i / 4
		day, month, year := 1+k%28, 1+(k/28)%12, (k/336)%100
		switch i % 4 {
		case 0:
			ids[i] = fmt.Sprintf("SYN-%06d", i)
		case 1:
			ids[i] = fmt.Sprintf("%02d%02d%02d-%04d", day, month, year, k%10000)
		case 2:
			ids[i] = bsn(k)
		case 3:
			ids[i] = fmt.Sprintf("19%02d%02d%02d-%04d", year, month, day, (k*37)%10000)
		}
	}
	return ids
}

// bsn returns a nine-digit number that passes the BSN eleven test
// (9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 mod 11), distinct for each k: its first
// eight digits are 2k or 2k+1 (one of the two always has a check digit).
func bsn(k int) string {
	for p := 10000000 + 2*k; ; p++ {
		s := fmt.Sprintf("%08d", p)
		sum := 0
		for j := range 8 {
			sum += (9 - j) * int(s[j]-'0')
		}
		if d9 := sum % 11; d9 < 10 {
			return s + string(rune('0'+d9))
		}
	}
}

// window is the length of the pieces of unkeyed-hash encodings looked for
// in pseudonyms: 12 characters, at least 48 bits, which no keyed output
// shares with a hash encoding by chance in this test's volume.
const window = 12

// hashEncodings returns the lower-cased encodings (hex, base64, base64url,
// base32; without padding) of the unkeyed SHA-256, SHA-512 and MD5 of id.
// Lower-casing only widens the net.
func hashEncodings(id string) []string {
	s256, s512, m5 := sha256.Sum256([]byte(id)), sha512.Sum512([]byte(id)), md5.Sum([]byte(id))
	var out []string
	for _, h := range [][]byte{s256[:], s512[:], m5[:]} {
		out = append(out,
			hex.EncodeToString(h),
			strings.ToLower(base64.RawStdEncoding.EncodeToString(h)),
			strings.ToLower(base64.RawURLEncoding.EncodeToString(h)),
			strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h)))
	}
	return out
}

// hashLeak reports a body that equals or contains an unkeyed hash
// encoding of any of ids, or its first 12 characters. Each encoding's
// 12-character prefix is hashed (maphash) into a set, and every
// 12-character window of every body is looked up in it: about 13 million
// lookups for 200,000 bodies instead of a quadratic search. A 2 MiB bitmap
// of the hashes answers most lookups before the map is consulted.
func hashLeak(ids, bodies []string) (body, enc string, found bool) {
	perID := len(hashEncodings(""))
	seed := maphash.MakeSeed()
	var bits [1 << 18]uint64 // 2^24 bits
	prefixes := make(map[uint64]int, len(ids)*perID)
	for i, id := range ids {
		for j, enc := range hashEncodings(id) {
			h := maphash.String(seed, enc[:window])
			bits[h>>6&(1<<18-1)] |= 1 << (h & 63)
			prefixes[h] = i*perID + j
		}
	}
	for _, body := range bodies {
		lower := strings.ToLower(body)
		for k := 0; k+window <= len(lower); k++ {
			w := lower[k : k+window]
			h := maphash.String(seed, w)
			if bits[h>>6&(1<<18-1)]&(1<<(h&63)) == 0 {
				continue
			}
			if x, ok := prefixes[h]; ok {
				if enc := hashEncodings(ids[x/perID])[x%perID]; strings.HasPrefix(enc, w) {
					return body, enc, true
				}
			}
		}
	}
	return "", "", false
}

// TestUnlinkability100k pseudonymises 100,000 synthetic subjects in two
// domains and checks that no pseudonym is shared across the domains, none
// collides within a domain, and no pseudonym equals or contains an unkeyed
// SHA-256, SHA-512 or MD5 of any identifier, in hex, base64 or base32
// (whole, or truncated to its first 12 characters).
func TestUnlinkability100k(t *testing.T) {
	const n = 100_000
	const domainA, domainB = "nl-police-rotterdam/risk_management", "dk-municipality-aarhus/crime_prevention"
	p := newPseudonymizer(t, nil)
	ids := syntheticIDs(n)

	seenID := make(map[string]struct{}, n)
	inA := make(map[string]int, n)
	inB := make(map[string]int, n)
	bodies := make([]string, 0, 2*n)
	for i, id := range ids {
		if _, dup := seenID[id]; dup {
			t.Fatalf("synthetic identifier %d repeats: fix the generator", i)
		}
		seenID[id] = struct{}{}
		for _, d := range []struct {
			domain string
			seen   map[string]int
		}{{domainA, inA}, {domainB, inB}} {
			ps, err := p.Pseudonym(d.domain, pseudonym.SubjectID(id))
			if err != nil {
				t.Fatalf("Pseudonym(%s, #%d): %v", d.domain, i, err)
			}
			if j, dup := d.seen[ps]; dup {
				t.Fatalf("collision in domain %s: subjects #%d and #%d share %q", d.domain, j, i, ps)
			}
			d.seen[ps] = i
			bodies = append(bodies, ps[strings.LastIndexByte(ps, ':')+1:])
		}
	}
	for ps, i := range inB {
		if j, ok := inA[ps]; ok {
			t.Fatalf("pseudonym %q of subject #%d in %s also names subject #%d in %s", ps, i, domainB, j, domainA)
		}
	}
	if len(inA) != n || len(inB) != n {
		t.Fatalf("distinct pseudonyms: %d in A, %d in B; want %d each", len(inA), len(inB), n)
	}

	if body, enc, ok := hashLeak(ids, bodies); ok {
		t.Fatalf("pseudonym body %q contains the start of the unkeyed hash encoding %q", body, enc)
	}

	// A sample resolves back in its own domain and not in the other.
	for ps, i := range inA {
		if i%997 != 0 {
			continue
		}
		if got, err := p.Resolve(domainA, ps); err != nil || string(got) != ids[i] {
			t.Errorf("Resolve(A, pseudonym of #%d) = %v, %v; want the subject", i, string(got) == ids[i], err)
		}
		if _, err := p.Resolve(domainB, ps); err == nil {
			t.Errorf("the domain-A pseudonym of #%d resolves in domain B", i)
		}
	}
}

// TestHashLeakCatchesPlainHashes makes sure the unlinkability check can
// fail: bodies made of whole or truncated unkeyed hashes, anywhere in the
// body, are caught; real pseudonyms of the same identifiers are not.
func TestHashLeakCatchesPlainHashes(t *testing.T) {
	ids := []string{"150394-1234", "SYN-000042", "123456782"}
	pad := "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwxyz234567abcdefghijklm"
	s256 := sha256.Sum256([]byte(ids[0]))
	s512 := sha512.Sum512([]byte(ids[1]))
	m5 := md5.Sum([]byte(ids[2]))
	for name, body := range map[string]string{
		"sha256 base32 truncated": strings.ToLower(base32.StdEncoding.EncodeToString(s256[:]))[:26] + pad[:51],
		"sha512 hex prefix":       hex.EncodeToString(s512[:])[:77],
		"md5 base64 inside":       pad[:30] + base64.StdEncoding.EncodeToString(m5[:]) + pad[:23],
	} {
		if _, _, found := hashLeak(ids, []string{pad, body}); !found {
			t.Errorf("%s: body %q not flagged", name, body)
		}
	}
	p := newPseudonymizer(t, nil)
	var bodies []string
	for _, id := range ids {
		ps, _ := p.Pseudonym("d", pseudonym.SubjectID(id))
		bodies = append(bodies, ps[strings.LastIndexByte(ps, ':')+1:])
	}
	if body, enc, found := hashLeak(ids, bodies); found {
		t.Errorf("real pseudonym body %q flagged for %q", body, enc)
	}
}
