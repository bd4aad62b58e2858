package gateway_test

import (
	"os"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
)

// TestRegistryExampleDecodes: the example registry in deploy/ uses only
// fields the gateway knows (decoded strictly, as the gateway does), and
// shows token_types.
func TestRegistryExampleDecodes(t *testing.T) {
	b, err := os.ReadFile("../deploy/registry.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f gateway.RegistryFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("deploy/registry.example.yaml: %v", err)
	}
	i := slices.IndexFunc(f.Agencies, func(a gateway.AgencyFile) bool { return a.ID == "dk-police-aarhus" })
	if i < 0 || !slices.Equal(f.Agencies[i].TokenTypes, []string{"at+jwt"}) {
		t.Errorf("the example registry does not show token_types [at+jwt] for dk-police-aarhus")
	}
}
