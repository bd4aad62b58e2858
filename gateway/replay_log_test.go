package gateway_test

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/policies"
)

// equivalenceRecorded reads the policies package's equivalence log (12,000
// generated requests with the embedded policy's decisions) as an audit log
// would record it for replay: every entry the policy decided, with the
// fields its decision lets through as the schema names them.
func equivalenceRecorded(tb testing.TB) []policies.Recorded {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "policies", "testdata", "equivalence", "decisions.jsonl.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var recs []policies.Recorded
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for i := 1; sc.Scan(); i++ {
		var x struct {
			Input    policies.Input  `json:"input"`
			Decision json.RawMessage `json:"decision"`
			Error    string          `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			tb.Fatalf("equivalence log line %d: %v", i, err)
		}
		if x.Error != "" {
			continue
		}
		var d policies.Decision
		if err := json.Unmarshal(x.Decision, &d); err != nil {
			tb.Fatalf("equivalence log line %d: %v", i, err)
		}
		rec := policies.Recorded{Index: int64(i), Input: x.Input, Outcome: d.Outcome, Fields: gateway.PlanFields(x.Input.RecordType, d), Conditions: d.Conditions}
		if d.LegalBasis != nil {
			rec.LegalBasis = d.LegalBasis.ID
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return recs
}

// TestEquivalenceLogReplaysWithThePlanCheck: the embedded policy's
// decisions on the 12,000 requests of the equivalence log, replayed as the
// gateway decides (gateway.NewReplayer: the fields from the schema, the
// plan check), come out unchanged: no decision of the embedded policy is
// one the gateway's check of the plan refuses.
func TestEquivalenceLogReplaysWithThePlanCheck(t *testing.T) {
	eng, err := policies.Load(t.Context(), policies.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	recs := equivalenceRecorded(t)
	r := gateway.NewReplayer(eng, nil)
	if err := r.AddAll(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if rep := r.Report(); rep.Replayed != len(recs) || rep.Replayed < 10000 || len(rep.Changes) != 0 {
		t.Errorf("replayed %d of %d, %d changes (first %+v); want all, unchanged", rep.Replayed, len(recs), len(rep.Changes), rep.Changes[:min(1, len(rep.Changes))])
	}
}

// BenchmarkReplayPlanCheck replays the equivalence log one decision at a
// time as `liaison policy replay` does (gateway.NewReplayer), and without
// the gateway's check of the plan, for what the check costs.
func BenchmarkReplayPlanCheck(b *testing.B) {
	eng, err := policies.Load(b.Context(), policies.Embedded())
	if err != nil {
		b.Fatal(err)
	}
	recs := equivalenceRecorded(b)
	for _, bc := range []struct {
		name  string
		check func(policies.Input, policies.Decision) error
	}{{"with_check", gateway.CheckPlan}, {"without_check", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			r := policies.NewReplayer(eng, nil, gateway.PlanFields, bc.check)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := r.Add(b.Context(), recs[i%len(recs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if rep := r.Report(); len(rep.Changes) > 0 {
				b.Fatalf("replay finds %d changes", len(rep.Changes))
			}
		})
	}
}
