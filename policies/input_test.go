package policies

import (
	"fmt"
	"runtime"
	"sync/atomic"
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

// TestInputValueKeepsRepeatedWords checks that the words and parties that
// repeat from one request to the next are made once: the second input
// naming the same holder, recipient, officer and days shares their terms
// and allocates at least 15 fewer times than the first did (51 and 33 for
// this one; 68 allocations an input over the golden inputs before they
// were kept, 37 after).
func TestInputValueKeepsRepeatedWords(t *testing.T) {
	// Words no other test uses, new on every run (-count): the terms are
	// kept for the life of the process.
	run := keptWordsRuns.Add(1)
	in := samples[0].in
	in.Requester.Officer.ID = fmt.Sprintf("officer-kept-words-test-%d", run)
	in.Holder.Agency = fmt.Sprintf("holder-kept-words-test-%d", run)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_ = in.value()
	runtime.ReadMemStats(&m1)
	first := float64(m1.Mallocs - m0.Mallocs)
	again := testing.AllocsPerRun(20, func() { _ = in.value() })
	if again > first-15 {
		t.Errorf("Input.value allocates %v times for an input seen before, %v the first time; want at least 15 fewer", again, first)
	}
	a, b := in.value().(ast.Object), in.value().(ast.Object)
	if a.Get(ast.StringTerm("holder")) != b.Get(ast.StringTerm("holder")) {
		t.Error("two inputs with the same holder do not share its term")
	}
	officer := func(o ast.Object) *ast.Term {
		return o.Get(ast.StringTerm("requester")).Value.(ast.Object).Get(ast.StringTerm("officer")).Value.(ast.Object).Get(ast.StringTerm("id"))
	}
	if officer(a) != officer(b) {
		t.Error("two inputs with the same officer do not share the term of the officer's id")
	}
}

var keptWordsRuns atomic.Int64
