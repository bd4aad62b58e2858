package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/liaison-gateway/liaison/internal/atomicfile"
)

// An Anchor keeps the latest checkpoint a [Log] signed outside the store
// the Log checks, so that the Log can tell, when it opens, that the store
// was rolled back (restored from an older backup, or rows deleted) or
// rewritten, even when the checkpoints stored beside the leaves were
// rolled back with them. Keep it with the signing key: a file beside the
// key file ([FileAnchor]); for replicas sharing a key service, in that
// service (the vaultsign package has one in Vault).
type Anchor interface {
	// Latest returns the signed checkpoint recorded, or nil if none is.
	Latest(ctx context.Context) ([]byte, error)
	// Advance records signed, a signed checkpoint of a tree of size
	// entries, durably before it returns, unless the checkpoint recorded
	// already covers as many entries or more. What is recorded MUST never
	// move back, also when several Logs (replicas sharing a store and a
	// signer) advance it at once.
	Advance(ctx context.Context, size int64, signed []byte) error
}

// FileAnchor is an [Anchor] in a file holding the latest signed checkpoint
// as a C2SP signed note. Advance replaces the file atomically: it writes a
// temporary file beside it, syncs it, renames it over the old one and
// syncs the directory. Within a process, advances are serialised; several
// processes advancing one file at once can move it back by a checkpoint,
// which weakens the check but never makes it refuse an honest store: give
// replicas an anchor in their key service instead.
type FileAnchor struct {
	path string
	mu   sync.Mutex
}

var _ Anchor = (*FileAnchor)(nil)

// NewFileAnchor returns the anchor in the file at path. The file need not
// exist; Advance creates it.
func NewFileAnchor(path string) *FileAnchor { return &FileAnchor{path: path} }

// String names the file, for messages.
func (a *FileAnchor) String() string { return a.path }

// Latest returns the checkpoint in the file, or nil if there is no file.
func (a *FileAnchor) Latest(context.Context) ([]byte, error) {
	b, err := os.ReadFile(a.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read anchor: %v", err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("audit: read anchor: %s is empty", a.path)
	}
	return b, nil
}

// Advance replaces the file with signed unless the file's checkpoint
// covers size entries or more. It refuses to replace a file it cannot
// parse: that is for an operator to look at.
func (a *FileAnchor) Advance(ctx context.Context, size int64, signed []byte) error {
	if _, err := noteCheckpoint(signed); err != nil {
		return fmt.Errorf("audit: advance anchor: %v", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cur, err := a.Latest(ctx)
	if err != nil {
		return err
	}
	if cur != nil {
		c, err := noteCheckpoint(cur)
		if err != nil {
			return fmt.Errorf("audit: advance anchor: %s: %v", a.path, err)
		}
		if c.Size >= size {
			return nil
		}
	}
	// Durably (atomicfile.Replace): a reader sees the old or the new
	// checkpoint, never a part, and after a crash the new one if Advance
	// returned nil, its directory synced too.
	if err := atomicfile.Replace(a.path, signed, 0o644); err != nil {
		return fmt.Errorf("audit: advance anchor: %v", err)
	}
	return nil
}

// noteCheckpoint parses the checkpoint in a signed note without checking
// its signatures: the text up to the blank line that precedes them.
func noteCheckpoint(signed []byte) (Checkpoint, error) {
	i := bytes.Index(signed, []byte("\n\n"))
	if i < 0 {
		return Checkpoint{}, errors.New("audit: not a signed note")
	}
	return ParseCheckpoint(string(signed[:i+1]))
}
