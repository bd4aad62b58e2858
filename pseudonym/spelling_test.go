package pseudonym_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/liaison-gateway/liaison/pseudonym"
)

// twoVersions returns a Pseudonymizer over a fresh random key file with
// two live versions (1, and 2 current), so that a changed version digit
// can land on a real key.
func twoVersions(t *testing.T) *pseudonym.Pseudonymizer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	if v, err := pseudonym.RotateKeyFile(path, time.Now()); err != nil || v != 2 {
		t.Fatalf("RotateKeyFile = %d, %v", v, err)
	}
	p, err := pseudonym.New(t.Context(), pseudonym.Config{Source: pseudonym.FileKeys{Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// refused reports whether Resolve refuses s in every domain, with one of
// the errors Resolve documents, and never with the identifier in it.
func refused(t *testing.T, p *pseudonym.Pseudonymizer, domains []string, s, id string) bool {
	t.Helper()
	for _, d := range domains {
		got, err := p.Resolve(d, s)
		if err == nil {
			t.Errorf("Resolve(%q, %q) resolved (to the right person: %v), want a refusal", d, s, string(got) == id)
			return false
		}
		_, kv := errors.AsType[*pseudonym.KeyVersionError](err)
		if !errors.Is(err, pseudonym.ErrNotAPseudonym) && !kv {
			t.Errorf("Resolve(%q, %q) error = %v, want ErrNotAPseudonym or a KeyVersionError", d, s, err)
			return false
		}
		if len(id) >= 6 && strings.Contains(err.Error(), id) {
			t.Errorf("Resolve(%q, %q) error %q holds the identifier", d, s, err)
		}
	}
	return true
}

// randomID returns an identifier of 1 to 255 bytes: short ones like
// national numbers, and long ones whose pseudonyms span more blocks.
func randomID(r *rand.Rand) string {
	n := 1 + r.IntN(24)
	if r.IntN(4) == 0 {
		n = 1 + r.IntN(255)
	}
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/. abcdefxyzæøå"
	var b strings.Builder
	for b.Len() < n {
		c := []rune(chars)[r.IntN(len([]rune(chars)))]
		if b.Len()+len(string(c)) > n {
			c = 'X'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// TestEveryPseudonymHasOneSpelling alters every character position of many
// pseudonyms (random subjects, several domains, two key versions) in
// several ways, and requires Resolve to refuse every altered string in
// every domain: no other spelling names anybody.
func TestEveryPseudonymHasOneSpelling(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed>>1))
	p := twoVersions(t)
	domains := []string{"nl-police-rotterdam/risk_management", "case/NL-ZVH-RTM-0042", "dk-police-aarhus/investigation", "d"}
	// Substitutes: the alphabet, its upper case, and what lax decoders
	// skip or accept (padding, line breaks, signs, spaces, zeros).
	const subs = "abcdefghijklmnopqrstuvwxyz234567ABCDEFGHIJKLMNOPQRSTUVWXYZ0189=:+- \n\r\t"
	subjects, altered := 40, 0
	if testing.Short() {
		subjects = 10
	}
	for range subjects {
		id := randomID(r)
		for _, d := range domains {
			for _, version := range []int{1, 2} {
				ps, err := p.PseudonymAt(version, d, pseudonym.SubjectID(id))
				if err != nil {
					t.Fatal(err)
				}
				if got, err := p.Resolve(d, ps); err != nil || string(got) != id {
					t.Fatalf("Resolve(%q, its own pseudonym) = %v, %v", d, string(got) == id, err)
				}
				var alts []string
				for i := range len(ps) {
					c := ps[i]
					var variants []byte
					// Neighbours in the alphabet differ in the lowest bit:
					// the spare bits of the last character.
					if j := strings.IndexByte(subs[:32], c); j >= 0 {
						variants = append(variants, subs[j^1])
					}
					if u := byte(unicode.ToUpper(rune(c))); u != c {
						variants = append(variants, u)
					}
					for range 4 {
						variants = append(variants, subs[r.IntN(len(subs))])
					}
					for _, v := range variants {
						if v != c {
							alts = append(alts, ps[:i]+string(v)+ps[i+1:])
						}
					}
					alts = append(alts,
						ps[:i]+ps[i+1:], // deleted
						ps[:i]+string(subs[r.IntN(len(subs))])+ps[i:], // inserted
					)
				}
				alts = append(alts, ps+"\n", ps+"=", " "+ps, ps+"a", strings.ToUpper(ps))
				for _, a := range alts {
					if a == ps {
						continue
					}
					altered++
					if !refused(t, p, domains, a, id) {
						t.Fatalf("an altered spelling of a pseudonym (version %d, subject of %d bytes) was not refused", version, len(id))
					}
				}
			}
		}
	}
	t.Logf("%d altered spellings of %d pseudonyms refused in all %d domains", altered, subjects*len(domains)*2, len(domains))
}

// TestPseudonymSpellingsSeenInTheField are the two spellings the issue
// reported: the last letter's spare bit, and a zero-padded version.
func TestPseudonymSpellingsSeenInTheField(t *testing.T) {
	p := twoVersions(t)
	const d = "case/NL-ZVH-RTM-0042"
	domains := []string{d}
	// The 48 bytes of a pseudonym fill 76 characters and 4 bits of the
	// 77th, whose lowest bit is spare: a and b, c and d... used to decode
	// alike. Every pseudonym now ends in the even one of the pair; the odd
	// one is refused.
	aFound := false
	for i := range 2000 {
		id := fmt.Sprintf("SYN-NL-%04d", i)
		ps, err := p.Pseudonym(d, pseudonym.SubjectID(id))
		if err != nil {
			t.Fatal(err)
		}
		last := strings.IndexByte("abcdefghijklmnopqrstuvwxyz234567", ps[len(ps)-1])
		if last%2 != 0 {
			t.Errorf("pseudonym %q ends in a character with its spare bit set", ps)
		}
		if last == 0 {
			aFound = true
			if !refused(t, p, domains, ps[:len(ps)-1]+"b", id) {
				t.Errorf("a pseudonym ending in a resolves with b as its last letter too")
			}
		}
	}
	if !aFound {
		t.Fatal("no pseudonym ending in a among 2000 subjects")
	}

	ps, _ := p.PseudonymAt(1, d, "SYN-NL-0001")
	ps2, _ := p.Pseudonym(d, "SYN-NL-0001")
	body := strings.TrimPrefix(ps, "psn:1:")
	for _, bad := range []string{
		"psn:01:" + body, "psn:001:" + body, "psn:+1:" + body, "psn: 1:" + body, "psn:1 :" + body,
		"psn:1.0:" + body, "psn:0x1:" + body, "psn:1e0:" + body, "psn:١:" + body,
		"psn:4294967297:" + body, // 1 modulo 2^32
		"psn:2:" + body,          // a real version, the wrong key
		"PSN:1:" + body, "psn:1:" + strings.ToUpper(body), "psn:1::" + body, "psn:1:" + body + ":",
		"psn:1:" + body[:40] + "\n" + body[40:], "psn:1:" + body[:40] + "\r\n" + body[40:],
		"psn:1:" + body + "===", "psn:1:" + body + "\n",
	} {
		if !refused(t, p, domains, bad, "SYN-NL-0001") {
			t.Errorf("%q was not refused", bad)
		}
		if _, err := pseudonym.ParseVersion(bad); err == nil && !strings.HasPrefix(bad, "psn:2:") {
			t.Errorf("ParseVersion(%q) = nil error; want it refused", bad)
		}
	}
	if v, err := pseudonym.ParseVersion(ps2); err != nil || v != 2 {
		t.Errorf("ParseVersion(current pseudonym) = %d, %v; want 2", v, err)
	}
}

func TestParseKeyVersion(t *testing.T) {
	for s, want := range map[string]int{"1": 1, "2": 2, "10": 10, "2147483647": 2147483647} {
		if got, err := pseudonym.ParseKeyVersion(s); err != nil || got != want {
			t.Errorf("ParseKeyVersion(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "00", "01", "+1", "-1", " 1", "1 ", "1\n", "1.0", "0x1", "1e0", "١", "2147483648", "99999999999999999999"} {
		if got, err := pseudonym.ParseKeyVersion(s); err == nil {
			t.Errorf("ParseKeyVersion(%q) = %d, nil; want an error", s, got)
		}
	}
}

func TestKeyFileVersionsHaveOneSpelling(t *testing.T) {
	const key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	for name, body := range map[string]string{
		"zero-padded beside canonical": `{"current": 1, "keys": {"1": "` + key + `", "01": "` + key + `"}, "audit": "` + key + `"}`,
		"zero-padded alone":            `{"current": 1, "keys": {"01": "` + key + `"}, "audit": "` + key + `"}`,
		"signed":                       `{"current": 1, "keys": {"+1": "` + key + `"}, "audit": "` + key + `"}`,
		"creation time of no key":      `{"current": 1, "keys": {"1": "` + key + `"}, "created": {"01": "2026-01-05T10:00:00Z"}, "audit": "` + key + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := (pseudonym.FileKeys{Path: path}).Keys(t.Context()); err == nil {
				t.Errorf("FileKeys.Keys(%s) = nil error; want the file refused", body)
			}
		})
	}
}

// TestKeyFileNamesHaveOneSpelling gives a key file a member twice, or a
// top-level name spelt otherwise or unknown: encoding/json kept the last of
// two, matched "Current" to current and dropped "audit_key", and a rotation
// then rewrote the file without what it dropped. Each is refused, and the
// error names the member but never a key.
func TestKeyFileNamesHaveOneSpelling(t *testing.T) {
	const key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	const other = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
	for name, c := range map[string]struct{ body, want string }{
		"key version twice": {`{"current": 1, "keys": {"1": "` + other + `", "1": "` + key + `"}, "audit": "` + key + `"}`, `keys."1" is given twice`},
		"current twice":     {`{"current": 2, "current": 1, "keys": {"1": "` + key + `"}, "audit": "` + key + `"}`, `"current" is given twice`},
		"audit twice":       {`{"current": 1, "keys": {"1": "` + key + `"}, "audit": "` + other + `", "audit": "` + key + `"}`, `"audit" is given twice`},
		"created twice":     {`{"current": 1, "keys": {"1": "` + key + `"}, "created": {"1": "2026-01-05T10:00:00Z", "1": "2026-02-05T10:00:00Z"}, "audit": "` + key + `"}`, `created."1" is given twice`},
		"capitalised name":  {`{"Current": 1, "keys": {"1": "` + key + `"}, "audit": "` + key + `"}`, `unknown field "Current"`},
		"upper-case name":   {`{"current": 1, "KEYS": {"1": "` + key + `"}, "audit": "` + key + `"}`, `unknown field "KEYS"`},
		"unknown name":      {`{"current": 1, "keys": {"1": "` + key + `"}, "audit": "` + key + `", "audit_key": "` + other + `"}`, `unknown field "audit_key"`},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(path, []byte(c.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := (pseudonym.FileKeys{Path: path}).Keys(t.Context())
			if err == nil {
				t.Fatalf("FileKeys.Keys(%s) = nil error; want the file refused", c.body)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), other) {
				t.Errorf("error %q holds key material", err)
			}
			before, _ := os.ReadFile(path)
			if _, err := pseudonym.RotateKeyFile(path, time.Now()); err == nil {
				t.Error("RotateKeyFile of the file succeeded; want it refused")
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("a refused rotation changed the file")
			}
		})
	}
}

// TestSealedDataHasOneSpelling changes, drops or appends each byte of a
// sealed message: none of them opens.
func TestSealedDataHasOneSpelling(t *testing.T) {
	p := twoVersions(t)
	aad := []byte("dk-police-aarhus")
	sealed, err := p.Seal(aad, []byte("identity released to insp.de.vries"))
	if err != nil {
		t.Fatal(err)
	}
	try := func(what string, b []byte) {
		t.Helper()
		if pt, err := p.Open(aad, b); err == nil {
			t.Errorf("Open(sealed data with %s) = %q, nil; want an error", what, pt)
		}
	}
	for i := range sealed {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := append([]byte(nil), sealed...)
			b[i] ^= x
			try(fmt.Sprintf("byte %d xor %#x", i, x), b)
		}
		try(fmt.Sprintf("byte %d dropped", i), append(append([]byte(nil), sealed[:i]...), sealed[i+1:]...))
	}
	try("a byte appended", append(append([]byte(nil), sealed...), 0))
	if pt, err := p.Open(aad, sealed); err != nil || string(pt) != "identity released to insp.de.vries" {
		t.Fatalf("Open(sealed) = %q, %v", pt, err)
	}
}

// TestKeyFileKeysHaveOneSpelling gives a key file its keys spelt in the
// other ways base64.StdEncoding, or a lenient reader, would take for the
// same bytes: each is refused, and the error never holds the key.
func TestKeyFileKeysHaveOneSpelling(t *testing.T) {
	const key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	spellings := map[string]string{
		"line break inside":      key[:20] + `\n` + key[20:],
		"CRLF inside":            key[:20] + `\r\n` + key[20:],
		"trailing line break":    key + `\n`,
		"no padding":             strings.TrimSuffix(key, "="),
		"padding bits set":       strings.TrimSuffix(key, "8=") + "9=",
		"URL alphabet":           "", // below
		"space before":           " " + key,
		"trailing junk":          key + "AA",
		"padding twice":          key + "=",
		"URL alphabet, unpadded": "",
	}
	// A key whose standard spelling has '+' and '/' to show the URL alphabet.
	const plusSlash = "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/8="
	spellings["URL alphabet"] = strings.NewReplacer("+", "-", "/", "_").Replace(plusSlash)
	spellings["URL alphabet, unpadded"] = strings.TrimSuffix(spellings["URL alphabet"], "=")
	for _, where := range []string{"keys", "audit"} {
		for name, bad := range spellings {
			t.Run(where+"/"+name, func(t *testing.T) {
				k1, audit := bad, key
				if where == "audit" {
					k1, audit = plusSlash, bad
				}
				body := `{"current": 1, "keys": {"1": "` + k1 + `"}, "audit": "` + audit + `"}`
				path := filepath.Join(t.TempDir(), "keys.json")
				if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := (pseudonym.FileKeys{Path: path}).Keys(t.Context())
				if err == nil {
					t.Fatalf("FileKeys.Keys(%s) = nil error; want the file refused", body)
				}
				if strings.Contains(err.Error(), strings.Trim(bad, " ")) || strings.Contains(err.Error(), key[:20]) {
					t.Errorf("error %q holds key material", err)
				}
			})
		}
	}
	// The canonical spellings are read.
	path := filepath.Join(t.TempDir(), "keys.json")
	body := `{"current": 1, "keys": {"1": "` + plusSlash + `"}, "audit": "` + key + `"}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (pseudonym.FileKeys{Path: path}).Keys(t.Context()); err != nil {
		t.Errorf("FileKeys.Keys(canonical) = %v", err)
	}
}

// TestKeyFileModeIsOwnerOnly: a key file that group or others may read or
// write is refused, by the gateway's source and by a rotation, with an
// error naming the file and the chmod that fixes it; 0600 and 0400 are
// read, and a rotated file stays 0600.
func TestKeyFileModeIsOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := (pseudonym.FileKeys{Path: path}).Keys(t.Context())
		if err == nil {
			t.Fatalf("FileKeys.Keys of a %04o file = nil error; want it refused", mode)
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: error %q does not name the file and the fix (chmod 600)", mode, err)
		}
		if _, _, err := (pseudonym.FileKeys{Path: path}).Schedule(); err == nil {
			t.Errorf("Schedule of a %04o file = nil error; want it refused", mode)
		}
		if _, err := pseudonym.RotateKeyFile(path, time.Now()); err == nil {
			t.Errorf("RotateKeyFile of a %04o file = nil error; want it refused", mode)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := (pseudonym.FileKeys{Path: path}).Keys(t.Context()); err != nil {
			t.Errorf("FileKeys.Keys of a %04o file: %v", mode, err)
		}
	}
	os.Chmod(path, 0o600)
	if _, err := pseudonym.RotateKeyFile(path, time.Now()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("rotated key file: %v, %v; want mode 0600", fi.Mode(), err)
	}
}
