package exercise_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
	"github.com/liaison-gateway/liaison/policies"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// engine is the embedded policy, loaded once per test binary.
var engine = sync.OnceValues(func() (*policies.Engine, error) {
	return policies.Load(context.Background(), policies.Embedded())
})

func scenario(t *testing.T, name string) *exercise.Scenario {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := exercise.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, eng *policies.Engine, s *exercise.Scenario) *exercise.Report {
	t.Helper()
	r, err := exercise.Run(t.Context(), eng, s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s (go test ./exercise -update):\n%s", path, got)
	}
}

// TestGolden plays each worked scenario twice through its own gateway and
// compares the reports with the golden files: the same scenario and policy
// give the same bytes.
func TestGolden(t *testing.T) {
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range scenarios {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := scenario(t, name)
			r1, r2 := run(t, eng, s), run(t, eng, s)
			md, html := r1.Markdown(), r1.HTML()
			if !bytes.Equal(md, r2.Markdown()) || !bytes.Equal(html, r2.HTML()) {
				t.Fatalf("two runs of the same scenario differ:\n%s\n----\n%s", md, r2.Markdown())
			}
			golden(t, name+".golden.md", md)
			golden(t, name+".golden.html", html)
		})
	}
}

// scenarios are the worked examples, one per jurisdiction pack.
var scenarios = []string{"be-ngo", "de_by-release", "de_ni-probation", "dk-release", "fr-crossborder", "nl-case"}
