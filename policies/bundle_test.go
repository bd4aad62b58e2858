package policies

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// testKey returns a fresh signing key of the given type ("ec" or "rsa").
func testKey(tb testing.TB, id, typ string) SigningKey {
	tb.Helper()
	var der []byte
	var err error
	switch typ {
	case "ec":
		var k *ecdsa.PrivateKey
		if k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err == nil {
			der, err = x509.MarshalPKCS8PrivateKey(k)
		}
	case "rsa":
		var k *rsa.PrivateKey
		if k, err = rsa.GenerateKey(rand.Reader, 2048); err == nil {
			der, err = x509.MarshalPKCS8PrivateKey(k)
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	k, err := ParseSigningKey(id, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

var ecKeyOnce = sync.OnceValue(func() SigningKey { return testKey(&testing.T{}, "liaison-test", "ec") })

func publicKey(tb testing.TB, k SigningKey) PublicKey {
	tb.Helper()
	pk, err := k.Public()
	if err != nil {
		tb.Fatal(err)
	}
	return pk
}

// signedBundle returns the tree fsys as a bundle signed with k.
func signedBundle(tb testing.TB, fsys fs.FS, k SigningKey) []byte {
	tb.Helper()
	var buf bytes.Buffer
	digest, err := WriteBundle(&buf, fsys, k)
	if err != nil {
		tb.Fatalf("WriteBundle: %v", err)
	}
	if want := fmt.Sprintf("sha256:%x", sha256.Sum256(buf.Bytes())); digest != want {
		tb.Fatalf("WriteBundle digest = %s, want %s", digest, want)
	}
	return buf.Bytes()
}

// rewriteBundle rewrites the files of a .tar.gz bundle with edit, which
// returns the new contents, or nil to drop the file. extra files are added.
func rewriteBundle(tb testing.TB, b []byte, edit func(name string, data []byte) []byte, extra map[string][]byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	write := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			tb.Fatal(err)
		}
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		if data = edit(h.Name, data); data != nil {
			write(h.Name, data)
		}
	}
	for name, data := range extra {
		write(name, data)
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func TestBundleRoundTrip(t *testing.T) {
	for _, typ := range []string{"ec", "rsa"} {
		t.Run(typ, func(t *testing.T) {
			k := testKey(t, "liaison-"+typ, typ)
			b := signedBundle(t, Embedded(), k)
			e, err := LoadBundle(t.Context(), bytes.NewReader(b), publicKey(t, k))
			if err != nil {
				t.Fatalf("LoadBundle: %v", err)
			}
			if got, want := e.Revision(), loadEmbedded(t).Revision(); got != want {
				t.Errorf("Revision() = %s, want the embedded tree's %s", got, want)
			}
			if got, want := e.Digest(), fmt.Sprintf("sha256:%x", sha256.Sum256(b)); got != want {
				t.Errorf("Digest() = %s, want %s", got, want)
			}
			d, err := e.Decide(t.Context(), sampleDKRelease("risk_management"))
			if err != nil || d.Outcome != OutcomeDisclose {
				t.Errorf("Decide() = %v, %v; want a disclosure", d.Outcome, err)
			}
		})
	}
}

func TestBundleRefused(t *testing.T) {
	k := ecKeyOnce()
	good := signedBundle(t, Embedded(), k)
	other := testKey(t, "liaison-test", "ec") // same id, different key

	var unsigned bytes.Buffer
	roots := []string{""}
	if err := bundle.NewWriter(&unsigned).DisableFormat(true).Write(bundle.Bundle{
		Manifest: bundle.Manifest{Revision: "x", Roots: &roots},
		Data:     map[string]any{},
		Modules:  []bundle.ModuleFile{{URL: "/liaison/decision.rego", Path: "/liaison/decision.rego", Raw: []byte("package liaison\n")}},
	}); err != nil {
		t.Fatal(err)
	}
	tampered := rewriteBundle(t, good, func(name string, data []byte) []byte {
		if name == "/nl/nl.rego" {
			return bytes.Replace(data, []byte(`"recipient_kinds": ["police", "probation", "local_authority"]`), []byte(`"recipient_kinds": ["police", "probation", "local_authority", "ngo"]`), 1)
		}
		return data
	}, nil)
	if bytes.Equal(tampered, good) {
		t.Fatal("tampering changed nothing")
	}
	added := rewriteBundle(t, good, func(_ string, data []byte) []byte { return data },
		map[string][]byte{"/extra/extra.rego": []byte("package extra\n\nx := 1\n")})
	dropped := rewriteBundle(t, good, func(name string, data []byte) []byte {
		if name == "/dk/dk_test.rego" {
			return nil
		}
		return data
	}, nil)

	for _, tt := range []struct {
		name string
		b    []byte
		keys []PublicKey
		want string
	}{
		{"unsigned", unsigned.Bytes(), []PublicKey{publicKey(t, k)}, "missing .signatures.json"},
		{"no_key_configured", good, nil, "no verification key"},
		{"wrong_key", good, []PublicKey{publicKey(t, other)}, "signature"},
		{"tampered_file", tampered, []PublicKey{publicKey(t, k)}, "digest mismatch"},
		{"added_file", added, []PublicKey{publicKey(t, k)}, "not included in bundle signature"},
		{"dropped_file", dropped, []PublicKey{publicKey(t, k)}, "not found in the target bundle"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := LoadBundle(t.Context(), bytes.NewReader(tt.b), tt.keys...)
			if err == nil || e != nil {
				t.Fatalf("LoadBundle() = %v, %v; want an error", e, err)
			}
			if !errors.Is(err, ErrBundleSignature) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadBundle() error = %v; want ErrBundleSignature mentioning %q", err, tt.want)
			}
		})
	}
}

func TestBundleOfABrokenTreeIsRefusedAfterTheSignature(t *testing.T) {
	k := ecKeyOnce()
	for _, tt := range []struct {
		name string
		tree fstest.MapFS
		want string
	}{
		{"syntax_error", withFile(Embedded(), "nl/nl.rego", "package liaison.jurisdictions.nl\n\ncode := {\n"), "rego_parse_error"},
		{"failing_test", withFile(Embedded(), "nl/zz_test.rego", "package liaison_test.zz\n\ntest_fails if data.liaison.decision.outcome == \"nonsense\"\n"), "Rego test(s) failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBundle(t.Context(), bytes.NewReader(signedBundle(t, tt.tree, k)), publicKey(t, k))
			if err == nil || errors.Is(err, ErrBundleSignature) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadBundle() error = %v; want one mentioning %q that is not a signature error", err, tt.want)
			}
		})
	}
}

func TestBundleWithDataIsRefused(t *testing.T) {
	k := ecKeyOnce()
	b := rewriteBundle(t, signedBundle(t, Embedded(), k), func(_ string, data []byte) []byte { return data }, nil)
	// A bundle built by hand with a data file, signed properly.
	roots := []string{""}
	var mods []bundle.ModuleFile
	_ = walkTree(Embedded(), func(p string, src []byte) error {
		mods = append(mods, bundle.ModuleFile{URL: "/" + p, Path: "/" + p, Raw: src})
		return nil
	})
	bd := bundle.Bundle{Manifest: bundle.Manifest{Revision: "x", Roots: &roots}, Data: map[string]any{"extra": map[string]any{"x": 1}}, Modules: mods}
	if err := bd.GenerateSignature(bundle.NewSigningConfig(string(k.PEM), k.Algorithm, ""), k.ID, false); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).DisableFormat(true).Write(bd); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBundle(t.Context(), bytes.NewReader(buf.Bytes()), publicKey(t, k)); err == nil || !strings.Contains(err.Error(), "only .rego files") {
		t.Errorf("LoadBundle(bundle with data.json) error = %v; want a refusal", err)
	}
	if _, err := LoadBundle(t.Context(), bytes.NewReader(b), publicKey(t, k)); err != nil {
		t.Errorf("LoadBundle(rewritten but unchanged bundle) error = %v", err)
	}
}

func TestKeys(t *testing.T) {
	if _, err := ParsePublicKey("x", []byte("not pem")); err == nil {
		t.Error("ParsePublicKey(garbage) succeeded")
	}
	k := testKey(t, "x", "rsa")
	if k.Algorithm != "RS256" {
		t.Errorf("RSA key algorithm = %s, want RS256", k.Algorithm)
	}
	if _, err := ParsePublicKey("x", k.PEM); err == nil {
		t.Error("ParsePublicKey(private key) succeeded")
	}
	if pk := publicKey(t, ecKeyOnce()); pk.Algorithm != "ES256" || !strings.Contains(string(pk.PEM), "PUBLIC KEY") {
		t.Errorf("Public() = %+v", pk)
	}
}

// withFile returns a copy of fsys's .rego files with the file at name set
// to src.
func withFile(fsys fs.FS, name, src string) fstest.MapFS {
	m := fstest.MapFS{}
	_ = walkTree(fsys, func(p string, b []byte) error {
		m[p] = &fstest.MapFile{Data: b}
		return nil
	})
	m[name] = &fstest.MapFile{Data: []byte(src)}
	return m
}
