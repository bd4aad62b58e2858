package exercise

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"
)

// A row is one line of a timeline, as both renderings show it.
type row struct {
	Day    int
	Date   string
	What   string
	With   string // the other agency
	Record string
	Form   string
	Under  string
	Detail string
}

func (it Item) row() row {
	r := row{Day: it.Day, Date: it.At.Format(time.DateOnly), With: it.Counterpart, Record: it.Record, Under: it.Basis}
	exch := it.Action
	if it.SubjectEvt != "" && it.Action == "notify" {
		exch += " " + it.SubjectEvt
	}
	if it.Purpose != "" {
		exch += ", for " + it.Purpose
	}
	var detail []string
	switch it.What {
	case "received":
		r.What, r.Form = "learned ("+exch+")", strings.ReplaceAll(it.Form(), "_", " ")
		if len(it.Conditions) > 0 {
			detail = append(detail, "conditions "+strings.Join(it.Conditions, ", "))
		}
	case "withheld":
		r.What, r.Form = "not told ("+exch+")", "nothing"
		if it.Message != "" {
			detail = append(detail, strings.Join(it.Reasons, ", ")+": "+it.Message)
		} else {
			detail = append(detail, strings.Join(it.Reasons, ", "))
		}
	case "failed":
		r.What, r.Form = "not delivered, failed ("+exch+")", "nothing"
		detail = append(detail, strings.Join(it.Reasons, ", "))
	case "refused":
		r.What, r.Form = "refused ("+exch+")", "nothing"
		if it.Text != "" {
			r.What = "refused: " + it.Text
		}
		if len(it.Reasons) > 0 || it.Message != "" {
			detail = append(detail, strings.Join(it.Reasons, ", ")+": "+it.Message)
		}
	case "hit", "no_hit", "unavailable", "denied":
		r.What, r.Form = "match answered "+strings.ReplaceAll(it.What, "_", "-")+" ("+exch+")", "hit/no-hit"
		if it.What == "denied" {
			r.Form = "nothing"
		}
		detail = append(detail, strings.Join(it.Reasons, ", "))
	case "sent":
		r.What = it.Text
		detail = append(detail, strings.Join(it.Reasons, ", "))
	case "case", "notice":
		r.What, r.Record = it.Text, ""
		if it.What == "notice" {
			r.With = it.Counterpart
		}
	}
	if len(it.Routes) > 0 && !(len(it.Routes) == 1 && it.Routes[0] == "named") {
		detail = append(detail, "found as "+strings.Join(it.Routes, ", "))
	}
	if it.AckBy != "" {
		detail = append(detail, "required notice: acknowledge by "+strings.Replace(strings.TrimSuffix(it.AckBy, ":00Z"), "T", " ", 1))
	}
	if it.Note != "" {
		detail = append(detail, it.Note)
	}
	r.Detail = joinDetail(detail)
	return r
}

// joinDetail joins the parts of a row's detail with "; ", leaving out
// empty ones and the full stop that ends a part before another (a
// policy's reason message is a sentence): "... GDPR Art. 10); The exit
// programme asks", never "... Art. 10).; The".
func joinDetail(parts []string) string {
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	for i := range len(parts) - 1 {
		parts[i] = strings.TrimSuffix(parts[i], ".")
	}
	return strings.Join(parts, "; ")
}

// timeline is one agency's rows.
type timeline struct {
	Agency Agency
	Rows   []row
}

func (r *Report) timelines() []timeline {
	var out []timeline
	for _, a := range r.Scenario.Agencies {
		t := timeline{Agency: a}
		for _, it := range r.Items {
			if it.Agency == a.ID {
				t.Rows = append(t.Rows, it.row())
			}
		}
		out = append(out, t)
	}
	return out
}

// provisionsUsed are the legal bases the timelines name, with citations.
func (r *Report) provisionsUsed() [][2]string {
	seen := map[string]string{}
	for _, it := range r.Items {
		if it.Basis != "" && seen[it.Basis] == "" {
			seen[it.Basis] = it.Citation
		}
	}
	var out [][2]string
	for id, c := range seen {
		out = append(out, [2]string{id, c})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

func (r *Report) dates() (string, int, string) {
	start, _ := time.Parse(time.DateOnly, r.Scenario.Start)
	end := r.Scenario.end()
	return start.Format(time.DateOnly), end, start.AddDate(0, 0, end).Format(time.DateOnly)
}

func mdCell(s string) string {
	if s == "" {
		return " "
	}
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// Markdown renders the report: deterministic, byte for byte.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	start, end, endDate := r.dates()
	fmt.Fprintf(&b, "# Exercise: %s\n\n", r.Scenario.Name)
	fmt.Fprintf(&b, "Policy revision `%s`. Day 0 is %s; the exercise ends on day %d (%s). "+
		"Played through a gateway started for the exercise, on a simulated clock; its days and times are UTC. Every person is invented.\n\n", r.Revision, start, end, endDate)
	for _, t := range r.timelines() {
		fmt.Fprintf(&b, "## %s (%s, %s)\n\n", t.Agency.ID, t.Agency.Kind, t.Agency.Jurisdiction)
		if len(t.Rows) == 0 {
			b.WriteString("Learned nothing, was refused nothing.\n\n")
			continue
		}
		b.WriteString("| Day | Date | What | With | Record | Form | Under | Conditions, reasons, notes |\n|---:|---|---|---|---|---|---|---|\n")
		for _, w := range t.Rows {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", w.Day, w.Date, mdCell(w.What), mdCell(w.With), mdCell(w.Record),
				mdCell(w.Form), mdCell(w.Under), mdCell(w.Detail))
		}
		b.WriteString("\n")
	}
	b.WriteString("## Gaps\n\n")
	if len(r.Gaps) == 0 {
		b.WriteString("None.\n")
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(&b, "- %s\n", g.Text)
	}
	if ps := r.provisionsUsed(); len(ps) > 0 {
		b.WriteString("\n## Provisions\n\n| Id | Citation |\n|---|---|\n")
		for _, p := range ps {
			fmt.Fprintf(&b, "| %s | %s |\n", mdCell(p[0]), mdCell(p[1]))
		}
	}
	return b.Bytes()
}

const css = `body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:75rem;padding:0 1rem;color:#1a1a1a;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:0 0 2rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #999;padding:.3rem .5rem;vertical-align:top;text-align:left}th{background:#e8e8e8}
td.num{text-align:right}.gaps li{margin:.3rem 0}.changed{background:#fff4d6}code{font-size:.95em}`

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{.Body}}
</main>
</body>
</html>
`))

var reportBody = template.Must(template.New("report").Parse(`<p>Policy revision <code>{{.Revision}}</code>. Day 0 is {{.Start}}; the exercise ends on day {{.End}} ({{.EndDate}}). Played through a gateway started for the exercise, on a simulated clock; its days and times are UTC. Every person is invented.</p>
{{range .Timelines}}<h2 id="agency-{{.Agency.ID}}">{{.Agency.ID}} ({{.Agency.Kind}}, {{.Agency.Jurisdiction}})</h2>
{{if .Rows}}<table>
<caption>What {{.Agency.ID}} learned, was refused and did, by day</caption>
<thead><tr><th scope="col">Day</th><th scope="col">Date</th><th scope="col">What</th><th scope="col">With</th><th scope="col">Record</th><th scope="col">Form</th><th scope="col">Under</th><th scope="col">Conditions, reasons, notes</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td class="num">{{.Day}}</td><td>{{.Date}}</td><td>{{.What}}</td><td>{{.With}}</td><td>{{.Record}}</td><td>{{.Form}}</td><td>{{.Under}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p>Learned nothing, was refused nothing.</p>
{{end}}{{end}}<h2 id="gaps">Gaps</h2>
{{if .Gaps}}<ul class="gaps">
{{range .Gaps}}<li>{{.Text}}</li>
{{end}}</ul>
{{else}}<p>None.</p>
{{end}}{{if .Provisions}}<h2 id="provisions">Provisions</h2>
<table>
<caption>The legal bases named above</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Citation</th></tr></thead>
<tbody>
{{range .Provisions}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>
{{end}}</tbody>
</table>
{{end}}`))

func render(title string, body *template.Template, data any) []byte {
	var inner bytes.Buffer
	if err := body.Execute(&inner, data); err != nil {
		panic(err) // the templates are fixed; an error is a bug
	}
	var b bytes.Buffer
	if err := page.Execute(&b, map[string]any{"Title": title, "CSS": template.CSS(css), "Body": template.HTML(inner.String())}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// HTML renders the report as a self-contained page (inline CSS, no
// script, no external asset): deterministic, byte for byte.
func (r *Report) HTML() []byte {
	start, end, endDate := r.dates()
	return render("Exercise: "+r.Scenario.Name, reportBody, map[string]any{
		"Revision": r.Revision, "Start": start, "End": end, "EndDate": endDate,
		"Timelines": r.timelines(), "Gaps": r.Gaps, "Provisions": r.provisionsUsed(),
	})
}

// A Change is a delivery that differs between two runs of a scenario.
type Change struct {
	Day             int
	Agency          string
	Exchange        string
	Base, Candidate string
}

// A Comparison is what a candidate policy changes in a scenario.
type Comparison struct {
	Name            string
	Base, Candidate string // revisions
	Changes         []Change
	Opened, Closed  []Gap
}

func summary(it *Item) string {
	if it == nil {
		return "no exchange"
	}
	var s string
	switch {
	case it.What == "received":
		s = strings.ReplaceAll(it.Outcome, "_", " ")
		if it.Basis != "" {
			s += " under " + it.Basis
		}
		if len(it.Conditions) > 0 {
			s += "; conditions " + strings.Join(it.Conditions, ", ")
		}
	case it.What == "sent":
		s = it.Text
		if len(it.Reasons) > 0 {
			s += " (" + strings.Join(it.Reasons, ", ") + ")"
		}
	case strings.HasPrefix(it.row().What, "match"):
		s = strings.ReplaceAll(it.What, "_", "-") + " (" + strings.Join(it.Reasons, ", ") + ")"
	default:
		s = it.What + " (" + strings.Join(it.Reasons, ", ") + ")"
	}
	if it.AckBy != "" {
		s += "; required notice, acknowledge by " + strings.Replace(strings.TrimSuffix(it.AckBy, ":00Z"), "T", " ", 1)
	}
	return s
}

// Compare lists the deliveries whose outcome, basis, conditions or
// required notice differ between two runs of the same scenario (or that
// only one run has), and the gaps the candidate opens and closes.
func Compare(base, cand *Report) *Comparison {
	c := &Comparison{Name: base.Scenario.Name, Base: base.Revision, Candidate: cand.Revision}
	index := func(items []Item) (map[string]*Item, []string) {
		m := map[string]*Item{}
		var keys []string
		seen := map[string]int{}
		for i := range items {
			it := &items[i]
			if !it.delivery() {
				continue
			}
			// The second item of a key (a correction of two releases to
			// one recipient) is compared with the other run's second.
			k := it.key()
			if n := seen[k]; n > 0 {
				k = fmt.Sprintf("%s#%d", k, n)
			}
			seen[it.key()]++
			keys = append(keys, k)
			m[k] = it
		}
		return m, keys
	}
	bm, bk := index(base.Items)
	cm, ck := index(cand.Items)
	keys := bk
	for _, k := range ck {
		if _, ok := bm[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		x, y := bm[k], cm[k]
		if x != nil && y != nil && summary(x) == summary(y) {
			continue
		}
		it := x
		if it == nil {
			it = y
		}
		exch := it.Action
		if it.SubjectEvt != "" {
			exch += " " + it.SubjectEvt
		}
		// A correction or withdrawal is the holder's item, naming the
		// recipient: the change is the recipient's, from the holder.
		agency, from := it.Agency, it.Counterpart
		if it.What == "sent" {
			agency, from = it.Counterpart, it.Agency
		}
		exch = fmt.Sprintf("%s %s from %s", exch, it.Record, from)
		if it.Purpose != "" {
			exch += ", for " + it.Purpose
		}
		c.Changes = append(c.Changes, Change{Day: it.Day, Agency: agency, Exchange: exch, Base: summary(x), Candidate: summary(y)})
	}
	slices.SortStableFunc(c.Changes, func(a, b Change) int { return a.Day - b.Day })
	diff := func(a, b []Gap) []Gap {
		var out []Gap
		for _, g := range b {
			if !slices.ContainsFunc(a, func(h Gap) bool { return h.Key == g.Key }) {
				out = append(out, g)
			}
		}
		return out
	}
	c.Opened, c.Closed = diff(base.Gaps, cand.Gaps), diff(cand.Gaps, base.Gaps)
	return c
}

// Markdown renders the comparison.
func (c *Comparison) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Compare: %s\n\nBase revision `%s`, candidate `%s`. Days and times are UTC.\n\n## Changed deliveries\n\n", c.Name, c.Base, c.Candidate)
	if len(c.Changes) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| Day | Agency | Exchange | Base | Candidate |\n|---:|---|---|---|---|\n")
		for _, ch := range c.Changes {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", ch.Day, mdCell(ch.Agency), mdCell(ch.Exchange), mdCell(ch.Base), mdCell(ch.Candidate))
		}
	}
	for _, s := range []struct {
		title string
		gaps  []Gap
	}{{"Gaps opened", c.Opened}, {"Gaps closed", c.Closed}} {
		fmt.Fprintf(&b, "\n## %s\n\n", s.title)
		if len(s.gaps) == 0 {
			b.WriteString("None.\n")
		}
		for _, g := range s.gaps {
			fmt.Fprintf(&b, "- %s\n", g.Text)
		}
	}
	return b.Bytes()
}

var compareBody = template.Must(template.New("compare").Parse(`<p>Base revision <code>{{.Base}}</code>, candidate <code>{{.Candidate}}</code>. Days and times are UTC.</p>
<h2 id="changed">Changed deliveries</h2>
{{if .Changes}}<table>
<caption>Deliveries that differ between the base and the candidate policy</caption>
<thead><tr><th scope="col">Day</th><th scope="col">Agency</th><th scope="col">Exchange</th><th scope="col">Base</th><th scope="col">Candidate</th></tr></thead>
<tbody>
{{range .Changes}}<tr class="changed"><td class="num">{{.Day}}</td><td>{{.Agency}}</td><td>{{.Exchange}}</td><td>{{.Base}}</td><td>{{.Candidate}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p>None.</p>
{{end}}<h2 id="opened">Gaps opened</h2>
{{if .Opened}}<ul class="gaps">
{{range .Opened}}<li>{{.Text}}</li>
{{end}}</ul>
{{else}}<p>None.</p>
{{end}}<h2 id="closed">Gaps closed</h2>
{{if .Closed}}<ul class="gaps">
{{range .Closed}}<li>{{.Text}}</li>
{{end}}</ul>
{{else}}<p>None.</p>
{{end}}`))

// HTML renders the comparison as a self-contained page.
func (c *Comparison) HTML() []byte {
	return render("Compare: "+c.Name, compareBody, c)
}
