package exercise

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"sigs.k8s.io/yaml"

	"github.com/liaison-gateway/liaison/gateway"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// Scenario is an exercise file (YAML; docs/exercises/README.md describes
// every field).
type Scenario struct {
	// Name is the exercise's title.
	Name string `json:"name"`
	// Start is day 0, YYYY-MM-DD.
	Start string `json:"start"`
	// EndDay is the last day played: the notice timers run until then.
	// Zero means the day of the last event.
	EndDay int `json:"end_day"`
	// Subject is the invented person.
	Subject Subject `json:"subject"`
	// Agencies are the parties, registered with the exercise's gateway.
	Agencies []Agency `json:"agencies"`
	// Events are what the agencies do, by day.
	Events []Event `json:"events"`
	// Expect are the duties the scenario expects the law to meet.
	Expect []Expectation `json:"expect"`
}

// Subject is the invented person's attributes as the holders know them.
type Subject struct {
	// ID is the person's identifier in the holders' records; empty means
	// "EX-0001". It never appears in the report.
	ID             string `json:"id"`
	Category       string `json:"category"`
	InCustody      bool   `json:"in_custody"`
	ReleaseDate    string `json:"release_date"`
	ProbationUntil string `json:"probation_until"`
	Municipality   string `json:"municipality"`
	// Country is the country of the address in the records, e.g. "DK".
	Country string `json:"country"`
}

// SubjectChange changes some of the subject's attributes from its day on
// (an "update" event): a release, a move, a new release date.
type SubjectChange struct {
	Category       string `json:"category"`
	InCustody      *bool  `json:"in_custody"`
	ReleaseDate    string `json:"release_date"`
	ProbationUntil string `json:"probation_until"`
	Municipality   string `json:"municipality"`
	Country        string `json:"country"`
}

// Agency is a party of the exercise.
type Agency struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Jurisdiction string `json:"jurisdiction"`
	// Areas are the municipalities it covers (recipients by role).
	Areas []string `json:"areas"`
	// Holds are the record types it holds about the subject and serves to
	// requests; a holder named by a request also holds what is asked.
	Holds []string `json:"holds"`
	// Clearance is its officers' clearance; empty means "confidential".
	Clearance string `json:"clearance"`
	// DutyRole receives escalations of its required notices; empty means
	// "duty_officer".
	DutyRole string `json:"duty_role"`
}

// Event is one thing an agency does on a day.
type Event struct {
	Day int `json:"day"`
	// Action is one of the actions in [Actions].
	Action string `json:"action"`
	// By is the agency that acts (the holder of a disclose or notify, the
	// requester of a request or match, the lead of a case change).
	By string `json:"by"`
	// To are recipients by id (disclose, notify) or the agencies invited
	// (invite).
	To []string `json:"to"`
	// ToCompetent are recipients by role: the agencies of these kinds
	// that cover the subject's municipality.
	ToCompetent []string `json:"to_competent"`
	// ToCaseMembers sends to every other current member of Case.
	ToCaseMembers bool `json:"to_case_members"`
	// Holder is the agency asked by a request; Holders those asked by a
	// match (empty: every holder, or the case's).
	Holder  string   `json:"holder"`
	Holders []string `json:"holders"`
	// Record is the record type of a disclose or request, or the record a
	// notify carries (default: from the event type); Records those of a
	// match.
	Record  string   `json:"record"`
	Records []string `json:"records"`
	// Event is the subject event a notify reports.
	Event   string `json:"event"`
	Purpose string `json:"purpose"`
	// Case is the case the exchange is made in, or the case changed.
	Case string `json:"case"`
	// Kind is the case kind of an open_case.
	Kind string `json:"kind"`
	// Basis is the legal basis the caller claims, if any.
	Basis string `json:"basis"`
	// Decline makes the agencies of an invite decline instead of accept.
	Decline bool `json:"decline"`
	// Subject is the change of an update.
	Subject *SubjectChange `json:"subject"`
	// From, for a disclose, is the agency By received the record from: By
	// passes on what it learned from From in full, naming the release as
	// its provenance, and the conditions it came with travel on. For a
	// correct, By passes on the correction From sent it: the corrected
	// record is From's.
	From string `json:"from"`
	// Reason is why a withdraw withdraws: incorrect (the default),
	// unlawfully_transmitted or erased_at_source.
	Reason string `json:"reason"`
	// Note is the exercise's comment, shown in the report.
	Note string `json:"note"`
}

// Actions are the actions an event can take.
var Actions = []string{"disclose", "notify", "request", "match", "acknowledge", "open_case", "invite", "leave", "close_case", "update", "correct", "withdraw"}

// withdrawalReasons are the reasons a withdraw can give.
var withdrawalReasons = []string{"incorrect", "unlawfully_transmitted", "erased_at_source"}

// Expectation is a duty the scenario expects the law to meet: an agency
// learns a record (or is told of a subject event) by a day, in at least a
// form, and, if asked, acknowledges the notice in time.
type Expectation struct {
	Name   string `json:"name"`
	Agency string `json:"agency"`
	// Record or Event: what the agency must learn.
	Record string `json:"record"`
	Event  string `json:"event"`
	ByDay  int    `json:"by_day"`
	// Form is the least form that meets it: full, pseudonymised (the
	// default) or hit_only.
	Form string `json:"form"`
	// Acknowledged also requires a notice the law requires to be
	// acknowledged by its deadline.
	Acknowledged bool `json:"acknowledged"`
}

var (
	recordTypes = []string{"release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "family_contact", "case_plan", "police_observation"}
	eventTypes  = []string{"release_date_set", "release_date_changed", "released", "transferred", "absconded", "breach_of_conditions", "probation_ended", "deceased"}
	forms       = []string{"hit_only", "pseudonymised", "full"}
	purposes    = enumWords(liaisonv1.Purpose_value, "PURPOSE_")
	kinds       = enumWords(liaisonv1.AgencyKind_value, "AGENCY_KIND_")
	categories  = enumWords(liaisonv1.SubjectCategory_value, "SUBJECT_CATEGORY_")
	// The packs' jurisdictions and the clearances of the gateway's
	// registry and tokens.
	jurisdictions = []string{"DK", "NL", "BE", "FR", "DE-BY", "DE-NI"}
	clearances    = []string{"none", "restricted", "confidential", "secret", "top_secret"}
)

// enumWords are the words of a proto enum ("risk_management" for
// PURPOSE_RISK_MANAGEMENT), in the enum's order, without UNSPECIFIED.
func enumWords(values map[string]int32, prefix string) []string {
	names := slices.SortedFunc(maps.Keys(values), func(a, b string) int { return cmp.Compare(values[a], values[b]) })
	var out []string
	for _, n := range names {
		if values[n] != 0 {
			out = append(out, strings.ToLower(strings.TrimPrefix(n, prefix)))
		}
	}
	return out
}

// validDate reports whether v is a date, YYYY-MM-DD.
func validDate(v string) bool {
	_, err := time.Parse(time.DateOnly, v)
	return err == nil
}

// fieldProblem returns the first field of v (YAML read as JSON values)
// that type t does not have, or whose value is not of its type, with the
// path the errors name fields by ("events[2].recipient: unknown field"),
// or "". Field names are matched as written: "Day" is not "day" (read
// case-insensitively, an event with both was played with one and the
// other dropped). A word where text is wanted that YAML reads as a
// boolean or a number is refused rather than read differently from what
// was written ("country: NO" read as "false", "case: 0042" as "34").
func fieldProblem(v any, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return "" // empty: the field's zero value
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want a mapping of fields", cmp.Or(path, "the scenario"))
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			var ft reflect.Type
			for i := range t.NumField() {
				name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
				if name == k {
					ft = t.Field(i).Type
					break
				}
			}
			if ft == nil {
				return p + ": unknown field"
			}
			if u := fieldProblem(m[k], ft, p); u != "" {
				return u
			}
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("%s: want a list", path)
		}
		for i, x := range l {
			if u := fieldProblem(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); u != "" {
				return u
			}
		}
	case reflect.String:
		switch x := v.(type) {
		case string:
		case bool, float64:
			if path == "subject.id" {
				// Not even as read: it is the person's identifier.
				return fmt.Sprintf("%s: YAML reads the word written as %s, not as text: quote it", path, typeWord(x))
			}
			return fmt.Sprintf("%s: YAML reads the word written as %s (%v), not as text: quote it", path, typeWord(x), x)
		default:
			return fmt.Sprintf("%s: want text", path)
		}
	case reflect.Int:
		if x, ok := v.(float64); !ok || x != float64(int(x)) {
			return fmt.Sprintf("%s: want a whole number", path)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("%s: want true or false", path)
		}
	}
	return ""
}

// typeWord names the kind of a YAML value read as JSON.
func typeWord(v any) string {
	if _, ok := v.(bool); ok {
		return "a boolean"
	}
	return "a number"
}

// Parse reads a scenario and checks it: every reference to an agency, a
// record type, an event type and a case, and the fields each action needs.
// Errors name the field, e.g. "events[2].holder".
func Parse(b []byte) (*Scenario, error) {
	var raw any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("exercise: %v", err)
	}
	if f := fieldProblem(raw, reflect.TypeFor[Scenario](), ""); f != "" {
		return nil, fmt.Errorf("exercise: %s", f)
	}
	var s Scenario
	if err := yaml.UnmarshalStrict(b, &s); err != nil {
		return nil, fmt.Errorf("exercise: %v", err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("exercise: %v", err)
	}
	if f := fieldNotTaken(raw); f != "" {
		return nil, fmt.Errorf("exercise: %s", f)
	}
	return &s, nil
}

// actionFields are the fields each action takes besides day, action, by
// and note (docs/exercises/README.md, the events table).
var actionFields = map[string][]string{
	"disclose":    {"record", "purpose", "to", "to_competent", "to_case_members", "case", "basis", "from"},
	"notify":      {"event", "record", "to", "to_competent", "to_case_members", "purpose", "case", "basis"},
	"request":     {"holder", "record", "purpose", "case", "basis"},
	"match":       {"records", "purpose", "holders", "case", "basis"},
	"acknowledge": {},
	"open_case":   {"case", "kind"},
	"invite":      {"case", "to", "decline"},
	"leave":       {"case"},
	"close_case":  {"case"},
	"correct":     {"record", "from"},
	"withdraw":    {"record", "reason"},
	"update":      {"subject"},
}

// fieldNotTaken names the first field of an event (YAML read as JSON
// values) that its action does not take, which would otherwise be
// ignored (a match's "holder" asking every holder, an "update" by an
// agency), or "".
func fieldNotTaken(raw any) string {
	top, _ := raw.(map[string]any)
	var events []any
	for k, v := range top {
		if k == "events" {
			events, _ = v.([]any)
		}
	}
	for i, v := range events {
		m, _ := v.(map[string]any)
		action := ""
		for k, x := range m {
			if k == "action" {
				action, _ = x.(string)
			}
		}
		takes := actionFields[action]
		for _, k := range slices.Sorted(maps.Keys(m)) {
			switch f := k; {
			case f == "day" || f == "action" || f == "note" || (f == "by" && action != "update"), slices.Contains(takes, f):
			default:
				return fmt.Sprintf("events[%d].%s: not a field of %s, which takes %s", i, k, action,
					strings.Join(append(slices.Clone(takes), map[bool]string{true: "note", false: "by and note"}[action == "update"]), ", "))
			}
		}
	}
	return ""
}

func (s *Scenario) check() error {
	if strings.TrimSpace(s.Name) == "" {
		return fmt.Errorf("name: required")
	}
	// The title is the heading of the report (# Exercise: ...): a line
	// break would end it there and put the rest in the report as text
	// of its own.
	if strings.ContainsFunc(s.Name, unicode.IsControl) {
		return fmt.Errorf("name: one line of text: no line breaks or control characters")
	}
	start, err := time.Parse(time.DateOnly, s.Start)
	if err != nil {
		return fmt.Errorf("start: want YYYY-MM-DD")
	}
	if p := gateway.DateProblem(s.Start); p != "" {
		return fmt.Errorf("start: %q %s", s.Start, p)
	}
	if s.Subject.Category == "" {
		return fmt.Errorf("subject.category: required")
	}
	// The identifier as the gateway takes it (gateway.SubjectIDProblem,
	// its one rule: printable, no invisible character such as a Hangul
	// filler, no white space around it, NFKC), so that the calls about the
	// person are not all refused for it; the error does not quote it.
	if sid := s.Subject.ID; sid != "" {
		if p := gateway.SubjectIDProblem(sid); p != "" {
			return fmt.Errorf("subject.id: %s", p)
		}
	}
	// The report prints the title, the notes, the case ids and the names
	// of the expectations as written, and never the person's identifier.
	id := s.Subject.subjectID()
	if gateway.Mentions(s.Name, id) {
		return fmt.Errorf("name: %s", namesSubject)
	}
	if err := checkSubject("subject", id, SubjectChange{Category: s.Subject.Category, ReleaseDate: s.Subject.ReleaseDate, ProbationUntil: s.Subject.ProbationUntil,
		Municipality: s.Subject.Municipality}); err != nil {
		return err
	}
	if len(s.Agencies) == 0 {
		return fmt.Errorf("agencies: at least one")
	}
	known := map[string]bool{}
	areas := map[[2]string]struct{ spelt, field string }{} // by kind and gateway.AreaKey
	for i, a := range s.Agencies {
		switch {
		case !gateway.ValidAgencyID(a.ID):
			// The scenario's agencies are its gateway's registry: an id
			// the registry does not take stopped the gateway at start.
			return fmt.Errorf("agencies[%d].id: 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, not \"case\" (as a registry spells an agency id)", i)
		case a.DutyRole != "" && !gateway.ValidDutyRole(a.DutyRole):
			return fmt.Errorf("agencies[%d].duty_role: 1 to 64 bytes of printable characters in Unicode NFC, no white space and no '/' (as a registry's)", i)
		case known[a.ID]:
			return fmt.Errorf("agencies[%d].id: %q twice", i, a.ID)
		case a.Kind == "" || a.Jurisdiction == "":
			return fmt.Errorf("agencies[%d]: kind and jurisdiction are required", i)
		case !slices.Contains(kinds, a.Kind):
			return fmt.Errorf("agencies[%d].kind: %q, want one of %s", i, a.Kind, strings.Join(kinds, ", "))
		case !slices.Contains(jurisdictions, a.Jurisdiction):
			return fmt.Errorf("agencies[%d].jurisdiction: %q, want one of %s", i, a.Jurisdiction, strings.Join(jurisdictions, ", "))
		case a.Clearance != "" && !slices.Contains(clearances, a.Clearance):
			return fmt.Errorf("agencies[%d].clearance: %q, want one of %s", i, a.Clearance, strings.Join(clearances, ", "))
		}
		// The areas as the registry takes them: each a municipality's
		// name as calls spell one, and one spelling of an area among the
		// agencies of a kind; otherwise the gateway did not start.
		for j, area := range a.Areas {
			if m := strings.TrimSpace(area); m == "" || gateway.MunicipalityProblem(m) != "" {
				return fmt.Errorf("agencies[%d].areas[%d]: a municipality's name of 1 to 128 bytes of printable characters in Unicode NFC, as calls spell it", i, j)
			}
			k := [2]string{a.Kind, gateway.AreaKey(area)}
			if x, ok := areas[k]; ok && x.spelt != strings.TrimSpace(area) {
				return fmt.Errorf("agencies[%d].areas[%d]: %q is %q of %s in other letters: spell an area one way among the agencies of a kind", i, j, strings.TrimSpace(area), x.spelt, x.field)
			} else if !ok {
				areas[k] = struct{ spelt, field string }{strings.TrimSpace(area), fmt.Sprintf("agencies[%d].areas[%d]", i, j)}
			}
		}
		for j, r := range a.Holds {
			if !slices.Contains(recordTypes, r) {
				return fmt.Errorf("agencies[%d].holds[%d]: unknown record type %q", i, j, r)
			}
		}
		known[a.ID] = true
	}
	agency := func(field, id string) error {
		if !known[id] {
			return fmt.Errorf("%s: unknown agency %q", field, id)
		}
		return nil
	}
	cases := map[string]string{} // opened, by id in lower case: as written
	last := 0
	for i, e := range s.Events {
		f := func(name string) string { return fmt.Sprintf("events[%d].%s", i, name) }
		if e.Day < 0 {
			return fmt.Errorf("%s: must not be negative", f("day"))
		}
		last = max(last, e.Day)
		if !slices.Contains(Actions, e.Action) {
			return fmt.Errorf("%s: want one of %s", f("action"), strings.Join(Actions, ", "))
		}
		if e.Action != "update" {
			if err := agency(f("by"), e.By); err != nil {
				return err
			}
		}
		// An agency named twice is refused by the gateway (recipients[j],
		// holders[j]: "appears twice"): the whole call, played as if the
		// law had refused it.
		for j, t := range e.To {
			if err := agency(fmt.Sprintf("events[%d].to[%d]", i, j), t); err != nil {
				return err
			}
			if slices.Contains(e.To[:j], t) {
				return fmt.Errorf("events[%d].to[%d]: %q twice", i, j, t)
			}
		}
		for j, h := range e.Holders {
			if err := agency(fmt.Sprintf("events[%d].holders[%d]", i, j), h); err != nil {
				return err
			}
			if slices.Contains(e.Holders[:j], h) {
				return fmt.Errorf("events[%d].holders[%d]: %q twice", i, j, h)
			}
		}
		if e.Case != "" && !validID(e.Case) {
			return fmt.Errorf("%s: 1 to 64 letters, digits, '.', '_' or '-'", f("case"))
		}
		if gateway.Mentions(e.Case, id) {
			return fmt.Errorf("%s: %s", f("case"), namesSubject)
		}
		if gateway.Mentions(e.Note, id) {
			return fmt.Errorf("%s: %s", f("note"), namesSubject)
		}
		// The note is the officer's justification of every call the event
		// makes: one the gateway refuses as a justification would have
		// every call refused for it (INVALID justification), or stop the
		// exercise at an acknowledge, whatever the law says.
		switch {
		case e.Note != "" && strings.TrimSpace(e.Note) == "":
			return fmt.Errorf("%s: blank: leave it out or say why", f("note"))
		case len(e.Note) > maxNote:
			return fmt.Errorf("%s: %d bytes, at most %d (a justification's limit)", f("note"), len(e.Note), maxNote)
		case strings.ContainsFunc(e.Note, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }):
			return fmt.Errorf("%s: must be text: no control characters but tab and line breaks", f("note"))
		}
		// An open_case's kind is printed too ("opened case C1 (nl.zvh)"),
		// refused or not.
		if gateway.Mentions(e.Kind, id) {
			return fmt.Errorf("%s: %s", f("kind"), namesSubject)
		}
		// Spelt as the gateway takes them: otherwise every call of the
		// event was refused INVALID_ARGUMENT and played as if the law had
		// refused it (a notify's recipients "not told").
		if e.Kind != "" && !gateway.ValidCaseKind(e.Kind) {
			return fmt.Errorf("%s: %q: a case kind of the policy, lower-case parts joined by '.', such as nl.zvh", f("kind"), e.Kind)
		}
		switch b := e.Basis; {
		case gateway.Mentions(b, id):
			return fmt.Errorf("%s: %s", f("basis"), namesSubject)
		case b != "" && !gateway.ValidLegalBasisID(b):
			return fmt.Errorf("%s: %q: a legal basis id, at most 128 lower-case letters, digits and '_' in parts joined by '.', such as dk.rpl.115.stk1.nr3", f("basis"), b)
		}
		for j, k := range e.ToCompetent {
			if !slices.Contains(kinds, k) {
				return fmt.Errorf("events[%d].to_competent[%d]: %q, want one of %s", i, j, k, strings.Join(kinds, ", "))
			}
		}
		if e.Purpose != "" && !slices.Contains(purposes, e.Purpose) {
			return fmt.Errorf("%s: %q, want one of %s", f("purpose"), e.Purpose, strings.Join(purposes, ", "))
		}
		if e.ToCaseMembers && e.Case == "" {
			return fmt.Errorf("%s: to_case_members needs a case", f("case"))
		}
		if e.From != "" {
			if err := agency(f("from"), e.From); err != nil {
				return err
			}
			if (e.Action != "disclose" && e.Action != "correct") || e.From == e.By {
				return fmt.Errorf("%s: only for a disclose or a correct, naming another agency than by", f("from"))
			}
		}
		switch e.Action {
		case "disclose", "notify":
			if len(e.To) == 0 && len(e.ToCompetent) == 0 && !e.ToCaseMembers && e.Action == "disclose" {
				return fmt.Errorf("%s: name recipients (to, to_competent or to_case_members)", f("to"))
			}
			if e.Action == "disclose" && !slices.Contains(recordTypes, e.Record) {
				return fmt.Errorf("%s: want one of %s", f("record"), strings.Join(recordTypes, ", "))
			}
			if e.Action == "notify" {
				if !slices.Contains(eventTypes, e.Event) {
					return fmt.Errorf("%s: want one of %s", f("event"), strings.Join(eventTypes, ", "))
				}
				if e.Record != "" && !slices.Contains(recordTypes, e.Record) {
					return fmt.Errorf("%s: unknown record type %q", f("record"), e.Record)
				}
			}
			if e.Purpose == "" && (e.Action == "disclose" || len(e.To)+len(e.ToCompetent) > 0 || e.ToCaseMembers) {
				return fmt.Errorf("%s: required", f("purpose"))
			}
		case "request":
			if err := agency(f("holder"), e.Holder); err != nil {
				return err
			}
			if !slices.Contains(recordTypes, e.Record) {
				return fmt.Errorf("%s: want one of %s", f("record"), strings.Join(recordTypes, ", "))
			}
			if e.Purpose == "" {
				return fmt.Errorf("%s: required", f("purpose"))
			}
		case "match":
			if len(e.Records) == 0 {
				return fmt.Errorf("%s: at least one record type", f("records"))
			}
			for j, r := range e.Records {
				if !slices.Contains(recordTypes, r) {
					return fmt.Errorf("events[%d].records[%d]: unknown record type %q", i, j, r)
				}
				if slices.Contains(e.Records[:j], r) {
					return fmt.Errorf("events[%d].records[%d]: %q twice", i, j, r)
				}
			}
			if e.Purpose == "" {
				return fmt.Errorf("%s: required", f("purpose"))
			}
		case "open_case":
			if e.Case == "" || e.Kind == "" {
				return fmt.Errorf("%s: open_case needs case and kind", f("case"))
			}
			// The gateway keeps one case per id regardless of letter case
			// (CASE_EXISTS): "c-1" after "C-1" is the same case again.
			if was, ok := cases[strings.ToLower(e.Case)]; ok {
				return fmt.Errorf("%s: case %q opened twice (as %q before; case ids are compared without regard to letter case)", f("case"), e.Case, was)
			}
			cases[strings.ToLower(e.Case)] = e.Case
		case "invite":
			if e.Case == "" || len(e.To) == 0 {
				return fmt.Errorf("%s: invite needs case and to", f("to"))
			}
		case "leave", "close_case":
			if e.Case == "" {
				return fmt.Errorf("%s: required", f("case"))
			}
		case "update":
			if e.Subject == nil || *e.Subject == (SubjectChange{}) {
				return fmt.Errorf("%s: required, with at least one attribute to change", f("subject"))
			}
			if err := checkSubject(f("subject"), id, *e.Subject); err != nil {
				return err
			}
		case "correct", "withdraw":
			if !slices.Contains(recordTypes, e.Record) {
				return fmt.Errorf("%s: want one of %s", f("record"), strings.Join(recordTypes, ", "))
			}
			if e.Reason != "" && (e.Action != "withdraw" || !slices.Contains(withdrawalReasons, e.Reason)) {
				return fmt.Errorf("%s: only for withdraw, one of %s", f("reason"), strings.Join(withdrawalReasons, ", "))
			}
		}
	}
	// The events are played by day, those of a day in the order written:
	// a case must be opened by an event played before.
	// A case has one spelling: the gateway compares case ids without
	// regard to letter case, and the report would show two.
	opened := map[string]bool{}
	for _, i := range s.order() {
		e := s.Events[i]
		if was := cases[strings.ToLower(e.Case)]; e.Case != "" && was != "" && was != e.Case {
			return fmt.Errorf("events[%d].case: %q is case %q spelt otherwise: write it as it is opened", i, e.Case, was)
		}
		if e.Case != "" && e.Action != "open_case" && !opened[e.Case] {
			return fmt.Errorf("events[%d].case: case %q is not opened by an earlier event (day %d)", i, e.Case, e.Day)
		}
		if e.Action == "open_case" {
			opened[e.Case] = true
		}
	}
	if s.EndDay != 0 && s.EndDay < last {
		return fmt.Errorf("end_day: %d is before the last event (day %d)", s.EndDay, last)
	}
	// Every call is made at its day's time: one past 2199 is a time the
	// policy does not read (INVALID_TIME), every exchange of it refused.
	if d := start.AddDate(0, 0, max(s.EndDay, last)).Format(time.DateOnly); gateway.DateProblem(d) != "" {
		return fmt.Errorf("start: the last day played, day %d, is %s: the days played must fall from 1900-01-01 to 2199-12-31, the years the policy reads", max(s.EndDay, last), d)
	}
	for i, x := range s.Expect {
		f := func(name string) string { return fmt.Sprintf("expect[%d].%s", i, name) }
		if x.Name == "" {
			return fmt.Errorf("%s: required", f("name"))
		}
		if gateway.Mentions(x.Name, id) {
			return fmt.Errorf("%s: %s", f("name"), namesSubject)
		}
		if err := agency(f("agency"), x.Agency); err != nil {
			return err
		}
		switch {
		case x.Record == "" && x.Event == "":
			return fmt.Errorf("%s: required: give record (a record type) or event (a subject event), what the agency must learn", f("record"))
		case x.Record != "" && x.Event != "":
			return fmt.Errorf("%s: give record or event, not both", f("record"))
		}
		if x.Record != "" && !slices.Contains(recordTypes, x.Record) {
			return fmt.Errorf("%s: unknown record type %q", f("record"), x.Record)
		}
		if x.Event != "" && !slices.Contains(eventTypes, x.Event) {
			return fmt.Errorf("%s: unknown event type %q", f("event"), x.Event)
		}
		if x.Form != "" && !slices.Contains(forms, x.Form) {
			return fmt.Errorf("%s: want full, pseudonymised or hit_only", f("form"))
		}
		// The gaps are judged when the last day played ends: a day after
		// it never comes, and the expectation would be reported unmet.
		switch end := s.end(); {
		case x.ByDay < 0:
			return fmt.Errorf("%s: must not be negative", f("by_day"))
		case x.ByDay > end:
			return fmt.Errorf("%s: %d is after the last day played (%d): set end_day to it or later", f("by_day"), x.ByDay, end)
		}
	}
	return nil
}

// checkSubject checks the attributes a subject or an update gives.
func checkSubject(field, id string, c SubjectChange) error {
	if c.Category != "" && !slices.Contains(categories, c.Category) {
		return fmt.Errorf("%s.category: %q, want one of %s", field, c.Category, strings.Join(categories, ", "))
	}
	// The municipality as the gateway takes one (gateway.MunicipalityProblem):
	// every call about the person carries it, and each would be refused.
	if m := c.Municipality; m != "" {
		if p := gateway.MunicipalityProblem(m); p != "" {
			return fmt.Errorf("%s.municipality: %s", field, p)
		}
		if gateway.Mentions(m, id) {
			return fmt.Errorf("%s.municipality: %s", field, namesSubject)
		}
	}
	for _, d := range []struct{ name, v string }{{"release_date", c.ReleaseDate}, {"probation_until", c.ProbationUntil}} {
		if d.v != "" && !validDate(d.v) {
			return fmt.Errorf("%s.%s: %q, want a date YYYY-MM-DD", field, d.name, d.v)
		}
		// A date the gateway refuses (a year before 1900 or after 2199)
		// had every call about the person refused for it, and the
		// holder's answers too.
		if p := gateway.DateProblem(d.v); d.v != "" && p != "" {
			return fmt.Errorf("%s.%s: %q %s", field, d.name, d.v, p)
		}
	}
	return nil
}

// order is the order the events are played in: by day, those of a day in
// the order written.
func (s *Scenario) order() []int {
	order := make([]int, len(s.Events))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return s.Events[a].Day - s.Events[b].Day })
	return order
}

// maxNote is the longest note: the gateway's longest justification
// (maxJustificationLen there), which a note is sent as.
const maxNote = 2000

// namesSubject is the error of free text that names the person's
// identifier.
const namesSubject = "names the person's identifier (subject.id, default EX-0001), which the report never prints and the gateway refuses in a justification: say \"the person\" instead"

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func validID(s string) bool { return idRE.MatchString(s) }

// end is the last day played.
func (s *Scenario) end() int {
	end := s.EndDay
	for _, e := range s.Events {
		end = max(end, e.Day)
	}
	return end
}

func (s *Scenario) agency(id string) Agency {
	for _, a := range s.Agencies {
		if a.ID == id {
			return a
		}
	}
	return Agency{}
}
