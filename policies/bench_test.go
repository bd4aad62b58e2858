package policies

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"
)

// BenchmarkDecide measures Decide per jurisdiction of the holder, cycling
// through that jurisdiction's golden inputs (realistic exchanges:
// disclosures, fallbacks, denials, cross-border), and per golden input.
// It reports the median and 99th-percentile latency of single decisions
// besides the mean, the allocations, and the CPU time of the process per
// decision (cpu-µs/op, which says more than the clock on a busy machine;
// it includes the garbage collector's share).
func BenchmarkDecide(b *testing.B) {
	e := loadEmbedded(b)
	byJurisdiction := map[string][]Input{}
	golden := readGolden(b)
	for _, g := range golden {
		j := g.Input.Holder.Jurisdiction
		byJurisdiction[j] = append(byJurisdiction[j], g.Input)
	}
	for _, j := range slices.Sorted(maps.Keys(byJurisdiction)) {
		b.Run(j, func(b *testing.B) { benchmarkDecide(b, e, byJurisdiction[j]) })
	}
	for _, g := range golden {
		b.Run("golden/"+g.Name, func(b *testing.B) { benchmarkDecide(b, e, []Input{g.Input}) })
	}
}

// benchmarkDecide decides ins in turn.
func benchmarkDecide(b *testing.B, e *Engine, ins []Input) {
	b.ReportAllocs()
	durations := make([]time.Duration, 0, b.N)
	i := 0
	c0 := cpuNow()
	for b.Loop() {
		start := time.Now()
		if _, err := e.Decide(b.Context(), ins[i%len(ins)]); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
		i++
	}
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N)/1e3, "cpu-µs/op")
	reportPercentiles(b, durations)
}

// BenchmarkDecideTopdown is BenchmarkDecide's per golden input, each
// decision evaluated by OPA's topdown evaluator, as Decide does where a
// tree cannot be planned, then decoded and checked as Decide does.
func BenchmarkDecideTopdown(b *testing.B) {
	e := loadEmbedded(b)
	decide := func(ctx context.Context, in Input) error {
		v, err := e.decision.eval(ctx, in.value())
		if err != nil {
			return err
		}
		d, err := decodeDecision(v)
		if err != nil {
			return err
		}
		return d.validateFor(in)
	}
	for _, g := range readGolden(b) {
		b.Run("golden/"+g.Name, func(b *testing.B) {
			b.ReportAllocs()
			durations := make([]time.Duration, 0, b.N)
			c0 := cpuNow()
			for b.Loop() {
				start := time.Now()
				if err := decide(b.Context(), g.Input); err != nil {
					b.Fatal(err)
				}
				durations = append(durations, time.Since(start))
			}
			b.ReportMetric(float64(cpuNow()-c0)/float64(b.N)/1e3, "cpu-µs/op")
			reportPercentiles(b, durations)
		})
	}
}

// BenchmarkReplay replays logged decisions through a Replayer, as `liaison
// policy replay` does with the audit log: the 12,000 requests of the
// equivalence log, over and over, against the decisions recorded for them.
// Run it with -benchtime 1000000x for the time a million logged decisions
// take: "pages" decides pages of 500 on all cores with AddAll, as the
// command does; "one_by_one" calls Add on one goroutine.
func BenchmarkReplay(b *testing.B) {
	e := loadEmbedded(b)
	recs := recordedLog(b, readEquivalenceLog(b))
	for _, bc := range []struct {
		name string
		page int
	}{{"pages", 500}, {"one_by_one", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			r := NewReplayer(e, nil, planFields, nil)
			var page []Recorded
			flush := func() {
				if err := r.AddAll(b.Context(), page); err != nil {
					b.Fatal(err)
				}
				page = page[:0]
			}
			b.ReportAllocs()
			c0 := cpuNow()
			i := 0
			for b.Loop() {
				rec := recs[i%len(recs)]
				i++
				if bc.page == 0 {
					if err := r.Add(b.Context(), rec); err != nil {
						b.Fatal(err)
					}
				} else if page = append(page, rec); len(page) == bc.page {
					flush()
				}
			}
			flush()
			b.ReportMetric(float64(cpuNow()-c0)/float64(b.N)/1e3, "cpu-µs/op")
			rep := r.Report()
			if len(rep.Changes) > 0 {
				b.Fatalf("replay finds %d changes", len(rep.Changes))
			}
			if rep.Replayed != b.N {
				b.Fatalf("replayed %d of %d", rep.Replayed, b.N)
			}
		})
	}
}

// reportPercentiles reports the 50th and 99th percentile of durations in
// microseconds.
func reportPercentiles(b *testing.B, durations []time.Duration) {
	if len(durations) == 0 {
		return
	}
	slices.Sort(durations)
	at := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkDecideDemo measures Decide for the demo's four scenarios.
func BenchmarkDecideDemo(b *testing.B) {
	e := loadEmbedded(b)
	for _, s := range samples[:5] {
		if s.name == "dk_release_notice_for_investigation" {
			continue
		}
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Decide(b.Context(), s.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
