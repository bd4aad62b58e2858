package authn

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
)

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
	D   string `json:"d"`
}

// ParseJWKS parses a JSON Web Key Set of public keys (OKP Ed25519, EC P-256
// and P-384, RSA of 2048 bits or more) into keys by kid. Symmetric keys and
// private keys are refused: a JWKS holds public keys only.
func ParseJWKS(data []byte) (map[string]any, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("authn: parse JWKS: %v", err)
	}
	keys := make(map[string]any, len(set.Keys))
	for i, k := range set.Keys {
		if k.Kid == "" {
			return nil, fmt.Errorf("authn: JWKS key %d has no kid", i)
		}
		if k.D != "" {
			return nil, fmt.Errorf("authn: JWKS key %q is a private key", k.Kid)
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, fmt.Errorf("authn: JWKS kid %q appears twice", k.Kid)
		}
		key, err := k.public()
		if err != nil {
			return nil, fmt.Errorf("authn: JWKS key %q: %v", k.Kid, err)
		}
		keys[k.Kid] = key
	}
	return keys, nil
}

func b64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func (k jwk) public() (any, error) {
	switch k.Kty {
	case "OKP":
		if k.Crv != "Ed25519" {
			return nil, fmt.Errorf("unsupported OKP curve %q", k.Crv)
		}
		x, err := b64(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 public key")
		}
		return ed25519.PublicKey(x), nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		default:
			return nil, fmt.Errorf("unsupported EC curve %q", k.Crv)
		}
		x, err1 := b64(k.X)
		y, err2 := b64(k.Y)
		if err1 != nil || err2 != nil {
			return nil, errors.New("bad EC coordinates")
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, errors.New("bad EC coordinate length")
		}
		raw := append([]byte{4}, append(x, y...)...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, raw)
		if err != nil {
			return nil, errors.New("EC point is not on the curve")
		}
		return pub, nil
	case "RSA":
		n, err1 := b64(k.N)
		e, err2 := b64(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA key")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 {
			return nil, errors.New("RSA key shorter than 2048 bits")
		}
		return pub, nil
	case "oct":
		return nil, errors.New("symmetric keys are not accepted")
	}
	return nil, fmt.Errorf("unsupported key type %q", k.Kty)
}

// MarshalJWKS encodes public keys as a JWKS; the development PKI and tests
// use it. Only Ed25519 and ECDSA keys are supported.
func MarshalJWKS(keys map[string]any) ([]byte, error) {
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	for _, kid := range slices.Sorted(maps.Keys(keys)) {
		switch k := keys[kid].(type) {
		case ed25519.PublicKey:
			set.Keys = append(set.Keys, map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig",
				"x": base64.RawURLEncoding.EncodeToString(k)})
		case *ecdsa.PublicKey:
			raw, err := k.Bytes()
			if err != nil {
				return nil, err
			}
			size := (len(raw) - 1) / 2
			set.Keys = append(set.Keys, map[string]string{"kty": "EC", "crv": k.Curve.Params().Name, "kid": kid, "use": "sig",
				"x": base64.RawURLEncoding.EncodeToString(raw[1 : 1+size]), "y": base64.RawURLEncoding.EncodeToString(raw[1+size:])})
		default:
			return nil, fmt.Errorf("authn: MarshalJWKS: unsupported key type %T", k)
		}
	}
	return json.MarshalIndent(set, "", "  ")
}
