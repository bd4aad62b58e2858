package policies

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/liaison-gateway/liaison/policies/plan"
)

// The embedded tree: the shared rules and one folder per jurisdiction,
// directly under policies/, with their tests. Go files and testdata are not
// part of it.
//
//go:embed */*.rego
var embedded embed.FS

// Embedded returns the policy tree compiled into the binary: every .rego
// file (including *_test.rego) in the folders directly under policies/.
func Embedded() fs.FS { return embedded }

// ErrUndefined is returned, possibly wrapped, when data.liaison.decision is
// undefined for an input. Callers MUST treat it as a denial.
var ErrUndefined = errors.New("policies: decision is undefined")

// ErrMalformed is returned, wrapped, when the policy produced a decision
// that breaks the contract of [Decision] (an unknown outcome, a disclosure
// without a legal basis, content in a denial, ...). Callers MUST treat it as
// a denial.
var ErrMalformed = errors.New("policies: malformed decision")

// Queries evaluated by the engine.
const (
	decisionQuery = "data.liaison.decision"
	explainQuery  = "data.liaison.explain"
	packsQuery    = "data.liaison.jurisdictions"
	// retentionQuery is asked when a legal basis ends (retention.go).
	retentionQuery = "data.liaison.retention"
)

// An Engine evaluates a loaded, tested policy tree. It is safe for
// concurrent use and never changes once loaded: to change the policy,
// load another Engine (see [Active]). The zero value is not usable; use
// [Load], [LoadSource] or [LoadBundle].
type Engine struct {
	revision string
	digest   string // see Digest
	source   string // see Source
	decision *query
	// planned is data.liaison.decision planned by OPA's planner and run
	// by package plan's interpreter, which Decide uses; nil where the
	// tree could not be planned or the plan disagreed with topdown on a
	// sample (unplanned says why), and then Decide uses topdown.
	planned   *plan.Program
	unplanned error
	explain   *query
	packs     *query
	// retention answers what a recipient keeps when a basis ends.
	retention *query
	// zones are the time zones of the packs' laws, by pack key (days.go).
	zones  map[string]*time.Location
	folded []string // the rules folded into constants, see fold
	// loaded is the fingerprint (see fingerprint) of the bytes the engine
	// was loaded from, so that Watch starts from what is active rather
	// than from what the source holds when Watch first looks.
	loaded string
	// testedAtBuild: the tree's tests were not run by this load, being
	// the embedded tree's, which this binary's build ran (tested.go).
	testedAtBuild bool
}

// Load parses, compiles, tests and prepares the policy tree in fsys and
// returns an Engine for it.
//
// Every file ending in .rego is loaded, at any depth, except in folders
// named testdata or starting with "." or "_". Files ending in _test.rego are
// tests: Load runs them (with built-in errors raised, as Decide does) and
// fails if any test fails or errors; they are not part of the prepared
// query. The embedded tree's tests ran when this binary was built (see
// [Engine.TestedAtBuild]): a tree of the same bytes is not tested again.
// The rest is compiled in strict mode; every rule that cannot depend on
// the input is then worked out once and kept as its value (see fold),
// data.liaison.decision is prepared once, and the built-in sample inputs
// must each get a well-formed decision. Any failure returns an error and
// no Engine.
func Load(ctx context.Context, fsys fs.FS) (*Engine, error) {
	return load(ctx, fsys, "fs", "")
}

// load is Load, recording where the tree came from. An empty digest means
// the revision.
func load(ctx context.Context, fsys fs.FS, source, digest string) (*Engine, error) {
	mods, tests, fp, err := parseTree(fsys)
	if err != nil {
		return nil, err
	}
	treeFp := fp
	if digest != "" {
		fp = digest // a bundle: its fingerprint is its digest
	}
	// The tree's own tests take most of the time; the engine is prepared
	// and checked on the samples beside them, and used only if they pass.
	// A test failure is reported before any other error, as if the tests
	// had run first.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tested := make(chan error, 1)
	atBuild := testedAtBuild(treeFp)
	if atBuild {
		tested <- nil
	} else {
		go func() { tested <- runTests(ctx, mods, tests) }()
	}
	e, perr := prepareEngine(pctx, mods, source, digest)
	if perr != nil {
		cancel() // the tests go on: their verdict comes first
	}
	if err := <-tested; err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	e.loaded, e.testedAtBuild = fp, atBuild
	return e, nil
}

// prepareEngine compiles the policy modules once and prepares the
// engine's queries on them, then decides the built-in samples.
func prepareEngine(ctx context.Context, mods []module, source, digest string) (*Engine, error) {
	e := &Engine{revision: revision(mods), source: source, digest: digest}
	if e.digest == "" {
		e.digest = e.revision
	}
	folded, foldedPaths, err := fold(ctx, mods)
	if err != nil {
		return nil, err
	}
	e.folded = foldedPaths
	compiler, err := compileModules(folded)
	if err != nil {
		return nil, err
	}
	if e.decision, err = prepareQuery(compiler, decisionQuery); err != nil {
		return nil, err
	}
	if e.explain, err = prepareQuery(compiler, explainQuery); err != nil {
		return nil, err
	}
	if e.packs, err = prepareQuery(compiler, packsQuery); err != nil {
		return nil, err
	}
	if e.zones, err = loadZones(ctx, e.packs); err != nil {
		return nil, err
	}
	if e.retention, err = prepareQuery(compiler, retentionQuery); err != nil {
		return nil, err
	}
	// The plan is OPA's planner's, over the modules compiled above, once
	// topdown's queries are prepared (planning sets the compiler's mode
	// for a moment).
	e.planned, e.unplanned = planDecision(ctx, compiler)
	if e.planned != nil {
		e.checkPlanned(ctx)
	}
	for _, s := range samples {
		if _, err := e.Decide(ctx, s.in); err != nil {
			return nil, fmt.Errorf("policies: load: sample %q: %w", s.name, err)
		}
	}
	return e, nil
}

// module is one parsed .rego file.
type module struct {
	path   string // slash-separated, relative to the tree's root
	src    []byte
	parsed *ast.Module
}

// parseTree reads and parses every .rego file of the tree, split into
// policy modules and test modules, each sorted by path, and returns the
// tree's fingerprint (see treeFingerprint) over the bytes it parsed.
func parseTree(fsys fs.FS) (mods, tests []module, fp string, err error) {
	h := sha256.New()
	err = walkTree(fsys, func(p string, src []byte) error {
		hashFile(h, p, src)
		parsed, err := ast.ParseModuleWithOpts(p, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			return fmt.Errorf("policies: load: %w", err)
		}
		m := module{path: p, src: src, parsed: parsed}
		if strings.HasSuffix(p, "_test.rego") {
			tests = append(tests, m)
		} else {
			mods = append(mods, m)
		}
		return nil
	})
	if err != nil {
		return nil, nil, "", err
	}
	if len(mods) == 0 {
		return nil, nil, "", errors.New("policies: load: the tree has no policy modules (.rego files other than *_test.rego)")
	}
	return mods, tests, "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// testTimeout bounds each Rego test. It is generous: a gateway under load
// must not refuse a good candidate because a test ran slowly (OPA's
// default is 5 seconds); Rego always terminates, so it only stops a
// pathological test.
const testTimeout = 2 * time.Minute

// runTests compiles policy and test modules together in strict mode and
// runs the tests. Any failing or erroring test is an error.
func runTests(ctx context.Context, mods, tests []module) error {
	all := make(map[string]*ast.Module, len(mods)+len(tests))
	for _, m := range slices.Concat(mods, tests) {
		all[m.path] = m.parsed
	}
	compiler := newCompiler().
		WithStrict(true).
		WithEnablePrintStatements(false)
	ch, err := tester.NewRunner().
		SetCompiler(compiler).
		SetModules(all).
		RaiseBuiltinErrors(true).
		SetTimeout(testTimeout).
		RunTests(ctx, nil)
	if err != nil {
		return fmt.Errorf("policies: load: compile: %w", explainForbidden(err))
	}
	var failed []string
	for r := range ch {
		switch {
		case r.Error != nil:
			failed = append(failed, fmt.Sprintf("%s.%s: error: %v", r.Package, r.Name, r.Error))
		case r.Fail:
			failed = append(failed, fmt.Sprintf("%s.%s (%s): FAIL", r.Package, r.Name, r.Location))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("policies: load: tests: %w", err)
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		return fmt.Errorf("policies: load: %d Rego test(s) failed:\n\t%s", len(failed), strings.Join(failed, "\n\t"))
	}
	return nil
}

// revision hashes the policy modules (not the tests) like sha256sum does:
// one line "<hex sha256 of the file>  <path>\n" per module, in byte order
// of the slash-separated paths relative to the tree's root, and the SHA-256
// of those lines. It can be recomputed from a checkout with
//
//	cd policies && find . -name '*.rego' ! -name '*_test.rego' ! -path '*/testdata/*' |
//	  sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum
func revision(mods []module) string {
	sorted := slices.SortedFunc(slices.Values(mods), func(a, b module) int { return strings.Compare(a.path, b.path) })
	h := sha256.New()
	for _, m := range sorted {
		fmt.Fprintf(h, "%x  %s\n", sha256.Sum256(m.src), m.path)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Revision identifies the policy modules the engine runs: "sha256:<hex>"
// over their paths and contents, ignoring tests. See [Load] for how to
// recompute it.
func (e *Engine) Revision() string { return e.revision }

// Digest identifies what the engine was loaded from: for a bundle the
// SHA-256 of the bundle file as it was read ("sha256:<hex>", what
// `sha256sum bundle.tar.gz` prints), otherwise the [Engine.Revision].
func (e *Engine) Digest() string { return e.digest }

// Source says where the engine was loaded from, as [Source.String] does;
// "fs" for a tree given to [Load].
func (e *Engine) Source() string { return e.source }

// Decide evaluates data.liaison.decision for in. It returns [ErrUndefined]
// if the decision is undefined, a wrapped [ErrMalformed] if it breaks the
// Decision contract, and another error if evaluation fails (for example
// conflicting values or a built-in error). Callers MUST refuse the exchange
// on any error and MUST NOT turn an error into a disclosure.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	v, err := e.decide(ctx, in.value())
	if err != nil {
		return Decision{}, err
	}
	d, err := decodeDecision(v)
	if err != nil {
		return Decision{}, err
	}
	if err := d.validateFor(in); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// Explain evaluates data.liaison.explain for in and returns the decision
// with lines that say why: the stage that decided, the reasons, and each
// legal basis and fallback rule of the pack with why it does or does not
// apply. Errors are as for [Engine.Decide]. See [Engine.Explanation].
func (e *Engine) Explain(ctx context.Context, in Input) (Decision, []string, error) {
	x, err := e.Explanation(ctx, in)
	if err != nil {
		return Decision{}, nil, err
	}
	return x.Decision, x.Lines, nil
}

// An Explanation is a decision with why it came out as it did.
type Explanation struct {
	Decision Decision `json:"decision"`
	// Stage is the stage of data.liaison.decision that decided, e.g.
	// legal_basis or fallback (policies/README.md lists them); empty if the
	// tree does not say.
	Stage string `json:"stage"`
	// Lines say why, one line per reason, legal basis and fallback rule.
	Lines []string `json:"lines"`
	// Assumptions are the unverified readings of law the decision rests
	// on, as the packs state them; empty if none or if the tree does not say.
	Assumptions []string `json:"assumptions"`
}

// Explanation evaluates data.liaison.explain for in. If the tree defines
// no data.liaison.explain, the lines are the outcome and the reasons.
// Errors are as for [Engine.Decide]: the decision explained is the one
// Decide gives, so where data.liaison.decision is undefined Explanation
// returns [ErrUndefined] too, and an explanation whose decision is not
// data.liaison.decision's is a wrapped [ErrMalformed].
func (e *Engine) Explanation(ctx context.Context, in Input) (Explanation, error) {
	v, err := e.explain.eval(ctx, in.value())
	if errors.Is(err, ErrUndefined) {
		d, err := e.Decide(ctx, in)
		if err != nil {
			return Explanation{}, err
		}
		lines := []string{"outcome " + d.Outcome + " (this policy tree has no data.liaison.explain)"}
		for _, r := range d.Reasons {
			lines = append(lines, "reason "+r.Code+": "+r.Message)
		}
		return Explanation{Decision: d, Lines: lines}, nil
	}
	if err != nil {
		return Explanation{}, err
	}
	// The explanation must be of the decision the gateway enforces: where
	// data.liaison.decision is undefined or fails, so does the
	// explanation, and one that explains another decision is malformed.
	dv, err := e.decide(ctx, in.value())
	if err != nil {
		return Explanation{}, err
	}
	if obj, ok := v.(ast.Object); ok {
		if xd := obj.Get(ast.InternedTerm("decision")); xd != nil && xd.Value.Compare(dv) != 0 {
			return Explanation{}, fmt.Errorf("%w: data.liaison.explain's decision is not data.liaison.decision", ErrMalformed)
		}
	}
	var x struct {
		Decision    *Decision `json:"decision"`
		Lines       []string  `json:"lines"`
		Stage       string    `json:"stage"`
		Assumptions []string  `json:"assumptions"`
	}
	if err := decodeValue(v, &x); err != nil {
		return Explanation{}, err
	}
	if x.Decision == nil {
		return Explanation{}, fmt.Errorf("%w: data.liaison.explain has no decision", ErrMalformed)
	}
	if err := x.Decision.validateFor(in); err != nil {
		return Explanation{}, err
	}
	return Explanation{Decision: *x.Decision, Stage: x.Stage, Lines: x.Lines, Assumptions: x.Assumptions}, nil
}
