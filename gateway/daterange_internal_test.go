package gateway

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
)

// TestDateRangeIsThePolicys: a date the gateway takes (dateProblem) is
// one the policy's is_date reads, and the other way round, on every
// first and last day of a year from 1890 to 2210, every 29 February and
// a few that are no date; the gateway took years 0000 to 9999 and the
// policy 1900 to 2199. A peer's entry with such a date is refused too
// (validPeerSubject).
func TestDateRangeIsThePolicys(t *testing.T) {
	src, err := fs.ReadFile(policies.Embedded(), "liaison/vocabulary.rego")
	if err != nil {
		t.Fatal(err)
	}
	q, err := rego.New(rego.Module("vocabulary.rego", string(src)), rego.SetRegoVersion(ast.RegoV1),
		rego.Query("data.liaison.is_date(input)")).PrepareForEval(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	days := []string{"0001-01-01", "0999-12-31", "9999-12-31", "2026-02-29", "2026-1-5", "2026-04-31", "20261231"}
	for y := 1890; y <= 2210; y++ {
		days = append(days, fmt.Sprintf("%04d-01-01", y), fmt.Sprintf("%04d-12-31", y), fmt.Sprintf("%04d-02-29", y))
	}
	for _, d := range days {
		rs, err := q.Eval(t.Context(), rego.EvalInput(d))
		if err != nil {
			t.Fatal(err)
		}
		policy := len(rs) == 1 && rs[0].Expressions[0].Value == true
		if gw := dateProblem(d) == ""; gw != policy {
			t.Errorf("%s: the gateway takes it %v, the policy reads it as a date %v", d, gw, policy)
		}
		if peer := validPeerSubject(&audit.Subject{ReleaseDate: d}); peer != policy {
			t.Errorf("%s: a peer's entry with it is taken %v, the policy reads it as a date %v", d, peer, policy)
		}
	}
	for _, d := range []string{"1900-01-01", "2199-12-31"} {
		if p := dateProblem(d); p != "" {
			t.Errorf("dateProblem(%q) = %q, want none", d, p)
		}
	}
}
