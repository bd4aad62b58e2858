package authn_test

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
)

// fixture is one registered agency with a client certificate and an
// issuer, in front of a real Verifier.
type fixture struct {
	v      *authn.Verifier
	agency *authn.Agency
	iss    *devpki.Issuer
	conn   *tls.ConnectionState
}

func newFixture(t *testing.T, tokenTypes []string) *fixture {
	t.Helper()
	ca, err := devpki.NewAuthority("liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(ca.AgencyIdentity("nl-police-rotterdam"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(leaf.Cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	iss, err := devpki.NewIssuer("https://idp.police.test", "k1")
	if err != nil {
		t.Fatal(err)
	}
	a := &authn.Agency{
		ID: "nl-police-rotterdam", Kind: "police", Jurisdiction: "NL",
		CertificateIdentity: ca.AgencyIdentity("nl-police-rotterdam"),
		Issuer:              iss.Name, Keys: iss.PublicKeys(), TokenTypes: tokenTypes,
	}
	v, err := authn.NewVerifier(authn.Config{Audience: "liaison", CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetAgencies([]*authn.Agency{a}); err != nil {
		t.Fatal(err)
	}
	v.SetTrust(ca.Pool(), nil)
	return &fixture{v: v, agency: a, iss: iss, conn: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}}
}

// token signs a valid officer token after edit changed its header.
func (f *fixture) token(t *testing.T, edit func(h map[string]any)) string {
	t.Helper()
	now := time.Now()
	tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": f.iss.Name, "sub": "insp.de.vries", "aud": "liaison",
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": rand.Text(),
	})
	tk.Header["kid"] = f.iss.Kid
	if edit != nil {
		edit(tk.Header)
	}
	s, err := tk.SignedString(f.iss.Key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reason authenticates token and returns the refusal's reason, or "" if
// the token was accepted.
func (f *fixture) reason(t *testing.T, token string) string {
	t.Helper()
	_, err := f.v.Authenticate(t.Context(), f.conn, token)
	if err == nil {
		return ""
	}
	e, ok := errors.AsType[*authn.Error](err)
	if !ok {
		t.Fatalf("Authenticate error %v is not an *authn.Error", err)
	}
	if !errors.Is(err, authn.ErrUnauthenticated) || e.Agency != "nl-police-rotterdam" {
		t.Errorf("Authenticate error %v: agency %q, want an unauthenticated error naming the agency", err, e.Agency)
	}
	return e.Reason
}

func setHeader(k string, v any) func(map[string]any) {
	return func(h map[string]any) { h[k] = v }
}

func TestCritIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	if got := f.reason(t, f.token(t, nil)); got != "" {
		t.Fatalf("a plain token is refused: %s", got)
	}
	for _, tt := range []struct {
		name string
		crit any
	}{
		{"unknown extension", []string{"urn:example:must-understand"}},
		{"b64 (RFC 7797), not supported", []string{"b64"}},
		{"registered header name", []string{"exp"}},
		{"empty list", []string{}},
		{"not a list", "urn:example:must-understand"},
		{"null", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := f.token(t, func(h map[string]any) {
				h["crit"] = tt.crit
				h["urn:example:must-understand"] = true
				h["b64"] = true
			})
			if got := f.reason(t, tok); got != "TOKEN_CRIT_UNSUPPORTED" {
				t.Errorf("Authenticate(token with crit %v) reason = %q, want TOKEN_CRIT_UNSUPPORTED", tt.crit, got)
			}
		})
	}
}

func TestTokenType(t *testing.T) {
	for _, tt := range []struct {
		name    string
		allowed []string // the agency's token_types
		typ     any      // nil: no typ header
		want    string   // "" for accepted
	}{
		{name: "no typ", typ: nil},
		{name: "JWT", typ: "JWT"},
		{name: "jwt lower case", typ: "jwt"},
		{name: "application/jwt", typ: "application/jwt"},
		{name: "at+jwt", typ: "at+jwt"},
		{name: "AT+JWT", typ: "AT+JWT"},
		{name: "Application/At+Jwt", typ: "Application/At+Jwt"},
		{name: "JOSE", typ: "JOSE", want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "dpop+jwt", typ: "dpop+jwt", want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "logout token", typ: "logout+jwt", want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "empty", typ: "", want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "application/ alone", typ: "application/", want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "another top-level type", typ: "text/jwt", want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "parameters", typ: "application/jwt; charset=utf-8", want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "padded", typ: " JWT", want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "a number", typ: 1, want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "a list", typ: []string{"JWT"}, want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "restricted: at+jwt", allowed: []string{"at+jwt"}, typ: "at+jwt"},
		{name: "restricted: application/at+jwt", allowed: []string{"at+jwt"}, typ: "application/at+jwt"},
		{name: "restricted: no typ", allowed: []string{"at+jwt"}, typ: nil},
		{name: "restricted: JWT", allowed: []string{"at+jwt"}, typ: "JWT", want: "TOKEN_TYPE_NOT_ALLOWED"},
		{name: "restricted with prefix: at+jwt", allowed: []string{"application/AT+JWT"}, typ: "at+jwt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.allowed)
			edit := func(h map[string]any) { delete(h, "typ") }
			if tt.typ != nil {
				edit = setHeader("typ", tt.typ)
			}
			if got := f.reason(t, f.token(t, edit)); got != tt.want {
				t.Errorf("Authenticate(typ %#v, allowed %v) reason = %q, want %q", tt.typ, tt.allowed, got, tt.want)
			}
		})
	}
}

func TestTokenTypesAreValidated(t *testing.T) {
	f := newFixture(t, nil)
	for _, bad := range [][]string{{""}, {"text/plain"}, {"at+jwt; q=1"}, {"application/"}} {
		a := *f.agency
		a.TokenTypes = bad
		if err := f.v.SetAgencies([]*authn.Agency{&a}); err == nil {
			t.Errorf("SetAgencies(token types %q) = nil, want an error", bad)
		}
	}
}

// flipSpareBit changes the last character of a base64url segment in a bit
// the decoder does not use, so that a lax decoder reads the same bytes.
func flipSpareBit(t *testing.T, seg string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		t.Fatalf("segment of %d characters has no spare bits", len(seg))
	}
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	alt := seg[:len(seg)-1] + string(alphabet[i^1])
	a, err1 := base64.RawURLEncoding.DecodeString(seg)
	b, err2 := base64.RawURLEncoding.DecodeString(alt)
	if err1 != nil || err2 != nil || string(a) != string(b) {
		t.Fatalf("flipSpareBit: %q and %q do not decode alike (%v, %v)", seg, alt, err1, err2)
	}
	return alt
}

func TestTokenHasOneSpelling(t *testing.T) {
	f := newFixture(t, nil)
	for i, name := range []string{"header", "claims", "signature"} {
		t.Run(name, func(t *testing.T) {
			parts := strings.Split(f.token(t, nil), ".")
			if len(parts[i])%4 == 0 {
				// No spare bits in this spelling: pad the header so that there are.
				parts = strings.Split(f.token(t, setHeader("x", "ab")), ".")
			}
			parts[i] = flipSpareBit(t, parts[i])
			if got := f.reason(t, strings.Join(parts, ".")); got != "MALFORMED_TOKEN" {
				t.Errorf("Authenticate(token with a non-canonical %s) reason = %q, want MALFORMED_TOKEN", name, got)
			}
		})
	}
}
