package audit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// TestReceipt signs a receipt for one entry among several and checks it as
// a recipient would, offline: then any change to the receipt, the
// checkpoint or the proof fails.
func TestReceipt(t *testing.T) {
	signer, verifier := newKey(t, "audit.test")
	_, other := newKey(t, "audit.test")
	l := newLog(t, audit.Config{Signer: signer})
	ctx := t.Context()
	for i := range 5 {
		if _, err := l.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := l.Receipt(ctx, 3, "dk-police-aarhus", digestOf("abc"))
	if err != nil {
		t.Fatalf("Receipt(3) = %v", err)
	}
	if r.Body.TreeSize != 5 || r.Body.Index != 3 || r.Body.Recipient != "dk-police-aarhus" || r.Body.Origin != "audit.test" {
		t.Errorf("Receipt(3).Body = %+v, want index 3 of a checkpoint of size 5 for dk-police-aarhus", r.Body)
	}
	b, err := audit.VerifyReceipt(r.Note, r.Checkpoint, r.Proof, verifier)
	if err != nil {
		t.Fatalf("VerifyReceipt = %v", err)
	}
	if b != r.Body {
		t.Errorf("VerifyReceipt = %+v, want %+v", b, r.Body)
	}
	if !strings.HasPrefix(string(r.Note), "liaison receipt v1\naudit.test\n3\ndk-police-aarhus\n"+digestOf("abc")+"\n") {
		t.Errorf("receipt text = %q", r.Note)
	}
	// A receipt is not a checkpoint, though both are signed with one key.
	if _, err := audit.OpenCheckpoint(r.Note, verifier); err == nil {
		t.Error("OpenCheckpoint(receipt) = nil error; a receipt must not read as a checkpoint")
	}
	// A later entry reuses the checkpoint if it covers it, else signs one.
	if _, err := l.Append(ctx, entry(5)); err != nil {
		t.Fatal(err)
	}
	r2, err := l.Receipt(ctx, 5, "nl-probation", digestOf("def"))
	if err != nil || r2.Body.TreeSize != 6 {
		t.Fatalf("Receipt(5) = %+v, %v; want a checkpoint of size 6", r2, err)
	}
	if _, err := l.Receipt(ctx, -1, "x", digestOf("0")); !errors.Is(err, audit.ErrOutOfRange) {
		t.Errorf("Receipt(-1) = %v, want ErrOutOfRange", err)
	}
	if _, err := l.Receipt(ctx, 6, "x", digestOf("0")); !errors.Is(err, audit.ErrOutOfRange) {
		t.Errorf("Receipt(6) beyond the log = %v, want ErrOutOfRange", err)
	}

	if _, err := audit.VerifyReceipt(r.Note, r.Checkpoint, r.Proof, other); !errors.Is(err, audit.ErrSignature) {
		t.Errorf("VerifyReceipt with another key = %v, want ErrSignature", err)
	}
	forged := []byte(strings.Replace(string(r.Note), "dk-police-aarhus", "dk-police-odense", 1))
	if _, err := audit.VerifyReceipt(forged, r.Checkpoint, r.Proof, verifier); err == nil {
		t.Error("VerifyReceipt of a receipt whose recipient was changed = nil error")
	}
	if _, err := audit.VerifyReceipt(r.Note, r2.Checkpoint, r.Proof, verifier); err == nil {
		t.Error("VerifyReceipt against another checkpoint than the one named = nil error")
	}
	bad := append(r.Proof[:0:0], r.Proof...)
	bad[0][0] ^= 1
	if _, err := audit.VerifyReceipt(r.Note, r.Checkpoint, bad, verifier); !errors.Is(err, audit.ErrRootMismatch) {
		t.Errorf("VerifyReceipt with a changed proof = %v, want ErrRootMismatch", err)
	}
	// A proof with a hash missing or one more is no proof at all: it is
	// malformed, not a proof that does not verify.
	for name, p := range map[string]tlog.RecordProof{"a hash missing": r.Proof[:len(r.Proof)-1], "one hash more": append(slices.Clone(r.Proof), r.Proof[0])} {
		if _, err := audit.VerifyReceipt(r.Note, r.Checkpoint, p, verifier); !errors.Is(err, audit.ErrMalformedProof) || errors.Is(err, audit.ErrRootMismatch) {
			t.Errorf("VerifyReceipt with %s = %v, want ErrMalformedProof alone", name, err)
		}
	}
}

// TestReceiptDigestOneSpelling checks that a receipt's digest is read and
// signed only as sha256: and 64 lowercase hex digits: the same hash in
// upper case, or a digest cut short, is refused by ParseReceipt, and
// Receipt does not sign one.
func TestReceiptDigestOneSpelling(t *testing.T) {
	signer, _ := newKey(t, "audit.test")
	l := newLog(t, audit.Config{Signer: signer})
	ctx := t.Context()
	if _, err := l.Append(ctx, entry(0)); err != nil {
		t.Fatal(err)
	}
	good := digestOf("content")
	r, err := l.Receipt(ctx, 0, "dk-police-aarhus", good)
	if err != nil {
		t.Fatalf("Receipt() = %v", err)
	}
	text := r.Body.String()
	if _, err := audit.ParseReceipt(text); err != nil {
		t.Fatalf("ParseReceipt(as signed) = %v", err)
	}
	for name, d := range map[string]string{
		"upper case":      "sha256:" + strings.ToUpper(strings.TrimPrefix(good, "sha256:")),
		"cut short":       good[:len(good)-1],
		"too long":        good + "0",
		"no hash":         "sha256:",
		"other algorithm": "sha512:" + strings.TrimPrefix(good, "sha256:"),
	} {
		if _, err := audit.ParseReceipt(strings.Replace(text, good, d, 1)); err == nil {
			t.Errorf("ParseReceipt(digest %s) = nil error", name)
		}
		if _, err := l.Receipt(ctx, 0, "dk-police-aarhus", d); err == nil {
			t.Errorf("Receipt(digest %s) = nil error", name)
		}
	}
}

// readCountingStore counts the reads of leaves and of stored hashes.
type readCountingStore struct {
	audit.Store
	leafReads, hashReads atomic.Int64
}

func (c *readCountingStore) ReadLeaves(ctx context.Context, start, end int64) ([][]byte, error) {
	c.leafReads.Add(1)
	return c.Store.ReadLeaves(ctx, start, end)
}

func (c *readCountingStore) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	c.hashReads.Add(1)
	return c.Store.ReadHashes(ctx, indexes)
}

// TestReceiptReadsOnce: a receipt under a checkpoint that covers its
// entry costs the store one read, of the proof's hashes with the leaf's
// own, and its leaf hash is the leaf's record hash, in trees of one leaf
// and more.
func TestReceiptReadsOnce(t *testing.T) {
	t.Parallel()
	signer, verifier := newKey(t, "audit.test")
	cs := &readCountingStore{Store: openStore(t)}
	l := newLog(t, audit.Config{Signer: signer, Store: cs})
	ctx := t.Context()
	for n := range 7 {
		if _, err := l.Append(ctx, entry(n)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		leaves, err := cs.Store.ReadLeaves(ctx, 0, int64(n+1))
		if err != nil {
			t.Fatal(err)
		}
		for i := range int64(n + 1) {
			leafReads, hashReads := cs.leafReads.Load(), cs.hashReads.Load()
			r, err := l.Receipt(ctx, i, "dk-police-aarhus", digestOf("abc"))
			if err != nil {
				t.Fatalf("Receipt(%d) in a tree of %d = %v", i, n+1, err)
			}
			if got := cs.hashReads.Load() - hashReads; got != 1 || cs.leafReads.Load() != leafReads {
				t.Errorf("Receipt(%d) in a tree of %d read hashes %d times and leaves %d times, want once and never", i, n+1, got, cs.leafReads.Load()-leafReads)
			}
			if r.Body.LeafHash != tlog.RecordHash(leaves[i]) {
				t.Errorf("Receipt(%d) in a tree of %d: leaf hash %v, want the leaf's record hash %v", i, n+1, r.Body.LeafHash, tlog.RecordHash(leaves[i]))
			}
			if _, err := audit.VerifyReceipt(r.Note, r.Checkpoint, r.Proof, verifier); err != nil {
				t.Errorf("VerifyReceipt(%d) in a tree of %d = %v", i, n+1, err)
			}
		}
	}
}
