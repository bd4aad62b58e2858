package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// TestVerify makes a receipt with the gateway's audit log (the test may use
// Liaison's code; the program does not) and checks it with verify alone;
// then each change to what the recipient holds fails. The gateway's own
// end-to-end test runs the program on a receipt from a real release.
func TestVerify(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	skey, vkey, err := audit.GenerateSignerKey("receipt.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.New(ctx, audit.Config{Store: st, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.WithoutCancel(ctx))
	for i := range 7 {
		if _, err := l.Append(ctx, &audit.Entry{Time: time.Date(2026, 11, 26, 10, i, 0, 0, time.UTC), Action: "disclose", Outcome: "disclose"}); err != nil {
			t.Fatal(err)
		}
	}
	released := []byte("the released record's bytes")
	sum := sha256.Sum256(released)
	r, err := l.Receipt(ctx, 4, "dk-police-aarhus", "sha256:"+hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var proof strings.Builder
	for _, h := range r.Proof {
		proof.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	write("receipt", r.Note)
	write("checkpoint", r.Checkpoint)
	write("proof", []byte(proof.String()))
	write("released", released)
	got, err := verify(dir, vkey, "dk-police-aarhus")
	if err != nil {
		t.Fatalf("verify = %v", err)
	}
	if got.index != 4 || got.size != 7 || got.recipient != "dk-police-aarhus" || got.origin != "receipt.test" {
		t.Errorf("verify = %+v", got)
	}
	if _, err := verify(dir, vkey, "dk-social-aarhus"); err == nil {
		t.Error("verify for another recipient = nil error")
	}
	write("released", []byte("something else"))
	if _, err := verify(dir, vkey, ""); err == nil {
		t.Error("verify of other released bytes = nil error")
	}
	os.Remove(filepath.Join(dir, "released"))
	if _, err := verify(dir, vkey, ""); err != nil {
		t.Errorf("verify without the released file = %v; it is optional", err)
	}
	write("proof", []byte(strings.Replace(proof.String(), proof.String()[:4], "AAAA", 1)))
	if _, err := verify(dir, vkey, ""); err == nil {
		t.Error("verify with a changed proof = nil error")
	}
	// A proof of the wrong shape is malformed (errMalformedProof, as the
	// gateway's audit.ReadRecordProof says), not one that does not verify.
	lines := strings.SplitAfter(strings.TrimSuffix(proof.String(), "\n"), "\n")
	for name, p := range map[string]string{
		"a hash missing":   strings.Join(lines[:len(lines)-1], ""),
		"one hash more":    proof.String() + lines[0],
		"no hashes":        "",
		"a hash cut short": base64.StdEncoding.EncodeToString(r.Proof[0][:31]) + "\n" + strings.Join(lines[1:], ""),
	} {
		write("proof", []byte(p))
		if _, err := verify(dir, vkey, ""); !errors.Is(err, errMalformedProof) {
			t.Errorf("verify with %s in the proof = %v; want a malformed proof", name, err)
		}
	}
	write("proof", []byte(strings.Replace(proof.String(), proof.String()[:4], "AAAA", 1)))
	if _, err := verify(dir, vkey, ""); err == nil || errors.Is(err, errMalformedProof) {
		t.Errorf("verify with a changed proof = %v; want a proof that does not verify, not a malformed one", err)
	}
	write("proof", []byte(proof.String()))
	// A second receipt signature line by the key that does not verify.
	sig := strings.SplitN(string(r.Note), "\n\n", 2)[1]
	name, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(sig, "— "), "\n"), " ")
	raw, _ := base64.StdEncoding.DecodeString(b64)
	raw[len(raw)-1] ^= 1
	write("receipt", append(append([]byte{}, r.Note...), "— "+name+" "+base64.StdEncoding.EncodeToString(raw)+"\n"...))
	if _, err := verify(dir, vkey, ""); err == nil {
		t.Error("verify with a second receipt signature line that does not verify = nil error")
	}
	write("receipt", r.Note)
	_, other, _ := audit.GenerateSignerKey("receipt.test")
	if _, err := verify(dir, other, ""); err == nil {
		t.Error("verify with another key = nil error")
	}
}

// TestReceiptOneSpelling checks that verify reads a receipt and its
// checkpoint as the gateway's own verifier does (audit.VerifyReceipt): a
// number with a sign or a leading zero, a hash in a base64 spelling other
// than the standard one, an empty recipient or a digest that is not
// sha256: and 64 lowercase hex digits is refused, though the gateway's
// key signed it.
func TestReceiptOneSpelling(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	skey, vkey, _ := audit.GenerateSignerKey("receipt.test")
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	l, err := audit.New(ctx, audit.Config{Store: st, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.WithoutCancel(ctx))
	for i := range 7 {
		if _, err := l.Append(ctx, &audit.Entry{Time: time.Date(2026, 11, 26, 10, i, 0, 0, time.UTC), Action: "disclose", Outcome: "disclose"}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := l.Receipt(ctx, 4, "dk-police-aarhus", "sha256:"+strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sign := func(text string) []byte {
		b, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var proof strings.Builder
	for _, h := range r.Proof {
		proof.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	write("proof", []byte(proof.String()))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	spare := func(h string) string { // the same bytes, a spare bit set
		return h[:42] + string(alphabet[strings.IndexByte(alphabet, h[42])^1]) + "="
	}
	receipt := r.Body.String()
	checkpoint := strings.SplitN(string(r.Checkpoint), "\n\n", 2)[0] + "\n"
	leaf := base64.StdEncoding.EncodeToString(r.Body.LeafHash[:])
	root := strings.Split(checkpoint, "\n")[2]
	for _, tc := range []struct {
		name                string
		receipt, checkpoint string
	}{
		{"as signed", receipt, checkpoint},
		{"index with a leading zero", strings.Replace(receipt, "\n4\n", "\n04\n", 1), checkpoint},
		{"index with a plus sign", strings.Replace(receipt, "\n4\n", "\n+4\n", 1), checkpoint},
		{"tree size with a leading zero", strings.Replace(receipt, "\n7\n", "\n07\n", 1), checkpoint},
		{"leaf hash spare bits", strings.Replace(receipt, leaf, spare(leaf), 1), checkpoint},
		{"empty recipient", strings.Replace(receipt, "dk-police-aarhus", "", 1), checkpoint},
		{"digest without sha256:", strings.Replace(receipt, "sha256:", "md5:", 1), checkpoint},
		{"digest in upper case", strings.Replace(receipt, strings.Repeat("ab", 32), strings.Repeat("AB", 32), 1), checkpoint},
		{"digest cut short", strings.Replace(receipt, strings.Repeat("ab", 32), strings.Repeat("ab", 31), 1), checkpoint},
		{"digest with no hash", strings.Replace(receipt, "sha256:"+strings.Repeat("ab", 32), "sha256:", 1), checkpoint},
		{"root hash spare bits", receipt, strings.Replace(checkpoint, root, spare(root), 1)},
		{"empty extension line", receipt, checkpoint + "\n"},
	} {
		rn, cn := sign(tc.receipt), sign(tc.checkpoint)
		_, goErr := audit.VerifyReceipt(rn, cn, r.Proof, verifier)
		write("receipt", rn)
		write("checkpoint", cn)
		_, err := verify(dir, vkey, "")
		if ok := tc.name == "as signed"; ok != (err == nil) || ok != (goErr == nil) {
			t.Errorf("%s: verify = %v, audit.VerifyReceipt = %v; want both ok=%v", tc.name, err, goErr, ok)
		}
	}
	// A signature line in a second spelling of its bytes (the last base64
	// character's spare bits set), beside the line as signed.
	respell := func(signed []byte) []byte {
		line := strings.TrimSuffix(strings.SplitN(string(signed), "\n\n", 2)[1], "\n")
		b64 := strings.TrimRight(line, "=")
		c := strings.IndexByte(alphabet, b64[len(b64)-1])
		return append(signed, b64[:len(b64)-1]+string(alphabet[c^1])+line[len(b64):]+"\n"...)
	}
	for name, notes := range map[string][2][]byte{
		"receipt signature respelled":    {respell(sign(receipt)), sign(checkpoint)},
		"checkpoint signature respelled": {sign(receipt), respell(sign(checkpoint))},
	} {
		_, goErr := audit.VerifyReceipt(notes[0], notes[1], r.Proof, verifier)
		write("receipt", notes[0])
		write("checkpoint", notes[1])
		if _, err := verify(dir, vkey, ""); err == nil || goErr == nil {
			t.Errorf("%s: verify = %v, audit.VerifyReceipt = %v; want both refused", name, err, goErr)
		}
	}
}
