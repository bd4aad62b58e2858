package console_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/liaison-gateway/liaison/console"
	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// consoleUnderTest is a console serving on loopback for an officer of the
// fixture's gateway.
type consoleUnderTest struct {
	srv   *console.Server
	url   string // http://127.0.0.1:port
	state string // the trusted-state file
	token string // the officer's token, which must never reach a page
	ac    liaisonv1.AuditClient
}

func startConsole(tb testing.TB, f *fixture, o officer, edit func(*console.Config)) *consoleUnderTest {
	tb.Helper()
	tok := f.token(tb, o)
	cc := f.connWith(tb, o, tok)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := lis.Addr().(*net.TCPAddr).Port
	// The state file is named as an officer would name it, in a folder of
	// the test's own (the pages show it).
	tb.Chdir(tb.TempDir())
	c := &consoleUnderTest{url: "http://" + lis.Addr().String(), state: "liaison-audit.trusted", token: tok,
		ac: liaisonv1.NewAuditClient(cc)}
	cfg := console.Config{
		Audit: c.ac, Policy: liaisonv1.NewPolicyClient(cc),
		Notices: liaisonv1.NewNoticesClient(cc), Aftercare: liaisonv1.NewAftercareClient(cc),
		Verifier: f.verifier, VerifierKey: f.vkey, State: c.state,
		Hosts:   []string{lis.Addr().String(), "localhost:" + strconv.Itoa(port)},
		Officer: o.id + " of " + o.agency, Gateway: f.addr,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if edit != nil {
		edit(&cfg)
	}
	if c.srv, err = console.New(cfg); err != nil {
		tb.Fatal(err)
	}
	hs := &http.Server{Handler: c.srv.Handler()}
	go hs.Serve(lis)
	tb.Cleanup(func() { hs.Close() })
	return c
}

// client is a browser-like HTTP client that has opened a login link: it
// keeps cookies and does not follow redirects.
func (c *consoleUnderTest) client(tb testing.TB) *http.Client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(c.url + c.srv.NewLogin())
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("login = %s, want 303", resp.Status)
	}
	return hc
}

func get(tb testing.TB, hc *http.Client, u string) (*http.Response, string) {
	tb.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post posts a form as the console's own pages would (same origin), with
// extra headers.
func post(tb testing.TB, hc *http.Client, u string, form url.Values, headers map[string]string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(tb testing.TB, page string) string {
	tb.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

// TestConsoleSecurity checks the console's defences without a browser:
// the one-time login, the session cookie, the headers, CSRF and
// cross-origin refusals, host names, and that neither the officer's token
// nor a subject's identifier reaches a page or an address.
func TestConsoleSecurity(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)

	// Without a session, nothing but the login.
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, body := get(t, anon, c.url+"/"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Not signed in") {
		t.Errorf("GET / without a session = %s, want 401 Not signed in", resp.Status)
	}
	if resp, _ := get(t, anon, c.url+"/login?code=guess"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login with a wrong code = %s, want 401", resp.Status)
	}

	// The login link works once and sets a strict, HttpOnly cookie.
	link := c.srv.NewLogin()
	resp, _ := get(t, anon, c.url+link)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %s, want 303", resp.Status)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" {
		t.Errorf("session cookie = %+v, want one HttpOnly SameSite=Strict cookie for /", cookies)
	}
	if resp, _ := get(t, anon, c.url+link); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the login link a second time = %s, want 401", resp.Status)
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(c.url)
	jar.SetCookies(u, cookies)
	hc := &http.Client{Jar: jar, CheckRedirect: anon.CheckRedirect}

	// Headers of every page.
	resp, page := get(t, hc, c.url+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %s\n%s", resp.Status, page)
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, " style=") || strings.Contains(page, "javascript:") {
		t.Errorf("the page has a script or inline style, which the policy forbids")
	}
	token := csrfOf(t, page)

	// Forms: without the token, from another origin, and as they should be.
	form := url.Values{"agency": {"nl-probation"}}
	if resp, body := post(t, hc, c.url+"/timeline", form, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "token") {
		t.Errorf("a form without the CSRF token = %s, want 403", resp.Status)
	}
	form.Set("csrf", "not-the-token")
	if resp, _ := post(t, hc, c.url+"/timeline", form, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a form with a wrong CSRF token = %s, want 403", resp.Status)
	}
	form.Set("csrf", token)
	for name, h := range map[string]map[string]string{
		"Origin of another site":    {"Origin": "http://evil.example"},
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": "same-site"},
	} {
		if resp, body := post(t, hc, c.url+"/timeline", form, h); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Cross-origin request refused") {
			t.Errorf("a form with the token from another origin (%s) = %s, want 403", name, resp.Status)
		}
	}
	resp, _ = post(t, hc, c.url+"/timeline", form, map[string]string{"Origin": c.url, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/timeline?agency=nl-probation" {
		t.Errorf("the same form from the console = %s to %q, want 303 to /timeline?agency=nl-probation", resp.Status, resp.Header.Get("Location"))
	}

	// A subject's identifier never travels in an address.
	form.Set("subject", "SYN-NL-0001")
	resp, _ = post(t, hc, c.url+"/timeline", form, nil)
	loc := resp.Header.Get("Location")
	// "SYN-", not "SYN": the handle is random base32 (A-Z, 2-7), which
	// holds "SYN" in about one of 1400 redirects, never a "-".
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(loc, "SYN-") || !strings.Contains(loc, "s=") {
		t.Errorf("timeline with a subject redirects to %q, want an opaque handle", loc)
	}
	if resp, body := get(t, hc, c.url+loc); resp.StatusCode != http.StatusOK || !strings.Contains(body, `value="SYN-NL-0001"`) {
		t.Errorf("the timeline by handle = %s, does not show the subject it filters on", resp.Status)
	}
	if resp, _ := get(t, hc, c.url+"/timeline?subject=SYN-NL-0001"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a subject in the address = %s, want 400", resp.Status)
	}
	// A period of millennia is refused, not read and charted day by day.
	if _, body := get(t, hc, c.url+"/timeline?from=0001-01-01&to=9999-12-31"); !strings.Contains(body, "longer than 100 years") {
		t.Error("the timeline of 0001-01-01 to 9999-12-31 does not say the period is too long")
	}

	// Every page: no token, every form posts with the CSRF token.
	formRE := regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	thRE := regexp.MustCompile(`<th\b[^>]*>`)
	for _, p := range []string{"/", "/timeline", loc, "/entry/1", "/report", "/export", "/notices", "/playground", "/impact", "/readiness", "/readiness?jurisdiction=DK", "/exercises", "/exercises/dk-release"} {
		resp, body := get(t, hc, c.url+p)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %s", p, resp.Status)
			continue
		}
		if strings.Contains(body, c.token) || strings.Contains(body, c.token[len(c.token)-40:]) {
			t.Errorf("GET %s shows the officer's token", p)
		}
		if p == "/exercises" && !strings.Contains(body, "liaison exercise run -out") {
			t.Errorf("GET /exercises does not say how an exercise report is made:\n%s", body)
		}
		for _, th := range thRE.FindAllString(body, -1) {
			if !strings.Contains(th, "scope=") {
				t.Errorf("GET %s: a table header without scope: %s", p, th)
			}
		}
		forms := formRE.FindAllStringSubmatch(body, -1)
		if len(forms) == 0 {
			t.Errorf("GET %s has no form (the sign-out form at least)", p)
		}
		for _, fm := range forms {
			if !strings.Contains(fm[1], `method="post"`) || !strings.Contains(fm[2], `name="csrf" value="`+token+`"`) {
				t.Errorf("GET %s: a form without method post and the CSRF token: <form%s>", p, fm[1])
			}
		}
	}

	// Another host name (DNS rebinding) is refused.
	req, _ := http.NewRequest(http.MethodGet, c.url+"/", nil)
	req.Host = "attacker.example:80"
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a request for another host = %v, %v; want 421", resp.Status, err)
	}

	// A new login ends this session.
	other := c.client(t)
	if resp, _ := get(t, hc, c.url+"/"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the first session after a second login = %s, want 401", resp.Status)
	}
	if resp, _ := get(t, other, c.url+"/"); resp.StatusCode != http.StatusOK {
		t.Errorf("the second session = %s, want 200", resp.Status)
	}
	_, page = get(t, other, c.url+"/")
	if resp, _ := post(t, other, c.url+"/logout", url.Values{"csrf": {csrfOf(t, page)}}, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("sign out = %s", resp.Status)
	}
	if resp, _ := get(t, other, c.url+"/"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after signing out = %s, want 401", resp.Status)
	}
}

// TestConsoleExport downloads the export and checks it as a supervisory
// authority would: the export format of the README, verified with the key.
func TestConsoleExport(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	hc := c.client(t)
	_, page := get(t, hc, c.url+"/export")
	resp, body := post(t, hc, c.url+"/export", url.Values{"csrf": {csrfOf(t, page)}}, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("POST /export = %s %s\n%s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, zf := range zr.File {
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		files[filepath.Base(zf.Name)] = b
	}
	if got := strings.TrimSpace(string(files["verifier.key"])); got != f.vkey {
		t.Errorf("verifier.key = %q, want %q", got, f.vkey)
	}
	var leaves [][]byte
	for l := range bytes.SplitSeq(bytes.TrimSuffix(files["entries.jsonl"], []byte("\n")), []byte("\n")) {
		leaves = append(leaves, l)
	}
	n, err := audit.VerifyLeaves(leaves, files["checkpoint"], f.verifier)
	if err != nil || n < 8 {
		t.Errorf("the export verifies: %d entries, %v; want at least the 8 exchanges and no error", n, err)
	}
}

// TestConsoleImpactBundle: the impact of a candidate given as a signed
// bundle, which needs its verification key; a tree that does not load is
// refused before the log is read.
func TestConsoleImpactBundle(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	hc := c.client(t)
	dir := t.TempDir()
	cand := filepath.Join(dir, "candidate")
	writeCandidate(t, cand)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := policies.ParseSigningKey("liaison", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sk.Public()
	if err != nil {
		t.Fatal(err)
	}
	var bundle bytes.Buffer
	if _, err := policies.WriteBundle(&bundle, os.DirFS(cand), sk); err != nil {
		t.Fatal(err)
	}
	bundlePath, pubPath := filepath.Join(dir, "candidate.tar.gz"), filepath.Join(dir, "candidate.pub.pem")
	if err := os.WriteFile(bundlePath, bundle.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, pub.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken")
	writeCandidate(t, broken)
	if err := os.WriteFile(filepath.Join(broken, "nl", "nl_test.rego"), []byte("package nl_test\n\ntest_fails if { false }\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	_, page := get(t, hc, c.url+"/impact")
	token := csrfOf(t, page)
	for _, tt := range []struct {
		name string
		form url.Values
		code int
		want string
	}{
		{"a signed bundle with its key", url.Values{"candidate": {bundlePath}, "key": {pubPath}}, http.StatusOK,
			"2 flip, 0 change fields or legal basis only, "},
		{"a bundle without a key", url.Values{"candidate": {bundlePath}}, http.StatusBadRequest,
			"give the public key file"},
		{"a bundle with another key", url.Values{"candidate": {bundlePath}, "key": {writeOtherKey(t, dir)}}, http.StatusUnprocessableEntity,
			"does not load"},
		{"a tree whose tests fail", url.Values{"candidate": {broken}}, http.StatusUnprocessableEntity,
			"does not load as the gateway would load it"},
		{"nothing there", url.Values{"candidate": {filepath.Join(dir, "absent")}}, http.StatusBadRequest,
			"cannot be read"},
		{"a period backwards", url.Values{"candidate": {cand}, "from": {"2026-02-01"}, "to": {"2026-01-01"}}, http.StatusBadRequest,
			"To is before From"},
		{"a period of eight thousand years", url.Values{"candidate": {cand}, "from": {"1970-01-01"}, "to": {"9998-12-31"}}, http.StatusBadRequest,
			"longer than 100 years"},
		{"a period before 1970", url.Values{"candidate": {cand}, "from": {"0001-01-01"}, "to": {"0002-01-01"}}, http.StatusBadRequest,
			"between 1970 and 9998"},
	} {
		tt.form.Set("csrf", token)
		resp, body := post(t, hc, c.url+"/impact", tt.form, nil)
		if resp.StatusCode != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("impact of %s = %s, want %d and %q", tt.name, resp.Status, tt.code, tt.want)
		}
	}
}

// writeOtherKey writes a public key that signed nothing.
func writeOtherKey(t *testing.T, dir string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "other.pub.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConsoleSessionTime: a login link expires unused after 15 minutes; a
// session ends after an hour without use.
func TestConsoleSessionTime(t *testing.T) {
	f := startGateway(t)
	var now atomic.Pointer[time.Time]
	start := time.Now()
	now.Store(&start)
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.Now = func() time.Time { return *now.Load() } })
	later := func(d time.Duration) { t2 := now.Load().Add(d); now.Store(&t2) }

	link := c.srv.NewLogin()
	later(16 * time.Minute)
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, _ := get(t, anon, c.url+link); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a login link 16 minutes old = %s, want 401", resp.Status)
	}
	hc := c.client(t)
	later(50 * time.Minute)
	if resp, _ := get(t, hc, c.url+"/notices"); resp.StatusCode != http.StatusOK {
		t.Errorf("a session used after 50 minutes = %s, want 200", resp.Status)
	}
	later(61 * time.Minute)
	if resp, _ := get(t, hc, c.url+"/notices"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session unused for 61 minutes = %s, want 401", resp.Status)
	}
}

// TestConsoleReadsAreTheOfficers: every read of the log the console makes
// is recorded by the gateway as the officer's own.
func TestConsoleReadsAreTheOfficers(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	hc := c.client(t)
	f.waitCheckpoint(t, c.ac)
	for _, p := range []string{"/", "/timeline", "/entry/0", "/notices"} {
		if resp, _ := get(t, hc, c.url+p); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %s", p, resp.Status)
		}
	}
	_, page := get(t, hc, c.url+"/report")
	rr, _ := post(t, hc, c.url+"/report", url.Values{"csrf": {csrfOf(t, page)}, "subject": {"SYN-DK-0001"}}, nil)
	if rr.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /report = %s", rr.Status)
	}
	if resp, body := get(t, hc, c.url+rr.Header.Get("Location")); resp.StatusCode != http.StatusOK || strings.Contains(body, "kf.release.coordinator") {
		t.Fatalf("the report = %s; it must withhold the officers unless asked", resp.Status)
	}
	rr, _ = post(t, hc, c.url+"/report", url.Values{"csrf": {csrfOf(t, page)}, "subject": {"SYN-DK-0001"}, "with_officers": {"1"}}, nil)
	if resp, body := get(t, hc, c.url+rr.Header.Get("Location")); resp.StatusCode != http.StatusOK || !strings.Contains(body, "kf.release.coordinator of dk-prison-east") {
		t.Errorf("the report with the officers = %s, does not name the officer who disclosed", resp.Status)
	}
	// Read the log as another auditor.
	other := officer{"nl-probation", "fg.visser", []string{"auditor"}, "confidential"}
	resp, err := liaisonv1.NewAuditClient(f.conn(t, other)).Query(t.Context(), &liaisonv1.QueryRequest{Action: "audit_read", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	// The notices page's lists, by operation (required notices, obligation
	// notices): open notices, acknowledgements waiting for a peer.
	listed, forwards := map[string]int{}, map[string]int{}
	for _, le := range resp.GetEntries() {
		e, err := audit.Unmarshal([]byte(le.GetJson()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Requester == nil || e.Requester.Officer == "fg.visser" {
			continue
		}
		if e.Requester.Officer != "dpo.kristensen" || e.Requester.Agency != "dk-prison-east" {
			t.Errorf("entry %d records a read by %+v, want the console's officer", le.GetIndex(), e.Requester)
		}
		ops[e.Detail["operation"]] = true
		if op := e.Detail["operation"]; op == "list_notices" || op == "list_obligation_notices" {
			if e.Detail["forward_pending_only"] == "true" {
				forwards[op]++
			} else {
				listed[op]++
			}
		}
	}
	for _, op := range []string{"list_notices", "list_obligation_notices"} {
		if listed[op] != 1 || forwards[op] != 1 {
			t.Errorf("the notices page made %d %s reads of open notices and %d of acknowledgements waiting for a peer as the officer's, want 1 and 1",
				listed[op], op, forwards[op])
		}
	}
	for _, op := range []string{"query", "prove_inclusion", "access_report"} {
		if !ops[op] {
			t.Errorf("no %s read recorded as the officer's; recorded: %v", op, ops)
		}
	}
}

// TestConsoleNotices: the notices page's form narrows the lists by
// recipient and lateness through its address; a gateway that does not
// offer one of the two lists (it answers Unimplemented, or the console was
// given no client for it) leaves that part of the page unavailable and the
// other one listed.
func TestConsoleNotices(t *testing.T) {
	f := startGateway(t)
	m := f.aftercare(t, f.traffic(t))

	c := startConsole(t, f, dkAuditor, nil)
	hc := c.client(t)
	_, page := get(t, hc, c.url+"/notices")
	// The number of days marks every kind of obligation notice overdue,
	// none of which has a deadline (ListedNotice): the form says so of
	// the three, not of corrections alone.
	if !strings.Contains(page, "Corrections, withdrawals and expiry notices are overdue after (days)") {
		t.Errorf("the notices form's number of days does not name the three kinds of notice it marks overdue:\n%s", page)
	}
	form := url.Values{"csrf": {csrfOf(t, page)}, "late": {"1"}, "recipient": {" dk-police-aarhus "}, "days": {"30"}}
	resp, _ := post(t, hc, c.url+"/notices", form, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/notices?days=30&late=1&recipient=dk-police-aarhus" {
		t.Fatalf("the notices form = %s to %q", resp.Status, loc)
	}
	_, body := get(t, hc, c.url+resp.Header.Get("Location"))
	if !strings.Contains(body, fmt.Sprintf(`data-entry="%d"`, m.late.GetAuditIndex())) || strings.Contains(body, fmt.Sprintf(`data-entry="%d"`, m.inTime.GetAuditIndex())) ||
		!strings.Contains(body, `id="obligations-none"`) || !strings.Contains(body, "longer than 30 days") {
		t.Errorf("late notices to the Aarhus police: want the late notice only and no correction open 30 days:\n%s", body)
	}
	_, body = get(t, hc, c.url+"/notices?recipient=nl-probation")
	if !strings.Contains(body, `id="required-none"`) || !strings.Contains(body, `id="obligations-none"`) {
		t.Errorf("notices to nl-probation: want none of either kind:\n%s", body)
	}
	if resp, body := get(t, hc, c.url+"/notices?days=0"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "number of days") {
		t.Errorf("0 days = %s, want 400 naming the number of days", resp.Status)
	}

	// A gRPC server that offers no service at all answers Unimplemented.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bare := grpc.NewServer()
	go bare.Serve(lis)
	t.Cleanup(bare.Stop)
	old, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { old.Close() })

	for _, tc := range []struct {
		name        string
		edit        func(*console.Config)
		unavailable string // the part said unavailable
		listed      string // the other part's table
		entry       int64  // and the entry it lists
	}{
		{"Notices unimplemented", func(cfg *console.Config) { cfg.Notices = liaisonv1.NewNoticesClient(old) },
			"required-unavailable", "obligations", m.correction.GetAuditIndex()},
		{"no Aftercare client", func(cfg *console.Config) { cfg.Aftercare = nil },
			"obligations-unavailable", "required", m.late.GetAuditIndex()},
		{"Aftercare unimplemented", func(cfg *console.Config) { cfg.Aftercare = liaisonv1.NewAftercareClient(old) },
			"obligations-unavailable", "required", m.late.GetAuditIndex()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startConsole(t, f, dkAuditor, tc.edit)
			resp, body := get(t, c.client(t), c.url+"/notices")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /notices = %s\n%s", resp.Status, body)
			}
			if !strings.Contains(body, `id="`+tc.unavailable+`"`) || !strings.Contains(body, "Not available with this gateway") {
				t.Errorf("the page does not say %s", tc.unavailable)
			}
			if !strings.Contains(body, `<table id="`+tc.listed+`">`) || !strings.Contains(body, fmt.Sprintf(`data-entry="%d"`, tc.entry)) {
				t.Errorf("the page does not list the %s (entry %d) beside the unavailable part", tc.listed, tc.entry)
			}
			if strings.Count(body, "Not available with this gateway") != 1 {
				t.Errorf("the page says more than one part is unavailable")
			}
		})
	}
}

// TestConsoleExercises: a worked scenario's report downloads as the
// Markdown and the self-contained HTML of its golden files (played by the
// console on the embedded policy); an unknown scenario or file is not
// found.
func TestConsoleExercises(t *testing.T) {
	f := startGateway(t)
	c := startConsole(t, f, dkAuditor, nil)
	hc := c.client(t)
	eng, err := embeddedEngine()
	if err != nil {
		t.Fatal(err)
	}
	for file, ctype := range map[string]string{"report.md": "text/markdown; charset=utf-8", "report.html": "text/html; charset=utf-8"} {
		resp, body := get(t, hc, c.url+"/exercises/dk-release/"+file)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
			t.Errorf("GET %s = %s, %s, %s; want 200, %s, an attachment", file, resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), ctype)
		}
		want, err := os.ReadFile(filepath.Join(exerciseDir, "dk-release.golden"+filepath.Ext(file)))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ReplaceAll(body, eng.Revision(), "REVISION"); got != string(want) {
			t.Errorf("the downloaded %s is not the golden report:\n%s", file, got)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s has no Content-Security-Policy", file)
		}
	}
	// Compared with a candidate that is not there, or none.
	_, page := get(t, hc, c.url+"/exercises/dk-release")
	for cand, want := range map[string]string{"": "Name the candidate", "no-such-policy": "cannot be read"} {
		resp, body := post(t, hc, c.url+"/exercises/dk-release", url.Values{"csrf": {csrfOf(t, page)}, "candidate": {cand}}, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) || !strings.Contains(body, `id="exercise-h"`) {
			t.Errorf("compare with candidate %q = %s, want 400 saying %q beside the report", cand, resp.Status, want)
		}
	}
	for _, p := range []string{"/exercises/no-such-scenario", "/exercises/dk-release/report.pdf", "/exercises/..%2fREADME/report.md"} {
		if resp, _ := get(t, hc, c.url+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %s, want 404", p, resp.Status)
		}
	}
}

// TestConsoleHostDefaultPort: a browser leaves the scheme's default port
// out of the Host header (https://console.example/ is sent as
// "console.example"), so a console served on port 443 must answer to its
// name without the port, and still refuse other names and ports.
func TestConsoleHostDefaultPort(t *testing.T) {
	cc, err := grpc.NewClient("passthrough:///unused", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	_, vkey, err := note.GenerateKey(rand.Reader, "test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		secure bool
		hosts  []string
		host   string
		want   int
	}{
		{true, []string{"console.example:443"}, "console.example", http.StatusUnauthorized},
		{true, []string{"console.example:443"}, "CONSOLE.example:443", http.StatusUnauthorized},
		{false, []string{"localhost:80"}, "localhost", http.StatusUnauthorized},
		{true, []string{"[::1]:443"}, "[::1]", http.StatusUnauthorized},
		{true, []string{"console.example:8443"}, "console.example", http.StatusMisdirectedRequest},
		{false, []string{"console.example:443"}, "console.example", http.StatusMisdirectedRequest},
		{true, []string{"console.example:443"}, "other.example", http.StatusMisdirectedRequest},
	} {
		srv, err := console.New(console.Config{
			Audit: liaisonv1.NewAuditClient(cc), Policy: liaisonv1.NewPolicyClient(cc),
			Verifier: v, VerifierKey: vkey, State: filepath.Join(t.TempDir(), "trusted"),
			Hosts: slices.Clone(tt.hosts), Secure: tt.secure, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		h := srv.Handler()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Host = tt.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("console for %v (secure %v), Host %q: GET / = %d, want %d", tt.hosts, tt.secure, tt.host, rec.Code, tt.want)
		}
		if tt.want != http.StatusUnauthorized {
			continue
		}
		// The login link works through that name too.
		req = httptest.NewRequest(http.MethodGet, srv.NewLogin(), nil)
		req.Host = tt.host
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Errorf("console for %v, Host %q: the login link = %d, want 303", tt.hosts, tt.host, rec.Code)
		}
	}
}

// TestConsoleStateFileNotThisLogs: a state file that holds another log's
// checkpoint, or that cannot be read, is a problem of the console's
// set-up, as `liaison audit verify` says: the overview, the entry page and
// the export say so and name the file, and neither say that the log failed
// verification nor note a failed check in the history.
func TestConsoleStateFileNotThisLogs(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	f.waitCheckpoint(t, c.ac)
	hc := c.client(t)

	signer, _, err := note.GenerateKey(rand.Reader, "other.log")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(signer)
	if err != nil {
		t.Fatal(err)
	}
	other, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "other.log", Size: 3}.String()}, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.state, other, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := func(what, body string) {
		t.Helper()
		if strings.Contains(body, "NOT consistent") || strings.Contains(body, "does not verify") || strings.Contains(body, "Failed checks") {
			t.Errorf("%s says the log failed verification because of the state file:\n%s", what, body)
		}
		if !strings.Contains(body, c.state) || !strings.Contains(body, "set-up") {
			t.Errorf("%s does not say that the state file %s is the problem:\n%s", what, c.state, body)
		}
	}
	resp, page := get(t, hc, c.url+"/")
	if resp.StatusCode != http.StatusOK || strings.Contains(page, "The log is consistent") {
		t.Fatalf("overview with another log's state file = %s, says the log is consistent", resp.Status)
	}
	bad("the overview with another log's state file", page)
	if _, body := get(t, hc, c.url+"/entry/0"); !strings.Contains(body, "Not verified") {
		t.Errorf("entry 0 with another log's state file is not said unverified:\n%s", body)
	} else {
		bad("entry 0 with another log's state file", body)
	}
	resp, body := post(t, hc, c.url+"/export", url.Values{"csrf": {csrfOf(t, page)}}, nil)
	if resp.Header.Get("Content-Type") == "application/zip" {
		t.Errorf("the export was downloaded unchecked with another log's state file")
	} else {
		bad("the export with another log's state file", body)
	}
	if got, _ := os.ReadFile(c.state); !bytes.Equal(got, other) {
		t.Errorf("the state file was replaced")
	}

	// A state file that cannot be read.
	if err := os.Remove(c.state); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(c.state, 0o755); err != nil {
		t.Fatal(err)
	}
	_, page = get(t, hc, c.url+"/")
	bad("the overview with a state file that cannot be read", page)

	if h, err := os.ReadFile(c.state + ".history"); err == nil && strings.Contains(string(h), "failure") {
		t.Errorf("the history notes the set-up problems as failed checks of the log:\n%s", h)
	}
}

// TestConsoleOverviewRemembersFailures: once a check has failed, the
// overview never says again that every check since the log was first
// trusted found it consistent, even when the latest check passes.
func TestConsoleOverviewRemembersFailures(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.Sample = 1000 }) // every entry
	f.waitCheckpoint(t, c.ac)
	hc := c.client(t)
	get(t, hc, c.url+"/") // trusted on first use
	if _, page := get(t, hc, c.url+"/"); !strings.Contains(page, "every check since then found it consistent") {
		t.Fatalf("the overview of an untouched log does not say every check found it consistent:\n%s", page)
	}
	// A row changed in place, found, then put back.
	f.sqlExec(t, "CREATE TABLE saved AS SELECT idx, leaf FROM leaves WHERE idx = 1",
		"UPDATE leaves SET leaf = CAST(replace(CAST(leaf AS TEXT), 'risk_management', 'statistics') AS BLOB) WHERE idx = 1")
	if _, page := get(t, hc, c.url+"/"); !strings.Contains(page, "NOT consistent") {
		t.Fatalf("the overview of a changed row does not say so:\n%s", page)
	}
	f.sqlExec(t, "UPDATE leaves SET leaf = (SELECT leaf FROM saved WHERE saved.idx = 1) WHERE idx = 1")
	_, page := get(t, hc, c.url+"/")
	if !strings.Contains(page, "The log is consistent") {
		t.Fatalf("the overview after the row was put back is not consistent:\n%s", page)
	}
	if strings.Contains(page, "every check since then found it consistent") {
		t.Errorf("the overview says every check found the log consistent, after one found an entry changed")
	}
	if !strings.Contains(page, "1 check since then failed") {
		t.Errorf("the overview does not say that a check failed since the log was first trusted:\n%s", page)
	}
}

// TestConsoleTimelineTruncated: when the console stops reading a period at
// its limit, the timeline says up to when it read, does not call what it
// lists the period's newest entries, and its chart ends where the reading
// stopped rather than show the later days empty.
func TestConsoleTimelineTruncated(t *testing.T) {
	f := startGateway(t)
	traffic := f.traffic(t)
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.MaxEntries = 3 })
	hc := c.client(t)
	resp, page := get(t, hc, c.url+"/timeline?action=request")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /timeline = %s\n%s", resp.Status, page)
	}
	if !strings.Contains(page, "stopped reading") {
		t.Fatalf("the timeline read more than its limit of 3 entries:\n%s", page)
	}
	// The six requests of the traffic are on days -3 to 0: the first three
	// end with "nl police in the case", on day -2 at 09:00. Its time is
	// the traffic's, not worked out again here: midnight may have passed
	// since.
	var last time.Time
	for _, ex := range traffic {
		if ex.name == "nl police in the case" {
			last = ex.day
		}
	}
	if last.IsZero() {
		t.Fatal(`the traffic has no request "nl police in the case"`)
	}
	today := last.Truncate(24*time.Hour).AddDate(0, 0, 2) // the traffic's today
	if !strings.Contains(page, "<strong>at least 3</strong> entries match") {
		t.Errorf("the timeline does not say at least 3 entries match")
	}
	if !strings.Contains(page, last.Format("2006-01-02 15:04:05")) {
		t.Errorf("the timeline does not say it read up to %s", last.Format(time.DateTime))
	}
	if strings.Contains(page, "The table shows the newest 3;") {
		t.Errorf("the timeline calls the first entries of the period its newest")
	}
	for d := 1; d >= -1; d-- {
		day := today.AddDate(0, 0, d).Format(time.DateOnly)
		if strings.Contains(page, `<th scope="row">`+day+`</th>`) {
			t.Errorf("the chart shows day %s, which the console did not read", day)
		}
	}
	if day := last.Format(time.DateOnly); !strings.Contains(page, `<th scope="row">`+day+`</th>`) {
		t.Errorf("the chart does not show day %s, which the console read", day)
	}
}

// TestConsoleTimelinePages: a console that reads at most 3 entries a
// request still shows every entry of the period, part by part: each part
// links to the next (start, the index after its last entry read) until
// the last, which says it is complete, and every part after the first
// links back to the first. An address whose start is not an index is
// refused, naming it.
func TestConsoleTimelinePages(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.MaxEntries = 3 })
	hc := c.client(t)
	resp, err := c.ac.Query(context.Background(), &liaisonv1.QueryRequest{Action: "request", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, e := range resp.GetEntries() {
		want = append(want, e.GetIndex())
	}
	if len(want) < 4 {
		t.Fatalf("the traffic made %d requests; the test needs more than 3", len(want))
	}
	rowRE := regexp.MustCompile(`<th scope="row"><a href="/entry/(\d+)"`)
	nextRE := regexp.MustCompile(`<a href="(/timeline\?[^"]*)" id="next-part"`)
	var got []int64
	u, parts := "/timeline?action=request", 0
	for u != "" {
		parts++
		if parts > len(want) {
			t.Fatalf("more parts than entries: the pages do not move on (%s)", u)
		}
		resp, page := get(t, hc, c.url+html.UnescapeString(u))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %s\n%s", u, resp.Status, page)
		}
		var rows []int64
		for _, m := range rowRE.FindAllStringSubmatch(page, -1) {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			rows = append(rows, n)
		}
		slices.Reverse(rows) // newest first in the table
		got = append(got, rows...)
		if parts > 1 && !strings.Contains(page, `id="first-part"`) {
			t.Errorf("part %d (%s) does not link to the first part", parts, u)
		}
		u = ""
		if m := nextRE.FindStringSubmatch(page); m != nil {
			u = m[1]
			if !strings.Contains(page, "at least 3</strong> entries match") {
				t.Errorf("a part that links to the next does not say at least 3 entries match")
			}
		} else if strings.Contains(page, "stopped reading") {
			t.Fatalf("part %d says the console stopped reading but links to no next part:\n%s", parts, page)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("the parts of the timeline list entries %v, want every request %v", got, want)
	}
	if parts < 2 {
		t.Errorf("%d parts for %d entries read 3 at a time", parts, len(want))
	}
	if resp, page := get(t, hc, c.url+"/timeline?action=request&start=-1"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "(start)") {
		t.Errorf("start=-1: %s, want 400 naming start:\n%s", resp.Status, page)
	}
}

// TestConsoleTimelineEndsAtItsLimit: a period whose entries end exactly
// at the console's limit offers no next part, which would show "No entry
// matches": neither when the last entry read is the period's last match
// (action=request, the limit the number of requests), nor when what
// follows it are only entries the page leaves out (the console's own
// reads, audit_read, after the last exchange, with the default filter of
// exchanges only). It says exactly how many entries match, not "at
// least".
func TestConsoleTimelineEndsAtItsLimit(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	resp, err := liaisonv1.NewAuditClient(f.conn(t, dkAuditor)).Query(context.Background(), &liaisonv1.QueryRequest{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	requests, upToLastExchange, exchanges, deniedDisclosures := 0, 0, 0, 0
	for i, le := range resp.GetEntries() {
		e, err := audit.Unmarshal([]byte(le.GetJson()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Action == "disclose" && e.Outcome == audit.OutcomeDeny {
			deniedDisclosures++
		}
		switch e.Action {
		case "request":
			requests++
			fallthrough
		case "disclose":
			exchanges++
			upToLastExchange = i + 1
		}
	}
	if deniedDisclosures != 1 {
		t.Fatalf("the traffic has %d disclosures denied, want the one the case of one entry filters", deniedDisclosures)
	}
	for _, tc := range []struct {
		name, u string
		most    int
		matches int
	}{
		{"the requests, as many as the limit", "/timeline?action=request", requests, requests},
		{"the exchanges, then only the console's reads", "/timeline", upToLastExchange, exchanges},
		// One entry is "1 entry matches", never "1 entries match".
		{"the one disclosure denied", "/timeline?action=disclose&outcome=deny", 1000, deniedDisclosures},
	} {
		c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.MaxEntries = tc.most })
		resp, page := get(t, c.client(t), c.url+tc.u)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET %s = %s\n%s", tc.name, tc.u, resp.Status, page)
		}
		if strings.Contains(page, `id="next-part"`) || strings.Contains(page, "stopped reading") {
			t.Errorf("%s: the period ends at the limit of %d entries, but the page offers a next part", tc.name, tc.most)
		}
		want := fmt.Sprintf("<strong>%d</strong> entries match", tc.matches)
		if tc.matches == 1 {
			want = "<strong>1</strong> entry matches"
		}
		if !strings.Contains(page, want) {
			t.Errorf("%s: the page does not say %q", tc.name, want)
		}
	}
}

// TestConsoleNoticesPages: a console that reads at most one notice of a
// list shows each list a part at a time: a link reads on from the entry
// after the last notice listed (required_from, obligations_from) until
// every notice has been shown, and the other list stays where it was.
func TestConsoleNoticesPages(t *testing.T) {
	f := startGateway(t)
	m := f.aftercare(t, f.traffic(t))
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.MaxEntries = 1 })
	hc := c.client(t)
	rowRE := regexp.MustCompile(`<tr data-entry="(\d+)"`)
	nextRE := regexp.MustCompile(`<a href="(/notices\?[^"]*)" id="required-next"`)
	var got []int64
	u := "/notices"
	for parts := 1; u != ""; parts++ {
		if parts > 5 {
			t.Fatalf("the required notices' parts do not move on (%s)", u)
		}
		resp, page := get(t, hc, c.url+html.UnescapeString(u))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %s\n%s", u, resp.Status, page)
		}
		req, _, _ := strings.Cut(page[strings.Index(page, `id="required-h"`):], `id="obligations-h"`)
		for _, x := range rowRE.FindAllStringSubmatch(req, -1) {
			n, _ := strconv.ParseInt(x[1], 10, 64)
			got = append(got, n)
		}
		if parts > 1 && !strings.Contains(page, `id="required-first"`) {
			t.Errorf("part %d of the required notices does not link to the oldest", parts)
		}
		if !strings.Contains(page, fmt.Sprintf(`data-entry="%d"`, m.correction.GetAuditIndex())) {
			t.Errorf("part %d (%s) no longer lists the correction", parts, u)
		}
		u = ""
		if x := nextRE.FindStringSubmatch(page); x != nil {
			u = x[1]
		}
	}
	if want := []int64{m.late.GetAuditIndex(), m.inTime.GetAuditIndex()}; !slices.Equal(got, want) {
		t.Errorf("the parts list the required notices %v, want %v", got, want)
	}
	if resp, page := get(t, hc, c.url+"/notices?obligations_from=x"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "obligations_from") {
		t.Errorf("obligations_from=x: %s, want 400 naming it", resp.Status)
	}
}

// TestConsoleWithdrawnLatePages: with the late filter, a console that
// reads at most one notice of a list shows the required notices closed
// unacknowledged after their deadline a part at a time too: the part
// links to the next (withdrawn_from, the entry after the last late
// notice read), which lists the other and links back to the oldest.
// Before, it only said to narrow the list by recipient.
func TestConsoleWithdrawnLatePages(t *testing.T) {
	f := startGateway(t)
	m := f.aftercare(t, f.traffic(t))
	later := f.notifyRelease(t, time.Now().UTC().AddDate(0, 0, -5))
	wr, err := liaisonv1.NewAftercareClient(f.conn(t, dkPrison)).Withdraw(context.Background(), &liaisonv1.WithdrawRequest{
		SubjectId: "SYN-DK-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, Withdraws: []int64{m.late.GetAuditIndex(), later.GetAuditIndex()},
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Obligation: liaisonv1.Obligation_OBLIGATION_ERASE,
		Justification: "The release notices named the wrong person.",
	})
	if err != nil || len(wr.GetResults()) != 2 {
		t.Fatalf("Withdraw = %v, %v; want two withdrawals", wr, err)
	}
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.MaxEntries = 1 })
	hc := c.client(t)
	rowRE := regexp.MustCompile(`<tr data-entry="(\d+)" class="late">`)
	nextRE := regexp.MustCompile(`<a href="(/notices\?[^"]*)" id="withdrawn-next"`)
	var got []int64
	u := "/notices?late=1"
	for parts := 1; u != ""; parts++ {
		if parts > 5 {
			t.Fatalf("the parts of the late notices closed unacknowledged do not move on (%s)", u)
		}
		resp, page := get(t, hc, c.url+html.UnescapeString(u))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %s\n%s", u, resp.Status, page)
		}
		i := strings.Index(page, `id="withdrawn-h"`)
		if i < 0 {
			t.Fatalf("part %d (%s) has no list of late notices closed unacknowledged:\n%s", parts, u, page)
		}
		part, _, _ := strings.Cut(page[i:], `</section>`)
		for _, x := range rowRE.FindAllStringSubmatch(part, -1) {
			n, _ := strconv.ParseInt(x[1], 10, 64)
			got = append(got, n)
		}
		if parts > 1 && !strings.Contains(part, `id="withdrawn-first"`) {
			t.Errorf("part %d of the late notices closed unacknowledged does not link to the oldest", parts)
		}
		u = ""
		if x := nextRE.FindStringSubmatch(part); x != nil {
			u = x[1]
			if !strings.Contains(u, "late=1") {
				t.Errorf("the next part's address %q leaves the late filter out", u)
			}
		}
	}
	if want := []int64{m.late.GetAuditIndex(), later.GetAuditIndex()}; !slices.Equal(got, want) {
		t.Errorf("the parts list the late notices closed unacknowledged %v, want %v", got, want)
	}
	if resp, page := get(t, hc, c.url+"/notices?late=1&withdrawn_from=x"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "withdrawn_from") {
		t.Errorf("withdrawn_from=x: %s, want 400 naming it", resp.Status)
	}
}

// TestConsoleImpactPages: a console that reads at most 3 entries a
// request replays a period part by part: a report that stopped at the
// limit offers to replay the next part (start, the entry after the last it
// read), and the parts together replay and flip what one reading of the
// whole period does.
func TestConsoleImpactPages(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	cand := filepath.Join(t.TempDir(), "candidate")
	writeCandidate(t, cand)
	summaryRE := regexp.MustCompile(`(\d+) decisions? replayed: (\d+) flips?`)
	startRE := regexp.MustCompile(`<input type="hidden" name="start" value="(\d+)">`)
	impact := func(c *consoleUnderTest, hc *http.Client, start string) (replayed, flips int, next string) {
		t.Helper()
		_, page := get(t, hc, c.url+"/impact")
		form := url.Values{"csrf": {csrfOf(t, page)}, "candidate": {cand}}
		if start != "" {
			form.Set("start", start)
		}
		resp, body := post(t, hc, c.url+"/impact", form, nil)
		m := summaryRE.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("impact from %q = %s:\n%s", start, resp.Status, body)
		}
		replayed, _ = strconv.Atoi(m[1])
		flips, _ = strconv.Atoi(m[2])
		if n := startRE.FindStringSubmatch(body); n != nil {
			next = n[1]
			if n[1] == start {
				t.Fatalf("the part from %s offers to replay on from %s again", start, n[1])
			}
		}
		return replayed, flips, next
	}
	whole := startConsole(t, f, dkAuditor, nil)
	wantReplayed, wantFlips, next := impact(whole, whole.client(t), "")
	if next != "" || wantFlips == 0 {
		t.Fatalf("read whole, the impact offers a next part (%q) or flips nothing (%d)", next, wantFlips)
	}
	c := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.MaxEntries = 3 })
	hc := c.client(t)
	var replayed, flips, parts int
	for start := ""; parts == 0 || start != ""; parts++ {
		if parts > 50 {
			t.Fatal("the impact's parts do not come to an end")
		}
		r, fl, n := impact(c, hc, start)
		replayed, flips, start = replayed+r, flips+fl, n
	}
	if parts < 2 || replayed != wantReplayed || flips != wantFlips {
		t.Errorf("in %d parts the impact replayed %d and flipped %d; read whole, %d and %d", parts, replayed, flips, wantReplayed, wantFlips)
	}
	_, page := get(t, hc, c.url+"/impact")
	if resp, body := post(t, hc, c.url+"/impact", url.Values{"csrf": {csrfOf(t, page)}, "candidate": {cand}, "start": {"-2"}}, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "(start)") {
		t.Errorf("start -2: %s, want 400 naming start", resp.Status)
	}
}

// TestConsoleGatewayRefusesInput: input the gateway refuses as invalid
// (a person's identifier too long to be one, a jurisdiction with no pack)
// is the officer's to correct: the page says so, naming the field, with
// 400, not 502 as if the gateway had failed.
func TestConsoleGatewayRefusesInput(t *testing.T) {
	f := startGateway(t)
	c := startConsole(t, f, dkAuditor, nil)
	hc := c.client(t)
	_, page := get(t, hc, c.url+"/report")
	rr, _ := post(t, hc, c.url+"/report", url.Values{"csrf": {csrfOf(t, page)}, "subject": {strings.Repeat("X", 200)}}, nil)
	if rr.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /report = %s", rr.Status)
	}
	if resp, body := get(t, hc, c.url+rr.Header.Get("Location")); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "subject_id: must be") {
		t.Errorf("the report of a 200-character identifier = %s, want 400 naming subject_id:\n%s", resp.Status, body)
	}
	if resp, body := get(t, hc, c.url+"/readiness?jurisdiction=XX"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "jurisdiction: has no pack") {
		t.Errorf("the readiness of jurisdiction XX = %s, want 400 naming the jurisdiction:\n%s", resp.Status, body)
	}
}

// fakeLog serves Audit.Query from leaves, a page at a time from start,
// and counts the calls; the console's timeline calls nothing else.
type fakeLog struct {
	liaisonv1.AuditClient
	leaves [][]byte
	calls  atomic.Int32
}

func (l *fakeLog) Query(_ context.Context, req *liaisonv1.QueryRequest, _ ...grpc.CallOption) (*liaisonv1.QueryResponse, error) {
	l.calls.Add(1)
	resp := &liaisonv1.QueryResponse{}
	for i := req.GetStart(); i < int64(len(l.leaves)) && len(resp.Entries) < int(req.GetLimit()); i++ {
		resp.Entries = append(resp.Entries, &liaisonv1.AuditEntry{Index: i, Json: string(l.leaves[i])})
	}
	return resp, nil
}

// TestConsoleTimelineLooksAThousandOn: past its limit the timeline looks
// for an entry its page would list up to 1,000 entries on, as the README
// says, and after 1,000 it leaves out offers the next part from the entry
// after them, also where its limit falls inside a page of the gateway's
// (it looked on to the end of the next page: up to 1,999 entries).
func TestConsoleTimelineLooksAThousandOn(t *testing.T) {
	at := time.Now().UTC().Add(-time.Hour)
	leaf := func(action string) []byte {
		e := &audit.Entry{Time: at, Action: action, Outcome: audit.OutcomeOK,
			Requester: &audit.Requester{Agency: "dk-prison-east", Officer: "dpo.kristensen"}}
		if action == "request" {
			e.Outcome, e.Reasons = audit.OutcomeDeny, []string{"NO_LEGAL_BASIS"}
		}
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// 1,500 requests, the console's limit, which falls inside the
	// gateway's second page; 2,500 of the gateway's own reads, which the
	// timeline leaves out; a request.
	log := &fakeLog{}
	for i := range 4001 {
		action := "audit_read"
		if i < 1500 || i == 4000 {
			action = "request"
		}
		log.leaves = append(log.leaves, leaf(action))
	}
	_, vkey, err := note.GenerateKey(rand.Reader, "test.liaison")
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := console.New(console.Config{Audit: log, Policy: struct{ liaisonv1.PolicyClient }{}, Verifier: v, VerifierKey: vkey,
		State: filepath.Join(t.TempDir(), "trusted"), Hosts: []string{lis.Addr().String()}, MaxEntries: 1500,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(lis)
	t.Cleanup(func() { hs.Close() })
	c := &consoleUnderTest{srv: srv, url: "http://" + lis.Addr().String()}
	resp, page := get(t, c.client(t), c.url+"/timeline")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /timeline = %s\n%s", resp.Status, page)
	}
	if !strings.Contains(page, "The next part, from entry #2500 on") {
		m := regexp.MustCompile(`The next part, from entry #\d+ on`).FindString(page)
		t.Errorf("the next part after 1,500 entries read and 1,000 left out is %q, want from entry #2500", m)
	}
	if n := log.calls.Load(); n != 3 {
		t.Errorf("the timeline made %d calls for 2,500 entries, want 3", n)
	}
}

// TestConsoleOverviewRefused: for an officer without the auditor role the
// gateway refuses the checkpoint; the overview says it refused, as it
// did, and not that the gateway could not be asked (it was, and answered).
func TestConsoleOverviewRefused(t *testing.T) {
	f := startGateway(t)
	legal := officer{"dk-prison-east", "jur.holm", []string{"legal_officer"}, "confidential"}
	c := startConsole(t, f, legal, nil)
	resp, page := get(t, c.client(t), c.url+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("overview = %s", resp.Status)
	}
	if strings.Contains(page, "could not be asked") || !strings.Contains(page, "The gateway refused to show you the log") ||
		!strings.Contains(page, "ask for the role this page needs") {
		t.Errorf("the overview of an officer without the auditor role does not say the gateway refused:\n%s", page)
	}
}

// TestConsoleNotFoundKeepsTheSession: a signed-in page asked for what does
// not exist (an entry past the log's end, an index that is not one, a
// report file an exercise does not have) says so within the session: its
// sections and sign out. It showed a bare page, with no way on but the
// browser's address bar.
func TestConsoleNotFoundKeepsTheSession(t *testing.T) {
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	f.waitCheckpoint(t, c.ac)
	hc := c.client(t)
	for _, path := range []string{"/entry/999999", "/entry/x", "/exercises/any/report.txt"} {
		resp, page := get(t, hc, c.url+path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s = %s, want 404", path, resp.Status)
		}
		if !strings.Contains(page, `aria-label="Console sections"`) || !strings.Contains(page, `action="/logout"`) {
			t.Errorf("%s: the page has no sections or sign out:\n%s", path, page)
		}
	}
}

// TestConsoleReportSaysWhyInWords: the access report's corrections and
// withdrawals gave their reason as the code the log holds ("reason:
// CORRECTED", "reason: INCORRECT"), where liaison audit report says it in
// words; the report is for a data subject, printed by a legal officer. It
// gives the words, the code after them.
func TestConsoleReportSaysWhyInWords(t *testing.T) {
	f := startGateway(t)
	m := f.aftercare(t, f.traffic(t))
	if _, err := liaisonv1.NewAftercareClient(f.conn(t, dkPrison)).Withdraw(context.Background(), &liaisonv1.WithdrawRequest{
		SubjectId: "SYN-DK-0001", RecordType: liaisonv1.RecordType_RECORD_TYPE_RELEASE_NOTICE, Withdraws: []int64{m.late.GetAuditIndex()},
		Reason: liaisonv1.WithdrawalReason_WITHDRAWAL_REASON_INCORRECT, Obligation: liaisonv1.Obligation_OBLIGATION_ERASE,
		Justification: "The release notice named the wrong person.",
	}); err != nil {
		t.Fatal(err)
	}
	c := startConsole(t, f, dkAuditor, nil)
	hc := c.client(t)
	_, page := get(t, hc, c.url+"/report")
	rr, _ := post(t, hc, c.url+"/report", url.Values{"csrf": {csrfOf(t, page)}, "subject": {"SYN-DK-0001"}}, nil)
	if rr.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /report = %s", rr.Status)
	}
	resp, body := get(t, hc, c.url+rr.Header.Get("Location"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the report = %s", resp.Status)
	}
	for _, want := range []string{"why: the record was corrected (CORRECTED)", "why: it was incorrect (INCORRECT)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	if strings.Contains(body, "reason: ") {
		t.Errorf("the report gives a notice's reason as a code:\n%s", body)
	}
	if want := "The corrections, withdrawals and expiry notices sent to the recipients"; !strings.Contains(body, want) {
		t.Errorf("the report's notes do not say %q, though it lists expiry notices:\n%s", want, body)
	}
	// Every reason code a withdrawal or expiry notice is sent with has its
	// words, as liaison audit report gives them: SOURCE_WITHDRAWN and
	// ENTITLEMENT_NARROWED, withdrawals the gateway sends instead of a
	// correction, were shown as bare codes.
	for _, code := range []string{"CORRECTED", "INCORRECT", "UNLAWFULLY_TRANSMITTED", "ERASED_AT_SOURCE", "CORRECTION_NOT_ALLOWED",
		"ENTITLEMENT_NARROWED", "SOURCE_WITHDRAWN", "LEGAL_BASIS_EXPIRED"} {
		if got := console.NoticeReason(code); got == code || !strings.HasSuffix(got, " ("+code+")") {
			t.Errorf("the reason %s is given as %q, not in words with the code after them", code, got)
		}
	}
}

// TestConsoleTimelineShowsCorrectionsAndWithdrawals: the Danish prison
// corrects a release and withdraws another; the timeline as it opens
// (no action chosen: the exchanges between agencies) lists both, as the
// process over time they are part of. Before, its default list held only
// disclose, request, notify, match, translate and reidentify: a
// correction or withdrawal showed only under "everything" or by name.
func TestConsoleTimelineShowsCorrectionsAndWithdrawals(t *testing.T) {
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
	c := startConsole(t, f, dkAuditor, nil)
	resp, page := get(t, c.client(t), c.url+"/timeline")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /timeline = %s\n%s", resp.Status, page)
	}
	for what, idx := range map[string]int64{"correction": m.correction.GetAuditIndex(), "withdrawal": wr.GetResults()[0].GetAuditIndex()} {
		if !strings.Contains(page, fmt.Sprintf(`<a href="/entry/%d" aria-label="Entry %d">`, idx, idx)) {
			t.Errorf("the timeline's default list leaves out the %s (entry %d)", what, idx)
		}
	}
}

// TestConsoleTimesInAZone: a console given a time zone (liaison console
// -tz) shows an auditor the times and days of that zone and reads a
// period's dates in it. Before, the console knew UTC alone: an entry at
// 23:30 UTC was on the day before for an auditor in Copenhagen, and a
// period of one local day missed it.
func TestConsoleTimesInAZone(t *testing.T) {
	f := startGateway(t)
	traffic := f.traffic(t)
	var ex exchange
	for _, e := range traffic {
		if e.index >= 0 {
			ex = e
			break
		}
	}
	if ex.index < 0 {
		t.Fatal("the traffic released nothing")
	}
	// A zone fourteen hours ahead, or eleven behind: either way the
	// entry's day there is not its day in UTC.
	zone := "Pacific/Kiritimati"
	if ex.day.UTC().Hour() < 10 {
		zone = "Pacific/Pago_Pago"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	local, utc := ex.day.In(loc), ex.day.UTC()
	day := local.Format(time.DateOnly)
	if day == utc.Format(time.DateOnly) {
		t.Fatalf("entry %d at %s is on the same day in %s", ex.index, utc, zone)
	}
	period := "/timeline?action=all&from=" + day + "&to=" + day
	zoned := startConsole(t, f, dkAuditor, func(cfg *console.Config) { cfg.Location = loc })
	resp, page := get(t, zoned.client(t), zoned.url+period)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %s\n%s", period, resp.Status, page)
	}
	for _, want := range []string{
		"<td class=\"nowrap\">" + local.Format(time.DateTime) + "</td>", // the entry, at its time there
		`<th scope="col">Time (` + zone + `)</th>`,
		`<th scope="row">` + day + `</th>`, // the chart's day
		"Times are " + zone + ".",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the timeline in %s of %s does not show %q:\n%s", zone, day, want, page)
		}
	}
	// The same period in UTC is another day: the entry is not in it.
	plain := startConsole(t, f, dkAuditor, nil)
	_, page = get(t, plain.client(t), plain.url+period)
	if strings.Contains(page, utc.Format(time.DateTime)) || strings.Contains(page, local.Format(time.DateTime)) {
		t.Errorf("the timeline in UTC of %s shows entry %d, of %s", day, ex.index, utc.Format(time.DateOnly))
	}
	if !strings.Contains(page, "Times are UTC.") {
		t.Errorf("the timeline in UTC does not say so")
	}
}
