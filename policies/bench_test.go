package policies

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// BenchmarkDecide measures Decide per jurisdiction of the holder, cycling
// through that jurisdiction's golden inputs (realistic exchanges:
// disclosures, fallbacks, denials, cross-border), and reports the median
// and 99th-percentile latency of single decisions besides the mean.
func BenchmarkDecide(b *testing.B) {
	e := loadEmbedded(b)
	byJurisdiction := map[string][]Input{}
	for _, g := range readGolden(b) {
		j := g.Input.Holder.Jurisdiction
		byJurisdiction[j] = append(byJurisdiction[j], g.Input)
	}
	for _, j := range slices.Sorted(maps.Keys(byJurisdiction)) {
		ins := byJurisdiction[j]
		b.Run(j, func(b *testing.B) {
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
