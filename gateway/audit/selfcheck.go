package audit

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// checkStore compares the store with the latest checkpoint in the Anchor
// and the latest one stored in it, and looks for rows missing from it,
// before anything is appended. It returns the store's size.
//
// It reads the anchor first, the store's checkpoint next and the store's
// size last: a checkpoint is signed only over entries already committed,
// so an honest store never holds fewer entries than either covers, even
// while other replicas append.
func (l *Log) checkStore(ctx context.Context) (int64, error) {
	var anchored *Checkpoint
	if l.anchor != nil {
		signed, err := l.anchor.Latest(ctx)
		if err != nil {
			return 0, fmt.Errorf("audit: open: read the last signed checkpoint%s: %w", l.anchorName(), err)
		}
		if signed != nil {
			cp, err := l.parseCheckpoint(signed)
			if err != nil {
				return 0, fmt.Errorf("audit: open: the last signed checkpoint%s: %v", l.anchorName(), err)
			}
			anchored = &cp
		}
	}
	var stored *Checkpoint
	_, storedNote, err := l.store.LatestCheckpoint(ctx)
	if err != nil {
		return 0, unavailable("open", err)
	}
	if storedNote != nil {
		cp, err := l.parseCheckpoint(storedNote)
		if err != nil {
			return 0, fmt.Errorf("audit: open: the store's latest checkpoint: %v", err)
		}
		stored = &cp
	}
	st, err := l.store.Stat(ctx)
	if err != nil {
		return 0, unavailable("open", err)
	}

	if anchored != nil && st.Size < anchored.Size {
		return 0, storeErr(ErrTruncated, "audit store rolled back: the last signed checkpoint%s covers %d entries, the store holds %d", l.anchorName(), anchored.Size, st.Size)
	}
	if stored != nil && st.Size < stored.Size {
		return 0, storeErr(ErrTruncated, "audit store rolled back: its own latest checkpoint covers %d entries, the store holds %d", stored.Size, st.Size)
	}
	if st.Leaves != st.Size {
		return 0, storeErr(ErrTruncated, "audit store has a gap: its entries run to index %d, but it holds only %d of them (rows deleted)", st.Size-1, st.Leaves)
	}
	if want := tlog.StoredHashCount(st.Size); st.Hashes != want {
		return 0, storeErr(ErrTruncated, "audit store damaged: %d entries need %d stored hashes, it holds %d (rows deleted)", st.Size, want, st.Hashes)
	}
	for _, c := range []struct {
		what string
		cp   *Checkpoint
	}{
		{"the last signed checkpoint" + l.anchorName(), anchored},
		{"the store's own latest checkpoint", stored},
	} {
		if c.cp == nil {
			continue
		}
		root, err := tlog.TreeHash(c.cp.Size, l.hashReader(ctx, "open"))
		if errors.Is(err, ErrUnavailable) {
			return 0, err
		}
		if err != nil {
			return 0, storeErr(ErrTruncated, "audit store damaged: the tree of its first %d entries: %v", c.cp.Size, err)
		}
		if root != c.cp.Hash {
			return 0, storeErr(ErrFork, "audit store forked: its first %d entries hash to %v, %s says %v", c.cp.Size, root, c.what, c.cp.Hash)
		}
	}

	l.anchored = anchored
	if l.anchor != nil && stored != nil && (anchored == nil || stored.Size > anchored.Size) {
		// The store holds a checkpoint the anchor lacks: the first start
		// with this anchor, or the anchor was restored from a backup. The
		// checkpoint matches the store, so record it.
		if l.verifier != nil {
			if _, err := OpenCheckpoint(storedNote, l.verifier); err != nil {
				l.log.WarnContext(ctx, "the store's latest checkpoint is not signed by this log's key; not recorded outside the store",
					"tree_size", stored.Size, "error", err)
				l.stats.open(st.Size, coveredSize(anchored), l.now())
				return st.Size, nil
			}
		}
		if err := l.anchor.Advance(ctx, stored.Size, storedNote); err != nil {
			return 0, fmt.Errorf("audit: open: record the store's latest checkpoint%s: %w", l.anchorName(), err)
		}
		l.log.WarnContext(ctx, "no signed checkpoint was recorded outside the store this far: recorded the store's latest",
			"tree_size", stored.Size, "anchor", fmt.Sprint(l.anchor))
		l.anchored = stored
	}
	if l.anchored != nil {
		l.log.InfoContext(ctx, "audit store extends the last signed checkpoint", "signed_tree_size", l.anchored.Size, "tree_size", st.Size)
	}
	l.stats.open(st.Size, coveredSize(anchored, stored), l.now())
	return st.Size, nil
}

// coveredSize is the size of the larger of two checkpoints the store was
// found to match, 0 for none.
func coveredSize(cps ...*Checkpoint) int64 {
	var n int64
	for _, cp := range cps {
		if cp != nil {
			n = max(n, cp.Size)
		}
	}
	return n
}

// parseCheckpoint parses a signed checkpoint of this log without checking
// its signature: it comes from the anchor, which is trusted, or from the
// store, where it is compared with the store's own tree.
func (l *Log) parseCheckpoint(signed []byte) (Checkpoint, error) {
	cp, err := noteCheckpoint(signed)
	if err != nil {
		return Checkpoint{}, err
	}
	if cp.Origin != l.origin {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint of the log %q, this log is %q", cp.Origin, l.origin)
	}
	return cp, nil
}

// anchorName is " (in <anchor>)" if the anchor names itself, for messages.
func (l *Log) anchorName() string {
	if s, ok := l.anchor.(fmt.Stringer); ok {
		return " (in " + s.String() + ")"
	}
	return ""
}

// checkAnchored checks, before a checkpoint of a tree of size entries is
// signed, that the store still extends the checkpoint last recorded in
// the anchor. The caller holds cpMu.
func (l *Log) checkAnchored(ctx context.Context, size int64) error {
	a := l.anchored
	if a == nil {
		return nil
	}
	if size < a.Size {
		return storeErr(ErrTruncated, "audit store rolled back while open: the last signed checkpoint covers %d entries, the store holds %d", a.Size, size)
	}
	root, err := tlog.TreeHash(a.Size, l.hashReader(ctx, "checkpoint"))
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	if err != nil {
		return storeErr(ErrTruncated, "audit store damaged: the tree of its first %d entries: %v", a.Size, err)
	}
	if root != a.Hash {
		return storeErr(ErrFork, "audit store rewritten while open: its first %d entries no longer hash to the signed root", a.Size)
	}
	return nil
}

// A storeError is a problem with the store found by the Log's own checks:
// its message says what was found, and it wraps ErrTruncated or ErrFork.
type storeError struct {
	kind error
	msg  string
}

func storeErr(kind error, format string, args ...any) error {
	return &storeError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func (e *storeError) Error() string { return e.msg }
func (e *storeError) Unwrap() error { return e.kind }
