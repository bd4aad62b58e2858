package main

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestProgramIsAsSmallAsTheREADMESays: the README tells auditors that
// main.go is a program "under N lines with no Liaison import", one they
// can read whole. It grew to 316 lines while the README still said under
// 300; the figure is now checked, and so is the claim about its imports.
func TestProgramIsAsSmallAsTheREADMESays(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`docs/auditor/main\.go\)\s+is\s+such\s+a\s+program,\s+under\s+(\d+)\s+lines\s+with\s+no\s+Liaison\s+import`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README no longer says how long docs/auditor/main.go is")
	}
	limit, _ := strconv.Atoi(string(m[1]))
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(src, []byte("\n")); n >= limit {
		t.Errorf("main.go has %d lines; the README says under %d", n, limit)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", src, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range f.Imports {
		if p, _ := strconv.Unquote(im.Path.Value); strings.HasPrefix(p, "github.com/liaison-gateway/") {
			t.Errorf("main.go imports %s; the README says it imports nothing of Liaison", p)
		}
	}
}

// TestQuorumInDecimal: -quorum is taken in decimal only, as audit verify's
// -witness-quorum is: flag.Int read 010 as 8 and 0x2 as 2.
func TestQuorumInDecimal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program with go build: run without -short, as .ci/run does")
	}
	bin := filepath.Join(t.TempDir(), "auditor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, q := range []string{"010", "0x2", "1_0", "+1"} {
		out, err := exec.Command(bin, "-key", "log.test+01234567+AQ==", "-quorum", q, t.TempDir()).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "-quorum") || !strings.Contains(string(out), "decimal") {
			t.Errorf("auditor -quorum %s: %v\n%s\nwant it refused as not in decimal", q, err, out)
		}
	}
}
