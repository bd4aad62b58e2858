package console_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleUnknownAddress: an address the console has no page at
// (/nope, /timeline/x, a file the style sheet's folder does not have)
// was answered by Go's plain-text "404 page not found", and a known
// address asked with another method by "Method Not Allowed": pages of no
// style, with no way back. They are now the console's own pages: 404 "No
// such page" (405 "Method not allowed" with an Allow header), within the
// session (its sections and sign out) for a signed-in browser, with a
// link to the overview otherwise.
func TestConsoleUnknownAddress(t *testing.T) {
	f := startGateway(t)
	c := startConsole(t, f, dkAuditor, nil)
	hc := c.client(t)
	styled := func(what string, resp *http.Response, page string, code int, heading string) {
		t.Helper()
		if resp.StatusCode != code || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s = %s %s, want %d text/html", what, resp.Status, resp.Header.Get("Content-Type"), code)
		}
		if !strings.Contains(page, `<link rel="stylesheet" href="/static/console.css">`) || !strings.Contains(page, "<h1>"+heading+"</h1>") {
			t.Errorf("%s: not the console's page %q:\n%s", what, heading, page)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no security headers", what)
		}
	}
	for _, path := range []string{"/nope", "/timeline/x", "/entry/", "/static/nope.css", "/static/", "/login/x"} {
		resp, page := get(t, hc, c.url+path)
		styled("signed in, GET "+path, resp, page, http.StatusNotFound, "No such page")
		if !strings.Contains(page, `aria-label="Console sections"`) || !strings.Contains(page, `action="/logout"`) {
			t.Errorf("signed in, GET %s: the page has no sections or sign out:\n%s", path, page)
		}
		resp, page = get(t, http.DefaultClient, c.url+path)
		styled("not signed in, GET "+path, resp, page, http.StatusNotFound, "No such page")
		if !strings.Contains(page, `id="home"`) || strings.Contains(page, `action="/logout"`) {
			t.Errorf("not signed in, GET %s: want a link to the overview and no session:\n%s", path, page)
		}
	}
	for _, tt := range []struct{ method, path, allow string }{
		{http.MethodPut, "/timeline", "GET, HEAD, POST"},
		{http.MethodPost, "/entry/3", "GET, HEAD"},
		{http.MethodDelete, "/", "GET, HEAD"},
	} {
		req, _ := http.NewRequest(tt.method, c.url+tt.path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		styled(tt.method+" "+tt.path, resp, string(b), http.StatusMethodNotAllowed, "Method not allowed")
		if got := resp.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
	// The style sheet itself is still served.
	if resp, css := get(t, hc, c.url+"/static/console.css"); resp.StatusCode != http.StatusOK || !strings.Contains(css, "{") {
		t.Errorf("/static/console.css = %s", resp.Status)
	}
}

// TestBrowserUnknownAddress: in the browser, an unknown address shows the
// console's page, which passes the checks every page gets, and its link
// leads to the overview.
func TestBrowserUnknownAddress(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)
	do(t, ctx, "open an unknown address", chromedp.Navigate(c.url+"/no/such/page"))
	// Evaluated, not waited for: Go's plain-text answer has no heading.
	if h := run(t, ctx, "the heading", chromedp.Evaluate[string](`(document.querySelector("h1") || document.body).textContent.trim()`)); h != "No such page" {
		t.Fatalf("the unknown address shows %q, want No such page", h)
	}
	if n := run(t, ctx, "the sections", chromedp.Evaluate[int](`document.querySelectorAll('nav.sections a').length`)); n == 0 {
		t.Errorf("the signed-in officer's page for an unknown address has no sections")
	}
	styled := run(t, ctx, "the style sheet", chromedp.Evaluate[bool](`Array.from(document.styleSheets).some(s => s.href && s.href.endsWith("/static/console.css") && s.cssRules.length > 0)`))
	if !styled {
		t.Errorf("the page for an unknown address is not styled by the console's style sheet")
	}
	check(t, ctx, "the page for an unknown address")
	submit(t, ctx, "follow the overview link", chromedp.Click(chromedp.CSS(`nav.sections a[href="/"]`)))
	if h := text(t, ctx, "h1"); h != "Overview" {
		t.Errorf("the overview link opens %q", h)
	}
}
