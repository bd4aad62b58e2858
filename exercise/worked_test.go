package exercise_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/liaison-gateway/liaison/exercise"
)

// TestWorkedScenarios: the binary embeds exactly the worked scenarios the
// golden tests play, each with its leading comment.
func TestWorkedScenarios(t *testing.T) {
	ws, err := exercise.WorkedScenarios()
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, w := range ws {
		files = append(files, w.File)
		if w.Scenario == nil || w.Scenario.Name == "" || w.About == "" || strings.Contains(w.About, "#") {
			t.Errorf("%s: scenario %v, about %q; want a parsed scenario and its comment without #", w.File, w.Scenario, w.About)
		}
	}
	if !slices.Equal(files, scenarios) {
		t.Errorf("embedded scenarios %v, want the golden tests' %v", files, scenarios)
	}
}
