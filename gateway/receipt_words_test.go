package gateway

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestVerifyReceiptErrorHoldsNoPeerText: a peer signs a receipt whose
// statement names, where the recipient goes, a person's identifier.
// VerifyReceipt refuses it, and its error, which the gateway logs
// ("request failed", "a peer's forwarded exchange has no valid
// receipt"), says which line is wrong and what it should be, without the
// peer's text: a peer cannot put a subject's identifier in a log line.
func TestVerifyReceiptErrorHoldsNoPeerText(t *testing.T) {
	signer, verifier := peerNoteKeys(t)
	leaf := []byte(`{"action":"disclose"}`)
	root := tlog.RecordHash(leaf) // the tree of one leaf
	cp, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "dk.liaison.test", Size: 1, Hash: root}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	const junk = "SYN-DK-0001"
	b64 := base64.StdEncoding.EncodeToString(root[:])
	body := fmt.Sprintf("liaison.receipt/v1\norigin dk.liaison.test\nindex 0\nleaf %s\nrecipient %s lives at Bredgade 1\nreleased \ntree 1 %s\n", b64, junk, b64)
	st, err := note.Sign(&note.Note{Text: body}, signer)
	if err != nil {
		t.Fatal(err)
	}
	_, err = VerifyReceipt(&liaisonv1.PeerReceipt{Statement: string(st), Checkpoint: string(cp), Index: 0, Entry: string(leaf)}, verifier, "nl-probation", nil)
	if err == nil {
		t.Fatal("VerifyReceipt took a receipt for another recipient")
	}
	if strings.Contains(err.Error(), junk) || !strings.Contains(err.Error(), "recipient") {
		t.Errorf("VerifyReceipt: %v; want the line named, without the peer's text", err)
	}
	// A checkpoint whose tree size is that text.
	bad, err := note.Sign(&note.Note{Text: "dk.liaison.test\n" + junk + "\n" + b64 + "\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	_, err = VerifyReceipt(&liaisonv1.PeerReceipt{Statement: string(st), Checkpoint: string(bad), Index: 0, Entry: string(leaf)}, verifier, "", nil)
	if err == nil || strings.Contains(err.Error(), junk) {
		t.Errorf("VerifyReceipt of a malformed checkpoint: %v; want an error without the peer's text", err)
	}
}

// TestVerifyReceiptEntryErrorHoldsNoPeerText: a peer signs a receipt,
// checkpoint and inclusion proof in order, of an entry that is no log
// entry: one with a field of the peer's naming, or a time that is no
// time, each a person's identifier. VerifyReceipt refuses it, as before,
// but its error quoted the decoder's, which quotes the peer's text
// ('json: unknown field "SYN-DK-0001 ..."', 'parsing time "SYN-DK-0001
// ..."'), and the gateway logs that error ("request failed", "a peer's
// forwarded exchange has no valid receipt"). It now says what is wrong
// without the peer's words.
func TestVerifyReceiptEntryErrorHoldsNoPeerText(t *testing.T) {
	signer, verifier := peerNoteKeys(t)
	const junk = "SYN-DK-0001 lives at Bredgade 1"
	for _, leaf := range []string{
		`{"action":"disclose","` + junk + `":1}`,
		`{"time":"` + junk + `","action":"disclose"}`,
		`{"action":"disclose","outcome":["` + junk + `"]}`,
	} {
		root := tlog.RecordHash([]byte(leaf)) // the tree of one leaf
		cp, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "dk.liaison.test", Size: 1, Hash: root}.String()}, signer)
		if err != nil {
			t.Fatal(err)
		}
		b64 := base64.StdEncoding.EncodeToString(root[:])
		body := fmt.Sprintf("liaison.receipt/v1\norigin dk.liaison.test\nindex 0\nleaf %s\nrecipient nl-probation\nreleased \ntree 1 %s\n", b64, b64)
		st, err := note.Sign(&note.Note{Text: body}, signer)
		if err != nil {
			t.Fatal(err)
		}
		_, err = VerifyReceipt(&liaisonv1.PeerReceipt{Statement: string(st), Checkpoint: string(cp), Index: 0, Entry: leaf}, verifier, "nl-probation", nil)
		if err == nil {
			t.Errorf("VerifyReceipt took the entry %s", leaf)
			continue
		}
		if strings.Contains(err.Error(), "SYN-DK-0001") || strings.Contains(err.Error(), "Bredgade") || !strings.Contains(err.Error(), "entry") {
			t.Errorf("VerifyReceipt of the entry %s: %v; want the entry named as wrong, without the peer's text", leaf, err)
		}
	}
}

// peerNoteKeys makes a peer gateway's checkpoint key, dk.liaison.test.
func peerNoteKeys(t *testing.T) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(nil, "dk.liaison.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return signer, verifier
}
