package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// A spoilingAudit stands in front of a gateway's Audit service, over
// gRPC and mutual TLS with the gateway's certificate, as a buggy gateway
// would: it passes each call `audit verify` makes on to the real gateway,
// with the caller's token, and lets spoil change the consistency proof it
// answers.
type spoilingAudit struct {
	liaisonv1.UnimplementedAuditServer
	real liaisonv1.AuditClient

	mu    sync.Mutex
	spoil func(*liaisonv1.ProveConsistencyResponse)
	// spoilIncl, if set, changes the inclusion proofs it answers.
	spoilIncl func(*liaisonv1.ProveInclusionResponse)
	// refuse, if set, is the error it answers consistency proofs with.
	refuse error
}

// onward passes the caller's token on.
func onward(ctx context.Context) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	return metadata.NewOutgoingContext(ctx, metadata.Pairs("authorization", strings.Join(md.Get("authorization"), "")))
}

func (p *spoilingAudit) GetCheckpoint(ctx context.Context, req *liaisonv1.GetCheckpointRequest) (*liaisonv1.GetCheckpointResponse, error) {
	return p.real.GetCheckpoint(onward(ctx), req)
}

func (p *spoilingAudit) ProveInclusion(ctx context.Context, req *liaisonv1.ProveInclusionRequest) (*liaisonv1.ProveInclusionResponse, error) {
	resp, err := p.real.ProveInclusion(onward(ctx), req)
	p.mu.Lock()
	defer p.mu.Unlock()
	return spoiled(resp, err, p.spoilIncl)
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
	resp, err := p.real.ProveConsistency(onward(ctx), req)
	p.mu.Lock()
	spoil, refuse := p.spoil, p.refuse
	p.mu.Unlock()
	if refuse != nil {
		return nil, refuse
	}
	return spoiled(resp, err, spoil)
}

func (p *spoilingAudit) setRefuse(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = err
}

func (p *spoilingAudit) setSpoil(f func(*liaisonv1.ProveConsistencyResponse)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spoil = f
}

// startSpoilingAudit starts a spoilingAudit in front of the stack's
// gateway and returns it with its address.
func startSpoilingAudit(t *testing.T, s *auditStack) (*spoilingAudit, string) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(s.d.pki.Path("agencies", "dk-prison-east.pem"), s.d.pki.Path("agencies", "dk-prison-east.key"))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient(s.d.gw.Addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: s.d.pki.CA.Pool()})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	tc, err := mtlsServerConfig(s.d.pki.Path("gateway.pem"), s.d.pki.Path("gateway.key"), s.d.pki.Path("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(tc)))
	p := &spoilingAudit{real: liaisonv1.NewAuditClient(cc)}
	liaisonv1.RegisterAuditServer(gs, p)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return p, lis.Addr().String()
}

// TestAuditVerifyMalformedProof: a gateway that answers the consistency
// proof `audit verify` asks for with a malformed one (a hash cut short or
// one byte longer, a hash missing or one more, a proof to another size
// than asked for) is reported as a malformed answer naming what is wrong,
// not as a FAILED verification of a log forked or rewritten; the trusted
// checkpoint is kept, and the next well-formed proof verifies against
// it. Before, the command took new_size on trust and cut or padded each
// hash to 32 bytes: the malformed proofs were reported FAILED, "log forked
// or rewritten", and a hash one byte longer or a proof to another size was
// taken as it came.
func TestAuditVerifyMalformedProof(t *testing.T) {
	s := startAuditStack(t, "")
	p, addr := startSpoilingAudit(t, s)
	state := filepath.Join(s.dir, "trusted")
	verify := func() (string, error) {
		var out bytes.Buffer
		err := run(context.WithoutCancel(t.Context()), []string{"audit", "verify", "-gateway", addr,
			"-cert", s.d.pki.Path("agencies", "dk-prison-east.pem"), "-key", s.d.pki.Path("agencies", "dk-prison-east.key"),
			"-ca", s.d.pki.Path("ca.pem"), "-token", s.tok, "-verifier-key", s.d.gw.VerifierKey, "-state", state}, &out, &out)
		return out.String(), err
	}
	s.traffic(t)
	if out, err := verify(); err != nil {
		t.Fatalf("the first verify: %v\n%s", err, out)
	}
	trusted, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	s.traffic(t)
	// The gateway signs a checkpoint of the new entries within a second.
	n, err := s.d.gw.Audit.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if size, _, err := s.d.gw.Audit.Checkpoint(t.Context()); err == nil && size >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of %d entries", n)
		}
	}
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
			out, err := verify()
			if err == nil {
				t.Fatalf("verify with a malformed proof succeeded:\n%s", out)
			}
			if !strings.Contains(err.Error(), "malformed") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("verify = %v; want a malformed answer of the gateway naming %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "FAILED") || strings.Contains(err.Error(), "forked or rewritten") {
				t.Errorf("verify = %v; want no FAILED verification, no fork", err)
			}
			if got, _ := os.ReadFile(state); !bytes.Equal(got, trusted) {
				t.Errorf("the trusted checkpoint was replaced on a malformed proof")
			}
		})
	}
	// A gateway that gives no proof because it could not be reached or
	// let the auditor in has not shown anything about its log: the log
	// was not checked, and nothing FAILED. One that refuses to prove a
	// checkpoint it signed (any other status) failed the verification.
	for _, tc := range []struct {
		refuse error
		failed bool
	}{
		{status.Error(codes.Unavailable, "draining"), false},
		{status.Error(codes.DeadlineExceeded, "slow"), false},
		{status.Error(codes.PermissionDenied, "not an auditor"), false},
		{status.Error(codes.Internal, "hashes missing"), true},
		{status.Error(codes.OutOfRange, "beyond the tree"), true},
	} {
		t.Run(status.Code(tc.refuse).String(), func(t *testing.T) {
			p.setRefuse(tc.refuse)
			defer p.setRefuse(nil)
			out, err := verify()
			if err == nil {
				t.Fatalf("verify without a proof succeeded:\n%s", out)
			}
			if failed := strings.Contains(err.Error(), "FAILED"); failed != tc.failed {
				t.Errorf("verify = %v; want FAILED %v", err, tc.failed)
			}
			if got, _ := os.ReadFile(state); !bytes.Equal(got, trusted) {
				t.Errorf("the trusted checkpoint was replaced without a proof")
			}
		})
	}
	if out, err := verify(); err != nil || !strings.Contains(out, "consistent with the checkpoint trusted before") {
		t.Errorf("verify with a well-formed proof again: %v\n%s", err, out)
	}
}

// inclusionSpoils are malformed inclusion proofs, each with what the
// command or the console must say of it.
var inclusionSpoils = []struct {
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
}

// TestAuditMalformedInclusionProof: a gateway that answers an inclusion
// proof with a malformed one (a hash cut short or one byte longer, a hash
// missing or one more, a proof in another tree size than asked for, an
// answer for another entry than asked for, a leaf_hash that is not the
// hash of the entry given, or none) is reported, by `audit verify -entry`
// and by `audit prove`, as a malformed answer naming what is wrong, not as
// a FAILED check of an entry that does not match the checkpoint. Before,
// both cut or padded each hash to 32 bytes and took tree_size on trust:
// the malformed proofs were reported FAILED, "entry does not match the
// checkpoint" (a stored entry changed), and a hash one byte longer or
// another tree size was taken as it came; entry.index and leaf_hash were
// never compared with what was asked (audit.ReadInclusion now does).
func TestAuditMalformedInclusionProof(t *testing.T) {
	s := startAuditStack(t, "")
	p, addr := startSpoilingAudit(t, s)
	s.traffic(t)
	audit := func(cmd string, extra ...string) (string, error) {
		args := []string{"audit", cmd, "-gateway", addr,
			"-cert", s.d.pki.Path("agencies", "dk-prison-east.pem"), "-key", s.d.pki.Path("agencies", "dk-prison-east.key"),
			"-ca", s.d.pki.Path("ca.pem"), "-token", s.tok, "-verifier-key", s.d.gw.VerifierKey}
		if cmd == "verify" {
			args = append(args, "-state", filepath.Join(s.dir, "trusted"))
		}
		var out bytes.Buffer
		err := run(context.WithoutCancel(t.Context()), append(args, extra...), &out, &out)
		return out.String(), err
	}
	if out, err := audit("verify", "-entry", "2"); err != nil {
		t.Fatalf("verify -entry 2: %v\n%s", err, out)
	}
	for _, tc := range inclusionSpoils {
		t.Run(tc.name, func(t *testing.T) {
			p.setSpoilIncl(tc.spoil)
			defer p.setSpoilIncl(nil)
			for _, args := range [][]string{{"verify", "-entry", "2"}, {"prove", "-index", "2"}} {
				out, err := audit(args[0], args[1:]...)
				if err == nil {
					t.Fatalf("%v with a malformed proof succeeded:\n%s", args, out)
				}
				if !strings.Contains(err.Error(), "malformed") || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%v = %v; want a malformed answer of the gateway naming %q", args, err, tc.want)
				}
				if strings.Contains(err.Error(), "FAILED") || strings.Contains(err.Error(), "does not match") {
					t.Errorf("%v = %v; want no FAILED check, no changed entry", args, err)
				}
			}
		})
	}
	if out, err := audit("prove", "-index", "2"); err != nil {
		t.Errorf("prove with a well-formed proof again: %v\n%s", err, out)
	}
}
