package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
	// end, if set, is called when the messages are all read, and its
	// error (nil: io.EOF) ends the stream.
	end func() error
}

func (s *exportStream) Recv() (*liaisonv1.ExportResponse, error) {
	if len(s.msgs) == 0 {
		if s.end != nil {
			if err := s.end(); err != nil {
				return nil, err
			}
		}
		return nil, io.EOF
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	return m, nil
}

// scriptedExport is an Audit service whose Export stream sends msgs and
// then ends as end says (see exportStream).
type scriptedExport struct {
	liaisonv1.AuditClient
	msgs []*liaisonv1.ExportResponse
	end  func() error
}

func (e *scriptedExport) Export(context.Context, *liaisonv1.ExportRequest, ...grpc.CallOption) (grpc.ServerStreamingClient[liaisonv1.ExportResponse], error) {
	return &exportStream{msgs: e.msgs, end: e.end}, nil
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
	cut := filepath.Join(dir, "later", "cut") // under a folder not made yet
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
	// Nor anything else: not the folder, which was left empty, nor a
	// temporary one beside it.
	if !strings.Contains(err.Error(), "entries.jsonl") {
		t.Errorf("the error does not name what failed: %v", err)
	}
	if names := folderNames(t, dir); !slices.Equal(names, []string{"whole"}) {
		t.Errorf("the failed export (%v) left %q beside the earlier one", err, names)
	}
}

// folderNames lists the names in dir, hidden ones included.
func folderNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// signedLog returns the verifier key of a test log of n entries, its
// verifier, and the Export messages that serve it: the checkpoint, then
// the entries, 100 a message.
func signedLog(t *testing.T, n int) (string, note.Verifier, []*liaisonv1.ExportResponse) {
	t.Helper()
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
	var msgs []*liaisonv1.ExportResponse
	for i := range n {
		e := &audit.Entry{Time: time.Date(2026, 11, 2, 9, 0, i, 0, time.UTC), Action: audit.ActionKeyRotate, Outcome: audit.OutcomeOK,
			Detail: map[string]string{"new_version": fmt.Sprint(i)}}
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leaf)
		if i%100 == 0 {
			msgs = append(msgs, &liaisonv1.ExportResponse{})
		}
		m := msgs[len(msgs)-1]
		m.Entries = append(m.Entries, &liaisonv1.AuditEntry{Index: int64(i), Json: string(leaf)})
	}
	root, err := audit.RootHash(leaves)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "test.liaison", Size: int64(n), Hash: root}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	cp := &liaisonv1.ExportResponse{Checkpoint: &liaisonv1.GetCheckpointResponse{Size: int64(n), Checkpoint: string(signed)}}
	return vkey, v, append([]*liaisonv1.ExportResponse{cp}, msgs...)
}

// folderFiles returns the files of dir and their contents.
func folderFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range folderNames(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	return files
}

// TestAuditExportLeavesAnEarlierExportAlone: an earlier export that lands
// in -out while a new export downloads (another auditor's, into the same
// folder, which was empty when the new one began) is left as it is,
// whether the new export would have succeeded or its write fails, and
// the new export fails saying so. The command wrote its files into the
// folder one by one: it overwrote the earlier export's files, or, when a
// write failed, removed the earlier entries.jsonl and left its
// checkpoint, and an export made of two.
func TestAuditExportLeavesAnEarlierExportAlone(t *testing.T) {
	for _, tc := range []struct {
		name string
		// fsize, if set, is the process's file size limit while the new
		// export writes: its entries.jsonl cannot be written whole.
		fsize uint64
	}{{"the new export writes", 0}, {"the new export's write fails", 4096}} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			out := filepath.Join(parent, "export")
			vkey1, v1, msgs1 := signedLog(t, 3)
			var buf bytes.Buffer
			vkey2, v2, msgs2 := signedLog(t, 400)
			ac := &scriptedExport{msgs: msgs2, end: func() error {
				if err := export(t.Context(), &scriptedExport{msgs: msgs1}, v1, nil, vkey1, out, &buf, &buf); err != nil {
					t.Fatalf("the earlier export: %v\n%s", err, buf.String())
				}
				return nil
			}}
			var lim syscall.Rlimit
			if tc.fsize > 0 {
				if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
					t.Fatal("read the file size limit:", err)
				}
				small := lim
				small.Cur = tc.fsize
				if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small); err != nil {
					t.Fatal("lower the file size limit:", err)
				}
			}
			err := export(t.Context(), ac, v2, nil, vkey2, out, &buf, &buf)
			if tc.fsize > 0 {
				if serr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); serr != nil {
					t.Fatal(serr)
				}
			}
			if err == nil {
				t.Fatalf("an export into a folder another export filled meanwhile = nil error:\n%s", buf.String())
			}
			if !strings.Contains(err.Error(), out) {
				t.Errorf("the error does not name the folder: %v", err)
			}
			files := folderFiles(t, out)
			if files["verifier.key"] != vkey1+"\n" || len(files) != 3 {
				t.Errorf("the earlier export's files are not its own: %d files, verifier.key %q (its key: %q)", len(files), files["verifier.key"], vkey1)
			}
			buf.Reset()
			if err := verifyExport(t.Context(), out, v1, nil, filepath.Join(t.TempDir(), "trusted"), &buf); err != nil {
				t.Errorf("the earlier export no longer verifies after the failed one (%v): %v", err, buf.String())
			}
			if names := folderNames(t, parent); !slices.Equal(names, []string{"export"}) {
				t.Errorf("the failed export left %q", names)
			}
		})
	}
}

// TestAuditExportCancelledWritesNothing: an export whose context is
// cancelled (the auditor's Ctrl-C) once the log is downloaded writes
// nothing. The command went on writing, said "exported", and left an
// export the auditor had stopped.
func TestAuditExportCancelledWritesNothing(t *testing.T) {
	vkey, v, msgs := signedLog(t, 300)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ac := &scriptedExport{msgs: msgs, end: func() error { cancel(); return nil }}
	parent := t.TempDir()
	out := filepath.Join(parent, "export")
	var buf bytes.Buffer
	err := export(ctx, ac, v, nil, vkey, out, &buf, &buf)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled export = %v, want context.Canceled\n%s", err, buf.String())
	}
	if names := folderNames(t, parent); len(names) > 0 {
		t.Errorf("the cancelled export left %q", names)
	}
}

// TestAuditExportStreamBreaksWritesNothing: an export whose stream breaks
// off part way writes nothing, and an empty folder given as -out stays as
// it was.
func TestAuditExportStreamBreaksWritesNothing(t *testing.T) {
	vkey, v, msgs := signedLog(t, 300)
	for _, made := range []bool{false, true} {
		parent := t.TempDir()
		out := filepath.Join(parent, "export")
		if made {
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		ac := &scriptedExport{msgs: msgs[:2], end: func() error { return status.Error(codes.Unavailable, "connection reset") }}
		var buf bytes.Buffer
		err := export(t.Context(), ac, v, nil, vkey, out, &buf, &buf)
		if status.Code(err) != codes.Unavailable {
			t.Errorf("export of a broken stream = %v, want its Unavailable", err)
		}
		want := []string(nil)
		if made {
			want = []string{"export"}
			if names := folderNames(t, out); len(names) > 0 {
				t.Errorf("the broken export wrote %q into the empty -out folder", names)
			}
		}
		if names := folderNames(t, parent); !slices.Equal(names, want) {
			t.Errorf("-out made first: %v: the broken export left %q, want %q", made, names, want)
		}
	}
}

// TestAuditExportFolderSpellings: -out may be given with a trailing /, as
// an empty folder, as a symbolic link to one, or under folders not made
// yet; the export lands there, verifies, and leaves no temporary folder.
func TestAuditExportFolderSpellings(t *testing.T) {
	vkey, v, msgs := signedLog(t, 5)
	for _, tc := range []struct {
		name string
		prep func(parent string) (out, lands string)
	}{
		{"trailing slash", func(p string) (string, string) { return filepath.Join(p, "export") + "/", filepath.Join(p, "export") }},
		{"empty folder", func(p string) (string, string) {
			os.Mkdir(filepath.Join(p, "export"), 0o755)
			return filepath.Join(p, "export"), filepath.Join(p, "export")
		}},
		{"link to an empty folder", func(p string) (string, string) {
			os.Mkdir(filepath.Join(p, "real"), 0o755)
			os.Symlink("real", filepath.Join(p, "export"))
			return filepath.Join(p, "export"), filepath.Join(p, "real")
		}},
		{"new parents", func(p string) (string, string) {
			return filepath.Join(p, "a", "b", "export"), filepath.Join(p, "a", "b", "export")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			out, lands := tc.prep(parent)
			var buf bytes.Buffer
			if err := export(t.Context(), &scriptedExport{msgs: msgs}, v, nil, vkey, out, &buf, &buf); err != nil {
				t.Fatalf("export -out %s: %v\n%s", out, err, buf.String())
			}
			if err := verifyExport(t.Context(), lands, v, nil, filepath.Join(t.TempDir(), "trusted"), &buf); err != nil {
				t.Errorf("the export in %s: %v\n%s", lands, err, buf.String())
			}
			for _, d := range []string{parent, filepath.Dir(lands)} {
				for _, n := range folderNames(t, d) {
					if strings.HasPrefix(n, ".") {
						t.Errorf("the export left %s in %s", n, d)
					}
				}
			}
		})
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

// TestAuditExportRefusesTheCurrentFolder: -out . in an empty folder is
// refused, naming why, and the folder stays: the export would replace the
// folder with another of its name, and leave the auditor's shell in one
// that is no longer there, looking empty.
func TestAuditExportRefusesTheCurrentFolder(t *testing.T) {
	vkey, v, msgs := signedLog(t, 5)
	dir := t.TempDir()
	t.Chdir(dir)
	var buf bytes.Buffer
	err := export(t.Context(), &scriptedExport{msgs: msgs}, v, nil, vkey, ".", &buf, &buf)
	if err == nil || !strings.Contains(err.Error(), "current folder") {
		t.Errorf("export -out . = %v, want a refusal naming the current folder", err)
	}
	if names := folderNames(t, dir); len(names) > 0 {
		t.Errorf("the refused export left %q", names)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("the current folder: %v", err)
	}
}
