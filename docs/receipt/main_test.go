package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
