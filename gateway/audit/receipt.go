package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// receiptHeader is the first line of a receipt's text. It cannot be read
// as a checkpoint (whose second line is a tree size), though both are
// signed with the log's key.
const receiptHeader = "liaison receipt v1"

// A ReceiptBody is what a receipt says: the entry at Index of the log
// Origin, whose leaf hashes to LeafHash, records a release to Recipient of
// content whose digest is Digest, and the checkpoint of TreeSize covers it.
type ReceiptBody struct {
	Origin    string
	Index     int64
	Recipient string
	Digest    string // "sha256:<hex>"
	LeafHash  tlog.Hash
	TreeSize  int64
}

// String returns the receipt's text: seven lines, each ending in a newline.
func (b ReceiptBody) String() string {
	return fmt.Sprintf("%s\n%s\n%d\n%s\n%s\n%s\n%d\n", receiptHeader, b.Origin, b.Index, b.Recipient, b.Digest,
		base64.StdEncoding.EncodeToString(b.LeafHash[:]), b.TreeSize)
}

// ParseReceipt parses a receipt's text as produced by [ReceiptBody.String].
func ParseReceipt(text string) (ReceiptBody, error) {
	bad := func(why string) (ReceiptBody, error) {
		return ReceiptBody{}, fmt.Errorf("audit: parse receipt: %s", why)
	}
	lines := strings.Split(text, "\n")
	if len(lines) != 8 || lines[7] != "" || lines[0] != receiptHeader {
		return bad("not seven lines starting with " + receiptHeader)
	}
	var b ReceiptBody
	b.Origin, b.Recipient, b.Digest = lines[1], lines[3], lines[4]
	var err error
	if b.Index, err = strconv.ParseInt(lines[2], 10, 64); err != nil || b.Index < 0 || strconv.FormatInt(b.Index, 10) != lines[2] {
		return bad("malformed index")
	}
	if b.TreeSize, err = strconv.ParseInt(lines[6], 10, 64); err != nil || b.TreeSize <= b.Index || strconv.FormatInt(b.TreeSize, 10) != lines[6] {
		return bad("malformed tree size, or one that does not cover the index")
	}
	raw, err := base64.StdEncoding.DecodeString(lines[5])
	if err != nil || len(raw) != tlog.HashSize || base64.StdEncoding.EncodeToString(raw) != lines[5] {
		return bad("malformed leaf hash")
	}
	copy(b.LeafHash[:], raw)
	if b.Origin == "" || b.Recipient == "" || b.Digest == "" {
		return bad("empty origin, recipient or digest")
	}
	if !ValidDigest(b.Digest) {
		return bad("digest not sha256: and 64 lowercase hex digits")
	}
	return b, nil
}

// ValidDigest reports whether d is a content digest in its one spelling:
// "sha256:" and the hash in 64 lowercase hex digits.
func ValidDigest(d string) bool {
	hexDigits, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hexDigits) != 64 {
		return false
	}
	for _, c := range []byte(hexDigits) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// A Receipt is the gateway's signed statement that it recorded a release,
// with what a recipient needs to check it offline: the signed checkpoint
// the receipt names and the inclusion proof of the entry's leaf hash in
// that checkpoint's tree.
type Receipt struct {
	Body       ReceiptBody
	Note       []byte // the signed receipt (C2SP signed note)
	Checkpoint []byte // the signed checkpoint of Body.TreeSize
	Proof      tlog.RecordProof
}

// Receipt signs a receipt for the release recorded at index to recipient,
// of content with the given digest, with the log's checkpoint key. It
// uses the latest checkpoint if it covers the entry, and signs one that
// does otherwise. The digest must be in its one spelling ([ValidDigest]):
// a receipt is never signed that [ParseReceipt] would refuse.
func (l *Log) Receipt(ctx context.Context, index int64, recipient, digest string) (*Receipt, error) {
	if !ValidDigest(digest) || recipient == "" {
		return nil, errors.New("audit: receipt: want a recipient and a digest of sha256: and 64 lowercase hex digits")
	}
	if index < 0 {
		return nil, fmt.Errorf("audit: receipt: entry %d: %w", index, ErrOutOfRange)
	}
	size, cp, err := l.checkpointCovering(ctx, index)
	if err != nil {
		return nil, err
	}
	// The checkpoint's tree holds index, and the store the tree: prove the
	// leaf directly, without reading the log's size again. The leaf's
	// hash is the tree's stored hash at level 0, the one the proof starts
	// from: it is read with the proof's hashes, in one store call.
	leafHash, proof, err := l.proveLeaf(ctx, size, index)
	if err != nil {
		return nil, err
	}
	body := ReceiptBody{Origin: l.origin, Index: index, Recipient: recipient, Digest: digest, LeafHash: leafHash, TreeSize: size}
	signed, err := note.Sign(&note.Note{Text: body.String()}, l.signer)
	if err != nil {
		return nil, unavailable("receipt: sign", err)
	}
	return &Receipt{Body: body, Note: signed, Checkpoint: cp, Proof: proof}, nil
}

// proveLeaf returns the record hash of leaf index, stored at level 0 of
// the tree, and its inclusion proof in the tree of size leaves, read in one
// call of the store's ReadHashes.
func (l *Log) proveLeaf(ctx context.Context, size, index int64) (tlog.Hash, tlog.RecordProof, error) {
	at := tlog.StoredHashIndex(0, index)
	read := l.hashReader(ctx, "receipt: inclusion proof")
	var leafHash tlog.Hash
	got := false
	proof, err := tlog.ProveRecord(size, index, tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hs, err := read.ReadHashes(append(slices.Clip(indexes), at))
		if err != nil {
			return nil, err
		}
		if len(hs) != len(indexes)+1 {
			return nil, unavailable("receipt: inclusion proof", fmt.Errorf("read %d hashes, want %d", len(hs), len(indexes)+1))
		}
		leafHash, got = hs[len(indexes)], true
		return hs[:len(indexes)], nil
	}))
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return leafHash, nil, err
		}
		return leafHash, nil, fmt.Errorf("audit: receipt: inclusion proof: %v", err)
	}
	if !got { // a tree of one leaf: the proof is empty and read nothing
		hs, err := read.ReadHashes([]int64{at})
		if err != nil {
			return leafHash, nil, err
		}
		if len(hs) != 1 {
			return leafHash, nil, unavailable("receipt: leaf hash", fmt.Errorf("read %d hashes, want 1", len(hs)))
		}
		leafHash = hs[0]
	}
	return leafHash, proof, nil
}

// checkpointCovering returns a signed checkpoint whose tree includes index:
// the one this Log signed last, or the latest stored (another replica's),
// or one signed for receipts. A receipt right after its entry was
// committed needs a checkpoint of a size no stored one has yet; that one
// is signed but not stored (the checkpoint loop stores one of at least
// that size within its interval): storing it would cost the store a
// durable write per release.
func (l *Log) checkpointCovering(ctx context.Context, index int64) (int64, []byte, error) {
	l.cpMu.Lock()
	size, cp := l.cpSize, l.cpNote
	l.cpMu.Unlock()
	if cp != nil && size > index {
		return size, cp, nil
	}
	l.rcMu.Lock()
	defer l.rcMu.Unlock()
	if l.rcNote != nil && l.rcSize > index {
		return l.rcSize, l.rcNote, nil
	}
	size, cp, err := l.store.LatestCheckpoint(ctx)
	if err != nil {
		return 0, nil, unavailable("receipt: checkpoint", err)
	}
	if cp != nil && size > index {
		return size, cp, nil
	}
	if size, err = l.Size(ctx); err != nil {
		return 0, nil, err
	}
	if size <= index {
		return 0, nil, fmt.Errorf("audit: receipt: entry %d is beyond the log of size %d: %w", index, size, ErrOutOfRange)
	}
	// As for any checkpoint: never sign a tree that does not extend the
	// one recorded outside the store (a store rolled back or rewritten
	// while open), which would be a fork signed by the log's key.
	l.cpMu.Lock()
	err = l.checkAnchored(ctx, size)
	l.cpMu.Unlock()
	if err != nil {
		l.log.ErrorContext(ctx, "audit checkpoint for a receipt refused", "tree_size", size, "error", err)
		return 0, nil, err
	}
	root, err := tlog.TreeHash(size, l.hashReader(ctx, "receipt: checkpoint"))
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return 0, nil, err
		}
		return 0, nil, fmt.Errorf("audit: receipt: tree hash of size %d: %v", size, err)
	}
	signed, err := note.Sign(&note.Note{Text: Checkpoint{Origin: l.origin, Size: size, Hash: root}.String()}, l.signer)
	if err != nil {
		return 0, nil, unavailable("receipt: sign checkpoint", err)
	}
	l.rcSize, l.rcNote = size, signed
	return size, signed, nil
}

// VerifyReceipt checks a receipt as a recipient would, offline: the
// receipt and the checkpoint are signed by v, the checkpoint is the one the
// receipt names, and the proof includes the receipt's leaf hash at its
// index in the checkpoint's tree. It returns what the receipt says. A proof
// with more or fewer hashes than one of that entry in that tree has is
// malformed ([ErrMalformedProof]); one of that shape that does not verify
// is [ErrRootMismatch].
func VerifyReceipt(receipt, checkpoint []byte, proof tlog.RecordProof, v note.Verifier) (ReceiptBody, error) {
	n, err := OpenNote(receipt, note.VerifierList(v))
	if err != nil {
		return ReceiptBody{}, fmt.Errorf("%w: receipt: %v", ErrSignature, err)
	}
	b, err := ParseReceipt(n.Text)
	if err != nil {
		return ReceiptBody{}, err
	}
	c, err := OpenCheckpoint(checkpoint, v)
	if err != nil {
		return ReceiptBody{}, err
	}
	if c.Origin != b.Origin || c.Size != b.TreeSize {
		return ReceiptBody{}, fmt.Errorf("audit: receipt names checkpoint %s/%d, got %s/%d", b.Origin, b.TreeSize, c.Origin, c.Size)
	}
	if n, err := recordProofLen(b.Index, c.Size); err != nil {
		return ReceiptBody{}, err
	} else if len(proof) != n {
		return ReceiptBody{}, fmt.Errorf("%w: receipt: the inclusion proof of entry %d in the tree of size %d has %d hashes, not %d", ErrMalformedProof, b.Index, c.Size, len(proof), n)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Hash, b.Index, b.LeafHash); err != nil {
		return ReceiptBody{}, fmt.Errorf("%w: receipt: entry %d: %v", ErrRootMismatch, b.Index, err)
	}
	return b, nil
}
