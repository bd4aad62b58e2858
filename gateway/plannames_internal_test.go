package gateway

import (
	"io/fs"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/liaison-gateway/liaison/policies"
)

// TestFieldNamesAreTheSchemas: the policy's field_names
// (policies/liaison/vocabulary.rego), by which the pack checks of `opa
// test` refuse a misspelt name in a plan, are the names the gateway's plan
// check takes (planNames: every field of the record schema that holds a
// value), so that a pack that passes its tests names no field the gateway
// refuses, and the other way round.
func TestFieldNamesAreTheSchemas(t *testing.T) {
	src, err := fs.ReadFile(policies.Embedded(), "liaison/vocabulary.rego")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(rego.Module("vocabulary.rego", string(src)), rego.SetRegoVersion(ast.RegoV1),
		rego.Query("data.liaison.field_names")).Eval(t.Context())
	if err != nil || len(rs) != 1 {
		t.Fatalf("data.liaison.field_names: %d results, %v", len(rs), err)
	}
	var policy []string
	for _, v := range rs[0].Expressions[0].Value.([]any) {
		policy = append(policy, v.(string))
	}
	slices.Sort(policy)
	var schema []string
	for name, part := range planNames() {
		if part == "" {
			schema = append(schema, name)
		}
	}
	slices.Sort(schema)
	if !slices.Equal(policy, schema) {
		t.Errorf("data.liaison.field_names = %v\nthe record schema's fields = %v", policy, schema)
	}
	if len(schema) < 50 {
		t.Errorf("the schema has %d fields; want the seven record types' and their parts'", len(schema))
	}
}
