# METADATA
# title: Liaison decision
# description: >-
#   data.liaison.decision answers one exchange: disclose, pseudonymise,
#   hit_only or deny. The law of the holder's jurisdiction governs; it comes
#   as data from a jurisdiction pack (package liaison.jurisdictions.<code>).
#   The rules here are the same for every pack. See policies/README.md.
# entrypoint: true
package liaison

# decision is the one answer for the input. It is defined for every input
# (a malformed input is denied, never undefined) and has exactly one value:
# the stages below are tried in order and the first that applies decides.
# A notify the holder's law requires to be acknowledged carries "notice"
# (notices.rego); only a notify can (_notice_rule_id).
decision := _with_notice(_result.decision) if {
	_in.action == "notify"
} else := _result.decision

# explain says how decision was reached, for `liaison policy simulate`:
# the stage that decided, every legal basis of the pack with why it does
# or does not apply, and every fallback rule; and the unverified readings
# of law (assumptions) the decision rests on. An action on a case is
# explained by its case kind (cases.rego).
explain := _case_explain if {
	_case_action
} else := {
	"decision": decision,
	"stage": _result.stage,
	"lines": _explain_lines,
	"assumptions": _explain_assumptions,
}

# _result pairs the decision with the stage that produced it. Actions on a
# case, and a malformed event or route, are decided before the stages of
# an exchange (_pre_result, in cases.rego and notices.rego); then the fast
# lane's decision if it decides, else the stages'. A request with no
# event, no route and not on a case cannot be decided before the stages
# (_pre_applies needs one of them), so the fast lane is tried first, and
# where it does not decide, the stages do, without asking _pre_applies
# (nine rules entered to find nothing). An event or route given as false
# is malformed, for _pre_applies to find.
_result := r if {
	not _in.event
	not _in.route
	not _in.action in case_actions
	r := _fast_result
} else := _staged_result if {
	not _in.event
	not _in.route
	not _in.action in case_actions
	not _in.event == false
	not _in.route == false
} else := _pre_result if {
	_pre_applies
} else := r if {
	r := _fast_result
} else := _staged_result

# _staged_result tries the stages in order; the first that applies decides.
_staged_result := {"stage": "validation", "decision": _deny(_invalid_reasons)} if {
	not _valid_input = true # = true: see _fast_result
} else := {"stage": "parties", "decision": _deny(_sorted(_party_reasons))} if {
	not _parties_fit = true
} else := {"stage": "prohibition", "decision": _deny(_sorted(_prohibition_reasons))} if {
	_prohibited = true
	count(_prohibition_reasons) > 0
} else := {"stage": "onward", "decision": _deny(_sorted(_onward_reasons))} if {
	_in.provenance != null # there are none without one (_provenance_valid)
	count(_onward_reasons) > 0
} else := {"stage": "assessment_to_ngo", "decision": _deny([_assessment_to_ngo_reason])} if {
	_assessment_to_ngo = true
} else := {"stage": "recipient_law", "decision": _deny(_recipient_law_reasons)} if {
	_recipient_law_refuses = true
} else := {"stage": "claimed_basis", "decision": _deny(_claim_reasons)} if {
	_in.claimed_legal_basis != ""
	count(_claim_reasons) > 0
} else := {"stage": "legal_basis", "decision": _basis_decision} if {
	_ = _chosen_basis_id # an id, never false
} else := {"stage": "fallback", "decision": _fallback_decision} if {
	_ = _fallback_index # an index, never false
} else := {"stage": "no_basis", "decision": _deny(_no_basis_reasons)}

# ---------------------------------------------------------------------------
# The fast lane. Most requests are valid, stay within one jurisdiction and
# are covered by a legal basis. _fast_result decides those in one pass over
# local values: the same checks as the stages, in the order they come,
# written out (OPA evaluates a rule or function call many times slower than
# an expression), with what does not depend on the request looked up in
# the pack index (index.rego). It is undefined for every other request,
# which the stages decide. Where it decides, it decides as the stages would:
# TestFastLaneDecidesAsTheStages (policies/fastlane_test.go) checks this,
# and that _fast_bases finds what _parties_covered and _basis_ok accept,
# on thousands of generated requests (go test ./policies).
_fast_result := {"stage": "legal_basis", "decision": _with_approval(v, {
	"outcome": parts.outcome,
	"legal_basis": object.union(parts.legal_basis, until),
	"fields": parts.fields,
	"pseudonym_domain": case.domain,
	"conditions": _with_carried(parts.conditions),
	"reasons": parts.reasons,
})} if {
	# stage 1: the request is valid. A rule that is true or undefined is
	# unified with true here and below rather than named alone: OPA gives
	# a reference standing alone as an expression a generated variable of
	# its own, about four allocations (docs/performance.md).
	_valid_input = true
	i := _in
	r := i.requester
	h := i.holder
	c := i.recipient

	# within one jurisdiction (across a border the stages decide)
	c.jurisdiction == h.jurisdiction

	# stage 2: the requester is the holder, the recipient or both
	party := _requester_is[i.action]
	r.agency == i[party[0]].agency
	r.kind == i[party[0]].kind
	r.jurisdiction == i[party[0]].jurisdiction
	r.agency == i[party[1]].agency
	r.kind == i[party[1]].kind
	r.jurisdiction == i[party[1]].jurisdiction

	# stages 3 to 4: no prohibition, no condition of the record's
	# provenance against it, no risk assessment for an NGO
	key := _pack_keys[h.jurisdiction]
	record_type := object.get({"translate": "", "reidentify": ""}, i.action, i.record_type)
	not _prohibition_index[key][i.action][i.purpose][record_type]
	_onward_clear = true
	[i.record_type, c.kind] != ["risk_assessment", "ngo"]

	# stages 6 and 7: the bases that apply, and the one used: the claimed
	# one or the lowest id
	ids := _fast_bases.applicable
	chosen := object.get({"": min(ids)}, i.claimed_legal_basis, i.claimed_legal_basis)
	chosen in ids

	# the decision under it
	v := _basis_views[key][chosen]
	ngo := c.kind == "ngo"
	risk := i.record_type == "risk_assessment"
	parts := _basis_parts[key][chosen][i.action][ngo][risk]
	case := _case_facts
	until := object.union(
		{"valid_until": day | v.needs.from == "probation"; day := i.subject.probation_until; day != ""},
		{"valid_until": day | v.needs.from == "release"; day := time.format([time.parse_ns("2006-01-02", i.subject.release_date) + v.needs.last_day, "UTC", "2006-01-02"])},
	)
}

# _onward_clear is true when no condition the record came with refuses
# the exchange (stage onward): always for a record of the requester's own.
_onward_clear if not _in.provenance

_onward_clear if not _provenance_given

_onward_clear if {
	_provenance_given
	count(_onward_reasons) == 0
}

# _fast_bases are, for a valid request within one jurisdiction, the bases
# in scope and those of them that apply, as _applicable and _near_miss
# (bases.rego) find them, with the checks of _parties_covered and _basis_ok
# written out. Undefined for other requests.
_fast_bases := {"in_scope": in_scope, "applicable": applicable} if {
	_valid_input = true
	i := _in
	r := i.requester
	h := i.holder
	c := i.recipient
	c.jurisdiction == h.jurisdiction
	key := _pack_keys[h.jurisdiction]
	action := i.action
	purpose := i.purpose
	record_type := object.get({"translate": "", "reidentify": ""}, action, i.record_type)
	pseudonym := action in pseudonym_actions

	# what the comprehensions compare, read once rather than per basis
	holder_kind := h.kind
	recipient_kind := c.kind
	recipient_jurisdiction := c.jurisdiction
	requester_kind := r.kind
	in_scope := {id |
		pseudonym == false
		some id in _scope_index[key][action][purpose][record_type]
		covers := _basis_views[key][id].covers
		holder_kind in covers.holder_kinds
		recipient_kind in covers.recipient_kinds
		recipient_jurisdiction in covers.recipient_jurisdictions
	} | {id |
		pseudonym == true
		some id in _scope_index[key][action][purpose][record_type]
		requester_kind in _basis_views[key][id].covers.requester_kinds
	}
	allowed := _case_facts.allowed
	since := _since_valid(i)
	rank := object.get(_clearance_ranks, r.officer.clearance, -1)
	category := i.subject.category
	custody := i.subject.in_custody
	applicable := {id |
		pseudonym == false
		some id in in_scope
		b := _basis_views[key][id]
		category in b.covers.categories
		object.get(b.custody, "in_custody", custody) == custody
		needs := b.needs
		needs.case in allowed
		rank >= object.get(needs.rank, requester_kind, -1)
		t := since[needs.from]
		needs.low <= t
		t < needs.high
	} | {id |
		# the subject of a pseudonym is not known, and not checked
		pseudonym == true
		some id in in_scope
		needs := _basis_views[key][id].needs
		needs.case in allowed
		rank >= object.get(needs.rank, requester_kind, -1)
		t := since[needs.from]
		needs.low <= t
		t < needs.high
	}
}

_fast_applicable := _fast_bases.applicable

# _requester_is[action] names the parties the requester must be (twice
# the same if one): the holder pushes, the recipient pulls, and a pseudonym
# is the requester's own.
_requester_is := {
	"disclose": ["holder", "holder"],
	"notify": ["holder", "holder"],
	"request": ["recipient", "recipient"],
	"match": ["recipient", "recipient"],
	"translate": ["recipient", "holder"],
	"reidentify": ["recipient", "holder"],
}

# _case_facts are what the case decides: whether a basis that needs a case
# may apply (allowed holds true) and the pseudonym domain.
_case_facts := {"allowed": {false}, "domain": sprintf("%s/%s", [_in.recipient.agency, _in.purpose])} if {
	object.get(_in, "case", null) == null
} else := {"allowed": _cases_allowed, "domain": _pseudonym_domain}

_sorted(s) := [x | some x in s]

_reason(code, message) := {"code": code, "message": message}

_no_fields := {"keep": [], "generalise": [], "pseudonymise": []}

_deny(reasons) := {
	"outcome": "deny",
	"fields": _no_fields,
	"conditions": [],
	"reasons": reasons,
}

# ---------------------------------------------------------------------------
# Stage 1: validation. Unknown or missing values deny. _valid_input is the
# quick test; _invalid says what is wrong, and is worked out only then.

_valid_input if {
	i := _in
	i.action in actions

	# the time is valid (as _time_valid, written out: a rule costs more
	# than two expressions)
	is_string(i.time)
	regex.match(_time_pattern, i.time)
	i.record_type in _record_types_for[i.action]
	i.purpose in purposes
	i.requester.officer.clearance in _clearances_or_unknown
	i.subject.category in _categories_or_unknown

	# dates are YYYY-MM-DD or "" (unknown)
	is_string(i.subject.release_date)
	regex.match(_date_or_empty, i.subject.release_date)
	is_string(i.subject.probation_until)
	regex.match(_date_or_empty, i.subject.probation_until)

	# each party names an agency of a known kind and jurisdiction
	r := i.requester
	is_string(r.agency)
	r.agency != ""
	r.kind in agency_kinds
	r.jurisdiction in _known_jurisdictions
	h := i.holder
	is_string(h.agency)
	h.agency != ""
	h.kind in agency_kinds
	h.jurisdiction in _known_jurisdictions
	c := i.recipient
	is_string(c.agency)
	c.agency != ""
	c.kind in agency_kinds
	c.jurisdiction in _known_jurisdictions

	# the holder's law has a pack; a case, if given, is valid
	_ = _pack_keys[h.jurisdiction] # a key, never false: as _fast_result's = true
	not _invalid_case = true # = true: see _fast_result
	not _invalid_provenance = true
}

_categories_or_unknown := subject_categories | {""}

# _date_or_unknown and _party_valid are the checks of _valid_input as
# functions, for the provenance (onward.rego).
_date_or_unknown(d) if d == ""

_date_or_unknown(d) if is_date(d)

_party_valid(p) if {
	is_string(p.agency)
	p.agency != ""
	p.kind in agency_kinds
	known_jurisdiction(p.jurisdiction)
}

# An empty clearance counts as "none".
_clearances_or_unknown := {c | some c in clearance_levels} | {""}

# A record action names a known record type; translate and reidentify
# concern a pseudonym, not a record, and name none.
_record_types_for[action] := {""} if {
	some action in pseudonym_actions
}

_record_types_for[action] := record_types if {
	some action in actions
	not action in pseudonym_actions
}

_invalid_case if {
	_in.case != null # _case_given, written out
	not _case_valid
}

_invalid_reasons := _sorted(_invalid) if {
	count(_invalid) > 0
} else := [_reason("INVALID_INPUT", "The request is not one Liaison can decide on.")]

_missing_or(v, problem) := "is missing" if v == ""

else := sprintf("%q %s", [v, problem])

_invalid contains _reason("UNKNOWN_ACTION", sprintf(
	"The action %s; it must be one of disclose, request, notify, match, translate or reidentify.",
	[_missing_or(_in.action, "is not known")],
)) if {
	not _in.action in actions
}

_invalid contains _reason("INVALID_TIME", sprintf(
	"The time of the request %s; it must be an RFC 3339 time such as 2026-11-26T10:00:00Z.",
	[_missing_or(_in.time, "is not valid")],
)) if {
	not is_time(_in.time)
}

_invalid contains _reason("UNKNOWN_RECORD_TYPE", sprintf(
	"The record type %s; it must be one of %s.",
	[_missing_or(_in.record_type, "is not known"), concat(", ", sort(record_types))],
)) if {
	not _pseudonym_action
	not _in.record_type in record_types
}

_invalid contains _reason("UNEXPECTED_RECORD_TYPE", sprintf(
	"A request to %s concerns a pseudonym, not a record; the record type must be empty, not %v.",
	[_pseudonym_verb[_in.action], _in.record_type],
)) if {
	_pseudonym_action
	_in.record_type != ""
}

_invalid contains _reason("UNKNOWN_PURPOSE", sprintf(
	"The purpose %s; it must be one of %s.",
	[_missing_or(_in.purpose, "is not known"), concat(", ", sort(purposes))],
)) if {
	not _in.purpose in purposes
}

_invalid contains _reason("MISSING_AGENCY", sprintf("The %s agency is missing.", [role])) if {
	some role, p in _parties
	not _named_agency(p)
}

_named_agency(p) if {
	is_string(p.agency)
	p.agency != ""
}

_invalid contains _reason("UNKNOWN_AGENCY_KIND", sprintf(
	"The kind of the %s agency %s; it must be one of %s.",
	[role, _missing_or(kind, "is not known"), concat(", ", sort(agency_kinds))],
)) if {
	some role, p in _parties
	kind := object.get(p, "kind", "")
	not kind in agency_kinds
}

_invalid contains _reason("UNKNOWN_JURISDICTION", sprintf(
	"The jurisdiction of the %s agency %s; it must be one of %s.",
	[role, _missing_or(j, "is not known"), concat(", ", sort(listed_jurisdictions | {p.code | some p in data.liaison.jurisdictions}))],
)) if {
	some role, p in _parties
	j := object.get(p, "jurisdiction", "")
	not known_jurisdiction(j)
}

_invalid contains _reason("NO_JURISDICTION_PACK", sprintf(
	"No rules for the law of %s are loaded, so Liaison cannot decide about a record held there.",
	[_in.holder.jurisdiction],
)) if {
	_in.holder.jurisdiction in listed_jurisdictions
	not _has_pack
}

_invalid contains _reason("UNKNOWN_CLEARANCE", sprintf(
	"The officer's clearance %q is not known; it must be one of %s.",
	[_clearance, concat(", ", clearance_levels)],
)) if {
	not _clearance in clearance_levels
}

_invalid contains _reason("UNKNOWN_SUBJECT_CATEGORY", sprintf(
	"The subject category %q is not known; it must be one of %s.",
	[_in.subject.category, concat(", ", sort(subject_categories))],
)) if {
	_in.subject.category != ""
	not _in.subject.category in subject_categories
}

_invalid contains _reason("INVALID_DATE", sprintf(
	"The subject's %s %q is not a date written YYYY-MM-DD.",
	[name, d],
)) if {
	some name, d in {"release date": _in.subject.release_date, "probation end date": _in.subject.probation_until}
	d != ""
	not is_date(d)
}

_invalid contains _reason("INVALID_CASE", "The case must have an id, a list of member agencies and a lead agency that is a member.") if {
	_invalid_case
	_case_status_known
}

_invalid contains _reason("INVALID_CASE", sprintf(
	"The requester's standing in the case %v is not known; it must be lead, member, invited or none.",
	[object.get(_case, "requester_status", null)],
)) if {
	_case_given
	not _case_status_known
}

# ---------------------------------------------------------------------------
# Stage 2: the parties must fit the action. An agency pushes (disclose,
# notify) only what it holds, and pulls (request, match, translate,
# reidentify) only for itself; a pseudonym it translates or has
# re-identified is its own (requester, holder and recipient are one).

_pushes := {"disclose", "notify"}

_same_party(a, b) if {
	a.agency == b.agency
	a.kind == b.kind
	a.jurisdiction == b.jurisdiction
}

_parties_fit if {
	i := _in
	i.action in _pushes
	i.requester.agency == i.holder.agency
	i.requester.kind == i.holder.kind
	i.requester.jurisdiction == i.holder.jurisdiction
}

_parties_fit if {
	i := _in
	not i.action in _pushes
	not i.action in pseudonym_actions
	i.requester.agency == i.recipient.agency
	i.requester.kind == i.recipient.kind
	i.requester.jurisdiction == i.recipient.jurisdiction
}

_parties_fit if {
	i := _in
	i.action in pseudonym_actions
	i.requester.agency == i.recipient.agency
	i.requester.kind == i.recipient.kind
	i.requester.jurisdiction == i.recipient.jurisdiction
	i.requester.agency == i.holder.agency
	i.requester.kind == i.holder.kind
	i.requester.jurisdiction == i.holder.jurisdiction
}

_party_reasons contains _reason("REQUESTER_NOT_HOLDER", sprintf(
	"Only the agency that holds a record can %s it; %s is not the holder %s.",
	[_in.action, _in.requester.agency, _in.holder.agency],
)) if {
	_in.action in _pushes
	not _same_party(_in.requester, _in.holder)
}

_party_reasons contains _reason("REQUESTER_NOT_RECIPIENT", sprintf(
	"An agency can %s a record only for itself; %s is not the recipient %s.",
	[_in.action, _in.requester.agency, _in.recipient.agency],
)) if {
	not _in.action in _pushes
	not _same_party(_in.requester, _in.recipient)
}

_party_reasons contains _reason("REQUESTER_NOT_HOLDER", sprintf(
	"An agency can %s only if it holds that pseudonym itself; %s is not the holder %s.",
	[_pseudonym_verb[_in.action], _in.requester.agency, _in.holder.agency],
)) if {
	_pseudonym_action
	not _same_party(_in.requester, _in.holder)
}

# _pseudonym_verb says what a pseudonym action does, for messages.
_pseudonym_verb := {"translate": "translate a pseudonym", "reidentify": "re-identify a pseudonym"}

# ---------------------------------------------------------------------------
# Stage 3: what the holder's law forbids outright (e.g. DK § 115, stk. 2).

_prohibition_applies(p) if {
	_in.purpose in p.purposes
	_in.action in object.get(p, "actions", actions)
	_prohibited_record(p)
}

# A prohibition limited to some record types does not reach translate and
# reidentify, which concern no record; one for all record types does.
_prohibited_record(p) if {
	not _pseudonym_action
	_in.record_type in object.get(p, "record_types", record_types)
}

_prohibited_record(p) if {
	_pseudonym_action
	not "record_types" in object.keys(p)
}

# _prohibited is true if a prohibition of the pack forbids this exchange:
# the quick test (index.rego); _prohibition_reasons say which.
_prohibited if _prohibition_index[_pack_key][_in.action][_in.purpose][_indexed_record_type]

_prohibition_reasons contains _reason("PURPOSE_PROHIBITED", sprintf("%s (%s)", [p.message, p.citation])) if {
	some p in _prohibitions
	_prohibition_applies(p)
}

# ---------------------------------------------------------------------------
# Stage 4: global rule. A risk assessment is an assessment, not a fact
# (LED Art. 7), and never goes to an NGO, whatever a pack says.

_assessment_to_ngo if {
	_in.record_type == "risk_assessment"
	_in.recipient.kind == "ngo"
}

_assessment_to_ngo_reason := _reason(
	"ASSESSMENT_TO_NGO",
	"Risk assessments are never shared with an NGO, in full or in part (assessments are not facts, LED Art. 7; criminal-offence data, GDPR Art. 10).",
)

# ---------------------------------------------------------------------------
# Stage 5: a claimed legal basis must be one that applies.

_claim_reasons := [_reason(
	"UNKNOWN_LEGAL_BASIS",
	sprintf("The claimed legal basis %q is not a basis of %s known to Liaison.", [_in.claimed_legal_basis, _law]),
)] if {
	_in.claimed_legal_basis != ""
	not _in.claimed_legal_basis in object.keys(_bases)
} else := array.concat(
	[_reason(
		"CLAIMED_BASIS_NOT_APPLICABLE",
		sprintf("The claimed legal basis %s (%s) does not cover this exchange.", [_in.claimed_legal_basis, _bases[_in.claimed_legal_basis].citation]),
	)],
	_sorted(_failures(_in.claimed_legal_basis)),
) if {
	_in.claimed_legal_basis != ""
	not _in.claimed_legal_basis in _applicable
} else := []

# ---------------------------------------------------------------------------
# Stage 6: a legal basis applies. The claimed one is used; without a claim,
# the applicable basis with the lowest id.

_chosen_basis_id := _in.claimed_legal_basis if {
	_in.claimed_legal_basis in _applicable
} else := min(_applicable) if {
	_in.claimed_legal_basis == ""
	count(_applicable) > 0
}

# _basis_decision is the decision under the chosen basis. What does not
# depend on the request comes ready from the index (index.rego): the
# outcome, fields, conditions and reasons for this action and recipient.
_basis_decision := _with_approval(v, {
	"outcome": parts.outcome,
	"legal_basis": _legal_basis(v, parts),
	"fields": parts.fields,
	"pseudonym_domain": _pseudonym_domain,
	"conditions": _with_carried(parts.conditions),
	"reasons": _basis_reasons(v, parts),
}) if {
	key := _pack_key
	id := _chosen_basis_id
	v := _basis_views[key][id]
	parts := _basis_parts[key][id][_in.action][_recipient_is_ngo][_is_risk_assessment]
}

# _basis_reasons(v, parts) are the reasons of a decision under basis v;
# across a border they say so (_cross_border_notes).
_basis_reasons(v, parts) := parts.reasons if {
	not _cross_border
} else := array.concat(array.concat([parts.reason], _cross_border_notes(v)), parts.notes)

# _with_approval(v, d) is decision d with the approval a re-identification
# under basis v needs.
_with_approval(v, d) := object.union(d, _approval_of(v)) if {
	_in.action == "reidentify"
} else := d

# _capped_for(action, outcome) limits an outcome by the action: a match
# answers hit or no hit and never carries content; a translation gives a
# pseudonym, never an identity.
_capped_for(action, outcome) := "hit_only" if {
	action == "match"
	outcome_rank[outcome] < outcome_rank.hit_only
} else := "pseudonymise" if {
	action == "translate"
	outcome_rank[outcome] < outcome_rank.pseudonymise
} else := outcome

_pseudonym_fields := {
	"translate": {"keep": [], "generalise": [], "pseudonymise": ["Person.subject_id"]},
	"reidentify": {"keep": ["Person.subject_id"], "generalise": [], "pseudonymise": []},
}

# _approval_of(b) is the dual control a re-identification under basis b
# needs: the basis's approval rule, with the approvers limited to the
# case's members where it says case_members_only. Empty for other actions.
_approval_of(b) := {"approval": object.union(
	{
		"quorum": a.quorum,
		"roles": a.roles,
		"other_agency": object.get(a, "other_agency", false),
		"expires_after": a.expires_after,
	},
	_approval_agencies(a),
)} if {
	_in.action == "reidentify"
	a := b.approval
} else := {}

_approval_agencies(a) := {"agencies": sort(_case_members)} if {
	object.get(a, "case_members_only", false) == true
	_case_valid
} else := {"agencies": a.agencies} if {
	count(object.get(a, "agencies", [])) > 0
} else := {}

# _legal_basis(v, parts) is the legal_basis of a decision under basis v
# (parts.legal_basis: its id, citation and assumption), with the last day
# it covers; across a border its citation and assumption also name the
# instrument and the recipient's side.
_legal_basis(v, parts) := object.union(parts.legal_basis, {"valid_until": until}) if {
	not _cross_border
	until := _valid_until(v)
	until != ""
} else := parts.legal_basis if {
	not _cross_border
} else := object.union_n([
	{"id": v.id, "citation": concat("", [v.citation, _cross_border_citation(v)])},
	_optional("valid_until", _valid_until(v)),
	_optional("assumption", concat(" ", _assumptions_of(v))),
])

# _assumptions_of(x) are the unverified readings of law an outcome under
# basis or fallback rule x rests on: x's own, and across a border those of
# the EU instrument and of the recipient's receipt rule.
_assumptions_of(x) := array.concat([a | a := object.get(x, "assumption", ""); a != ""], _cross_border_assumptions(x))

_optional(key, value) := {key: value} if value != ""

else := {}

# ---------------------------------------------------------------------------
# Stage 7: no basis applies; the pack's fallback may allow pseudonymise or
# hit_only. Criminal-offence data never reaches an NGO or social services
# this way (GDPR Art. 10: only where a basis says so).

_art10_blocks_fallback if {
	_in.record_type in criminal_offence_record_types
	_in.recipient.kind in gdpr_recipient_kinds
}

_fallback_applies(r) if {
	r.outcome in {"pseudonymise", "hit_only"}
	_in.action in r.actions
	_in.purpose in r.purposes
	_in.record_type in r.record_types
	_in.recipient.kind in r.recipient_kinds
	_in.holder.kind in object.get(r, "holder_kinds", agency_kinds)
	_jurisdiction_covered(object.get(r, "recipient_jurisdictions", [_in.holder.jurisdiction]))
}

# _fallback_index is the applicable fallback rule with the most revealing
# outcome, the first in the list among equals.
_fallback_index := min(candidates)[1] if {
	not _art10_blocks_fallback
	candidates := {[outcome_rank[r.outcome], i] | some i, r in _fallback_rules; _fallback_applies(r)}
	count(candidates) > 0
}

_fallback_decision := d if {
	r := _fallback_rules[_fallback_index]
	outcome := _capped_for(_in.action, r.outcome)
	fields := _outcome_fields(outcome, object.get(r, "fields", _default_pseudonymised_fields), _recipient_is_ngo)
	d := {
		"outcome": outcome,
		"fields": fields,
		"pseudonym_domain": _pseudonym_domain,
		"conditions": _with_carried(_conditions_for(object.get(r, "conditions", []), fields, _is_risk_assessment)),
		"reasons": array.concat(
			array.concat(array.concat([r.reason], _why_no_basis), _cross_border_notes(r)),
			_field_notes(object.get(r, "fields", _default_pseudonymised_fields), _recipient_is_ngo),
		),
	}
}

# ---------------------------------------------------------------------------
# Stage 8: deny. Say why as precisely as possible: a basis that covers the
# exchange but whose conditions fail (expired, not a case member, ...) is
# reported; otherwise there simply is no basis.

_no_basis_reasons := array.concat(_why_no_basis, [_art10_reason]) if {
	_art10_blocks_fallback
} else := _why_no_basis

_art10_reason := _reason("CRIMINAL_OFFENCE_DATA", sprintf(
	"A %s is criminal-offence data; it reaches %s only where a legal basis names them (GDPR Art. 10).",
	[replace(_in.record_type, "_", " "), _kind_noun(_in.recipient.kind)],
))

_why_no_basis := _sorted(near) if {
	near := {r | some id in _near_miss; some r in _near_miss_failures(id)}
	count(near) > 0
} else := [_no_channel_reason] if {
	_cross_member_state
	not _eu_instrument
} else := [_reason("NO_LEGAL_BASIS", sprintf(
	"No legal basis in %s lets %s %s for %s.",
	[_law, _kind_noun(_in.requester.kind), _pseudonym_verb[_in.action], _purpose_noun(_in.purpose)],
))] if {
	_pseudonym_action
} else := [_reason("NO_LEGAL_BASIS", sprintf(
	"No legal basis in %s lets %s share %s with %s for %s.",
	[_law, _kind_noun(_in.holder.kind), _record_noun(_in.record_type), _kind_noun(_in.recipient.kind), _purpose_noun(_in.purpose)],
))]

_kind_noun(k) := object.get(
	{
		"police": "the police",
		"probation": "the probation service",
		"prison": "the prison service",
		"social_services": "social services",
		"local_authority": "a local authority",
		"intelligence": "an intelligence service",
		"ngo": "an NGO",
	},
	k, k,
)

_record_noun(t) := object.get(
	{
		"release_notice": "a release notice",
		"risk_assessment": "a risk assessment",
		"probation_measures": "probation measures",
		"exit_programme_status": "an exit-programme status",
		"family_contact": "a family contact record",
		"case_plan": "a case plan",
		"police_observation": "a police observation",
	},
	t, t,
)

_purpose_noun(p) := object.get(
	{
		"risk_management": "risk management",
		"resocialisation": "resocialisation",
		"maw_case_management": "multi-agency case management",
		"family_support": "family support",
		"criminal_investigation": "a criminal investigation",
		"statistics": "statistics",
	},
	p, p,
)

# ---------------------------------------------------------------------------
# Pseudonym domain: the case when the exchange happens inside a valid case
# both requester and recipient belong to; otherwise the recipient agency
# and purpose, so that one recipient can follow a person for one purpose
# but not link across purposes.

_pseudonym_domain := sprintf("case/%s", [_case_id]) if {
	_case_valid
	_in.requester.agency in _case_members
	_in.recipient.agency in _case_members
} else := sprintf("%s/%s", [_in.recipient.agency, _in.purpose])
