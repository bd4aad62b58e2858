package console_test

import (
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
