package policies

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/liaison-gateway/liaison/internal/spelling"
)

var (
	codeRE      = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)
	fieldNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)
	// basisIDRE is the one spelling of a legal basis id: lower-case parts
	// joined by '.', as the audit log's query filters them
	// (QueryRequest.legal_basis) and as the gateway spells a case's kind.
	basisIDRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)
)

// maxBasisIDLen bounds a legal basis id, as QueryRequest.legal_basis does.
const maxBasisIDLen = 128

// fieldClasses are the field classes of the protobuf schema annotations.
var fieldClasses = map[string]bool{
	"direct_identifier": true,
	"quasi_identifier":  true,
	"sensitive":         true,
	"assessment":        true,
	"operational":       true,
	"free_text":         true,
}

// validate checks d against the contract of Decision. A violation is a
// policy bug, reported as ErrMalformed.
func (d *Decision) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	switch d.Outcome {
	case OutcomeDisclose, OutcomeAllow:
		if d.LegalBasis == nil {
			return bad("outcome %s without a legal_basis", d.Outcome)
		}
	case OutcomePseudonymise, OutcomeHitOnly, OutcomeDeny:
	default:
		return bad("unknown outcome %q", d.Outcome)
	}
	if d.Outcome != OutcomeDeny && d.PseudonymDomain == "" {
		return bad("outcome %s without a pseudonym_domain", d.Outcome)
	}
	if d.Outcome == OutcomeDeny {
		// A denial releases nothing and binds nobody: it has reasons only
		// (no legal_basis, no pseudonym_domain, conditions []).
		switch {
		case d.LegalBasis != nil:
			return bad("outcome deny with a legal_basis")
		case d.PseudonymDomain != "":
			return bad("outcome deny with a pseudonym_domain")
		case len(d.Conditions) > 0:
			return bad("outcome deny with conditions")
		}
	}
	if lb := d.LegalBasis; lb != nil {
		if lb.ID == "" || lb.Citation == "" {
			return bad("legal_basis needs an id and a citation")
		}
		if !spelling.Printable(lb.ID) || !spelling.Printable(lb.Citation) {
			// Each enters the log, the recipient's notices and onward
			// rules as it is, and a peer gateway refuses a basis spelt
			// otherwise (forwarded.receipt): an invisible character (a
			// Hangul filler, a variation selector, which unicode.IsPrint
			// counts printable) is a second spelling that looks like the
			// first.
			return bad("legal_basis %+q (%+q): the id and the citation must be printable characters, none invisible", lb.ID, lb.Citation)
		}
		if lb.ValidUntil != "" {
			if _, err := time.Parse(time.DateOnly, lb.ValidUntil); err != nil {
				return bad("legal_basis.valid_until %q is not a date YYYY-MM-DD", lb.ValidUntil)
			}
		}
	}
	lists := [][]string{d.Fields.Keep, d.Fields.Generalise, d.Fields.Pseudonymise}
	for _, l := range lists {
		for _, f := range l {
			if !fieldClasses[f] && !fieldNameRE.MatchString(f) {
				return bad("field %q is neither a field class nor a field name such as RiskAssessment.level", f)
			}
		}
	}
	if (d.Outcome == OutcomeDeny || d.Outcome == OutcomeHitOnly || d.Outcome == OutcomeAllow) &&
		len(d.Fields.Keep)+len(d.Fields.Generalise)+len(d.Fields.Pseudonymise) > 0 {
		return bad("outcome %s must not pass any field", d.Outcome)
	}
	switch d.Fields.Precision {
	case "", "year", "month", "week":
	default:
		return bad("fields.precision %q is not year, month or week", d.Fields.Precision)
	}
	for i, c := range d.Conditions {
		if !codeRE.MatchString(c) {
			return bad("condition %q is not an UPPER_SNAKE code", c)
		}
		if i > 0 && d.Conditions[i-1] >= c {
			// One spelling of a decision's conditions, as the entry
			// records them and the recipient is bound by them.
			return bad("conditions are not sorted, each once (%q before %q)", d.Conditions[i-1], c)
		}
	}
	if a := d.Approval; a != nil {
		if d.Outcome != OutcomeDisclose {
			return bad("approval with outcome %s: only a re-identification that may proceed (disclose) has approvers", d.Outcome)
		}
		if a.Quorum < 1 || len(a.Roles) == 0 {
			return bad("approval needs a quorum of at least 1 and at least one role")
		}
		if a.Agencies != nil && len(a.Agencies) == 0 {
			// Present, it limits the approvers to these agencies: a list
			// naming none is not the absent list that limits nothing,
			// and the gateway must not read it so.
			return bad("approval.agencies names no agency: nobody could approve (leave it out to let any agency's approvers approve)")
		}
		if slices.Contains(a.Roles, "") || slices.Contains(a.Agencies, "") {
			return bad("approval names an empty role or agency")
		}
		// The gateway records the approvers in the request's audit entry,
		// each list joined by ',', and approves by what it reads back: a
		// role "a,b" (one string where two were meant) was read as the
		// roles "a" and "b", an agency "x,y" as two agencies, approvers the
		// decision never named. White space, an invisible character
		// (spelling.Unprintable: a control or format character, and a
		// Hangul filler or a variation selector, which unicode.IsPrint
		// counts printable) or a decomposed letter (not NFC) is a
		// spelling no token's roles claim, nor agency id, matches: one
		// that looks like the role meant, which nobody could approve as.
		for _, n := range slices.Concat(a.Roles, a.Agencies) {
			if strings.ContainsFunc(n, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) || !spelling.Printable(n) || !norm.NFC.IsNormalString(n) {
				return bad("approval names the role or agency %q: want printable characters in Unicode NFC, no white space and no ','", n)
			}
		}
		if w, err := time.ParseDuration(a.ExpiresAfter); err != nil || w <= 0 {
			return bad("approval.expires_after %q is not a positive duration such as 72h", a.ExpiresAfter)
		}
	}
	if len(d.Reasons) == 0 {
		return bad("no reasons")
	}
	for _, r := range d.Reasons {
		if !codeRE.MatchString(r.Code) || r.Message == "" {
			return bad("reason %+v needs an UPPER_SNAKE code and a message", r)
		}
	}
	return nil
}

// releaseActions are the actions whose decision names the domain the
// recipient's pseudonyms are made in.
var releaseActions = []string{"disclose", "request", "notify", "match"}

// recipientDomain reports whether domain is one the contract gives the
// recipient of in (policies/README.md, pseudonym_domain): its own for the
// purpose, <recipient agency>/<purpose>, or case/<case id> of the input's
// case when the requester and the recipient are both members of it.
func recipientDomain(in Input, domain string) bool {
	if domain == in.Recipient.Agency+"/"+in.Purpose {
		return true
	}
	c := in.Case
	return c != nil && c.ID != "" && domain == "case/"+c.ID &&
		slices.Contains(c.Members, in.Requester.Agency) && slices.Contains(c.Members, in.Recipient.Agency)
}

// validateFor checks d as the answer to in: a re-identification that may
// proceed must say who approves it (the contract of [Decision.Approval]).
func (d *Decision) validateFor(in Input) error {
	if err := d.validate(); err != nil {
		return err
	}
	if in.Action == "reidentify" && d.Outcome == OutcomeDisclose && d.Approval == nil {
		return fmt.Errorf("%w: a reidentify decision with outcome disclose needs an approval", ErrMalformed)
	}
	if in.Action != "reidentify" && d.Approval != nil {
		return fmt.Errorf("%w: approval on a %q decision: only a re-identification has approvers", ErrMalformed, in.Action)
	}
	switch {
	case in.Action == "translate" && d.Outcome != OutcomePseudonymise && d.Outcome != OutcomeDeny:
		// A translation maps a pseudonym into another domain: it is
		// pseudonymous or it is nothing.
		return fmt.Errorf("%w: a translate decision's outcome %s: only pseudonymise or deny", ErrMalformed, d.Outcome)
	case in.Action == "match" && d.Outcome != OutcomeHitOnly && d.Outcome != OutcomeDeny:
		// A match answers whether the holder holds something: a hit or
		// no hit, never content.
		return fmt.Errorf("%w: a match decision's outcome %s: only hit_only or deny", ErrMalformed, d.Outcome)
	case in.Action == "reidentify" && d.Outcome != OutcomeDisclose && d.Outcome != OutcomeDeny:
		// A re-identification proceeds under dual control (disclose,
		// with its approval) or not at all.
		return fmt.Errorf("%w: a reidentify decision's outcome %s: only disclose or deny", ErrMalformed, d.Outcome)
	}
	if lb := d.LegalBasis; lb != nil && !slices.Contains(CaseActions, in.Action) &&
		(len(lb.ID) > maxBasisIDLen || !basisIDRE.MatchString(lb.ID)) {
		// One spelling, the one the log's query filters by. An action on
		// a case is allowed under the case's kind, which the gateway
		// checked so when the case was opened.
		return fmt.Errorf("%w: legal_basis.id %q is not lower-case parts joined by '.' (at most %d characters), such as dk.rpl.115.stk1.nr3", ErrMalformed, lb.ID, maxBasisIDLen)
	}
	if in.Action == "translate" && d.Outcome == OutcomePseudonymise && d.LegalBasis == nil {
		// Only a basis allows a translation, never a fallback: the entry
		// names the provision the pseudonym was mapped under.
		return fmt.Errorf("%w: a translate decision with outcome pseudonymise needs a legal_basis", ErrMalformed)
	}
	if in.Action == "translate" && d.Outcome != OutcomeDeny && (in.Case == nil || d.PseudonymDomain != "case/"+in.Case.ID) {
		// The gateway maps the pseudonym into this domain: only the
		// domain of the case the request names may receive it.
		return fmt.Errorf("%w: a translate decision's pseudonym_domain %q is not case/<the input's case id>", ErrMalformed, d.PseudonymDomain)
	}
	if slices.Contains(releaseActions, in.Action) && d.Outcome != OutcomeDeny && !recipientDomain(in, d.PseudonymDomain) {
		// The gateway makes the recipient's pseudonyms in this domain: one
		// of another agency, or of another purpose, would let the
		// recipient link what it gets to what that domain's holder got.
		return fmt.Errorf("%w: a %s decision's pseudonym_domain %q is neither <recipient agency>/<purpose> (%s/%s) nor case/<the input's case id> of a case the requester and recipient are members of",
			ErrMalformed, in.Action, d.PseudonymDomain, in.Recipient.Agency, in.Purpose)
	}
	if p := in.Provenance; p != nil && d.Outcome != OutcomeDeny {
		// The conditions a record was received under travel with it (LED
		// Art. 9(3)): a policy that lets it go on without them is broken.
		for _, c := range p.Conditions {
			if !slices.Contains(d.Conditions, c) {
				return fmt.Errorf("%w: the record's provenance carries condition %s, which the decision drops", ErrMalformed, c)
			}
		}
	}
	return d.validateCaseAndNotice(in)
}
