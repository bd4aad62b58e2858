package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/policies"
)

// TestExerciseRun runs `liaison exercise run -out DIR -compare CANDIDATE`
// on a worked scenario: it prints the golden report and the comparison,
// writes both as Markdown and as self-contained HTML, and a candidate that
// is the same tree changes no delivery.
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
	var stdout, stderr bytes.Buffer
	dir := t.TempDir()
	if err := runExercise(context.Background(), []string{"run", "-out", dir, "-compare", cand, scenario}, &stdout, &stderr); err != nil {
		t.Fatalf("exercise run: %v\n%s", err, &stderr)
	}
	out := stdout.String()
	for _, w := range []string{"# Exercise: DK release into Aarhus", "## dk-police-aarhus (police, DK)", "## Gaps", "# Compare: DK release into Aarhus", "## Changed deliveries\n\nNone.\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	files := map[string][]byte{}
	for _, f := range []string{"dk-release.md", "dk-release.html", "dk-release.compare.md", "dk-release.compare.html"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
		if strings.HasSuffix(f, ".html") && (!bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || bytes.Contains(b, []byte("<script")) || bytes.Contains(b, []byte("<link"))) {
			t.Errorf("%s is not a self-contained page", f)
		}
	}
	// The report is the golden one (the exercise package plays it twice
	// for determinism), and what is printed is what is written.
	golden, err := os.ReadFile(filepath.Join("..", "..", "exercise", "testdata", "dk-release.golden.md"))
	if err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile("Policy revision `sha256:[0-9a-f]{64}`").ReplaceAll(files["dk-release.md"], []byte("Policy revision `REVISION`"))
	if !bytes.Equal(got, golden) {
		t.Errorf("dk-release.md differs from the golden report:\n%s", files["dk-release.md"])
	}
	if want := string(files["dk-release.md"]) + "\n" + string(files["dk-release.compare.md"]); out != want {
		t.Errorf("printed output is not the report and the comparison written to -out")
	}
	if err := runExercise(context.Background(), []string{"run", filepath.Join(t.TempDir(), "missing.yaml")}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("a missing scenario file is not an error")
	}
}

// TestExerciseRunErrorsNameTheProblem: a policy or a candidate that does
// not load is named by its flag, before anything is played. The error
// said "the  policy does not load" (an empty word for -policy), and a
// candidate that does not load was found only after the whole scenario
// had been played on the base policy (it is now loaded first). A flag
// written after the scenario file was reported as "give one scenario
// file".
func TestExerciseRunErrorsNameTheProblem(t *testing.T) {
	scenario := filepath.Join("..", "..", "exercise", "testdata", "dk-release.yaml")
	missing := filepath.Join(t.TempDir(), "no-such-policy")
	bundle := filepath.Join(t.TempDir(), "p.tar.gz")
	if err := os.WriteFile(bundle, []byte("not a bundle"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-policy", missing, scenario}, "exercise run: -policy " + missing + " does not load: "},
		{[]string{"run", "-compare", missing, scenario}, "exercise run: -compare " + missing + " does not load: "},
		{[]string{"run", "-compare", bundle, scenario}, "exercise run: -compare " + bundle + " does not load: " + bundle + " is a bundle: -verification-key is required"},
		// A flag after the file is not taken for a second file.
		{[]string{"run", scenario, "-out", missing}, "exercise run: -out after the scenario file: flags go before it"},
	} {
		var stdout, stderr bytes.Buffer
		err := runExercise(t.Context(), tt.args, &stdout, &stderr)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("exercise %s: %v, want an error starting %q", strings.Join(tt.args, " "), err, tt.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("exercise %s printed a report:\n%s", strings.Join(tt.args, " "), &stdout)
		}
	}
}
