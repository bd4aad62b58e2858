package sqlite_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// BenchmarkAppendToCheckpoint measures how long an acknowledged entry
// waits until a signed checkpoint covers it, with the production
// checkpoint interval of one second, under a steady load of concurrent
// appenders. It reports p50 and p99 in milliseconds.
func BenchmarkAppendToCheckpoint(b *testing.B) {
	ctx := b.Context()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "audit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	skey, _, _ := audit.GenerateSignerKey("bench")
	signer, _ := note.NewSigner(skey)
	l, err := audit.New(ctx, audit.Config{Store: store, Signer: signer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(context.WithoutCancel(ctx))

	var mu sync.Mutex
	acked := map[int64]time.Time{}
	var lat []time.Duration
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() { // watches the checkpoints the log signs by itself
		defer watch.Done()
		covered := int64(0)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			size, _, err := store.LatestCheckpoint(ctx)
			if err != nil || size <= covered {
				continue
			}
			now := time.Now()
			mu.Lock()
			for i := covered; i < size; i++ {
				if t, ok := acked[i]; ok {
					lat = append(lat, now.Sub(t))
					delete(acked, i)
				}
			}
			mu.Unlock()
			covered = size
		}
	}()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			idx, err := l.Append(ctx, &audit.Entry{Action: "disclose", Outcome: "disclose", Justification: fmt.Sprint(i)})
			if err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			acked[idx] = time.Now()
			mu.Unlock()
			time.Sleep(time.Millisecond) // a steady load, not a flood
		}
	})
	// Wait for the last entries to be covered.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n == 0 {
			break
		}
	}
	close(stop)
	watch.Wait()
	if len(lat) == 0 {
		b.Fatal("no entry was seen in a checkpoint")
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
