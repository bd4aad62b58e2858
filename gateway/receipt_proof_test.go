package gateway

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestVerifyReceiptMalformedProof: a peer's receipt whose inclusion proof
// is not of a proof's shape (a hash cut short or one byte longer, a hash
// missing or one more) is refused as a malformed proof
// (audit.ErrMalformedProof), by the rule the auditor's tools read a proof
// with (audit.ReadRecordProof), not as an entry the checkpoint does not
// hold; so is one that gives another entry than its statement names
// (another index, an entry whose hash is not the statement's leaf), by the
// rule the auditor's tools read a ProveInclusionResponse with
// (audit.ReadInclusion); a proof of that shape with a hash changed is
// refused as an entry that does not match (audit.ErrEntryMismatch), and
// the proof as signed verifies.
func TestVerifyReceiptMalformedProof(t *testing.T) {
	signer, verifier := peerNoteKeys(t)
	var leaves [][]byte
	for i := range 7 {
		leaf, err := (&audit.Entry{Time: time.Date(2026, 11, 26, 10, i, 0, 0, time.UTC), Action: "disclose", Outcome: "disclose"}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leaf)
	}
	var stored []tlog.Hash
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashes(int64(i), leaf, hr)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	size, index := int64(len(leaves)), int64(4)
	root, err := tlog.TreeHash(size, hr)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := tlog.ProveRecord(size, index, hr)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "dk.liaison.test", Size: size, Hash: root}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	lh := tlog.RecordHash(leaves[index])
	body := fmt.Sprintf("liaison.receipt/v1\norigin dk.liaison.test\nindex %d\nleaf %s\nrecipient nl-probation\nreleased \ntree %d %s\n",
		index, base64.StdEncoding.EncodeToString(lh[:]), size, base64.StdEncoding.EncodeToString(root[:]))
	st, err := note.Sign(&note.Note{Text: body}, signer)
	if err != nil {
		t.Fatal(err)
	}
	hashes := func(change func([][]byte) [][]byte) [][]byte {
		var p [][]byte
		for _, h := range proof {
			p = append(p, append([]byte{}, h[:]...))
		}
		return change(p)
	}
	receipt := func(i int64, entry []byte, p [][]byte) error {
		_, err := VerifyReceipt(&liaisonv1.PeerReceipt{Statement: string(st), Checkpoint: string(cp), Index: i, Entry: string(entry), InclusionProof: p},
			verifier, "nl-probation", nil)
		return err
	}
	verify := func(p [][]byte) error { return receipt(index, leaves[index], p) }
	if err := verify(hashes(func(p [][]byte) [][]byte { return p })); err != nil {
		t.Fatalf("VerifyReceipt of the proof as made = %v", err)
	}
	for name, p := range map[string][][]byte{
		"a hash cut short":  hashes(func(p [][]byte) [][]byte { p[0] = p[0][:31]; return p }),
		"a hash one longer": hashes(func(p [][]byte) [][]byte { p[1] = append(p[1], 0); return p }),
		"a hash missing":    hashes(func(p [][]byte) [][]byte { return p[:len(p)-1] }),
		"one hash more":     hashes(func(p [][]byte) [][]byte { return append(p, make([]byte, 32)) }),
		"no hashes":         nil,
	} {
		if err := verify(p); !errors.Is(err, audit.ErrMalformedProof) || errors.Is(err, audit.ErrEntryMismatch) {
			t.Errorf("VerifyReceipt with %s = %v; want a malformed proof (audit.ErrMalformedProof)", name, err)
		}
	}
	// A receipt that gives another entry than its statement names (another
	// index, an entry that is not the statement's leaf) is no answer to
	// it: malformed, by the rule of audit.ReadInclusion.
	as := hashes(func(p [][]byte) [][]byte { return p })
	for name, err := range map[string]error{
		"another index":         receipt(index+1, leaves[index], as),
		"another entry":         receipt(index, leaves[index+1], as),
		"another index's entry": receipt(index+1, leaves[index+1], as),
	} {
		if !errors.Is(err, audit.ErrMalformedProof) || errors.Is(err, audit.ErrEntryMismatch) {
			t.Errorf("VerifyReceipt with %s = %v; want a malformed answer (audit.ErrMalformedProof)", name, err)
		}
	}
	changed := hashes(func(p [][]byte) [][]byte { p[0][0] ^= 1; return p })
	if err := verify(changed); !errors.Is(err, audit.ErrEntryMismatch) || errors.Is(err, audit.ErrMalformedProof) {
		t.Errorf("VerifyReceipt with a hash changed = %v; want audit.ErrEntryMismatch, not a malformed proof", err)
	}
}
