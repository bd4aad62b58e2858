package policies

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
)

var updateEquivalence = flag.Bool("update-equivalence", false,
	"record testdata/equivalence from the current policy (only before a change that must not change any decision)")

// The equivalence log: genInputs(equivalenceSeed, equivalenceCount) and
// what the embedded policy decided for each when it was recorded.
const (
	equivalenceSeed  = 15
	equivalenceCount = 12000
)

var equivalenceLog = filepath.Join("testdata", "equivalence", "decisions.jsonl.gz")

// An equivalenceEntry is one line of the equivalence log.
type equivalenceEntry struct {
	Input Input `json:"input"`
	// Decision is data.liaison.decision exactly as the policy gave it
	// (absent if undefined), so that a key that appears or disappears, or
	// an empty list that becomes null, counts as a difference.
	Decision json.RawMessage `json:"decision,omitempty"`
	// Error is what Engine.Decide returned as an error, if anything.
	Error string `json:"error,omitempty"`
	// Explain is data.liaison.explain as the policy gave it (the stage,
	// the lines for every basis and fallback rule, and the assumptions),
	// recorded as the first 16 hex digits of the SHA-256 of its JSON to
	// keep the log small. ExplainStage is its stage, kept in clear for
	// the summary and for reading the log.
	Explain      string `json:"explain_sha256,omitempty"`
	ExplainStage string `json:"explain_stage,omitempty"`
	// Retention is data.liaison.retention for the input (what the
	// recipient keeps if the basis ended on its day), as the first 16 hex
	// digits of the SHA-256 of its JSON.
	Retention string `json:"retention_sha256,omitempty"`

	explain json.RawMessage // when decided now, for the differences
}

// record decides in with e as the log records it; the explanation only if
// explain is true (it costs several times the decision).
func record(ctx context.Context, e *Engine, in Input, explain bool) (equivalenceEntry, error) {
	x := equivalenceEntry{Input: in}
	v, err := e.decision.eval(ctx, in.value())
	switch {
	case errors.Is(err, ErrUndefined):
		x.Error = err.Error()
	case err != nil:
		return x, err
	default:
		// Decide's checks, on the value already at hand.
		if x.Decision, err = rawJSON(v); err != nil {
			return x, err
		}
		d, err := decodeDecision(v)
		if err == nil {
			err = d.validateFor(in)
		}
		if err != nil {
			x.Error = err.Error()
		}
	}
	r, err := rawEval(ctx, e, retentionQuery, in)
	if err != nil {
		return x, err
	}
	if r != nil {
		sum := sha256.Sum256(r)
		x.Retention = hex.EncodeToString(sum[:8])
	}
	if !explain {
		return x, nil
	}
	if x.explain, err = rawEval(ctx, e, explainQuery, in); err != nil {
		return x, err
	}
	if x.explain != nil {
		sum := sha256.Sum256(x.explain)
		x.Explain = hex.EncodeToString(sum[:8])
		var v struct{ Stage string }
		if err := json.Unmarshal(x.explain, &v); err != nil {
			return x, err
		}
		x.ExplainStage = v.Stage
	}
	return x, nil
}

// rawEval evaluates ref (decisionQuery, explainQuery or retentionQuery)
// for in and returns its value as JSON, nil if undefined, and an error
// only if evaluation fails.
func rawEval(ctx context.Context, e *Engine, ref string, in Input) (json.RawMessage, error) {
	q := map[string]*query{decisionQuery: e.decision, explainQuery: e.explain, retentionQuery: e.retention}[ref]
	v, err := q.eval(ctx, in.value())
	if errors.Is(err, ErrUndefined) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return rawJSON(v)
}

func rawJSON(v ast.Value) (json.RawMessage, error) {
	x, err := ast.JSON(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(x)
}

// recordAll decides every input with e, on all CPUs, and explains every
// explainEvery-th (1: all).
func recordAll(ctx context.Context, e *Engine, ins []Input, explainEvery int) ([]equivalenceEntry, error) {
	out := make([]equivalenceEntry, len(ins))
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = record(ctx, e, ins[i], i%explainEvery == 0)
			}
		})
	}
	for i := range ins {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, errors.Join(errs...)
}

func readEquivalenceLog(tb testing.TB) []equivalenceEntry {
	tb.Helper()
	f, err := os.Open(equivalenceLog)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out []equivalenceEntry
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var x equivalenceEntry
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&x); err != nil {
			tb.Fatalf("%s line %d: %v", equivalenceLog, len(out)+1, err)
		}
		out = append(out, x)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func writeEquivalenceLog(tb testing.TB, xs []equivalenceEntry) {
	tb.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	for _, x := range xs {
		if err := enc.Encode(x); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(equivalenceLog, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("wrote %s: %d entries, %d bytes", equivalenceLog, len(xs), buf.Len())
}

// explainEvery: TestDecisionsUnchanged compares the explanation of every
// explainEvery-th entry (an explanation costs several decisions).
const explainEvery = 4

// TestDecisionsUnchanged decides every input of the equivalence log (at
// least 10,000 generated inputs, see genInputs) with the embedded policy
// and compares decision, retention and error, entry by entry, with what
// the policy decided when the log was recorded, and the explanation of
// every fourth entry. A change to the policy that
// must not change any outcome (a restructuring, an optimisation) must
// leave this test passing; a change that is meant to change decisions
// re-records the log with -update-equivalence, and the diff of the
// decisions is then part of the review.
func TestDecisionsUnchanged(t *testing.T) {
	e := loadEmbedded(t)
	if *updateEquivalence {
		got, err := recordAll(t.Context(), e, genInputs(equivalenceSeed, equivalenceCount), 1)
		if err != nil {
			t.Fatal(err)
		}
		writeEquivalenceLog(t, got)
		return
	}
	want := readEquivalenceLog(t)
	if len(want) < 10000 {
		t.Fatalf("%s has %d entries; want at least 10,000", equivalenceLog, len(want))
	}
	ins := make([]Input, len(want))
	for i, x := range want {
		ins[i] = x.Input
	}
	got, err := recordAll(t.Context(), e, ins, explainEvery)
	if err != nil {
		t.Fatal(err)
	}
	differ := 0
	for i := range want {
		d := entryDiff(want[i], got[i], i%explainEvery == 0)
		if d == "" {
			continue
		}
		differ++
		if differ <= 5 {
			in, _ := json.Marshal(want[i].Input)
			t.Errorf("entry %d: input %s\n(-recorded +now):\n%s", i+1, in, d)
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d entries decided differently", differ, len(want))
	}
	outcomes, stages := map[string]int{}, map[string]int{}
	for _, x := range want {
		var d struct{ Outcome string }
		_ = json.Unmarshal(x.Decision, &d)
		outcomes[d.Outcome]++
		stages[x.ExplainStage]++
	}
	t.Logf("%d entries compared; recorded outcomes %v; stages %v", len(want), outcomes, stages)
}

// entryDiff compares two entries: the decisions as JSON values, the
// explanations by hash (the one decided now is shown in full).
func entryDiff(want, got equivalenceEntry, explained bool) string {
	var out bytes.Buffer
	if !bytes.Equal(want.Decision, got.Decision) {
		var a, b any
		_ = json.Unmarshal(want.Decision, &a)
		_ = json.Unmarshal(got.Decision, &b)
		fmt.Fprintf(&out, "decision:\n%s", cmp.Diff(a, b))
	}
	if explained && (want.Explain != got.Explain || want.ExplainStage != got.ExplainStage) {
		fmt.Fprintf(&out, "explain: stage %q sha256 %s recorded, now stage %q sha256 %s:\n%s\n",
			want.ExplainStage, want.Explain, got.ExplainStage, got.Explain, got.explain)
	}
	if want.Retention != got.Retention {
		fmt.Fprintf(&out, "retention: sha256 %s recorded, now %s\n", want.Retention, got.Retention)
	}
	if want.Error != got.Error {
		fmt.Fprintf(&out, "Decide error: %q, now %q\n", want.Error, got.Error)
	}
	return out.String()
}

// TestEquivalenceLogIsGenerated checks that the generator still produces
// the inputs of the equivalence log, so that the log can be re-recorded
// from it and its inputs stay the varied set genInputs describes.
func TestEquivalenceLogIsGenerated(t *testing.T) {
	if *updateEquivalence {
		t.Skip("-update-equivalence is re-recording the log; run without the flag to check against it (make test does)")
	}
	want := readEquivalenceLog(t)
	got := genInputs(equivalenceSeed, equivalenceCount)
	if len(got) != len(want) {
		t.Fatalf("generated %d inputs, the log has %d", len(got), len(want))
	}
	for i := range got {
		// Through JSON, as the log stores them (nil and empty lists).
		b, _ := json.Marshal(got[i])
		var in Input
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want[i].Input, in); d != "" {
			t.Fatalf("input %d differs from the log (-log +generated):\n%s", i+1, d)
		}
	}
}

// TestReplayUnchanged replays the equivalence log as an audit log through
// the Replayer's AddAll, as `liaison policy replay` does: every recorded decision,
// decided again by the embedded policy, must come out with the same
// outcome, legal basis and fields.
func TestReplayUnchanged(t *testing.T) {
	if *updateEquivalence {
		t.Skip("-update-equivalence is re-recording the log; run without the flag to check against it (make test does)")
	}
	e := loadEmbedded(t)
	r := NewReplayer(e, nil, planFields, nil)
	log := readEquivalenceLog(t)
	recs := recordedLog(t, log)
	for range len(log) - len(recs) {
		r.Skip("policy error")
	}
	if err := r.AddAll(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	rep := r.Report()
	if rep.Replayed+rep.Skipped["policy error"] != len(log) || rep.Replayed < 10000 {
		t.Errorf("replayed %d, skipped %v of %d entries; want all but policy errors, at least 10,000", rep.Replayed, rep.Skipped, len(log))
	}
	if len(rep.Changes) > 0 {
		var buf bytes.Buffer
		_ = rep.WriteText(&buf)
		t.Errorf("replay finds %d changes:\n%.3000s", len(rep.Changes), buf.String())
	}
	t.Logf("%d decisions replayed, %d unchanged, skipped %v", rep.Replayed, rep.Unchanged, rep.Skipped)
}

// recordedLog turns the equivalence log into the decisions an audit log
// would record, for a Replayer: every entry but the policy errors.
func recordedLog(tb testing.TB, log []equivalenceEntry) []Recorded {
	tb.Helper()
	var recs []Recorded
	for i, x := range log {
		if x.Error != "" {
			continue
		}
		var d Decision
		if err := json.Unmarshal(x.Decision, &d); err != nil {
			tb.Fatalf("entry %d: %v", i+1, err)
		}
		rec := Recorded{Index: int64(i + 1), Input: x.Input, Outcome: d.Outcome, Fields: planFields(x.Input.RecordType, d), Conditions: d.Conditions}
		if d.LegalBasis != nil {
			rec.LegalBasis = d.LegalBasis.ID
		}
		recs = append(recs, rec)
	}
	return recs
}
