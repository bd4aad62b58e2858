package sqlite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// The writer does not checkpoint the WAL; the checkpointer beside it does,
// and must rewind the WAL under steady appends and reads, which a passive
// checkpoint alone does not do: a busy writer begins its next transaction
// before the last one's frames are copied, so that the WAL never starts
// again from its beginning. Without the rewind (a restart threshold of
// 1<<40 frames), this load grew the WAL to 7,600 to 14,000 frames on an
// idle 2-core machine; a slower one leaves the writer idle more often,
// which lets SQLite rewind on its own.
func TestWALRewindsUnderSteadyAppends(t *testing.T) {
	t.Parallel()
	const restart = 64 // frames
	if frames := steadyLoad(t, restart); frames > 32*restart {
		t.Errorf("the WAL grew to %d frames with a rewind at %d frames; want it held near %d", frames, restart, restart)
	}
}

// steadyLoad appends 1,920 entries from 4 appenders while 2 readers read
// all the time, to a Store whose checkpointer checkpoints after every
// commit and rewinds the WAL at restart frames, and returns the largest
// size the WAL reached, in frames.
func steadyLoad(t *testing.T, restart int64) (frames int64) {
	ctx := t.Context()
	s, path := openFile(t)
	s.SetCheckpointing(restart, 0)

	var n atomic.Int64
	pending := func() audit.Pending {
		i := n.Add(1)
		e := &audit.Entry{
			Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Action: "disclose", RequestID: fmt.Sprintf("req-%08d", i),
			Requester:  &audit.Requester{Agency: "dk-prison-east", Officer: "kf.release.coordinator"},
			Holder:     &audit.Party{Agency: "dk-prison-east"},
			Recipients: []audit.Party{{Agency: "dk-police-aarhus"}},
			// Subjects and fingerprints spread over their indexes, so that
			// every append changes pages all over the file.
			Subject:    &audit.Subject{Pseudonym: fmt.Sprintf("apsn:%x", sha256.Sum256([]byte(fmt.Sprint("s", i))))},
			RecordType: "release_notice", Outcome: "disclose", LegalBasis: &audit.LegalBasis{ID: "dk.rpl.115"},
		}
		leaf, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var fps []audit.Fingerprint
		for k := range 3 {
			fps = append(fps, audit.Fingerprint{Recipient: "dk-police-aarhus", Subject: e.Subject.Pseudonym, FP: sha256.Sum256([]byte(fmt.Sprint("f", i, k))), RequestID: e.RequestID})
		}
		return audit.Pending{Leaf: leaf, Entry: e, Fingerprints: fps,
			Deliveries: []audit.Delivery{{Recipient: "dk-police-aarhus", Kind: "k", Payload: make([]byte, 200)}}}
	}

	const frame = 4096 + 24 // a page and its frame header
	var maxWAL atomic.Int64 // the WAL file never shrinks: its size is a high-water mark
	observe := func() {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Error(err)
			return
		}
		for {
			m := maxWAL.Load()
			if fi.Size() <= m || maxWAL.CompareAndSwap(m, fi.Size()) {
				return
			}
		}
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Stat(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var appenders sync.WaitGroup
	for range 4 {
		appenders.Go(func() {
			for range 60 {
				batch := make([]audit.Pending, 8)
				for i := range batch {
					batch[i] = pending()
				}
				if _, err := s.Append(ctx, batch); err != nil {
					t.Error(err)
					return
				}
				observe()
			}
		})
	}
	appenders.Wait()
	close(stop)
	readers.Wait()
	if _, _, _, err := s.WALState(); err != nil {
		t.Errorf("the last checkpoint failed: %v", err)
	}
	return maxWAL.Load() / frame
}

// A reader of an old snapshot keeps a RESTART checkpoint from completing,
// which holds the appends for up to restartWait; while such a reader
// lasts, the checkpointer tries again less and less often, not in every
// round.
func TestWALRestartBacksOffWhileAReaderLasts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, path := openFile(t)
	s.SetCheckpointing(64, 0)
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	stop := make(chan struct{})
	var appender sync.WaitGroup
	var n atomic.Int64
	appender.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			batch := make([]audit.Pending, 8)
			for i := range batch {
				e := &audit.Entry{Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Action: "disclose", Outcome: "disclose",
					RequestID: fmt.Sprintf("req-%08d", n.Add(1)), Requester: &audit.Requester{Agency: "dk-prison-east"}}
				leaf, err := e.Marshal()
				if err != nil {
					t.Error(err)
					return
				}
				batch[i] = audit.Pending{Leaf: leaf, Entry: e}
			}
			if _, err := s.Append(ctx, batch); err != nil {
				t.Error(err)
				return
			}
		}
	})
	defer func() {
		close(stop)
		appender.Wait()
	}()

	const hold = time.Second
	for attempt := range 5 {
		time.Sleep(50 * time.Millisecond) // appends under way, the WAL past 64 frames
		tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		var leaves int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM leaves").Scan(&leaves); err != nil {
			t.Fatal(err)
		}
		_, restarts0, blocked0, _ := s.WALState()
		time.Sleep(hold)
		_, restarts1, blocked1, _ := s.WALState()
		tx.Rollback()
		if blocked1 == blocked0 {
			// The reader began while every frame was copied, and read
			// the database file only: it kept no RESTART from completing.
			t.Logf("attempt %d: the reader blocked no restart; again", attempt)
			continue
		}
		// Tried in every round, a RESTART blocked for restartWait (20 ms)
		// would be tried about 50 times in a second; backing off from
		// 50 ms, about 5 times.
		if tried := restarts1 - restarts0; tried > 10 {
			t.Errorf("%d RESTART checkpoints tried in %v while a reader kept them from completing (%d blocked); want the checkpointer to back off", tried, hold, blocked1-blocked0)
		}
		return
	}
	t.Fatal("no reader blocked a RESTART checkpoint in 5 attempts")
}

// A checkpoint that fails is logged once, not in every round: the WAL
// grows until one succeeds, which an operator must hear of.
func TestFailingCheckpointIsLogged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := openFile(t)
	var mu sync.Mutex
	var logged bytes.Buffer
	s.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), nil))
	s.SetCheckpointing(64, 0)
	s.BreakCheckpointer()
	e := &audit.Entry{Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Action: "disclose", Outcome: "disclose", Requester: &audit.Requester{Agency: "dk-prison-east"}}
	leaf, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.Append(ctx, []audit.Pending{{Leaf: leaf, Entry: e}}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		text := logged.String()
		mu.Unlock()
		if n := strings.Count(text, "WAL checkpoint failed"); n > 0 {
			if _, _, _, err := s.WALState(); err == nil {
				t.Error("WALState reports no error after a failed checkpoint")
			}
			time.Sleep(200 * time.Millisecond) // several more rounds, all failing
			if _, err := s.Append(ctx, []audit.Pending{{Leaf: leaf, Entry: e}}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			if n := strings.Count(logged.String(), "WAL checkpoint failed"); n != 1 {
				t.Errorf("the failing checkpoint was logged %d times, want once:\n%s", n, logged.String())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed checkpoint logged in 10 s; the log holds:\n%s", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestLogStatsReportTheWAL: a Log on the SQLite store reports the WAL's
// size as the checkpointer finds it and, once checkpoints fail, that they
// fail, keeping the last size it read.
func TestLogStatsReportTheWAL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := openFile(t)
	s.Logger = slog.New(slog.DiscardHandler)
	skey, _, err := audit.GenerateSignerKey("audit.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.New(ctx, audit.Config{Store: s, Signer: signer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.WithoutCancel(ctx))
	if st := l.Stats(); !st.WAL || st.WALCopyFailing || st.WALPages != 0 {
		t.Errorf("Stats() before any append = WAL %v, %d pages, failing %v; want a WAL of 0 pages, not failing", st.WAL, st.WALPages, st.WALCopyFailing)
	}
	appendOne := func(i int) {
		t.Helper()
		if _, err := l.Append(ctx, &audit.Entry{Action: "disclose", Outcome: "deny", RequestID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, ok func(audit.Stats) bool) audit.Stats {
		t.Helper()
		for i, deadline := 0, time.Now().Add(10*time.Second); ; i++ {
			appendOne(i)
			if st := l.Stats(); ok(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("Stats() never showed %s in 10 s: %+v", what, l.Stats())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	st := waitFor("the WAL's pages", func(st audit.Stats) bool { return st.WALPages > 0 })
	if st.WALCopyFailing {
		t.Errorf("Stats() = %+v, want the checkpoints succeeding", st)
	}
	s.BreakCheckpointer()
	st = waitFor("the checkpoints failing", func(st audit.Stats) bool { return st.WALCopyFailing })
	if st.WALPages <= 0 {
		t.Errorf("Stats() after checkpoints failed = %d pages, want the last size a checkpoint read", st.WALPages)
	}
}
