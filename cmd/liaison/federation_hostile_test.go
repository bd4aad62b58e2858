package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// A hostilePeer stands, in one country's registry, in the place of the
// other country's gateway: it holds that gateway's certificate and
// checkpoint key, passes each call on to it, and lets a test change the
// answer, as a hostile or buggy peer gateway would, signing what it
// changes with the checkpoint key.
type hostilePeer struct {
	liaisonv1.UnimplementedExchangeServer
	liaisonv1.UnimplementedAftercareServer
	liaisonv1.UnimplementedAuditServer
	origin    string
	signer    note.Signer
	verifier  note.Verifier
	exchange  liaisonv1.ExchangeClient
	aftercare liaisonv1.AftercareClient
	audit     liaisonv1.AuditClient
	real      *country // the gateway it stands in front of

	mu sync.Mutex
	// answer, if set, may change what the real gateway answered to a
	// call (its method's short name) before the caller gets it.
	answer func(method string, resp proto.Message, err error) (proto.Message, error)
	// known is the size of this log the caller said it remembers, in
	// the last forwarded call (PeerForward.known_tree_size).
	known int64
	// asked counts the consistency proofs the caller asked for.
	asked int
	// request, if set, may change a call (its method's short name) before
	// the real gateway gets it.
	request func(method string, req proto.Message)
}

// startHostilePeer starts a hostile peer in front of peer's gateway, for
// me's gateway to call, and returns it with its address.
func startHostilePeer(t *testing.T, me, peer *country) (*hostilePeer, string) {
	t.Helper()
	signer, vkey, err := audit.LoadOrCreateSignerKey(peer.opts.AuditKey, peer.domain)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(me.Path("gateway.pem"), me.Path("gateway.key"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(peer.opts.Listen, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: peer.CA.Pool()})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	h := &hostilePeer{origin: peer.domain, signer: signer, verifier: verifier, real: peer,
		exchange: liaisonv1.NewExchangeClient(conn), aftercare: liaisonv1.NewAftercareClient(conn), audit: liaisonv1.NewAuditClient(conn)}
	tc, err := mtlsServerConfig(peer.Path("gateway.pem"), peer.Path("gateway.key"), me.Path("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(tc)))
	liaisonv1.RegisterExchangeServer(gs, h)
	liaisonv1.RegisterAftercareServer(gs, h)
	liaisonv1.RegisterAuditServer(gs, h)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return h, lis.Addr().String()
}

// setAnswer sets (nil: clears) what changes the peer's answers.
func (h *hostilePeer) setAnswer(f func(method string, resp proto.Message, err error) (proto.Message, error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.answer = f
}

// pass passes a call on, with the caller's assertion, and lets answer
// change what comes back.
func pass[Req, Resp proto.Message](h *hostilePeer, ctx context.Context, method string, req Req,
	call func(context.Context, Req, ...grpc.CallOption) (Resp, error)) (Resp, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	out := metadata.New(nil)
	out.Set("authorization", md.Get("authorization")...)
	h.mu.Lock()
	f, rf := h.answer, h.request
	if fw, ok := any(req).(interface{ GetForwarded() *liaisonv1.PeerForward }); ok {
		h.known = fw.GetForwarded().GetKnownTreeSize()
	}
	if method == "ProveConsistency" {
		h.asked++
	}
	h.mu.Unlock()
	if rf != nil {
		rf(method, req)
	}
	resp, err := call(metadata.NewOutgoingContext(ctx, out), req)
	if f == nil {
		return resp, err
	}
	var m proto.Message
	if err == nil {
		m = resp
	}
	m, err = f(method, m, err)
	r, _ := m.(Resp)
	return r, err
}

func (h *hostilePeer) Request(ctx context.Context, req *liaisonv1.RequestRequest) (*liaisonv1.RequestResponse, error) {
	return pass(h, ctx, "Request", req, h.exchange.Request)
}

func (h *hostilePeer) Disclose(ctx context.Context, req *liaisonv1.DiscloseRequest) (*liaisonv1.DiscloseResponse, error) {
	return pass(h, ctx, "Disclose", req, h.exchange.Disclose)
}

func (h *hostilePeer) Acknowledge(ctx context.Context, req *liaisonv1.AcknowledgeRequest) (*liaisonv1.AcknowledgeResponse, error) {
	return pass(h, ctx, "Acknowledge", req, h.exchange.Acknowledge)
}

func (h *hostilePeer) AcknowledgeNotice(ctx context.Context, req *liaisonv1.AcknowledgeNoticeRequest) (*liaisonv1.AcknowledgeNoticeResponse, error) {
	return pass(h, ctx, "AcknowledgeNotice", req, h.aftercare.AcknowledgeNotice)
}

func (h *hostilePeer) ReviseExpiry(ctx context.Context, req *liaisonv1.ReviseExpiryRequest) (*liaisonv1.ReviseExpiryResponse, error) {
	return pass(h, ctx, "ReviseExpiry", req, h.aftercare.ReviseExpiry)
}

func (h *hostilePeer) ProveConsistency(ctx context.Context, req *liaisonv1.ProveConsistencyRequest) (*liaisonv1.ProveConsistencyResponse, error) {
	return pass(h, ctx, "ProveConsistency", req, h.audit.ProveConsistency)
}

// statement returns the fields of a receipt's statement, in order.
func (h *hostilePeer) statement(t *testing.T, rc *liaisonv1.PeerReceipt) [][2]string {
	t.Helper()
	n, err := note.Open([]byte(rc.GetStatement()), note.VerifierList(h.verifier))
	if err != nil {
		t.Fatalf("the peer's own receipt does not open: %v", err)
	}
	var out [][2]string
	for _, l := range strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")[1:] {
		k, v, _ := strings.Cut(l, " ")
		out = append(out, [2]string{k, v})
	}
	return out
}

// sign signs a statement of fields.
func (h *hostilePeer) sign(t *testing.T, fields [][2]string) string {
	t.Helper()
	text := "liaison.receipt/v1\n"
	for _, f := range fields {
		text += f[0] + " " + f[1] + "\n"
	}
	b, err := note.Sign(&note.Note{Text: text}, h.signer)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// forge returns rc as the peer would make it for an entry changed by
// change, for the same recipient, of the released record the statement
// names, or of a changed one (released: its digest line): in a log of its
// own making, signed with the peer's key, that holds the real log's first
// entries up to the receipt's tree and the changed entry after them. So
// the forged log extends every checkpoint the caller saw before (a fork
// it sees only later), and the receipt proves that to the size the call
// named (PeerForward.known_tree_size).
func (h *hostilePeer) forge(t *testing.T, rc *liaisonv1.PeerReceipt, change func(*audit.Entry), released string) *liaisonv1.PeerReceipt {
	t.Helper()
	e, err := audit.Unmarshal([]byte(rc.GetEntry()))
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(e)
	}
	leaf, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	leaves := h.realLeaves(t, rc)
	return h.forgeLog(t, rc, append(leaves, leaf), int64(len(leaves)), released)
}

// realLeaves returns the leaves of the real log in the tree of rc's
// checkpoint.
func (h *hostilePeer) realLeaves(t *testing.T, rc *liaisonv1.PeerReceipt) [][]byte {
	t.Helper()
	cp, err := audit.OpenCheckpoint([]byte(rc.GetCheckpoint()), h.verifier)
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := h.real.gw.Audit.Leaves(t.Context(), 0, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	return leaves
}

// forgeLog returns rc as the peer would make it for the entry at index of
// a log of the given leaves, with a checkpoint of that log signed with
// the peer's key, and the consistency proof of that log to the size the
// call named, where it holds that size.
func (h *hostilePeer) forgeLog(t *testing.T, rc *liaisonv1.PeerReceipt, leaves [][]byte, index int64, released string) *liaisonv1.PeerReceipt {
	t.Helper()
	hashes := map[int64]tlog.Hash{}
	var n int64
	for _, l := range leaves {
		hs, err := tlog.StoredHashes(n, l, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(idx))
			for i, x := range idx {
				out[i] = hashes[x]
			}
			return out, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		for i, hh := range hs {
			hashes[tlog.StoredHashIndex(0, n)+int64(i)] = hh
		}
		n++
	}
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			hh, ok := hashes[x]
			if !ok {
				return nil, fmt.Errorf("no hash %d", x)
			}
			out[i] = hh
		}
		return out, nil
	})
	root, err := tlog.TreeHash(n, hr)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := tlog.ProveRecord(n, index, hr)
	if err != nil {
		t.Fatal(err)
	}
	cp := audit.Checkpoint{Origin: h.origin, Size: n, Hash: root}
	signed, err := note.Sign(&note.Note{Text: cp.String()}, h.signer)
	if err != nil {
		t.Fatal(err)
	}
	lh := tlog.RecordHash(leaves[index])
	fields := h.statement(t, rc)
	for i, f := range fields {
		switch f[0] {
		case "index":
			fields[i][1] = strconv.FormatInt(index, 10)
		case "leaf":
			fields[i][1] = base64.StdEncoding.EncodeToString(lh[:])
		case "tree":
			fields[i][1] = fmt.Sprintf("%d %s", n, base64.StdEncoding.EncodeToString(root[:]))
		case "released":
			if released != "" {
				fields[i][1] = released
			}
		}
	}
	out := &liaisonv1.PeerReceipt{Statement: h.sign(t, fields), Checkpoint: string(signed), Index: index, Entry: string(leaves[index])}
	for _, p := range proof {
		out.InclusionProof = append(out.InclusionProof, p[:])
	}
	h.mu.Lock()
	known := h.known
	h.mu.Unlock()
	if known > 0 && known != n && known <= n {
		tp, err := tlog.ProveTree(n, known, hr)
		if err != nil {
			t.Fatal(err)
		}
		out.ConsistencySize = known
		for _, p := range tp {
			out.ConsistencyProof = append(out.ConsistencyProof, p[:])
		}
	}
	return out
}

// releasedDigest is the digest a receipt's statement names for rel (as
// gateway.VerifyReceipt computes it), base64.
func releasedDigest(t *testing.T, rel *liaisonv1.Released) string {
	t.Helper()
	c := proto.CloneOf(rel)
	c.AuditIndex, c.Provenance = 0, nil
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestPeerReleaseOfAnotherHolder: the Danish gateway, asked for the
// Danish prison's risk assessment, answers with a release, and a receipt
// that verifies, that is not the prison's: the record released in the
// name of another agency (one of the Dutch gateway's own), or an entry
// of the Danish log that records a release by another Danish agency, or
// not a request at all. The Dutch gateway delivers none of them: its
// final entry says failed, PEER_RETURNED_WRONG_RECORD, and the officer
// gets nothing.
func TestPeerReleaseOfAnotherHolder(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "DK"})
	h := f.hostile
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, r *liaisonv1.RequestResponse)
	}{
		{"ReleasedInTheNameOfAnotherAgency", func(t *testing.T, r *liaisonv1.RequestResponse) {
			r.Released.Holder = "nl-prison-dji"
			fields := h.statement(t, r.Receipt)
			for i := range fields {
				if fields[i][0] == "released" {
					fields[i][1] = releasedDigest(t, r.Released)
				}
			}
			r.Receipt.Statement = h.sign(t, fields)
		}},
		{"EntryOfAnotherHolder", func(t *testing.T, r *liaisonv1.RequestResponse) {
			r.Receipt = h.forge(t, r.Receipt, func(e *audit.Entry) { e.Holder.Agency = "dk-police-aarhus" }, "")
		}},
		{"EntryOfAnotherAction", func(t *testing.T, r *liaisonv1.RequestResponse) {
			r.Receipt = h.forge(t, r.Receipt, func(e *audit.Entry) { e.Action = "disclose" }, "")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			officer := "insp." + strings.ToLower(tc.name)
			h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
				if r, ok := resp.(*liaisonv1.RequestResponse); ok && method == "Request" {
					tc.change(t, r)
				}
				return resp, err
			})
			defer h.setAnswer(nil)
			resp, err := f.nl.client(t, "nl-probation", officer).Request(t.Context(), riskAssessmentRequest)
			if err == nil {
				t.Fatalf("Request = %v held by %s; want no record", resp.GetReleased().GetOutcome(), resp.GetReleased().GetHolder())
			}
			if errorReason(err) != "PEER_RETURNED_WRONG_RECORD" {
				t.Errorf("Request: %v; want reason PEER_RETURNED_WRONG_RECORD", err)
			}
			nl := f.nl.entries(t, officer)
			if len(nl) != 1 || nl[0].Outcome != audit.OutcomeFailed || !slices.Contains(nl[0].Reasons, "PEER_RETURNED_WRONG_RECORD") {
				t.Errorf("Dutch entries %v; want one, failed PEER_RETURNED_WRONG_RECORD", outcomes(nl))
			}
		})
	}
}

// TestPeerRevisionAnswerLost: the Danish prison moves the end of its
// release to the Dutch probation service; the Dutch gateway moves its
// expiry, but its answer is lost on the way back, so the Danish revision
// fails (PEER_UNAVAILABLE). Made again, the Dutch gateway finds its
// expiry already at that date: the Danish gateway records the date moved
// (the Dutch gateway holds it), so that when the date moves back, it
// forwards that too and both gateways end on the same day. And a Dutch
// answer that records another day than the one forwarded moves nothing
// here (PEER_RECEIPT_INVALID); the next revision is forwarded even if the
// date did not move here, so the Dutch gateway holds it again.
func TestPeerRevisionAnswerLost(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h := f.hostile
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push)
	if err != nil {
		t.Fatal(err)
	}
	pushed := f.nl.inbox(t, "nl-probation")[0].GetReleased().GetAuditIndex()
	end := resp.GetResults()[0].GetLegalBasis().GetValidUntil()
	tracked := func() string { return f.nl.trackedUntil(t, pushed) }
	dk := f.dk.aftercare(t, "dk-prison-east", "kf.revise")
	revise := func(release string) *liaisonv1.RevisedExpiry {
		t.Helper()
		attrs := proto.CloneOf(push.GetSubject())
		attrs.ReleaseDate = release
		rv, err := dk.ReviseExpiry(t.Context(), &liaisonv1.ReviseExpiryRequest{SubjectId: "SYN-DK-0001", Subject: attrs,
			Justification: "The release date moved."})
		if err != nil || len(rv.GetReleases()) != 1 {
			t.Fatalf("ReviseExpiry to release on %s: %v, %v", release, rv, err)
		}
		return rv.GetReleases()[0]
	}

	// A Dutch answer that records another day moves nothing.
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if r, ok := resp.(*liaisonv1.ReviseExpiryResponse); ok && method == "ReviseExpiry" && len(r.GetReleases()) == 1 {
			r.Releases[0].Receipt = h.forge(t, r.Releases[0].Receipt, func(e *audit.Entry) { e.Detail[audit.DetailValidUntil] = "2030-01-01" }, "")
		}
		return resp, err
	})
	release := push.GetSubject().GetReleaseDate()
	if r := revise(daysAfter(t, release, 14)); r.GetMoved() || !slices.Contains(r.GetReasons(), "PEER_RECEIPT_INVALID") {
		t.Errorf("a Dutch answer recording another day: %v; want not moved, PEER_RECEIPT_INVALID", r)
	}
	// The real Dutch gateway did move it. Back to the first date, which
	// the Danish log still holds: unchanged here, yet forwarded, since
	// the last answer did not hold, and the Dutch gateway moves back.
	h.setAnswer(nil)
	if want := daysAfter(t, release, 14+365); tracked() != want {
		t.Fatalf("the Dutch gateway at %s; want %s", tracked(), want)
	}
	if r := revise(push.GetSubject().GetReleaseDate()); r.GetMoved() || r.GetValidUntil() != end || tracked() != end {
		t.Fatalf("revision back to %s: %v, the Dutch gateway at %s; want unchanged here, moved back there", end, r, tracked())
	}

	// The answer lost: the Dutch gateway moved, the Danish one failed.
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if method == "ReviseExpiry" && err == nil {
			return nil, status.Error(codes.Unavailable, "connection reset")
		}
		return resp, err
	})
	week, weekEnd := daysAfter(t, release, 7), daysAfter(t, release, 7+365)
	if r := revise(week); r.GetMoved() || !slices.Contains(r.GetReasons(), "PEER_UNAVAILABLE") || tracked() != weekEnd {
		t.Fatalf("revision whose answer was lost: %v, the Dutch gateway at %s; want not moved here (PEER_UNAVAILABLE), moved there", r, tracked())
	}
	h.setAnswer(nil)
	// Made again: the Dutch gateway holds that date; so does the Danish one now.
	if r := revise(week); !r.GetMoved() || r.GetValidUntil() != weekEnd || r.GetValidUntilBefore() != end {
		t.Errorf("the revision made again: %v; want moved from %s to %s (the Dutch gateway holds it)", r, end, weekEnd)
	}
	// And back: forwarded, and moved there too.
	if r := revise(push.GetSubject().GetReleaseDate()); !r.GetMoved() || r.GetValidUntil() != end || tracked() != end {
		t.Errorf("revision back to %s: %v, the Dutch gateway at %s; want both at %s", end, r, tracked(), end)
	}
}

// TestPeerRevisionReasonsAreChecked: the Dutch gateway answers a
// forwarded expiry revision with a receipt that verifies, of an entry
// that says it moved nothing, for reasons that are not reason codes (one
// names the person). The Danish gateway takes no such reasons into its
// log or its answer: the revision fails PEER_RECEIPT_INVALID, as an
// answer of another exchange does, and neither the result nor any Danish
// entry holds the peer's words.
func TestPeerRevisionReasonsAreChecked(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	h := f.hostile
	push := releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION)
	if _, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), push); err != nil {
		t.Fatal(err)
	}
	const words = "SYN-DK-0001 moved to Vesterbrogade 12"
	h.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if r, ok := resp.(*liaisonv1.ReviseExpiryResponse); ok && method == "ReviseExpiry" && len(r.GetReleases()) == 1 {
			r.Releases[0].Receipt = h.forge(t, r.Releases[0].Receipt, func(e *audit.Entry) {
				e.Detail[audit.DetailMoved], e.Detail[audit.DetailValidUntil] = "false", e.Detail[audit.DetailValidBefore]
				e.Reasons = []string{"RELEASE_CLOSED", words}
			}, "")
		}
		return resp, err
	})
	defer h.setAnswer(nil)
	attrs := proto.CloneOf(push.GetSubject())
	attrs.ReleaseDate = daysAfter(t, attrs.GetReleaseDate(), 14)
	rv, err := f.dk.aftercare(t, "dk-prison-east", "kf.revise").ReviseExpiry(t.Context(), &liaisonv1.ReviseExpiryRequest{SubjectId: "SYN-DK-0001",
		Subject: attrs, Justification: "The release date moved."})
	if err != nil || len(rv.GetReleases()) != 1 {
		t.Fatalf("ReviseExpiry: %v, %v", rv, err)
	}
	r := rv.GetReleases()[0]
	if r.GetMoved() || !slices.Contains(r.GetReasons(), "PEER_RECEIPT_INVALID") || slices.Contains(r.GetReasons(), words) {
		t.Errorf("revision answered with malformed reasons: %v; want not moved, PEER_RECEIPT_INVALID, without the peer's words", r)
	}
	for _, e := range f.dk.all(t, audit.ActionReviseExpiry, "kf.revise") {
		if slices.Contains(e.Reasons, words) {
			t.Errorf("a Danish %s entry holds the peer's words in its reasons: %q", e.Outcome, e.Reasons)
		}
	}
}

// denyList writes a deny list at path naming the certificate in pemFile,
// and returns path.
func denyList(t *testing.T, path, pemFile string) string {
	t.Helper()
	b, err := os.ReadFile(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no certificate", pemFile)
	}
	sum := sha256.Sum256(blk.Bytes)
	if err := os.WriteFile(path, []byte("sha256:"+hex.EncodeToString(sum[:])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRevokedPeerIsNotCalled: the Dutch gateway's deny list names the
// Danish gateway's certificate. It refuses the Danish gateway's calls,
// and it does not call it either: a Dutch officer's request for a Danish
// record fails PEER_UNAVAILABLE with the pending entry alone, and the
// Danish gateway never sees the subject's identifier (no Danish entry).
func TestRevokedPeerIsNotCalled(t *testing.T) {
	f := startFederationWith(t, fedConfig{revokedAt: "NL"})
	_, err := f.nl.client(t, "nl-probation", "insp.revoked").Request(t.Context(), riskAssessmentRequest)
	if status.Code(err) != codes.Unavailable || errorReason(err) != "PEER_UNAVAILABLE" {
		t.Fatalf("Request of a holder behind a revoked peer: %v; want Unavailable, PEER_UNAVAILABLE", err)
	}
	if dk := f.dk.all(t, "request", "insp.revoked"); len(dk) != 0 {
		t.Errorf("the Danish gateway logged %v: it was called through a revoked certificate", outcomes(dk))
	}
	if nl := f.nl.all(t, "request", "insp.revoked"); len(nl) != 2 || nl[1].Outcome != audit.OutcomeFailed {
		t.Errorf("Dutch entries %v; want pending, failed", outcomes(nl))
	}
}

// TestPeerRevokedLaterIsNotCalled: the Dutch gateway has asked the
// Danish gateway before, so it holds a connection to it; then the Dutch
// deny list names the Danish gateway's certificate. Once the Dutch
// gateway has reloaded it (it refuses the Danish gateway's calls), it
// does not call the Danish gateway either, over the connection it holds:
// a Dutch officer's request fails PEER_UNAVAILABLE with the pending entry
// alone, and the Danish gateway never sees it (no Danish entry).
func TestPeerRevokedLaterIsNotCalled(t *testing.T) {
	f := startFederationWith(t, fedConfig{denyListAt: "NL"})
	if _, err := f.nl.client(t, "nl-probation", "insp.before").Request(t.Context(), riskAssessmentRequest); err != nil {
		t.Fatalf("Request before the revocation: %v", err)
	}
	denyList(t, f.nl.opts.DenyList, f.dk.Path("gateway.pem"))
	probe := proto.CloneOf(riskAssessmentRequest)
	probe.Holder, probe.SubjectId = "nl-probation", "SYN-NL-0001"
	until(t, "the Dutch gateway refuses the Danish gateway", func() bool {
		_, err := f.dk.client(t, "dk-police-aarhus", "probe").Request(t.Context(), probe)
		return errorReason(err) == "PEER_REFUSED"
	})
	_, err := f.nl.client(t, "nl-probation", "insp.revoked").Request(t.Context(), riskAssessmentRequest)
	if status.Code(err) != codes.Unavailable || errorReason(err) != "PEER_UNAVAILABLE" {
		t.Errorf("Request of a holder behind a peer revoked since: %v; want Unavailable, PEER_UNAVAILABLE", err)
	}
	if dk := f.dk.all(t, "request", "insp.revoked"); len(dk) != 0 {
		t.Errorf("the Danish gateway logged %v: it was called through a revoked certificate", outcomes(dk))
	}
	if nl := f.nl.all(t, "request", "insp.revoked"); len(nl) != 2 || nl[1].Outcome != audit.OutcomeFailed {
		t.Errorf("Dutch entries %v; want pending, failed", outcomes(nl))
	}
}

// TestPeerNotFoundOnAForwardedPush: the Dutch gateway answers a forwarded
// push NotFound. The Danish entry says what happened, that the peer
// refused the call (PEER_REFUSED, peer_code NotFound), not not_found, which
// says the holder had no such record: the Danish prison has it, and sent it.
func TestPeerNotFoundOnAForwardedPush(t *testing.T) {
	f := startFederationWith(t, fedConfig{hostile: "NL"})
	f.hostile.setAnswer(func(method string, resp proto.Message, err error) (proto.Message, error) {
		if method == "Disclose" {
			return nil, status.Error(codes.NotFound, "no such thing")
		}
		return resp, err
	})
	defer f.hostile.setAnswer(nil)
	resp, err := f.dk.client(t, "dk-prison-east", "kf.release").Disclose(t.Context(), releaseNotice(t, liaisonv1.Purpose_PURPOSE_RESOCIALISATION))
	if status.Code(err) == codes.NotFound {
		t.Errorf("Disclose = %v; the prison holds the record, want no NotFound", err)
	}
	es := f.dk.all(t, "disclose", "kf.release")
	if len(es) == 0 {
		t.Fatalf("no Danish disclose entry (answer %v, %v)", resp, err)
	}
	e := es[len(es)-1]
	if e.Outcome == audit.OutcomeNotFound || !slices.Contains(e.Reasons, "PEER_REFUSED") || e.Detail["peer_code"] != "NotFound" {
		t.Errorf("Danish entry %s %v %v; want PEER_REFUSED with peer_code NotFound", e.Outcome, e.Reasons, e.Detail)
	}
}

// trackedUntil is the last day c's aftercare tracks for the release at
// audit index idx, once it has caught up with c's log.
func (c *country) trackedUntil(t *testing.T, idx int64) string {
	t.Helper()
	st := c.gw.store.(audit.AftercareStore)
	if err := audit.SyncAftercare(t.Context(), c.gw.Audit, st); err != nil {
		t.Fatal(err)
	}
	r, _, err := st.TrackedRelease(t.Context(), idx)
	if err != nil {
		t.Fatal(err)
	}
	return r.ValidUntil
}
