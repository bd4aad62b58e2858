package policies

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// writeTree copies the .rego files of the embedded tree into dir, with
// the files in edits (path -> contents) replaced or added.
func writeTree(tb testing.TB, dir string, edits map[string]string) {
	tb.Helper()
	err := walkTree(Embedded(), func(p string, src []byte) error {
		return writeFile(filepath.Join(dir, p), src)
	})
	if err != nil {
		tb.Fatal(err)
	}
	for p, src := range edits {
		if err := writeFile(filepath.Join(dir, p), []byte(src)); err != nil {
			tb.Fatal(err)
		}
	}
}

func writeFile(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

// withoutNLPoliceFallback returns the edits of a deliberate change: the
// Dutch fallback no longer pseudonymises for the police, and the tests
// that expected it now expect a denial.
func withoutNLPoliceFallback(tb testing.TB) map[string]string {
	tb.Helper()
	edits := map[string]string{}
	edit := func(name, old, new string) {
		src := edits[name]
		if src == "" {
			b, err := fs.ReadFile(Embedded(), name)
			if err != nil {
				tb.Fatal(err)
			}
			src = string(b)
		}
		if !strings.Contains(src, old) {
			tb.Fatalf("%s changed: %q not found", name, old)
		}
		edits[name] = strings.Replace(src, old, new, 1)
	}
	cut := func(name, from, to, insert string) {
		b, err := fs.ReadFile(Embedded(), name)
		if err != nil {
			tb.Fatal(err)
		}
		src := string(b)
		i, j := strings.Index(src, from), strings.Index(src, to)
		if i < 0 || j < i {
			tb.Fatalf("%s changed: %q ... %q not found", name, from, to)
		}
		edits[name] = src[:i] + insert + src[j:]
	}
	edit("nl/nl.rego", `"recipient_kinds": ["police", "probation", "local_authority"],`, `"recipient_kinds": ["probation", "local_authority"],`)
	cut("nl/nl_test.rego", "test_outside_a_case_police_get_a_pseudonymised_assessment if {", "test_ngo_gets_nothing_of_a_risk_assessment if {",
		"test_outside_a_case_police_get_nothing if {\n\tdecide(police_request).outcome == \"deny\"\n}\n\n")
	cut("eu/eu_test.rego", "test_a_pseudonymised_fallback_crosses_on_the_same_terms if {", "test_family_work_crosses_only_between_social_services if {", "")
	return edits
}

func TestActivate(t *testing.T) {
	ctx := t.Context()
	a := NewActive(loadEmbedded(t))
	start := a.Current()
	dir := t.TempDir()

	// A good change activates.
	writeTree(t, dir, withoutNLPoliceFallback(t))
	act, err := a.Activate(ctx, DirSource(dir))
	if err != nil || !act.OK() {
		t.Fatalf("Activate(good change) = %+v, %v", act, err)
	}
	changed := a.Current()
	if changed == start || act.Revision != changed.Revision() || act.Revision == start.Revision() || act.Source != "dir:"+dir {
		t.Fatalf("after a good change: Current() revision %s, activation %+v; want the new revision active", changed.Revision(), act)
	}
	if d, err := changed.Decide(ctx, sampleNLRequest(nlPolice, "risk_management", nil)); err != nil || d.Outcome != OutcomeDeny {
		t.Errorf("the new policy decides %v, %v; want a denial without the fallback", d.Outcome, err)
	}

	k := ecKeyOnce()
	other := testKey(t, "liaison-test", "ec")
	bundlePath := filepath.Join(t.TempDir(), "policy.tar.gz")
	if err := os.WriteFile(bundlePath, signedBundle(t, Embedded(), other), 0o644); err != nil {
		t.Fatal(err)
	}
	// Broken candidates leave the previous revision active and say why.
	for _, tt := range []struct {
		name string
		src  func(t *testing.T) Source
		want string
	}{
		{"syntax_error", func(t *testing.T) Source {
			d := t.TempDir()
			writeTree(t, d, map[string]string{"nl/nl.rego": "package liaison.jurisdictions.nl\n\ncode := {\n"})
			return DirSource(d)
		}, "rego_parse_error"},
		{"failing_test", func(t *testing.T) Source {
			d := t.TempDir()
			writeTree(t, d, map[string]string{"nl/nl.rego": withoutNLPoliceFallback(t)["nl/nl.rego"]}) // the tests still expect the fallback
			return DirSource(d)
		}, "test_outside_a_case_police_get_a_pseudonymised_assessment"},
		{"bad_signature", func(*testing.T) Source { return BundleSource(bundlePath, publicKey(t, k)) }, "signature"},
		{"missing_directory", func(t *testing.T) Source { return DirSource(filepath.Join(t.TempDir(), "gone")) }, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			act, err := a.Activate(ctx, tt.src(t))
			if err == nil || act.OK() || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Activate() = %+v, %v; want an error mentioning %q", act, err, tt.want)
			}
			if a.Current() != changed {
				t.Errorf("Current() changed after a failed activation")
			}
			st := a.Status()
			if st.Active.Revision != changed.Revision() || st.Last.Err == nil || !strings.Contains(st.Last.Err.Error(), tt.want) || st.Last.Time.IsZero() {
				t.Errorf("Status() = %+v; want the previous revision active and the failure as Last", st)
			}
		})
	}
	if act, err := a.Activate(ctx, BundleSource(bundlePath, publicKey(t, other))); err != nil || a.Current().Revision() != start.Revision() || act.Digest == act.Revision {
		t.Errorf("Activate(bundle signed with the right key) = %+v, %v; want the embedded revision with the bundle digest", act, err)
	}
}

// TestActivateUnderLoad decides continuously from several goroutines while
// the policy is swapped back and forth and broken candidates are refused:
// no decision may fail, and each comes from a complete engine.
func TestActivateUnderLoad(t *testing.T) {
	ctx := t.Context()
	a := NewActive(loadEmbedded(t))
	good := t.TempDir()
	writeTree(t, good, withoutNLPoliceFallback(t))
	broken := t.TempDir()
	writeTree(t, broken, map[string]string{"dk/dk.rego": "package liaison.jurisdictions.dk\n\ncode := \"DK\n"})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var decided atomic.Int64
	errs := make(chan error, 8)
	inputs := []Input{sampleDKRelease("risk_management"), sampleNLRequest(nlPolice, "risk_management", nil)}
	for g := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				e := a.Current()
				d, err := e.Decide(ctx, inputs[(g+i)%len(inputs)])
				if err != nil {
					errs <- err
					return
				}
				if d.Outcome == "" {
					errs <- errors.New("empty outcome")
					return
				}
				decided.Add(1)
			}
		})
	}
	revisions := map[string]bool{}
	for _, src := range []Source{DirSource(good), DirSource(broken), EmbeddedSource(), DirSource(broken), DirSource(good)} {
		act, err := a.Activate(ctx, src)
		if (err == nil) == (src.path == broken) {
			t.Errorf("Activate(%s) = %+v, %v", src, act, err)
		}
		revisions[a.Current().Revision()] = true
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Decide during activation: %v", err)
	}
	if decided.Load() < 10 || len(revisions) != 2 {
		t.Errorf("%d decisions under %d revisions; want decisions under both revisions", decided.Load(), len(revisions))
	}
}

// swapTree writes the embedded tree with edits into a directory of its
// own and points the symbolic link link at it in one step (a rename), so
// that a Watch of link never sees a tree half-written. Watch waits only one
// interval for a tree to settle: had writeTree rewritten the watched tree
// in place, a pause of this test mid-write longer than that (which a
// loaded machine can cause) would have had it activate the half-written
// tree.
func swapTree(tb testing.TB, link string, edits map[string]string) {
	tb.Helper()
	dir, err := os.MkdirTemp(filepath.Dir(link), "tree-")
	if err != nil {
		tb.Fatal(err)
	}
	writeTree(tb, dir, edits)
	next := link + ".next"
	if err := os.Symlink(dir, next); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(next, link); err != nil {
		tb.Fatal(err)
	}
}

func TestWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := filepath.Join(t.TempDir(), "policies") // the tree swapTree last wrote
	swapTree(t, dir, nil)
	a := NewActive(loadEmbedded(t))
	start := a.Current().Revision()
	acts := make(chan Activation, 10)
	done := make(chan error, 1)
	go func() {
		done <- a.Watch(ctx, DirSource(dir), 20*time.Millisecond, func(act Activation) { acts <- act })
	}()
	next := func() Activation {
		t.Helper()
		select {
		case act := <-acts:
			return act
		case <-time.After(testTimeout + time.Minute):
			// A candidate's load runs its Rego tests, which may take up to
			// testTimeout on a loaded machine (under -race with the whole
			// suite, one took longer than 30 s): wait for longer than that.
			t.Fatal("Watch did not report an activation")
		}
		return Activation{}
	}

	time.Sleep(100 * time.Millisecond) // nothing changed: nothing happens
	select {
	case act := <-acts:
		t.Fatalf("Watch activated an unchanged tree: %+v", act)
	default:
	}

	// A broken edit is refused; the policy in force stays.
	swapTree(t, dir, map[string]string{"nl/nl.rego": "package liaison.jurisdictions.nl\n\ncode := {\n"})
	if act := next(); act.OK() || !strings.Contains(act.Err.Error(), "rego_parse_error") || a.Current().Revision() != start {
		t.Fatalf("after a broken edit: %+v, revision %s", act, a.Current().Revision())
	}
	// The fix activates.
	swapTree(t, dir, withoutNLPoliceFallback(t))
	act := next()
	if !act.OK() || act.Revision == start || a.Current().Revision() != act.Revision {
		t.Fatalf("after the fix: %+v, revision %s", act, a.Current().Revision())
	}
	if st := a.Status(); st.Active.Revision != act.Revision || st.Last.Err != nil {
		t.Errorf("Status() = %+v", st)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Watch() = %v, want context.Canceled", err)
	}
}

// Watch activates a change only once the tree has stayed the same for a
// whole interval, also when a tick came due while it was busy (here its
// callback holds it for longer than an interval, as an activation running
// its Rego tests can): such a tick had it read the tree at once, and the
// next one, which may come a moment later, found the same half-written
// tree "stable" and activated it.
func TestWatchSettlesForAWholeInterval(t *testing.T) {
	a := NewActive(loadEmbedded(t))
	dir := t.TempDir()
	writeTree(t, dir, nil)
	write := func(src string) string {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "nl", "nl.rego"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := candidateDigest(DirSource(dir)) // what a refused activation's Digest says
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Second
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		acts, gate := make(chan Activation, 10), make(chan struct{})
		var once sync.Once
		release := func() { once.Do(func() { close(gate) }) }
		defer release()
		calls := 0
		go a.Watch(ctx, DirSource(dir), interval, func(act Activation) {
			acts <- act
			if calls++; calls == 1 {
				<-gate // busy for longer than an interval
			}
		})
		time.Sleep(interval / 2)
		first := write("package liaison.jurisdictions.nl\n\ncode := {\n")
		if act := <-acts; act.Digest != first { // at 2s; Watch is held from now
			t.Fatalf("first activation of %s, want %s", act.Digest, first)
		}
		time.Sleep(interval / 2)
		half := write("") // what os.WriteFile leaves between its truncation and its write
		time.Sleep(interval * 14 / 10)
		release() // at 3.9s, a tick due since 3s: Watch reads the half-written tree at once
		time.Sleep(interval * 6 / 10)
		final := write("package liaison.jurisdictions.nl\n\ncode := [\n") // at 4.5s
		switch act := <-acts; act.Digest {
		case final:
		case half:
			t.Errorf("Watch activated the tree it had seen for a tenth of its interval: %+v", act)
		default:
			t.Errorf("activation of %s, want %s", act.Digest, final)
		}
	})
}

// Watch starts from the tree the active engine was loaded from: a change
// made between that load and Watch's first look (a gateway starting while
// a legal officer copies a tree in; a busy machine that runs the watching
// goroutine late) is activated, and an unchanged tree, or the embedded
// one, is not activated again.
func TestWatchStartsFromTheLoadedTree(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	writeTree(t, dir, nil)
	e, err := LoadSource(ctx, DirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	watch := func(a *Active, src Source) (<-chan Activation, context.CancelFunc) {
		wctx, cancel := context.WithCancel(ctx)
		acts := make(chan Activation, 10)
		go a.Watch(wctx, src, 20*time.Millisecond, func(act Activation) { acts <- act })
		return acts, cancel
	}
	quiet := func(what string, acts <-chan Activation) {
		t.Helper()
		select {
		case act := <-acts:
			t.Errorf("%s: Watch activated %+v", what, act)
		case <-time.After(200 * time.Millisecond):
		}
	}

	// Unchanged since the load: nothing to do.
	acts, stop := watch(NewActive(e), DirSource(dir))
	quiet("an unchanged tree", acts)
	stop()

	// Changed after the load, before Watch started: activated.
	a := NewActive(e)
	nl := filepath.Join(dir, "nl", "nl.rego")
	b, err := os.ReadFile(nl)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nl, append(b, "\n# amended\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	acts, stop = watch(a, DirSource(dir))
	defer stop()
	select {
	case act := <-acts:
		if !act.OK() || act.Revision == e.Revision() || a.Current().Revision() != act.Revision {
			t.Errorf("the change made before Watch started: %+v, active %s", act, a.Current().Revision())
		}
	case <-time.After(testTimeout + time.Minute):
		t.Fatal("Watch did not activate the change made before it started")
	}

	// The embedded tree never changes.
	emb, err := LoadSource(ctx, EmbeddedSource())
	if err != nil {
		t.Fatal(err)
	}
	acts, stop = watch(NewActive(emb), EmbeddedSource())
	defer stop()
	quiet("the embedded tree", acts)
}

// Watch reports every activation it attempts, also one that ends as its
// context does (the gateway shutting down): a candidate swapped in then
// is active, and decides the requests still in flight, so the gateway
// must audit it. Watch returned at once and did not report it, leaving
// decisions under a revision no policy_activate entry names.
func TestWatchReportsAnActivationAsItStops(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, nil)
	e, err := LoadSource(t.Context(), DirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	a := NewActive(e)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The watch ends as the candidate goes live: record stamps the
	// activation just before it swaps the engine in.
	a.Now = func() time.Time { cancel(); return time.Now() }
	nl := filepath.Join(dir, "nl", "nl.rego")
	b, err := os.ReadFile(nl)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nl, append(b, "\n# amended\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []Activation
	err = a.Watch(ctx, DirSource(dir), 20*time.Millisecond, func(act Activation) { got = append(got, act) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Watch() = %v, want context.Canceled", err)
	}
	if a.Current() == e {
		t.Fatal("the change was not swapped in; the test did not end the watch at the swap")
	}
	if len(got) != 1 || !got[0].OK() || got[0].Revision != a.Current().Revision() {
		t.Errorf("Watch reported %+v; want the activation of %s, which is active", got, a.Current().Revision())
	}
}

// A refused directory candidate's digest is the revision its modules
// would have, computed as policies/README.md says (sha256sum of the
// modules, tests left out), as an activated one's is: the audit entry of
// a candidate refused for a failing test, or a syntax error, names the
// modules that a later activation of them names alike. It was a hash of
// every .rego file, tests included, in a form documented nowhere.
func TestRefusedCandidateDigestIsItsRevision(t *testing.T) {
	a := NewActive(loadEmbedded(t))
	for name, edit := range map[string]string{
		"failing_test": withoutNLPoliceFallback(t)["nl/nl.rego"], // the tests still expect the fallback
		"syntax_error": "package liaison.jurisdictions.nl\n\ncode := {\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"nl/nl.rego": edit})
			act, err := a.Activate(t.Context(), DirSource(dir))
			if err == nil {
				t.Fatal("the candidate was activated")
			}
			if want := sha256sumRevision(t, dir); act.Digest != want {
				t.Errorf("refused candidate's digest %s, want its modules' revision %s", act.Digest, want)
			}
		})
	}
}

// sha256sumRevision computes a tree's revision as policies/README.md
// tells a reader to: sha256sum of the modules (not *_test.rego), sorted
// by path, then sha256sum of those lines.
func sha256sumRevision(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%x  %s\n", sha256.Sum256(b), filepath.ToSlash(rel)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(strings.Join(lines, ""))))
}

// A change that Policy.Reload activated while Watch ran is not activated
// again by Watch: Watch still remembered the tree before the change, so
// one interval later it loaded the same tree a second time, and the
// gateway audited a second policy_activate of a revision already active.
// A change made after the reload is still Watch's to activate.
func TestWatchLeavesAReloadedChangeAlone(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, nil)
	e, err := LoadSource(t.Context(), DirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	a := NewActive(e)
	nl := filepath.Join(dir, "nl", "nl.rego")
	b, err := os.ReadFile(nl)
	if err != nil {
		t.Fatal(err)
	}
	const interval = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	acts := make(chan Activation, 10)
	go a.Watch(ctx, DirSource(dir), interval, func(act Activation) { acts <- act })
	time.Sleep(3 * interval) // Watch has looked
	if err := os.WriteFile(nl, append(b, "\n# amended\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	// The reload holds the lock from its start, before Watch can have
	// seen the change settle (two intervals), so Watch waits for it.
	start := time.Now()
	reload, err := a.Activate(ctx, DirSource(dir))
	if err != nil || reload.Revision == e.Revision() {
		t.Fatalf("the reload: %+v, %v", reload, err)
	}
	// Long enough for Watch to load the tree once more, as it did.
	select {
	case act := <-acts:
		t.Errorf("Watch activated the reloaded change again: %+v", act)
	case <-time.After(3*time.Since(start) + 10*interval):
	}
	if err := os.WriteFile(nl, append(b, "\n# amended twice\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case act := <-acts:
		if !act.OK() || act.Revision == reload.Revision || a.Current().Revision() != act.Revision {
			t.Errorf("the change after the reload: %+v", act)
		}
	case <-time.After(testTimeout + time.Minute):
		t.Error("Watch did not activate the change made after the reload")
	}
}

// Snapshot gives the engine and the Status of one moment: the Policy
// service's GetStatus and the gateway's metrics read the engine and the
// Status one after the other, so a read during an activation could pair
// the new revision with the previous activation's time and attempt.
func TestSnapshotIsOneActivation(t *testing.T) {
	e1 := loadEmbedded(t)
	dir := t.TempDir()
	writeTree(t, dir, nil)
	nl := filepath.Join(dir, "nl", "nl.rego")
	b, err := os.ReadFile(nl)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nl, append(b, "\n# amended\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	e2, err := LoadSource(t.Context(), DirSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	if e1.Revision() == e2.Revision() {
		t.Fatal("the two engines have one revision")
	}
	a := NewActive(e1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200000 {
			e := []*Engine{e1, e2}[i%2]
			a.mu.Lock()
			a.record(Activation{Revision: e.Revision(), Digest: e.Digest(), Source: e.Source()}, e)
			a.mu.Unlock()
		}
	}()
	mismatches := 0
	for {
		select {
		case <-done:
			if mismatches > 0 {
				t.Errorf("%d snapshots paired an engine with another activation's status", mismatches)
			}
			return
		default:
		}
		if eng, st := a.Snapshot(); eng.Revision() != st.Active.Revision {
			mismatches++
		}
	}
}
