package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/policies"
)

// TestExerciseRun runs `liaison exercise run -out DIR -compare CANDIDATE`
// on a worked scenario twice: the output is the same byte for byte, it is
// written as Markdown and HTML (the report and the comparison), and a
// candidate that is the same tree changes no delivery.
func TestExerciseRun(t *testing.T) {
	cand := t.TempDir()
	err := fs.WalkDir(policies.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(cand, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(cand, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join("..", "..", "exercise", "testdata", "dk-release.yaml")
	var outs [2]bytes.Buffer
	var dirs [2]string
	for i := range outs {
		dirs[i] = t.TempDir()
		var stderr bytes.Buffer
		if err := runExercise(context.Background(), []string{"run", "-out", dirs[i], "-compare", cand, scenario}, &outs[i], &stderr); err != nil {
			t.Fatalf("exercise run: %v\n%s", err, &stderr)
		}
	}
	if !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
		t.Fatalf("two runs print different reports:\n%s\n----\n%s", &outs[0], &outs[1])
	}
	out := outs[0].String()
	for _, w := range []string{"# Exercise: DK release into Aarhus", "## dk-police-aarhus (police, DK)", "## Gaps", "# Compare: DK release into Aarhus", "## Changed deliveries\n\nNone.\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, f := range []string{"dk-release.md", "dk-release.html", "dk-release.compare.md", "dk-release.compare.html"} {
		a, err := os.ReadFile(filepath.Join(dirs[0], f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dirs[1], f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", f)
		}
		if strings.HasSuffix(f, ".html") && (!bytes.HasPrefix(a, []byte("<!DOCTYPE html>")) || bytes.Contains(a, []byte("<script")) || bytes.Contains(a, []byte("<link"))) {
			t.Errorf("%s is not a self-contained page", f)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dirs[0], "dk-release.md"))
	if !strings.HasPrefix(out, string(md)) {
		t.Errorf("the printed report is not the Markdown written to -out")
	}
	if err := runExercise(context.Background(), []string{"run", filepath.Join(t.TempDir(), "missing.yaml")}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("a missing scenario file is not an error")
	}
}
