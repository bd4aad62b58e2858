package console_test

import (
	"context"
	"crypto/tls"
	"html"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/liaison-gateway/liaison/console"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// A spoilingAudit stands in front of the gateway's Audit service, over
// gRPC and TLS with the gateway's certificate, as a buggy gateway would:
// it passes each call the console makes to verify the log on to the real
// gateway, and lets spoil change the consistency proof it answers.
type spoilingAudit struct {
	liaisonv1.UnimplementedAuditServer
	real liaisonv1.AuditClient

	mu    sync.Mutex
	spoil func(*liaisonv1.ProveConsistencyResponse)
	// spoilIncl, if set, changes the inclusion proofs it answers.
	spoilIncl func(*liaisonv1.ProveInclusionResponse)
}

func (p *spoilingAudit) GetCheckpoint(ctx context.Context, req *liaisonv1.GetCheckpointRequest) (*liaisonv1.GetCheckpointResponse, error) {
	return p.real.GetCheckpoint(ctx, req)
}

func (p *spoilingAudit) ProveInclusion(ctx context.Context, req *liaisonv1.ProveInclusionRequest) (*liaisonv1.ProveInclusionResponse, error) {
	resp, err := p.real.ProveInclusion(ctx, req)
	p.mu.Lock()
	defer p.mu.Unlock()
	return spoiled(resp, err, p.spoilIncl)
}

// Query passes on: the entry page reads an entry whose proof is malformed
// from the log's query.
func (p *spoilingAudit) Query(ctx context.Context, req *liaisonv1.QueryRequest) (*liaisonv1.QueryResponse, error) {
	return p.real.Query(ctx, req)
}

// spoiled is resp changed by spoil, if there is one and the call succeeded.
func spoiled[R any](resp R, err error, spoil func(R)) (R, error) {
	if err == nil && spoil != nil {
		spoil(resp)
	}
	return resp, err
}

func (p *spoilingAudit) setSpoilIncl(f func(*liaisonv1.ProveInclusionResponse)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spoilIncl = f
}

func (p *spoilingAudit) ProveConsistency(ctx context.Context, req *liaisonv1.ProveConsistencyRequest) (*liaisonv1.ProveConsistencyResponse, error) {
	resp, err := p.real.ProveConsistency(ctx, req)
	p.mu.Lock()
	defer p.mu.Unlock()
	return spoiled(resp, err, p.spoil)
}

func (p *spoilingAudit) setSpoil(f func(*liaisonv1.ProveConsistencyResponse)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spoil = f
}

// startSpoilingAudit starts a spoilingAudit in front of f's gateway for
// officer o, and returns it with an Audit client of it for the console.
func startSpoilingAudit(t *testing.T, f *fixture, o officer) (*spoilingAudit, liaisonv1.AuditClient) {
	t.Helper()
	p := &spoilingAudit{real: liaisonv1.NewAuditClient(f.connWith(t, o, f.token(t, o)))}
	gwLeaf, err := tls.LoadX509KeyPair(f.pki.Path("gateway.pem"), f.pki.Path("gateway.key"))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{gwLeaf},
		ClientCAs: f.pki.CA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert})))
	liaisonv1.RegisterAuditServer(gs, p)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	cert, err := tls.LoadX509KeyPair(f.pki.Path("agencies", o.agency+".pem"), f.pki.Path("agencies", o.agency+".key"))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: f.pki.CA.Pool()})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return p, liaisonv1.NewAuditClient(cc)
}

// TestConsoleMalformedProofIsNoFork: a gateway that answers the
// consistency proof the console asks for with a malformed one (a hash cut
// short or one byte longer, a hash missing or one more, a proof to
// another size than asked for) is said to have given a malformed answer,
// the log not checked: not that the log is NOT consistent, forked or
// rewritten, and no failed check is noted in the history. The trusted
// checkpoint is kept, and the next well-formed proof verifies against it.
// Before, the console took new_size on trust and cut or padded each hash
// to 32 bytes, and said the log was forked or rewritten.
func TestConsoleMalformedProofIsNoFork(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	p, ac := startSpoilingAudit(t, f, dkAuditor)
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.Audit = ac })
	f.waitCheckpoint(t, c.ac)
	hc := c.client(t)
	if _, page := get(t, hc, c.url+"/"); !strings.Contains(page, "trusted from now on") {
		t.Fatalf("the first overview does not trust the log on first use:\n%s", page)
	}
	trusted, err := os.ReadFile(c.state)
	if err != nil {
		t.Fatal(err)
	}
	f.traffic(t)
	f.waitCheckpoint(t, c.ac)

	for _, tc := range []struct {
		name  string
		spoil func(*liaisonv1.ProveConsistencyResponse)
		want  string
	}{
		{"HashCutShort", func(r *liaisonv1.ProveConsistencyResponse) { r.Proof[0] = r.Proof[0][:31] }, "is 31 bytes, not 32"},
		{"HashTooLong", func(r *liaisonv1.ProveConsistencyResponse) { r.Proof[0] = append(r.Proof[0], 0) }, "is 33 bytes, not 32"},
		{"HashMissing", func(r *liaisonv1.ProveConsistencyResponse) { r.Proof = r.Proof[:len(r.Proof)-1] }, "hashes, not"},
		{"HashMore", func(r *liaisonv1.ProveConsistencyResponse) { r.Proof = append(slices.Clone(r.Proof), r.Proof[0]) }, "hashes, not"},
		{"AnotherSize", func(r *liaisonv1.ProveConsistencyResponse) { r.NewSize++ }, "is to size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.setSpoil(tc.spoil)
			defer p.setSpoil(nil)
			_, page := get(t, hc, c.url+"/")
			if !strings.Contains(page, "The log could not be checked") || !strings.Contains(page, "malformed") || !strings.Contains(page, tc.want) {
				t.Errorf("the overview does not say the gateway's proof is malformed (%q):\n%s", tc.want, page)
			}
			for _, bad := range []string{"NOT consistent", "forked or rewritten", "Failed checks"} {
				if strings.Contains(page, bad) {
					t.Errorf("the overview of a malformed proof says %q:\n%s", bad, page)
				}
			}
		})
	}
	if got, _ := os.ReadFile(c.state); string(got) != string(trusted) {
		t.Errorf("the trusted checkpoint was replaced on a malformed proof")
	}
	if h, err := os.ReadFile(c.state + ".history"); err == nil && strings.Contains(string(h), "failure") {
		t.Errorf("the history notes a malformed proof as a failed check of the log:\n%s", h)
	}
	if _, page := get(t, hc, c.url+"/"); !strings.Contains(page, "every check since then found it consistent") {
		t.Errorf("the overview with a well-formed proof again:\n%s", page)
	}
}

// TestConsoleMalformedInclusionProof: a gateway that answers an inclusion
// proof with a malformed one (a hash cut short or one byte longer, a hash
// missing or one more, a proof in another tree size than asked for) is
// said, on the entry's page and on the overview (which proves a sample),
// to have given a malformed answer, the entry not checked: not that the
// proof does not verify or that a stored entry was changed, and no failed
// check is noted in the history. So is one that answers for another entry
// (entry.index), with a leaf_hash that is not its entry's, or with none;
// an answer of entry 3 when asked for entry 2 is not shown as entry 2.
// Before, the console cut or padded each hash to 32 bytes and took
// tree_size on trust, and said the proof did not verify, noting a failed
// check; it never compared entry.index and leaf_hash with what it asked,
// and showed entry 3's JSON on entry 2's page.
func TestConsoleMalformedInclusionProof(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	p, ac := startSpoilingAudit(t, f, dkAuditor)
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.Audit = ac })
	f.waitCheckpoint(t, c.ac)
	hc := c.client(t)
	if _, page := get(t, hc, c.url+"/entry/2"); !strings.Contains(page, "Verified") {
		t.Fatalf("entry 2 of an honest gateway is not verified:\n%s", page)
	}
	for _, tc := range []struct {
		name  string
		spoil func(*liaisonv1.ProveInclusionResponse)
		want  string
	}{
		{"HashCutShort", func(r *liaisonv1.ProveInclusionResponse) { r.Proof[0] = r.Proof[0][:31] }, "is 31 bytes, not 32"},
		{"HashTooLong", func(r *liaisonv1.ProveInclusionResponse) { r.Proof[0] = append(r.Proof[0], 0) }, "is 33 bytes, not 32"},
		{"HashMissing", func(r *liaisonv1.ProveInclusionResponse) { r.Proof = r.Proof[:len(r.Proof)-1] }, "hashes, not"},
		{"HashMore", func(r *liaisonv1.ProveInclusionResponse) { r.Proof = append(slices.Clone(r.Proof), r.Proof[0]) }, "hashes, not"},
		{"AnotherSize", func(r *liaisonv1.ProveInclusionResponse) { r.TreeSize++ }, "in a tree of size"},
		{"AnotherEntry", func(r *liaisonv1.ProveInclusionResponse) { r.Entry.Index++ }, "the answer gives entry"},
		{"LeafHashNotTheEntrys", func(r *liaisonv1.ProveInclusionResponse) { r.LeafHash = slices.Clone(r.LeafHash); r.LeafHash[0] ^= 1 }, "is not the hash of the entry"},
		{"NoLeafHash", func(r *liaisonv1.ProveInclusionResponse) { r.LeafHash = nil }, "is not the hash of the entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.setSpoilIncl(tc.spoil)
			defer p.setSpoilIncl(nil)
			for _, u := range []string{"/entry/2", "/"} {
				_, page := get(t, hc, c.url+u)
				if !strings.Contains(page, "malformed") || !strings.Contains(page, tc.want) {
					t.Errorf("%s does not say the gateway's proof is malformed (%q):\n%s", u, tc.want, page)
				}
				for _, bad := range []string{"does not verify", "NOT consistent", "was changed.", "Failed checks"} {
					if strings.Contains(page, bad) {
						t.Errorf("%s with a malformed proof says %q:\n%s", u, bad, page)
					}
				}
			}
		})
	}
	// A gateway that answers for entry 3 when asked for entry 2 (its
	// index, entry and leaf hash, and its proof): a malformed answer, and
	// the page shows entry 2 as the log's query serves it, not entry 3 as
	// if it were entry 2.
	two, err := p.real.ProveInclusion(t.Context(), &liaisonv1.ProveInclusionRequest{Index: 2})
	if err != nil {
		t.Fatal(err)
	}
	three, err := p.real.ProveInclusion(t.Context(), &liaisonv1.ProveInclusionRequest{Index: 3, TreeSize: two.GetTreeSize()})
	if err != nil {
		t.Fatal(err)
	}
	p.setSpoilIncl(func(r *liaisonv1.ProveInclusionResponse) {
		if r.GetEntry().GetIndex() == 2 {
			r.Entry, r.LeafHash, r.Proof = three.GetEntry(), three.GetLeafHash(), three.GetProof()
		}
	})
	_, page := get(t, hc, c.url+"/entry/2")
	p.setSpoilIncl(nil)
	page = html.UnescapeString(page)
	if !strings.Contains(page, "malformed") || !strings.Contains(page, "the answer gives entry 3, not 2") {
		t.Errorf("entry 2 answered with entry 3 does not say the gateway's answer is malformed:\n%s", page)
	}
	if lh := tlog.Hash(three.GetLeafHash()).String(); strings.Contains(page, lh) {
		t.Errorf("entry 2's page shows entry 3 (leaf hash %s) as entry 2:\n%s", lh, page)
	}
	if lh := tlog.Hash(two.GetLeafHash()).String(); !strings.Contains(page, lh) {
		t.Errorf("entry 2's page does not show entry 2 (leaf hash %s):\n%s", lh, page)
	}
	if h, err := os.ReadFile(c.state + ".history"); err == nil && strings.Contains(string(h), "failure") {
		t.Errorf("the history notes a malformed proof as a failed check of the log:\n%s", h)
	}
	if _, page := get(t, hc, c.url+"/entry/2"); !strings.Contains(page, "Verified") {
		t.Errorf("entry 2 with a well-formed proof again is not verified:\n%s", page)
	}
}
