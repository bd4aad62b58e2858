package gateway

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/internal/spelling"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// Federation: two countries' gateways, each with its own agencies, policy,
// keys and log, exchange as peers. A peer gateway is a registry entry of
// kind peer_gateway: its mTLS certificate identity, the issuer and keys of
// the officer assertions it signs, its address and its checkpoint verifier
// key. The other country's agencies are registry entries with via naming
// that peer.
//
// A request from an officer of this gateway to a holder behind a peer
// goes: this gateway authenticates the officer and opens its exchange;
// it calls the peer's Exchange.Request over mTLS with an officer assertion
// (a short-lived JWT it signs, naming the officer and the agency it acts
// for) as bearer token; the peer authenticates this gateway by its
// certificate and the assertion by this gateway's keys, applies its own
// law as the holder's, fetches, transforms, logs, and answers with the
// released record and a PeerReceipt of its entry; this gateway checks the
// receipt against the peer's checkpoint key, applies its own law to the
// receipt (its policy, on the subject's attributes as the peer's entry
// gives them), and logs its own entry with the receipt beside it. Only
// then does the officer get the record: nothing is delivered without both
// entries. A peer that cannot be reached, or fails mid-exchange, ends the
// exchange here as failed (PEER_UNAVAILABLE, status Unavailable).

// KindPeerGateway is the registry kind of another country's gateway.
const KindPeerGateway = "peer_gateway"

// Federation configures the gateway's side of federation: how it signs the
// officer assertions it sends to peer gateways, and the receipts it gives
// them. The zero value disables calls to peers.
type Federation struct {
	// Issuer is the iss of the assertions; the peers register it, with
	// the public key, in this gateway's registry entry.
	Issuer string
	// Kid names Key in the peers' JWKS.
	Kid string
	// Key signs the assertions (EdDSA).
	Key ed25519.PrivateKey
	// Audience is the aud of the assertions, the peers' audience. If
	// empty, "liaison".
	Audience string
	// Receipts signs the PeerReceipt statements this gateway gives peers:
	// the log's checkpoint signer, so that one verifier key checks both.
	// Required to answer peers.
	Receipts note.Signer
	// Timeout bounds each call to a peer. If zero, 30 seconds.
	Timeout time.Duration
}

// errPeer wraps failures to reach a peer gateway.
var errPeer = errors.New("gateway: peer gateway unavailable")

// addFederated adds a peer gateway, or an agency reached through one.
func (r *Registry) addFederated(a AgencyFile, dir string, keysFor func(a AgencyFile, dir string) (map[string]any, error)) error {
	if _, dup := r.Agencies[a.ID]; dup {
		return fmt.Errorf("gateway: registry: agency %q appears twice", a.ID)
	}
	// What this gateway would not use is refused, not dropped: areas serve
	// recipients by role among this gateway's own agencies, a duty role is
	// escalated to by the gateway that holds the agency's inbox (its own),
	// and an agency behind a peer presents no token here.
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"areas", len(a.Areas) > 0},
		{"duty_role", a.DutyRole != ""},
		{"algorithms", a.Via != "" && len(a.Algorithms) > 0},
		{"token_types", a.Via != "" && len(a.TokenTypes) > 0},
		{"max_token_lifetime", a.Via != "" && a.MaxTokenLifetime != ""},
		{"checkpoint_key", a.Via != "" && a.CheckpointKey != ""},
	} {
		if f.set {
			what := "an agency reached via " + fmt.Sprintf("%q", a.Via)
			if a.Via == "" {
				what = "a peer gateway"
			}
			return fmt.Errorf("gateway: registry: agency %q: %s is not taken for %s (its own gateway's registry says it); leave it out", a.ID, f.name, what)
		}
	}
	if !slices.Contains(jurisdictions, a.Jurisdiction) {
		return fmt.Errorf("gateway: registry: agency %q: unknown jurisdiction %q", a.ID, a.Jurisdiction)
	}
	// An agency behind a peer may be offboarded here as a local one is:
	// this gateway then neither asks it, delivers to it, nor takes its
	// calls through the peer.
	ag := &Agency{Agency: &authn.Agency{ID: a.ID, Kind: a.Kind, Jurisdiction: a.Jurisdiction, Offboarded: a.Offboarded}, Name: a.Name, Via: a.Via}
	if a.Kind == KindPeerGateway {
		if a.Via != "" || a.Provider == "" || a.CheckpointKey == "" {
			return fmt.Errorf("gateway: registry: peer gateway %q: provider (its address) and checkpoint_key are required, via is not allowed", a.ID)
		}
		v, err := audit.NewVerifier(a.CheckpointKey)
		if err != nil {
			return fmt.Errorf("gateway: registry: peer gateway %q: checkpoint_key: %v", a.ID, err)
		}
		if !spelling.Printable(v.Name()) {
			// The name is the peer's log's origin, one name a log
			// (checkVia): one with an invisible character (a Hangul
			// filler, a variation selector) looks like another's.
			return fmt.Errorf("gateway: registry: peer gateway %q: checkpoint_key: its name %+q holds a control or invisible character (such as a Hangul filler or a variation selector): a log's name is printable characters, as the peer's -audit-name must be", a.ID, v.Name())
		}
		// Its assertions' keys are checked as an agency's issuer keys are:
		// read from one source, and fetched over https only.
		if err := checkJWKSSource(a); err != nil {
			return err
		}
		keys, err := keysFor(a, dir)
		if err != nil {
			return fmt.Errorf("gateway: registry: peer gateway %q: %v", a.ID, err)
		}
		maxLife, err := parseMaxTokenLifetime(a)
		if err != nil {
			return err
		}
		ag.CertificateIdentity, ag.Issuer, ag.Keys = a.CertificateIdentity, a.Issuer, keys
		ag.Algorithms, ag.TokenTypes, ag.MaxTokenLifetime, ag.Offboarded = a.Algorithms, a.TokenTypes, maxLife, a.Offboarded
		ag.Provider, ag.CheckpointKey = a.Provider, a.CheckpointKey
	} else {
		if !slices.Contains(agencyKinds, a.Kind) {
			return fmt.Errorf("gateway: registry: agency %q: unknown kind %q", a.ID, a.Kind)
		}
		if a.Provider != "" || a.CertificateIdentity != "" || a.Issuer != "" || a.JWKSFile != "" || a.JWKSURL != "" {
			return fmt.Errorf("gateway: registry: agency %q is reached via %q: it has no provider, certificate or issuer here", a.ID, a.Via)
		}
	}
	r.Agencies[a.ID] = ag
	return nil
}

// checkVia checks that every via names a peer gateway of the agency's
// jurisdiction. An agency reached through an offboarded peer gateway is
// offboarded with it: the gateway no longer deals with that peer. And no
// two peer gateways' checkpoint keys have one name: the name is the
// peer's log's origin (VerifyReceipt), which keys what this gateway
// takes from that peer (the claim of each forwarded pending entry, the
// pseudonym of a person a push names by the peer's audit pseudonym), so
// one peer could claim another's entries, or name its people.
func (r *Registry) checkVia() error {
	logs := map[string]string{}
	for _, id := range slices.Sorted(maps.Keys(r.Agencies)) {
		a := r.Agencies[id]
		if a.Kind != KindPeerGateway {
			continue
		}
		v, err := audit.NewVerifier(a.CheckpointKey)
		if err != nil {
			return fmt.Errorf("gateway: registry: peer gateway %q: checkpoint_key: %v", a.ID, err)
		}
		if other, dup := logs[v.Name()]; dup {
			return fmt.Errorf("gateway: registry: peer gateways %q and %q have checkpoint keys of one name %q: each peer's log needs a name of its own (its gateway's -audit-name; the default, liaison.audit, is every gateway's that sets none)", other, a.ID, v.Name())
		}
		logs[v.Name()] = a.ID
	}
	for _, a := range r.Agencies {
		if a.Via == "" {
			continue
		}
		p, ok := r.Agencies[a.Via]
		if !ok || p.Kind != KindPeerGateway {
			return fmt.Errorf("gateway: registry: agency %q: via %q is not a peer gateway", a.ID, a.Via)
		}
		if p.Jurisdiction != a.Jurisdiction {
			return fmt.Errorf("gateway: registry: agency %q (%s) is reached via %q of another jurisdiction (%s)", a.ID, a.Jurisdiction, a.Via, p.Jurisdiction)
		}
		if p.Offboarded {
			a.Offboarded = true
		}
	}
	return nil
}

// peerMethods are the calls a peer gateway may make.
var peerMethods = []string{"/liaison.v1.Exchange/Request", "/liaison.v1.Exchange/Disclose", "/liaison.v1.Exchange/Acknowledge",
	"/liaison.v1.Aftercare/AcknowledgeNotice", "/liaison.v1.Aftercare/ReviseExpiry", "/liaison.v1.Audit/ProveConsistency"}

// A peerCall is a call made by a peer gateway on behalf of an officer.
type peerCall struct {
	peer      *authn.Agency
	assertion string // hex SHA-256 of the assertion: the log never holds tokens
}

type peerCallKey struct{}

func peerFromContext(ctx context.Context) (peerCall, bool) {
	p, ok := ctx.Value(peerCallKey{}).(peerCall)
	return p, ok
}

// assertionClaims are the claims of an officer assertion beyond those of
// an officer token: the agency the officer acts for, in the peer's country.
type assertionClaims struct {
	Agency struct {
		ID           string `json:"id"`
		Kind         string `json:"kind"`
		Jurisdiction string `json:"jurisdiction"`
	} `json:"liaison_agency"`
}

// asPeer turns a call authenticated as a peer gateway (its certificate and
// its assertion, verified by the Verifier like any officer token) into a
// call by the officer's agency, which this gateway's registry must list as
// reached via that peer, and not as offboarded: an offboarded agency's
// calls are refused through a peer as they are from the agency itself
// (AGENCY_OFFBOARDED; the returned context then names the peer, for the
// refusal's entry). It returns an *authn.Error on refusal.
func (s *Server) asPeer(ctx context.Context, method string, c authn.Caller, token string) (context.Context, error) {
	if !slices.Contains(peerMethods, method) {
		return ctx, &authn.Error{Reason: "PEER_METHOD_NOT_ALLOWED", Detail: "a peer gateway may only call Request, Disclose, Acknowledge, AcknowledgeNotice, ReviseExpiry and ProveConsistency", Agency: c.Agency.ID, Proven: true, Permission: true}
	}
	parts := strings.Split(token, ".")
	var ac assertionClaims
	if len(parts) != 3 {
		return ctx, &authn.Error{Reason: "BAD_ASSERTION", Detail: "malformed assertion", Agency: c.Agency.ID, Proven: true}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		err = json.Unmarshal(payload, &ac)
	}
	reg := s.registry.Load()
	a, ok := reg.Agencies[ac.Agency.ID]
	switch {
	case err != nil || ac.Agency.ID == "":
		return ctx, &authn.Error{Reason: "BAD_ASSERTION", Detail: "the assertion names no agency", Agency: c.Agency.ID, Proven: true}
	case !ok || a.Via != c.Agency.ID || a.Kind != ac.Agency.Kind || a.Jurisdiction != ac.Agency.Jurisdiction:
		return ctx, &authn.Error{Reason: reasonUnknownPeerAgency, Detail: "the assertion names an agency not registered as reached via this peer",
			Agency: c.Agency.ID, Proven: true, Permission: true}
	}
	sum := sha256.Sum256([]byte(token))
	ctx = context.WithValue(ctx, peerCallKey{}, peerCall{peer: c.Agency, assertion: hex.EncodeToString(sum[:])})
	if a.Offboarded {
		// As authentication refuses an offboarded agency's own call.
		return ctx, &authn.Error{Reason: "AGENCY_OFFBOARDED", Detail: "the agency is no longer registered", Agency: a.ID, Proven: true, Permission: true}
	}
	eff := authn.Caller{Agency: a.Agency, Officer: c.Officer, TokenID: c.TokenID, Expires: c.Expires}
	return authn.NewContext(ctx, eff), nil
}

// notePeer records, in an exchange's entry, the peer gateway a call came
// through and the digest of the assertion it signed.
func (ex *exchange) notePeer(ctx context.Context) {
	p, ok := peerFromContext(ctx)
	if !ok {
		return
	}
	if ex.entry.Detail == nil {
		ex.entry.Detail = map[string]string{}
	}
	ex.entry.Detail["via_peer"] = p.peer.ID
	ex.entry.Detail["assertion_sha256"] = p.assertion
}

// withReceipts adds PeerReceipts to the answer of a call a peer made.
func (s *Server) withReceipts(ctx context.Context, resp any) {
	p, ok := peerFromContext(ctx)
	if !ok {
		return
	}
	c, _ := authn.FromContext(ctx)
	switch r := resp.(type) {
	case *liaisonv1.RequestResponse:
		rel := r.GetReleased()
		rc, err := s.receipt(ctx, rel.GetAuditIndex(), c.Agency.ID, rel)
		if err != nil {
			s.log.ErrorContext(ctx, "receipt for a peer failed", "peer", p.peer.ID, "audit_index", rel.GetAuditIndex(), "error", err)
			return
		}
		r.Receipt = rc
	case *liaisonv1.DiscloseResponse:
		for _, res := range r.GetResults() {
			if !released(res) || res.GetReceipt() != nil {
				continue // discloseFromPeer gave its receipt, naming what it delivered
			}
			rc, err := s.receipt(ctx, res.GetAuditIndex(), res.GetRecipient(), nil)
			if err != nil {
				s.log.ErrorContext(ctx, "receipt for a peer failed", "peer", p.peer.ID, "audit_index", res.GetAuditIndex(), "error", err)
				continue
			}
			res.Receipt = rc
		}
	}
}

// withRefusalReceipt adds to a refusal of a call a peer gateway made that
// names this gateway's entry of it (PERMISSION_DENIED, FAILED_PRECONDITION
// (a refusal by this gateway's state, CASE_CLOSED or RELEASE_ENDED, say:
// finish names its entry), or a refusal of a forwarded acknowledgement the
// peer acts on, NOTICE_UNKNOWN or NOTICE_WITHDRAWN: peerClaimReasons;
// ErrorInfo metadata audit_index) the
// receipt of that entry, as a PeerRefusal detail, with the consistency
// proof the call asked for: the peer records this gateway's entry only if
// it can verify it. Any other error goes as it is.
func (s *Server) withRefusalReceipt(ctx context.Context, req any, err error) error {
	p, ok := peerFromContext(ctx)
	if !ok {
		return err
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.OK {
		return err
	}
	idx := int64(-1)
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok && (st.Code() == codes.PermissionDenied || st.Code() == codes.FailedPrecondition ||
			slices.Contains(peerClaimReasons, i.GetReason())) {
			if x, perr := strconv.ParseInt(i.GetMetadata()["audit_index"], 10, 64); perr == nil && x >= 0 {
				idx = x
			}
		}
	}
	if idx < 0 {
		return err
	}
	e, eerr := s.entryAt(ctx, idx, "audit_index")
	if eerr != nil {
		s.log.ErrorContext(ctx, "receipt of a refusal for a peer failed", "peer", p.peer.ID, "audit_index", idx, "error", eerr)
		return err
	}
	recipient := ""
	if len(e.Recipients) == 1 {
		recipient = e.Recipients[0].Agency
	}
	rc, rerr := s.receipt(ctx, idx, recipient, nil)
	if rerr != nil {
		s.log.ErrorContext(ctx, "receipt of a refusal for a peer failed", "peer", p.peer.ID, "audit_index", idx, "error", rerr)
		return err
	}
	if f, ok := req.(interface{ GetForwarded() *liaisonv1.PeerForward }); ok {
		s.proveConsistency(ctx, f.GetForwarded().GetKnownTreeSize(), rc)
	}
	with, derr := st.WithDetails(&liaisonv1.PeerRefusal{Receipt: rc})
	if derr != nil {
		return err
	}
	return with.Err()
}

// releasedDigestBytes is the SHA-256 of rel, deterministically encoded,
// with its audit index and provenance cleared (each side numbers it in its
// own log): the hash behind releasedDigest's "sha256:<hex>", which
// receipts.go writes into entries.
func releasedDigestBytes(rel *liaisonv1.Released) ([]byte, error) {
	if rel == nil {
		return nil, nil
	}
	c := proto.CloneOf(rel)
	c.AuditIndex, c.Provenance = 0, nil
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// receipt builds the PeerReceipt of the entry at index.
func (s *Server) receipt(ctx context.Context, index int64, recipient string, rel *liaisonv1.Released) (*liaisonv1.PeerReceipt, error) {
	signer := s.cfg.Federation.Receipts
	if signer == nil {
		return nil, errors.New("gateway: Config.Federation.Receipts is not set")
	}
	size, cp, err := s.cfg.Audit.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	text, _, _ := strings.Cut(string(cp), "\n\n")
	c, err := audit.ParseCheckpoint(text + "\n")
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= size {
		return nil, fmt.Errorf("gateway: receipt: entry %d is not in the tree of size %d", index, size)
	}
	proof, err := s.cfg.Audit.InclusionProof(ctx, index, size)
	if err != nil {
		return nil, err
	}
	leaves, err := s.cfg.Audit.Leaves(ctx, index, index+1)
	if err != nil {
		return nil, err
	}
	digest, err := releasedDigestBytes(rel)
	if err != nil {
		return nil, err
	}
	lh := tlog.RecordHash(leaves[0])
	body := fmt.Sprintf("liaison.receipt/v1\norigin %s\nindex %d\nleaf %s\nrecipient %s\nreleased %s\ntree %d %s\n",
		c.Origin, index, base64.StdEncoding.EncodeToString(lh[:]), recipient, base64.StdEncoding.EncodeToString(digest),
		size, base64.StdEncoding.EncodeToString(c.Hash[:]))
	st, err := note.Sign(&note.Note{Text: body}, signer)
	if err != nil {
		return nil, err
	}
	return &liaisonv1.PeerReceipt{Statement: string(st), Checkpoint: string(cp), Index: index, Entry: string(leaves[0]), InclusionProof: hashBytes(proof)}, nil
}

// A Receipt is a verified PeerReceipt: which entry of which log.
type Receipt struct {
	Origin    string
	Index     int64
	Recipient string
	Entry     *audit.Entry
	TreeSize  int64
	TreeHash  tlog.Hash // the checkpoint's root hash
}

// VerifyReceipt checks a PeerReceipt offline against the peer's checkpoint
// verifier key: the statement and the checkpoint are signed by it, the
// checkpoint is of the log the key names (its origin is the key's name), the
// entry is in the checkpoint's tree at the index (inclusion proof), the
// statement names that log, index, leaf and tree, and, when released is
// given, that it is what was released (and when recipient is given, to
// whom). It needs nothing but the receipt and the key. A receipt whose
// index or entry is not the one its statement names, or whose inclusion
// proof is not of a proof's shape, is read by the auditor's rule
// ([audit.ReadInclusion], as [ReadInclusion] reads an Audit service's
// answer) and refused wrapping [audit.ErrMalformedProof]; a proof of that
// shape that does not verify, [audit.ErrEntryMismatch].
func VerifyReceipt(r *liaisonv1.PeerReceipt, key note.Verifier, recipient string, released *liaisonv1.Released) (Receipt, error) {
	bad := func(format string, args ...any) (Receipt, error) {
		return Receipt{}, fmt.Errorf("gateway: receipt: "+format, args...)
	}
	// What is wrong goes into errors the gateway logs: the peer's own text
	// never does (a peer could put a subject's identifier there).
	cp, err := audit.OpenCheckpoint([]byte(r.GetCheckpoint()), key)
	if errors.Is(err, audit.ErrSignature) {
		return bad("checkpoint: %v", err)
	}
	if err != nil {
		return bad("checkpoint: not a checkpoint of a log")
	}
	if cp.Origin != key.Name() {
		// A gateway's log is named by its checkpoint key (serve's
		// -audit-name is both), and the origin names the peer's
		// exchanges here: the claim of each forwarded pending entry
		// (acceptForward), the pseudonym of a person a push names by the
		// peer's audit pseudonym. A peer that signed another log's name
		// could claim that log's entries, or name its people.
		return bad("checkpoint: not of the log its key %s names", key.Name())
	}
	n, err := audit.OpenNote([]byte(r.GetStatement()), note.VerifierList(key))
	if err != nil {
		return bad("statement not signed by %s: %v", key.Name(), err)
	}
	f := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) != 7 || lines[0] != "liaison.receipt/v1" {
		return bad("not a liaison.receipt/v1 statement")
	}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		f[k] = v
	}
	want := map[string]string{
		"origin": cp.Origin,
		"tree":   fmt.Sprintf("%d %s", cp.Size, base64.StdEncoding.EncodeToString(cp.Hash[:])),
	}
	if recipient != "" {
		want["recipient"] = recipient
	}
	if released != nil {
		d, err := releasedDigestBytes(released)
		if err != nil {
			return bad("%v", err)
		}
		want["released"] = base64.StdEncoding.EncodeToString(d)
	}
	for k, v := range want {
		if f[k] != v {
			return bad("the statement's %s is not %q", k, v)
		}
	}
	// The entry the statement names, by the auditor's rule of an answer
	// with an inclusion proof (audit.ReadInclusion, as `liaison audit
	// prove` and the console read one): a receipt that gives another entry
	// than the statement's index, or an entry whose hash is not the
	// statement's leaf, or whose proof is not of a proof's shape (a hash
	// not of 32 bytes, more or fewer hashes than a proof of that entry in
	// that tree has), is malformed (audit.ErrMalformedProof), not an entry
	// the checkpoint does not hold.
	index, err := strconv.ParseInt(f["index"], 10, 64)
	if err != nil || strconv.FormatInt(index, 10) != f["index"] {
		return bad("the statement's index is not an index")
	}
	leaf, err := base64.StdEncoding.Strict().DecodeString(f["leaf"])
	if err != nil {
		return bad("the statement's leaf is not a hash in base64")
	}
	proof, err := audit.ReadInclusion(index, cp.Size, audit.Inclusion{
		Index: r.GetIndex(), TreeSize: cp.Size, LeafHash: leaf, Entry: []byte(r.GetEntry()), Proof: r.GetInclusionProof(),
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("gateway: receipt: %w", err)
	}
	if err := audit.CheckInclusion(cp, r.GetIndex(), []byte(r.GetEntry()), proof); err != nil {
		return Receipt{}, fmt.Errorf("gateway: receipt: %w", err)
	}
	e, err := audit.Unmarshal([]byte(r.GetEntry()))
	if errors.Is(err, audit.ErrNotCanonical) {
		return bad("entry: %v", err)
	}
	if err != nil {
		// Not the decoder's words: they quote the entry (the name of a
		// field it does not know, a time that is no time), the peer's text.
		return bad("entry: not a log entry (its JSON does not decode as one)")
	}
	return Receipt{Origin: cp.Origin, Index: r.GetIndex(), Recipient: f["recipient"], Entry: e, TreeSize: cp.Size, TreeHash: cp.Hash}, nil
}

// assertion signs an officer assertion for a peer.
func (s *Server) assertion(c authn.Caller) (string, error) {
	fd := s.cfg.Federation
	if fd.Key == nil || fd.Issuer == "" {
		return "", errors.New("gateway: Config.Federation has no assertion key")
	}
	// The wall clock, not the gateway's (Config.Now, which an exercise
	// runs ahead): the peer checks the assertion's times against its own
	// wall clock.
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": fd.Issuer, "sub": c.Officer.ID, "aud": cmp.Or(fd.Audience, "liaison"),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": rand.Text(), "roles": c.Officer.Roles, "clearance": c.Officer.Clearance,
		"liaison_agency": map[string]string{"id": c.Agency.ID, "kind": c.Agency.Kind, "jurisdiction": c.Agency.Jurisdiction},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = fd.Kid
	return t.SignedString(fd.Key)
}

// peerConn returns the connection to a peer gateway; the TLS handshake
// checks the peer's registered certificate identity, and that the
// certificate is one this gateway takes the peer's calls with now (it
// chains to a trusted CA, as the trust files last loaded say, and is not
// revoked by a CRL or the deny list): a revoked peer certificate is not
// sent a subject's identifier or a record either. A connection made
// before is used again only while the certificate its last handshake
// showed is still trusted: a revocation since closes it, and the new
// connection's handshake refuses the certificate.
func (s *Server) peerConn(ctx context.Context, peer *Agency) (*grpc.ClientConn, error) {
	key := "peer|" + peer.ID + "|" + peer.Provider + "|" + peer.CertificateIdentity
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.providers[key]; ok {
		if s.peerStillTrusted(key, peer.ID) {
			return c, nil
		}
		s.log.WarnContext(ctx, "the peer gateway's certificate is no longer trusted: its connection is closed", "peer", peer.ID)
		c.Close()
		delete(s.providers, key)
	}
	if s.closed {
		return nil, errClosed
	}
	if s.cfg.ProviderTLS == nil {
		return nil, errors.New("gateway: Config.ProviderTLS is required to dial peer gateways")
	}
	tc := s.cfg.ProviderTLS.Clone()
	tc.MinVersion = tls.VersionTLS13
	want, id := peer.CertificateIdentity, peer.ID
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) > 0 {
			for _, u := range cs.PeerCertificates[0].URIs {
				if u.String() != want {
					continue
				}
				a, err := s.cfg.Verifier.CheckCertificate(&cs)
				if err != nil || a.ID != id {
					return fmt.Errorf("gateway: the peer gateway's certificate is not one this gateway trusts now: %v", err)
				}
				s.peerHandshakes.Store(key, &cs)
				return nil
			}
		}
		return fmt.Errorf("gateway: the peer gateway's certificate does not name %s", want)
	}
	c, err := grpc.NewClient(peer.Provider, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		return nil, err
	}
	s.retireConns("peer|"+peer.ID+"|", key)
	s.keepConn(key, c)
	return c, nil
}

// peerStillTrusted reports whether the certificate the last handshake of
// the connection under key showed is still one this gateway takes the
// peer's calls with (true if none was made yet: its handshake checks).
func (s *Server) peerStillTrusted(key, id string) bool {
	v, ok := s.peerHandshakes.Load(key)
	if !ok {
		return true
	}
	a, err := s.cfg.Verifier.CheckCertificate(v.(*tls.ConnectionState))
	if err != nil || a.ID != id {
		s.peerHandshakes.Delete(key)
		return false
	}
	return true
}

// callPeer prepares a call to a peer on behalf of the exchange's caller:
// the connection, and a context with the assertion and the timeout. The
// entry records the peer and the assertion's digest.
func (s *Server) callPeer(ctx context.Context, ex *exchange, peer *Agency) (*grpc.ClientConn, context.Context, context.CancelFunc, error) {
	if ex.entry.Detail == nil {
		ex.entry.Detail = map[string]string{}
	}
	ex.entry.Detail["peer"] = peer.ID
	tok, err := s.assertion(ex.caller)
	if err != nil {
		return nil, nil, nil, failed("FEDERATION_NOT_CONFIGURED", err)
	}
	sum := sha256.Sum256([]byte(tok))
	ex.entry.Detail["assertion_sha256"] = hex.EncodeToString(sum[:])
	conn, err := s.peerConn(ctx, peer)
	if err != nil {
		return nil, nil, nil, failed("PEER_UNAVAILABLE", fmt.Errorf("%w: %v", errPeer, err))
	}
	timeout := s.cfg.Federation.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	pctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok), timeout)
	ex.peerConn, ex.peerCtx = conn, pctx // to ask the peer for a consistency proof (peerview.go)
	return conn, pctx, cancel, nil
}

// peerOffboarded reports whether a peer gateway refused a call because the
// agency of its own that the call would ask, or deliver to, is offboarded
// there (InvalidArgument, reason AGENCY_OFFBOARDED): this gateway then
// refuses the call as it refuses one for an agency it offboarded itself.
func peerOffboarded(err error) bool {
	return status.Code(err) == codes.InvalidArgument && errorReason(err) == reasonOffboarded
}

// peerError turns a peer's refusal or failure into this exchange's error.
// forwarded says that the call carried a record the peer may have
// delivered before it failed to answer.
//
// Only a decision the peer logged on the exchange is a deny: its status
// is PERMISSION_DENIED and names the peer's entry (ErrorInfo metadata
// audit_index), as every denial of an exchange does. The peer refusing to
// take the call at all (it does not authenticate this gateway, its
// certificate or the officer's assertion: UNKNOWN_PEER_AGENCY,
// BAD_ASSERTION, CERTIFICATE_REVOKED..., or it finds the call invalid or
// its state does not allow it) is a failure of the exchange:
// PEER_REFUSED, with the peer's reason in detail peer_reason. A reason
// code taken from the peer enters the log only if it is spelled as one
// (peerCode).
//
// The entry names the peer's entry of a denial (detail peer_index, with
// its receipt in detail peer_receipt) only if the denial carries a
// receipt of it that holds for this call (peerDenialReceipt); else the
// denial is logged unverified (detail peer_denial "unverified"), without
// the index the peer claimed. A PERMISSION_DENIED whose proven entry is
// a refusal by the peer's own rules (outcome refused: NOT_A_CASE_MEMBER,
// say), not a denial of its law, is refused here, PEER_REFUSED, with the
// peer's reason in detail peer_reason; unproven, it stays a deny,
// unverified, as the peer's status says. So is a FAILED_PRECONDITION that
// names the peer's entry (a refusal by its state or its own rules:
// CASE_CLOSED, RELEASE_ENDED...) whose receipt proves a refused entry:
// refused here, PEER_REFUSED, FAILED_PRECONDITION for the caller (metadata
// peer_reason, peer_denial verified); unproven, it stays failed,
// PEER_REFUSED, with detail peer_denial unverified, as one from a peer
// that names no entry (a gateway from before this) is failed.
func (s *Server) peerError(ctx context.Context, ex *exchange, peer *Agency, err error, forwarded bool) error {
	st := status.Convert(err)
	info, _, peerIndex := peerRefusalDetails(st)
	reason := peerCode(info.GetReason())
	switch st.Code() {
	case codes.PermissionDenied, codes.Unauthenticated, codes.InvalidArgument, codes.FailedPrecondition:
		if st.Code() == codes.PermissionDenied && reason == reasonOffboarded && info.GetMetadata()[metaOffboarded] == offboardedPeerGateway {
			// The peer says its registry offboards this gateway itself,
			// not the caller's agency: said so, as the peer's word (the
			// entry's detail and the caller's ErrorInfo metadata).
			ex.detail()[metaOffboarded] = offboardedPeerGateway
			return &denial{reason: reason, refusal: true, auditIdx: -1, meta: map[string]string{metaOffboarded: offboardedPeerGateway},
				message: "The other country's gateway no longer takes this gateway's calls: it says its registry has offboarded this gateway."}
		}
		if st.Code() == codes.PermissionDenied && reason == reasonOffboarded {
			// The peer refused the call as made for an agency its own
			// registry offboarded: a refusal, not its law's decision.
			return &denial{reason: reason, refusal: true, auditIdx: -1,
				message: "The other country's gateway no longer takes calls for your agency: it has been offboarded there."}
		}
		if st.Code() == codes.PermissionDenied && peerIndex >= 0 {
			verified, outcome, err := s.notePeerRefusal(ctx, ex, peer, err)
			if err != nil {
				return err // the peer shows two histories of its log
			}
			if verified && outcome == audit.OutcomeRefused {
				// The peer's entry, proven, records a refusal by its
				// own rules (NOT_A_CASE_MEMBER, say), not a decision
				// of its law: refused here too, with its reason.
				return &denial{reason: reasonPeerRefused, refusal: true, auditIdx: -1, meta: provenPeerRefusal(ex, st.Code(), reason),
					message: "The other country's gateway refused this exchange: " + peerMessage(st.Message())}
			}
			dn := &denial{reason: cmp.Or(reason, "PEER_DENIED"), auditIdx: -1,
				message: "The other country's law does not allow this exchange: " + peerMessage(st.Message()),
				meta:    map[string]string{"peer_denial": "verified"}}
			if !verified {
				dn.meta["peer_denial"] = "unverified"
			}
			return dn
		}
		if st.Code() == codes.FailedPrecondition && peerNamesEntry(st) {
			// A refusal by the peer's state (CASE_CLOSED, RELEASE_ENDED...)
			// that names its entry (or carries a receipt): refused here
			// too if the receipt of that entry proves it, else failed as
			// one that names none.
			verified, outcome, err := s.notePeerRefusal(ctx, ex, peer, err)
			if err != nil {
				return err // the peer shows two histories of its log
			}
			if verified && outcome == audit.OutcomeRefused {
				return &stateRefusal{reason: reasonPeerRefused, meta: provenPeerRefusal(ex, st.Code(), reason),
					message: "The other country's gateway refused this exchange: " + peerMessage(st.Message())}
			}
			f := peerRefused(ex, st.Code(), reason).(*failure)
			f.meta["peer_denial"] = ex.detail()["peer_denial"]
			if !verified && slices.Contains(peerStateClaims, reason) {
				// A claim this gateway would act on (RELEASE_ENDED ends
				// the release here: releasesOf), made by a peer that
				// speaks of its entry of it but does not prove it: not
				// a gateway from before such receipts, whose word is
				// taken, but a false or broken claim. The peer refused
				// the call (PEER_REFUSED, nothing delivered); its claim
				// is not taken (PEER_CLAIM_UNVERIFIED, the caller's
				// reason), and the release stays as it was.
				ex.entry.Reasons = append(ex.entry.Reasons, reasonPeerRefused)
				f.reason = reasonPeerClaimUnverified
				f.err = fmt.Errorf("%w: %w", f.err, errPeerStateClaimUnverified)
			}
			return f
		}
		return peerRefused(ex, st.Code(), reason)
	case codes.NotFound:
		if forwarded {
			// A push, notice or revision this gateway forwarded: the
			// holder is this side's caller, who has the record; the peer
			// refused the call, and "no such record" would be false.
			return peerRefused(ex, st.Code(), reason)
		}
		return errNotFound // the holder behind the peer has no such record
	}
	if forwarded {
		// Whether the peer delivered is in its log: its entry, if any,
		// names this exchange's pending entry.
		ex.detail()["peer_outcome"] = "unknown"
		return failed("PEER_UNAVAILABLE", fmt.Errorf("%w: %v", errPeerNoAnswer, st.Code()))
	}
	return failed("PEER_UNAVAILABLE", fmt.Errorf("%w: %v", errPeer, st.Code()))
}

// peerStateClaims are the reasons of a peer's FAILED_PRECONDITION refusal
// of a forwarded call that change this gateway's state when taken:
// RELEASE_ENDED ends the release here (releasesOf). One that names the
// peer's entry of it is taken only proven by the receipt of that entry
// (peerError); one from a gateway before such receipts, which names no
// entry and carries no receipt, is taken on its word.
var peerStateClaims = []string{reasonReleaseEnded}

// errPeerStateClaimUnverified is what the error of an exchange wraps whose
// peer refused it with one of peerStateClaims, naming its entry of the
// refusal without a receipt of it that holds for the call.
var errPeerStateClaimUnverified = errors.New("gateway: the peer's refusal names its entry of it without a receipt that holds for this call: not taken")

// peerNamesEntry reports whether a peer's refusal speaks of its entry of
// it: its ErrorInfo names one (metadata audit_index, even one that is not
// an index), or it carries a receipt (PeerRefusal). A gateway from before
// such receipts does neither.
func peerNamesEntry(st *status.Status) bool {
	info, refusal, _ := peerRefusalDetails(st)
	_, named := info.GetMetadata()["audit_index"]
	return named || refusal != nil
}

// peerRefusalDetails reads a peer's refusal: its ErrorInfo, the receipt
// of its entry (PeerRefusal) and the index of that entry it names
// (ErrorInfo metadata audit_index; -1 if none).
func peerRefusalDetails(st *status.Status) (*errdetails.ErrorInfo, *liaisonv1.PeerRefusal, int64) {
	var info *errdetails.ErrorInfo
	var refusal *liaisonv1.PeerRefusal
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *liaisonv1.PeerRefusal:
			refusal = d
		}
	}
	index := int64(-1)
	if x, err := strconv.ParseInt(info.GetMetadata()["audit_index"], 10, 64); err == nil && x >= 0 {
		index = x
	}
	return info, refusal, index
}

// notePeerRefusal records in the exchange's entry whether a peer's
// refusal (err: PERMISSION_DENIED, or a forwarded acknowledgement's
// NOTICE_UNKNOWN or NOTICE_WITHDRAWN) carries a receipt of the entry it
// names that holds for this exchange (peerDenialReceipt: then detail
// peer_index, peer_receipt and peer_denial "verified"), or not (detail
// peer_denial "unverified"), and reports which, with the outcome of the
// peer's entry if verified (deny or refused). Its error is the failure
// of the peer's view of its log.
func (s *Server) notePeerRefusal(ctx context.Context, ex *exchange, peer *Agency, err error) (verified bool, outcome string, _ error) {
	st := status.Convert(err)
	info, refusal, index := peerRefusalDetails(st)
	if index >= 0 {
		v, o, err := s.peerDenialReceipt(ctx, ex, peer, refusal.GetReceipt(), index, st.Code(), info.GetReason())
		if err != nil {
			return false, "", err
		}
		verified, outcome = v, o
	} else if refusal != nil {
		s.log.WarnContext(ctx, "a peer's refusal carries a receipt but names no entry of it: logged unverified",
			"request_id", ex.reqID, "peer", peer.ID)
	}
	if !verified {
		ex.detail()["peer_denial"] = "unverified"
	}
	return verified, outcome, nil
}

// peerDenialReceipt checks the receipt a peer gave of its entry of a
// denial (PeerRefusal) that names index and reason, under status code c,
// and reports whether it holds for this exchange: it verifies against the
// peer's checkpoint key, names the recipient of this exchange's pending
// entry's receipt (pendingForward), as its entry does (or none, only where
// the refusal is one made before the peer knew whom the call was for:
// refusedUnaddressed), is of the entry at index, an entry of this
// exchange's action (the action of its pending entry, which the peer's
// entry of the forwarded call takes: request, disclose, notify, correct,
// withdraw, revise_expiry, acknowledge_notice or notice_acknowledge, not
// an entry of another call of the peer's, an audit_read say, that names
// the same parties), a refused entry with that reason, or a deny entry
// with it if c is PERMISSION_DENIED (the one status of a denial of the
// peer's law), and that entry names this gateway's caller as its requester (agency and
// officer, as the assertion named them), this exchange's pending entry
// (detail peer_index) and the digest of this call's assertion (detail
// assertion_sha256): the peer's refusal of this very call, not of another,
// an earlier one presented again. The index and the digest bind the entry
// to this call only as far as the peer wrote them: the peer signs its own
// log, and an entry of its making that names them beside another
// requester or no recipient says it refused someone else's call, or no
// one's. Then the entry records the peer's entry (detail
// peer_index, peer_receipt; detail peer_denial "verified"), once the
// receipt's checkpoint is found consistent with the peer's log as this
// gateway knows it (checkPeerView, whose failure is returned: the
// exchange fails as for an answer). It returns the outcome of the peer's
// entry too. A receipt that does not hold is logged as a warning, and
// the denial is unverified.
func (s *Server) peerDenialReceipt(ctx context.Context, ex *exchange, peer *Agency, rc *liaisonv1.PeerReceipt, index int64, c codes.Code, reason string) (bool, string, error) {
	unverified := func(why string, err error) (bool, string, error) {
		s.log.WarnContext(ctx, "a peer's denial carries no receipt of its entry that holds for this exchange: logged unverified",
			"request_id", ex.reqID, "peer", peer.ID, "why", why, "error", err)
		return false, "", nil
	}
	if rc == nil {
		return unverified("no receipt", nil)
	}
	key, err := note.NewVerifier(peer.CheckpointKey)
	if err != nil {
		return unverified("no checkpoint key", err)
	}
	got, err := VerifyReceipt(rc, key, "", nil)
	if err != nil {
		return unverified("the receipt does not verify", err)
	}
	// The recipient the statement names is its entry's one recipient, or
	// none (withRefusalReceipt): only a refusal made before the peer knew
	// whom it was for names none.
	recipient := ""
	if len(got.Entry.Recipients) == 1 {
		recipient = got.Entry.Recipients[0].Agency
	}
	d, pd, req := ex.detail(), got.Entry.Detail, got.Entry.Requester
	switch {
	case got.Recipient != recipient, len(got.Entry.Recipients) > 1,
		recipient == "" && !refusedUnaddressed(ex, got.Entry, reason), recipient != "" && recipient != ex.peerRecipient:
		return unverified("the receipt names another recipient than this exchange's", nil)
	case req == nil || req.Agency != ex.caller.Agency.ID || req.Officer != ex.caller.Officer.ID:
		return unverified("the receipt's entry names another requester than this exchange's caller", nil)
	case got.Index != index:
		return unverified("the receipt is of another entry than the one the denial names", nil)
	case ex.peerAction == "" || got.Entry.Action != ex.peerAction:
		return unverified("the receipt's entry is of another action than this exchange's", nil)
	case got.Entry.Outcome != audit.OutcomeRefused && (got.Entry.Outcome != audit.OutcomeDeny || c != codes.PermissionDenied),
		reason != "" && !slices.Contains(got.Entry.Reasons, reason):
		return unverified("the receipt's entry records no refusal for the reason given", nil)
	case d["pending_index"] == "" || pd["peer_index"] != d["pending_index"],
		d["assertion_sha256"] == "" || pd["assertion_sha256"] != d["assertion_sha256"]:
		return unverified("the receipt's entry is of another call", nil)
	}
	rj, err := protojson.Marshal(rc)
	if err != nil {
		return unverified("the receipt does not encode", err)
	}
	d["peer_index"] = strconv.FormatInt(got.Index, 10)
	d["peer_receipt"] = string(rj)
	if err := s.checkPeerView(ctx, ex, peer, rc, got); err != nil {
		return false, "", err
	}
	d["peer_denial"] = "verified"
	return true, got.Entry.Outcome, nil
}

// refusedUnaddressed reports whether a peer's refusal of ex for reason,
// of which pe is the peer's entry, is one whose entry names no recipient
// because the peer made it before it knew whom the call was for: the
// NOTICE_UNKNOWN of a forwarded acknowledgement of a required notice
// (acknowledgeFromPeer), which finds no notice to take the parties from.
// Every other refusal that names its entry is made after the peer took
// the call's recipient (from the call, the notice or the release it
// names), and its entry names it: one that names none is not of this call.
func refusedUnaddressed(ex *exchange, pe *audit.Entry, reason string) bool {
	return reason == reasonNoticeUnknown && ex.entry.Action == actionNoticeAcknowledge && pe.Action == actionNoticeAcknowledge
}

// provenPeerRefusal records in the entry the status code and reason of a
// peer's refusal its receipt proved (detail peer_code, peer_reason) and
// returns the caller's ErrorInfo metadata for it.
func provenPeerRefusal(ex *exchange, c codes.Code, reason string) map[string]string {
	d := ex.detail()
	d["peer_code"] = c.String()
	meta := map[string]string{"peer_denial": "verified"}
	if reason != "" {
		d["peer_reason"], meta["peer_reason"] = reason, reason
	}
	return meta
}

// reasonPeerRefused is the reason of an exchange the peer gateway refused
// to take (it did not authenticate this gateway or the officer, or found
// the call invalid), as opposed to one its law denied.
const reasonPeerRefused = "PEER_REFUSED"

// peerRefused is the failure of an exchange the peer gateway refused to
// take, with its status code and reason (if it gave a valid one) in the
// entry (detail peer_code, peer_reason) and the caller's ErrorInfo
// (metadata peer_reason).
func peerRefused(ex *exchange, c codes.Code, reason string) error {
	d := ex.detail()
	d["peer_code"] = c.String()
	meta := map[string]string{}
	if reason != "" {
		d["peer_reason"], meta["peer_reason"] = reason, reason
	}
	return &failure{reason: reasonPeerRefused, meta: meta,
		err: fmt.Errorf("gateway: the peer gateway refused the call: %v %s", c, reason)}
}

// Bounds on what this gateway takes from a peer into its log: a reason
// code is at most maxPeerCodeLen characters, an entry's reasons at most
// maxPeerCodes.
const (
	maxPeerCodeLen = 64
	maxPeerCodes   = 16
)

// peerCode returns code if it is spelled as a reason code (an upper-case
// letter, then upper-case letters, digits and underscores, at most
// maxPeerCodeLen), else "": a peer's code enters the log only so.
func peerCode(code string) string {
	if code == "" || len(code) > maxPeerCodeLen || code[0] < 'A' || code[0] > 'Z' {
		return ""
	}
	for _, r := range code {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return ""
		}
	}
	return code
}

// peerCodes reports whether codes, taken from a peer, are reason codes
// (peerCode), at most maxPeerCodes of them.
func peerCodes(codes ...string) bool {
	if len(codes) > maxPeerCodes {
		return false
	}
	for _, c := range codes {
		if peerCode(c) == "" {
			return false
		}
	}
	return true
}

// maxPeerMessage bounds the peer's message passed on to the caller.
const maxPeerMessage = 500

// peerMessage is a peer's status message as this gateway passes it on to
// its caller: printable characters only, at most maxPeerMessage bytes.
func peerMessage(m string) string {
	m = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return -1
		}
		return r
	}, m)
	if len(m) > maxPeerMessage {
		// Cut so that the ellipsis too fits in maxPeerMessage bytes.
		cut := maxPeerMessage - len("…")
		for cut > 0 && !utf8.RuneStart(m[cut]) {
			cut--
		}
		m = m[:cut] + "…"
	}
	return m
}

// requestFromPeer checks a Request a peer gateway forwards: the holder is
// one of this gateway's own agencies, and the peer logged the request
// before it forwarded it (acceptForward). A call from an agency must not
// carry a PeerForward.
func (s *Server) requestFromPeer(ctx context.Context, ex *exchange, req *liaisonv1.RequestRequest, holder *Agency) error {
	if _, ok := peerFromContext(ctx); ok && holder.Via != "" {
		return invalid("holder", "is not an agency of this gateway")
	}
	_, err := s.acceptForward(ctx, ex, req.GetForwarded(), forwardedFacts{actions: []string{"request"}, recipient: ex.caller.Agency.ID,
		holder: holder.ID, recordType: enumName(req.GetRecordType()), purpose: enumName(req.GetPurpose()),
		words: &[2]string{req.GetJustification(), req.GetClaimedLegalBasis()}})
	return err
}

// requestViaPeer is Request for a holder behind a peer gateway.
func (s *Server) requestViaPeer(ctx context.Context, ex *exchange, req *liaisonv1.RequestRequest, holder *Agency, cs *policies.Case) (*liaisonv1.RequestResponse, error) {
	peer := s.registry.Load().Agencies[holder.Via]
	caller := ex.caller
	ex.describe(party(holder.Agency), party(caller.Agency), policies.Input{
		RecordType:        enumName(req.GetRecordType()),
		Purpose:           enumName(req.GetPurpose()),
		ClaimedLegalBasis: req.GetClaimedLegalBasis(),
		Case:              cs,
		Justification:     req.GetJustification(),
	})
	ex.subject = pseudonym.SubjectID(req.GetSubjectId())
	if err := s.pseudonymiseSubject(ex); err != nil {
		return nil, err
	}
	// This country's rules for the request, before anything leaves.
	if err := s.precheck(ctx, ex); err != nil {
		return nil, err
	}
	conn, pctx, cancel, err := s.callPeer(ctx, ex, peer)
	if err != nil {
		return nil, err
	}
	defer cancel()
	client := liaisonv1.NewExchangeClient(conn)
	pf, err := s.pendingForward(ctx, ex, caller.Agency.ID, nil)
	if err != nil {
		return nil, err
	}
	fwd := proto.CloneOf(req)
	fwd.CaseId = "" // cases are this gateway's; the peer does not know them
	fwd.Forwarded = pf
	resp, err := client.Request(pctx, fwd)
	if err != nil {
		if peerOffboarded(err) {
			return nil, &badRequest{field: "holder", reason: reasonOffboarded, problem: "has been offboarded at its own gateway, which no longer asks it"}
		}
		return nil, s.peerError(ctx, ex, peer, err, false)
	}
	rel := resp.GetReleased()
	got, err := s.peerReceipt(ex, peer, resp.GetReceipt(), caller.Agency.ID, rel, "its release", func(e *audit.Entry) bool { return audit.ReleasedBy(e) })
	if err != nil {
		return nil, err
	}
	// What the peer released must be what was asked for: its entry a
	// request of this holder, by this agency, for this record type and
	// purpose; the release the holder's, of that record type; and, where
	// the record names the person in full, the person. A peer answers
	// only for the agencies behind it, and only for what was asked.
	pe := got.Entry
	if pe.Action != "request" || pe.Holder == nil || pe.Holder.Agency != holder.ID || pe.Requester == nil || pe.Requester.Agency != caller.Agency.ID ||
		pe.RecordType != ex.in.RecordType || pe.Purpose != ex.in.Purpose ||
		rel.GetHolder() != holder.ID || enumName(rel.GetRecordType()) != ex.in.RecordType || enumName(rel.GetPurpose()) != ex.in.Purpose {
		return nil, failed("PEER_RETURNED_WRONG_RECORD", errors.New("gateway: the peer gateway released, or logged, another holder's record, or not what was asked"))
	}
	if rel.GetRecord() != nil {
		body, rule := recordBody(rel.GetRecord())
		var id pseudonym.SubjectID
		if body != nil {
			id = recordSubjectID(body)
		}
		named := id != "" && !strings.HasPrefix(string(id), "psn:") // not pseudonymised
		if body == nil || rule.GetRecordType() != ex.in.RecordType || named && id != ex.subject {
			return nil, failed("PEER_RETURNED_WRONG_RECORD", errors.New("gateway: the peer gateway released a record of another type or subject"))
		}
	}
	// And the peer's entry records that release, as this gateway's entry
	// will (it takes the outcome, basis and conditions from it): the same
	// outcome, legal basis, conditions and fields; a hit-only answer
	// carries no record and is the answer logged, any other release a
	// record. Otherwise this log would say one thing and the officer get
	// another (a record in full, say, logged as one bit). The person's
	// attributes, the legal basis, the conditions and the field names,
	// which this log takes from it, are well formed (validPeerSubject,
	// validPeerBasis, validPeerFields).
	if !peerEntryRecords(pe, rel) || !validPeerSubject(pe.Subject) || !validPeerBasis(pe.LegalBasis, pe.Conditions) || !validPeerFields(rel.GetFields()) ||
		!validPeerDomain(rel.GetPseudonymDomain(), caller.Agency.ID) {
		return nil, failed("PEER_RECEIPT_INVALID", errors.New("gateway: the peer's entry does not record what it released"))
	}
	// And the peer's log is the one it showed before.
	if err := s.checkPeerView(ctx, ex, peer, resp.GetReceipt(), got); err != nil {
		return nil, err
	}
	// This country's law on receipt, with the subject's attributes as the
	// holder's gateway recorded them.
	ex.subjectFrom(got.Entry.Subject)
	dec, err := s.decide(ctx, ex)
	if err != nil {
		// Refused on receipt: the record goes no further, and the entry
		// says that this gateway's law refused a release (what the
		// holder's law released is in the peer's entry beside it).
		ex.noteReceipt(dec, err)
		return nil, err
	}
	// The entry records what the holder's gateway released, under its
	// legal basis, as it arrived: its fields and pseudonym domain, and no
	// field plan, since this side's decision transformed nothing (a plan
	// or domain of its own would say it had). This side's basis for
	// receiving it is beside it.
	e := ex.entry
	e.Outcome = got.Entry.Outcome
	e.FieldsDisclosed = rel.GetFields()
	e.FieldPlan, e.PseudonymDomain = nil, rel.GetPseudonymDomain()
	if e.Outcome == audit.OutcomeHitOnly {
		// One bit, hit or no-hit, as the holder's gateway logged it.
		e.FieldsDisclosed = []string{"hit"}
		e.Detail["answer"] = hitAnswer(rel.GetHit())
	}
	e.LegalBasis = got.Entry.LegalBasis
	e.Conditions = got.Entry.Conditions
	ex.noteReceipt(dec, nil)
	if !audit.ReleasedBy(e) {
		return nil, failed("PEER_RECEIPT_INVALID", errors.New("gateway: the peer's receipt records no release"))
	}
	// Received here, it is this gateway's release to the caller like any
	// other: its digest in the entry (GetReceipt), its content
	// fingerprinted (onward use), and the provenance this gateway signs.
	if err := s.receivedRelease(ctx, ex, rel); err != nil {
		return nil, err
	}
	idx, err := ex.commit(ctx)
	if err != nil {
		return nil, err
	}
	s.withProvenance(ctx, rel, idx, caller.Agency.ID)
	s.log.InfoContext(ctx, "record released through a peer gateway", "request_id", ex.reqID, "audit_index", idx, "peer", peer.ID,
		"peer_index", got.Index, "requester", caller.Agency.ID, "holder", holder.ID, "outcome", e.Outcome)
	return &liaisonv1.RequestResponse{Released: rel}, nil
}

// peerEntryRecords reports whether a peer's entry of a release records
// rel: its outcome and what releaseAsLogged checks, and for a hit-only
// answer the answer given (detail answer, hit or no_hit), which every
// gateway's entry of a hit-only Request names. A hit-only answer whose
// entry names none is malformed: this gateway's entry, which records the
// answer, would take it from the release alone.
func peerEntryRecords(pe *audit.Entry, rel *liaisonv1.Released) bool {
	if rel.GetOutcome() == liaisonv1.Outcome_OUTCOME_HIT_ONLY && pe.Detail["answer"] != hitAnswer(rel.GetHit()) {
		return false
	}
	return enumName(rel.GetOutcome()) == pe.Outcome && releaseAsLogged(pe, rel)
}

// releaseAsLogged reports whether rel is the release a peer's entry
// records (its final entry, or its pending entry of a push): the same
// legal basis (id, citation, last day), conditions and fields; for a
// hit-only answer no record and the answer given (if the entry names
// one; peerEntryRecords requires it of a Request's answer), for any
// other release a record.
func releaseAsLogged(pe *audit.Entry, rel *liaisonv1.Released) bool {
	if !sameBasis(rel.GetLegalBasis(), pe.LegalBasis) || !slices.Equal(rel.GetConditions(), pe.Conditions) {
		return false
	}
	if rel.GetOutcome() == liaisonv1.Outcome_OUTCOME_HIT_ONLY {
		a := pe.Detail["answer"]
		return rel.GetRecord() == nil && len(rel.GetFields()) == 0 && slices.Equal(pe.FieldsDisclosed, []string{"hit"}) &&
			(a == "" || a == hitAnswer(rel.GetHit()))
	}
	return rel.GetRecord() != nil && slices.Equal(rel.GetFields(), pe.FieldsDisclosed)
}

// sameBasis reports whether a release's legal basis and an entry's are
// one: the same id, citation and last day, or neither.
func sameBasis(lb *liaisonv1.LegalBasis, e *audit.LegalBasis) bool {
	if lb == nil || e == nil {
		return lb == nil && e == nil
	}
	return lb.GetId() == e.ID && lb.GetCitation() == e.Citation && lb.GetValidUntil() == e.ValidUntil
}
