package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// exportOnly is a gateway's Audit service that answers Export alone, with
// leaves and their checkpoint.
type exportOnly struct {
	liaisonv1.AuditClient
	msgs []*liaisonv1.ExportResponse
}

func (e *exportOnly) Export(context.Context, *liaisonv1.ExportRequest, ...grpc.CallOption) (grpc.ServerStreamingClient[liaisonv1.ExportResponse], error) {
	return &exportStream{msgs: e.msgs}, nil
}

type exportStream struct {
	grpc.ClientStream
	msgs []*liaisonv1.ExportResponse
}

func (s *exportStream) Recv() (*liaisonv1.ExportResponse, error) {
	if len(s.msgs) == 0 {
		return nil, io.EOF
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	return m, nil
}

// TestAuditExportWriteFailure: an export whose entries.jsonl cannot be
// written whole (a full disk; here the process's file size limit) fails
// and leaves no partial entries.jsonl. The command ignored the errors of
// its writes: it wrote a cut-off file beside the checkpoint of the whole
// log and said "exported N entries" with exit 0, for the authority to find
// the export broken.
func TestAuditExportWriteFailure(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	var leaves [][]byte
	msg := &liaisonv1.ExportResponse{}
	for i := range 400 {
		e := &audit.Entry{Time: time.Date(2026, 11, 2, 9, 0, i, 0, time.UTC), Action: audit.ActionKeyRotate, Outcome: audit.OutcomeOK,
			Detail: map[string]string{"new_version": fmt.Sprint(i)}}
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leaf)
		msg.Entries = append(msg.Entries, &liaisonv1.AuditEntry{Index: int64(i), Json: string(leaf)})
	}
	root, err := audit.RootHash(leaves)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "test.liaison", Size: int64(len(leaves)), Hash: root}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	ac := func() *exportOnly {
		return &exportOnly{msgs: []*liaisonv1.ExportResponse{
			{Checkpoint: &liaisonv1.GetCheckpointResponse{Size: int64(len(leaves)), Checkpoint: string(signed)}}, msg,
		}}
	}
	dir := t.TempDir()
	var out bytes.Buffer
	if err := export(t.Context(), ac(), v, nil, vkey, filepath.Join(dir, "whole"), &out, &out); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}

	// Files of this process may grow to 4 KiB, a tenth of entries.jsonl,
	// while the export writes (Go ignores SIGXFSZ: the write fails EFBIG).
	// Any process may lower its own soft limit, so a failure here is the
	// test's, not the machine's.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal("read the file size limit:", err)
	}
	small := lim
	small.Cur = 4096
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small); err != nil {
		t.Fatal("lower the file size limit:", err)
	}
	out.Reset()
	cut := filepath.Join(dir, "cut")
	err = export(t.Context(), ac(), v, nil, vkey, cut, &out, &out)
	if serr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); serr != nil {
		t.Fatal(serr)
	}
	if err == nil {
		t.Fatalf("export with entries.jsonl cut at 4 KiB = nil error:\n%s", out.String())
	}
	if _, serr := os.Stat(filepath.Join(cut, "entries.jsonl")); serr == nil {
		t.Errorf("export failed (%v) but left a partial entries.jsonl", err)
	}
}

// TestAuditExportRefusedWritesNothing: an export refused (here: the
// checkpoint is not cosigned by the witness the policy names) writes
// nothing, as the README says, not even the -out folder, which the
// command made before it asked the gateway.
func TestAuditExportRefusedWritesNothing(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	leaf := []byte(`{"time":"2026-11-02T09:00:00Z","action":"key_rotate","outcome":"ok"}`)
	root, err := audit.RootHash([][]byte{leaf})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "test.liaison", Size: 1, Hash: root}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	wkey, err := audit.CosignatureVerifierKey("witness.test/w1", pub)
	if err != nil {
		t.Fatal(err)
	}
	w, err := audit.NewCosignatureVerifier(wkey)
	if err != nil {
		t.Fatal(err)
	}
	ac := &exportOnly{msgs: []*liaisonv1.ExportResponse{
		{Checkpoint: &liaisonv1.GetCheckpointResponse{Size: 1, Checkpoint: string(signed)}},
		{Entries: []*liaisonv1.AuditEntry{{Index: 0, Json: string(leaf)}}},
	}}
	out := filepath.Join(t.TempDir(), "export")
	var buf bytes.Buffer
	err = export(t.Context(), ac, v, &audit.WitnessPolicy{Witnesses: []note.Verifier{w}, Quorum: 1}, vkey, out, &buf, &buf)
	if err == nil {
		t.Fatalf("export of a checkpoint the named witness did not cosign = nil error:\n%s", buf.String())
	}
	if _, serr := os.Stat(out); serr == nil {
		t.Errorf("the refused export (%v) left %s behind", err, out)
	}
}
