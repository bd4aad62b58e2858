package policies

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Readiness answers the police checklist of the multi-agency practice this
// project comes from, for one jurisdiction, from a loaded policy: how and
// when local authorities and police are informed of a release; who does
// the risk assessment and whether local police get it; the role of the
// police in exit programmes and reintegration; who is in contact with the
// family; how police, probation and the local authority co-operate. Each
// answer is a decision of the policy on a representative exchange, before
// and after release; an answer that rests on an unverified reading of the
// law names the assumption.
type Readiness struct {
	Jurisdiction string `json:"jurisdiction"`
	Law          string `json:"law"`
	Revision     string `json:"revision"`
	// ReleaseDate is the release date of the representative subject; the
	// times of the answers are counted from it.
	ReleaseDate string `json:"release_date"`
	// ProbationUntil is the end of the representative subject's probation.
	ProbationUntil string     `json:"probation_until"`
	Practice       Practice   `json:"practice"`
	Questions      []Question `json:"questions"`
	// Assumptions are the assumptions answers rest on; answers refer to
	// them by number (1 is the first).
	Assumptions []string `json:"assumptions"`

	// check is the gateway's check of a decision against the record
	// schema, if any (ReadinessChecked).
	check func(Input, Decision) error
}

// A Question is one item of the checklist with the policy's answers.
type Question struct {
	ID       string `json:"id"`
	Question string `json:"question"`
	// Practice is what the pack says of how this is organised (not law),
	// with the numbers of its assumptions.
	Practice            string   `json:"practice,omitempty"`
	PracticeAssumptions []int    `json:"practice_assumptions,omitempty"`
	Answers             []Answer `json:"answers"`
}

// An Answer is the policy's decision on one representative exchange.
type Answer struct {
	// Exchange describes it: who shares what with whom, how and what for.
	Exchange string `json:"exchange"`
	// When is the time of the exchange relative to the release.
	When       string   `json:"when"`
	Outcome    string   `json:"outcome"`
	LegalBasis string   `json:"legal_basis,omitempty"`
	Citation   string   `json:"citation,omitempty"`
	ValidUntil string   `json:"valid_until,omitempty"`
	Conditions []string `json:"conditions,omitempty"`
	// Reasons are the decision's reason codes, without repeats; Why is the
	// first reason's message.
	Reasons     []string `json:"reasons"`
	Why         string   `json:"why"`
	Assumptions []int    `json:"assumptions,omitempty"`
	// Notice, for a notify the policy requires to be acknowledged: the
	// rule, and how long the recipient has before it is escalated and
	// before its deadline.
	Notice *AnswerNotice `json:"notice,omitempty"`
	// Input is the exchange as the policy saw it: `liaison policy simulate`
	// explains it in full.
	Input Input `json:"input"`
}

// AnswerNotice says that the recipient of a notify must acknowledge it.
type AnswerNotice struct {
	Rule     string `json:"rule"`
	Citation string `json:"citation"`
	// AcknowledgeWithin and EscalateAfter are counted from the notice, e.g.
	// "72h".
	AcknowledgeWithin string `json:"acknowledge_within"`
	EscalateAfter     string `json:"escalate_after"`
}

// The representative subject: released on readinessRelease, on probation
// for two years after.
var (
	readinessRelease   = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	readinessProbation = time.Date(2029, 2, 28, 0, 0, 0, 0, time.UTC)
)

// A moment is a time of an answer relative to the release.
type moment struct {
	label string
	t     time.Time
}

func daysFromRelease(days int) moment {
	t := readinessRelease.AddDate(0, 0, days).Add(9 * time.Hour)
	switch {
	case days < 0:
		return moment{fmt.Sprintf("%d days before release", -days), t}
	case days > 0:
		return moment{fmt.Sprintf("%d days after release", days), t}
	}
	return moment{"on the day of release", t}
}

var (
	releaseTimeline = []moment{daysFromRelease(-365), daysFromRelease(-180), daysFromRelease(-90), daysFromRelease(-30), daysFromRelease(30), daysFromRelease(400)}
	beforeAfter     = []moment{daysFromRelease(-30), daysFromRelease(30)}
	threePhases     = []moment{daysFromRelease(-30), daysFromRelease(30), {"after probation ended", readinessProbation.AddDate(0, 3, 0).Add(9 * time.Hour)}}
)

// An exchange is a representative exchange to put to the policy.
type exchange struct {
	action, holder, recipient, recordType, purpose string
	inCase                                         bool
}

// A notice is a representative notify: the route by which the gateway
// finds the recipient (its events are the moments asked about).
type notice struct {
	exchange
	event, route string
}

// Readiness evaluates the checklist for jurisdiction code under e. It
// fails if e has no pack for code. Each answer is the decision the gateway
// acts on, as replay decides it: where the policy cannot decide an
// exchange (undefined, or an error) the answer is the gateway's deny,
// POLICY_UNDEFINED or POLICY_ERROR, not a report that stops; a release
// under a basis that ended before the exchange's day is its deny,
// LEGAL_BASIS_EXPIRED (Engine.DenyExpiredBasis).
func (e *Engine) Readiness(ctx context.Context, code string) (*Readiness, error) {
	return e.ReadinessChecked(ctx, code, nil)
}

// ReadinessChecked is Readiness with check, the gateway's check of a
// decision against the record schema (gateway.CheckPlan), applied to each
// answer as the gateway applies it: a decision it refuses is answered
// deny, POLICY_ERROR.
func (e *Engine) ReadinessChecked(ctx context.Context, code string, check func(Input, Decision) error) (*Readiness, error) {
	p, ok, err := e.Pack(ctx, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("policies: readiness: no pack for jurisdiction %q", code)
	}
	r := &Readiness{
		Jurisdiction:   code,
		Law:            p.LawName,
		Revision:       e.Revision(),
		ReleaseDate:    readinessRelease.Format(time.DateOnly),
		ProbationUntil: readinessProbation.Format(time.DateOnly),
		Practice:       p.Practice,
		check:          check,
	}
	pr := p.Practice
	practiceRefs := r.refs([]string{pr.Assumption})
	lead := or(pr.CaseLead, "local_authority")
	before, after := or(pr.RiskAssessors.BeforeRelease, "prison"), or(pr.RiskAssessors.AfterRelease, "probation")
	q := func(id, question, practice string, moments []moment, xs []exchange) error {
		qq := Question{ID: id, Question: question, Practice: practice, Answers: []Answer{}}
		if practice != "" {
			qq.PracticeAssumptions = practiceRefs
		}
		for _, x := range xs {
			for _, m := range moments {
				a, err := e.answer(ctx, r, code, lead, x, m)
				if err != nil {
					return err
				}
				qq.Answers = append(qq.Answers, a)
			}
		}
		r.Questions = append(r.Questions, qq)
		return nil
	}

	if err := q("release", "How and when are the local authority and the police informed of a release?", "",
		releaseTimeline, []exchange{
			{"notify", "prison", "police", "release_notice", "risk_management", false},
			{"notify", "prison", "local_authority", "release_notice", "risk_management", false},
			{"notify", "police", "local_authority", "release_notice", "risk_management", false},
			{"disclose", "prison", "local_authority", "release_notice", "maw_case_management", true},
		}); err != nil {
		return nil, err
	}

	assessors := []string{before}
	if after != before {
		assessors = append(assessors, after)
	}
	var risk []exchange
	for _, k := range assessors {
		risk = append(risk,
			exchange{"request", k, "police", "risk_assessment", "risk_management", false},
			exchange{"request", k, "police", "risk_assessment", "maw_case_management", true})
	}
	if err := q("risk_assessment", "Who does the risk assessment, and will the local police get it?",
		fmt.Sprintf("Before release the %s assesses risk, after release the %s.", kindNoun(before), kindNoun(after)),
		threePhases, risk); err != nil {
		return nil, err
	}

	var exit []exchange
	for _, k := range pr.ExitProgrammeKinds {
		if k == "police" {
			exit = append(exit, exchange{"disclose", "police", "local_authority", "exit_programme_status", "resocialisation", false})
			continue
		}
		exit = append(exit,
			exchange{"disclose", k, "police", "exit_programme_status", "resocialisation", false},
			exchange{"disclose", k, "police", "exit_programme_status", "maw_case_management", true},
			exchange{"disclose", "police", k, "case_plan", "resocialisation", false},
			exchange{"disclose", "police", k, "case_plan", "maw_case_management", true})
	}
	if err := q("exit_programme", "What is the role of the police in exit programmes and reintegration?",
		fmt.Sprintf("Exit programmes are run by %s.", kindList(pr.ExitProgrammeKinds)),
		beforeAfter, exit); err != nil {
		return nil, err
	}

	var family []exchange
	for _, k := range pr.FamilyContactKinds {
		if k == "police" {
			family = append(family, exchange{"disclose", "police", "social_services", "family_contact", "family_support", false})
			continue
		}
		family = append(family,
			exchange{"disclose", k, "police", "family_contact", "family_support", false},
			exchange{"disclose", "police", k, "family_contact", "family_support", false})
	}
	if err := q("family", "Who is in contact with the family?",
		fmt.Sprintf("In contact with the family: %s.", kindList(pr.FamilyContactKinds)),
		beforeAfter, family); err != nil {
		return nil, err
	}

	// Who is told of a release, and by when must they acknowledge it?
	nq := Question{ID: "notices", Question: "Who is told of a release, and by when must they acknowledge it?", Answers: []Answer{}}
	var rules []string
	for _, n := range p.RequiredNotices {
		rules = append(rules, n.ID)
	}
	if len(rules) > 0 {
		nq.Practice = "Notices this law requires to be acknowledged (Liaison escalates them to the recipient's duty role and the sender before the deadline): " + strings.Join(rules, ", ") + "."
	} else {
		nq.Practice = "This law requires no notice to be acknowledged."
	}
	type noticeMoment struct {
		moment
		event string
	}
	releaseEvents := []noticeMoment{
		{moment{"release date set, 30 days before release", daysFromRelease(-30).t}, "release_date_set"},
		{moment{"release date brought forward, 2 days before release", daysFromRelease(-2).t}, "release_date_changed"},
		{moment{"released, on the day of release", daysFromRelease(0).t}, "released"},
	}
	breach := []noticeMoment{{moment{"breach of conditions, 30 days after release", daysFromRelease(30).t}, "breach_of_conditions"}}
	for _, n := range []struct {
		notice
		moments []noticeMoment
	}{
		{notice{exchange{"notify", "prison", "police", "release_notice", "risk_management", false}, "", "competent"}, releaseEvents},
		{notice{exchange{"notify", "prison", lead, "release_notice", "maw_case_management", true}, "", "case_member"}, releaseEvents},
		{notice{exchange{"notify", "prison", "probation", "release_notice", "risk_management", false}, "", "named"}, releaseEvents},
		{notice{exchange{"notify", "probation", "police", "probation_measures", "risk_management", false}, "", "competent"}, breach},
	} {
		for _, m := range n.moments {
			route := &Route{Role: n.route}
			switch n.route {
			case "competent":
				route.Area = "the municipality"
			case "case_member":
				route.Case = strings.ToUpper(code) + "-READINESS-1"
			}
			a, err := e.answerWith(ctx, r, code, lead, n.exchange, m.moment, func(in *Input) {
				in.Event, in.Route = &Event{Type: m.event}, route
			})
			if err != nil {
				return nil, err
			}
			a.Exchange += map[string]string{
				"competent": ", to the one competent where the person lives", "case_member": ", as a case member", "named": ", named",
			}[n.route]
			nq.Answers = append(nq.Answers, a)
		}
	}

	if err := q("cooperation", "How do the police, probation and the local authority co-operate?",
		fmt.Sprintf("Multi-agency working group: %s; cases are usually led by the %s.", or(pr.MAW, "not described"), kindNoun(lead)),
		threePhases, []exchange{
			{"request", "probation", "police", "probation_measures", "risk_management", false},
			{"disclose", "police", "probation", "police_observation", "risk_management", false},
			{"disclose", "probation", "local_authority", "case_plan", "maw_case_management", true},
			{"disclose", "police", "local_authority", "case_plan", "maw_case_management", true},
			{"disclose", "local_authority", "police", "case_plan", "maw_case_management", true},
		}); err != nil {
		return nil, err
	}
	r.Questions = append(r.Questions, nq)
	return r, nil
}

// answer decides one exchange at one moment.
func (e *Engine) answer(ctx context.Context, r *Readiness, code, lead string, x exchange, m moment) (Answer, error) {
	return e.answerWith(ctx, r, code, lead, x, m, nil)
}

// answerWith decides one exchange at one moment, its input changed by edit.
func (e *Engine) answerWith(ctx context.Context, r *Readiness, code, lead string, x exchange, m moment, edit func(*Input)) (Answer, error) {
	agency := func(kind string) Party {
		return Party{Agency: strings.ToLower(code) + "-" + strings.ReplaceAll(kind, "_", "-"), Kind: kind, Jurisdiction: code}
	}
	holder, recipient := agency(x.holder), agency(x.recipient)
	requester := recipient
	if x.action == "disclose" || x.action == "notify" {
		requester = holder
	}
	clearance := "restricted"
	if requester.Kind == "police" || requester.Kind == "intelligence" {
		clearance = "secret"
	}
	in := Input{
		Action: x.action,
		Time:   m.t.Format(time.RFC3339),
		Requester: Requester{Agency: requester.Agency, Kind: requester.Kind, Jurisdiction: code,
			Officer: Officer{ID: requester.Agency + "-officer", Roles: []string{}, Clearance: clearance}},
		Holder:    holder,
		Recipient: recipient,
		Subject: Subject{
			Category: "convicted", InCustody: m.t.Before(readinessRelease),
			ReleaseDate: r.ReleaseDate, ProbationUntil: r.ProbationUntil,
		},
		RecordType:    x.recordType,
		Purpose:       x.purpose,
		Justification: "Readiness report: representative exchange.",
	}
	label := fmt.Sprintf("%s → %s: %s (%s, %s)", kindNoun(x.holder), kindNoun(x.recipient), strings.ReplaceAll(x.recordType, "_", " "), x.action, strings.ReplaceAll(x.purpose, "_", " "))
	if x.inCase {
		members := []string{holder.Agency, recipient.Agency}
		if l := agency(lead).Agency; !slices.Contains(members, l) {
			members = append(members, l)
		}
		in.Case = &Case{ID: strings.ToUpper(code) + "-READINESS-1", Members: members, Lead: agency(lead).Agency}
		label += " in a MAW case"
	}
	if edit != nil {
		edit(&in)
	}
	ex, err := e.Explanation(ctx, in)
	if err == nil && r.check != nil {
		err = r.check(in, ex.Decision)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return Answer{}, fmt.Errorf("policies: readiness: %s at %s: %w", label, m.label, err)
		}
		// The gateway denies what the policy cannot decide (and a
		// decision its check refuses), as replay shows it.
		code := "POLICY_ERROR"
		if errors.Is(err, ErrUndefined) {
			code = "POLICY_UNDEFINED"
		}
		ex = Explanation{Decision: Decision{Outcome: OutcomeDeny, Reasons: []Reason{{
			Code: code, Message: "The policy could not decide on this exchange, so the gateway refuses it: " + err.Error(),
		}}}}
	}
	d := e.DenyExpiredBasis(in, ex.Decision)
	if d.Outcome != ex.Decision.Outcome {
		d.LegalBasis = nil // the answer is the deny, not a release under the basis that ended
		ex.Assumptions = nil
	}
	a := Answer{Exchange: label, When: m.label, Outcome: d.Outcome, Conditions: d.Conditions, Input: in, Assumptions: r.refs(ex.Assumptions)}
	for _, rs := range d.Reasons {
		if !slices.Contains(a.Reasons, rs.Code) {
			a.Reasons = append(a.Reasons, rs.Code)
		}
	}
	if len(d.Reasons) > 0 {
		a.Why = d.Reasons[0].Message
	}
	if lb := d.LegalBasis; lb != nil {
		a.LegalBasis, a.Citation, a.ValidUntil = lb.ID, lb.Citation, lb.ValidUntil
	}
	if n := d.Notice; n != nil {
		by, err1 := time.Parse(time.RFC3339Nano, n.AcknowledgeBy)
		esc, err2 := time.Parse(time.RFC3339Nano, n.EscalateAt)
		if err1 == nil && err2 == nil {
			a.Notice = &AnswerNotice{Rule: n.Rule, Citation: n.Citation, AcknowledgeWithin: hours(by.Sub(m.t)), EscalateAfter: hours(esc.Sub(m.t))}
			a.Assumptions = append(a.Assumptions, r.refs([]string{n.Assumption})...)
		}
	}
	return a, nil
}

// hours writes d as whole hours and minutes, e.g. "72h" or "7h30m".
func hours(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if m == 0 {
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// refs numbers assumptions (1-based, in order of first use) and returns
// the numbers of as.
func (r *Readiness) refs(as []string) []int {
	var ns []int
	for _, a := range as {
		if a == "" {
			continue
		}
		i := slices.Index(r.Assumptions, a)
		if i < 0 {
			r.Assumptions = append(r.Assumptions, a)
			i = len(r.Assumptions) - 1
		}
		if !slices.Contains(ns, i+1) {
			ns = append(ns, i+1)
		}
	}
	return ns
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var kindNouns = map[string]string{
	"police": "police", "probation": "probation service", "prison": "prison service",
	"social_services": "social services", "local_authority": "local authority",
	"intelligence": "intelligence service", "ngo": "NGO",
}

func kindNoun(k string) string { return or(kindNouns[k], k) }

func kindList(ks []string) string {
	if len(ks) == 0 {
		return "not described"
	}
	ns := make([]string, len(ks))
	for i, k := range ks {
		ns[i] = "the " + kindNoun(k)
	}
	if len(ns) == 1 {
		return ns[0]
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

// cell is an answer in a few words: the outcome and the basis or
// the first reason code, with assumption marks.
func (a Answer) cell(markdown bool) string {
	var s string
	switch {
	case a.LegalBasis != "" && markdown:
		s = fmt.Sprintf("**%s** `%s`", a.Outcome, a.LegalBasis)
	case a.LegalBasis != "":
		s = fmt.Sprintf("%s under %s", a.Outcome, a.LegalBasis)
	case len(a.Reasons) > 0:
		s = fmt.Sprintf("%s (%s)", a.Outcome, strings.Join(a.Reasons, ", "))
	default:
		s = a.Outcome
	}
	if n := a.Notice; n != nil {
		if markdown {
			s += fmt.Sprintf("; must acknowledge within %s (escalated after %s, `%s`)", n.AcknowledgeWithin, n.EscalateAfter, n.Rule)
		} else {
			s += fmt.Sprintf("; must acknowledge within %s (escalated after %s, %s)", n.AcknowledgeWithin, n.EscalateAfter, n.Rule)
		}
	}
	return s + marks(a.Assumptions)
}

func marks(ns []int) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, " [A%d]", n)
	}
	return b.String()
}

// grouped returns the answers of q by exchange, in order, and the moments
// in order of first appearance.
func (q Question) grouped() (exchanges []string, moments []string, cells map[[2]string]Answer) {
	cells = map[[2]string]Answer{}
	for _, a := range q.Answers {
		if !slices.Contains(exchanges, a.Exchange) {
			exchanges = append(exchanges, a.Exchange)
		}
		if !slices.Contains(moments, a.When) {
			moments = append(moments, a.When)
		}
		cells[[2]string{a.Exchange, a.When}] = a
	}
	return exchanges, moments, cells
}

// WriteText writes the report as plain text.
func (r *Readiness) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("Readiness of the %s policy (%s)\n", r.Jurisdiction, r.Law)
	ew.printf("policy revision %s\n", r.Revision)
	ew.printf("representative subject: convicted, released %s, on probation until %s\n", r.ReleaseDate, r.ProbationUntil)
	for i, q := range r.Questions {
		ew.printf("\n%d. %s\n", i+1, q.Question)
		if q.Practice != "" {
			ew.printf("   Practice (not law): %s%s\n", q.Practice, marks(q.PracticeAssumptions))
		}
		exchanges, moments, cells := q.grouped()
		for _, x := range exchanges {
			ew.printf("   %s\n", x)
			for _, m := range moments {
				if a, ok := cells[[2]string{x, m}]; ok {
					ew.printf("     %-24s %s\n", m+":", a.cell(false))
				}
			}
		}
		for _, line := range q.basisNotes() {
			ew.printf("   - %s\n", line)
		}
	}
	ew.printf("\nAssumptions (unverified readings the answers rest on)\n")
	for i, a := range r.Assumptions {
		ew.printf("  [A%d] %s\n", i+1, a)
	}
	return ew.err
}

// WriteMarkdown writes the report as Markdown, one table per question.
func (r *Readiness) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("# Readiness: %s (%s)\n\n", r.Jurisdiction, r.Law)
	ew.printf("Generated by `liaison policy readiness -jurisdiction %s -format markdown` from policy revision `%s`. ", r.Jurisdiction, r.Revision)
	ew.printf("Each cell is the policy's decision on a representative exchange about a convicted person released on %s and on probation until %s; ", r.ReleaseDate, r.ProbationUntil)
	ew.printf("**bold** outcomes rest on the legal basis named, others give the first reason codes. ")
	ew.printf("[A*n*] marks an answer that rests on an unverified reading of the law, listed at the end. ")
	ew.printf("`liaison policy simulate` explains any cell in full (`-format json` gives each input).\n")
	for i, q := range r.Questions {
		ew.printf("\n## %d. %s\n\n", i+1, q.Question)
		if q.Practice != "" {
			ew.printf("*Practice (not law):* %s%s\n\n", q.Practice, marks(q.PracticeAssumptions))
		}
		exchanges, moments, cells := q.grouped()
		ew.printf("| Exchange |")
		for _, m := range moments {
			ew.printf(" %s |", m)
		}
		ew.printf("\n|---|")
		for range moments {
			ew.printf("---|")
		}
		ew.printf("\n")
		for _, x := range exchanges {
			ew.printf("| %s |", x)
			for _, m := range moments {
				if a, ok := cells[[2]string{x, m}]; ok {
					ew.printf(" %s |", a.cell(true))
				} else {
					ew.printf(" |")
				}
			}
			ew.printf("\n")
		}
		if notes := q.basisNotes(); len(notes) > 0 {
			ew.printf("\n")
			for _, n := range notes {
				ew.printf("- %s\n", n)
			}
		}
	}
	ew.printf("\n## Assumptions\n\n")
	for i, a := range r.Assumptions {
		ew.printf("- **[A%d]** %s\n", i+1, a)
	}
	return ew.err
}

// basisNotes lists the legal bases the answers of q use, with their
// citation, how long they run and the conditions that travel with the data.
func (q Question) basisNotes() []string {
	var notes []string
	seen := map[string]bool{}
	for _, a := range q.Answers {
		if a.LegalBasis == "" || seen[a.LegalBasis+a.Citation] {
			continue
		}
		seen[a.LegalBasis+a.Citation] = true
		n := fmt.Sprintf("%s: %s", a.LegalBasis, a.Citation)
		if len(a.Conditions) > 0 {
			n += "; conditions " + strings.Join(a.Conditions, ", ")
		}
		notes = append(notes, n)
	}
	return notes
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
