package audit_test

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// BenchmarkVerifyMillion measures offline verification of a log of one
// million entries of realistic size (recomputing the RFC 6962 tree and
// checking the signed checkpoint), as `liaison audit verify -export` and
// docs/auditor do.
func BenchmarkVerifyMillion(b *testing.B) {
	const n = 1_000_000
	leaves := make([][]byte, n)
	e := audit.Entry{Time: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), Action: "request", Outcome: "pseudonymise",
		Requester:  &audit.Requester{Agency: "nl-police-rotterdam", Officer: "insp.de.vries", Roles: []string{"case_officer"}},
		Holder:     &audit.Party{Agency: "nl-probation", Kind: "probation", Jurisdiction: "NL"},
		Recipients: []audit.Party{{Agency: "nl-police-rotterdam", Kind: "police", Jurisdiction: "NL"}},
		RecordType: "risk_assessment", Purpose: "risk_management", PolicyRevision: "sha256:b965468d5bdb",
		FieldsDisclosed: []string{"RiskAssessment.level", "RiskAssessment.tool", "Person.subject_id#"}}
	for i := range leaves {
		e.RequestID = fmt.Sprintf("r%015d", i)
		leaves[i], _ = e.Marshal()
	}
	root, err := audit.RootHash(leaves)
	if err != nil {
		b.Fatal(err)
	}
	skey, vkey, _ := audit.GenerateSignerKey("bench")
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	signed, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "bench", Size: n, Hash: root}.String()}, signer)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(leaves[0])) * n)
	b.ResetTimer()
	for b.Loop() {
		if _, err := audit.VerifyLeaves(leaves, signed, verifier); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/1M-entries")
}
