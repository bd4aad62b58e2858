package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A Checkpoint is the body of a signed checkpoint, in the C2SP
// tlog-checkpoint format: it commits to the tree of the first Size leaves of
// the log named Origin, whose root hash is Hash.
type Checkpoint struct {
	Origin string
	Size   int64
	Hash   tlog.Hash
}

// String returns the checkpoint body: the origin, the decimal size and the
// base64 root hash, each followed by a newline. It is the text of the note.
func (c Checkpoint) String() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash[:]))
}

// ParseCheckpoint parses a checkpoint body as produced by [Checkpoint.String].
// It accepts, and ignores, the optional extension lines that may follow the
// first three.
func ParseCheckpoint(text string) (Checkpoint, error) {
	bad := func(why string) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("audit: parse checkpoint: %s", why)
	}
	if !strings.HasSuffix(text, "\n") {
		return bad("no final newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return bad("fewer than three lines")
	}
	for _, line := range lines[3:] {
		if line == "" {
			return bad("empty extension line")
		}
	}
	origin, sizeText, hashText := lines[0], lines[1], lines[2]
	if origin == "" {
		return bad("empty origin")
	}
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != sizeText {
		return bad(fmt.Sprintf("malformed tree size %q", sizeText))
	}
	raw, err := base64.StdEncoding.DecodeString(hashText)
	// One spelling: the decoder alone skips line breaks and ignores the
	// spare bits of the last character.
	if err != nil || len(raw) != tlog.HashSize || base64.StdEncoding.EncodeToString(raw) != hashText {
		return bad(fmt.Sprintf("malformed root hash %q", hashText))
	}
	c := Checkpoint{Origin: origin, Size: size}
	copy(c.Hash[:], raw)
	return c, nil
}

// OpenCheckpoint verifies that signed is a note signed by v and parses its
// body. A missing or invalid signature is reported as an error wrapping
// [ErrSignature].
func OpenCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := OpenNote(signed, note.VerifierList(v))
	if err != nil {
		if _, ok := errors.AsType[*note.UnverifiedNoteError](err); ok {
			return Checkpoint{}, fmt.Errorf("%w: no signature by %s+%08x", ErrSignature, v.Name(), v.KeyHash())
		}
		if _, ok := errors.AsType[*note.InvalidSignatureError](err); ok {
			return Checkpoint{}, fmt.Errorf("%w: invalid signature by %s+%08x", ErrSignature, v.Name(), v.KeyHash())
		}
		return Checkpoint{}, fmt.Errorf("audit: open checkpoint: %v", err)
	}
	return ParseCheckpoint(n.Text)
}

// Checkpoint returns the latest signed checkpoint, first signing and
// storing a fresh one if the tree grew since the last one this Log signed.
// With an Anchor, it first checks that the store still extends the
// checkpoint last recorded there, and records the new one there before
// storing it.
// The note is signed by Config.Signer; open it with [OpenCheckpoint].
func (l *Log) Checkpoint(ctx context.Context) (size int64, signedNote []byte, err error) {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	size, err = l.store.Size(ctx)
	if err != nil {
		return 0, nil, unavailable("checkpoint", err)
	}
	if l.cpNote != nil && size <= l.cpSize {
		return l.cpSize, l.cpNote, nil
	}
	if err := l.checkAnchored(ctx, size); err != nil {
		l.log.ErrorContext(ctx, "audit checkpoint refused", "tree_size", size, "error", err)
		return 0, nil, err
	}
	root, err := tlog.TreeHash(size, l.hashReader(ctx, "checkpoint"))
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return 0, nil, err
		}
		return 0, nil, fmt.Errorf("audit: checkpoint: tree hash of size %d: %v", size, err)
	}
	body := Checkpoint{Origin: l.origin, Size: size, Hash: root}.String()
	signed, err := note.Sign(&note.Note{Text: body}, l.signer)
	if err != nil {
		// A remote signer (a key service) can fail like a store can.
		return 0, nil, unavailable("checkpoint: sign", err)
	}
	// The anchor first: what the store holds must never be ahead of what
	// is recorded outside it.
	if l.anchor != nil {
		if err := l.anchor.Advance(ctx, size, signed); err != nil {
			return 0, nil, unavailable("checkpoint: record outside the store", err)
		}
		cp := Checkpoint{Origin: l.origin, Size: size, Hash: root}
		l.anchored = &cp
	}
	if err := l.store.SaveCheckpoint(ctx, size, signed); err != nil {
		return 0, nil, unavailable("checkpoint: save", err)
	}
	l.cpSize, l.cpNote = size, signed
	l.stats.signed(size, l.now())
	l.log.DebugContext(ctx, "audit checkpoint signed", "tree_size", size)
	return size, signed, nil
}

// checkpointLoop signs a checkpoint every interval while the tree grows.
func (l *Log) checkpointLoop() {
	defer l.wg.Done()
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		if _, _, err := l.Checkpoint(l.ctx); err != nil {
			l.log.WarnContext(l.ctx, "audit checkpoint failed", "error", err)
		}
	}
}
