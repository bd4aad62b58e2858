package policies

import (
	"fmt"
	"slices"
	"time"

	"github.com/liaison-gateway/liaison/internal/spelling"
)

// validateCaseAndNotice checks the parts of the contract that actions on
// cases and notices add: an action on a case is answered allow (in the
// case's pseudonym domain) or deny, nothing else is answered allow; a notice is required only on a notify
// that is not denied, with a rule, a citation and an escalation before
// its deadline.
func (d *Decision) validateCaseAndNotice(in Input) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	isCase := slices.Contains(CaseActions, in.Action)
	switch {
	case isCase && d.Outcome != OutcomeAllow && d.Outcome != OutcomeDeny:
		return bad("an action on a case (%s) is answered allow or deny, not %s", in.Action, d.Outcome)
	case !isCase && d.Outcome == OutcomeAllow:
		return bad("outcome allow answers only actions on a case, not %q", in.Action)
	case isCase && d.Outcome == OutcomeAllow && (in.Case == nil || d.PseudonymDomain != "case/"+in.Case.ID):
		// The case's pseudonyms live in its one domain for its whole life;
		// the entry of the action records the domain the decision names.
		return bad("an allow of an action on a case has pseudonym_domain case/<the input's case id>, not %q", d.PseudonymDomain)
	}
	n := d.Notice
	if n == nil {
		return nil
	}
	if in.Action != "notify" || d.Outcome == OutcomeDeny {
		return bad("a notice is required only on a notify that is not denied")
	}
	if !n.Required || n.Rule == "" || n.Citation == "" {
		return bad("notice needs required true, a rule and a citation")
	}
	if !spelling.Printable(n.Rule) || !spelling.Printable(n.Citation) {
		// The same rule as a legal basis's id and citation (validate):
		// the rule enters the log and the recipient's notice as it is,
		// the citation is what people read as the provision, and an
		// invisible character (a Hangul filler, a variation selector,
		// which unicode.IsPrint counts printable) is a second spelling
		// that looks like the first.
		return bad("notice %+q (%+q): the rule and the citation must be printable characters, none invisible", n.Rule, n.Citation)
	}
	by, err1 := time.Parse(time.RFC3339Nano, n.AcknowledgeBy)
	esc, err2 := time.Parse(time.RFC3339Nano, n.EscalateAt)
	// In UTC, as the contract says and OPA's time.format writes them: the
	// gateway records the deadline in UTC, and a time with an offset is a
	// policy that reads its clock otherwise than the contract does.
	if err1 != nil || err2 != nil || by.UTC().Format(time.RFC3339Nano) != n.AcknowledgeBy || esc.UTC().Format(time.RFC3339Nano) != n.EscalateAt {
		return bad("notice.acknowledge_by %q and notice.escalate_at %q must be RFC 3339 times in UTC (ending Z)", n.AcknowledgeBy, n.EscalateAt)
	}
	if !esc.Before(by) {
		return bad("notice.escalate_at %s is not before notice.acknowledge_by %s", n.EscalateAt, n.AcknowledgeBy)
	}
	return nil
}
