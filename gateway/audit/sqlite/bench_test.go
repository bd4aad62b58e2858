package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// BenchmarkAppend measures durable appends through audit.Log from many
// concurrent callers (as gRPC handlers would be), with group commit and
// with one entry per transaction. fsync latency dominates and varies a lot
// with other disk traffic, so compare the two in one run. cpu-µs/entry is
// the process's CPU time (user and system) per entry: steal by other work
// on a shared machine slows the appends but does not inflate it.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxBatch int
		inFlight int // appends in flight, on 2 CPUs
	}{
		{"group_commit", 0, 32},
		{"group_commit/in_flight=256", 0, 256},
		{"batch_1", 1, 32},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := b.Context()
			store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "audit.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			skey, _, err := audit.GenerateSignerKey("bench")
			if err != nil {
				b.Fatal(err)
			}
			signer, _ := note.NewSigner(skey)
			counted := &countingStore{Store: store}
			l, err := audit.New(ctx, audit.Config{Store: counted, Signer: signer, MaxBatch: bc.maxBatch, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close(context.WithoutCancel(ctx))
			e := &audit.Entry{
				Time:              time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
				Action:            "disclose",
				Requester:         &audit.Requester{Agency: "police-nl", Officer: "officer-7", Roles: []string{"investigator"}},
				Holder:            &audit.Party{Agency: "probation-nl"},
				Recipients:        []audit.Party{{Agency: "police-nl"}},
				Subject:           &audit.Subject{Pseudonym: "ps-0123456789abcdef"},
				RecordType:        "risk_assessment",
				Purpose:           "public_safety",
				ClaimedLegalBasis: "nl-wji-8",
				Outcome:           "disclose",
				LegalBasis:        &audit.LegalBasis{ID: "nl-wji-8", Citation: "Wjsg art. 8"},
				FieldsDisclosed:   []string{"RiskAssessment.level"},
				PolicyRevision:    "sha256:0123456789abcdef",
			}
			b.SetParallelism(max(bc.inFlight/runtime.GOMAXPROCS(0), 1))
			start, cpu := time.Now(), cpuNow()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Append(ctx, e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
			b.ReportMetric(float64(cpuNow()-cpu)/1e3/float64(b.N), "cpu-µs/entry")
			b.ReportMetric(float64(b.N)/float64(counted.batches.Load()), "entries/batch")
		})
	}
}

// countingStore counts the transactions the Log hands to the store.
type countingStore struct {
	audit.Store
	batches atomic.Int64
}

func (c *countingStore) Append(ctx context.Context, batch []audit.Pending) (int64, error) {
	c.batches.Add(1)
	return c.Store.Append(ctx, batch)
}

// BenchmarkWALFrames counts the WAL frames (pages) that one commit writes,
// the I/O an append costs the log's one writer, for entries shaped like a
// Disclose's: a 1.3 KB sealed delivery and six fingerprints of content,
// the subject and the fingerprints spread over their indexes, on a log of
// 19,200 entries. Run it with a fixed count (-benchtime 20x): the WAL is
// not checkpointed meanwhile.
func BenchmarkWALFrames(b *testing.B) {
	for _, batch := range []int{4, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ctx := b.Context()
			s, path := openFile(b)
			s.SetCheckpointing(1<<40, time.Hour)
			n := 0
			pending := func() audit.Pending {
				n++
				h := sha256.Sum256(fmt.Append(nil, "request", n))
				e := &audit.Entry{Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Action: "disclose", RequestID: fmt.Sprintf("%x", h[:8]),
					Requester: &audit.Requester{Agency: "dk-prison-east", Officer: "kf.release.coordinator"},
					Holder:    &audit.Party{Agency: "dk-prison-east"}, Recipients: []audit.Party{{Agency: "dk-police-aarhus"}},
					Subject:    &audit.Subject{Pseudonym: fmt.Sprintf("apsn:%x", sha256.Sum256(fmt.Append(nil, "subject", n)))},
					RecordType: "release_notice", Outcome: "disclose", LegalBasis: &audit.LegalBasis{ID: "dk.rpl.115"}}
				leaf, err := e.Marshal()
				if err != nil {
					b.Fatal(err)
				}
				p := audit.Pending{Leaf: leaf, Entry: e, Deliveries: []audit.Delivery{{Recipient: "dk-police-aarhus", Kind: "k", Payload: make([]byte, 1300)}}}
				for k := range 6 {
					p.Fingerprints = append(p.Fingerprints, audit.Fingerprint{Recipient: "dk-police-aarhus", Subject: e.Subject.Pseudonym, FP: sha256.Sum256(fmt.Append(nil, n, k)), RequestID: e.RequestID})
				}
				return p
			}
			appendBatch := func(size int) {
				batch := make([]audit.Pending, size)
				for i := range batch {
					batch[i] = pending()
				}
				if _, err := s.Append(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			for range 300 {
				appendBatch(64)
			}
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var busy, frames, copied int64
			if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil || busy != 0 {
				b.Fatalf("checkpoint: busy %d, %v", busy, err)
			}
			for b.Loop() {
				appendBatch(batch)
			}
			if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(frames)/float64(b.N), "frames/commit")
			b.ReportMetric(float64(frames)/float64(b.N*batch), "frames/entry")
		})
	}
}
