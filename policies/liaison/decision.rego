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
# (notices.rego).
decision := _with_notice(_result.decision)

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
# an exchange (_pre_result, in cases.rego and notices.rego).
_result := _pre_result if {
	_pre_applies
} else := {"stage": "validation", "decision": _deny(_invalid_reasons)} if {
	not _valid_input
} else := {"stage": "parties", "decision": _deny(_sorted(_party_reasons))} if {
	not _parties_fit
} else := {"stage": "prohibition", "decision": _deny(_sorted(_prohibition_reasons))} if {
	count(_prohibition_reasons) > 0
} else := {"stage": "onward", "decision": _deny(_sorted(_onward_reasons))} if {
	count(_onward_reasons) > 0
} else := {"stage": "assessment_to_ngo", "decision": _deny([_assessment_to_ngo_reason])} if {
	_assessment_to_ngo
} else := {"stage": "recipient_law", "decision": _deny(_recipient_law_reasons)} if {
	_recipient_law_refuses
} else := {"stage": "claimed_basis", "decision": _deny(_claim_reasons)} if {
	count(_claim_reasons) > 0
} else := {"stage": "legal_basis", "decision": _basis_decision} if {
	_chosen_basis_id
} else := {"stage": "fallback", "decision": _fallback_decision} if {
	_fallback_index
} else := {"stage": "no_basis", "decision": _deny(_no_basis_reasons)}

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
	_action in actions
	is_time(_time)
	_record_type_valid
	_purpose in purposes
	_clearance in clearance_levels
	_category in _categories_or_unknown
	every d in [_release_date, _probation_until] {
		_date_or_unknown(d)
	}
	every p in [_requester, _holder, _recipient] {
		_party_valid(p)
	}
	_has_pack
	not _invalid_case
	not _invalid_provenance
}

_categories_or_unknown := subject_categories | {""}

# A record action names a known record type; translate and reidentify
# concern a pseudonym, not a record, and name none.
_record_type_valid if {
	not _pseudonym_action
	_record_type in record_types
}

_record_type_valid if {
	_pseudonym_action
	_record_type == ""
}

_date_or_unknown(d) if d == ""

_date_or_unknown(d) if is_date(d)

_party_valid(p) if {
	is_string(p.agency)
	p.agency != ""
	p.kind in agency_kinds
	known_jurisdiction(p.jurisdiction)
}

_invalid_case if {
	_case_given
	not _case_valid
}

_invalid_reasons := _sorted(_invalid) if {
	count(_invalid) > 0
} else := [_reason("INVALID_INPUT", "The request is not one Liaison can decide on.")]

_missing_or(v, problem) := "is missing" if v == ""

else := sprintf("%q %s", [v, problem])

_invalid contains _reason("UNKNOWN_ACTION", sprintf(
	"The action %s; it must be one of disclose, request, notify, match, translate or reidentify.",
	[_missing_or(_action, "is not known")],
)) if {
	not _action in actions
}

_invalid contains _reason("INVALID_TIME", sprintf(
	"The time of the request %s; it must be an RFC 3339 time such as 2026-11-26T10:00:00Z.",
	[_missing_or(_time, "is not valid")],
)) if {
	not is_time(_time)
}

_invalid contains _reason("UNKNOWN_RECORD_TYPE", sprintf(
	"The record type %s; it must be one of %s.",
	[_missing_or(_record_type, "is not known"), concat(", ", sort(record_types))],
)) if {
	not _pseudonym_action
	not _record_type in record_types
}

_invalid contains _reason("UNEXPECTED_RECORD_TYPE", sprintf(
	"A request to %s concerns a pseudonym, not a record; the record type must be empty, not %v.",
	[_pseudonym_verb[_action], _record_type],
)) if {
	_pseudonym_action
	_record_type != ""
}

_invalid contains _reason("UNKNOWN_PURPOSE", sprintf(
	"The purpose %s; it must be one of %s.",
	[_missing_or(_purpose, "is not known"), concat(", ", sort(purposes))],
)) if {
	not _purpose in purposes
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
	[_holder_jurisdiction],
)) if {
	_holder_jurisdiction in listed_jurisdictions
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
	[_category, concat(", ", sort(subject_categories))],
)) if {
	_category != ""
	not _category in subject_categories
}

_invalid contains _reason("INVALID_DATE", sprintf(
	"The subject's %s %q is not a date written YYYY-MM-DD.",
	[name, d],
)) if {
	some name, d in {"release date": _release_date, "probation end date": _probation_until}
	d != ""
	not is_date(d)
}

_invalid contains _reason("INVALID_CASE", "The case must have an id, a list of member agencies and a lead agency that is a member.") if {
	_invalid_case
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
	_action in _pushes
	_same_party(_requester, _holder)
}

_parties_fit if {
	not _action in _pushes
	not _pseudonym_action
	_same_party(_requester, _recipient)
}

_parties_fit if {
	_pseudonym_action
	_same_party(_requester, _recipient)
	_same_party(_requester, _holder)
}

_party_reasons contains _reason("REQUESTER_NOT_HOLDER", sprintf(
	"Only the agency that holds a record can %s it; %s is not the holder %s.",
	[_action, _requester.agency, _holder.agency],
)) if {
	_action in _pushes
	not _same_party(_requester, _holder)
}

_party_reasons contains _reason("REQUESTER_NOT_RECIPIENT", sprintf(
	"An agency can %s a record only for itself; %s is not the recipient %s.",
	[_action, _requester.agency, _recipient_agency],
)) if {
	not _action in _pushes
	not _same_party(_requester, _recipient)
}

_party_reasons contains _reason("REQUESTER_NOT_HOLDER", sprintf(
	"An agency can %s only if it holds that pseudonym itself; %s is not the holder %s.",
	[_pseudonym_verb[_action], _requester.agency, _holder.agency],
)) if {
	_pseudonym_action
	not _same_party(_requester, _holder)
}

# _pseudonym_verb says what a pseudonym action does, for messages.
_pseudonym_verb := {"translate": "translate a pseudonym", "reidentify": "re-identify a pseudonym"}

# ---------------------------------------------------------------------------
# Stage 3: what the holder's law forbids outright (e.g. DK § 115, stk. 2).

_prohibition_applies(p) if {
	_purpose in p.purposes
	_action in object.get(p, "actions", actions)
	_prohibited_record(p)
}

# A prohibition limited to some record types does not reach translate and
# reidentify, which concern no record; one for all record types does.
_prohibited_record(p) if {
	not _pseudonym_action
	_record_type in object.get(p, "record_types", record_types)
}

_prohibited_record(p) if {
	_pseudonym_action
	not "record_types" in object.keys(p)
}

_prohibition_reasons contains _reason("PURPOSE_PROHIBITED", sprintf("%s (%s)", [p.message, p.citation])) if {
	some p in _prohibitions
	_prohibition_applies(p)
}

# ---------------------------------------------------------------------------
# Stage 4: global rule. A risk assessment is an assessment, not a fact
# (LED Art. 7), and never goes to an NGO, whatever a pack says.

_assessment_to_ngo if {
	_record_type == "risk_assessment"
	_recipient_kind == "ngo"
}

_assessment_to_ngo_reason := _reason(
	"ASSESSMENT_TO_NGO",
	"Risk assessments are never shared with an NGO, in full or in part (assessments are not facts, LED Art. 7; criminal-offence data, GDPR Art. 10).",
)

# ---------------------------------------------------------------------------
# Stage 5: a claimed legal basis must be one that applies.

_claim_reasons := [_reason(
	"UNKNOWN_LEGAL_BASIS",
	sprintf("The claimed legal basis %q is not a basis of %s known to Liaison.", [_claimed, _law]),
)] if {
	_claimed != ""
	not _claimed in object.keys(_bases)
} else := array.concat(
	[_reason(
		"CLAIMED_BASIS_NOT_APPLICABLE",
		sprintf("The claimed legal basis %s (%s) does not cover this exchange.", [_claimed, _bases[_claimed].citation]),
	)],
	_sorted(_failures(_claimed)),
) if {
	_claimed != ""
	not _claimed in _applicable
} else := []

# ---------------------------------------------------------------------------
# Stage 6: a legal basis applies. The claimed one is used; without a claim,
# the applicable basis with the lowest id.

_chosen_basis_id := _claimed if {
	_claimed in _applicable
} else := min(_applicable) if {
	_claimed == ""
	count(_applicable) > 0
}

_basis_decision := d if {
	id := _chosen_basis_id
	b := _bases[id]
	outcome := _capped("disclose")
	spec := _basis_fields(b)
	fields := _outcome_fields(outcome, spec)
	d := object.union(_approval_of(b), {
		"outcome": outcome,
		"legal_basis": _legal_basis(id),
		"fields": fields,
		"pseudonym_domain": _pseudonym_domain,
		"conditions": _conditions(object.get(b, "conditions", []), fields),
		"reasons": array.concat(
			array.concat(
				[_reason("LEGAL_BASIS_APPLIES", sprintf("%s permits this exchange: %s.", [b.citation, object.get(b, "title", id)]))],
				_cross_border_notes(b),
			),
			_field_notes(spec),
		),
	})
}

# _capped limits an outcome by the action: a match answers hit or no hit
# and never carries content; a translation gives a pseudonym, never an
# identity.
_capped(outcome) := "hit_only" if {
	_action == "match"
	outcome_rank[outcome] < outcome_rank.hit_only
} else := "pseudonymise" if {
	_action == "translate"
	outcome_rank[outcome] < outcome_rank.pseudonymise
} else := outcome

# _basis_fields(b) is what passes under basis b: its fields for a record;
# for translate the subject's pseudonym in the new domain, for reidentify
# the subject's identifier (to the requesting officer, once the approvers
# agree).
_basis_fields(b) := _pseudonym_fields[_action] if {
	_pseudonym_action
} else := object.get(b, "fields", _full_fields)

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
	_action == "reidentify"
	a := b.approval
} else := {}

_approval_agencies(a) := {"agencies": sort(_case_members)} if {
	object.get(a, "case_members_only", false) == true
	_case_valid
} else := {"agencies": a.agencies} if {
	count(object.get(a, "agencies", [])) > 0
} else := {}

_legal_basis(id) := object.union_n([
	{"id": id, "citation": concat("", [_bases[id].citation, _cross_border_citation(_bases[id])])},
	_optional("valid_until", _valid_until(_bases[id])),
	_optional("assumption", concat(" ", _assumptions_of(_bases[id]))),
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
	_record_type in criminal_offence_record_types
	_recipient_kind in gdpr_recipient_kinds
}

_fallback_applies(r) if {
	r.outcome in {"pseudonymise", "hit_only"}
	_action in r.actions
	_purpose in r.purposes
	_record_type in r.record_types
	_recipient_kind in r.recipient_kinds
	_holder_kind in object.get(r, "holder_kinds", agency_kinds)
	_jurisdiction_covered(r)
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
	outcome := _capped(r.outcome)
	fields := _outcome_fields(outcome, object.get(r, "fields", _default_pseudonymised_fields))
	d := {
		"outcome": outcome,
		"fields": fields,
		"pseudonym_domain": _pseudonym_domain,
		"conditions": _conditions(object.get(r, "conditions", []), fields),
		"reasons": array.concat(
			array.concat(array.concat([r.reason], _why_no_basis), _cross_border_notes(r)),
			_field_notes(object.get(r, "fields", _default_pseudonymised_fields)),
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
	[replace(_record_type, "_", " "), _kind_noun(_recipient_kind)],
))

_why_no_basis := _sorted(near) if {
	near := {r | some id in _near_miss; some r in _failures(id)}
	count(near) > 0
} else := [_no_channel_reason] if {
	_cross_member_state
	not _eu_instrument
} else := [_reason("NO_LEGAL_BASIS", sprintf(
	"No legal basis in %s lets %s %s for %s.",
	[_law, _kind_noun(_requester_kind), _pseudonym_verb[_action], _purpose_noun(_purpose)],
))] if {
	_pseudonym_action
} else := [_reason("NO_LEGAL_BASIS", sprintf(
	"No legal basis in %s lets %s share %s with %s for %s.",
	[_law, _kind_noun(_holder_kind), _record_noun(_record_type), _kind_noun(_recipient_kind), _purpose_noun(_purpose)],
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
	_requester.agency in _case_members
	_recipient_agency in _case_members
} else := sprintf("%s/%s", [_recipient_agency, _purpose])
