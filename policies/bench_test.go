package policies

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
)

// BenchmarkDecide measures Decide for the demo's four scenarios.
func BenchmarkDecide(b *testing.B) {
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

// BenchmarkEvalInput compares passing the input as a Go value (OPA converts
// it through JSON) with passing the hand-built AST, for one scenario.
func BenchmarkEvalInput(b *testing.B) {
	e := loadEmbedded(b)
	in := samples[0].in
	b.Run("EvalInput", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.decision.Eval(b.Context(), rego.EvalInput(in)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EvalParsedInput", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.decision.Eval(b.Context(), rego.EvalParsedInput(in.value())); err != nil {
				b.Fatal(err)
			}
		}
	})
}
