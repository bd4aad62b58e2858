package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifiesDemoExport runs the demo with an export and checks the export
// with this program's verify alone; then it changes one entry and expects
// the check to fail.
func TestVerifiesDemoExport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo; run without -short")
	}
	dir := filepath.Join(t.TempDir(), "export")
	out, err := exec.Command("go", "run", "../../cmd/liaison", "demo", "-export", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	key, err := os.ReadFile(filepath.Join(dir, "verifier.key"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), strings.TrimSpace(string(key))) {
		t.Error("the demo did not print the verifier key it exported")
	}
	n, err := verify(dir, strings.TrimSpace(string(key)))
	if err != nil || n < 4 {
		t.Fatalf("verify(demo export) = %d, %v; want at least 4 entries", n, err)
	}
	entries := filepath.Join(dir, "entries.jsonl")
	b, _ := os.ReadFile(entries)
	if err := os.WriteFile(entries, []byte(strings.Replace(string(b), "risk_management", "statistics", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(dir, strings.TrimSpace(string(key))); err == nil {
		t.Error("verify accepted an export with a changed entry")
	}
}
