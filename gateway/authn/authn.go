package authn

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrUnauthenticated is wrapped by every authentication failure.
var ErrUnauthenticated = errors.New("authn: unauthenticated")

// An Error is an authentication failure with a stable reason code for the
// audit log and the caller. It never holds the token.
type Error struct {
	// Reason is a stable code, e.g. TOKEN_EXPIRED.
	Reason string
	// Agency is the agency the certificate or the token claimed, if any.
	Agency string
	// Detail is a short description safe to show the caller.
	Detail string
	// Permission is set where the caller is known but not allowed
	// (an offboarded agency): PermissionDenied rather than Unauthenticated.
	Permission bool
}

func (e *Error) Error() string { return "authn: " + e.Reason + ": " + e.Detail }

// Unwrap makes errors.Is(err, ErrUnauthenticated) hold.
func (e *Error) Unwrap() error { return ErrUnauthenticated }

func fail(reason, agency, format string, args ...any) *Error {
	return &Error{Reason: reason, Agency: agency, Detail: fmt.Sprintf(format, args...)}
}

// An Agency is a registered agency as authentication needs it.
type Agency struct {
	ID           string
	Kind         string
	Jurisdiction string
	// CertificateIdentity is the URI SAN its client certificates carry,
	// e.g. spiffe://liaison.example/agency/dk-prison-east.
	CertificateIdentity string
	// Issuer is the iss of its officers' tokens.
	Issuer string
	// Keys are the issuer's public keys by kid.
	Keys map[string]any
	// Algorithms allowed for its tokens; if empty, EdDSA and ES256.
	Algorithms []string
	// MaxTokenLifetime bounds exp - iat. If zero, one hour.
	MaxTokenLifetime time.Duration
	// Offboarded agencies are refused.
	Offboarded bool
}

// An Officer is the person acting, as their agency's token names them.
type Officer struct {
	ID        string
	Roles     []string
	Clearance string
}

// A Caller is an authenticated agency and officer.
type Caller struct {
	Agency  *Agency
	Officer Officer
	// TokenID is the token's jti, if any.
	TokenID string
	// Expires is when the token expires.
	Expires time.Time
}

// HasRole reports whether the officer holds role.
func (c Caller) HasRole(role string) bool { return slices.Contains(c.Officer.Roles, role) }

type callerKey struct{}

// NewContext returns a copy of ctx carrying the authenticated caller.
func NewContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// FromContext returns the authenticated caller stored in ctx, if any.
func FromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Clearance levels in ascending order.
var clearances = []string{"none", "restricted", "confidential", "secret", "top_secret"}

// Config configures a Verifier.
type Config struct {
	// Audience is the aud every token must name. Required.
	Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat. If zero, 30s.
	Leeway time.Duration
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
	// Logger receives operational logs. If nil, slog.Default().
	Logger *slog.Logger
}

// A Verifier authenticates callers against the registered agencies. It is
// safe for concurrent use; SetAgencies swaps the registry atomically.
type Verifier struct {
	cfg      Config
	log      *slog.Logger
	agencies atomic.Pointer[registry]
}

type registry struct {
	byIdentity map[string]*Agency
	byID       map[string]*Agency
}

// NewVerifier returns a Verifier with no agencies.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Audience == "" {
		return nil, errors.New("authn: Config.Audience is required")
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{cfg: cfg, log: cfg.Logger}
	if v.log == nil {
		v.log = slog.Default()
	}
	v.agencies.Store(&registry{byIdentity: map[string]*Agency{}, byID: map[string]*Agency{}})
	return v, nil
}

// SetAgencies replaces the registry. It validates every agency first and
// leaves the old registry in place on error.
func (v *Verifier) SetAgencies(agencies []*Agency) error {
	r := &registry{byIdentity: map[string]*Agency{}, byID: map[string]*Agency{}}
	for _, a := range agencies {
		if a.ID == "" || a.CertificateIdentity == "" || a.Issuer == "" {
			return fmt.Errorf("authn: agency %q: id, certificate identity and issuer are required", a.ID)
		}
		if len(a.Keys) == 0 {
			return fmt.Errorf("authn: agency %q: no issuer keys", a.ID)
		}
		for _, alg := range a.Algorithms {
			if !slices.Contains(allowedAlgorithms, alg) {
				return fmt.Errorf("authn: agency %q: algorithm %q is not allowed", a.ID, alg)
			}
		}
		if _, dup := r.byID[a.ID]; dup {
			return fmt.Errorf("authn: agency %q registered twice", a.ID)
		}
		if _, dup := r.byIdentity[a.CertificateIdentity]; dup {
			return fmt.Errorf("authn: certificate identity %q registered twice", a.CertificateIdentity)
		}
		r.byID[a.ID] = a
		r.byIdentity[a.CertificateIdentity] = a
	}
	v.agencies.Store(r)
	return nil
}

// Agency returns a registered agency by id.
func (v *Verifier) Agency(id string) (*Agency, bool) {
	a, ok := v.agencies.Load().byID[id]
	return a, ok
}

// allowedAlgorithms are the only algorithms an agency may allow: asymmetric
// signatures. HMAC algorithms and none are never accepted.
var allowedAlgorithms = []string{"EdDSA", "ES256", "ES384", "RS256", "PS256"}

// AgencyFromCertificate returns the agency named by a verified client
// certificate chain.
func (v *Verifier) AgencyFromCertificate(state *tls.ConnectionState) (*Agency, error) {
	if state == nil || len(state.PeerCertificates) == 0 {
		return nil, fail("NO_CLIENT_CERTIFICATE", "", "a client certificate is required")
	}
	if len(state.VerifiedChains) == 0 {
		return nil, fail("CERTIFICATE_NOT_VERIFIED", "", "the client certificate does not chain to a trusted CA")
	}
	leaf := state.PeerCertificates[0]
	r := v.agencies.Load()
	for _, u := range leaf.URIs {
		if a, ok := r.byIdentity[u.String()]; ok {
			if a.Offboarded {
				e := fail("AGENCY_OFFBOARDED", a.ID, "the agency is no longer registered")
				e.Permission = true
				return nil, e
			}
			return a, nil
		}
	}
	return nil, fail("UNKNOWN_AGENCY", certName(leaf), "the certificate names no registered agency")
}

func certName(c *x509.Certificate) string {
	for _, u := range c.URIs {
		return u.String()
	}
	return c.Subject.CommonName
}

type claims struct {
	jwt.RegisteredClaims
	Roles     []string `json:"roles"`
	Clearance string   `json:"clearance"`
}

// Authenticate verifies the bearer token for an agency already proven by
// its certificate and returns the caller.
func (v *Verifier) Authenticate(ctx context.Context, agency *Agency, token string) (Caller, error) {
	if token == "" {
		return Caller{}, fail("NO_TOKEN", agency.ID, "a bearer token is required")
	}
	algs := agency.Algorithms
	if len(algs) == 0 {
		algs = []string{"EdDSA", "ES256"}
	}
	p := jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithAudience(v.cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.cfg.Leeway),
		jwt.WithTimeFunc(v.cfg.Now),
	)
	var c claims
	_, err := p.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		key, ok := agency.Keys[kid]
		if !ok {
			return nil, errors.New("kid is not a key of the agency's issuer")
		}
		return key, nil
	})
	if err != nil {
		return Caller{}, classify(agency.ID, err)
	}
	// The issuer check is ours, not the parser's, to report it precisely.
	if c.Issuer != agency.Issuer {
		return Caller{}, fail("ISSUER_MISMATCH", agency.ID, "the token's issuer is not the issuer of the certificate's agency")
	}
	if c.Subject == "" {
		return Caller{}, fail("NO_SUBJECT", agency.ID, "the token names no officer")
	}
	if c.Clearance != "" && !slices.Contains(clearances, c.Clearance) {
		return Caller{}, fail("BAD_CLAIMS", agency.ID, "unknown clearance level")
	}
	max := agency.MaxTokenLifetime
	if max == 0 {
		max = time.Hour
	}
	start := v.cfg.Now()
	if c.IssuedAt != nil {
		start = c.IssuedAt.Time
	}
	if c.NotBefore != nil && c.NotBefore.After(start) {
		start = c.NotBefore.Time
	}
	if c.ExpiresAt.Sub(start) > max+v.cfg.Leeway {
		return Caller{}, fail("TOKEN_LIFETIME_TOO_LONG", agency.ID, "the token lives longer than the agency's maximum of %s", max)
	}
	clearance := c.Clearance
	if clearance == "" {
		clearance = "none"
	}
	return Caller{
		Agency:  agency,
		Officer: Officer{ID: c.Subject, Roles: c.Roles, Clearance: clearance},
		TokenID: c.ID,
		Expires: c.ExpiresAt.Time,
	}, nil
}

// classify maps a jwt/v5 error to a reason code.
func classify(agency string, err error) *Error {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return fail("TOKEN_EXPIRED", agency, "the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return fail("TOKEN_NOT_YET_VALID", agency, "the token is not valid yet")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fail("TOKEN_ISSUED_IN_FUTURE", agency, "the token was issued in the future")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return fail("WRONG_AUDIENCE", agency, "the token is not for this gateway")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return fail("MISSING_CLAIM", agency, "the token lacks a required claim (exp)")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fail("BAD_SIGNATURE", agency, "the token's signature does not verify")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		if strings.Contains(err.Error(), "signing method") {
			return fail("ALGORITHM_NOT_ALLOWED", agency, "the token's algorithm is not allowed for this agency")
		}
		return fail("UNKNOWN_KEY", agency, "the token's key is not a key of the agency's issuer")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fail("MALFORMED_TOKEN", agency, "the token is malformed")
	}
	return fail("INVALID_TOKEN", agency, "the token is invalid")
}

// TokenHash returns a digest of a token for caches and replay sets; the
// token itself is never stored.
func TokenHash(token string) [32]byte { return sha256.Sum256([]byte(token)) }
