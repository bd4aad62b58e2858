package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// trustState is the officer's trusted checkpoint, in the same file that
// `liaison audit verify -state` keeps, with a history beside it
// (FILE.history, one JSON object a line) that says since when the
// officer has trusted the log, when each checkpoint came to be trusted,
// and every failed check. The history is informative: the trusted
// checkpoint itself is what [audit.Client] checks against.
type trustState struct {
	file    audit.TrustFile
	history string
	v       note.Verifier
	now     func() time.Time

	mu sync.Mutex // serialises writes to the history
}

// An event is one line of the history.
type event struct {
	Time time.Time `json:"time"`
	// Trusted: a checkpoint became the trusted one.
	Size int64  `json:"size,omitempty"`
	Root string `json:"root,omitempty"`
	// First: this checkpoint began the officer's trust in the log: the
	// state file held none (trust on first use, or the officer removed
	// it to trust the log afresh). Trust is counted from the last such
	// event.
	First bool `json:"first,omitempty"`
	// Failure: a check failed, and why.
	Failure string `json:"failure,omitempty"`
}

func newTrustState(path string, v note.Verifier, now func() time.Time) *trustState {
	return &trustState{file: audit.TrustFile(path), history: path + ".history", v: v, now: now}
}

// ReadTrusted implements [audit.TrustStore].
func (t *trustState) ReadTrusted(ctx context.Context) ([]byte, error) {
	return t.file.ReadTrusted(ctx)
}

// WriteTrusted implements [audit.TrustStore]: it replaces the trusted
// checkpoint and notes it in the history if it differs from the last one
// noted, or if it begins the officer's trust afresh (see event.First).
func (t *trustState) WriteTrusted(ctx context.Context, signed []byte) error {
	prev, _ := t.file.ReadTrusted(ctx)
	if err := t.file.WriteTrusted(ctx, signed); err != nil {
		return err
	}
	cp, err := audit.OpenCheckpoint(signed, t.v)
	if err != nil {
		return nil // not ours to judge here; the Client checked it
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	hist, _ := t.read()
	e := event{Time: t.now().UTC(), Size: cp.Size, Root: cp.Hash.String(), First: len(prev) == 0}
	if last := lastTrusted(hist); !e.First && last != nil && last.is(cp) {
		return nil
	}
	return t.append(e)
}

// is reports whether e notes cp as trusted.
func (e *event) is(cp audit.Checkpoint) bool {
	return e.Failure == "" && e.Size == cp.Size && e.Root == cp.Hash.String()
}

// failed notes a failed check in the history.
func (t *trustState) failed(why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.append(event{Time: t.now().UTC(), Failure: why})
}

func (t *trustState) append(e event) error {
	f, err := os.OpenFile(t.history, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("console: trust history: %w", err)
	}
	b, _ := json.Marshal(e)
	_, werr := f.Write(append(b, '\n'))
	return errors.Join(werr, f.Close())
}

// read returns the history, oldest first; a missing file is empty.
func (t *trustState) read() ([]event, error) {
	f, err := os.Open(t.history)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// since returns when the state file was last written, if it exists: the
// time the trusted checkpoint became trusted when the history does not
// say (the command line's `audit verify` keeps no history).
func (t *trustState) modTime() (time.Time, bool) {
	fi, err := os.Stat(string(t.file))
	if err != nil {
		return time.Time{}, false
	}
	return fi.ModTime().UTC(), true
}

// trustedSince returns when the officer's current trust in the log
// began: the last event that began it afresh (see event.First), or that
// noted a checkpoint no larger than the one trusted before it yet another
// (a history written before First was noted), or else the first trusted
// checkpoint. It is the zero time if the history notes none.
func trustedSince(h []event) time.Time {
	var since time.Time
	var prev *event
	for i := range h {
		e := &h[i]
		if e.Failure != "" {
			continue
		}
		if since.IsZero() || e.First || (prev != nil && e.Size <= prev.Size) {
			since = e.Time
		}
		prev = e
	}
	return since
}

// trustedAt returns when cp became the trusted checkpoint, as the
// history notes it: its latest event (the history notes a checkpoint
// again only when another came between).
func trustedAt(h []event, cp audit.Checkpoint) (time.Time, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].is(cp) {
			return h[i].Time, true
		}
	}
	return time.Time{}, false
}

func lastTrusted(h []event) *event {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Failure == "" {
			return &h[i]
		}
	}
	return nil
}
