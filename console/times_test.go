package console_test

import (
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserTimesWrittenOneWay: the overview and the impact page write
// every time as the other pages do, "2026-12-05 17:06:13 UTC". The
// overview gave the active policy's activation as the gateway sends it,
// "2026-12-05T17:06:13Z", a few lines under "Checked 2026-12-05 17:06:13
// UTC", and the impact page each example's time the same raw way.
func TestBrowserTimesWrittenOneWay(t *testing.T) {
	ctx := tab(t)
	f := startGateway(t)
	f.traffic(t)
	c := startConsole(t, f, dkAuditor, nil)
	login(t, ctx, c)
	raw := regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}`)
	written := regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC$`)

	since := run(t, ctx, "active since", chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll("dt")).find(d => d.textContent === "Active since").nextElementSibling.textContent`))
	if !written.MatchString(since) {
		t.Errorf("the overview says the policy is active since %q, want a time written as 2026-12-05 17:06:13 UTC", since)
	}
	if body := text(t, ctx, "main"); raw.MatchString(body) {
		t.Errorf("the overview writes a time as %q", raw.FindString(body))
	}

	writeCandidate(t, "candidate")
	do(t, ctx, "impact", chromedp.Navigate(c.url+"/impact"))
	do(t, ctx, "name the candidate", chromedp.SendKeys(chromedp.ID("i-candidate"), "candidate"))
	submit(t, ctx, "replay", chromedp.Click(chromedp.ID("replay")))
	examples := run(t, ctx, "examples", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".examples-list li")).map(li => li.textContent)`))
	if len(examples) == 0 {
		t.Fatal("the impact page lists no example")
	}
	for _, e := range examples {
		if raw.MatchString(e) {
			t.Errorf("the impact page's example %q writes its time as %q", e, raw.FindString(e))
		}
	}
}
