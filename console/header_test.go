package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/liaison-gateway/liaison/console"
)

// TestBrowserLongOfficerReflows: an officer whose id is long and has no
// space to break at (a pairwise subject identifier of the agency's
// identity provider: 64 hexadecimal digits and a domain, well within the
// gateway's 256 characters), reaching a gateway by a long host name, gets
// pages that still reflow at 200 % zoom, as the README says every page
// does. The header's "Signed in as" line could not wrap inside the id, so
// every page scrolled sideways by hundreds of pixels.
func TestBrowserLongOfficerReflows(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	f.traffic(t)
	long := dkAuditor
	long.id = strings.Repeat("3f9c2a1e7b4d4e8a", 4) + "@idp.kriminalforsorgen.example.dk"
	c := startConsole(t, f, long, func(cfg *console.Config) {
		cfg.Gateway = "liaison-gateway.kriminalforsorgen-oest.justitsministeriet.example.dk:8443"
	})
	login(t, ctx, c)
	if got := text(t, ctx, "header.top .who"); !strings.Contains(got, long.id) || !strings.Contains(got, "justitsministeriet") {
		t.Fatalf("the header says %q, without the officer's id and the gateway's address", got)
	}
	for _, p := range []string{"/", "/timeline", "/exercises"} {
		do(t, ctx, p, chromedp.Navigate(c.url+p))
		reflows(t, ctx, p+" of an officer with a long id")
	}
}

// TestBrowserLongPathReflows: a candidate policy named by a long path
// with no space or hyphen to break at (folders named with underscores, as
// many are) leaves the impact page and the exercise's comparison
// reflowing at 200 % zoom: the impact report names the candidate's
// source, and a candidate that cannot be read is named in the error. Both
// were text that could not wrap, and the page scrolled sideways by some
// 500 pixels.
func TestBrowserLongPathReflows(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cand := filepath.Join(wd, "policy_work", "candidates", "dk_retention_window_for_the_police_review_of_december_2026_second_draft")
	writeCandidate(t, cand)
	for _, tt := range []struct{ page, field, button, candidate, want string }{
		{"/impact", "i-candidate", "replay", cand, "#impact-summary"},
		{"/impact", "i-candidate", "replay", cand + "_not_there", "#impact-error"},
		{"/exercises/dk-release", "x-candidate", "compare", cand + "_not_there", "#compare-error"},
	} {
		do(t, ctx, tt.page, chromedp.Navigate(c.url+tt.page))
		do(t, ctx, "name the candidate", chromedp.SendKeys(chromedp.ID(tt.field), tt.candidate))
		submit(t, ctx, "submit", chromedp.Click(chromedp.ID(tt.button)))
		if got := text(t, ctx, tt.want); got == "" {
			t.Errorf("%s with %s: %s is empty", tt.page, tt.candidate, tt.want)
		}
		reflows(t, ctx, tt.page+" naming "+filepath.Base(tt.candidate))
	}
}
