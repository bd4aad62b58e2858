package policies

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A Recorded is an audited decision, as replay needs it: the input the
// policy decided on (attributes, never identity) and what it decided.
type Recorded struct {
	// Index is the entry's index in the audit log.
	Index int64
	Input Input
	// Outcome and LegalBasis (an id, or empty) are what was decided.
	Outcome    string
	LegalBasis string
	// Fields are the fields the decision let through, as the fields
	// function given to [NewReplayer] names them.
	Fields []string
	// Conditions are the handling conditions the decision attached (the
	// audit entry's conditions): a candidate that adds or drops one
	// changes what binds the recipient, and replay reports it.
	Conditions []string
	// Received is set for a release received from another gateway: the
	// holder's law there chose what passed, so Fields and Conditions are
	// the release's, and this gateway's policy decided on receipt only
	// whether the recipient may receive it (Outcome and LegalBasis are
	// that decision's). Any decision on it but a deny passes the
	// release's fields and conditions as they are, whatever fields the
	// decision names; a deny passes none, the recorded one too: a
	// release refused on receipt (Outcome deny) passed nothing, and a
	// candidate that would take it newly discloses the release's fields,
	// not those of a plan of its own.
	Received bool
}

// A Change is a decision that the candidate policy takes differently.
type Change struct {
	Index      int64  `json:"index"`
	Time       string `json:"time"`
	Action     string `json:"action"`
	RecordType string `json:"record_type"`
	Purpose    string `json:"purpose"`
	Holder     Party  `json:"holder"`
	Recipient  Party  `json:"recipient"`
	// Before and After are the outcomes; Flipped is true when they differ.
	Before      string `json:"before"`
	After       string `json:"after"`
	Flipped     bool   `json:"flipped"`
	BeforeBasis string `json:"before_basis,omitempty"`
	AfterBasis  string `json:"after_basis,omitempty"`
	// NewlyDisclosed are fields the candidate lets through that were not
	// let through before (or now pass in a more revealing form); Withdrawn
	// the reverse.
	NewlyDisclosed []string `json:"newly_disclosed,omitempty"`
	Withdrawn      []string `json:"withdrawn,omitempty"`
	// ConditionsAdded are handling conditions the candidate attaches that
	// were not attached before; ConditionsDropped the reverse.
	ConditionsAdded   []string `json:"conditions_added,omitempty"`
	ConditionsDropped []string `json:"conditions_dropped,omitempty"`
	// Reasons are the candidate's reason codes.
	Reasons []string `json:"reasons"`
	// PlanCheck is, when the check given to [NewReplayer] (the gateway's
	// check of the field plan against the record schema) refused the
	// candidate's decision, so that it is replayed as a deny with reason
	// POLICY_ERROR, what the check found, naming the field: e.g. "outcome
	// pseudonymise passes the direct identifier Person.full_name in
	// clear". Empty for any other decision, a POLICY_ERROR of the engine's
	// own included.
	PlanCheck string `json:"plan_check,omitempty"`
	// BeforePlanCheck is the same for the decision before, when it is a
	// baseline policy's decision (replay -active) that the check refused:
	// a candidate that mends it shows as a flip from deny, and this says
	// why the active policy's decision was a deny.
	BeforePlanCheck string `json:"before_plan_check,omitempty"`
}

// A ReplayGroup sums up the changes for one recipient agency and legal
// basis (the candidate's, or the one used before if the candidate has none).
type ReplayGroup struct {
	Recipient  string `json:"recipient"`
	LegalBasis string `json:"legal_basis"`
	// Flips counts outcome changes by "before→after"; FieldChanges the
	// other changes (of fields, legal basis or conditions).
	Flips             map[string]int `json:"flips,omitempty"`
	FieldChanges      int            `json:"field_changes"`
	NewlyDisclosed    []string       `json:"newly_disclosed,omitempty"`
	Withdrawn         []string       `json:"withdrawn,omitempty"`
	ConditionsAdded   []string       `json:"conditions_added,omitempty"`
	ConditionsDropped []string       `json:"conditions_dropped,omitempty"`
	// PlanChecks counts the group's changes by what the plan check found
	// (Change.PlanCheck), for those it refused.
	PlanChecks map[string]int `json:"plan_checks,omitempty"`
	Indexes    []int64        `json:"indexes"`
}

// A ReplayReport is what a candidate policy would have changed.
type ReplayReport struct {
	// Candidate is the candidate's revision; Baseline is "recorded" when
	// the candidate is compared with the audited decisions, else the
	// revision of the policy it is compared with.
	Candidate string `json:"candidate"`
	Baseline  string `json:"baseline"`
	Replayed  int    `json:"replayed"`
	Unchanged int    `json:"unchanged"`
	// Skipped counts entries that could not be replayed, by reason.
	Skipped map[string]int `json:"skipped,omitempty"`
	Changes []Change       `json:"changes"`
	Groups  []ReplayGroup  `json:"groups"`
}

// Flips counts the changes whose outcome flipped.
func (r *ReplayReport) Flips() int {
	n := 0
	for _, c := range r.Changes {
		if c.Flipped {
			n++
		}
	}
	return n
}

// ConditionsOnly counts the changes that keep the outcome, the legal basis
// and the fields and add or drop handling conditions only.
func (r *ReplayReport) ConditionsOnly() int {
	n := 0
	for _, c := range r.Changes {
		if !c.Flipped && c.BeforeBasis == c.AfterBasis && len(c.NewlyDisclosed) == 0 && len(c.Withdrawn) == 0 {
			n++
		}
	}
	return n
}

// SummaryLine is the report's count line: flips, changes of fields or legal
// basis, changes of conditions only (when there are any) and unchanged.
func (r *ReplayReport) SummaryLine() string {
	flips, conds := r.Flips(), r.ConditionsOnly()
	line := fmt.Sprintf("%d decisions replayed: %d flip, %d change fields or legal basis only", r.Replayed, flips, len(r.Changes)-flips-conds)
	if conds > 0 {
		line += fmt.Sprintf(", %d change conditions only", conds)
	}
	return line + fmt.Sprintf(", %d unchanged", r.Unchanged)
}

// A Replayer re-decides recorded decisions under a candidate policy and
// collects what changes. It needs no personal data. Use it from one
// goroutine; [Replayer.AddAll] decides on several.
type Replayer struct {
	candidate, baseline *Engine
	fields              func(recordType string, d Decision) []string
	check               func(in Input, d Decision) error
	report              ReplayReport
	groups              map[[2]string]*ReplayGroup
}

// NewReplayer returns a Replayer for candidate. If baseline is nil, the
// candidate is compared with the recorded decisions; otherwise both are
// decided again and compared (useful when the log spans several policy
// revisions). fields lists the fields a decision lets through for a record
// type; check is the gateway's check of a decision against the record
// schema, which the engine does not know: a decision it refuses (a
// pseudonymise that keeps a direct identifier in clear, an assessment in
// clear to an NGO, a field name the schema does not have) is replayed as the gateway decides it, a deny with
// reason POLICY_ERROR, and the report shows what the check found (its
// error's text, without an [ErrMalformed] prefix: Change.PlanCheck), so
// the check must name fields, never a value. The schema-driven
// gateway.PlanFields and gateway.CheckPlan are meant (gateway.NewReplayer
// passes both); a nil check checks nothing.
func NewReplayer(candidate, baseline *Engine, fields func(recordType string, d Decision) []string, check func(in Input, d Decision) error) *Replayer {
	r := &Replayer{candidate: candidate, baseline: baseline, fields: fields, check: check, groups: map[[2]string]*ReplayGroup{}}
	r.report.Candidate = candidate.Revision()
	r.report.Baseline = "recorded"
	if baseline != nil {
		r.report.Baseline = baseline.Revision()
	}
	r.report.Changes = []Change{}
	return r
}

// Skip counts an entry that cannot be replayed, and why.
func (r *Replayer) Skip(why string) {
	if r.report.Skipped == nil {
		r.report.Skipped = map[string]int{}
	}
	r.report.Skipped[why]++
}

// Add replays one recorded decision. A candidate (or baseline) that
// cannot decide, or whose decision the check given to [NewReplayer]
// refuses, is taken to deny, as the gateway would (reason
// POLICY_UNDEFINED, or POLICY_ERROR). Add returns an error only if ctx is
// done.
func (r *Replayer) Add(ctx context.Context, rec Recorded) error {
	before, d, pc, err := r.decide(ctx, rec)
	if err != nil {
		return err
	}
	r.apply(rec, before, d, pc)
	return nil
}

// AddAll replays recs as calling Add on each in turn would, and leaves
// the same report (the changes in the order of recs), but decides up to
// GOMAXPROCS of them at once: a replay of a month of a national log takes
// the time of one decision divided by the cores, not by one. On an error
// it stops where Add would have stopped: the entries before the first one
// that fails are replayed, the others not.
func (r *Replayer) AddAll(ctx context.Context, recs []Recorded) error {
	type decided struct {
		before Recorded
		d      Decision
		pc     planChecks
		err    error
		done   bool
	}
	out := make([]decided, len(recs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(recs), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(recs); i = int(next.Add(1) - 1) {
				x := &out[i]
				if x.before, x.d, x.pc, x.err = r.decide(ctx, recs[i]); x.err != nil {
					return // this one and the ones after it are not applied
				}
				x.done = true
			}
		})
	}
	wg.Wait()
	for i, x := range out {
		if x.err != nil {
			return x.err
		}
		if !x.done { // not reached without an error before it; a guard
			return cmp.Or(ctx.Err(), errors.New("policies: replay: entry not decided"))
		}
		r.apply(recs[i], x.before, x.d, x.pc)
	}
	return nil
}

// decide decides rec again: what was decided before (recorded, or the
// baseline's decision) and the candidate's decision, with what the check
// found if it refused the candidate's (see decideAsTheGateway). It only
// reads r, so that AddAll can call it from several goroutines.
func (r *Replayer) decide(ctx context.Context, rec Recorded) (before Recorded, d Decision, pc planChecks, err error) {
	if err := ctx.Err(); err != nil {
		return Recorded{}, Decision{}, planChecks{}, err
	}
	before = rec
	if rec.Received && rec.Outcome == OutcomeDeny {
		// Refused on receipt: nothing passed (Fields and Conditions are
		// what a decision that takes the release passes).
		before.Fields, before.Conditions = nil, nil
	}
	if r.baseline != nil {
		bd, found, err := decideAsTheGateway(ctx, r.baseline, rec.Input, r.check)
		if err != nil {
			return Recorded{}, Decision{}, planChecks{}, err
		}
		before, pc.before = r.recorded(rec, bd), found
	}
	d, pc.after, err = decideAsTheGateway(ctx, r.candidate, rec.Input, r.check)
	if err != nil {
		return Recorded{}, Decision{}, planChecks{}, err
	}
	return before, d, pc, nil
}

// planChecks are what the gateway's check of the field plan found when it
// refused a decision: the candidate's (after) and, with a baseline, the
// baseline's (before); empty where it refused nothing.
type planChecks struct{ before, after string }

// decideAsTheGateway decides in under e as the gateway does: a policy
// that cannot decide denies, with reason POLICY_UNDEFINED if its decision
// is undefined, else POLICY_ERROR, and so does a decision check (the
// gateway's check against the schema, if not nil) refuses. For the
// latter, planCheck is what the check found (its error's text, without
// the ErrMalformed prefix); it is empty for any other decision, an
// evaluation error included (whose text is the engine's, not the
// check's). The error is ctx's only.
func decideAsTheGateway(ctx context.Context, e *Engine, in Input, check func(Input, Decision) error) (d Decision, planCheck string, err error) {
	d, err = e.Decide(ctx, in)
	checked := false
	if err == nil && check != nil {
		err = check(in, d)
		checked = err != nil
	}
	switch {
	case err == nil:
		return e.DenyExpiredBasis(in, d), "", nil
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return Decision{}, "", err
	case errors.Is(err, ErrUndefined):
		return Decision{Outcome: OutcomeDeny, Reasons: []Reason{{Code: "POLICY_UNDEFINED", Message: err.Error()}}}, "", nil
	}
	if checked {
		planCheck = strings.TrimPrefix(err.Error(), ErrMalformed.Error()+": ")
	}
	return Decision{Outcome: OutcomeDeny, Reasons: []Reason{{Code: "POLICY_ERROR", Message: err.Error()}}}, planCheck, nil
}

// DenyExpiredBasis is the gateway's defence in depth after a decision of
// e: a decision that releases under a legal basis whose valid_until is
// before the input's day (which a correct policy never chooses) is a
// deny, LEGAL_BASIS_EXPIRED, keeping the basis. valid_until is a day of
// the basis's law, as the policy reads it (BasisEnded), so the input's
// day is its time's day in that law's time zone, whatever offset the time
// is written with: under Danish law 2027-12-15T23:30:00Z and
// 2027-12-16T00:30:00+01:00 are both the 16th. Replay applies it as the
// gateway does.
func (e *Engine) DenyExpiredBasis(in Input, d Decision) Decision {
	if d.Outcome == OutcomeDeny || d.LegalBasis == nil || d.LegalBasis.ValidUntil == "" {
		return d
	}
	now, err := time.Parse(time.RFC3339Nano, in.Time)
	if err != nil || !e.BasisEnded(d.LegalBasis.ID, d.LegalBasis.ValidUntil, now) {
		return d
	}
	return Decision{Outcome: OutcomeDeny, LegalBasis: d.LegalBasis, Reasons: []Reason{{
		Code: "LEGAL_BASIS_EXPIRED", Message: "The legal basis for this exchange ended on " + d.LegalBasis.ValidUntil + ".",
	}}}
}

// apply records the candidate's decision d on rec against before;
// pc is what the check found where it refused the candidate's or the
// baseline's decision.
func (r *Replayer) apply(rec, before Recorded, d Decision, pc planChecks) {
	after := r.recorded(rec, d)
	r.report.Replayed++
	added, withdrawn := diff(after.Fields, before.Fields), diff(before.Fields, after.Fields)
	condAdded, condDropped := diff(after.Conditions, before.Conditions), diff(before.Conditions, after.Conditions)
	if before.Outcome == after.Outcome && before.LegalBasis == after.LegalBasis && len(added)+len(withdrawn)+len(condAdded)+len(condDropped) == 0 {
		r.report.Unchanged++
		return
	}
	c := Change{
		Index: rec.Index, Time: rec.Input.Time, Action: rec.Input.Action, RecordType: rec.Input.RecordType,
		Purpose: rec.Input.Purpose, Holder: rec.Input.Holder, Recipient: rec.Input.Recipient,
		Before: before.Outcome, After: after.Outcome, Flipped: before.Outcome != after.Outcome,
		BeforeBasis: before.LegalBasis, AfterBasis: after.LegalBasis,
		NewlyDisclosed: added, Withdrawn: withdrawn,
		ConditionsAdded: condAdded, ConditionsDropped: condDropped,
		PlanCheck: pc.after, BeforePlanCheck: pc.before,
	}
	for _, rs := range d.Reasons {
		c.Reasons = append(c.Reasons, rs.Code)
	}
	r.report.Changes = append(r.report.Changes, c)

	basis := cmp.Or(c.AfterBasis, c.BeforeBasis, "(no legal basis)")
	key := [2]string{c.Recipient.Agency, basis}
	g := r.groups[key]
	if g == nil {
		g = &ReplayGroup{Recipient: key[0], LegalBasis: key[1]}
		r.groups[key] = g
	}
	if c.Flipped {
		if g.Flips == nil {
			g.Flips = map[string]int{}
		}
		g.Flips[c.Before+"→"+c.After]++
	} else {
		g.FieldChanges++
	}
	g.NewlyDisclosed = union(g.NewlyDisclosed, added)
	g.Withdrawn = union(g.Withdrawn, withdrawn)
	g.ConditionsAdded = union(g.ConditionsAdded, condAdded)
	g.ConditionsDropped = union(g.ConditionsDropped, condDropped)
	if c.PlanCheck != "" {
		if g.PlanChecks == nil {
			g.PlanChecks = map[string]int{}
		}
		g.PlanChecks[c.PlanCheck]++
	}
	g.Indexes = append(g.Indexes, c.Index)
}

// recorded turns a decision on rec's input into a Recorded.
func (r *Replayer) recorded(rec Recorded, d Decision) Recorded {
	out := Recorded{Index: rec.Index, Input: rec.Input, Outcome: d.Outcome, Conditions: d.Conditions}
	if d.LegalBasis != nil {
		out.LegalBasis = d.LegalBasis.ID
	}
	if rec.Received {
		out.Received, out.Conditions = true, nil
		if d.Outcome != OutcomeDeny {
			out.Fields, out.Conditions = rec.Fields, rec.Conditions
		}
		return out
	}
	if r.fields != nil {
		out.Fields = r.fields(rec.Input.RecordType, d)
	}
	return out
}

// Report returns the report so far, groups sorted by recipient and basis.
func (r *Replayer) Report() *ReplayReport {
	rep := r.report
	rep.Groups = nil
	for _, k := range slices.SortedFunc(maps.Keys(r.groups), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	}) {
		rep.Groups = append(rep.Groups, *r.groups[k])
	}
	return &rep
}

// diff returns the elements of a not in b, sorted.
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	slices.Sort(a)
	return a
}

// WriteText writes the report for a legal officer: a summary, the changes
// by recipient agency and legal basis, then each change.
func (r *ReplayReport) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	baseline := "the recorded decisions"
	if r.Baseline != "recorded" {
		baseline = "policy " + r.Baseline
	}
	ew.printf("candidate %s against %s\n", r.Candidate, baseline)
	ew.printf("%s\n", r.SummaryLine())
	if len(r.Skipped) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Skipped)) {
			parts = append(parts, fmt.Sprintf("%d %s", r.Skipped[k], k))
		}
		ew.printf("skipped: %s\n", strings.Join(parts, ", "))
	}
	if len(r.Changes) == 0 {
		ew.printf("\nThe candidate decides every replayed exchange as before.\n")
		return ew.err
	}
	ew.printf("\nBy recipient agency and legal basis:\n")
	for _, g := range r.Groups {
		var flips []string
		for _, k := range slices.Sorted(maps.Keys(g.Flips)) {
			flips = append(flips, fmt.Sprintf("%s ×%d", k, g.Flips[k]))
		}
		ew.printf("  %s, %s:", g.Recipient, g.LegalBasis)
		if len(flips) > 0 {
			ew.printf(" flips %s;", strings.Join(flips, ", "))
		}
		if g.FieldChanges > 0 {
			ew.printf(" %d field changes;", g.FieldChanges)
		}
		ew.printf(" newly disclosed: %s; withdrawn: %s", listOrNone(g.NewlyDisclosed), listOrNone(g.Withdrawn))
		if len(g.ConditionsAdded)+len(g.ConditionsDropped) > 0 {
			ew.printf("; conditions added: %s; conditions dropped: %s", listOrNone(g.ConditionsAdded), listOrNone(g.ConditionsDropped))
		}
		ew.printf("\n")
		for _, k := range slices.Sorted(maps.Keys(g.PlanChecks)) {
			ew.printf("      plan check ×%d: %s\n", g.PlanChecks[k], k)
		}
	}
	ew.printf("\nChanges:\n")
	for _, c := range r.Changes {
		ew.printf("  #%d %s %s %s for %s: %s (%s) → %s (%s): %s → %s",
			c.Index, c.Time, c.Action, strings.ReplaceAll(c.RecordType, "_", " "), strings.ReplaceAll(c.Purpose, "_", " "),
			c.Holder.Agency, c.Holder.Jurisdiction, c.Recipient.Agency, c.Recipient.Jurisdiction,
			withBasis(c.Before, c.BeforeBasis), withBasis(c.After, c.AfterBasis))
		if len(c.Reasons) > 0 {
			ew.printf(" [%s]", strings.Join(c.Reasons, ", "))
		}
		ew.printf("\n")
		if c.BeforePlanCheck != "" {
			ew.printf("      plan check, before: %s\n", c.BeforePlanCheck)
		}
		if c.PlanCheck != "" {
			ew.printf("      plan check: %s\n", c.PlanCheck)
		}
		if len(c.NewlyDisclosed) > 0 {
			ew.printf("      newly disclosed: %s\n", strings.Join(c.NewlyDisclosed, ", "))
		}
		if len(c.Withdrawn) > 0 {
			ew.printf("      withdrawn: %s\n", strings.Join(c.Withdrawn, ", "))
		}
		if len(c.ConditionsAdded) > 0 {
			ew.printf("      conditions added: %s\n", strings.Join(c.ConditionsAdded, ", "))
		}
		if len(c.ConditionsDropped) > 0 {
			ew.printf("      conditions dropped: %s\n", strings.Join(c.ConditionsDropped, ", "))
		}
	}
	return ew.err
}

func withBasis(outcome, basis string) string {
	if basis == "" {
		return outcome
	}
	return outcome + " under " + basis
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
