package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

func TestNewValidatesConfig(t *testing.T) {
	store := openStore(t)
	signer, _ := newKey(t, "audit.test")
	for _, tc := range []struct {
		name string
		cfg  audit.Config
	}{
		{"no_store", audit.Config{Signer: signer}},
		{"no_signer", audit.Config{Store: store}},
		{"negative_interval", audit.Config{Store: store, Signer: signer, CheckpointInterval: -time.Second}},
		{"negative_batch", audit.Config{Store: store, Signer: signer, MaxBatch: -1}},
		{"origin_with_newline", audit.Config{Store: store, Signer: signer, Origin: "a\nb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if l, err := audit.New(t.Context(), tc.cfg); err == nil {
				l.Close(t.Context())
				t.Errorf("New(%+v) = nil error, want an error", tc.cfg)
			}
		})
	}
}

func TestNewFailsOnClosedStore(t *testing.T) {
	store := openStore(t)
	store.Close()
	signer, _ := newKey(t, "audit.test")
	_, err := audit.New(t.Context(), audit.Config{Store: store, Signer: signer})
	if !errors.Is(err, audit.ErrUnavailable) {
		t.Errorf("New(closed store) = %v, want ErrUnavailable", err)
	}
}

func TestAppendConsecutive(t *testing.T) {
	now := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	l := newLog(t, audit.Config{Now: func() time.Time { return now }})
	ctx := t.Context()
	for i := range 10 {
		e := entry(i)
		if i == 4 {
			e.Time = time.Time{}
		}
		idx, err := l.Append(ctx, e)
		if err != nil || idx != int64(i) {
			t.Fatalf("Append(entry %d) = %d, %v; want %d, nil", i, idx, err, i)
		}
		if i == 4 && !e.Time.IsZero() {
			t.Errorf("Append() modified the caller's entry: Time = %v", e.Time)
		}
	}
	recs, err := l.Query(ctx, audit.Filter{Start: 4, Limit: 1})
	if err != nil || len(recs) != 1 {
		t.Fatalf("Query(Start 4) = %d records, %v; want 1", len(recs), err)
	}
	if !recs[0].Entry.Time.Equal(now) {
		t.Errorf("entry 4 appended without a time recorded %v, want Config.Now() = %v", recs[0].Entry.Time, now)
	}
	if n, err := l.Size(ctx); n != 10 || err != nil {
		t.Errorf("Size() = %d, %v; want 10, nil", n, err)
	}
}

func TestAppendValidates(t *testing.T) {
	l := newLog(t, audit.Config{})
	noAction := entry(0)
	noAction.Action = ""
	noOutcome := entry(0)
	noOutcome.Outcome = ""
	for _, tc := range []struct {
		name       string
		e          *audit.Entry
		deliveries []audit.Delivery
	}{
		{"nil", nil, nil},
		{"no_action", noAction, nil},
		{"no_outcome", noOutcome, nil},
		{"delivery_without_recipient", entry(0), []audit.Delivery{{Kind: "k"}}},
	} {
		idx, err := l.Append(t.Context(), tc.e, tc.deliveries...)
		if err == nil || idx != -1 || errors.Is(err, audit.ErrUnavailable) {
			t.Errorf("%s: Append() = %d, %v; want -1 and an error that is not ErrUnavailable", tc.name, idx, err)
		}
	}
	complete := audit.Fingerprint{Recipient: "police-nl", Subject: "apsn:s1", RequestID: "req-0"}
	for name, f := range map[string]func(*audit.Fingerprint){
		"fingerprint_without_recipient":  func(f *audit.Fingerprint) { f.Recipient = "" },
		"fingerprint_without_subject":    func(f *audit.Fingerprint) { f.Subject = "" },
		"fingerprint_without_request_id": func(f *audit.Fingerprint) { f.RequestID = "" },
	} {
		fp := complete
		f(&fp)
		idx, err := l.AppendRelease(t.Context(), entry(0), []audit.Fingerprint{complete, fp})
		if err == nil || idx != -1 || errors.Is(err, audit.ErrUnavailable) {
			t.Errorf("%s: AppendRelease() = %d, %v; want -1 and an error that is not ErrUnavailable", name, idx, err)
		}
	}
	if n, _ := l.Size(t.Context()); n != 0 {
		t.Errorf("Size() after invalid appends = %d, want 0", n)
	}
	if idx, err := l.AppendRelease(t.Context(), entry(0), []audit.Fingerprint{complete}); err != nil || idx != 0 {
		t.Errorf("AppendRelease() with a complete fingerprint = %d, %v; want 0, nil", idx, err)
	}
}

// TestGroupCommit holds the first store transaction while 63 more appends
// queue up, and checks that they are committed together.
func TestGroupCommit(t *testing.T) {
	for _, tc := range []struct {
		maxBatch int
		want     []int // batch sizes handed to the store
	}{
		{0, []int{1, 63}},
		{10, []int{1, 10, 10, 10, 10, 10, 10, 3}},
	} {
		synctest.Test(t, func(t *testing.T) {
			cs := &countingStore{Store: openStore(t), hold: make(chan struct{}), batchSizes: make(chan int, 64)}
			l := newLog(t, audit.Config{Store: cs, MaxBatch: tc.maxBatch})
			indexes := make([]int64, 64)
			var wg sync.WaitGroup
			appendOne := func(i int) {
				wg.Go(func() {
					idx, err := l.Append(t.Context(), entry(i))
					if err != nil {
						t.Errorf("Append(entry %d) = %v", i, err)
					}
					indexes[i] = idx
				})
			}
			appendOne(0)
			synctest.Wait() // the first batch is held in the store
			for i := 1; i < 64; i++ {
				appendOne(i)
			}
			synctest.Wait() // the others are queued
			close(cs.hold)
			wg.Wait()
			close(cs.batchSizes)
			var sizes []int
			for n := range cs.batchSizes {
				sizes = append(sizes, n)
			}
			if !slices.Equal(sizes, tc.want) {
				t.Errorf("MaxBatch %d: batch sizes = %v, want %v", tc.maxBatch, sizes, tc.want)
			}
			slices.Sort(indexes)
			for i, idx := range indexes {
				if idx != int64(i) {
					t.Fatalf("sorted indexes returned by Append = %v, want 0..63", indexes)
				}
			}
		})
	}
}

func TestAppendCancelledBeforeHandover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &countingStore{Store: openStore(t), hold: make(chan struct{})}
		l := newLog(t, audit.Config{Store: cs})
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := l.Append(t.Context(), entry(0)); err != nil {
				t.Errorf("Append(entry 0) = %v", err)
			}
		})
		synctest.Wait() // entry 0 is in the store, held
		ctx, cancel := context.WithCancel(t.Context())
		var err error
		wg.Go(func() {
			_, err = l.Append(ctx, entry(1))
		})
		synctest.Wait() // entry 1 is queued
		cancel()
		synctest.Wait()
		close(cs.hold)
		wg.Wait()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Append(entry 1) cancelled while queued = %v, want context.Canceled", err)
		}
		if n, _ := l.Size(t.Context()); n != 1 {
			t.Errorf("Size() = %d, want 1: a cancelled append must not be recorded", n)
		}
		if idx, err := l.Append(t.Context(), entry(2)); idx != 1 || err != nil {
			t.Errorf("Append(entry 2) = %d, %v; want 1, nil", idx, err)
		}
	})
}

func TestAppendCancelledAfterHandover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &countingStore{Store: openStore(t), hold: make(chan struct{})}
		l := newLog(t, audit.Config{Store: cs})
		ctx, cancel := context.WithCancel(t.Context())
		var idx int64
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			idx, err = l.Append(ctx, entry(0))
		}()
		synctest.Wait() // in the store
		cancel()
		synctest.Wait()
		close(cs.hold)
		<-done
		if idx != 0 || err != nil {
			t.Errorf("Append() cancelled after handover = %d, %v; want 0, nil (the entry was committed)", idx, err)
		}
	})
}

func TestAppendStoreUnavailable(t *testing.T) {
	store := openStore(t)
	signer, _ := newKey(t, "audit.test")
	l, err := audit.New(t.Context(), audit.Config{Store: store, Signer: signer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	defer func() {
		if err := l.Close(ctx); !errors.Is(err, audit.ErrUnavailable) {
			t.Errorf("Close() with a closed store = %v, want ErrUnavailable from the final checkpoint", err)
		}
	}()
	if _, err := l.Append(ctx, entry(0)); err != nil {
		t.Fatalf("Append() = %v", err)
	}
	store.Close()
	idx, err := l.Append(ctx, entry(1))
	if !errors.Is(err, audit.ErrUnavailable) || idx != -1 {
		t.Errorf("Append() on a closed store = %d, %v; want -1, ErrUnavailable", idx, err)
	}
	if !strings.HasPrefix(err.Error(), "audit: append: ") {
		t.Errorf("Append() error = %q, want the prefix %q", err, "audit: append: ")
	}
	if _, _, err := l.Checkpoint(ctx); !errors.Is(err, audit.ErrUnavailable) {
		t.Errorf("Checkpoint() on a closed store = %v, want ErrUnavailable", err)
	}
	if _, err := l.InclusionProof(ctx, 0, 1); !errors.Is(err, audit.ErrUnavailable) {
		t.Errorf("InclusionProof() on a closed store = %v, want ErrUnavailable", err)
	}
	if _, err := l.Query(ctx, audit.Filter{}); !errors.Is(err, audit.ErrUnavailable) {
		t.Errorf("Query() on a closed store = %v, want ErrUnavailable", err)
	}
	if _, err := l.Inbox(ctx, "police-nl", 0, 0); !errors.Is(err, audit.ErrUnavailable) {
		t.Errorf("Inbox() on a closed store = %v, want ErrUnavailable", err)
	}
	if err := l.Ack(ctx, "police-nl", 1); !errors.Is(err, audit.ErrUnavailable) {
		t.Errorf("Ack() on a closed store = %v, want ErrUnavailable", err)
	}
}

func TestAppendAfterClose(t *testing.T) {
	store := openStore(t)
	signer, _ := newKey(t, "audit.test")
	l, err := audit.New(t.Context(), audit.Config{Store: store, Signer: signer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if _, err := l.Append(t.Context(), entry(0)); !errors.Is(err, audit.ErrUnavailable) {
		t.Errorf("Append() after Close = %v, want ErrUnavailable", err)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

// TestCloseCommitsQueued closes the Log while appends wait: they are all
// committed, and the final checkpoint covers them.
func TestCloseCommitsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &countingStore{Store: openStore(t), hold: make(chan struct{})}
		signer, _ := newKey(t, "audit.test")
		l, err := audit.New(t.Context(), audit.Config{Store: cs, Signer: signer, CheckpointInterval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				if _, err := l.Append(t.Context(), entry(i)); err != nil {
					t.Errorf("Append(entry %d) = %v", i, err)
				}
			})
			synctest.Wait()
		}
		var closeErr error
		wg.Go(func() { closeErr = l.Close(t.Context()) })
		synctest.Wait()
		if _, err := l.Append(t.Context(), entry(9)); !errors.Is(err, audit.ErrUnavailable) {
			t.Errorf("Append() while closing = %v, want ErrUnavailable", err)
		}
		close(cs.hold)
		wg.Wait()
		if closeErr != nil {
			t.Errorf("Close() = %v", closeErr)
		}
		size, _, err := cs.LatestCheckpoint(t.Context())
		if size != 5 || err != nil {
			t.Errorf("LatestCheckpoint() after Close = %d, %v; want 5, nil", size, err)
		}
	})
}

func TestCheckpoint(t *testing.T) {
	cs := &countingStore{Store: openStore(t)}
	signer, verifier := newKey(t, "audit.test")
	l := newLog(t, audit.Config{Store: cs, Signer: signer, Origin: "audit.test/log", CheckpointInterval: time.Hour})
	ctx := t.Context()
	for i := range 5 {
		if _, err := l.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	size, signed, err := l.Checkpoint(ctx)
	if err != nil || size != 5 {
		t.Fatalf("Checkpoint() = %d, %v; want 5, nil", size, err)
	}
	n, err := note.Open(signed, note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("note.Open(checkpoint) = %v", err)
	}
	c, err := audit.ParseCheckpoint(n.Text)
	if err != nil {
		t.Fatalf("ParseCheckpoint(%q) = %v", n.Text, err)
	}
	root, err := tlog.TreeHash(5, tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) { return cs.ReadHashes(ctx, ix) }))
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := l.Leaves(ctx, 0, 5)
	if err != nil {
		t.Fatalf("Leaves(0, 5) = %v", err)
	}
	memRoot, _ := audit.RootHash(leaves)
	want := audit.Checkpoint{Origin: "audit.test/log", Size: 5, Hash: root}
	if c != want || memRoot != root {
		t.Errorf("checkpoint = %+v, want %+v (in-memory root %v)", c, want, memRoot)
	}
	if lines := strings.Split(n.Text, "\n"); len(lines) != 4 || lines[3] != "" {
		t.Errorf("checkpoint body = %q, want three lines each ending in a newline", n.Text)
	}
	if s, stored, _ := cs.LatestCheckpoint(ctx); s != 5 || string(stored) != string(signed) {
		t.Errorf("LatestCheckpoint() = %d, %q; want the signed checkpoint of size 5", s, stored)
	}

	// Not grown: the same checkpoint, not signed or stored again.
	saved := cs.checkpoints.Load()
	size2, signed2, err := l.Checkpoint(ctx)
	if err != nil || size2 != 5 || string(signed2) != string(signed) || cs.checkpoints.Load() != saved {
		t.Errorf("Checkpoint() without growth = %d, %v, %d saves; want the same checkpoint and no new save", size2, err, cs.checkpoints.Load()-saved)
	}
	if _, err := l.Append(ctx, entry(5)); err != nil {
		t.Fatal(err)
	}
	if size3, _, err := l.Checkpoint(ctx); size3 != 6 || err != nil {
		t.Errorf("Checkpoint() after growth = %d, %v; want 6, nil", size3, err)
	}
}

func TestCheckpointOriginDefaultsToKeyName(t *testing.T) {
	signer, verifier := newKey(t, "liaison.example/audit")
	l := newLog(t, audit.Config{Signer: signer})
	_, signed, err := l.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c, err := audit.OpenCheckpoint(signed, verifier)
	if err != nil || c.Origin != "liaison.example/audit" || c.Size != 0 {
		t.Errorf("OpenCheckpoint() = %+v, %v; want origin %q and size 0", c, err, "liaison.example/audit")
	}
}

// TestCheckpointInterval checks, on a fake clock, that the background
// signer signs at most once per interval, and only while the tree grows.
func TestCheckpointInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &countingStore{Store: openStore(t)}
		l := newLog(t, audit.Config{Store: cs, CheckpointInterval: 10 * time.Second})
		ctx := t.Context()
		latest := func() int64 {
			t.Helper()
			synctest.Wait()
			size, _, err := cs.LatestCheckpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return size
		}
		for i := range 3 {
			l.Append(ctx, entry(i))
		}
		time.Sleep(9 * time.Second)
		if got := latest(); got != 0 || cs.checkpoints.Load() != 0 {
			t.Errorf("after 9s: latest checkpoint size %d, %d saved; want none yet", got, cs.checkpoints.Load())
		}
		time.Sleep(2 * time.Second) // 11s: the first tick has passed
		if got := latest(); got != 3 {
			t.Errorf("after 11s: latest checkpoint size = %d, want 3", got)
		}
		l.Append(ctx, entry(3))
		l.Append(ctx, entry(4))
		time.Sleep(5 * time.Second) // 16s
		if got := latest(); got != 3 {
			t.Errorf("after 16s: latest checkpoint size = %d, want 3 (next tick at 20s)", got)
		}
		time.Sleep(5 * time.Second) // 21s
		if got := latest(); got != 5 {
			t.Errorf("after 21s: latest checkpoint size = %d, want 5", got)
		}
		saved := cs.checkpoints.Load()
		time.Sleep(time.Minute) // no growth, no new checkpoints
		latest()
		if got := cs.checkpoints.Load(); got != saved {
			t.Errorf("a minute without appends: %d new checkpoints saved, want 0", got-saved)
		}
	})
}

func TestProofs(t *testing.T) {
	signer, verifier := newKey(t, "audit.test")
	l := newLog(t, audit.Config{Signer: signer, CheckpointInterval: time.Hour})
	ctx := t.Context()
	checkpoint := func() audit.Checkpoint {
		t.Helper()
		_, signed, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := audit.OpenCheckpoint(signed, verifier)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var leaves [][]byte
	var cps []audit.Checkpoint
	for i := range 13 {
		if _, err := l.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
		leaf, _ := entry(i).Marshal()
		leaves = append(leaves, leaf)
		if i == 0 || i == 4 || i == 7 || i == 12 {
			cps = append(cps, checkpoint())
		}
	}
	for _, c := range cps {
		for i := range c.Size {
			p, err := l.InclusionProof(ctx, i, c.Size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d) = %v", i, c.Size, err)
			}
			if err := tlog.CheckRecord(p, c.Size, c.Hash, i, tlog.RecordHash(leaves[i])); err != nil {
				t.Errorf("CheckRecord(InclusionProof(%d, %d)) = %v", i, c.Size, err)
			}
			other := (i + 1) % 13
			if err := tlog.CheckRecord(p, c.Size, c.Hash, i, tlog.RecordHash(leaves[other])); err == nil && other != i {
				t.Errorf("CheckRecord(InclusionProof(%d, %d)) accepted leaf %d", i, c.Size, other)
			}
		}
		for _, old := range cps {
			if old.Size > c.Size {
				continue
			}
			p, err := l.ConsistencyProof(ctx, old.Size, c.Size)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d) = %v", old.Size, c.Size, err)
			}
			if err := tlog.CheckTree(p, c.Size, c.Hash, old.Size, old.Hash); err != nil {
				t.Errorf("CheckTree(ConsistencyProof(%d, %d)) = %v", old.Size, c.Size, err)
			}
		}
	}
	for _, tc := range []struct{ index, size int64 }{{13, 13}, {-1, 5}, {0, 14}, {5, 5}} {
		if _, err := l.InclusionProof(ctx, tc.index, tc.size); !errors.Is(err, audit.ErrOutOfRange) {
			t.Errorf("InclusionProof(%d, %d) = %v, want ErrOutOfRange", tc.index, tc.size, err)
		}
	}
	for _, tc := range []struct{ old, new int64 }{{0, 5}, {6, 5}, {5, 14}} {
		if _, err := l.ConsistencyProof(ctx, tc.old, tc.new); !errors.Is(err, audit.ErrOutOfRange) {
			t.Errorf("ConsistencyProof(%d, %d) = %v, want ErrOutOfRange", tc.old, tc.new, err)
		}
	}
	if _, err := l.Leaves(ctx, 10, 14); !errors.Is(err, audit.ErrOutOfRange) {
		t.Errorf("Leaves(10, 14) = %v, want ErrOutOfRange", err)
	}
}

func TestInboxThroughLog(t *testing.T) {
	l := newLog(t, audit.Config{})
	ctx := t.Context()
	d := audit.Delivery{Recipient: "police-nl", Kind: "liaison.v1.Delivery", Payload: []byte("record")}
	idx, err := l.Append(ctx, entry(0), d)
	if err != nil {
		t.Fatal(err)
	}
	items, err := l.Inbox(ctx, "police-nl", 0, 10)
	if err != nil || len(items) != 1 || items[0].AuditIndex != idx || string(items[0].Payload) != "record" {
		t.Fatalf("Inbox() = %+v, %v; want the one delivery of entry %d", items, err, idx)
	}
	if err := l.Ack(ctx, "police-nl", items[0].Cursor); err != nil {
		t.Fatal(err)
	}
	if items, err := l.Inbox(ctx, "police-nl", 0, 10); len(items) != 0 || err != nil {
		t.Errorf("Inbox() after Ack = %+v, %v; want none", items, err)
	}
}

// hashCheckingStore records whether every batch item the Log handed over
// carried its leaf's record hash.
type hashCheckingStore struct {
	audit.Store
	mu    sync.Mutex
	items int
	wrong []string // what was wrong with the items that did not
}

func (c *hashCheckingStore) Append(ctx context.Context, batch []audit.Pending) (int64, error) {
	c.mu.Lock()
	for _, p := range batch {
		c.items++
		if p.Hash != tlog.RecordHash(p.Leaf) {
			c.wrong = append(c.wrong, fmt.Sprintf("item with Hash %v, want tlog.RecordHash(Leaf)", p.Hash))
		}
	}
	c.mu.Unlock()
	return c.Store.Append(ctx, batch)
}

// TestLogHashesLeavesBeforeTheBatch: the Log computes each leaf's record
// hash on the appender's goroutine and hands it over with the leaf, so
// that the store's one writer need not.
func TestLogHashesLeavesBeforeTheBatch(t *testing.T) {
	t.Parallel()
	cs := &hashCheckingStore{Store: openStore(t)}
	l := newLog(t, audit.Config{Store: cs})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := l.Append(t.Context(), &audit.Entry{Action: "disclose", Outcome: "deny", RequestID: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.items != 20 || len(cs.wrong) != 0 {
		t.Errorf("the store got %d items, %d of them without their record hash: %v", cs.items, len(cs.wrong), cs.wrong)
	}
}
