# Liaison legal bases: the generic test of a pack's bases against the input.
#
# Each basis in a pack is data (see policies/README.md). A basis applies when
# none of the checks below fails. A failed check is recorded as the pair
# [basis id, code]; the sentence for a caseworker is written only when a
# decision or explanation needs it (_failures), which keeps evaluation fast.
package liaison

# _scope_codes are the checks that decide whether a basis is about this
# kind of exchange at all. A basis that passes them but fails only a
# condition (validity, case membership, subject, clearance) is a near miss,
# and its reasons explain a denial better than NO_LEGAL_BASIS.
_scope_codes := {
	"ACTION_NOT_COVERED", "PURPOSE_NOT_COVERED", "RECORD_TYPE_NOT_COVERED",
	"HOLDER_KIND_NOT_COVERED", "RECIPIENT_KIND_NOT_COVERED",
	"RECIPIENT_JURISDICTION_NOT_COVERED",
}

# _failure_codes maps each basis id to the codes of the checks it fails.
_failure_codes := {id: {code | some [i, code] in _failed; i == id} | some id, _ in _bases}

_applicable := {id | some id, codes in _failure_codes; count(codes) == 0}

_near_miss := {id |
	some id, codes in _failure_codes
	count(codes) > 0
	count(codes & _scope_codes) == 0
}

# _failures(id) are the failed checks of basis id as reasons {code, message}.
_failures(id) := {_reason(code, _failure_message(code, _bases[id])) | some code in _failure_codes[id]}

_failed contains [id, "ACTION_NOT_COVERED"] if {
	some id, b in _bases
	not _action in b.actions
}

_failed contains [id, "PURPOSE_NOT_COVERED"] if {
	some id, b in _bases
	not _purpose in b.purposes
}

_failed contains [id, "RECORD_TYPE_NOT_COVERED"] if {
	some id, b in _bases
	not _record_type in b.record_types
}

_failed contains [id, "HOLDER_KIND_NOT_COVERED"] if {
	some id, b in _bases
	not _holder_kind in b.holder_kinds
}

_failed contains [id, "RECIPIENT_KIND_NOT_COVERED"] if {
	some id, b in _bases
	not _recipient_kind in b.recipient_kinds
}

_failed contains [id, "RECIPIENT_JURISDICTION_NOT_COVERED"] if {
	some id, b in _bases
	not _recipient_jurisdiction in object.get(b, "recipient_jurisdictions", [_holder_jurisdiction])
}

_failed contains [id, "SUBJECT_NOT_COVERED"] if {
	some id, b in _bases
	not _subject_covered(object.get(b, "subject", {}))
}

_failed contains [id, "CASE_REQUIRED"] if {
	some id, b in _bases
	b.requires_case == true
	not _case_valid
}

_failed contains [id, "NOT_A_CASE_MEMBER"] if {
	some id, b in _bases
	b.requires_case == true
	_case_valid
	count(_case_outsiders) > 0
}

_failed contains [id, "CLEARANCE_TOO_LOW"] if {
	some id, b in _bases
	clearance_rank[_clearance] < clearance_rank[b.min_clearance]
}

_failed contains [id, "UNKNOWN_VALIDITY_TYPE"] if {
	some id, b in _bases
	not _validity(b).type in {"none", "probation", "release_window"}
}

# Validity: bases tied to probation end with the subject's probation.
_failed contains [id, "PROBATION_END_UNKNOWN"] if {
	some id, b in _bases
	_validity(b).type == "probation"
	_probation_until == ""
}

_failed contains [id, "LEGAL_BASIS_EXPIRED"] if {
	some id, b in _bases
	_validity(b).type == "probation"
	_now_ns >= _probation_end_ns
}

# Validity: release-related bases apply in a window around the release date.
_failed contains [id, "RELEASE_DATE_UNKNOWN"] if {
	some id, b in _bases
	_validity(b).type == "release_window"
	_release_date == ""
}

_failed contains [id, "LEGAL_BASIS_NOT_YET_VALID"] if {
	some id, b in _bases
	_validity(b).type == "release_window"
	_now_ns < _window_start_ns(b.validity)
}

_failed contains [id, "LEGAL_BASIS_EXPIRED"] if {
	some id, b in _bases
	_validity(b).type == "release_window"
	_now_ns >= _window_end_ns(b.validity) + day_ns
}

_validity(b) := object.get(b, "validity", {"type": "none"})

_subject_covered(s) if {
	_category in object.get(s, "categories", subject_categories)
	_in_custody == object.get(s, "in_custody", _in_custody)
}

_recipient_jurisdiction := _str(_recipient, "jurisdiction")

_case_outsiders := {a | some p in _parties; a := _str(p, "agency"); not a in _case_members}

_probation_end_ns := date_ns(_probation_until) + day_ns

_release_ns := date_ns(_release_date)

_window_start_ns(v) := _release_ns - (v.days_before * day_ns)

# _window_end_ns is the start of the last day of the window.
_window_end_ns(v) := _release_ns + (v.days_after * day_ns)

# _valid_until[id] is the last day basis id covers, where it has one.
_valid_until[id] := _probation_until if {
	some id, b in _bases
	_validity(b).type == "probation"
	is_date(_probation_until)
}

_valid_until[id] := format_date(_window_end_ns(b.validity)) if {
	some id, b in _bases
	_validity(b).type == "release_window"
	is_date(_release_date)
}

# The sentences for caseworkers, one per check.

_failure_message("ACTION_NOT_COVERED", b) := sprintf("%s does not cover the action %s.", [b.citation, _action])

_failure_message("PURPOSE_NOT_COVERED", b) := sprintf("%s does not cover the purpose %s.", [b.citation, _purpose_noun(_purpose)])

_failure_message("RECORD_TYPE_NOT_COVERED", b) := sprintf("%s does not cover %s.", [b.citation, _record_noun(_record_type)])

_failure_message("HOLDER_KIND_NOT_COVERED", b) := sprintf("%s does not let %s share.", [b.citation, _kind_noun(_holder_kind)])

_failure_message("RECIPIENT_KIND_NOT_COVERED", b) := sprintf("%s does not let %s receive.", [b.citation, _kind_noun(_recipient_kind)])

_failure_message("RECIPIENT_JURISDICTION_NOT_COVERED", b) := sprintf("%s does not cover recipients in %s.", [b.citation, _recipient_jurisdiction])

_failure_message("SUBJECT_NOT_COVERED", b) := sprintf("%s covers only subjects %s.", [b.citation, _subject_words(b.subject)])

_failure_message("CASE_REQUIRED", b) := sprintf("%s applies only within a multi-agency case; no valid case was given.", [b.citation])

_failure_message("NOT_A_CASE_MEMBER", b) := sprintf(
	"Only members of case %s may share under %s; %s %s.",
	[_case_id, b.citation, concat(", ", sort(_case_outsiders)), _not_members[count(_case_outsiders) == 1]],
)

_failure_message("CLEARANCE_TOO_LOW", b) := sprintf(
	"%s requires an officer cleared to %s; the officer's clearance is %s.",
	[b.citation, b.min_clearance, _clearance],
)

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
