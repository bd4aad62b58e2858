package audit_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs checks that audit and its subpackages have a package doc
// comment, and that every exported identifier has a doc comment: one that
// starts with its name, or a group comment for a block of constants.
func TestPackageDocs(t *testing.T) {
	for _, dir := range []string{".", "sqlite", "audittest"} {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		var files []*ast.File
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		p, err := doc.NewFromFiles(fset, files, "./"+dir)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.Doc, "Package "+p.Name+" ") {
			t.Errorf("%s: package doc = %q, want it to start with %q", dir, firstLine(p.Doc), "Package "+p.Name)
		}
		check := func(name, text string) {
			if ast.IsExported(name) && !startsWithName(text, name) {
				t.Errorf("%s: %s: doc comment = %q, want one that starts with its name", dir, name, firstLine(text))
			}
		}
		values := func(vs []*doc.Value) {
			for _, v := range vs {
				if len(v.Names) == 1 {
					check(v.Names[0], v.Doc)
				} else if v.Doc == "" {
					t.Errorf("%s: %v: no doc comment on the group", dir, v.Names)
				}
			}
		}
		values(p.Consts)
		values(p.Vars)
		for _, f := range p.Funcs {
			check(f.Name, f.Doc)
		}
		for _, typ := range p.Types {
			check(typ.Name, typ.Doc)
			values(typ.Consts)
			values(typ.Vars)
			for _, f := range append(typ.Funcs, typ.Methods...) {
				if f.Name != "Error" { // an error type's Error method needs no words
					check(f.Name, f.Doc)
				}
			}
		}
	}
}

// startsWithName accepts "Name ...", "A Name ...", "An Name ...".
func startsWithName(text, name string) bool {
	for _, prefix := range []string{"", "A ", "An ", "The "} {
		if strings.HasPrefix(text, prefix+name+" ") || strings.HasPrefix(text, prefix+name+"\n") {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
