package main

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayout checks the project's layout rules (DESIGN 6 and 7, STYLE 15
// and 19): every package has a doc comment; the leaves import nothing from
// the project (nor the heavy adapters' libraries) but its internal/
// helpers, which use the standard library alone, and the packages beside
// them that they are allowed (policies its interpreter of OPA's plans, which
// knows OPA alone); the parts that sit above
// the gateway (the console, the exercises) are imported by cmd/ only, and
// the console is a client of the gateway's API that never reaches a store,
// a key source or its test tools. The one exception: the console plays the
// worked tabletop exercises, so it may import the exercise package, whose
// sandbox gateway (invented agencies, a temporary SQLite store, keys
// derived from the scenario) holds no authority over real data; what the
// console reaches only through it is checked by the exercise's own rule.
func TestLayout(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/liaison-gateway/liaison"
	leaves := map[string][]string{
		mod + "/policies":      {"google.golang.org/grpc", "github.com/hashicorp/vault"},
		mod + "/pseudonym":     {"google.golang.org/grpc", "github.com/hashicorp/vault", "github.com/open-policy-agent/opa"},
		mod + "/gateway/audit": {"google.golang.org/grpc", "github.com/hashicorp/vault", "github.com/open-policy-agent/opa"},
		mod + "/gateway/authn": {"github.com/hashicorp/vault", "github.com/open-policy-agent/opa"},
	}
	// Packages beside the leaves: what they may import from the project,
	// and the libraries they must not depend on.
	besides := map[string]struct {
		project []string
		bad     []string
	}{
		// The witness knows checkpoints and proofs, nothing of the pipeline.
		mod + "/gateway/witness": {[]string{mod + "/gateway/audit", mod + "/internal/atomicfile"}, []string{"google.golang.org/grpc", "github.com/hashicorp/vault", "github.com/open-policy-agent/opa"}},
		// The interpreter of OPA's plans knows OPA alone, as policies does.
		mod + "/policies/plan": {nil, []string{"google.golang.org/grpc", "github.com/hashicorp/vault"}},
	}
	// leafMay are the packages beside a leaf that it may import.
	leafMay := map[string][]string{mod + "/policies": {mod + "/policies/plan"}}
	// internal holds small helpers of the standard library alone (writing
	// a file atomically), which any package, a leaf too, may import: they
	// import nothing from the project, nor anything outside the standard
	// library.
	internal := mod + "/internal/"
	// above are the packages that sit above the gateway, like cmd/, with
	// what they must not depend on.
	above := map[string][]string{
		mod + "/console": {mod + "/gateway/audit/sqlite", mod + "/gateway/audit/postgres", mod + "/pseudonym/vault",
			mod + "/gateway/sample", "github.com/hashicorp/vault", "github.com/chromedp"},
		// Exercises start a gateway of their own, on a temporary SQLite
		// store and keys derived from the scenario: never a deployment's
		// PostgreSQL or Vault.
		mod + "/exercise": {mod + "/gateway/audit/postgres", mod + "/pseudonym/vault", "github.com/hashicorp/vault"},
	}
	// mayImport are the exceptions to "imported by cmd/ only".
	mayImport := map[string][]string{mod + "/console": {mod + "/exercise"}}
	type pkg struct {
		ImportPath string
		Doc        string
		Name       string
		Imports    []string
		Deps       []string
	}
	var pkgs []pkg
	deps := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
		deps[p.ImportPath] = p.Deps
	}
	seen := 0
	for _, p := range pkgs {
		seen++
		if p.Doc == "" && p.Name != "main" {
			t.Errorf("package %s has no doc comment", p.ImportPath)
		}
		for _, imp := range p.Imports {
			if _, ok := above[imp]; ok && !strings.HasPrefix(p.ImportPath, mod+"/cmd/") && !slices.Contains(mayImport[p.ImportPath], imp) {
				t.Errorf("%s imports %s, which sits above the gateway: only cmd/ may", p.ImportPath, imp)
			}
		}
		for _, imp := range p.Imports { // the exception never covers a direct import
			for _, b := range above[p.ImportPath] {
				if strings.HasPrefix(imp, b) {
					t.Errorf("%s imports %s; it is a client of the gateway's API", p.ImportPath, imp)
				}
			}
		}
		for _, d := range p.Deps {
			if slices.ContainsFunc(mayImport[p.ImportPath], func(ex string) bool { return slices.Contains(deps[ex], d) }) {
				continue // reached only through the exception, checked by its own rule
			}
			for _, b := range above[p.ImportPath] {
				if strings.HasPrefix(d, b) {
					t.Errorf("%s depends on %s; it is a client of the gateway's API", p.ImportPath, d)
				}
			}
		}
		if strings.HasPrefix(p.ImportPath, internal) {
			for _, d := range p.Deps {
				if first, _, _ := strings.Cut(d, "/"); strings.Contains(first, ".") {
					t.Errorf("%s depends on %s: the internal helpers use the standard library alone", p.ImportPath, d)
				}
			}
			continue
		}
		if b, ok := besides[p.ImportPath]; ok {
			for _, imp := range p.Imports {
				if strings.HasPrefix(imp, mod+"/") && !slices.Contains(b.project, imp) {
					t.Errorf("%s imports %s from the project; it may import only %v", p.ImportPath, imp, b.project)
				}
			}
			for _, d := range p.Deps {
				for _, bad := range b.bad {
					if strings.HasPrefix(d, bad) {
						t.Errorf("%s depends on %s", p.ImportPath, d)
					}
				}
			}
			continue
		}
		bad, isLeaf := leaves[p.ImportPath]
		if !isLeaf {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, mod+"/") && !strings.HasPrefix(imp, internal) && !slices.Contains(leafMay[p.ImportPath], imp) {
				t.Errorf("leaf %s imports %s from the project", p.ImportPath, imp)
			}
		}
		for _, d := range p.Deps {
			for _, b := range bad {
				if strings.HasPrefix(d, b) {
					t.Errorf("leaf %s depends on %s", p.ImportPath, d)
				}
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list found %d packages", seen)
	}
}
