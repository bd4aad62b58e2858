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
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/liaison-gateway/liaison/internal/spelling"
)

// ErrUnauthenticated is wrapped by every authentication failure.
var ErrUnauthenticated = errors.New("authn: unauthenticated")

// An Error is an authentication failure with a stable reason code for the
// audit log and the caller. It never holds the token.
type Error struct {
	// Reason is a stable code, e.g. TOKEN_EXPIRED.
	Reason string
	// Agency is the agency the certificate or the token claimed, if any:
	// the registered agency id when the certificate chains to a trusted CA
	// and names a registered agency (Proven), else what it claimed.
	Agency string
	// Proven is set when Agency was proven by a certificate that chains to
	// a trusted CA, even though the call is refused (revoked certificate,
	// offboarded agency, bad token): refusals are then counted against
	// that agency rather than against a network address.
	Proven bool
	// Detail is a short description safe to show the caller.
	Detail string
	// Permission is set where the caller is known but not allowed
	// (an offboarded agency): PermissionDenied rather than Unauthenticated.
	Permission bool
	// Unavailable is set where the credentials could not be checked (the
	// replay store is down): the caller should retry.
	Unavailable bool
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
	// TokenTypes are the media types a token's typ header may name
	// (RFC 7515 section 4.1.9), compared without case and with or without
	// the "application/" prefix. A token without typ is accepted. If
	// empty, DefaultTokenTypes.
	TokenTypes []string
	// MaxTokenLifetime bounds exp - iat. If zero,
	// DefaultMaxTokenLifetime.
	MaxTokenLifetime time.Duration
	// Offboarded agencies are refused.
	Offboarded bool
}

// MaxOfficerIDLen bounds an officer id, in bytes.
const MaxOfficerIDLen = 256

// DefaultMaxTokenLifetime is an agency's MaxTokenLifetime when the
// registry gives none.
const DefaultMaxTokenLifetime = time.Hour

// ValidOfficerID reports whether id is spelt as an officer id (a token's
// sub) must be: 1 to MaxOfficerIDLen bytes of UTF-8 in Unicode NFC, of
// printable characters (no control character, C0 or C1, and no invisible
// one: a zero-width space, a byte-order mark, a direction mark, a Hangul
// filler, a variation selector; see Unprintable), not
// beginning or ending with white space. Each of those would be a second
// spelling of an officer that looks like the first: recorded in the log
// as another officer, and one that a query by officer or the check that
// an approver is not the requester tells apart from the first.
func ValidOfficerID(id string) bool {
	return id != "" && len(id) <= MaxOfficerIDLen && utf8.ValidString(id) &&
		!strings.ContainsFunc(id, Unprintable) &&
		strings.TrimSpace(id) == id && norm.NFC.IsNormalString(id)
}

// ValidRole reports whether role, one of a token's roles claim, is spelt as
// a role: not empty, valid UTF-8 with no character spelling.Printable
// refuses (a control or format character, a zero-width space, a direction
// mark, a Hangul filler, a variation selector), in Unicode NFC, not
// beginning or ending with white space. A role with any of those looks
// like a role the policies and the gateway name (case_officer, auditor, an
// agency's duty role) and matches none of them.
func ValidRole(role string) bool {
	return role != "" && spelling.Printable(role) && strings.TrimSpace(role) == role && norm.NFC.IsNormalString(role)
}

// Unprintable reports whether r may not appear in an identifier a person
// reads (an officer id, a subject's identifier): the project's one rule,
// spelling.Unprintable (a control or format character, a space other than
// U+0020, a Hangul filler, a variation selector, ...).
func Unprintable(r rune) bool { return spelling.Unprintable(r) }

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

// A ReplayStore remembers which token carried each (issuer, jti) first, so
// that another token with the same id, or the same token from another
// client certificate, is refused as a replay. It is shared by every
// gateway replica (the audit store implements it).
type ReplayStore interface {
	// Remember records binding for id unless id is already known, and
	// returns the binding recorded first. Implementations may forget an id
	// after expires.
	Remember(ctx context.Context, id, binding [32]byte, expires time.Time) (first [32]byte, err error)
}

// Config configures a Verifier.
type Config struct {
	// Audience is the aud every token must name. Required.
	Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat. If zero, 30s.
	Leeway time.Duration
	// Replay remembers token ids across replicas. If nil, replays are
	// detected within this process only.
	Replay ReplayStore
	// CacheSize bounds the verified-token cache. If zero, 10000; if
	// negative, tokens are verified on every call.
	CacheSize int
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
	// Logger receives operational logs. If nil, slog.Default().
	Logger *slog.Logger
}

// A Verifier authenticates callers against the registered agencies and the
// trusted CAs. It is safe for concurrent use; SetAgencies and SetTrust swap
// what it trusts atomically and empty its caches.
type Verifier struct {
	cfg    Config
	log    *slog.Logger
	state  atomic.Pointer[trustState]
	tokens *cache[Caller]
	certs  *cache[verifiedCert]
	replay ReplayStore
}

// verifiedCert is a client certificate verified against a trust state:
// the agency it names and the chains to a trusted CA it was verified by,
// which the revocations are checked against on every call.
type verifiedCert struct {
	agency *Agency
	chains [][]*x509.Certificate
}

// trustState is everything a verification depends on; a new one replaces
// the old whole, so that caches keyed to the old one miss.
type trustState struct {
	byIdentity map[string]*Agency
	byID       map[string]*Agency
	// shared are the issuers registered for more than one agency: their
	// tokens must name the agency (AgencyClaim).
	shared  map[string]bool
	roots   *x509.CertPool
	revoked *Revocation
	gen     uint64
	// staleLogged is set once the refusal of a call for the revocations'
	// staleness (CRL_STALE) has been logged.
	staleLogged atomic.Bool
}

// NewVerifier returns a Verifier with no agencies and no trusted CA.
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
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10000
	}
	v := &Verifier{cfg: cfg, log: cfg.Logger, replay: cfg.Replay}
	if v.log == nil {
		v.log = slog.Default()
	}
	if v.replay == nil {
		v.replay = newMemoryReplay(cfg.Now)
	}
	v.tokens = newCache[Caller](cfg.CacheSize)
	v.certs = newCache[verifiedCert](cfg.CacheSize)
	v.state.Store(&trustState{byIdentity: map[string]*Agency{}, byID: map[string]*Agency{}, shared: map[string]bool{}, roots: x509.NewCertPool(), revoked: &Revocation{}})
	return v, nil
}

// SetAgencies replaces the registered agencies. It validates every agency
// first and leaves the old set in place on error.
func (v *Verifier) SetAgencies(agencies []*Agency) error {
	old := v.state.Load()
	return v.set(old.roots, old.revoked, agencies, nil)
}

// SetAll replaces the registered agencies, the CAs and the revoked
// certificates at once: it validates every agency first and, on error,
// leaves all of them as they were. revoked may be nil.
func (v *Verifier) SetAll(roots *x509.CertPool, revoked *Revocation, agencies []*Agency) error {
	return v.SetAllAfter(roots, revoked, agencies, nil)
}

// SetAllAfter is SetAll calling commit, if not nil, once every agency is
// validated and just before they are put in force, which then cannot
// fail: an error from commit leaves all of them as they were. What must
// be done only for a trust that is put in force (keeping the marks of
// the revocation lists) is done there.
func (v *Verifier) SetAllAfter(roots *x509.CertPool, revoked *Revocation, agencies []*Agency, commit func() error) error {
	if revoked == nil {
		revoked = &Revocation{}
	}
	return v.set(roots, revoked, agencies, commit)
}

func (v *Verifier) set(roots *x509.CertPool, revoked *Revocation, agencies []*Agency, commit func() error) error {
	old := v.state.Load()
	ns := &trustState{byIdentity: map[string]*Agency{}, byID: map[string]*Agency{}, shared: map[string]bool{}, roots: roots, revoked: revoked, gen: old.gen + 1}
	issuers := map[string]int{}
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
		for _, typ := range a.TokenTypes {
			if _, ok := mediaType(typ); !ok {
				return fmt.Errorf("authn: agency %q: token type %q is not a media type such as JWT or at+jwt", a.ID, typ)
			}
		}
		if _, dup := ns.byID[a.ID]; dup {
			return fmt.Errorf("authn: agency %q registered twice", a.ID)
		}
		if _, dup := ns.byIdentity[a.CertificateIdentity]; dup {
			return fmt.Errorf("authn: certificate identity %q registered twice", a.CertificateIdentity)
		}
		ns.byID[a.ID] = a
		ns.byIdentity[a.CertificateIdentity] = a
		issuers[a.Issuer]++
	}
	for iss, n := range issuers {
		if n > 1 {
			ns.shared[iss] = true
		}
	}
	if commit != nil {
		if err := commit(); err != nil {
			return err
		}
		ns.gen = v.state.Load().gen + 1
	}
	v.swap(ns)
	return nil
}

// SetTrust replaces the CAs that agency certificates must chain to and the
// revoked certificates. revoked may be nil.
func (v *Verifier) SetTrust(roots *x509.CertPool, revoked *Revocation) {
	if revoked == nil {
		revoked = &Revocation{}
	}
	old := v.state.Load()
	v.swap(&trustState{byIdentity: old.byIdentity, byID: old.byID, shared: old.shared, roots: roots, revoked: revoked, gen: old.gen + 1})
}

func (v *Verifier) swap(ns *trustState) {
	v.state.Store(ns)
	v.tokens.clear()
	v.certs.clear()
}

// Now returns the time by the Verifier's clock (Config.Now), the one
// certificates, tokens and CRLs are checked on.
func (v *Verifier) Now() time.Time { return v.cfg.Now() }

// CRLNextUpdate returns the earliest nextUpdate of the CRLs in force, or
// the zero time if none is, and whether it has passed by the Verifier's
// clock: from then on every client certificate is refused, CRL_STALE,
// until a current CRL is loaded.
func (v *Verifier) CRLNextUpdate() (next time.Time, stale bool) {
	r := v.state.Load().revoked
	return r.NextUpdate(), r.Stale(v.cfg.Now())
}

// Agency returns a registered agency by id.
func (v *Verifier) Agency(id string) (*Agency, bool) {
	a, ok := v.state.Load().byID[id]
	return a, ok
}

// DefaultTokenTypes are the typ values a token may carry when its agency
// names none: a plain JWT and an OAuth 2.0 access token (RFC 9068).
var DefaultTokenTypes = []string{"JWT", "at+jwt"}

// mediaType returns a typ value in the form it is compared in: lower case,
// with the "application/" prefix that RFC 7515 section 4.1.9 lets a
// producer leave out. ok is false for a value that cannot be a media type
// of a JWT: empty, or naming another top-level type.
func mediaType(typ string) (mt string, ok bool) {
	mt = strings.ToLower(typ)
	if rest, found := strings.CutPrefix(mt, "application/"); found {
		mt = rest
	}
	return mt, mt != "" && !strings.ContainsAny(mt, "/ \t;,")
}

// allowedAlgorithms are the only algorithms an agency may allow: asymmetric
// signatures. HMAC algorithms and none are never accepted.
var allowedAlgorithms = []string{"EdDSA", "ES256", "ES384", "RS256", "PS256"}

// Authenticate proves the caller: the agency by the client certificate of
// the connection (verified here, on every call, so that a revocation or an
// offboarding takes effect on open connections and resumed sessions too),
// and the officer by the bearer token of that agency's issuer.
func (v *Verifier) Authenticate(ctx context.Context, state *tls.ConnectionState, token string) (Caller, error) {
	ts := v.state.Load()
	agency, fp, err := v.agencyFromCertificate(ts, state)
	if err != nil {
		return Caller{}, err
	}
	c, err := v.authenticateToken(ctx, ts, agency, fp, token)
	if e, ok := errors.AsType[*Error](err); ok {
		e.Agency, e.Proven = agency.ID, true
	}
	return c, err
}

// CheckCertificate verifies a client certificate alone and returns its
// agency; calls that need no officer (reflection) use it.
func (v *Verifier) CheckCertificate(state *tls.ConnectionState) (*Agency, error) {
	a, _, err := v.agencyFromCertificate(v.state.Load(), state)
	return a, err
}

// agencyFromCertificate verifies the peer's chain against the trusted CAs
// and the revocations, and returns the agency its URI SAN names, with the
// leaf's SHA-256 fingerprint. Every certificate of the chain is checked
// against the revocations, not the leaf alone: a revoked intermediate CA
// revokes what it issued.
func (v *Verifier) agencyFromCertificate(ts *trustState, state *tls.ConnectionState) (*Agency, [32]byte, error) {
	var fp [32]byte
	if state == nil || len(state.PeerCertificates) == 0 {
		return nil, fp, fail("NO_CLIENT_CERTIFICATE", "", "a client certificate is required")
	}
	leaf := state.PeerCertificates[0]
	fp = sha256.Sum256(leaf.Raw)
	claimed := certName(leaf)
	vc, ok := v.certs.get(fp, ts.gen, v.cfg.Now())
	if !ok {
		inter := x509.NewCertPool()
		for _, c := range state.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		chains, err := leaf.Verify(x509.VerifyOptions{
			Roots: ts.roots, Intermediates: inter, CurrentTime: v.cfg.Now(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			return nil, fp, fail("CERTIFICATE_NOT_TRUSTED", claimed, "the client certificate does not chain to a trusted CA")
		}
		// A certificate proves one agency: one whose URI SANs name two
		// registered agencies is refused, not taken as whichever it
		// lists first (a SPIFFE identity document has one URI SAN).
		for _, u := range leaf.URIs {
			a, ok := ts.byIdentity[u.String()]
			switch {
			case !ok:
			case vc.agency != nil && vc.agency != a:
				return nil, fp, fail("CERTIFICATE_AMBIGUOUS", claimed, "the certificate names more than one registered agency; a certificate must name one")
			default:
				vc.agency = a
			}
		}
		if vc.agency == nil {
			return nil, fp, fail("UNKNOWN_AGENCY", claimed, "the certificate names no registered agency")
		}
		// Cached until the first certificate of any chain expires (an
		// intermediate CA may expire before the leaf); then verified anew.
		vc.chains = chains
		expires := leaf.NotAfter
		for _, chain := range chains {
			for _, c := range chain {
				if c.NotAfter.Before(expires) {
					expires = c.NotAfter
				}
			}
		}
		v.certs.put(fp, vc, ts.gen, expires, v.cfg.Now())
	}
	agency := vc.agency
	// A CRL past its nextUpdate may not list what its CA revoked since:
	// no certificate can be told not revoked, so every one is refused
	// (fail closed) until a current CRL is loaded. The caller may retry;
	// the operator is told once per trust state.
	if now := v.cfg.Now(); ts.revoked.Stale(now) {
		if !ts.staleLogged.Swap(true) {
			v.log.Error("the certificate revocation list in force is past its nextUpdate: every call with a client certificate is refused (CRL_STALE) until the CA's current CRL is installed",
				"next_update", ts.revoked.NextUpdate().UTC(), "now", now.UTC())
		}
		e := fail("CRL_STALE", agency.ID, "the gateway's certificate revocation list is out of date, so no client certificate can be checked; retry later")
		e.Proven, e.Unavailable = true, true
		return nil, fp, e
	}
	// The revocations are checked after the chain, on every call (a
	// revocation bumps the generation, so cached certificates are checked
	// too): a revoked certificate the CA issued is booked under the agency
	// it names.
	if revokedChains(ts.revoked, vc.chains) {
		e := fail("CERTIFICATE_REVOKED", agency.ID, "the client certificate is revoked")
		e.Proven = true
		return nil, fp, e
	}
	if agency.Offboarded {
		e := fail("AGENCY_OFFBOARDED", agency.ID, "the agency is no longer registered")
		e.Permission, e.Proven = true, true
		return nil, fp, e
	}
	return agency, fp, nil
}

// revokedChains reports whether every verified chain holds a revoked
// certificate (the leaf, an intermediate CA or the root): the client
// certificate is then revoked. Where the leaf chains to a trusted CA by
// two paths (a cross-signed CA), one without a revoked certificate is
// enough.
func revokedChains(r *Revocation, chains [][]*x509.Certificate) bool {
	for _, chain := range chains {
		if !slices.ContainsFunc(chain, r.Revoked) {
			return false
		}
	}
	return true
}

func certName(c *x509.Certificate) string {
	for _, u := range c.URIs {
		return u.String()
	}
	return c.Subject.CommonName
}

// AgencyClaim is the claim naming the agency (its registry id) an officer's
// token is for. It is required in the tokens of an issuer registered for
// more than one agency (a national identity provider for several police
// forces, say), which would otherwise be accepted with the client
// certificate of any of them; it is optional in the tokens of an issuer of
// one agency. Where present it must name the agency the client certificate
// proves (AGENCY_MISMATCH).
const AgencyClaim = "liaison_agency_id"

type claims struct {
	jwt.RegisteredClaims
	Roles     []string `json:"roles"`
	Clearance string   `json:"clearance"`
	// AgencyID is AgencyClaim; nil if absent (or null).
	AgencyID *string `json:"liaison_agency_id"`
}

// authenticateToken verifies the bearer token for an agency already proven
// by its certificate. A token verified before, with the same certificate
// and against the same trust state, is taken from the cache.
func (v *Verifier) authenticateToken(ctx context.Context, ts *trustState, agency *Agency, certFP [32]byte, token string) (Caller, error) {
	if token == "" {
		return Caller{}, fail("NO_TOKEN", agency.ID, "a bearer token is required")
	}
	if len(token) > maxTokenLen {
		return Caller{}, fail("MALFORMED_TOKEN", agency.ID, "the token is too long")
	}
	now := v.cfg.Now()
	key := sha256.Sum256(append(certFP[:], token...))
	if c, ok := v.tokens.get(key, ts.gen, now); ok {
		return c, nil
	}
	c, err := v.verifyToken(agency, ts.shared[agency.Issuer], token, now)
	if err != nil {
		return Caller{}, err
	}
	// The first token to carry (iss, jti) is the only one that may; the same
	// token from another certificate is a replay too.
	id := sha256.Sum256([]byte(agency.Issuer + "\x00" + c.TokenID))
	th := TokenHash(token)
	binding := sha256.Sum256(append(certFP[:], th[:]...))
	first, err := v.replay.Remember(ctx, id, binding, c.Expires.Add(v.cfg.Leeway))
	if err != nil {
		v.log.ErrorContext(ctx, "token replay store unavailable; refusing", "agency", agency.ID, "error", err)
		e := fail("REPLAY_CHECK_UNAVAILABLE", agency.ID, "the token could not be checked for replay; retry later")
		e.Unavailable = true
		return Caller{}, e
	}
	if first != binding {
		return Caller{}, fail("TOKEN_REPLAYED", agency.ID, "the token id has been used before")
	}
	v.tokens.put(key, c, ts.gen, c.Expires, now)
	return c, nil
}

// maxTokenLen bounds what is parsed at all.
const maxTokenLen = 8 << 10

// verifyToken verifies an officer's token for agency; shared says that the
// agency's issuer serves other registered agencies too, so the token must
// name the agency.
func (v *Verifier) verifyToken(agency *Agency, shared bool, token string, now time.Time) (Caller, error) {
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
		jwt.WithTimeFunc(func() time.Time { return now }),
		// Base64url with non-zero padding bits is refused, so that a token
		// has one spelling (RFC 4648 section 3.5).
		jwt.WithStrictDecoding(),
	)
	var c claims
	_, err := p.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if err := checkHeader(agency, t.Header); err != nil {
			return nil, err
		}
		// Only the kid is read from the header: jku, x5u, x5c and jwk are
		// ignored, so a token cannot bring its own key.
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
		return Caller{}, classify(agency.ID, err, &c)
	}
	// The issuer check is ours, not the parser's, to report it precisely:
	// a token without one lacks a claim, rather than naming another issuer.
	if c.Issuer == "" {
		return Caller{}, fail("MISSING_CLAIM", agency.ID, "the token lacks a required claim (iss)")
	}
	if c.Issuer != agency.Issuer {
		return Caller{}, fail("ISSUER_MISMATCH", agency.ID, "the token's issuer is not the issuer of the certificate's agency")
	}
	// An issuer of several agencies can sign for any of them: only the
	// token can say which one it is for, and the certificate must prove
	// that agency. The value is never echoed (it is the caller's input).
	switch {
	case c.AgencyID == nil && shared:
		return Caller{}, fail("MISSING_CLAIM", agency.ID, "the token names no agency (%s), which tokens of an issuer serving several agencies must", AgencyClaim)
	case c.AgencyID != nil && *c.AgencyID != agency.ID:
		return Caller{}, fail("AGENCY_MISMATCH", agency.ID, "the token's agency (%s) is not the agency of the client certificate", AgencyClaim)
	}
	if c.Subject == "" {
		return Caller{}, fail("MISSING_CLAIM", agency.ID, "the token names no officer (sub)")
	}
	if !ValidOfficerID(c.Subject) {
		// The value is never echoed: it is what the token said.
		return Caller{}, fail("BAD_CLAIMS", agency.ID, "the token's officer (sub) is not spelt as an officer id: "+
			"at most %d printable characters in Unicode NFC, not beginning or ending with white space", MaxOfficerIDLen)
	}
	for _, r := range c.Roles {
		if !ValidRole(r) {
			// Nor is this value echoed: the claim is named, not the role.
			return Caller{}, fail("BAD_CLAIMS", agency.ID, "a role of the token (roles) is not spelt as a role: "+
				"printable characters in Unicode NFC, not empty, not beginning or ending with white space")
		}
	}
	if c.ID == "" {
		return Caller{}, fail("MISSING_CLAIM", agency.ID, "the token has no id (jti)")
	}
	if c.Clearance != "" && !slices.Contains(clearances, c.Clearance) {
		return Caller{}, fail("BAD_CLAIMS", agency.ID, "unknown clearance level")
	}
	maxLife := agency.MaxTokenLifetime
	if maxLife == 0 {
		maxLife = DefaultMaxTokenLifetime
	}
	start := now
	if c.IssuedAt != nil {
		start = c.IssuedAt.Time
	}
	if c.NotBefore != nil && c.NotBefore.Before(start) {
		start = c.NotBefore.Time
	}
	if c.ExpiresAt.Sub(start) > maxLife+v.cfg.Leeway || c.ExpiresAt.Sub(now) > maxLife+v.cfg.Leeway {
		return Caller{}, fail("TOKEN_LIFETIME_TOO_LONG", agency.ID, "the token lives longer than the agency's maximum of %s", maxLife)
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

// checkHeader applies the header rules jwt/v5 leaves to its caller: crit
// (RFC 7515 section 4.1.11) and typ (section 4.1.9). It returns an *Error,
// which classify passes through.
func checkHeader(agency *Agency, h map[string]any) error {
	// The gateway understands no extension, so any crit is refused: a
	// token that says "reject me unless you understand X" is rejected.
	// An empty or malformed crit is invalid (RFC 7515 section 4.1.11)
	// and refused alike.
	if _, ok := h["crit"]; ok {
		return fail("TOKEN_CRIT_UNSUPPORTED", agency.ID, "the token's header lists critical extensions (crit) this gateway does not understand")
	}
	typ, ok := h["typ"]
	if !ok {
		return nil
	}
	s, _ := typ.(string)
	got, ok := mediaType(s)
	if ok {
		allowed := agency.TokenTypes
		if len(allowed) == 0 {
			allowed = DefaultTokenTypes
		}
		for _, a := range allowed {
			if want, _ := mediaType(a); want == got {
				return nil
			}
		}
	}
	return fail("TOKEN_TYPE_NOT_ALLOWED", agency.ID, "the token's type (typ) is not one the agency's tokens may carry")
}

// classify maps a jwt/v5 error to a reason code. c is what the parser
// decoded of the claims before it refused them, to name the claim missing.
func classify(agency string, err error, c *claims) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e // a rule of checkHeader, run inside the parser
	}
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
		// The parser requires exp, and aud (the audience is given): name
		// the one the token lacks, not always exp.
		return fail("MISSING_CLAIM", agency, "the token lacks a required claim (%s)", strings.Join(missingClaims(c), ", "))
	case strings.Contains(err.Error(), "signing method"):
		// jwt/v5 reports an algorithm outside WithValidMethods (none, HS256
		// with a public key...) as an invalid signature naming the method.
		return fail("ALGORITHM_NOT_ALLOWED", agency, "the token's algorithm is not allowed for this agency")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fail("BAD_SIGNATURE", agency, "the token's signature does not verify")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return fail("UNKNOWN_KEY", agency, "the token's key is not a key of the agency's issuer")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fail("MALFORMED_TOKEN", agency, "the token is malformed")
	}
	return fail("INVALID_TOKEN", agency, "the token is invalid")
}

// missingClaims lists the claims the parser requires that c lacks: exp,
// and aud, which jwt/v5 takes as absent when it is empty or one empty
// string. If it finds neither (it should not), it names both.
func missingClaims(c *claims) []string {
	var out []string
	if c.ExpiresAt == nil {
		out = append(out, "exp")
	}
	if len(c.Audience) == 0 || len(c.Audience) == 1 && c.Audience[0] == "" {
		out = append(out, "aud")
	}
	if len(out) == 0 {
		out = []string{"exp", "aud"}
	}
	return out
}

// TokenHash returns a digest of a token for caches and replay sets; the
// token itself is never stored.
func TokenHash(token string) [32]byte { return sha256.Sum256([]byte(token)) }
