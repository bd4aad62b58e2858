// Package exercise plays tabletop exercises: a scenario of exchanges about
// one invented person over days and months, decided by a policy on a
// simulated clock, reported as a timeline per agency (what it learned,
// when, in which form, under which provision and conditions, and what it
// was refused and why) and a list of gaps (duties the scenario expects that
// the law as written does not meet, and exchanges that rest on a reading of
// the law the pack marks as unverified). It sits above the gateway, like
// cmd/: it uses the policy engine and nothing of a store or a key.
//
// This first version decides each exchange with the policy engine the
// gateway uses (the same input, the same decision); it does not yet start a
// gateway in-process.
package exercise

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/policies"
)

// Scenario is an exercise file (YAML; docs/exercises/README.md).
type Scenario struct {
	Name     string   `json:"name"`
	Start    string   `json:"start"` // YYYY-MM-DD: day 0
	Agencies []Agency `json:"agencies"`
	Subject  Subject  `json:"subject"`
	Case     *Case    `json:"case,omitempty"`
	Events   []Event  `json:"events"`
	Duties   []Duty   `json:"duties"`
}

// Agency is a party of the exercise.
type Agency struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Jurisdiction string `json:"jurisdiction"`
}

// Subject is the invented person's attributes, as the policy sees them.
type Subject struct {
	Category       string `json:"category"`
	InCustody      bool   `json:"in_custody"`
	ReleaseDate    string `json:"release_date"`
	ProbationUntil string `json:"probation_until"`
	Municipality   string `json:"municipality"`
}

// Case is a multi-agency case of the exercise.
type Case struct {
	ID      string   `json:"id"`
	Lead    string   `json:"lead"`
	Members []string `json:"members"`
}

// Event is one exchange on a day: a disclose from an agency to recipients,
// or a request (or match) by an agency to a holder.
type Event struct {
	Day        int      `json:"day"`
	Action     string   `json:"action"` // disclose, request, match
	From       string   `json:"from"`   // the holder
	To         []string `json:"to"`     // the recipients (for request and match: the requester, one)
	RecordType string   `json:"record_type"`
	Purpose    string   `json:"purpose"`
	InCase     bool     `json:"in_case"`
	Note       string   `json:"note"`
}

// Duty is something the scenario expects: an agency learns a record type
// (in any released form) by a day.
type Duty struct {
	Name       string `json:"name"`
	Agency     string `json:"agency"`
	RecordType string `json:"record_type"`
	ByDay      int    `json:"by_day"`
}

// Parse reads a scenario and checks its references.
func Parse(b []byte) (*Scenario, error) {
	var s Scenario
	if err := yaml.UnmarshalStrict(b, &s); err != nil {
		return nil, fmt.Errorf("exercise: %v", err)
	}
	if _, err := time.Parse(time.DateOnly, s.Start); err != nil {
		return nil, fmt.Errorf("exercise: start: want YYYY-MM-DD")
	}
	known := map[string]bool{}
	for _, a := range s.Agencies {
		known[a.ID] = true
	}
	for i, e := range s.Events {
		if !slices.Contains([]string{"disclose", "request", "match"}, e.Action) {
			return nil, fmt.Errorf("exercise: events[%d].action: want disclose, request or match", i)
		}
		if !known[e.From] || len(e.To) == 0 {
			return nil, fmt.Errorf("exercise: events[%d]: from and to must name agencies of the scenario", i)
		}
		for _, t := range e.To {
			if !known[t] {
				return nil, fmt.Errorf("exercise: events[%d].to: unknown agency %q", i, t)
			}
		}
		if e.InCase && s.Case == nil {
			return nil, fmt.Errorf("exercise: events[%d].in_case: the scenario has no case", i)
		}
	}
	for i, d := range s.Duties {
		if !known[d.Agency] {
			return nil, fmt.Errorf("exercise: duties[%d].agency: unknown agency %q", i, d.Agency)
		}
	}
	return &s, nil
}

// Step is one decided exchange for one recipient.
type Step struct {
	Day        int
	Date       string
	Action     string
	Holder     string
	Recipient  string
	RecordType string
	Purpose    string
	Outcome    string
	Basis      string // id and citation
	Conditions []string
	Reasons    []string
	Assumption string
	Note       string
}

// Released reports whether the recipient learned something.
func (s Step) Released() bool { return s.Outcome != policies.OutcomeDeny }

// Report is the result of an exercise.
type Report struct {
	Scenario *Scenario
	Revision string
	Steps    []Step
	Gaps     []string
}

// Run plays the scenario on the engine.
func Run(ctx context.Context, eng *policies.Engine, s *Scenario) (*Report, error) {
	start, _ := time.Parse(time.DateOnly, s.Start)
	ag := map[string]Agency{}
	for _, a := range s.Agencies {
		ag[a.ID] = a
	}
	party := func(id string) policies.Party {
		a := ag[id]
		return policies.Party{Agency: a.ID, Kind: a.Kind, Jurisdiction: a.Jurisdiction}
	}
	r := &Report{Scenario: s, Revision: eng.Revision()}
	events := slices.Clone(s.Events)
	slices.SortStableFunc(events, func(a, b Event) int { return a.Day - b.Day })
	for _, e := range events {
		when := start.AddDate(0, 0, e.Day).Add(10 * time.Hour)
		for _, to := range e.To {
			req := e.From
			if e.Action != "disclose" {
				req = to
			}
			rp := party(req)
			in := policies.Input{
				Action: e.Action, Time: when.Format(time.RFC3339),
				Requester: policies.Requester{Agency: rp.Agency, Kind: rp.Kind, Jurisdiction: rp.Jurisdiction,
					Officer: policies.Officer{ID: "exercise.officer", Roles: []string{"case_officer"}, Clearance: "confidential"}},
				Holder: party(e.From), Recipient: party(to),
				Subject: policies.Subject{Category: s.Subject.Category, InCustody: s.Subject.InCustody, ReleaseDate: s.Subject.ReleaseDate,
					ProbationUntil: s.Subject.ProbationUntil, Municipality: s.Subject.Municipality},
				RecordType: e.RecordType, Purpose: e.Purpose, Justification: "exercise",
			}
			if e.InCase {
				in.Case = &policies.Case{ID: s.Case.ID, Lead: s.Case.Lead, Members: slices.Clone(s.Case.Members)}
			}
			dec, err := eng.Decide(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("exercise: day %d %s %s -> %s: %v", e.Day, e.Action, e.From, to, err)
			}
			st := Step{Day: e.Day, Date: when.Format(time.DateOnly), Action: e.Action, Holder: e.From, Recipient: to,
				RecordType: e.RecordType, Purpose: e.Purpose, Outcome: dec.Outcome, Conditions: dec.Conditions, Note: e.Note}
			if lb := dec.LegalBasis; lb != nil {
				st.Basis = strings.TrimSpace(lb.ID + " (" + lb.Citation + ")")
				st.Assumption = lb.Assumption
			}
			for _, rs := range dec.Reasons {
				st.Reasons = append(st.Reasons, rs.Code)
			}
			r.Steps = append(r.Steps, st)
		}
	}
	for _, d := range s.Duties {
		met := slices.ContainsFunc(r.Steps, func(st Step) bool {
			return st.Recipient == d.Agency && st.RecordType == d.RecordType && st.Day <= d.ByDay && st.Released()
		})
		if !met {
			r.Gaps = append(r.Gaps, fmt.Sprintf("duty not met: %s (%s never received %s by day %d)", d.Name, d.Agency, d.RecordType, d.ByDay))
		}
	}
	for _, st := range r.Steps {
		if st.Released() && st.Assumption != "" {
			r.Gaps = append(r.Gaps, fmt.Sprintf("day %d: %s -> %s %s rests on an unverified reading: %s", st.Day, st.Holder, st.Recipient, st.RecordType, st.Assumption))
		}
	}
	return r, nil
}

// Markdown renders the report: deterministic, byte for byte.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Exercise: %s\n\nDay 0 is %s. Every person is invented.\n\n", r.Scenario.Name, r.Scenario.Start)
	for _, a := range r.Scenario.Agencies {
		fmt.Fprintf(&b, "## %s (%s, %s)\n\n", a.ID, a.Kind, a.Jurisdiction)
		n := 0
		for _, st := range r.Steps {
			if st.Recipient != a.ID {
				continue
			}
			n++
			if st.Released() {
				fmt.Fprintf(&b, "- day %d (%s): learned %s from %s as **%s** (%s, for %s) under %s", st.Day, st.Date, st.RecordType, st.Holder, st.Outcome, st.Action, st.Purpose, orNone(st.Basis))
				if len(st.Conditions) > 0 {
					fmt.Fprintf(&b, "; conditions %s", strings.Join(st.Conditions, ", "))
				}
			} else {
				fmt.Fprintf(&b, "- day %d (%s): refused %s from %s (%s, for %s): %s", st.Day, st.Date, st.RecordType, st.Holder, st.Action, st.Purpose, strings.Join(st.Reasons, ", "))
			}
			if st.Note != "" {
				fmt.Fprintf(&b, ". %s", st.Note)
			}
			b.WriteString("\n")
		}
		if n == 0 {
			b.WriteString("- learned nothing\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("## Gaps\n\n")
	if len(r.Gaps) == 0 {
		b.WriteString("- none\n")
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(&b, "- %s\n", g)
	}
	return b.Bytes()
}

// Compare lists the steps whose outcome, basis or conditions differ between
// two runs of the same scenario, and the gaps one has and the other not.
func Compare(base, cand *Report) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Compare: %s\n\nBase revision `%s`, candidate `%s`.\n\n## Changed deliveries\n\n", base.Scenario.Name, base.Revision, cand.Revision)
	n := 0
	for i := range min(len(base.Steps), len(cand.Steps)) {
		x, y := base.Steps[i], cand.Steps[i]
		if x.Outcome != y.Outcome || x.Basis != y.Basis || !slices.Equal(x.Conditions, y.Conditions) {
			n++
			fmt.Fprintf(&b, "- day %d %s %s -> %s %s: %s -> %s (%s -> %s)\n", x.Day, x.Action, x.Holder, x.Recipient, x.RecordType,
				x.Outcome, y.Outcome, orNone(x.Basis), orNone(y.Basis))
		}
	}
	if n == 0 {
		b.WriteString("- none\n")
	}
	b.WriteString("\n## Gaps opened\n\n")
	diff := func(a, c []string) []string {
		var out []string
		for _, g := range c {
			if !slices.Contains(a, g) {
				out = append(out, g)
			}
		}
		return out
	}
	writeList(&b, diff(base.Gaps, cand.Gaps))
	b.WriteString("\n## Gaps closed\n\n")
	writeList(&b, diff(cand.Gaps, base.Gaps))
	return b.Bytes()
}

func writeList(b *bytes.Buffer, l []string) {
	if len(l) == 0 {
		b.WriteString("- none\n")
	}
	for _, g := range l {
		fmt.Fprintf(b, "- %s\n", g)
	}
}

func orNone(s string) string {
	if s == "" {
		return "no basis (fallback)"
	}
	return s
}
