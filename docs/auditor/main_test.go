package main

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TestVerifiesDemoExport runs the demo with an export and checks the export
// with this program's verify alone; then it changes one entry and expects
// the check to fail.
func TestVerifiesDemoExport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo; run without -short")
	}
	dir := filepath.Join(t.TempDir(), "export")
	out, err := exec.Command("go", "run", "../../cmd/liaison", "demo", "-export", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	key, err := os.ReadFile(filepath.Join(dir, "verifier.key"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), strings.TrimSpace(string(key))) {
		t.Error("the demo did not print the verifier key it exported")
	}
	n, err := verify(dir, strings.TrimSpace(string(key)))
	if err != nil || n < 4 {
		t.Fatalf("verify(demo export) = %d, %v; want at least 4 entries", n, err)
	}
	entries := filepath.Join(dir, "entries.jsonl")
	b, _ := os.ReadFile(entries)
	if err := os.WriteFile(entries, []byte(strings.Replace(string(b), "risk_management", "statistics", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(dir, strings.TrimSpace(string(key))); err == nil {
		t.Error("verify accepted an export with a changed entry")
	}
}

// TestCheckpointOneSpelling checks that verify reads a checkpoint as the
// gateway's own verifier does (audit.ParseCheckpoint, C2SP tlog-checkpoint):
// a tree size with a sign or a leading zero, a root hash in a base64
// spelling other than the standard one, or an empty extension line is
// refused, though the log's key signed it.
func TestCheckpointOneSpelling(t *testing.T) {
	const leaf = `{"index":0}`
	root := tlog.RecordHash([]byte(leaf))
	hash := base64.StdEncoding.EncodeToString(root[:])
	// The same 32 bytes with one of the last character's spare bits set.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	spare := hash[:42] + string(alphabet[strings.IndexByte(alphabet, hash[42])^1]) + "="
	skey, vkey, _ := note.GenerateKey(nil, "log.test")
	signer, _ := note.NewSigner(skey)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "entries.jsonl"), []byte(leaf+"\n"), 0o644)
	for name, body := range map[string]string{
		"canonical":            "log.test\n1\n" + hash + "\n",
		"leading zero":         "log.test\n01\n" + hash + "\n",
		"plus sign":            "log.test\n+1\n" + hash + "\n",
		"hash spare bits":      "log.test\n1\n" + spare + "\n",
		"empty extension line": "log.test\n1\n" + hash + "\n\n",
		"empty origin":         "\n1\n" + hash + "\n",
	} {
		signed, err := note.Sign(&note.Note{Text: body}, signer)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "checkpoint"), signed, 0o644)
		_, err = verify(dir, vkey)
		if ok := name == "canonical"; ok != (err == nil) {
			t.Errorf("%s: verify = %v, want ok=%v", name, err, ok)
		}
	}
}

// TestLinesAreExactlyLeaves: each line of entries.jsonl is exactly a
// leaf, as liaison audit verify -export reads it. bufio.ScanLines dropped
// the '\r' of a file given Windows line endings, so such an export
// verified here (exit 0) though its lines are not the leaves the log
// hashed, and liaison audit verify -export refused it.
func TestLinesAreExactlyLeaves(t *testing.T) {
	leaves := []string{`{"index":0}`, `{"index":1}`}
	var hashes []tlog.Hash
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, l := range leaves {
		hs, err := tlog.StoredHashes(int64(i), []byte(l), r)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	root, _ := tlog.TreeHash(2, r)
	skey, vkey, _ := note.GenerateKey(nil, "log.test")
	signer, _ := note.NewSigner(skey)
	signed, err := note.Sign(&note.Note{Text: "log.test\n2\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "checkpoint"), signed, 0o644)
	for name, tt := range map[string]struct {
		content string
		ok      bool
	}{
		"as exported":            {leaves[0] + "\n" + leaves[1] + "\n", true},
		"no final newline":       {leaves[0] + "\n" + leaves[1], true},
		"windows line endings":   {leaves[0] + "\r\n" + leaves[1] + "\r\n", false},
		"one line ending in \\r": {leaves[0] + "\n" + leaves[1] + "\r\n", false},
	} {
		os.WriteFile(filepath.Join(dir, "entries.jsonl"), []byte(tt.content), 0o644)
		if _, err := verify(dir, vkey); (err == nil) != tt.ok {
			t.Errorf("%s: verify = %v, want ok=%v", name, err, tt.ok)
		}
	}
}
