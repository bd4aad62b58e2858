package console

import (
	"strings"
	"testing"
	"time"
)

// TestChartsEscape: labels come from the log (agency ids, legal bases), so
// the SVG drawn by hand must escape them.
func TestChartsEscape(t *testing.T) {
	evil := `<script>alert("x")</script>&`
	for _, c := range []chart{
		columnChart("c", evil, "day", []series{{Label: evil, Counts: map[string]int{"deny": 2}}}),
		barChart("b", evil, "Legal basis", "legal basis", "legal bases", []series{{Label: evil, Counts: map[string]int{"disclose": 1, "deny": 3}}}),
	} {
		svg := string(c.SVG)
		if strings.Contains(svg, "<script") || !strings.Contains(svg, "&lt;script&gt;") {
			t.Errorf("chart %s does not escape its labels:\n%s", c.ID, svg)
		}
		if !strings.HasPrefix(svg, "<svg") || !strings.HasSuffix(svg, "</svg>") || strings.Contains(svg, "VIEWBOXH") {
			t.Errorf("chart %s is not one finished SVG element:\n%s", c.ID, svg)
		}
	}
	b := barChart("b", "t", "Legal basis", "legal basis", "legal bases", []series{{Label: "a", Counts: map[string]int{"disclose": 1}}, {Label: "b", Counts: map[string]int{"deny": 3, "refused": 1}}})
	if got := b.Table.Outcomes; strings.Join(got, ",") != "disclose,deny,refused" {
		t.Errorf("table outcomes = %v, want the outcomes present, in the log's order", got)
	}
	if b.Table.Rows[0].Label != "b" || b.Table.Rows[0].Total != 4 {
		t.Errorf("bar rows = %+v, want the largest first", b.Table.Rows)
	}
}

func TestBuckets(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tt := range []struct {
		from, to, at, unit, want string
	}{
		{"2026-11-01", "2026-12-01", "2026-11-18", "day", "2026-11-18"},
		{"2026-01-01", "2026-12-01", "2026-11-18", "week", "2026-11-16"}, // a Wednesday: the Monday before
		{"2026-01-01", "2026-12-01", "2026-11-16", "week", "2026-11-16"},
		{"2026-01-01", "2026-12-01", "2026-11-22", "week", "2026-11-16"}, // a Sunday
		{"2023-01-01", "2026-12-01", "2026-11-18", "month", "2026-11"},
	} {
		unit, bucket := buckets(day(tt.from), day(tt.to))
		if got := bucket(day(tt.at)); unit != tt.unit || got != tt.want {
			t.Errorf("buckets(%s, %s)(%s) = %s %s, want %s %s", tt.from, tt.to, tt.at, unit, got, tt.unit, tt.want)
		}
	}
}
