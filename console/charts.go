package console

import (
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// Charts are SVG drawn here, on the server, so that they need neither a
// script nor a network. Each has a title and a description for screen
// readers, a <title> on every bar (a tooltip), a legend in text, and the
// same numbers as a table beside it.

// outcomeColours are the fills of the outcomes, chosen for at least 3:1
// contrast with the white page (WCAG 1.4.11); refusals are the warm ones.
var outcomeColours = map[string]string{
	audit.OutcomeDisclose:     "#1a7f37",
	audit.OutcomePseudonymise: "#0b5cad",
	audit.OutcomeHitOnly:      "#6f42c1",
	audit.OutcomeDeny:         "#b42318",
	audit.OutcomeRefused:      "#c2410c",
	audit.OutcomeFailed:       "#57606a",
	audit.OutcomeNotFound:     "#8a6116",
	audit.OutcomeOK:           "#3b4a55",
	audit.OutcomePending:      "#9a6700",
}

func colour(outcome string) string {
	if c, ok := outcomeColours[outcome]; ok {
		return c
	}
	return "#3b4a55"
}

// A series is one bar (a day, an agency pair, a legal basis) with its
// count per outcome.
type series struct {
	Label  string
	Counts map[string]int
}

func (s series) total() int {
	n := 0
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// chartTable is a chart's numbers as a table: one row per bar, one
// column per outcome present.
type chartTable struct {
	Caption  string
	RowHead  string
	Outcomes []string
	Rows     []chartRow
}

type chartRow struct {
	Label  string
	Counts []int
	Total  int
}

// A chart is an SVG figure and its table.
type chart struct {
	ID    string
	Title string
	SVG   template.HTML
	Table chartTable
}

// presentOutcomes returns the outcomes that occur in ss, in the order of
// audit.Outcomes.
func presentOutcomes(ss []series) []string {
	var out []string
	for _, o := range audit.Outcomes {
		for _, s := range ss {
			if s.Counts[o] > 0 {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

func tableOf(caption, rowHead string, ss []series) chartTable {
	t := chartTable{Caption: caption, RowHead: rowHead, Outcomes: presentOutcomes(ss)}
	for _, s := range ss {
		r := chartRow{Label: s.Label, Total: s.total()}
		for _, o := range t.Outcomes {
			r.Counts = append(r.Counts, s.Counts[o])
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// niceMax rounds n up to a round number for an axis, and returns the step
// of its grid lines.
func niceMax(n int) (top, step int) {
	if n <= 0 {
		return 1, 1
	}
	for _, s := range []int{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000} {
		if n <= 5*s {
			return ((n + s - 1) / s) * s, s
		}
	}
	return n, n
}

func esc(s string) string { return html.EscapeString(s) }

// describe sums up a chart for a screen reader: "12 entries over 3 days",
// "1 entry over 1 day" (one, many: the series' unit).
func describe(ss []series, one, many string) string {
	total := 0
	best := series{}
	for _, s := range ss {
		total += s.total()
		if s.total() > best.total() {
			best = s
		}
	}
	if total == 0 {
		return "No entries."
	}
	return fmt.Sprintf("%s over %s; the most, %d, for %s.", nOf(total, "entry", "entries"), nOf(len(ss), one, many), best.total(), best.Label)
}

// nOf writes n of a noun: "1 entry", "16 entries".
func nOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// legend draws the legend of the outcomes in ss at y, wrapping at width.
func legend(b *strings.Builder, outcomes []string, y, width int) int {
	x := 0
	for _, o := range outcomes {
		w := 24 + 8*len(o)
		if x+w > width {
			x = 0
			y += 22
		}
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="14" height="14" fill="%s"/><text x="%d" y="%d" class="legend">%s</text>`,
			x, y, colour(o), x+19, y+12, esc(o))
		x += w + 16
	}
	return y + 22
}

// columnChart draws stacked columns, one per series (days, weeks or
// months: unit).
func columnChart(id, title, unit string, ss []series) chart {
	const width, left, top, plotH = 760, 44, 10, 200
	outcomes := presentOutcomes(ss)
	maxTotal := 0
	for _, s := range ss {
		maxTotal = max(maxTotal, s.total())
	}
	ymax, step := niceMax(maxTotal)
	n := max(len(ss), 1)
	plotW := width - left - 6
	slot := float64(plotW) / float64(n)
	barW := max(slot*0.7, 1)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d VIEWBOXH" role="img" aria-labelledby="%s-t %s-d" class="chart">`, width, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(title), id, esc(describe(ss, unit, unit+"s")))
	for v := 0; v <= ymax; v += step {
		y := top + plotH - v*plotH/ymax
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="grid"/><text x="%d" y="%d" class="axis" text-anchor="end">%d</text>`,
			left, y, width-6, y, left-6, y+4, v)
	}
	every := max(1, (n+11)/12) // at most about 12 date labels
	for i, s := range ss {
		x := float64(left) + slot*float64(i) + (slot-barW)/2
		y := top + plotH
		for _, o := range outcomes {
			c := s.Counts[o]
			if c == 0 {
				continue
			}
			h := c * plotH / ymax
			y -= h
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %d %s</title></rect>`,
				x, y, barW, h, colour(o), esc(s.Label), c, esc(o))
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="axis" text-anchor="middle">%s</text>`, x+barW/2, top+plotH+16, esc(shortDay(s.Label)))
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="base"/>`, left, top+plotH, width-6, top+plotH)
	end := legend(&b, outcomes, top+plotH+30, width)
	out := strings.Replace(b.String(), "VIEWBOXH", fmt.Sprint(end+4), 1)
	return chart{ID: id, Title: title, SVG: template.HTML(out + "</svg>"), Table: tableOf(title, strings.ToUpper(unit[:1])+unit[1:], ss)}
}

// shortDay turns 2026-11-03 into 11-03.
func shortDay(d string) string {
	if len(d) == 10 {
		return d[5:]
	}
	return d
}

// barChart draws stacked horizontal bars, one per series, largest first.
func barChart(id, title, rowHead, one, many string, ss []series) chart {
	ss = slices.Clone(ss)
	slices.SortStableFunc(ss, func(a, b series) int { return b.total() - a.total() })
	const width, labelW, rowH = 760, 300, 26
	outcomes := presentOutcomes(ss)
	maxTotal := 0
	for _, s := range ss {
		maxTotal = max(maxTotal, s.total())
	}
	plotW := width - labelW - 50
	var b strings.Builder
	height := len(ss)*rowH + 10
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d VIEWBOXH" role="img" aria-labelledby="%s-t %s-d" class="chart">`, width, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(title), id, esc(describe(ss, one, many)))
	for i, s := range ss {
		y := 4 + i*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="end">%s</text>`, labelW-8, y+15, esc(truncate(s.Label, 40)))
		x := float64(labelW)
		for _, o := range outcomes {
			c := s.Counts[o]
			if c == 0 {
				continue
			}
			w := float64(c) * float64(plotW) / float64(max(maxTotal, 1))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="18" fill="%s"><title>%s: %d %s</title></rect>`,
				x, y+2, w, colour(o), esc(s.Label), c, esc(o))
			x += w
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="axis">%d</text>`, x+6, y+15, s.total())
	}
	end := legend(&b, outcomes, height+6, width)
	out := strings.Replace(b.String(), "VIEWBOXH", fmt.Sprint(end+4), 1)
	return chart{ID: id, Title: title, SVG: template.HTML(out + "</svg>"), Table: tableOf(title, rowHead, ss)}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
