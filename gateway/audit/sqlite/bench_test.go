package sqlite_test

import (
	"context"
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
// with other disk traffic, so compare the two in one run.
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
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Append(ctx, e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
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
