# Liaison legal bases: the generic test of a pack's bases against the input.
#
# Each basis in a pack is data (see policies/README.md). A basis applies when
# none of the checks below fails. Failed checks are codes; the sentence for
# a caseworker is written only when a decision or explanation needs it
# (_failures), which keeps evaluation fast.
#
# The checks read a basis through its view (index.rego): the basis as
# written, with its defaults filled in and what the checks need worked
# out. A view is written v below; v.citation, v.validity, ... are the
# basis's own.
package liaison

# A basis is in scope when it covers this action, purpose, record type,
# holder kind, recipient kind and recipient jurisdiction. It applies when
# it is in scope and all its conditions hold (_basis_ok). Both are proven
# positively: a basis whose data is missing something does not apply.
#
# The bases that cover the action, purpose and record type are looked up
# in the pack's index (_candidates); the parties are checked here.
#
# For a valid request within one jurisdiction, the fast lane has found
# both already (_fast_bases in decision.rego, the same checks written out).
#
# A basis in scope whose conditions fail (validity, case membership,
# subject, clearance) is a near miss: its reasons explain a denial better
# than NO_LEGAL_BASIS does. The codes of failed checks (_failure_codes) are
# worked out only for denials and explanations.
_applicable := ids if {
	ids := _fast_applicable
} else := {id |
	some id in _candidates
	v := _basis_views[_pack_key][id]
	_parties_covered(v)
	_basis_ok(v)
}

_near_miss := bases.in_scope - bases.applicable if {
	bases := _fast_bases
} else := {id |
	some id in _candidates
	v := _basis_views[_pack_key][id]
	_parties_covered(v)
	not _basis_ok(v)
}

# _candidates are the ids of the holder's bases that cover this action,
# purpose and record type (for translate and reidentify: this action and
# purpose).
_candidates := ids if {
	_has_pack
	ids := _scope_index[_pack_key][_in.action][_in.purpose][_indexed_record_type]
} else := set()

# _indexed_record_type is the record type bases are indexed under: none
# ("") for translate and reidentify.
_indexed_record_type := object.get({"translate": "", "reidentify": ""}, _in.action, _in.record_type)

# _parties_covered(v) is true if basis v covers the holder's and the
# recipient's kinds and the recipient's jurisdiction.
_parties_covered(v) if {
	not _pseudonym_action
	i := _in
	i.holder.kind in v.covers.holder_kinds
	i.recipient.kind in v.covers.recipient_kinds
	some j in _jurisdictions_reached
	j in v.covers.recipient_jurisdictions
}

# A basis for translate or reidentify names the kinds of agency that may
# ask (requester_kinds): the requester holds the pseudonym and receives
# the result, so there is no other party, record type or jurisdiction.
_parties_covered(v) if {
	_pseudonym_action
	_in.requester.kind in v.covers.requester_kinds
}

# _jurisdictions_reached are the recipient jurisdictions a basis or
# fallback rule must name to cover the recipient's (by default it names
# only the holder's own): the recipient's, or, if the recipient is in
# another Member State and an EU instrument carries the exchange, the
# holder's. What the holder's law allows for a domestic recipient it then
# allows, on the same conditions, for one in another Member State (LED Art.
# 9(4): no stricter conditions for other Member States).
_jurisdictions_reached := {_in.recipient.jurisdiction, _in.holder.jurisdiction} if {
	_cross_member_state
	_eu_instrument
} else := {_in.recipient.jurisdiction}

_jurisdiction_covered(js) if {
	some j in _jurisdictions_reached
	j in js
}

_jurisdiction_ok(v) if _jurisdiction_covered(v.covers.recipient_jurisdictions)

else := false

# _via_instrument(x) is true if basis or fallback rule x reaches the
# recipient only through the EU instrument (x does not name the
# recipient's jurisdiction itself).
_via_instrument(x) if {
	_cross_member_state
	not _in.recipient.jurisdiction in object.get(x, "recipient_jurisdictions", [_in.holder.jurisdiction])
}

# _basis_ok(v) is true if the conditions of basis v hold: the subject,
# the case, the officer's clearance and the validity. Each is a lookup in
# what the view has worked out (index.rego); _fails says which fails.
_basis_ok(v) if {
	not _pseudonym_action = true # = true: see _fast_result
	i := _in
	i.subject.category in v.covers.categories
	object.get(v.custody, "in_custody", i.subject.in_custody) == i.subject.in_custody
	v.needs.case in _cases_allowed
	_officer_rank >= object.get(v.needs.rank, i.requester.kind, -1)
	since := _since[v.needs.from]
	v.needs.low <= since
	since < v.needs.high
}

# The gateway does not know the subject of a pseudonym, so translate and
# reidentify are not checked against a subject (their bases name none).
_basis_ok(v) if {
	_pseudonym_action = true
	v.needs.case in _cases_allowed
	_officer_rank >= object.get(v.needs.rank, _in.requester.kind, -1)
	since := _since[v.needs.from]
	v.needs.low <= since
	since < v.needs.high
}

# _cases_allowed holds true if a basis that needs a case may apply: the
# case is valid and has requester, holder and recipient as members.
_cases_allowed := {false, true} if {
	_case_valid
	count(_case_outsiders) == 0
} else := {false}

# _officer_rank is the rank of the officer's clearance, -1 if it is not
# one Liaison knows (then only a basis that asks no clearance of the
# officer's kind of agency applies).
_officer_rank := object.get(clearance_rank, _clearance, -1)

# _clearance_ranks are the ranks of the clearances; an empty one is "none".
_clearance_ranks := object.union(clearance_rank, {"": 0})

# _since[from] is how long "now" is after the date a validity counts from
# (index.rego, _window): for "none" no date (now itself, or 0 if the time
# is not valid), for "probation" the start of the last day of probation
# (its window ends a day later: one subtraction fewer, each costing about
# eight allocations where nanoseconds leave the int32 window), for
# "release" the start of the release date; undefined if that date is
# not known. The days are those of the holder's law, whose bases these
# are: "now" is read on its clocks (_law_now_ns), so that a basis valid
# until D is in force until midnight at the end of D where that law is
# (Copenhagen: 23:00 UTC in winter), and a window begins at midnight
# there.
_since["none"] := t if {
	t := _now_ns
} else := 0

_since["probation"] := _law_now_ns - date_ns(_in.subject.probation_until)

_since["release"] := _law_now_ns - _release_ns

# _law_now_ns is "now" on the clocks of the holder's law (wall_clock_ns in
# its pack's time_zone), against which the days of its bases' validity
# count.
_law_now_ns := wall_clock_ns(_now_ns, _law_time_zone)

# _since_valid(i) is _since for a valid input i (its time and dates are
# known to parse), worked out at once for the fast lane (decision.rego),
# from now on the clocks of the holder's law (law; wall_clock_ns, written
# out: a rule entered costs more than the expressions).
_since_valid(i) := object.union({"none": now}, dated) if {
	now := time.parse_rfc3339_ns(i.time)
	law := time.parse_ns(_wall_clock_ns, time.format([now, pack_time_zones[_pack_keys[i.holder.jurisdiction]], _wall_clock_ns]))
	dated := {from: since |
		some from, d in {"probation": i.subject.probation_until, "release": i.subject.release_date}
		d != ""
		since := law - time.parse_ns("2006-01-02", d)
	}
}

# _failures(id) are the failed checks of basis id as reasons {code, message}.
_failures(id) := {_reason(code, _failure_message(code, v)) |
	v := _basis_views[_pack_key][id]
	some code in _failure_codes(v)
}

# _near_miss_failures(id) are _failures(id) for a near miss: a basis in
# scope, so that only its conditions can fail.
_near_miss_failures(id) := {_reason(code, _failure_message(code, v)) |
	v := _basis_views[_pack_key][id]
	some code in _condition_codes(v)
}

_condition_codes(b) := codes if {
	codes := _conditions_failed(b)
	count(codes) > 0
} else := {"BASIS_DATA_INCOMPLETE"} if {
	not _basis_ok(b)
} else := set()

_failure_codes(b) := codes if {
	codes := _scope_failed(b) | _conditions_failed(b)
	count(codes) > 0
} else := {"BASIS_DATA_INCOMPLETE"} if {
	not _basis_ok(b)
} else := set()

_scope_failed(b) := {code |
	not _pseudonym_action
	some code, covered in {
		"ACTION_NOT_COVERED": _in.action in object.get(b, "actions", []),
		"PURPOSE_NOT_COVERED": _in.purpose in object.get(b, "purposes", []),
		"RECORD_TYPE_NOT_COVERED": _in.record_type in object.get(b, "record_types", []),
		"HOLDER_KIND_NOT_COVERED": _in.holder.kind in object.get(b, "holder_kinds", []),
		"RECIPIENT_KIND_NOT_COVERED": _in.recipient.kind in object.get(b, "recipient_kinds", []),
		"RECIPIENT_JURISDICTION_NOT_COVERED": _jurisdiction_ok(b),
	}
	not covered
} | {code |
	_pseudonym_action
	some code, covered in {
		"ACTION_NOT_COVERED": _in.action in object.get(b, "actions", []),
		"PURPOSE_NOT_COVERED": _in.purpose in object.get(b, "purposes", []),
		"REQUESTER_KIND_NOT_COVERED": _requester_kind_ok(b),
	}
	not covered
}

# _requester_kind_ok(b) is false if basis b names requester_kinds without
# the requester's kind, or names none and covers the action (a broken
# pack). A basis for records names none: it fails on the action alone.
_requester_kind_ok(b) if {
	_in.requester.kind in object.get(b, "requester_kinds", [])
} else if {
	not "requester_kinds" in object.keys(b)
	not _in.action in object.get(b, "actions", [])
} else := false

# _conditions_failed(b) are the codes of the conditions of basis b that
# fail, one set each (a set written {"CODE" | conditions} holds the code
# if the conditions hold).
_conditions_failed(b) := ((((({"SUBJECT_NOT_COVERED" |
	not _pseudonym_action
	not _subject_covered(b)
} | {"CASE_REQUIRED" |
	b.requires_case == true
	not _case_valid
}) | {"NOT_A_CASE_MEMBER" |
	b.requires_case == true
	_case_valid
	count(_case_outsiders) > 0
}) | {"CLEARANCE_TOO_LOW" |
	_officer_rank < object.get(b.needs.rank, _in.requester.kind, -1)
}) | {"UNKNOWN_VALIDITY_TYPE" |
	not b.validity.type in {"none", "probation", "release_window"}
}) | _probation_failed(b.validity)) | _release_window_failed(b)

_subject_covered(v) if {
	_in.subject.category in v.covers.categories
	object.get(v.custody, "in_custody", _in.subject.in_custody) == _in.subject.in_custody
}

# Bases tied to probation end with the subject's probation (inclusive:
# at midnight after its last day where the holder's law is).
_probation_failed(v) := {"PROBATION_END_UNKNOWN" |
	_in.subject.probation_until == ""
} | {"LEGAL_BASIS_EXPIRED" |
	_law_now_ns >= _probation_end_ns
} if {
	v.type == "probation"
} else := set()

# Release-related bases apply in a window around the release date, from
# the start of the day days_before the release to the end of the day
# days_after it, days of the holder's law. Basis b is a view
# (_basis_views): _since.release, which _basis_ok has usually worked out
# already, is compared with its window (needs.low, needs.high; whole days,
# so exactly the old _law_now_ns against the release date moved by
# days_before and days_after), rather than the window worked out again in
# nanoseconds (each + or - of those costs about eight allocations,
# docs/performance.md). The same comparison with _since.probation made
# decisions that never reach _since allocate more; not done.
_release_window_failed(b) := ({"RELEASE_DATE_UNKNOWN" |
	_in.subject.release_date == ""
} | {"LEGAL_BASIS_NOT_YET_VALID" |
	_since.release < b.needs.low
}) | {"LEGAL_BASIS_EXPIRED" |
	_since.release >= b.needs.high
} if {
	b.validity.type == "release_window"
} else := set()

_validity(b) := object.get(b, "validity", {"type": "none"})

_case_outsiders := {a | some p in _parties; a := p.agency; not a in _case_members}

# The dates a validity counts from, as midnight on the clocks of the
# holder's law (compared with _law_now_ns): the end of the last day of
# probation, the start of the release date.
_probation_end_ns := date_ns(_in.subject.probation_until) + day_ns

_release_ns := date_ns(_in.subject.release_date)

# _valid_until(v) is the last day basis v covers, or "" if it has none.
_valid_until(v) := _in.subject.probation_until if {
	v.needs.from == "probation"
	is_date(_in.subject.probation_until)
} else := format_date(_release_ns + v.needs.last_day) if {
	v.needs.from == "release"
} else := ""

# The sentences for caseworkers, one per check. Each definition compares
# the code in its body (code == "..."), where OPA's rule index picks the
# one definition for a code; a code written in the head instead
# (_failure_message("CASE_REQUIRED", b)) is not indexed, and every call
# entered all nineteen definitions.

_failure_message(code, b) := sprintf("%s does not cover the action %s.", [b.citation, _in.action]) if code == "ACTION_NOT_COVERED"

_failure_message(code, b) := sprintf("%s does not cover the purpose %s.", [b.citation, _purpose_noun(_in.purpose)]) if code == "PURPOSE_NOT_COVERED"

_failure_message(code, b) := sprintf("%s does not cover %s.", [b.citation, _record_noun(_in.record_type)]) if code == "RECORD_TYPE_NOT_COVERED"

_failure_message(code, b) := sprintf("%s does not let %s share.", [b.citation, _kind_noun(_in.holder.kind)]) if code == "HOLDER_KIND_NOT_COVERED"

_failure_message(code, b) := sprintf("%s does not let %s receive.", [b.citation, _kind_noun(_in.recipient.kind)]) if code == "RECIPIENT_KIND_NOT_COVERED"

_failure_message(code, b) := sprintf("%s does not let %s %s.", [b.citation, _kind_noun(_in.requester.kind), _pseudonym_verb[_in.action]]) if code == "REQUESTER_KIND_NOT_COVERED"

_failure_message(code, b) := sprintf("%s does not cover recipients in %s, and no EU instrument carries this exchange there.", [b.citation, _in.recipient.jurisdiction]) if {
	code == "RECIPIENT_JURISDICTION_NOT_COVERED"
	_cross_member_state
} else := sprintf("%s does not cover recipients in %s.", [b.citation, _in.recipient.jurisdiction]) if {
	code == "RECIPIENT_JURISDICTION_NOT_COVERED"
}

_failure_message(code, b) := sprintf("%s covers only subjects %s.", [b.citation, _subject_words(b.subject)]) if code == "SUBJECT_NOT_COVERED"

_failure_message(code, b) := sprintf("%s applies only within a multi-agency case; no valid case was given.", [b.citation]) if code == "CASE_REQUIRED"

_failure_message(code, b) := sprintf(
	"Only members of case %s may share under %s; %s %s.",
	[_case_id, b.citation, concat(", ", sort(_case_outsiders)), _not_members[count(_case_outsiders) == 1]],
) if code == "NOT_A_CASE_MEMBER"

_failure_message(code, b) := sprintf(
	"%s requires an officer cleared to %s; the officer's clearance is %s.",
	[b.citation, b.min_clearance, _clearance],
) if {
	code == "CLEARANCE_TOO_LOW"
	not "min_clearance_kinds" in object.keys(b)
} else := sprintf(
	"%s requires an officer of %s to be cleared to at least %s; the officer's clearance is %s.",
	[b.citation, _kind_noun(_in.requester.kind), b.min_clearance, _clearance],
) if {
	code == "CLEARANCE_TOO_LOW"
}

_failure_message(code, b) := sprintf("%s could not be checked because its data in the jurisdiction pack is incomplete; the pack must be fixed.", [b.citation]) if code == "BASIS_DATA_INCOMPLETE"

_failure_message(code, b) := sprintf("%s has a validity type Liaison does not know; the pack must be fixed.", [b.citation]) if code == "UNKNOWN_VALIDITY_TYPE"

_failure_message(code, b) := sprintf("%s applies only while the subject is on probation, and no probation end date is known.", [b.citation]) if code == "PROBATION_END_UNKNOWN"

_failure_message(code, b) := sprintf("%s applies only around a release, and no release date is known.", [b.citation]) if code == "RELEASE_DATE_UNKNOWN"

_failure_message(code, b) := sprintf(
	"%s applies from %s, %d days before the release on %s.",
	[b.citation, format_date(_release_ns + b.needs.low), b.validity.days_before, _in.subject.release_date],
) if code == "LEGAL_BASIS_NOT_YET_VALID"

_failure_message(code, b) := sprintf(
	"%s applied only while the subject was on probation, which ended on %s.",
	[b.citation, _in.subject.probation_until],
) if {
	code == "LEGAL_BASIS_EXPIRED"
	b.validity.type == "probation"
}

_failure_message(code, b) := sprintf(
	"%s applied until %s, %d days after the release on %s.",
	[b.citation, format_date(_release_ns + b.needs.last_day), b.validity.days_after, _in.subject.release_date],
) if {
	code == "LEGAL_BASIS_EXPIRED"
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
