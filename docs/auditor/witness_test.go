package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TestWitnessQuorum writes an export by hand whose checkpoint two of three
// witnesses cosigned (with torchwood, an implementation of the format this
// program does not share), and checks the quorum as an auditor would.
func TestWitnessQuorum(t *testing.T) {
	dir := t.TempDir()
	leaves := []string{`{"index":0}`, `{"index":1}`, `{"index":2}`}
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
	root, _ := tlog.TreeHash(3, r)
	skey, vkey, _ := note.GenerateKey(nil, "log.test")
	logSigner, _ := note.NewSigner(skey)
	var signers []note.Signer
	var wkeys []string
	for i := range 3 {
		_, priv, _ := ed25519.GenerateKey(nil)
		s, _ := torchwood.NewCosignatureSigner(fmt.Sprintf("w%d.test", i+1), priv)
		signers, wkeys = append(signers, s), append(wkeys, s.Verifier().String())
	}
	body := fmt.Sprintf("log.test\n3\n%s\n", base64.StdEncoding.EncodeToString(root[:]))
	signed, err := note.Sign(&note.Note{Text: body}, logSigner, signers[0], signers[2])
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "entries.jsonl"), []byte(strings.Join(leaves, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "checkpoint"), signed, 0o644)

	if n, err := verify(dir, vkey); err != nil || n != 3 {
		t.Fatalf("verify = %d, %v; the cosignatures must not disturb the log's own check", n, err)
	}
	if who, err := checkWitnesses(dir, vkey, wkeys, 2); err != nil || strings.Join(who, ",") != "w1.test,w3.test" {
		t.Errorf("2 of 3 = %v, %v; want w1.test,w3.test", who, err)
	}
	if _, err := checkWitnesses(dir, vkey, wkeys, 0); err == nil {
		t.Errorf("3 of 3 (quorum 0) passed with two cosignatures")
	}
	if _, err := checkWitnesses(dir, vkey, wkeys[1:2], 1); err == nil {
		t.Errorf("1 of [w2] passed though w2 did not cosign")
	}
	// A cosignature made over another checkpoint does not count.
	other, _ := note.Sign(&note.Note{Text: strings.Replace(body, "\n3\n", "\n4\n", 1)}, signers[1])
	forged := append(append([]byte{}, signed...), other[strings.Index(string(other), "\n\n")+2:]...)
	os.WriteFile(filepath.Join(dir, "checkpoint"), forged, 0o644)
	if _, err := checkWitnesses(dir, vkey, wkeys, 3); err == nil {
		t.Errorf("a cosignature of another checkpoint was counted")
	}
}

// TestDuplicateSignatureLine checks that a second signature line by a
// known key (the log's or a witness's) is verified too, as C2SP
// signed-note requires and the gateway's own verifier does: note.Open
// alone checks only the first line of each key.
func TestDuplicateSignatureLine(t *testing.T) {
	dir := t.TempDir()
	leaf := `{"index":0}`
	root := tlog.RecordHash([]byte(leaf))
	skey, vkey, _ := note.GenerateKey(nil, "log.test")
	logSigner, _ := note.NewSigner(skey)
	_, priv, _ := ed25519.GenerateKey(nil)
	w, _ := torchwood.NewCosignatureSigner("w1.test", priv)
	body := fmt.Sprintf("log.test\n1\n%s\n", base64.StdEncoding.EncodeToString(root[:]))
	signed, err := note.Sign(&note.Note{Text: body}, logSigner, w)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "entries.jsonl"), []byte(leaf+"\n"), 0o644)
	// spoil returns signed with a copy of its signature line i whose last
	// signature byte is changed.
	spoil := func(i int) []byte {
		sigs := strings.SplitAfter(strings.SplitN(string(signed), "\n\n", 2)[1], "\n")
		name, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(sigs[i], "— "), "\n"), " ")
		raw, _ := base64.StdEncoding.DecodeString(b64)
		raw[len(raw)-1] ^= 1
		return append([]byte(string(signed)), "— "+name+" "+base64.StdEncoding.EncodeToString(raw)+"\n"...)
	}
	os.WriteFile(filepath.Join(dir, "checkpoint"), signed, 0o644)
	if _, err := verify(dir, vkey); err != nil {
		t.Fatalf("verify = %v", err)
	}
	if _, err := checkWitnesses(dir, vkey, []string{w.Verifier().String()}, 1); err != nil {
		t.Fatalf("checkWitnesses = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "checkpoint"), spoil(0), 0o644)
	if _, err := verify(dir, vkey); err == nil {
		t.Errorf("verify accepted a second log signature line that does not verify")
	}
	os.WriteFile(filepath.Join(dir, "checkpoint"), spoil(1), 0o644)
	if _, err := checkWitnesses(dir, vkey, []string{w.Verifier().String()}, 1); err == nil {
		t.Errorf("checkWitnesses accepted a second cosignature line that does not verify")
	}
}

// TestWitnessPolicyRefused checks the policies the gateway's own verifier
// refuses (audit.WitnessPolicy.Valid): a quorum below 0 or above the
// number of witnesses, and one Ed25519 key under two names, whose
// cosignature would count twice (the cosignature/v1 message does not
// commit to the cosigner's name).
func TestWitnessPolicyRefused(t *testing.T) {
	dir := t.TempDir()
	leaf := `{"index":0}`
	root := tlog.RecordHash([]byte(leaf))
	skey, vkey, _ := note.GenerateKey(nil, "log.test")
	logSigner, _ := note.NewSigner(skey)
	_, priv, _ := ed25519.GenerateKey(nil)
	w1, _ := torchwood.NewCosignatureSigner("w1.test", priv)
	w2, _ := torchwood.NewCosignatureSigner("w2.test", priv) // the same key
	body := fmt.Sprintf("log.test\n1\n%s\n", base64.StdEncoding.EncodeToString(root[:]))
	signed, err := note.Sign(&note.Note{Text: body}, logSigner, w1)
	if err != nil {
		t.Fatal(err)
	}
	// w1's cosignature relabelled as w2's verifies under w2's key.
	sigs := strings.SplitAfter(strings.SplitN(string(signed), "\n\n", 2)[1], "\n")
	_, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(sigs[1], "— "), "\n"), " ")
	raw, _ := base64.StdEncoding.DecodeString(b64)
	v2, _ := newCosigVerifier(w2.Verifier().String())
	relabelled := append(binary.BigEndian.AppendUint32(nil, v2.hash), raw[4:]...)
	forged := append([]byte(string(signed)), "— w2.test "+base64.StdEncoding.EncodeToString(relabelled)+"\n"...)
	os.WriteFile(filepath.Join(dir, "entries.jsonl"), []byte(leaf+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "checkpoint"), forged, 0o644)
	if who, err := checkWitnesses(dir, vkey, []string{w1.Verifier().String(), w2.Verifier().String()}, 2); err == nil {
		t.Errorf("one key named twice: cosigned by %v, nil error; one witness counted twice", who)
	}
	os.WriteFile(filepath.Join(dir, "checkpoint"), signed, 0o644)
	_, priv3, _ := ed25519.GenerateKey(nil)
	w3, _ := torchwood.NewCosignatureSigner("w3.test", priv3)
	for _, q := range []int{-1, 3} {
		if who, err := checkWitnesses(dir, vkey, []string{w1.Verifier().String(), w3.Verifier().String()}, q); err == nil {
			t.Errorf("quorum %d of 2: cosigned by %v, nil error", q, who)
		}
	}
}

// TestQuorumWithoutWitnesses: -quorum K without any -witness key is a
// quorum outside 1 to the number of keys, refused as liaison audit verify
// refuses -witness-quorum without -witness-key. The program skipped the
// witness check when no -witness key was given, and said OK (exit 0) to
// an auditor who asked for a quorum of cosignatures and checked none.
func TestQuorumWithoutWitnesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program: run without -short, as make test does")
	}
	leaf := `{"index":0}`
	root := tlog.RecordHash([]byte(leaf))
	skey, vkey, _ := note.GenerateKey(nil, "log.test")
	signer, _ := note.NewSigner(skey)
	signed, err := note.Sign(&note.Note{Text: fmt.Sprintf("log.test\n1\n%s\n", base64.StdEncoding.EncodeToString(root[:]))}, signer)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "entries.jsonl"), []byte(leaf+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "checkpoint"), signed, 0o644)
	bin := filepath.Join(t.TempDir(), "auditor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "-key", vkey, dir).CombinedOutput(); err != nil {
		t.Fatalf("without a witness policy: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-key", vkey, "-quorum", "2", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "FAILED") {
		t.Errorf("-quorum 2 without -witness: %v\n%s; want it refused", err, out)
	}
}

// TestWitnessKeyOneSpelling: a witness key is read in the one spelling
// liaison audit verify reads: the hash in lowercase hex, the key in
// standard base64 without a line break (which base64's decoder alone
// skips).
func TestWitnessKeyOneSpelling(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	s, _ := torchwood.NewCosignatureSigner("w1.test", priv)
	good := s.Verifier().String()
	if _, err := newCosigVerifier(good); err != nil {
		t.Fatalf("newCosigVerifier(%q) = %v", good, err)
	}
	parts := strings.SplitN(good, "+", 3)
	for name, vkey := range map[string]string{
		"a line break in the key": parts[0] + "+" + parts[1] + "+" + parts[2][:20] + "\r\n" + parts[2][20:],
		"a newline in the key":    parts[0] + "+" + parts[1] + "+" + parts[2][:20] + "\n" + parts[2][20:],
	} {
		if _, err := newCosigVerifier(vkey); err == nil {
			t.Errorf("newCosigVerifier(%s) = nil error", name)
		}
	}
}

// TestCosignatureTimestampBound: a cosignature dated after 2^63 - 1
// seconds is refused, as C2SP tlog-cosignature says it MUST NOT be and as
// liaison audit verify refuses it, even when the witness's key signed it.
func TestCosignatureTimestampBound(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	s, _ := torchwood.NewCosignatureSigner("w1.test", priv)
	v, err := newCosigVerifier(s.Verifier().String())
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("log.test\n1\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n")
	for _, ts := range []uint64{1 << 40, 1 << 63} {
		sig := binary.BigEndian.AppendUint64(nil, ts)
		sig = append(sig, ed25519.Sign(priv, fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", ts, body))...)
		if got, want := v.Verify(body, sig), ts < 1<<63; got != want {
			t.Errorf("Verify(a cosignature dated %d) = %v, want %v", ts, got, want)
		}
	}
}

// TestWitnessOneNameTwoKeys: one witness named with two keys (as across a
// key rotation) is refused, as liaison audit verify refuses it: with both
// keys' cosignatures it met a quorum of two on one witness's word.
func TestWitnessOneNameTwoKeys(t *testing.T) {
	dir := t.TempDir()
	leaf := `{"index":0}`
	root := tlog.RecordHash([]byte(leaf))
	skey, vkey, _ := note.GenerateKey(nil, "log.test")
	logSigner, _ := note.NewSigner(skey)
	_, privA, _ := ed25519.GenerateKey(nil)
	_, privB, _ := ed25519.GenerateKey(nil)
	a, _ := torchwood.NewCosignatureSigner("w1.test", privA)
	b, _ := torchwood.NewCosignatureSigner("w1.test", privB)
	signed, err := note.Sign(&note.Note{Text: fmt.Sprintf("log.test\n1\n%s\n", base64.StdEncoding.EncodeToString(root[:]))}, logSigner, a, b)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "entries.jsonl"), []byte(leaf+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "checkpoint"), signed, 0o644)
	if who, err := checkWitnesses(dir, vkey, []string{a.Verifier().String(), b.Verifier().String()}, 2); err == nil {
		t.Errorf("one witness named with two keys: cosigned by %v, nil error; one witness counted twice", who)
	}
}

// TestSignatureLineOneSpelling: a second spelling of a known key's
// signature line (the same bytes, the last base64 character's spare bits
// set, which the decoder ignores) is refused, as audit.OpenNote refuses it.
func TestSignatureLineOneSpelling(t *testing.T) {
	dir := t.TempDir()
	leaf := `{"index":0}`
	root := tlog.RecordHash([]byte(leaf))
	skey, vkey, _ := note.GenerateKey(nil, "log.test")
	logSigner, _ := note.NewSigner(skey)
	_, priv, _ := ed25519.GenerateKey(nil)
	w, _ := torchwood.NewCosignatureSigner("w1.test", priv)
	signed, err := note.Sign(&note.Note{Text: fmt.Sprintf("log.test\n1\n%s\n", base64.StdEncoding.EncodeToString(root[:]))}, logSigner, w)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "entries.jsonl"), []byte(leaf+"\n"), 0o644)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	respelled := func(i int) []byte {
		line := strings.TrimSuffix(strings.SplitAfter(strings.SplitN(string(signed), "\n\n", 2)[1], "\n")[i], "\n")
		b64 := strings.TrimRight(line, "=")
		c := strings.IndexByte(alphabet, b64[len(b64)-1])
		return append([]byte(string(signed)), b64[:len(b64)-1]+string(alphabet[c^1])+line[len(b64):]+"\n"...)
	}
	os.WriteFile(filepath.Join(dir, "checkpoint"), respelled(0), 0o644)
	if _, err := verify(dir, vkey); err == nil {
		t.Errorf("verify accepted the log's signature line in a second spelling")
	}
	os.WriteFile(filepath.Join(dir, "checkpoint"), respelled(1), 0o644)
	if _, err := checkWitnesses(dir, vkey, []string{w.Verifier().String()}, 1); err == nil {
		t.Errorf("checkWitnesses accepted a cosignature line in a second spelling")
	}
}
