package atomicfile_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps atomicfile on the standard library alone: the audit
// package, which auditors' tools use on its own, imports it.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != "github.com/liaison-gateway/liaison/internal/atomicfile" {
			t.Errorf("atomicfile depends on %s; it must import the standard library only", pkg)
		}
	}
}
