package gateway_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/gateway/authn/devpki"
	"github.com/liaison-gateway/liaison/gateway/sample"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// validClaims are a well-formed officer token's claims for agency.
func validClaims(agency string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": sample.IssuerName(agency), "sub": "officer-under-test", "aud": "liaison",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"jti": rand.Text(), "roles": []string{"case_officer"}, "clearance": "confidential",
	}
}

// sign signs claims with agency's issuer key (EdDSA), after edit changes
// the token's header and claims.
func (s *stack) sign(tb testing.TB, agency string, edit func(h map[string]any, c jwt.MapClaims)) string {
	tb.Helper()
	c := validClaims(agency)
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = sample.IssuerKid(agency)
	if edit != nil {
		edit(t.Header, c)
	}
	tok, err := t.SignedString(s.pki.Issuers[agency].Key)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func agencyCert(tb testing.TB, s *stack, agency string) []tls.Certificate {
	tb.Helper()
	c, err := tls.LoadX509KeyPair(s.pki.Path("agencies", agency+".pem"), s.pki.Path("agencies", agency+".key"))
	if err != nil {
		tb.Fatal(err)
	}
	return []tls.Certificate{c}
}

// call makes one authenticated call (a cheap one: reading the inbox).
func call(t testing.TB, conn *grpc.ClientConn) error {
	st, err := liaisonv1.NewExchangeClient(conn).Subscribe(t.Context(), &liaisonv1.SubscribeRequest{})
	if err != nil {
		return err
	}
	for {
		if _, err := st.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// editRegistry rewrites the stack's registry file; the gateway reloads it
// within its watch interval (use eventually to wait for the effect).
func editRegistry(t *testing.T, s *stack, edit func(*gateway.RegistryFile)) {
	t.Helper()
	b, err := os.ReadFile(s.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	rewriteRegistry(t, s, b, edit)
}

// rewriteRegistry replaces the stack's registry file with the registry b
// as edit changes it.
func rewriteRegistry(t *testing.T, s *stack, b []byte, edit func(*gateway.RegistryFile)) {
	t.Helper()
	var f gateway.RegistryFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	edit(&f)
	out, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	replaceFile(t, s.pki.Registry, out)
}

// replaceFile replaces the file at path with b in one step (a file of its
// own renamed over it): the gateway reloads its trust files every 50ms,
// and a reload between the truncation and the write of os.WriteFile
// would read an empty registry, which loads (no agencies).
func replaceFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.CreateTemp(filepath.Dir(path), ".edit-*")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		t.Fatal(err)
	}
}

// eventually retries f for up to 15s (a loaded CI machine) until it returns true.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("%s: not within 15s", what)
}

func TestHostileCredentials(t *testing.T) {
	s := startStack(t, stackOptions{refusalBudget: 1000})
	second := s.startGateway(t) // a replica on the same database
	const me = "dk-prison-east"
	myCert := agencyCert(t, s, me)
	pub := s.pki.Issuers[me].Key.Public().(ed25519.PublicKey)

	// Offboard one agency, and restrict another's token types to at+jwt,
	// before the table runs.
	const atOnly = "dk-police-aarhus"
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			switch f.Agencies[i].ID {
			case "nl-ngo-exit":
				f.Agencies[i].Offboarded = true
			case atOnly:
				f.Agencies[i].TokenTypes = []string{"at+jwt"}
			}
		}
	})
	ngo := s.dial(t, s.addr, agencyCert(t, s, "nl-ngo-exit"), s.sign(t, "nl-ngo-exit", nil))
	eventually(t, "offboarding", func() bool { return status.Code(call(t, ngo)) == codes.PermissionDenied })
	eventually(t, "token types", func() bool {
		err := call(t, s.dial(t, s.addr, agencyCert(t, s, atOnly), s.sign(t, atOnly, nil))) // typ JWT
		return errorReason(status.Convert(err)) == "TOKEN_TYPE_NOT_ALLOWED"
	})
	if err := call(t, s.dial(t, s.addr, agencyCert(t, s, atOnly), s.sign(t, atOnly, func(h map[string]any, c jwt.MapClaims) {
		h["typ"] = "application/AT+JWT"
	}))); err != nil {
		t.Fatalf("a token of an allowed type: %v", err)
	}

	// Tokens used before the table, for the replay cases.
	firstOfPair := s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { c["jti"] = "replayed-jti-1" })
	if err := call(t, s.dial(t, s.addr, myCert, firstOfPair)); err != nil {
		t.Fatalf("first use of a jti: %v", err)
	}
	firstOnReplica := s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { c["jti"] = "replayed-jti-2" })
	if err := call(t, s.dial(t, s.addr, myCert, firstOnReplica)); err != nil {
		t.Fatalf("first use of a jti: %v", err)
	}

	otherLeaf, err := s.pki.CA.Issue(s.pki.CA.AgencyIdentity(me), time.Hour) // a second system of the same agency
	if err != nil {
		t.Fatal(err)
	}
	myOtherCert := []tls.Certificate{otherLeaf.Cert}
	evilCA, err := devpki.NewAuthority("evil.test")
	if err != nil {
		t.Fatal(err)
	}
	evilLeaf, err := evilCA.Issue(s.pki.CA.AgencyIdentity(me), time.Hour) // claims a real agency
	if err != nil {
		t.Fatal(err)
	}
	_, attackerKey, _ := ed25519.GenerateKey(rand.Reader)
	valid := s.sign(t, me, nil)
	parts := strings.Split(valid, ".")

	for _, tt := range []struct {
		name    string
		addr    string // default: the first gateway
		certs   []tls.Certificate
		token   string
		code    codes.Code
		reason  string
		claimed string // the agency the entry must name; "" for none
	}{
		{name: "alg none", certs: myCert, token: func() string {
			tok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims(me)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return tok
		}(), code: codes.Unauthenticated, reason: "ALGORITHM_NOT_ALLOWED", claimed: me},
		{name: "HS256 with the issuer's public key as secret", certs: myCert, token: func() string {
			tk := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims(me))
			tk.Header["kid"] = sample.IssuerKid(me)
			tok, _ := tk.SignedString([]byte(pub))
			return tok
		}(), code: codes.Unauthenticated, reason: "ALGORITHM_NOT_ALLOWED", claimed: me},
		{name: "expired", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-20*time.Minute).Unix(), time.Now().Add(-20*time.Minute).Unix(), time.Now().Add(-10*time.Minute).Unix()
		}), code: codes.Unauthenticated, reason: "TOKEN_EXPIRED", claimed: me},
		{name: "nbf in the future", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) {
			c["nbf"] = time.Now().Add(5 * time.Minute).Unix()
		}), code: codes.Unauthenticated, reason: "TOKEN_NOT_YET_VALID", claimed: me},
		{name: "wrong aud", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { c["aud"] = "another-gateway" }),
			code: codes.Unauthenticated, reason: "WRONG_AUDIENCE", claimed: me},
		{name: "wrong iss", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { c["iss"] = "https://idp.evil.example" }),
			code: codes.Unauthenticated, reason: "ISSUER_MISMATCH", claimed: me},
		{name: "iss of another agency than the certificate's", certs: myCert, token: s.sign(t, "nl-police-rotterdam", nil),
			code: codes.Unauthenticated, reason: "UNKNOWN_KEY", claimed: me},
		{name: "own key but another agency's iss", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) {
			c["iss"] = sample.IssuerName("nl-police-rotterdam")
		}), code: codes.Unauthenticated, reason: "ISSUER_MISMATCH", claimed: me},
		{name: "unknown kid", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { h["kid"] = "no-such-key" }),
			code: codes.Unauthenticated, reason: "UNKNOWN_KEY", claimed: me},
		{name: "kid with path injection", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { h["kid"] = "../../../../etc/passwd" }),
			code: codes.Unauthenticated, reason: "UNKNOWN_KEY", claimed: me},
		{name: "kid with SQL injection", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { h["kid"] = "x' OR '1'='1' --" }),
			code: codes.Unauthenticated, reason: "UNKNOWN_KEY", claimed: me},
		{name: "jku pointing elsewhere", certs: myCert, token: func() string {
			tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, validClaims(me))
			tk.Header["kid"], tk.Header["jku"] = "attacker", "https://attacker.example/jwks.json"
			tok, _ := tk.SignedString(attackerKey)
			return tok
		}(), code: codes.Unauthenticated, reason: "UNKNOWN_KEY", claimed: me},
		{name: "x5u pointing elsewhere", certs: myCert, token: func() string {
			tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, validClaims(me))
			tk.Header["kid"], tk.Header["x5u"] = "attacker", "https://attacker.example/cert.pem"
			tok, _ := tk.SignedString(attackerKey)
			return tok
		}(), code: codes.Unauthenticated, reason: "UNKNOWN_KEY", claimed: me},
		{name: "embedded jwk with a configured kid", certs: myCert, token: func() string {
			tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, validClaims(me))
			tk.Header["kid"] = sample.IssuerKid(me)
			tk.Header["jwk"] = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": "attacker"}
			tok, _ := tk.SignedString(attackerKey)
			return tok
		}(), code: codes.Unauthenticated, reason: "BAD_SIGNATURE", claimed: me},
		{name: "missing exp", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { delete(c, "exp") }),
			code: codes.Unauthenticated, reason: "MISSING_CLAIM", claimed: me},
		{name: "missing jti", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { delete(c, "jti") }),
			code: codes.Unauthenticated, reason: "MISSING_CLAIM", claimed: me},
		{name: "lifetime above the maximum", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) {
			c["exp"] = time.Now().Add(3 * time.Hour).Unix()
		}), code: codes.Unauthenticated, reason: "TOKEN_LIFETIME_TOO_LONG", claimed: me},
		{name: "replayed jti in a new token", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) {
			c["jti"], c["sub"] = "replayed-jti-1", "someone-else"
		}), code: codes.Unauthenticated, reason: "TOKEN_REPLAYED", claimed: me},
		{name: "replayed token from another certificate of the agency", certs: myOtherCert, token: firstOfPair,
			code: codes.Unauthenticated, reason: "TOKEN_REPLAYED", claimed: me},
		{name: "replayed jti through a second gateway", addr: second.addr, certs: myCert,
			token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { c["jti"], c["sub"] = "replayed-jti-2", "someone-else" }),
			code:  codes.Unauthenticated, reason: "TOKEN_REPLAYED", claimed: me},
		{name: "replayed token through a second gateway, another certificate", addr: second.addr, certs: myOtherCert, token: firstOnReplica,
			code: codes.Unauthenticated, reason: "TOKEN_REPLAYED", claimed: me},
		{name: "token of an offboarded agency", certs: agencyCert(t, s, "nl-ngo-exit"), token: s.sign(t, "nl-ngo-exit", nil),
			code: codes.PermissionDenied, reason: "AGENCY_OFFBOARDED", claimed: "nl-ngo-exit"},
		{name: "client certificate from an unknown CA", certs: []tls.Certificate{evilLeaf.Cert}, token: valid,
			code: codes.Unauthenticated, reason: "CERTIFICATE_NOT_TRUSTED", claimed: s.pki.CA.AgencyIdentity(me)},
		{name: "no client certificate", certs: nil, token: valid, code: codes.Unauthenticated, reason: "NO_CLIENT_CERTIFICATE"},
		{name: "valid certificate, no token", certs: myCert, token: "", code: codes.Unauthenticated, reason: "NO_TOKEN", claimed: me},
		{name: "truncated signature", certs: myCert, token: valid[:len(valid)-10], code: codes.Unauthenticated, reason: "BAD_SIGNATURE", claimed: me},
		{name: "modified payload", certs: myCert, token: func() string {
			c := validClaims(me)
			c["roles"] = []string{"auditor"} // an escalation attempt under the old signature
			mod := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
			mod.Header["kid"] = sample.IssuerKid(me)
			forged, _ := mod.SigningString()
			return strings.Split(forged, ".")[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
		}(), code: codes.Unauthenticated, reason: "BAD_SIGNATURE", claimed: me},
		{name: "truncated payload", certs: myCert, token: parts[0] + "." + parts[1][:len(parts[1])-4] + "." + parts[2],
			code: codes.Unauthenticated, reason: "", claimed: me},
		{name: "unknown crit extension", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) {
			h["crit"], h["urn:example:must-understand"] = []string{"urn:example:must-understand"}, true
		}), code: codes.Unauthenticated, reason: "TOKEN_CRIT_UNSUPPORTED", claimed: me},
		{name: "crit naming a registered header", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) {
			h["crit"] = []string{"exp"}
		}), code: codes.Unauthenticated, reason: "TOKEN_CRIT_UNSUPPORTED", claimed: me},
		{name: "empty crit", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { h["crit"] = []string{} }),
			code: codes.Unauthenticated, reason: "TOKEN_CRIT_UNSUPPORTED", claimed: me},
		{name: "typ of another kind of token", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { h["typ"] = "dpop+jwt" }),
			code: codes.Unauthenticated, reason: "TOKEN_TYPE_NOT_ALLOWED", claimed: me},
		{name: "typ that is not a string", certs: myCert, token: s.sign(t, me, func(h map[string]any, c jwt.MapClaims) { h["typ"] = 7 }),
			code: codes.Unauthenticated, reason: "TOKEN_TYPE_NOT_ALLOWED", claimed: me},
		{name: "typ JWT where the agency allows at+jwt only", certs: agencyCert(t, s, atOnly), token: s.sign(t, atOnly, nil),
			code: codes.Unauthenticated, reason: "TOKEN_TYPE_NOT_ALLOWED", claimed: atOnly},
		{name: "signature spelled with non-zero padding bits", certs: myCert, token: func() string {
			p := strings.Split(s.sign(t, me, nil), ".")
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			last := strings.IndexByte(alphabet, p[2][len(p[2])-1])
			return p[0] + "." + p[1] + "." + p[2][:len(p[2])-1] + string(alphabet[last^1]) // same bytes to a lax decoder
		}(), code: codes.Unauthenticated, reason: "MALFORMED_TOKEN", claimed: me},
		{name: "another agency's valid token on my certificate", certs: myCert,
			token: s.sign(t, "dk-police-aarhus", nil), code: codes.Unauthenticated, reason: "UNKNOWN_KEY", claimed: me},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.addr
			if addr == "" {
				addr = s.addr
			}
			before, _ := s.store.Size(t.Context())
			err := call(t, s.dial(t, addr, tt.certs, tt.token))
			st := wantStatus(t, err, tt.code)
			if tt.reason != "" && errorReason(st) != tt.reason {
				t.Errorf("reason = %q, want %q (%s)", errorReason(st), tt.reason, st.Message())
			}
			n, _ := s.store.Size(t.Context())
			if n != before+1 {
				t.Fatalf("log grew by %d entries, want 1 refusal entry", n-before)
			}
			e := s.entry(t, n-1)
			if e.Action != "authenticate" || e.Outcome != "refused" || len(e.Reasons) != 1 || e.Reasons[0] != errorReason(st) {
				t.Errorf("entry = %s %s %v, want authenticate refused [%s]", e.Action, e.Outcome, e.Reasons, errorReason(st))
			}
			claimed := ""
			if e.Requester != nil {
				claimed = e.Requester.Agency
			}
			if claimed != tt.claimed {
				t.Errorf("entry names claimed agency %q, want %q", claimed, tt.claimed)
			}
			leaf, _ := s.store.ReadLeaves(t.Context(), n-1, n)
			if tt.token != "" && (bytes.Contains(leaf[0], []byte(tt.token)) || (len(parts[2]) > 0 && bytes.Contains(leaf[0], []byte(parts[2])))) {
				t.Error("the audit entry holds the token")
			}
		})
	}
	// And nothing of any token reached the gateway's log.
	if bytes.Contains(s.logs.Bytes(), []byte(parts[1])) {
		t.Error("the gateway log holds a token")
	}
}

func TestIssuerKeyRotationWithoutRestart(t *testing.T) {
	s := startStack(t, stackOptions{})
	const me = "nl-police-rotterdam"
	cert := agencyCert(t, s, me)
	oldIss := s.pki.Issuers[me]
	newIss, err := devpki.NewIssuer(oldIss.Name, me+"-2")
	if err != nil {
		t.Fatal(err)
	}
	jwksPath := s.pki.Path("issuers", me+".jwks.json")
	writeJWKS := func(issuers ...*devpki.Issuer) {
		keys := map[string]any{}
		for _, i := range issuers {
			keys[i.Kid] = i.Key.Public()
		}
		b, err := authn.MarshalJWKS(keys)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(jwksPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mint := func(i *devpki.Issuer) string {
		tok, err := i.Mint(devpki.TokenSpec{Officer: "rotating", Roles: []string{"case_officer"}, Audience: "liaison"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	oldConn := s.dial(t, s.addr, cert, mint(oldIss))
	if err := call(t, oldConn); err != nil {
		t.Fatalf("old key before rotation: %v", err)
	}
	// Add the new key: both work.
	writeJWKS(oldIss, newIss)
	eventually(t, "new key accepted", func() bool { return call(t, s.dial(t, s.addr, cert, mint(newIss))) == nil })
	if err := call(t, s.dial(t, s.addr, cert, mint(oldIss))); err != nil {
		t.Errorf("old key during the overlap: %v", err)
	}
	// Remove the old key: its tokens are refused, even one already cached.
	writeJWKS(newIss)
	eventually(t, "old key refused", func() bool { return status.Code(call(t, oldConn)) == codes.Unauthenticated })
	if err := call(t, s.dial(t, s.addr, cert, mint(newIss))); err != nil {
		t.Errorf("new key after rotation: %v", err)
	}
}

func TestOffboardingAndRevocationOnOpenConnection(t *testing.T) {
	deny := t.TempDir() + "/deny.txt"
	if err := os.WriteFile(deny, []byte("# revoked agency certificates\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stackOptions{denyList: deny})

	// Offboarding: the registry marks the agency; the open connection's next call is refused.
	conn := s.conn(t, nlPolice)
	if err := call(t, conn); err != nil {
		t.Fatal(err)
	}
	editRegistry(t, s, func(f *gateway.RegistryFile) {
		for i := range f.Agencies {
			if f.Agencies[i].ID == nlPolice.agency {
				f.Agencies[i].Offboarded = true
			}
		}
	})
	eventually(t, "offboarding", func() bool { return status.Code(call(t, conn)) == codes.PermissionDenied })
	_, e := s.lastEntry(t)
	if e.Reasons[0] != "AGENCY_OFFBOARDED" || e.Requester.Agency != nlPolice.agency {
		t.Errorf("entry = %v %v, want AGENCY_OFFBOARDED for %s", e.Reasons, e.Requester, nlPolice.agency)
	}

	// Revocation: the certificate goes on the deny list; same story.
	conn2 := s.conn(t, dkPrison)
	if err := call(t, conn2); err != nil {
		t.Fatal(err)
	}
	cert := agencyCert(t, s, dkPrison.agency)[0]
	fp := sha256.Sum256(cert.Certificate[0])
	if err := os.WriteFile(deny, []byte("sha256:"+hex.EncodeToString(fp[:])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "revocation", func() bool { return status.Code(call(t, conn2)) == codes.Unauthenticated })
	idx, e := s.lastEntry(t)
	if e.Reasons[0] != "CERTIFICATE_REVOKED" {
		t.Errorf("entry reasons = %v, want CERTIFICATE_REVOKED", e.Reasons)
	}
	// Booked under the agency the certificate proves, not its URI, and
	// counted in that agency's rate-limit bucket: an auditor's query by
	// agency finds it.
	if e.Requester == nil || e.Requester.Agency != dkPrison.agency || e.Detail["peer"] != dkPrison.agency {
		t.Errorf("revocation entry requester %+v, peer %q; want %s for both", e.Requester, e.Detail["peer"], dkPrison.agency)
	}
	recs, err := s.store.Query(t.Context(), audit.Filter{Agency: dkPrison.agency, Action: audit.ActionAuthenticate})
	if err != nil || !slices.ContainsFunc(recs, func(r audit.Record) bool { return r.Index == idx }) {
		t.Errorf("query by agency %s does not find the revocation entry %d: %v", dkPrison.agency, idx, err)
	}
}

func TestRefusalFloodIsSummarised(t *testing.T) {
	s := startStack(t, stackOptions{refusalBudget: 5})
	before, _ := s.store.Size(t.Context())
	conn := s.dial(t, s.addr, agencyCert(t, s, "dk-prison-east"), "not-a-token")
	for range 200 {
		if err := call(t, conn); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("call = %v, want Unauthenticated", err)
		}
	}
	n, _ := s.store.Size(t.Context())
	if got := n - before; got != 5 {
		t.Errorf("200 refusals made %d entries so far, want the budget of 5", got)
	}
	s.srv.FlushRefusals(t.Context())
	n2, _ := s.store.Size(t.Context())
	if n2 != n+1 {
		t.Fatalf("flush wrote %d entries, want 1 summary", n2-n)
	}
	e := s.entry(t, n2-1)
	if e.Detail["summary"] != "true" || e.Detail["suppressed"] != "195" || e.Requester.Agency != "dk-prison-east" {
		t.Errorf("summary entry = %+v, want 195 suppressed refusals of dk-prison-east", e.Detail)
	}
}

// A certificate revoked by a CRL is refused on its next call, also over a
// TLS session resumed from before the revocation.
func TestCRLRevocationReachesResumedSessions(t *testing.T) {
	crlPath := filepath.Join(t.TempDir(), "agencies.crl")
	var s *stack
	writeCRL := func(serials ...*big.Int) {
		var entries []x509.RevocationListEntry
		for _, n := range serials {
			entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: time.Now()})
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour),
			RevokedCertificateEntries: entries,
		}, s.pki.CA.Cert, s.pki.CA.Key)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crlPath, der, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = startStack(t, stackOptions{crls: []string{crlPath}, beforeStart: func(st *stack) { s = st; writeCRL() }})
	cert := agencyCert(t, s, dkPrison.agency)
	leaf, _ := x509.ParseCertificate(cert[0].Certificate[0])
	tok := s.sign(t, dkPrison.agency, nil)

	resumed := false
	cache := tls.NewLRUClientSessionCache(4)
	dialResuming := func() *grpc.ClientConn {
		c, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
			MinVersion: tls.VersionTLS13, Certificates: cert, RootCAs: s.pki.CA.Pool(), ClientSessionCache: cache,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if cs.DidResume {
					resumed = true
				}
				return nil
			},
		})), grpc.WithPerRPCCredentials(bearer(tok)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	first := dialResuming()
	if err := call(t, first); err != nil {
		t.Fatal(err)
	}
	first.Close()
	writeCRL(leaf.SerialNumber)
	eventually(t, "the CRL to be reloaded", func() bool {
		err := call(t, dialResuming())
		return status.Code(err) == codes.Unauthenticated
	})
	if !resumed {
		t.Error("no connection resumed a TLS session: the test proves less than it says")
	}
	_, e := s.lastEntry(t)
	if e.Reasons[0] != "CERTIFICATE_REVOKED" {
		t.Errorf("entry reasons = %v, want CERTIFICATE_REVOKED", e.Reasons)
	}
}

// TestMissingClaimNamesTheClaim: a token refused MISSING_CLAIM says which
// claim it lacks. The parser requires aud as well as exp, and a token
// without aud was told it lacked exp, a claim it carried; one without iss
// was told its issuer was not the agency's (ISSUER_MISMATCH).
func TestMissingClaimNamesTheClaim(t *testing.T) {
	s := startStack(t, stackOptions{refusalBudget: 1000})
	const me = "dk-prison-east"
	myCert := agencyCert(t, s, me)
	for _, tt := range []struct {
		name      string
		edit      func(h map[string]any, c jwt.MapClaims)
		want, not string
	}{
		{name: "no aud", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "aud") }, want: "(aud)", not: "exp"},
		{name: "aud one empty string", edit: func(h map[string]any, c jwt.MapClaims) { c["aud"] = "" }, want: "(aud)", not: "exp"},
		{name: "aud an empty list", edit: func(h map[string]any, c jwt.MapClaims) { c["aud"] = []string{} }, want: "(aud)", not: "exp"},
		{name: "no exp", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "exp") }, want: "(exp)", not: "aud"},
		{name: "neither", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "exp"); delete(c, "aud") }, want: "(exp, aud)"},
		{name: "no iss", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "iss") }, want: "(iss)", not: "issuer"},
		{name: "iss empty", edit: func(h map[string]any, c jwt.MapClaims) { c["iss"] = "" }, want: "(iss)", not: "issuer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := call(t, s.dial(t, s.addr, myCert, s.sign(t, me, tt.edit)))
			st := wantStatus(t, err, codes.Unauthenticated)
			if errorReason(st) != "MISSING_CLAIM" {
				t.Fatalf("reason = %q, want MISSING_CLAIM (%s)", errorReason(st), st.Message())
			}
			if !strings.Contains(st.Message(), tt.want) || tt.not != "" && strings.Contains(st.Message(), tt.not) {
				t.Errorf("message %q, want it to name %s only", st.Message(), tt.want)
			}
		})
	}
}

// TestCertificateNamingTwoAgenciesIsRefused: a client certificate proves
// one agency. One whose URI SANs name two registered agencies, issued by
// a trusted CA, was taken as whichever it listed first; it is refused
// CERTIFICATE_AMBIGUOUS, whichever order it lists them in. A URI SAN that
// names no registered agency beside the agency's own is not ambiguous.
func TestCertificateNamingTwoAgenciesIsRefused(t *testing.T) {
	s := startStack(t, stackOptions{refusalBudget: 1000})
	const me, other = "dk-prison-east", "dk-police-aarhus"
	issue := func(identities ...string) []tls.Certificate {
		t.Helper()
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()),
			NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		for _, id := range identities {
			u, err := url.Parse(id)
			if err != nil {
				t.Fatal(err)
			}
			tmpl.URIs = append(tmpl.URIs, u)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, s.pki.CA.Cert, &key.PublicKey, s.pki.CA.Key)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}
	}
	for _, tt := range []struct {
		name   string
		ids    []string
		token  string
		reason string // "" for a call that is taken
	}{
		{name: "mine first", ids: []string{s.pki.CA.AgencyIdentity(me), s.pki.CA.AgencyIdentity(other)}, token: s.sign(t, me, nil), reason: "CERTIFICATE_AMBIGUOUS"},
		{name: "the other first", ids: []string{s.pki.CA.AgencyIdentity(other), s.pki.CA.AgencyIdentity(me)}, token: s.sign(t, other, nil), reason: "CERTIFICATE_AMBIGUOUS"},
		{name: "mine and an unregistered one", ids: []string{"spiffe://elsewhere.example/service/backup", s.pki.CA.AgencyIdentity(me)}, token: s.sign(t, me, nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := call(t, s.dial(t, s.addr, issue(tt.ids...), tt.token))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("call: %v, want it taken", err)
				}
				return
			}
			st := wantStatus(t, err, codes.Unauthenticated)
			if errorReason(st) != tt.reason {
				t.Errorf("reason = %q, want %q (%s)", errorReason(st), tt.reason, st.Message())
			}
		})
	}
}
