# Liaison legal bases: the generic test of a pack's bases against the input.
#
# Each basis in a pack is data (see policies/README.md). A basis applies when
# none of the checks below fails. Failed checks are codes; the sentence for
# a caseworker is written only when a decision or explanation needs it
# (_failures), which keeps evaluation fast.
package liaison

# A basis is in scope when it covers this action, purpose, record type,
# holder kind, recipient kind and recipient jurisdiction. It applies when
# it is in scope and all its conditions hold (_basis_ok). Both are proven
# positively: a basis whose data is missing something does not apply.
#
# A basis in scope whose conditions fail (validity, case membership,
# subject, clearance) is a near miss: its reasons explain a denial better
# than NO_LEGAL_BASIS does. The codes of failed checks (_failure_codes) are
# worked out only for denials and explanations.
_in_scope(b) if {
	not _pseudonym_action
	_action in object.get(b, "actions", [])
	_purpose in object.get(b, "purposes", [])
	_record_type in object.get(b, "record_types", [])
	_holder_kind in object.get(b, "holder_kinds", [])
	_recipient_kind in object.get(b, "recipient_kinds", [])
	_jurisdiction_covered(b)
}

# A basis for translate or reidentify names the kinds of agency that may
# ask (requester_kinds): the requester holds the pseudonym and receives
# the result, so there is no other party, record type or jurisdiction.
_in_scope(b) if {
	_pseudonym_action
	_action in object.get(b, "actions", [])
	_purpose in object.get(b, "purposes", [])
	_requester_kind in object.get(b, "requester_kinds", [])
}

# _jurisdiction_covered(x) is true if basis or fallback rule x covers the
# recipient's jurisdiction: it names it in recipient_jurisdictions (by
# default only the holder's own), or the recipient is in another Member
# State, an EU instrument carries the exchange, and x covers domestic
# recipients. What the holder's law allows for a domestic recipient it then
# allows, on the same conditions, for one in another Member State (LED Art.
# 9(4): no stricter conditions for other Member States).
_jurisdiction_covered(x) if _recipient_jurisdiction in object.get(x, "recipient_jurisdictions", [_holder_jurisdiction])

_jurisdiction_covered(x) if {
	_cross_member_state
	_eu_instrument
	_holder_jurisdiction in object.get(x, "recipient_jurisdictions", [_holder_jurisdiction])
}

_jurisdiction_ok(x) if _jurisdiction_covered(x)

else := false

# _via_instrument(x) is true if x reaches the recipient only through the
# EU instrument (x does not name the recipient's jurisdiction itself).
_via_instrument(x) if {
	_cross_member_state
	not _recipient_jurisdiction in object.get(x, "recipient_jurisdictions", [_holder_jurisdiction])
}

_basis_ok(b) if {
	_subject_ok(b)
	not _case_problem(b)
	_clearance_ok(b)
	_valid_now(_validity(b))
}

_applicable := {id | some id, b in _bases; _in_scope(b); _basis_ok(b)}

_near_miss := {id | some id, b in _bases; _in_scope(b); not _basis_ok(b)}

# The gateway does not know the subject of a pseudonym, so translate and
# reidentify are not checked against a subject (their bases name none).
_subject_ok(_) if _pseudonym_action

_subject_ok(b) if {
	not _pseudonym_action
	_subject_covered(object.get(b, "subject", {}))
}

_subject_covered(s) if {
	_category in object.get(s, "categories", subject_categories)
	_in_custody == object.get(s, "in_custody", _in_custody)
}

_case_problem(b) if {
	b.requires_case == true
	not _case_valid
}

_case_problem(b) if {
	b.requires_case == true
	count(_case_outsiders) > 0
}

_clearance_ok(b) if not "min_clearance" in object.keys(b)

# min_clearance_kinds limits the clearance requirement to requesting
# officers of those agency kinds (BE: "the police member").
_clearance_ok(b) if not _requester_kind in object.get(b, "min_clearance_kinds", agency_kinds)

_clearance_ok(b) if clearance_rank[_clearance] >= clearance_rank[b.min_clearance]

# _valid_now(v) is true if "now" is within validity v of a basis.
_valid_now(v) if v.type == "none"

# Bases tied to probation end with the subject's probation (inclusive).
_valid_now(v) if {
	v.type == "probation"
	_now_ns < _probation_end_ns
}

# Release-related bases apply in a window around the release date, from
# days_before the release to the end of the day days_after it.
_valid_now(v) if {
	v.type == "release_window"
	_now_ns >= _window_start_ns(v)
	_now_ns < _window_end_ns(v) + day_ns
}

# _failures(id) are the failed checks of basis id as reasons {code, message}.
_failures(id) := {_reason(code, _failure_message(code, _bases[id])) | some code in _failure_codes(_bases[id])}

_failure_codes(b) := codes if {
	codes := _scope_failed(b) | _conditions_failed(b)
	count(codes) > 0
} else := {"BASIS_DATA_INCOMPLETE"} if {
	not _basis_ok(b)
} else := set()

_scope_failed(b) := {code |
	not _pseudonym_action
	some code, covered in {
		"ACTION_NOT_COVERED": _action in object.get(b, "actions", []),
		"PURPOSE_NOT_COVERED": _purpose in object.get(b, "purposes", []),
		"RECORD_TYPE_NOT_COVERED": _record_type in object.get(b, "record_types", []),
		"HOLDER_KIND_NOT_COVERED": _holder_kind in object.get(b, "holder_kinds", []),
		"RECIPIENT_KIND_NOT_COVERED": _recipient_kind in object.get(b, "recipient_kinds", []),
		"RECIPIENT_JURISDICTION_NOT_COVERED": _jurisdiction_ok(b),
	}
	not covered
} | {code |
	_pseudonym_action
	some code, covered in {
		"ACTION_NOT_COVERED": _action in object.get(b, "actions", []),
		"PURPOSE_NOT_COVERED": _purpose in object.get(b, "purposes", []),
		"REQUESTER_KIND_NOT_COVERED": _requester_kind_ok(b),
	}
	not covered
}

# _requester_kind_ok(b) is false if basis b names requester_kinds without
# the requester's kind, or names none and covers the action (a broken
# pack). A basis for records names none: it fails on the action alone.
_requester_kind_ok(b) if {
	_requester_kind in object.get(b, "requester_kinds", [])
} else if {
	not "requester_kinds" in object.keys(b)
	not _action in object.get(b, "actions", [])
} else := false

_conditions_failed(b) := {code | some code in _condition_checks; _fails(code, b)}

_condition_checks := [
	"SUBJECT_NOT_COVERED", "CASE_REQUIRED", "NOT_A_CASE_MEMBER", "CLEARANCE_TOO_LOW",
	"UNKNOWN_VALIDITY_TYPE", "PROBATION_END_UNKNOWN", "RELEASE_DATE_UNKNOWN",
	"LEGAL_BASIS_NOT_YET_VALID", "LEGAL_BASIS_EXPIRED",
]

_fails("SUBJECT_NOT_COVERED", b) if not _subject_ok(b)

_fails("CASE_REQUIRED", b) if {
	b.requires_case == true
	not _case_valid
}

_fails("NOT_A_CASE_MEMBER", b) if {
	b.requires_case == true
	_case_valid
	count(_case_outsiders) > 0
}

_fails("CLEARANCE_TOO_LOW", b) if not _clearance_ok(b)

_fails("UNKNOWN_VALIDITY_TYPE", b) if not _validity(b).type in {"none", "probation", "release_window"}

_fails("PROBATION_END_UNKNOWN", b) if {
	_validity(b).type == "probation"
	_probation_until == ""
}

_fails("LEGAL_BASIS_EXPIRED", b) if {
	_validity(b).type == "probation"
	_now_ns >= _probation_end_ns
}

_fails("RELEASE_DATE_UNKNOWN", b) if {
	_validity(b).type == "release_window"
	_release_date == ""
}

_fails("LEGAL_BASIS_NOT_YET_VALID", b) if {
	_validity(b).type == "release_window"
	_now_ns < _window_start_ns(b.validity)
}

_fails("LEGAL_BASIS_EXPIRED", b) if {
	_validity(b).type == "release_window"
	_now_ns >= _window_end_ns(b.validity) + day_ns
}

_validity(b) := object.get(b, "validity", {"type": "none"})

_case_outsiders := {a | some p in _parties; a := p.agency; not a in _case_members}

_probation_end_ns := date_ns(_probation_until) + day_ns

_release_ns := date_ns(_release_date)

_window_start_ns(v) := _release_ns - (v.days_before * day_ns)

# _window_end_ns is the start of the last day of the window.
_window_end_ns(v) := _release_ns + (v.days_after * day_ns)

# _valid_until(b) is the last day basis b covers, or "" if it has none.
_valid_until(b) := _probation_until if {
	_validity(b).type == "probation"
	is_date(_probation_until)
} else := format_date(_window_end_ns(b.validity)) if {
	_validity(b).type == "release_window"
	is_date(_release_date)
} else := ""

# The sentences for caseworkers, one per check.

_failure_message("ACTION_NOT_COVERED", b) := sprintf("%s does not cover the action %s.", [b.citation, _action])

_failure_message("PURPOSE_NOT_COVERED", b) := sprintf("%s does not cover the purpose %s.", [b.citation, _purpose_noun(_purpose)])

_failure_message("RECORD_TYPE_NOT_COVERED", b) := sprintf("%s does not cover %s.", [b.citation, _record_noun(_record_type)])

_failure_message("HOLDER_KIND_NOT_COVERED", b) := sprintf("%s does not let %s share.", [b.citation, _kind_noun(_holder_kind)])

_failure_message("RECIPIENT_KIND_NOT_COVERED", b) := sprintf("%s does not let %s receive.", [b.citation, _kind_noun(_recipient_kind)])

_failure_message("REQUESTER_KIND_NOT_COVERED", b) := sprintf("%s does not let %s %s.", [b.citation, _kind_noun(_requester_kind), _pseudonym_verb[_action]])

_failure_message("RECIPIENT_JURISDICTION_NOT_COVERED", b) := sprintf("%s does not cover recipients in %s, and no EU instrument carries this exchange there.", [b.citation, _recipient_jurisdiction]) if {
	_cross_member_state
} else := sprintf("%s does not cover recipients in %s.", [b.citation, _recipient_jurisdiction])

_failure_message("SUBJECT_NOT_COVERED", b) := sprintf("%s covers only subjects %s.", [b.citation, _subject_words(b.subject)])

_failure_message("CASE_REQUIRED", b) := sprintf("%s applies only within a multi-agency case; no valid case was given.", [b.citation])

_failure_message("NOT_A_CASE_MEMBER", b) := sprintf(
	"Only members of case %s may share under %s; %s %s.",
	[_case_id, b.citation, concat(", ", sort(_case_outsiders)), _not_members[count(_case_outsiders) == 1]],
)

_failure_message("CLEARANCE_TOO_LOW", b) := sprintf(
	"%s requires an officer cleared to %s; the officer's clearance is %s.",
	[b.citation, b.min_clearance, _clearance],
) if {
	not "min_clearance_kinds" in object.keys(b)
} else := sprintf(
	"%s requires an officer of %s to be cleared to at least %s; the officer's clearance is %s.",
	[b.citation, _kind_noun(_requester_kind), b.min_clearance, _clearance],
)

_failure_message("BASIS_DATA_INCOMPLETE", b) := sprintf("%s could not be checked because its data in the jurisdiction pack is incomplete; the pack must be fixed.", [b.citation])

_failure_message("UNKNOWN_VALIDITY_TYPE", b) := sprintf("%s has a validity type Liaison does not know; the pack must be fixed.", [b.citation])

_failure_message("PROBATION_END_UNKNOWN", b) := sprintf("%s applies only while the subject is on probation, and no probation end date is known.", [b.citation])

_failure_message("RELEASE_DATE_UNKNOWN", b) := sprintf("%s applies only around a release, and no release date is known.", [b.citation])

_failure_message("LEGAL_BASIS_NOT_YET_VALID", b) := sprintf(
	"%s applies from %s, %d days before the release on %s.",
	[b.citation, format_date(_window_start_ns(b.validity)), b.validity.days_before, _release_date],
)

_failure_message("LEGAL_BASIS_EXPIRED", b) := sprintf(
	"%s applied only while the subject was on probation, which ended on %s.",
	[b.citation, _probation_until],
) if {
	b.validity.type == "probation"
}

_failure_message("LEGAL_BASIS_EXPIRED", b) := sprintf(
	"%s applied until %s, %d days after the release on %s.",
	[b.citation, format_date(_window_end_ns(b.validity)), b.validity.days_after, _release_date],
) if {
	b.validity.type == "release_window"
}

_not_members := {true: "is not a member", false: "are not members"}

_subject_words(s) := concat(" and ", [w |
	some w in [
		sprintf("in the categories %s", [concat(", ", object.get(s, "categories", []))]),
		_custody_words[object.get(s, "in_custody", "any")],
	]
	w != ""
])

_custody_words := {true: "in custody", false: "not in custody", "any": ""}
