package policies

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// Bundles are OPA bundles (a .tar.gz of the tree's .rego files with a
// /.manifest and /.signatures.json) in OPA's bundle-signing format: the
// signature is a JWT naming the SHA-256 of every file, so that `opa build
// --signing-key`, `opa run --verification-key` and Liaison accept each
// other's bundles. Liaison accepts only signed bundles.

// ErrBundleSignature is returned, wrapped, when a bundle is unsigned or its
// signature does not verify with the configured keys (wrong key, tampered
// or added file).
var ErrBundleSignature = errors.New("policies: bundle signature")

// A PublicKey verifies bundle signatures.
type PublicKey struct {
	// ID is the key id. A bundle signed with a key id (the JWT "kid")
	// verifies only with the key of that id; with one key configured, a
	// bundle without a key id is checked against it.
	ID string
	// Algorithm is the JWS algorithm: RS256, RS384, RS512, PS256, PS384,
	// PS512, ES256, ES384 or ES512. Empty means the one the key implies
	// (RS256 for RSA, ES256/384/512 for EC P-256/384/521).
	Algorithm string
	// PEM is the public key (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE).
	PEM []byte
}

// A SigningKey signs bundles.
type SigningKey struct {
	// ID is the key id written into the signature (the JWT "kid").
	ID string
	// Algorithm is as for [PublicKey]; empty means the one the key implies.
	Algorithm string
	// PEM is the private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY).
	PEM []byte
}

// ParsePublicKey checks a PEM public key and returns it as a PublicKey
// with id and the algorithm its type implies.
func ParsePublicKey(id string, pemBytes []byte) (PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return PublicKey{}, errors.New("policies: public key: no PEM block")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = c.PublicKey
		}
	default:
		return PublicKey{}, fmt.Errorf("policies: public key: PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return PublicKey{}, fmt.Errorf("policies: public key: %v", err)
	}
	alg, err := algorithmFor(pub)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{ID: id, Algorithm: alg, PEM: pemBytes}, nil
}

// ParseSigningKey checks a PEM private key and returns it as a SigningKey
// with id and the algorithm its type implies.
func ParseSigningKey(id string, pemBytes []byte) (SigningKey, error) {
	priv, err := parsePrivateKey(pemBytes)
	if err != nil {
		return SigningKey{}, err
	}
	alg, err := algorithmFor(publicOf(priv))
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{ID: id, Algorithm: alg, PEM: pemBytes}, nil
}

// Public returns the public key that verifies k's signatures.
func (k SigningKey) Public() (PublicKey, error) {
	priv, err := parsePrivateKey(k.PEM)
	if err != nil {
		return PublicKey{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(publicOf(priv))
	if err != nil {
		return PublicKey{}, fmt.Errorf("policies: public key: %v", err)
	}
	pk, err := ParsePublicKey(k.ID, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		return PublicKey{}, err
	}
	if k.Algorithm != "" {
		pk.Algorithm = k.Algorithm
	}
	return pk, nil
}

func parsePrivateKey(pemBytes []byte) (any, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("policies: signing key: no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("policies: signing key: PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("policies: signing key: %v", err)
	}
	return key, nil
}

func publicOf(priv any) any {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	}
	return priv
}

// algorithmFor is the JWS algorithm a key implies. OPA's bundle signing
// supports RSA and ECDSA keys, not Ed25519.
func algorithmFor(pub any) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RS256", nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		case elliptic.P521():
			return "ES512", nil
		}
	}
	return "", fmt.Errorf("policies: key type %T cannot sign OPA bundles; use RSA or ECDSA (P-256, P-384, P-521)", pub)
}

// LoadBundle reads a signed OPA bundle from r, checks its signature with
// keys, and loads its tree as [Load] does (strict compile, the tree's own
// tests, built-in samples). The bundle must hold .rego files only (plus
// the manifest and signature); data files are refused, because packs hold
// their data as Rego. Every file must be covered by the signature and
// every file the signature names must be present. A signature problem is
// reported as a wrapped [ErrBundleSignature]. The engine's [Engine.Digest]
// is the SHA-256 of the bundle's bytes.
func LoadBundle(ctx context.Context, r io.Reader, keys ...PublicKey) (*Engine, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("policies: bundle: %v", err)
	}
	if len(b) > maxBundleBytes {
		return nil, fmt.Errorf("policies: bundle: more than %d bytes", maxBundleBytes)
	}
	return loadBundle(ctx, b, "bundle", keys)
}

func loadBundle(ctx context.Context, b []byte, source string, keys []PublicKey) (*Engine, error) {
	fsys, err := openBundle(b, keys)
	if err != nil {
		return nil, err
	}
	return load(ctx, fsys, source, digestOf(b))
}

// openBundle verifies a bundle and returns its .rego files as a tree.
func openBundle(b []byte, keys []PublicKey) (fs.FS, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no verification key configured; Liaison loads signed bundles only", ErrBundleSignature)
	}
	configs := make(map[string]*bundle.KeyConfig, len(keys))
	for _, k := range keys {
		alg := k.Algorithm
		if alg == "" {
			pk, err := ParsePublicKey(k.ID, k.PEM)
			if err != nil {
				return nil, err
			}
			alg = pk.Algorithm
		}
		configs[k.ID] = &bundle.KeyConfig{Key: string(k.PEM), Algorithm: alg}
	}
	keyID := ""
	if len(keys) == 1 {
		keyID = keys[0].ID
	}
	vc := bundle.NewVerificationConfig(configs, keyID, "", nil)
	bdl, err := bundle.NewReader(bytes.NewReader(b)).
		WithBundleVerificationConfig(vc).
		WithRegoVersion(ast.RegoV1).
		WithSizeLimitBytes(maxBundleBytes).
		Read()
	if err != nil {
		if isSignatureError(err) {
			return nil, fmt.Errorf("%w: %v", ErrBundleSignature, err)
		}
		return nil, fmt.Errorf("policies: bundle: %v", err)
	}
	if len(bdl.Signatures.Signatures) == 0 {
		return nil, fmt.Errorf("%w: the bundle is not signed", ErrBundleSignature)
	}
	if len(bdl.Data) > 0 || len(bdl.WasmModules) > 0 || len(bdl.PlanModules) > 0 {
		return nil, errors.New("policies: bundle: only .rego files are supported (no data.json, data.yaml, wasm or plan files); put pack data in Rego")
	}
	tree := fstest.MapFS{}
	for _, m := range bdl.Modules {
		tree[strings.TrimPrefix(m.Path, "/")] = &fstest.MapFile{Data: m.Raw}
	}
	return tree, nil
}

// isSignatureError tells signature failures from other bundle errors by
// the messages of OPA's bundle package.
func isSignatureError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"signature", "digest mismatch", "verification", "verify", "not included in bundle signature", "specified in bundle signatures", "JWT", "jws", "key id"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// WriteBundle writes the tree in fsys (its .rego files, tests included, as
// [Load] reads them) to w as an OPA bundle signed with key, and returns
// the bundle's digest ("sha256:<hex>" of the bytes written). The manifest's
// revision is the tree's [Engine.Revision]. WriteBundle does not check that
// the tree loads: [LoadBundle] does that on the receiving side (and `liaison
// policy bundle` before writing).
func WriteBundle(w io.Writer, fsys fs.FS, key SigningKey) (digest string, err error) {
	if key.Algorithm == "" {
		k, err := ParseSigningKey(key.ID, key.PEM)
		if err != nil {
			return "", err
		}
		key.Algorithm = k.Algorithm
	}
	var mods []module
	var files []bundle.ModuleFile
	err = walkTree(fsys, func(p string, src []byte) error {
		files = append(files, bundle.ModuleFile{URL: "/" + p, Path: "/" + p, RelativePath: p, Raw: src})
		if !strings.HasSuffix(p, "_test.rego") {
			mods = append(mods, module{path: p, src: src})
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(mods) == 0 {
		return "", errors.New("policies: bundle: the tree has no policy modules (.rego files other than *_test.rego)")
	}
	roots := []string{""}
	b := bundle.Bundle{
		Manifest: bundle.Manifest{Revision: revision(mods), Roots: &roots},
		Data:     map[string]any{},
		Modules:  files,
	}
	b.Manifest.SetRegoVersion(ast.RegoV1)
	if err := b.GenerateSignature(bundle.NewSigningConfig(string(key.PEM), key.Algorithm, ""), key.ID, false); err != nil {
		return "", fmt.Errorf("policies: bundle: sign: %v", err)
	}
	h := sha256.New()
	if err := bundle.NewWriter(io.MultiWriter(w, h)).UseModulePath(false).DisableFormat(true).Write(b); err != nil {
		return "", fmt.Errorf("policies: bundle: write: %v", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// OpenBundle reads a signed OPA bundle from r, checks its signature with
// keys as [LoadBundle] does, and returns its .rego files as a tree (for
// [RunTests] or [Load]) and the bundle's digest. It does not load the tree.
func OpenBundle(r io.Reader, keys ...PublicKey) (tree fs.FS, digest string, err error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBundleBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("policies: bundle: %v", err)
	}
	if len(b) > maxBundleBytes {
		return nil, "", fmt.Errorf("policies: bundle: more than %d bytes", maxBundleBytes)
	}
	tree, err = openBundle(b, keys)
	if err != nil {
		return nil, "", err
	}
	return tree, digestOf(b), nil
}
