package policies

import (
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// value converts in to the Rego value its JSON encoding would give, without
// going through JSON: building the AST directly is about 3x faster and
// allocates less (see BenchmarkInputValue). TestInputValueMatchesJSON keeps
// the two in step; a field added to Input must be added here too.
func (in Input) value() ast.Value {
	pairs := [][2]*ast.Term{
		str("action", in.Action),
		{stringTerm("time"), ast.StringTerm(in.Time)},
		{stringTerm("requester"), ast.NewTerm(ast.NewObject(
			str("agency", in.Requester.Agency),
			str("kind", in.Requester.Kind),
			str("jurisdiction", in.Requester.Jurisdiction),
			[2]*ast.Term{stringTerm("officer"), ast.NewTerm(ast.NewObject(
				str("id", in.Requester.Officer.ID),
				strs("roles", in.Requester.Officer.Roles),
				str("clearance", in.Requester.Officer.Clearance),
			))},
		))},
		{stringTerm("holder"), in.Holder.term()},
		{stringTerm("recipient"), in.Recipient.term()},
		{stringTerm("subject"), ast.NewTerm(ast.NewObject(
			str("category", in.Subject.Category),
			[2]*ast.Term{stringTerm("in_custody"), ast.InternedTerm(in.Subject.InCustody)},
			str("release_date", in.Subject.ReleaseDate),
			str("probation_until", in.Subject.ProbationUntil),
			str("municipality", in.Subject.Municipality),
		))},
		str("record_type", in.RecordType),
		str("purpose", in.Purpose),
		str("claimed_legal_basis", in.ClaimedLegalBasis),
		{stringTerm("justification"), ast.StringTerm(in.Justification)},
	}
	if c := in.Case; c != nil {
		cp := [][2]*ast.Term{str("id", c.ID), strs("members", c.Members), str("lead", c.Lead)}
		for _, kv := range [][2]string{{"kind", c.Kind}, {"jurisdiction", c.Jurisdiction}, {"requester_status", c.RequesterStatus}} {
			if kv[1] != "" {
				cp = append(cp, str(kv[0], kv[1]))
			}
		}
		if len(c.Invited) > 0 {
			cp = append(cp, strs("invited", c.Invited))
		}
		pairs = append(pairs, [2]*ast.Term{stringTerm("case"), ast.NewTerm(ast.NewObject(cp...))})
	}
	if ev := in.Event; ev != nil {
		pairs = append(pairs, [2]*ast.Term{stringTerm("event"), ast.NewTerm(ast.NewObject(str("type", ev.Type)))})
	}
	if r := in.Route; r != nil {
		rp := [][2]*ast.Term{str("role", r.Role)}
		for _, kv := range [][2]string{{"area", r.Area}, {"case", r.Case}, {"basis", r.Basis}} {
			if kv[1] != "" {
				rp = append(rp, str(kv[0], kv[1]))
			}
		}
		pairs = append(pairs, [2]*ast.Term{stringTerm("route"), ast.NewTerm(ast.NewObject(rp...))})
	}
	if p := in.Provenance; p != nil {
		pairs = append(pairs, [2]*ast.Term{stringTerm("provenance"), ast.NewTerm(ast.NewObject(
			[2]*ast.Term{stringTerm("audit_index"), ast.IntNumberTerm(int(p.AuditIndex))},
			[2]*ast.Term{stringTerm("holder"), p.Holder.term()},
			[2]*ast.Term{stringTerm("recipient"), p.Recipient.term()},
			str("legal_basis", p.LegalBasis),
			str("valid_until", p.ValidUntil),
			str("purpose", p.Purpose),
			str("case_id", p.CaseID),
			strs("conditions", p.Conditions),
		))})
	}
	return ast.NewObject(pairs...)
}

// term is p as a Rego object, kept (keptParties) as the words are: the
// holder and the recipient of one request are those of many.
func (p Party) term() *ast.Term {
	if t, ok := keptParties.Load(p); ok {
		return t.(*ast.Term)
	}
	t := ast.NewTerm(ast.NewObject(
		str("agency", p.Agency),
		str("kind", p.Kind),
		str("jurisdiction", p.Jurisdiction),
	))
	if keptCount.Load() < maxKeptTerms && len(p.Agency)+len(p.Kind)+len(p.Jurisdiction) <= maxKeptLen {
		if _, loaded := keptParties.LoadOrStore(p, t); !loaded {
			keptCount.Add(1)
		}
	}
	return t
}

func str(k, v string) [2]*ast.Term {
	return [2]*ast.Term{stringTerm(k), stringTerm(v)}
}

// stringTerm is the term for s: a shared one for the keys of the input and
// the words of the vocabulary, which come in every request, and for the
// other words of the input that repeat from one request to the next
// (agencies, officers, roles, dates, case ids: keptTerms), else a new one.
// OPA never changes a term of the input, and shares its own interned terms
// in the same way. The time and the justification, which hardly ever
// repeat, are not looked up here (Input.value).
func stringTerm(s string) *ast.Term {
	if t, ok := sharedTerms[s]; ok {
		return t
	}
	if t, ok := keptTerms.Load(s); ok {
		return t.(*ast.Term)
	}
	t := ast.StringTerm(s)
	if keptCount.Load() < maxKeptTerms && len(s) <= maxKeptLen {
		if _, loaded := keptTerms.LoadOrStore(s, t); !loaded {
			keptCount.Add(1)
		}
	}
	return t
}

// keptTerms are the terms of words of inputs that are not in sharedTerms,
// kept once made so that the next input naming the same agency, officer or
// day costs no allocation (two a word otherwise: the term and its value).
// At most maxKeptTerms of them and of keptParties together, of at most
// maxKeptLen bytes, are kept (a few megabytes), the first ones seen; once
// full, words and parties are made anew each time, as before.
var (
	keptTerms   sync.Map // string -> *ast.Term
	keptParties sync.Map // Party -> *ast.Term, an object
	keptCount   atomic.Int64
)

const (
	maxKeptTerms = 16384
	maxKeptLen   = 256
)

var sharedTerms = func() map[string]*ast.Term {
	words := []string{
		"",
		// keys
		"action", "time", "requester", "agency", "kind", "jurisdiction", "officer", "id", "roles",
		"clearance", "holder", "recipient", "subject", "category", "in_custody", "release_date",
		"probation_until", "municipality", "record_type", "purpose", "claimed_legal_basis",
		"justification", "case", "members", "lead",
		"invited", "requester_status", "event", "type", "route", "role", "area", "basis",
		"provenance", "audit_index", "legal_basis", "valid_until", "case_id", "conditions",
		// actions, agency kinds, jurisdictions
		"disclose", "request", "notify", "match", "translate", "reidentify",
		"police", "probation", "prison", "social_services", "local_authority", "intelligence", "ngo",
		"DK", "NL", "BE", "FR", "DE-BY", "DE-NI",
		// record types, purposes
		"release_notice", "risk_assessment", "probation_measures", "exit_programme_status",
		"family_contact", "case_plan", "police_observation",
		"risk_management", "resocialisation", "maw_case_management", "family_support",
		"criminal_investigation", "statistics",
		// subject categories, clearances
		"convicted", "suspect", "victim", "other",
		"none", "restricted", "confidential", "secret", "top_secret",
	}
	m := make(map[string]*ast.Term, len(words))
	for _, w := range words {
		m[w] = ast.StringTerm(w)
	}
	return m
}()

var nullTerm = ast.NullTerm()

// strs encodes a string slice as JSON would: nil as null.
func strs(k string, vs []string) [2]*ast.Term {
	if vs == nil {
		return [2]*ast.Term{stringTerm(k), nullTerm}
	}
	ts := make([]*ast.Term, len(vs))
	for i, v := range vs {
		ts[i] = stringTerm(v)
	}
	return [2]*ast.Term{stringTerm(k), ast.ArrayTerm(ts...)}
}
