package policies

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the want of each golden decision file from the current policy")

// A golden is one testdata/decisions/*.golden file (JSON). The extension
// is not .json because `opa test policies/` would load .json files as data
// and fail on their clashing keys.
type golden struct {
	Name  string   `json:"name"`
	Input Input    `json:"input"`
	Want  Decision `json:"want"`

	path string
}

func readGolden(tb testing.TB) []golden {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "decisions", "*.golden"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatal("no testdata/decisions/*.golden files")
	}
	var gs []golden
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields() // the input must use the contract's JSON names
		g := golden{path: p}
		if err := dec.Decode(&g); err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		if want := strings.TrimSuffix(filepath.Base(p), ".golden"); g.Name != want {
			tb.Fatalf("%s: name %q, want %q (the file name)", p, g.Name, want)
		}
		gs = append(gs, g)
	}
	return gs
}

// TestGoldenDecisions runs each golden input through the Go Engine and
// compares the decision, which covers the Go–Rego contract end to end.
func TestGoldenDecisions(t *testing.T) {
	e := loadEmbedded(t)
	for _, g := range readGolden(t) {
		t.Run(g.Name, func(t *testing.T) {
			got, err := e.Decide(t.Context(), g.Input)
			if err != nil {
				t.Fatalf("Decide(%s) error: %v", g.Name, err)
			}
			if *update {
				g.Want = got
				writeGolden(t, g)
				return
			}
			if diff := goldenDiff(g.Want, got); diff != "" {
				t.Errorf("Decide(%s) mismatch (-want +got):\n%s", g.Name, diff)
			}
		})
	}
}

// goldenDiff compares a golden file's expected decision with the
// policy's, as `liaison policy simulate` does: a list of fields, or the
// conditions, that the file leaves out or writes null is the empty list.
func goldenDiff(want, got Decision) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

func writeGolden(t *testing.T, g golden) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(g); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(g.path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenCoversEveryJurisdiction makes sure every pack of the embedded
// tree has golden decisions, and that cross-border exchanges have some.
func TestGoldenCoversEveryJurisdiction(t *testing.T) {
	packs, err := loadEmbedded(t).Packs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]int{}
	crossBorder := 0
	for _, g := range readGolden(t) {
		held[g.Input.Holder.Jurisdiction]++
		if g.Input.Recipient.Jurisdiction != g.Input.Holder.Jurisdiction {
			crossBorder++
		}
	}
	for _, p := range packs {
		if held[p.Code] < 3 {
			t.Errorf("%d golden decisions for records held in %s; want at least 3", held[p.Code], p.Code)
		}
	}
	if len(packs) < 6 || crossBorder < 3 {
		t.Errorf("%d packs, %d cross-border golden decisions; want at least 6 and 3", len(packs), crossBorder)
	}
}

// TestGoldenReadsLeftOutListsAsEmpty: an expected deny written by hand
// without its lists (policies/README.md: a denial has no fields and no
// conditions) is the policy's deny, whose lists are [].
func TestGoldenReadsLeftOutListsAsEmpty(t *testing.T) {
	reasons := []Reason{{Code: "PURPOSE_PROHIBITED", Message: "Prohibited."}}
	got := Decision{Outcome: OutcomeDeny, Fields: Fields{Keep: []string{}, Generalise: []string{}, Pseudonymise: []string{}}, Conditions: []string{}, Reasons: reasons}
	if d := goldenDiff(Decision{Outcome: OutcomeDeny, Reasons: reasons}, got); d != "" {
		t.Errorf("an expected deny without its lists differs from the policy's:\n%s", d)
	}
	if d := goldenDiff(Decision{Outcome: OutcomeDeny, Conditions: []string{"NO_ONWARD_DISCLOSURE"}, Reasons: reasons}, got); d == "" {
		t.Error("an expected deny with a condition the policy's has not does not differ")
	}
}
