package exercise

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

// workedFS holds the worked scenarios, one per jurisdiction pack: the
// same files the golden tests play.
//
//go:embed testdata/*.yaml
var workedFS embed.FS

// A Worked is one of the worked scenarios embedded in the binary.
type Worked struct {
	// File is its file name without .yaml, e.g. "dk-release".
	File string
	// About is its leading comment, in one paragraph.
	About string
	// Scenario is the parsed scenario.
	Scenario *Scenario
}

// WorkedScenarios returns the worked scenarios (exercise/testdata in the
// source), in file name order.
func WorkedScenarios() ([]Worked, error) {
	names, err := fs.Glob(workedFS, "testdata/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []Worked
	for _, n := range names {
		b, err := workedFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		s, err := Parse(b)
		if err != nil {
			return nil, err
		}
		var about []string
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "#") {
				break
			}
			about = append(about, strings.TrimSpace(strings.TrimPrefix(line, "#")))
		}
		out = append(out, Worked{File: strings.TrimSuffix(path.Base(n), ".yaml"), About: strings.Join(about, " "), Scenario: s})
	}
	return out, nil
}

// Timeline is one agency's lines of a report, as the Markdown and HTML
// renderings show them; other renderers (the console's exercises page)
// use it to render a report their own way.
type Timeline = timeline

// TimelineRow is one line of a Timeline.
type TimelineRow = row

// Timelines returns the report's timeline of each of the scenario's
// agencies, in the scenario's order.
func (r *Report) Timelines() []Timeline { return r.timelines() }

// Provisions returns the legal bases the timelines name: id and citation,
// by id.
func (r *Report) Provisions() [][2]string { return r.provisionsUsed() }

// Period returns day 0 (YYYY-MM-DD), the last day played and its date.
func (r *Report) Period() (start string, end int, endDate string) { return r.dates() }
