package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/console"
	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
	"github.com/liaison-gateway/liaison/pseudonym"
)

// The browser tests drive the console in Debian's chromium, headless,
// with github.com/chromedp/chromedp. The test command (make test) installs
// chromium where it is missing and sets LIAISON_BROWSER_TESTS=required, so
// that a missing browser fails there; plain `go test` skips them, saying
// so. The accessibility check injects axe-core, which the test command
// installs from npm into the cache folder (LIAISON_AXE names the file).
//
// LIAISON_CONSOLE_SCREENSHOTS=1 writes the screenshots of the main pages
// that the README shows, into docs/console/.

// axeVersion is the axe-core the test command installs.
const axeVersion = "4.14.1"

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

// chromiumPath finds the browser: $LIAISON_CHROMIUM, or chromium (Debian's
// package), chromium-browser or google-chrome on the PATH.
func chromiumPath() string {
	if p := os.Getenv("LIAISON_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab opens a new tab, in a browser context of its own (its own cookies),
// in the test binary's one headless browser.
func tab(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("LIAISON_BROWSER_TESTS") == "required" {
			t.Fatal("chromium is required (LIAISON_BROWSER_TESTS=required) but not found; install Debian's chromium package or set LIAISON_CHROMIUM")
		}
		t.Skip("no chromium on this machine: skipping the browser tests (make test installs Debian's chromium and runs them)")
	}
	browser.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1280, 900), chromedp.DisableGPU)
		if os.Geteuid() == 0 {
			opts = append(opts, chromedp.NoSandbox) // chromium refuses to run as root with its sandbox
		}
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelB := chromedp.NewContext(actx)
		browser.ctx, browser.cancel = bctx, func() { cancelB(); cancelA() }
		browser.err = chromedp.Do(bctx) // start the browser, without a timeout
	})
	if browser.err != nil {
		t.Fatalf("start chromium (%s): %v", path, browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	return ctx
}

// do runs browser actions and fails the test on error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// text returns the text of the first element a CSS selector matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return run(t, ctx, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// submit clicks a button (or presses a key) and waits for the page it
// loads.
func submit(t *testing.T, ctx context.Context, what string, trigger chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, trigger)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// login opens a one-time login link of c in the tab.
func login(t *testing.T, ctx context.Context, c *consoleUnderTest) {
	t.Helper()
	do(t, ctx, "open the login link", chromedp.Navigate(c.url+c.srv.NewLogin()))
	if h := text(t, ctx, "h1"); h != "Overview" {
		t.Fatalf("after the login link the page is %q, want the Overview", h)
	}
}

// axeSource is axe-core's axe.min.js: $LIAISON_AXE, or the copy the test
// command installs in the cache folder.
var axeSource = sync.OnceValues(func() (string, error) {
	p := os.Getenv("LIAISON_AXE")
	if p == "" {
		cache := os.Getenv("LIAISON_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "liaison")
		}
		p = filepath.Join(cache, "axe-core-"+axeVersion, "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(p)
	return string(b), err
})

// An axeViolation is one rule axe-core found broken.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

type axeResult struct {
	Passes     int            `json:"passes"`
	Violations []axeViolation `json:"violations"`
}

// accessible runs axe-core on the page in the tab and fails on any serious
// or critical violation.
func accessible(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if os.Getenv("LIAISON_BROWSER_TESTS") == "required" {
			t.Fatalf("axe-core is required (LIAISON_BROWSER_TESTS=required): %v", err)
		}
		t.Logf("no axe-core (%v): skipping the accessibility check of %s (make test installs it)", err, name)
		return
	}
	run(t, ctx, "inject axe-core", chromedp.Evaluate[chromedp.Void](src))
	res := run(t, ctx, "run axe-core on "+name, chromedp.Evaluate[axeResult](`axe.run(document).then(r => ({
		passes: r.passes.length,
		violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || ""))}))}))`, chromedp.EvalAwaitPromise))
	if res.Passes < 10 {
		t.Errorf("axe-core on %s: only %d rules passed; did it run?", name, res.Passes)
	}
	for _, v := range res.Violations {
		msg := fmt.Sprintf("axe-core on %s: %s (%s): %s\n\t%s", name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
}

// reflows checks the page at 200 % zoom (half the 1280-pixel width): the
// page itself must not scroll sideways (WCAG 1.4.10); wide tables scroll
// inside their own region.
func reflows(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	do(t, ctx, "zoom to 200 %", chromedp.EmulateViewport(640, 900))
	over := run(t, ctx, "measure "+name, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	if over > 0 {
		wide := run(t, ctx, "wide elements", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("body *")).
			filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !(e.parentElement && e.parentElement.closest(".table-wrap"))).
			slice(0, 8).map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right))`))
		t.Errorf("%s at 200 %% zoom scrolls sideways by %d pixels: %v", name, over, wide)
	}
	do(t, ctx, "zoom back", chromedp.EmulateViewport(1280, 900))
}

// screenshotDir is where the screenshots go: docs/console of the
// repository (the test runs in console/).
var screenshotDir, _ = filepath.Abs(filepath.Join("..", "docs", "console"))

// exerciseDir holds the worked exercise scenarios and their golden
// reports (the test runs in console/; the console tests change directory).
var exerciseDir, _ = filepath.Abs(filepath.Join("..", "exercise", "testdata"))

// screenshot writes docs/console/NAME.png when LIAISON_CONSOLE_SCREENSHOTS
// is set: the whole page, or its top height pixels if height > 0.
func screenshot(t *testing.T, ctx context.Context, name string, height int64) {
	t.Helper()
	if os.Getenv("LIAISON_CONSOLE_SCREENSHOTS") == "" {
		return
	}
	var png []byte
	if height > 0 {
		do(t, ctx, "viewport", chromedp.EmulateViewport(1280, height))
		png = run(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
	} else {
		do(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))
		png = run(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	}
	do(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// check runs the checks every page gets.
func check(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	accessible(t, ctx, name)
	reflows(t, ctx, name)
}

// entriesShown returns the entry indexes a table lists, from its links.
func entriesShown(t *testing.T, ctx context.Context, sel string) []int64 {
	t.Helper()
	got := run(t, ctx, "entries of "+sel, chromedp.Evaluate[[]int64](
		`Array.from(document.querySelectorAll(`+strconv.Quote(sel)+`)).map(a => parseInt(a.getAttribute("href").split("/").pop(), 10))`))
	slices.Sort(got)
	return got
}

// TestBrowserAuditor: an auditor filters the timeline with the keyboard
// and opens an entry whose proof the console shows as verified; the
// overview, charts, access report and export pages pass the checks.
func TestBrowserAuditor(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	ex := f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	f.waitCheckpoint(t, c.ac)
	login(t, ctx, c)

	// The overview: the first checkpoint is trusted on first use.
	if got := text(t, ctx, "#integrity"); !strings.Contains(got, "consistent with the checkpoint you trusted") || !strings.Contains(got, "trust on first use") {
		t.Errorf("overview says %q, want consistent, trusted on first use", got)
	}
	check(t, ctx, "the overview")
	// Reloaded, it proves the log consistent with the checkpoint just trusted.
	do(t, ctx, "reload", chromedp.Navigate(c.url+"/"))
	if got := text(t, ctx, "#integrity"); !strings.Contains(got, "Proved consistent with the checkpoint of") {
		t.Errorf("overview, second visit, says %q, want proved consistent", got)
	}
	screenshot(t, ctx, "overview", 0)

	// Keyboard only: the skip link comes first.
	do(t, ctx, "tab", chromedp.KeyEvent("\t"))
	if got := run(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.textContent`)); got != "Skip to the content" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}

	// The whole timeline, with its charts.
	do(t, ctx, "timeline", chromedp.Navigate(c.url+"/timeline"))
	if n := run(t, ctx, "charts", chromedp.Evaluate[int](`document.querySelectorAll("figure svg[role=img]").length`)); n != 3 {
		t.Errorf("the timeline has %d charts, want 3 (per day, per agency pair, per legal basis)", n)
	}
	summary := text(t, ctx, "#summary")
	if !strings.Contains(summary, "8 entries match") || !strings.Contains(summary, "5 released") || !strings.Contains(summary, "3 refused or denied") {
		t.Errorf("timeline summary = %q, want 8 entries: 5 released, 3 refused or denied", summary)
	}
	if n := run(t, ctx, "refusal rows", chromedp.Evaluate[int](`document.querySelectorAll("#entries tr.refusal").length`)); n != 3 {
		t.Errorf("the timeline marks %d rows as refusals, want 3", n)
	}
	check(t, ctx, "the timeline")
	screenshot(t, ctx, "timeline", 0)

	// Filter with the keyboard: the agency and the outcome, then Enter.
	do(t, ctx, "type the filters",
		chromedp.Focus(chromedp.ID("f-agency")),
		chromedp.KeyEvent("nl-police-rotterdam"),
		chromedp.SetValue(chromedp.ID("f-outcome"), "pseudonymise"),
		chromedp.Focus(chromedp.ID("f-agency")),
	)
	submit(t, ctx, "press Enter", chromedp.KeyEvent("\r"))
	var want []int64
	for _, e := range ex {
		if e.outcome == "pseudonymise" {
			want = append(want, e.index)
		}
	}
	if got := entriesShown(t, ctx, "#entries tbody a"); !slices.Equal(got, want) || len(want) != 2 {
		t.Errorf("the filtered timeline lists entries %v, want %v (Rotterdam police, pseudonymised)", got, want)
	}
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "agency=nl-police-rotterdam") || !strings.Contains(loc, "outcome=pseudonymise") {
		t.Errorf("the filtered timeline's address %q does not keep the filters", loc)
	}
	if got := text(t, ctx, "#summary"); !strings.Contains(got, "2 entries match") {
		t.Errorf("filtered summary = %q", got)
	}

	// Open the newest of them, with the keyboard, and see its proof verified.
	do(t, ctx, "focus the entry", chromedp.Focus(chromedp.CSS("#entries tbody a")))
	submit(t, ctx, "open the entry", chromedp.KeyEvent("\r"))
	if h := text(t, ctx, "h1"); h != fmt.Sprintf("Entry %d", want[1]) {
		t.Errorf("opened %q, want Entry %d", h, want[1])
	}
	if got := text(t, ctx, "#proof-status"); !strings.HasPrefix(got, "Verified:") {
		t.Errorf("the entry's proof status = %q, want Verified", got)
	}
	if got := text(t, ctx, "#entry-outcome"); got != "pseudonymise" {
		t.Errorf("the entry's outcome = %q", got)
	}
	check(t, ctx, "an entry")
	screenshot(t, ctx, "entry", 0)

	// The pages that remain: export, notices.
	for _, p := range []string{"/export", "/notices"} {
		do(t, ctx, p, chromedp.Navigate(c.url+p))
		check(t, ctx, p)
	}
}

// TestBrowserAccessReport: the access report of a synthetic person lists
// exactly the releases about them, and prints without the console.
func TestBrowserAccessReport(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	ex := f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)
	do(t, ctx, "report page", chromedp.Navigate(c.url+"/report"))
	check(t, ctx, "the access report form")
	for _, subject := range []string{"SYN-NL-0001", "SYN-DK-0001"} {
		var want []int64
		for _, e := range ex {
			if e.subject == subject && (e.outcome == "disclose" || e.outcome == "pseudonymise" || e.outcome == "hit_only") {
				want = append(want, e.index)
			}
		}
		do(t, ctx, "report page", chromedp.Navigate(c.url+"/report"))
		do(t, ctx, "type the identifier", chromedp.SendKeys(chromedp.ID("r-subject"), subject))
		submit(t, ctx, "produce the report", chromedp.Click(chromedp.CSS("form.filters button")))
		got := run(t, ctx, "rows", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#disclosures tbody tr")).map(r => r.dataset.entry)`))
		var gotIdx []int64
		for _, g := range got {
			n, _ := strconv.ParseInt(g, 10, 64)
			gotIdx = append(gotIdx, n)
		}
		if !slices.Equal(gotIdx, want) || len(want) == 0 {
			t.Errorf("the access report of %s lists entries %v, want exactly its releases %v", subject, gotIdx, want)
		}
		if loc := run(t, ctx, "location", chromedp.Location()); strings.Contains(loc, subject) {
			t.Errorf("the report's address %q holds the identifier", loc)
		}
		if subject == "SYN-NL-0001" {
			check(t, ctx, "the access report")
			screenshot(t, ctx, "access-report", 0)
			// Printed, only the report remains.
			do(t, ctx, "print media", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
				return err
			}))
			hidden := run(t, ctx, "printed", chromedp.Evaluate[[]string](`["nav.sections", "header.top", "form.filters"].map(s => getComputedStyle(document.querySelector(s)).display)`))
			if !slices.Equal(hidden, []string{"none", "none", "none"}) {
				t.Errorf("printed, the navigation, header and form display as %v, want none", hidden)
			}
			if d := run(t, ctx, "report printed", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#disclosures")).display`)); d == "none" {
				t.Error("printed, the report itself is hidden")
			}
			do(t, ctx, "screen media", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
				return err
			}))
		}
	}
}

// TestBrowserTamper: a store changed behind the gateway's back makes the
// overview say so: a changed row (found by the inclusion proofs), then a
// truncated log (found by the consistency proof).
func TestBrowserTamper(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.Sample = 1000 }) // every entry
	f.waitCheckpoint(t, c.ac)
	login(t, ctx, c)
	if got := text(t, ctx, "#integrity"); !strings.Contains(got, "is consistent") {
		t.Fatalf("overview before tampering = %q", got)
	}

	// A row changed in place: the purpose of entry 1 rewritten.
	f.sqlExec(t, "UPDATE leaves SET leaf = CAST(replace(CAST(leaf AS TEXT), 'risk_management', 'statistics') AS BLOB) WHERE idx = 1")
	do(t, ctx, "reload", chromedp.Navigate(c.url+"/"))
	got := text(t, ctx, "#integrity")
	if !strings.Contains(got, "NOT consistent") || !strings.Contains(got, "a stored entry was changed") || !strings.Contains(got, "entry 1") {
		t.Errorf("overview after a row changed = %q, want NOT consistent, an entry changed, naming entry 1", got)
	}
	check(t, ctx, "the overview, tampered")
	screenshot(t, ctx, "overview-tampered", 0)
	do(t, ctx, "entry 1", chromedp.Navigate(c.url+"/entry/1"))
	if got := text(t, ctx, "#proof-status"); !strings.Contains(got, "Not verified") {
		t.Errorf("entry 1 after tampering: %q, want Not verified", got)
	}

	// The last entries deleted, the gateway restarted on what is left.
	f.restart(t, func() {
		f.sqlExec(t,
			"DELETE FROM inbox WHERE audit_idx >= 3",
			"DELETE FROM leaves WHERE idx >= 3",
			fmt.Sprintf("DELETE FROM hashes WHERE idx >= %d", tlog.StoredHashCount(3)),
			"DELETE FROM checkpoints")
	})
	do(t, ctx, "reload", chromedp.Navigate(c.url+"/"))
	got = text(t, ctx, "#integrity")
	if !strings.Contains(got, "NOT consistent") || !strings.Contains(got, "log truncated") {
		t.Errorf("overview after truncation = %q, want NOT consistent: log truncated", got)
	}
	// The alarm stays: the trusted checkpoint was not replaced.
	do(t, ctx, "reload", chromedp.Navigate(c.url+"/"))
	if got := text(t, ctx, "#integrity"); !strings.Contains(got, "log truncated") {
		t.Errorf("overview, reloaded after truncation = %q, want the alarm again", got)
	}
	if n := run(t, ctx, "alarms", chromedp.Evaluate[int](`document.querySelectorAll("main table tbody tr").length`)); n < 2 {
		t.Errorf("the overview lists %d failed checks, want both", n)
	}
}

// TestBrowserTrustReset: after a failed check, the officer removes the
// state file to trust the log afresh (keeping its history as evidence):
// from then on the overview says they have trusted the log since that new
// start, when the checkpoint they check against became trusted, and that
// every check since then found it consistent; not the time they first
// trusted the log before the failure.
func TestBrowserTrustReset(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	f.traffic(t)
	var clock atomic.Pointer[time.Time]
	at := func(tm time.Time) { clock.Store(&tm) }
	base := time.Now().UTC().Truncate(time.Second)
	at(base)
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) {
		cfg.Sample = 1000 // every entry
		cfg.Now = func() time.Time { return *clock.Load() }
	})
	f.waitCheckpoint(t, c.ac)
	when := func(tm time.Time) string { return tm.Format("2006-01-02 15:04:05") + " UTC" }
	overview := func(tm time.Time) string {
		t.Helper()
		at(tm)
		do(t, ctx, "overview", chromedp.Navigate(c.url+"/"))
		return text(t, ctx, "#integrity")
	}
	login(t, ctx, c) // trusted on first use, at base
	if got := overview(base.Add(5 * time.Minute)); !strings.Contains(got, "since "+when(base)) {
		t.Fatalf("overview after the first use = %q, want trusted since %s", got, when(base))
	}

	// A row changed in place, found, then put back.
	f.sqlExec(t, "CREATE TABLE saved AS SELECT idx, leaf FROM leaves WHERE idx = 1",
		"UPDATE leaves SET leaf = CAST(replace(CAST(leaf AS TEXT), 'risk_management', 'statistics') AS BLOB) WHERE idx = 1")
	if got := overview(base.Add(10 * time.Minute)); !strings.Contains(got, "NOT consistent") {
		t.Fatalf("overview of a changed row = %q, want NOT consistent", got)
	}
	f.sqlExec(t, "UPDATE leaves SET leaf = (SELECT leaf FROM saved WHERE saved.idx = 1) WHERE idx = 1")

	// The officer trusts the log afresh.
	if err := os.Remove(c.state); err != nil {
		t.Fatal(err)
	}
	reset := base.Add(20 * time.Minute)
	if got := overview(reset); !strings.Contains(got, "trust on first use") {
		t.Fatalf("overview without a state file = %q, want trust on first use", got)
	}
	got := overview(base.Add(30 * time.Minute))
	if since := text(t, ctx, "#since"); since != when(reset) {
		t.Errorf("Trusted since = %q, want %q, when the officer trusted the log afresh", since, when(reset))
	}
	for _, want := range []string{"that you trusted on " + when(reset), "since " + when(reset), "every check since then found it consistent"} {
		if !strings.Contains(got, want) {
			t.Errorf("overview after trust was re-established = %q, want it to say %q", got, want)
		}
	}
	// The failed check stays in the history, as evidence.
	if n := run(t, ctx, "alarms", chromedp.Evaluate[int](`document.querySelectorAll("main table tbody tr").length`)); n != 1 {
		t.Errorf("the overview lists %d failed checks, want the one before the reset", n)
	}
}

// TestBrowserLegalOfficer: in the playground a legal officer changes an
// input and sees the outcome change; the impact page of a candidate lists
// the expected flips; the readiness report renders.
func TestBrowserLegalOfficer(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	ex := f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)

	// The playground: Rotterdam police outside a case get a pseudonymised
	// assessment; the same request from the exit-programme NGO is denied.
	do(t, ctx, "playground", chromedp.Navigate(c.url+"/playground?example=nl-police"))
	if got := text(t, ctx, "#outcome"); got != "pseudonymise" {
		t.Errorf("the example's outcome = %q, want pseudonymise", got)
	}
	if n := run(t, ctx, "assumptions", chromedp.Evaluate[int](`document.querySelectorAll("ul#assumptions li").length`)); n == 0 {
		t.Error("the playground shows no assumption for a pseudonymised assessment outside a case, which rests on one")
	}
	check(t, ctx, "the playground")
	screenshot(t, ctx, "playground", 1400)
	input := run(t, ctx, "input", chromedp.Value(chromedp.ID("input")))
	var in map[string]any
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		t.Fatalf("the playground's input is not JSON: %v\n%s", err, input)
	}
	edited := strings.NewReplacer(`"agency": "nl-police-rotterdam"`, `"agency": "nl-ngo-exit"`, `"kind": "police"`, `"kind": "ngo"`).Replace(input)
	if edited == input {
		t.Fatalf("nothing to edit in %s", input)
	}
	do(t, ctx, "edit the input", chromedp.SetValue(chromedp.ID("input"), edited))
	submit(t, ctx, "decide", chromedp.Click(chromedp.ID("decide")))
	if got := text(t, ctx, "#outcome"); got != "deny" {
		t.Errorf("after the edit the outcome = %q, want deny", got)
	}
	if got := text(t, ctx, "#reasons"); !strings.Contains(got, "ASSESSMENT_TO_NGO") {
		t.Errorf("the reasons = %q, want ASSESSMENT_TO_NGO", got)
	}
	if got := run(t, ctx, "input kept", chromedp.Value(chromedp.ID("input"))); got != edited {
		t.Errorf("the playground did not keep the edited input")
	}
	// A broken input is refused, naming what is wrong.
	do(t, ctx, "break the input", chromedp.SetValue(chromedp.ID("input"), `{"action": "disclose", "nonsense": 1}`))
	submit(t, ctx, "decide", chromedp.Click(chromedp.ID("decide")))
	if got := text(t, ctx, "#sim-error"); !strings.Contains(got, "nonsense") {
		t.Errorf("a broken input says %q, want the unknown field named", got)
	}

	// The impact of a candidate that takes pseudonymised assessments away
	// from the Dutch police outside a case.
	// The candidate is written in the console's folder (a temporary one)
	// and named as an officer would type it: the screenshot shows it.
	cand := "candidate"
	writeCandidate(t, cand)
	do(t, ctx, "impact", chromedp.Navigate(c.url+"/impact"))
	check(t, ctx, "the impact form")
	do(t, ctx, "name the candidate", chromedp.SendKeys(chromedp.ID("i-candidate"), cand))
	submit(t, ctx, "replay", chromedp.Click(chromedp.ID("replay")))
	if got := text(t, ctx, "#impact-summary"); !strings.Contains(got, "2 flip") {
		t.Errorf("impact summary = %q, want 2 flips", got)
	}
	rows := run(t, ctx, "flips", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#flips tbody tr")).map(r => r.innerText.replace(/\s+/g, " ").trim())`))
	if len(rows) != 1 || !strings.Contains(rows[0], "nl-probation → nl-police-rotterdam") || !strings.Contains(rows[0], "pseudonymise → deny ×2") {
		t.Errorf("flips by agency pair and basis = %q, want one row: nl-probation → nl-police-rotterdam, pseudonymise → deny ×2", rows)
	}
	var want []int64
	for _, e := range ex {
		if e.outcome == "pseudonymise" {
			want = append(want, e.index)
		}
	}
	if got := entriesShown(t, ctx, ".examples-list a"); !slices.Equal(got, want) {
		t.Errorf("the examples are entries %v, want %v", got, want)
	}
	check(t, ctx, "the impact report")
	screenshot(t, ctx, "impact", 0)

	// Readiness, per jurisdiction.
	do(t, ctx, "readiness", chromedp.Navigate(c.url+"/readiness"))
	do(t, ctx, "choose NL", chromedp.SetValue(chromedp.ID("j"), "NL"))
	submit(t, ctx, "show", chromedp.Click(chromedp.CSS("form.inline button")))
	if h := text(t, ctx, "#readiness-h"); !strings.HasPrefix(h, "NL") {
		t.Errorf("readiness heading = %q", h)
	}
	if n := run(t, ctx, "answers", chromedp.Evaluate[int](`document.querySelectorAll("table.answers tbody tr").length`)); n < 5 {
		t.Errorf("the NL readiness report has %d answers", n)
	}
	check(t, ctx, "the readiness report")
	screenshot(t, ctx, "readiness", 1400)
	// An answer opens in the playground with its input.
	submit(t, ctx, "open in the playground", chromedp.Click(chromedp.CSS("table.answers tbody tr form button")))
	if got := text(t, ctx, "#outcome"); got == "" {
		t.Error("the answer opened in the playground has no outcome")
	}

	// Exercises: the worked scenarios, and the report of the Bavarian one,
	// played by the console on a gateway of its own, with the gaps of its
	// golden report.
	do(t, ctx, "exercises", chromedp.Navigate(c.url+"/exercises"))
	files := run(t, ctx, "worked scenarios", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#worked tbody a")).map(a => a.getAttribute("href"))`))
	if want := []string{"/exercises/be-ngo", "/exercises/de_by-release", "/exercises/de_ni-probation", "/exercises/dk-release", "/exercises/fr-crossborder", "/exercises/nl-case"}; !slices.Equal(files, want) {
		t.Errorf("the exercises page lists %v, want the six worked scenarios %v", files, want)
	}
	check(t, ctx, "the exercises page")
	do(t, ctx, "focus the Bavarian scenario", chromedp.Focus(chromedp.ID("play-de_by-release")))
	submit(t, ctx, "play it", chromedp.KeyEvent("\r"))
	if h := text(t, ctx, "#exercise-h"); h != "Exercise: DE-BY release date and case conference in Munich" {
		t.Errorf("the report's heading = %q", h)
	}
	golden, err := os.ReadFile(filepath.Join(exerciseDir, "de_by-release.golden.md"))
	if err != nil {
		t.Fatal(err)
	}
	var wantGaps []string
	wantRows, agencies := 0, 0
	for _, line := range strings.Split(string(golden), "\n") {
		switch {
		case strings.HasPrefix(line, "- "):
			wantGaps = append(wantGaps, strings.TrimPrefix(line, "- "))
		case strings.HasPrefix(line, "| ") && line[2] >= '0' && line[2] <= '9':
			wantRows++
		case strings.HasPrefix(line, "## ") && strings.Contains(line, ", DE-BY)"):
			agencies++
		}
	}
	gaps := run(t, ctx, "gaps", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#gap-list li")).map(li => li.textContent)`))
	if !slices.Equal(gaps, wantGaps) || len(gaps) == 0 {
		t.Errorf("the report's gaps = %q, want the golden report's %q", gaps, wantGaps)
	}
	if n := run(t, ctx, "timelines", chromedp.Evaluate[int](`document.querySelectorAll("table.timeline").length`)); n != agencies || n == 0 {
		t.Errorf("the report has %d timelines, want one per agency with lines, %d", n, agencies)
	}
	if n := run(t, ctx, "timeline rows", chromedp.Evaluate[int](`document.querySelectorAll("table.timeline tbody tr").length`)); n != wantRows {
		t.Errorf("the timelines have %d lines, want the golden report's %d", n, wantRows)
	}
	if n := run(t, ctx, "inline styles", chromedp.Evaluate[int](`document.querySelectorAll("style, [style], script").length`)); n != 0 {
		t.Errorf("the exercise report has %d inline styles or scripts, which the console's policy forbids", n)
	}
	check(t, ctx, "an exercise report")
	do(t, ctx, "to the report", chromedp.Evaluate[chromedp.Void](`document.querySelector("#exercise-h").scrollIntoView()`))
	screenshot(t, ctx, "exercise", 1400)

	// The same scenario on a candidate that tells the Bavarian police of a
	// release a year ahead: one delivery changes, the police's gap closes.
	cand = "release-window-365"
	writeReleaseWindowCandidate(t, cand)
	do(t, ctx, "name the candidate", chromedp.SendKeys(chromedp.ID("x-candidate"), cand))
	submit(t, ctx, "compare", chromedp.Click(chromedp.ID("compare")))
	changes := run(t, ctx, "changes", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#changes tbody tr")).map(r => r.innerText.replace(/\s+/g, " ").trim())`))
	if len(changes) != 1 || !strings.HasPrefix(changes[0], "20 by-police-muenchen") || !strings.Contains(changes[0], "withheld (LEGAL_BASIS_NOT_YET_VALID)") ||
		!strings.Contains(changes[0], "disclose under de_by.baystvollzg.release") {
		t.Errorf("the candidate's changes = %q, want one: day 20, by-police-muenchen, withheld -> disclosed", changes)
	}
	closed := run(t, ctx, "gaps closed", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#gaps-closed li")).map(li => li.textContent)`))
	if len(closed) != 1 || closed[0] != wantGaps[0] {
		t.Errorf("the gaps the candidate closes = %q, want the police's %q", closed, wantGaps[0])
	}
	check(t, ctx, "an exercise compared")
	do(t, ctx, "to the comparison", chromedp.Evaluate[chromedp.Void](`document.querySelector("#compare-h").closest("form").scrollIntoView()`))
	screenshot(t, ctx, "exercise-compare", 900)
}

// TestBrowserNotices: the notices page lists exactly the required notices
// and the correction the aftercare made, the late notice standing out; the
// keyboard narrows it to the late ones; the access report of the person
// lists the correction sent on their behalf, printed too.
func TestBrowserNotices(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	ex := f.traffic(t)
	m := f.aftercare(t, ex)
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)

	rowsOf := func(sel string) []int64 {
		t.Helper()
		got := run(t, ctx, "rows of "+sel, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+strconv.Quote(sel)+`)).map(r => r.dataset.entry)`))
		var idx []int64
		for _, g := range got {
			n, err := strconv.ParseInt(g, 10, 64)
			if err != nil {
				t.Fatalf("row of %s names entry %q", sel, g)
			}
			idx = append(idx, n)
		}
		return idx
	}
	do(t, ctx, "notices", chromedp.Navigate(c.url+"/notices"))
	if h := text(t, ctx, "h1"); h != "Notices not yet acknowledged" {
		t.Fatalf("the notices page is %q", h)
	}
	if got, want := rowsOf("#required tbody tr"), []int64{m.late.GetAuditIndex(), m.inTime.GetAuditIndex()}; !slices.Equal(got, want) {
		t.Errorf("the required notices listed are entries %v, want exactly %v (the late one, then the open one)", got, want)
	}
	if got, want := rowsOf("#required tbody tr.late"), []int64{m.late.GetAuditIndex()}; !slices.Equal(got, want) {
		t.Errorf("the notices marked late are %v, want %v", got, want)
	}
	late := run(t, ctx, "late row", chromedp.Evaluate[string](`document.querySelector("#required tbody tr.late").innerText.replace(/\s+/g, " ")`))
	for _, want := range []string{"release date set", "dk-prison-east", "dk-police-aarhus", "Late", "days past the deadline", "Acknowledge"} {
		if !strings.Contains(late, want) {
			t.Errorf("the late notice's row %q does not say %q", late, want)
		}
	}
	if bg := run(t, ctx, "late background", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#required tbody tr.late")).backgroundColor`)); bg == run(t, ctx, "open background", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#required tbody tr:not(.late)")).backgroundColor`)) {
		t.Errorf("the late notice does not stand out: both rows have background %s", bg)
	}
	if got, want := rowsOf("#obligations tbody tr"), []int64{m.correction.GetAuditIndex()}; !slices.Equal(got, want) {
		t.Errorf("the corrections listed are entries %v, want exactly %v", got, want)
	}
	corr := run(t, ctx, "correction row", chromedp.Evaluate[string](`document.querySelector("#obligations tbody tr").innerText.replace(/\s+/g, " ")`))
	for _, want := range []string{"correction", "dk-prison-east", "dk-police-aarhus", "rectify", "Open", fmt.Sprintf("#%d", ex[0].index)} {
		if !strings.Contains(corr, want) {
			t.Errorf("the correction's row %q does not say %q", corr, want)
		}
	}
	if got := entriesShown(t, ctx, "#obligations tbody td a"); !slices.Equal(got, []int64{ex[0].index, m.correction.GetAuditIndex()}) {
		t.Errorf("the correction links to entries %v, want the release %d and its own %d", got, ex[0].index, m.correction.GetAuditIndex())
	}
	body := run(t, ctx, "page", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if strings.Contains(body, "SYN-DK-0001") || strings.Contains(body, c.token[len(c.token)-40:]) {
		t.Error("the notices page shows the subject's identifier or the officer's token")
	}
	check(t, ctx, "the notices page")
	screenshot(t, ctx, "notices", 0)

	// With the keyboard: only the late ones.
	do(t, ctx, "tick late only", chromedp.Focus(chromedp.ID("nf-late")), chromedp.KeyEvent(" "), chromedp.Focus(chromedp.ID("nf-apply")))
	submit(t, ctx, "press Enter", chromedp.KeyEvent("\r"))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/notices?late=1") {
		t.Errorf("late only: the address is %q", loc)
	}
	if got, want := rowsOf("#required tbody tr"), []int64{m.late.GetAuditIndex()}; !slices.Equal(got, want) {
		t.Errorf("late only: the required notices are %v, want %v", got, want)
	}
	if n := run(t, ctx, "none", chromedp.Evaluate[int](`document.querySelectorAll("#obligations-none").length`)); n != 1 {
		t.Error("late only: the correction sent today is still listed, or the page does not say none is overdue")
	}
	check(t, ctx, "the late notices")

	// The access report: the correction sent on the person's behalf.
	do(t, ctx, "report page", chromedp.Navigate(c.url+"/report"))
	do(t, ctx, "type the identifier", chromedp.SendKeys(chromedp.ID("r-subject"), "SYN-DK-0001"))
	submit(t, ctx, "produce the report", chromedp.Click(chromedp.CSS("form.filters button")))
	if got, want := rowsOf("#corrections tbody tr"), []int64{m.correction.GetAuditIndex()}; !slices.Equal(got, want) {
		t.Errorf("the access report lists corrections %v, want %v", got, want)
	}
	row := run(t, ctx, "report correction", chromedp.Evaluate[string](`document.querySelector("#corrections tbody tr").innerText.replace(/\s+/g, " ")`))
	for _, want := range []string{"correction of the release notice", "dk-police-aarhus", "rectify", "not yet", fmt.Sprintf("#%d", ex[0].index)} {
		if !strings.Contains(row, want) {
			t.Errorf("the report's correction %q does not say %q", row, want)
		}
	}
	if n := run(t, ctx, "no withdrawals", chromedp.Evaluate[int](`document.querySelectorAll("#no-withdrawals").length`)); n != 1 {
		t.Error("the access report does not say that no withdrawal was sent")
	}
	check(t, ctx, "the access report with a correction")
	screenshot(t, ctx, "access-report-corrections", 0)
	do(t, ctx, "print media", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	if d := run(t, ctx, "printed", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#corrections")).display`)); d == "none" {
		t.Error("printed, the corrections are hidden")
	}
}

// TestBrowserReportSuperseded: a correction replaced by a later one
// before its recipient acknowledged it (ReportedNotice.superseded_by)
// says so in the person's access report, naming the later one's entry,
// rather than "not yet" acknowledged (it can no longer be); the later one,
// open, says "not yet".
func TestBrowserReportSuperseded(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	m := f.aftercare(t, f.traffic(t))
	second := f.recorrect(t, m)
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)
	do(t, ctx, "report page", chromedp.Navigate(c.url+"/report"))
	do(t, ctx, "type the identifier", chromedp.SendKeys(chromedp.ID("r-subject"), "SYN-DK-0001"))
	submit(t, ctx, "produce the report", chromedp.Click(chromedp.CSS("form.filters button")))
	rows := run(t, ctx, "corrections", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#corrections tbody tr")).map(r => r.dataset.entry)`))
	first, later := strconv.FormatInt(m.correction.GetAuditIndex(), 10), strconv.FormatInt(second.GetAuditIndex(), 10)
	if !slices.Equal(rows, []string{first, later}) {
		t.Fatalf("the access report lists corrections %v, want %v (the first, then the one that replaced it)", rows, []string{first, later})
	}
	acked := func(index string) string {
		t.Helper()
		return run(t, ctx, "acknowledged", chromedp.Evaluate[string](`document.querySelector('#corrections tr[data-entry="`+index+`"] td:nth-last-child(2)').innerText.replace(/\s+/g, " ").trim()`))
	}
	if got, want := acked(first), "no: replaced, before it was, by #"+later; got != want {
		t.Errorf("the replaced correction's Acknowledged says %q, want %q", got, want)
	}
	if got := run(t, ctx, "link", chromedp.Evaluate[string](`(a => a ? a.getAttribute("href") : "")(document.querySelector('#corrections tr[data-entry="`+first+`"] td:nth-last-child(2) a'))`)); got != "/entry/"+later {
		t.Errorf("the replaced correction links to %q, want the later one's entry /entry/%s", got, later)
	}
	if got := acked(later); got != "not yet" {
		t.Errorf("the later correction's Acknowledged says %q, want \"not yet\"", got)
	}
	check(t, ctx, "the access report with a replaced correction")
}

// TestBrowserNoticesReadOn: the notices page reads each list on past a
// full page (start): with the gateway answering a notice a call, it still
// lists both required notices and the correction, and does not say that
// only the oldest are shown; a console that stops at its limit says so.
func TestBrowserNoticesReadOn(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	m := f.aftercare(t, f.traffic(t))
	t.Cleanup(console.SetNoticesPage(1))
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)

	rows := func(sel string) []string {
		t.Helper()
		return run(t, ctx, "rows of "+sel, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+strconv.Quote(sel)+`)).map(r => r.dataset.entry)`))
	}
	idx := func(xs ...int64) []string {
		var out []string
		for _, x := range xs {
			out = append(out, strconv.FormatInt(x, 10))
		}
		return out
	}
	do(t, ctx, "notices", chromedp.Navigate(c.url+"/notices"))
	if got, want := rows("#required tbody tr"), idx(m.late.GetAuditIndex(), m.inTime.GetAuditIndex()); !slices.Equal(got, want) {
		t.Errorf("read a notice a call, the required notices listed are entries %v, want %v", got, want)
	}
	if got, want := rows("#obligations tbody tr"), idx(m.correction.GetAuditIndex()); !slices.Equal(got, want) {
		t.Errorf("read a notice a call, the corrections listed are entries %v, want %v", got, want)
	}
	for _, sel := range []string{"#required-summary", "#obligations-summary"} {
		if got := text(t, ctx, sel); strings.Contains(got, "Only the oldest") {
			t.Errorf("%s = %q: it says only the oldest are shown, though every notice is", sel, got)
		}
	}
	if got := text(t, ctx, "#required-summary"); !strings.HasPrefix(got, "2 notices not acknowledged") || !strings.Contains(got, "1 past its deadline") {
		t.Errorf("the required notices' summary = %q, want 2 notices, 1 past its deadline", got)
	}

	// A console that reads at most one notice of a list says where it stopped.
	c1 := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.MaxEntries = 1 })
	login(t, ctx, c1)
	do(t, ctx, "notices, at most one", chromedp.Navigate(c1.url+"/notices"))
	if got, want := rows("#required tbody tr"), idx(m.late.GetAuditIndex()); !slices.Equal(got, want) {
		t.Errorf("at most one notice: the required notices listed are entries %v, want %v", got, want)
	}
	if got := text(t, ctx, "#required-summary"); !strings.Contains(got, "Only the oldest 1 are shown") {
		t.Errorf("at most one notice: the summary %q does not say only the oldest is shown", got)
	}
	if got := text(t, ctx, "#obligations-summary"); strings.Contains(got, "Only the oldest") {
		t.Errorf("at most one notice: the corrections' summary %q says more are left, though the one there is was read", got)
	}
	check(t, ctx, "the notices page, one notice a part")
	do(t, ctx, "focus the next part", chromedp.Focus(chromedp.ID("required-next")))
	submit(t, ctx, "open the next part", chromedp.KeyEvent("\r"))
	if got, want := rows("#required tbody tr"), idx(m.inTime.GetAuditIndex()); !slices.Equal(got, want) {
		t.Errorf("the next part of the required notices lists entries %v, want %v", got, want)
	}
	check(t, ctx, "the notices page, the next part")
}

// TestBrowserWithdrawnLateReadOn: the late notices closed unacknowledged,
// read a notice at a time, link with the keyboard to their next part,
// which links back to the oldest; both parts pass the checks.
func TestBrowserWithdrawnLateReadOn(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	m := f.aftercare(t, f.traffic(t))
	later := f.notifyRelease(t, time.Now().UTC().AddDate(0, 0, -5))
	if _, err := liaisonv1.NewAftercareClient(f.conn(t, dkPrison)).Withdraw(context.Background(), &liaisonv1.WithdrawRequest{
		SubjectId: "SYN-DK-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, Withdraws: []int64{m.late.GetAuditIndex(), later.GetAuditIndex()},
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Obligation: liaisonv1.Obligation_OBLIGATION_ERASE,
		Justification: "The release notices named the wrong person.",
	}); err != nil {
		t.Fatal(err)
	}
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.MaxEntries = 1 })
	login(t, ctx, c)
	rows := func() []string {
		t.Helper()
		return run(t, ctx, "rows", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#withdrawn-required tbody tr")).map(r => r.dataset.entry)`))
	}
	do(t, ctx, "late notices", chromedp.Navigate(c.url+"/notices?late=1"))
	if got, want := rows(), []string{strconv.FormatInt(m.late.GetAuditIndex(), 10)}; !slices.Equal(got, want) {
		t.Errorf("the first part lists the late notices closed unacknowledged %v, want %v", got, want)
	}
	check(t, ctx, "the late notices closed unacknowledged, the first part")
	do(t, ctx, "focus the next part", chromedp.Focus(chromedp.ID("withdrawn-next")))
	submit(t, ctx, "open the next part", chromedp.KeyEvent("\r"))
	if got, want := rows(), []string{strconv.FormatInt(later.GetAuditIndex(), 10)}; !slices.Equal(got, want) {
		t.Errorf("the next part lists the late notices closed unacknowledged %v, want %v", got, want)
	}
	if got := text(t, ctx, "#withdrawn-summary"); !strings.Contains(got, fmt.Sprintf("from entry #%d on", m.late.GetAuditIndex()+1)) {
		t.Errorf("the next part's summary %q does not say where it starts", got)
	}
	check(t, ctx, "the late notices closed unacknowledged, the next part")
}

// TestBrowserTimelinePages: a console that reads at most 3 entries a
// request links, with the keyboard, to the next part of the period, and
// the parts pass the checks.
func TestBrowserTimelinePages(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.MaxEntries = 3 })
	login(t, ctx, c)
	do(t, ctx, "timeline", chromedp.Navigate(c.url+"/timeline?action=request"))
	first := entriesShown(t, ctx, "#entries tbody th a")
	check(t, ctx, "the timeline's first part")
	do(t, ctx, "focus the next part", chromedp.Focus(chromedp.ID("next-part")))
	submit(t, ctx, "open the next part", chromedp.KeyEvent("\r"))
	next := entriesShown(t, ctx, "#entries tbody th a")
	if len(first) != 3 || len(next) == 0 || next[0] <= first[len(first)-1] {
		t.Errorf("the first part lists %v and the next %v: want 3, then later ones", first, next)
	}
	if got := text(t, ctx, "#summary"); !strings.Contains(got, fmt.Sprintf("from entry #%d on", first[len(first)-1]+1)) {
		t.Errorf("the next part's summary %q does not say where it starts", got)
	}
	check(t, ctx, "the timeline's next part")
}

// TestBrowserTimelineShowsExpiryNotices: the timeline as it opens (no
// action chosen) lists the expiry notice the gateway's timers sent when
// the legal basis of a release ended: an order to the recipient to erase
// what it was released (or keep it only under a retention rule), part of
// what happened to the record over time as a withdrawal is, which the
// default list shows. Its row names the action, the gateway's timer as
// requester and the holder and recipient of the release; the option of
// the default list says it lists them; the page passes the checks.
func TestBrowserTimelineShowsExpiryNotices(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	ex := f.traffic(t)
	idx, at := f.expire(t, ex[0].index)
	// The console's day is the expiry notice's: the default period, the
	// 30 days up to today, holds it.
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.Now = func() time.Time { return at } })
	login(t, ctx, c)
	do(t, ctx, "timeline", chromedp.Navigate(c.url+"/timeline"))
	if shown := entriesShown(t, ctx, "#entries tbody th a"); !slices.Contains(shown, idx) {
		t.Fatalf("the timeline's default list shows entries %v, not the expiry notice (entry %d)", shown, idx)
	}
	cells := run(t, ctx, "the expiry notice's row", chromedp.Evaluate[[]string](fmt.Sprintf(
		`Array.from(document.querySelector('#entries a[href="/entry/%d"]').closest("tr").cells).map(c => c.innerText.replace(/\s+/g, " ").trim())`, idx)))
	if len(cells) < 5 || !strings.Contains(strings.ToLower(cells[2]), "expire") || !strings.Contains(cells[3], "liaison") ||
		!strings.Contains(cells[4], "dk-prison-east → dk-police-aarhus") {
		t.Errorf("the expiry notice's row = %q, want the action expire, the gateway's timer as requester, dk-prison-east → dk-police-aarhus", cells)
	}
	if got := run(t, ctx, "the default option", chromedp.Evaluate[string](`document.querySelector('#f-action option[value=""]').textContent`)); !strings.Contains(got, "expiry notices") {
		t.Errorf("the default list's option says %q: it does not say it lists expiry notices", got)
	}
	check(t, ctx, "the timeline with an expiry notice")
}

// TestBrowserNoticesFilterRefused: a recipient not spelt as an agency id
// (upper case, typed as a person would) is refused by the page itself,
// once, naming the field, without asking the gateway (whose refusals of
// each list would be the officer's refused reads); an address whose late
// is not 1 is refused rather than read as "all notices".
func TestBrowserNoticesFilterRefused(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	m := f.aftercare(t, f.traffic(t))
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)

	do(t, ctx, "notices", chromedp.Navigate(c.url+"/notices"))
	do(t, ctx, "type the recipient", chromedp.SendKeys(chromedp.ID("nf-recipient"), "DK-Police-Aarhus"))
	submit(t, ctx, "show", chromedp.Click(chromedp.ID("nf-apply")))
	alerts := run(t, ctx, "alerts", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("main [role=alert]")).map(a => a.textContent.trim())`))
	if len(alerts) != 1 || !strings.Contains(alerts[0], "The recipient must be an agency id") || !strings.Contains(alerts[0], "lower-case") {
		t.Errorf("a recipient in upper case: the page's alerts are %q, want one naming the recipient and how it is spelt", alerts)
	}
	if got := run(t, ctx, "recipient kept", chromedp.Evaluate[string](`document.getElementById("nf-recipient").value`)); got != "DK-Police-Aarhus" {
		t.Errorf("the form does not keep the recipient typed: %q", got)
	}
	check(t, ctx, "the notices page, a recipient refused")
	resp, err := c.ac.Query(context.Background(), &liaisonv1.QueryRequest{Action: "audit_read", Outcome: "refused"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetEntries()); n != 0 {
		t.Errorf("the gateway was asked with the malformed recipient: %d refused reads recorded as the officer's", n)
	}

	do(t, ctx, "late=yes", chromedp.Navigate(c.url+"/notices?late=yes"))
	alerts = run(t, ctx, "alerts", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("main [role=alert]")).map(a => a.textContent.trim())`))
	if len(alerts) != 1 || !strings.Contains(alerts[0], "late=1") {
		t.Errorf("late=yes: the page's alerts are %q, want one saying late must be 1", alerts)
	}
	if n := run(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#required tbody tr").length`)); n != 0 {
		t.Errorf("late=yes lists %d required notices, as if it asked for all of them", n)
	}
	// The well-spelt filter still lists.
	do(t, ctx, "late=1", chromedp.Navigate(c.url+"/notices?late=1&recipient=dk-police-aarhus"))
	if got := run(t, ctx, "rows", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#required tbody tr")).map(r => r.dataset.entry)`)); !slices.Equal(got, []string{strconv.FormatInt(m.late.GetAuditIndex(), 10)}) {
		t.Errorf("late notices to the Aarhus police are entries %v, want %d", got, m.late.GetAuditIndex())
	}
}

// TestBrowserOperatorClose: a case the gateway's operator closed (liaison
// case close-orphaned: no agency called, the entry names the operator)
// says in the timeline who closed it and which case, as the entry does;
// so does a case whose lead the operator handed over to a member (liaison
// case handover-orphaned), with the former lead and the new one.
func TestBrowserOperatorClose(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	const id, handedID = "NL-ZVH-CON-7", "NL-ZVH-CON-8"
	council := liaisonv1.NewCasesClient(f.conn(t, nlMunicip))
	open := func(id string) *liaisonv1.OpenCaseResponse {
		t.Helper()
		opened, err := council.OpenCase(context.Background(), &liaisonv1.OpenCaseRequest{
			CaseId: id, Kind: "nl.zvh", SubjectId: "SYN-NL-0001", Subject: &liaisonv1.SubjectAttributes{Category: liaisonv1.SubjectCategory_SUBJECT_CATEGORY_CONVICTED, InCustody: true, Municipality: "Rotterdam"},
			Justification: "Case consultation before the release.",
		})
		if err != nil {
			t.Fatalf("OpenCase: %v", err)
		}
		return opened
	}
	opened := open(id)
	// A second case, with the probation service a member, whose lead the
	// operator hands over to it.
	open(handedID)
	if _, err := council.InviteMember(context.Background(), &liaisonv1.InviteMemberRequest{CaseId: handedID, Agency: nlProbation.agency, Justification: "Case consultation before the release."}); err != nil {
		t.Fatalf("InviteMember: %v", err)
	}
	if _, err := liaisonv1.NewCasesClient(f.conn(t, nlProbation)).AcceptInvitation(context.Background(), &liaisonv1.AcceptInvitationRequest{CaseId: handedID, Justification: "We join."}); err != nil {
		t.Fatalf("AcceptInvitation: %v", err)
	}
	// The council is offboarded; the operator closes its case on the
	// running gateway's store, as the command does.
	reg, err := gateway.LoadRegistry(f.pki.Registry)
	if err != nil {
		t.Fatal(err)
	}
	reg.Agencies["nl-municipality-rotterdam"].Offboarded = true
	store, err := sqlite.Open(context.Background(), f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pseudonym.New(context.Background(), pseudonym.Config{Source: pseudonym.FileKeys{Path: filepath.Join(f.dir, "keys.json")}})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := embeddedEngine()
	if err != nil {
		t.Fatal(err)
	}
	op := &gateway.CaseOperator{Store: store, Registry: reg, Pseudonyms: keys, Policy: eng, Name: "ops.jansen"}
	_, closed, err := op.CloseOrphanedCase(context.Background(), id)
	if err != nil {
		store.Close()
		t.Fatalf("CloseOrphanedCase: %v", err)
	}
	_, handed, err := op.HandOverOrphanedCase(context.Background(), handedID, nlProbation.agency)
	store.Close()
	if err != nil {
		t.Fatalf("HandOverOrphanedCase: %v", err)
	}

	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)
	do(t, ctx, "timeline", chromedp.Navigate(c.url+"/timeline?action=all"))
	row := func(index int64) string {
		t.Helper()
		return run(t, ctx, "row", chromedp.Evaluate[string](fmt.Sprintf(`(() => { const a = document.querySelector('#entries a[href="/entry/%d"]'); return a ? a.closest("tr").innerText.replace(/\s+/g, " ") : ""; })()`, index)))
	}
	got := row(closed)
	for _, want := range []string{"case operator close", "the gateway's operator / ops.jansen", "case " + id, "ok"} {
		if !strings.Contains(got, want) {
			t.Errorf("the operator's close in the timeline reads %q; it does not say %q", got, want)
		}
	}
	got = row(handed)
	for _, want := range []string{"case operator handover", "the gateway's operator / ops.jansen", "nl-municipality-rotterdam → nl-probation", "case " + handedID, "ok"} {
		if !strings.Contains(got, want) {
			t.Errorf("the operator's hand-over in the timeline reads %q; it does not say %q", got, want)
		}
	}
	if got := row(opened.GetAuditIndex()); !strings.Contains(got, "nl-municipality-rotterdam / zvh.coordinator") || !strings.Contains(got, "case "+id) {
		t.Errorf("the case's opening in the timeline reads %q; want the council's officer and the case", got)
	}
	check(t, ctx, "the timeline with an operator's entry")
	do(t, ctx, "the hand-over's entry", chromedp.Navigate(fmt.Sprintf("%s/entry/%d", c.url, handed)))
	facts := run(t, ctx, "facts", chromedp.Evaluate[string](`document.querySelector("#entry-facts").innerText.replace(/\s+/g, " ")`))
	for _, want := range []string{"case operator handover", "by operator ops.jansen", handedID + ", led by nl-probation"} {
		if !strings.Contains(facts, want) {
			t.Errorf("the hand-over's entry page reads %q; it does not say %q", facts, want)
		}
	}
	check(t, ctx, "an operator's hand-over")
}

// TestBrowserPeerDenial: a peer gateway's refusal that came without a
// signed receipt of its entry (detail peer_denial "unverified") says so
// in the timeline, in words, beside its outcome, and the summary counts
// it; one its receipt proves says verified; a refusal of this gateway's
// own law says neither. The entry page says it where the outcome stands.
func TestBrowserPeerDenial(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	now := time.Now().UTC().Add(-time.Minute)
	denial := func(reqID string, detail map[string]string) *audit.Entry {
		return &audit.Entry{Time: now, Action: "request", RequestID: reqID,
			Requester:  &audit.Requester{Agency: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK", Officer: "pi.soerensen"},
			Holder:     &audit.Party{Agency: "nl-probation", Kind: "probation", Jurisdiction: "NL"},
			Recipients: []audit.Party{{Agency: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK"}},
			RecordType: "risk_assessment", Purpose: "risk_management", Outcome: audit.OutcomeDeny, Reasons: []string{"NO_LEGAL_BASIS"},
			Detail: detail}
	}
	idx := f.appendEntries(t,
		denial("req-unverified", map[string]string{"peer": "nl-gateway", "peer_denial": "unverified"}),
		denial("req-verified", map[string]string{"peer": "nl-gateway", "peer_denial": "verified", "peer_index": "41", "peer_receipt": "{}"}),
		denial("req-local", nil),
	)
	unverified, verified, local := idx[0], idx[1], idx[2]
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)

	do(t, ctx, "timeline", chromedp.Navigate(c.url+"/timeline"))
	row := func(index int64) string {
		t.Helper()
		return run(t, ctx, "row", chromedp.Evaluate[string](fmt.Sprintf(`(() => { const a = document.querySelector('#entries a[href="/entry/%d"]'); return a ? a.closest("tr").innerText.replace(/\s+/g, " ") : ""; })()`, index)))
	}
	if got := row(unverified); !strings.Contains(got, "Not verified: the peer gateway's refusal, without a signed receipt of its entry") {
		t.Errorf("the unverified peer denial reads %q in the timeline; it does not say it is not verified", got)
	}
	if got := row(verified); !strings.Contains(got, "Verified: the peer gateway's signed receipt of its entry 41 there") || strings.Contains(got, "Not verified") {
		t.Errorf("the verified peer denial reads %q in the timeline; want it verified, with the peer's entry", got)
	}
	if got := row(local); got == "" || strings.Contains(got, "erified") {
		t.Errorf("this gateway's own denial reads %q; it is no peer's, verified or not", got)
	}
	if got := text(t, ctx, "#summary"); !strings.Contains(got, "3 refused or denied") || !strings.Contains(got, "1 is a peer gateway's refusal not verified") {
		t.Errorf("the timeline's summary %q does not count the unverified peer denial", got)
	}
	check(t, ctx, "the timeline with peer denials")

	do(t, ctx, "the unverified entry", chromedp.Navigate(fmt.Sprintf("%s/entry/%d", c.url, unverified)))
	if got := text(t, ctx, "#entry-peer-denial"); !strings.HasPrefix(got, "Not verified:") {
		t.Errorf("the entry of the unverified peer denial says %q beside its outcome", got)
	}
	check(t, ctx, "an unverified peer denial")
}

// TestBrowserPeerRefused: a peer gateway's refusal of an exchange
// (reason PEER_REFUSED) says in words, in the timeline and on the entry,
// why the peer refused it (detail peer_reason, peer_code): by its own
// rules, its signed receipt proving a refused entry there (outcome
// refused: NOT_A_CASE_MEMBER, not a denial of its law), or by not taking
// the call at all (outcome failed).
func TestBrowserPeerRefused(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	now := time.Now().UTC().Add(-time.Minute)
	refusal := func(reqID, outcome string, detail map[string]string) *audit.Entry {
		return &audit.Entry{Time: now, Action: "request", RequestID: reqID,
			Requester:  &audit.Requester{Agency: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK", Officer: "pi.soerensen"},
			Holder:     &audit.Party{Agency: "nl-probation", Kind: "probation", Jurisdiction: "NL"},
			Recipients: []audit.Party{{Agency: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK"}},
			RecordType: "risk_assessment", Purpose: "risk_management", Outcome: outcome, Reasons: []string{"PEER_REFUSED"},
			Detail: detail}
	}
	idx := f.appendEntries(t,
		refusal("req-refused", audit.OutcomeRefused, map[string]string{"peer": "nl-gateway", "peer_denial": "verified", "peer_index": "41", "peer_receipt": "{}",
			"peer_code": "PermissionDenied", "peer_reason": "NOT_A_CASE_MEMBER"}),
		refusal("req-not-taken", audit.OutcomeFailed, map[string]string{"peer": "nl-gateway", "peer_code": "Unauthenticated", "peer_reason": "UNKNOWN_PEER_AGENCY"}),
	)
	refused, notTaken := idx[0], idx[1]
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)
	do(t, ctx, "timeline", chromedp.Navigate(c.url+"/timeline"))
	row := func(index int64) string {
		t.Helper()
		return run(t, ctx, "row", chromedp.Evaluate[string](fmt.Sprintf(`(() => { const a = document.querySelector('#entries a[href="/entry/%d"]'); return a ? a.closest("tr").innerText.replace(/\s+/g, " ") : ""; })()`, index)))
	}
	if got := row(refused); !strings.Contains(got, "Refused by the peer gateway's own rules, not by its law (reason NOT_A_CASE_MEMBER, status PermissionDenied).") ||
		!strings.Contains(got, "Verified: the peer gateway's signed receipt of its entry 41 there") {
		t.Errorf("the peer's proven refusal reads %q in the timeline; it does not say the peer refused it by its own rules, and why", got)
	}
	if got := row(notTaken); !strings.Contains(got, "The peer gateway refused to take the call (reason UNKNOWN_PEER_AGENCY, status Unauthenticated).") {
		t.Errorf("the peer's refusal of the call reads %q in the timeline; it does not say the peer refused to take it, and why", got)
	}
	check(t, ctx, "the timeline with peer refusals")
	do(t, ctx, "the refused entry", chromedp.Navigate(fmt.Sprintf("%s/entry/%d", c.url, refused)))
	if got := text(t, ctx, "#entry-peer-refused"); !strings.HasPrefix(got, "Refused by the peer gateway's own rules") || !strings.Contains(got, "NOT_A_CASE_MEMBER") {
		t.Errorf("the entry of the peer's proven refusal says %q beside its outcome", got)
	}
	check(t, ctx, "a peer's proven refusal")
}

// TestBrowserPeerOutcome: what became of an exchange at the peer gateway,
// where its outcome alone misleads, is said in words in the timeline and
// on the entry: a forward that failed PEER_UNAVAILABLE may have been
// delivered there (peer_outcome unknown), and an acknowledgement the
// sender's gateway refused NOTICE_WITHDRAWN stands here only.
func TestBrowserPeerOutcome(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	now := time.Now().UTC().Add(-time.Minute)
	prison := audit.Party{Agency: "dk-prison-east", Kind: "prison", Jurisdiction: "DK"}
	probation := audit.Party{Agency: "nl-probation", Kind: "probation", Jurisdiction: "NL"}
	idx := f.appendEntries(t,
		&audit.Entry{Time: now, Action: "disclose", RequestID: "req-forward",
			Requester: &audit.Requester{Agency: prison.Agency, Kind: prison.Kind, Jurisdiction: "DK", Officer: "kf.release.coordinator"},
			Holder:    &prison, Recipients: []audit.Party{probation}, RecordType: "release_notice", Purpose: "risk_management",
			Outcome: audit.OutcomeFailed, Reasons: []string{"PEER_UNAVAILABLE"}, Detail: map[string]string{"peer": "nl-gateway", "peer_outcome": "unknown"}},
		&audit.Entry{Time: now, Action: "notice_acknowledge", RequestID: "req-ack",
			Requester: &audit.Requester{Agency: probation.Agency, Kind: probation.Kind, Jurisdiction: "NL", Officer: "po.bakker"},
			Holder:    &prison, Recipients: []audit.Party{probation}, Outcome: audit.OutcomeOK,
			Detail: map[string]string{"peer": "dk-gateway", "notice_id": "n-1", "peer_outcome": "notice_withdrawn"}},
	)
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)
	do(t, ctx, "timeline", chromedp.Navigate(c.url+"/timeline?action=all"))
	row := func(index int64) string {
		t.Helper()
		return run(t, ctx, "row", chromedp.Evaluate[string](fmt.Sprintf(`(() => { const a = document.querySelector('#entries a[href="/entry/%d"]'); return a ? a.closest("tr").innerText.replace(/\s+/g, " ") : ""; })()`, index)))
	}
	if got := row(idx[0]); !strings.Contains(got, "Delivery at the peer gateway unknown") {
		t.Errorf("the failed forward reads %q in the timeline; it does not say the peer may have delivered it", got)
	}
	if got := row(idx[1]); !strings.Contains(got, "withdrawn at the sender's gateway") || !strings.Contains(got, "stands here only") {
		t.Errorf("the acknowledgement of a withdrawn notice reads %q in the timeline; it does not say it stands here only", got)
	}
	check(t, ctx, "the timeline with peer outcomes")
	do(t, ctx, "the failed forward", chromedp.Navigate(fmt.Sprintf("%s/entry/%d", c.url, idx[0])))
	if got := text(t, ctx, "#entry-peer-outcome"); !strings.HasPrefix(got, "Delivery at the peer gateway unknown") {
		t.Errorf("the failed forward's entry says %q beside its outcome", got)
	}
	check(t, ctx, "a forward of unknown outcome")
}

// TestBrowserNoticesWithdrawnLate: a required notice not acknowledged by
// its deadline and closed later, unacknowledged, when its release was
// withdrawn (TrackedNotice.withdrawn, withdrawal_audit_index) is no
// longer among those awaited, but the late ones name it, late, with the
// entry that closed it; the notices page without the late filter does
// not.
func TestBrowserNoticesWithdrawnLate(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	m := f.aftercare(t, f.traffic(t))
	wr, err := liaisonv1.NewAftercareClient(f.conn(t, dkPrison)).Withdraw(context.Background(), &liaisonv1.WithdrawRequest{
		SubjectId: "SYN-DK-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, Withdraws: []int64{m.late.GetAuditIndex()},
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Obligation: liaisonv1.Obligation_OBLIGATION_ERASE,
		Justification: "The release notice named the wrong person.",
	})
	if err != nil || len(wr.GetResults()) != 1 {
		t.Fatalf("Withdraw = %v, %v; want one withdrawal", wr, err)
	}
	withdrawal := wr.GetResults()[0].GetAuditIndex()
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)
	rows := func(sel string) []string {
		t.Helper()
		return run(t, ctx, "rows of "+sel, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+strconv.Quote(sel)+`)).map(r => r.dataset.entry)`))
	}
	do(t, ctx, "late notices", chromedp.Navigate(c.url+"/notices?late=1"))
	if got := rows("#required tbody tr"); len(got) != 0 {
		t.Errorf("the late notices still awaited are entries %v, want none (the late one was withdrawn)", got)
	}
	if got, want := rows("#withdrawn-required tbody tr"), []string{strconv.FormatInt(m.late.GetAuditIndex(), 10)}; !slices.Equal(got, want) {
		t.Fatalf("the late notices closed unacknowledged are entries %v, want %v", got, want)
	}
	row := run(t, ctx, "row", chromedp.Evaluate[string](`document.querySelector("#withdrawn-required tbody tr").innerText.replace(/\s+/g, " ")`))
	for _, want := range []string{"Late", "closed unacknowledged", fmt.Sprintf("#%d closed by", withdrawal)} {
		if !strings.Contains(row, want) {
			t.Errorf("the withdrawn late notice reads %q; it does not say %q", row, want)
		}
	}
	check(t, ctx, "the late notices with one closed unacknowledged")
	do(t, ctx, "all notices", chromedp.Navigate(c.url+"/notices"))
	if n := run(t, ctx, "section", chromedp.Evaluate[int](`document.querySelectorAll("#withdrawn-required").length`)); n != 0 {
		t.Error("without the late filter the page lists the notices closed unacknowledged too")
	}
}

// TestBrowserSameSiteRefused: a page of another port of this computer
// is the same site as the console (cookies keep neither ports nor
// schemes apart), so the browser sends it the SameSite=Strict session
// cookie; it must not get the console to read the log in the officer's
// name, neither by an image nor by a link the officer follows. The
// refusal links to the overview, and so does the login link opened from
// such a page (a terminal in the browser, say).
func TestBrowserSameSiteRefused(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	c := startConsole(t, f, dkAuditor, nil)
	f.waitCheckpoint(t, c.ac)

	const canary = "canary.officer"
	target := c.url + "/timeline?officer=" + canary
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/terminal" {
			fmt.Fprintf(w, `<!doctype html><html lang="en"><title>A terminal</title><a id="go" href="%s">login</a></html>`, html.EscapeString(c.url+c.srv.NewLogin()))
			return
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Elsewhere</title><img src="%s" alt="x"><a id="go" href="%s">the log</a></html>`,
			html.EscapeString(target), html.EscapeString(target))
	}))
	t.Cleanup(other.Close)
	if !strings.HasPrefix(other.URL, "http://127.0.0.1:") || !strings.HasPrefix(c.url, "http://127.0.0.1:") {
		t.Fatalf("want both on 127.0.0.1 (one site): %s, %s", other.URL, c.url)
	}
	overview := func(what string) {
		t.Helper()
		if h := text(t, ctx, "h1"); h != "Request from another site refused" {
			t.Fatalf("%s: the page is %q, want the refusal", what, h)
		}
		submit(t, ctx, what+": follow the refusal's link", chromedp.Click(chromedp.ID("home")))
		if h := text(t, ctx, "h1"); h != "Overview" {
			t.Errorf("%s: the refusal's link opens %q, want the Overview", what, h)
		}
	}
	do(t, ctx, "a terminal's page", chromedp.Navigate(other.URL+"/terminal"))
	submit(t, ctx, "open the login link there", chromedp.Click(chromedp.ID("go")))
	overview("the login link opened from another port")

	do(t, ctx, "the other port's page", chromedp.Navigate(other.URL))
	submit(t, ctx, "follow its link", chromedp.Click(chromedp.ID("go")))
	if h := text(t, ctx, "h1"); h == "Timeline of disclosures and refusals" {
		t.Errorf("a link from a page of another port of this computer opens the timeline in the officer's session")
	}
	check(t, ctx, "the refusal of a request from another site")
	overview("a link from another port")

	// The console itself still answers the officer.
	do(t, ctx, "the timeline, typed in", chromedp.Navigate(c.url+"/timeline"))
	if h := text(t, ctx, "h1"); h != "Timeline of disclosures and refusals" {
		t.Errorf("the timeline opened from the address bar is %q", h)
	}

	resp, err := liaisonv1.NewAuditClient(f.conn(t, officer{"nl-probation", "fg.visser", []string{"auditor"}, "confidential"})).
		Query(t.Context(), &liaisonv1.QueryRequest{Action: "audit_read", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, le := range resp.GetEntries() {
		e, err := audit.Unmarshal([]byte(le.GetJson()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Detail["officer"] == canary {
			t.Errorf("entry %d records a read of the log as %s's, which a page of another port made (%v)", le.GetIndex(), e.Requester.Officer, e.Detail)
		}
	}
}
