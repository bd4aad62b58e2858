package audit_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps audit a leaf: it imports nothing else from the project
// (but the standard library's helpers under internal/, such as
// internal/atomicfile) and none of the heavy dependencies the gateway
// has, so that auditors' tools can use it alone.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const self = "github.com/liaison-gateway/liaison/gateway/audit"
	for _, pkg := range strings.Fields(string(out)) {
		switch {
		case pkg == self, strings.HasPrefix(pkg, "github.com/liaison-gateway/liaison/internal/"):
		case strings.HasPrefix(pkg, "github.com/liaison-gateway/liaison/"):
			t.Errorf("audit depends on %s; it must stay a leaf package", pkg)
		case strings.HasPrefix(pkg, "google.golang.org/grpc"),
			strings.HasPrefix(pkg, "github.com/open-policy-agent/opa"),
			strings.HasPrefix(pkg, "github.com/hashicorp/vault"),
			strings.HasPrefix(pkg, "modernc.org/"),
			strings.HasPrefix(pkg, "github.com/jackc/"):
			t.Errorf("audit depends on %s; stores and transports belong in adapters", pkg)
		}
	}
}
