package policies

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestInputValueMatchesJSON checks that the hand-built Rego input is what
// the JSON encoding of Input (the contract) gives.
func TestInputValueMatchesJSON(t *testing.T) {
	ins := []Input{{}, {Case: &Case{}}, {Provenance: &Provenance{}}, {Provenance: &Provenance{
		AuditIndex: 42, Holder: Party{Agency: "dk-prison-east", Kind: "prison", Jurisdiction: "DK"},
		Recipient: Party{Agency: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK"}, LegalBasis: "dk.rpl.115.stk1.nr3",
		ValidUntil: "2027-12-15", Purpose: "risk_management", Conditions: []string{"NO_ONWARD_DISCLOSURE"},
	}}}
	for _, s := range samples {
		ins = append(ins, s.in)
	}
	for _, g := range readGolden(t) {
		ins = append(ins, g.Input)
	}
	for _, in := range ins {
		want, err := ast.InterfaceToValue(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := in.value(); got.Compare(want) != 0 {
			t.Errorf("Input.value() =\n%v\nwant (JSON)\n%v", got, want)
		}
	}
}

func BenchmarkInputValue(b *testing.B) {
	in := samples[4].in // with a case
	b.Run("ast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = in.value()
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ast.InterfaceToValue(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
