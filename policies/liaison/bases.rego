# Liaison legal bases: the generic test of a pack's bases against the input.
#
# Each basis in a pack is data (see policies/README.md). A basis applies when
# none of the checks below fails. A failed check is recorded as a reason
# {code, message}; _failures[id] holds them all, for decision and explain.
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

_failures[id] := {r | some [bid, r] in _basis_failure; bid == id} if some id, _ in _bases

_applicable := {id | some id, _ in _bases; count(_failures[id]) == 0}

_near_miss := {id |
	some id, _ in _bases
	count(_failures[id]) > 0
	every r in _failures[id] {
		not r.code in _scope_codes
	}
}

_basis_failure contains [id, _reason("ACTION_NOT_COVERED", sprintf("%s does not cover the action %s.", [b.citation, _action]))] if {
	some id, b in _bases
	not _action in b.actions
}

_basis_failure contains [id, _reason("PURPOSE_NOT_COVERED", sprintf("%s does not cover the purpose %s.", [b.citation, _purpose_noun(_purpose)]))] if {
	some id, b in _bases
	not _purpose in b.purposes
}

_basis_failure contains [id, _reason("RECORD_TYPE_NOT_COVERED", sprintf("%s does not cover %s.", [b.citation, _record_noun(_record_type)]))] if {
	some id, b in _bases
	not _record_type in b.record_types
}

_basis_failure contains [id, _reason("HOLDER_KIND_NOT_COVERED", sprintf("%s does not let %s share.", [b.citation, _kind_noun(_holder_kind)]))] if {
	some id, b in _bases
	not _holder_kind in b.holder_kinds
}

_basis_failure contains [id, _reason("RECIPIENT_KIND_NOT_COVERED", sprintf("%s does not let %s receive.", [b.citation, _kind_noun(_recipient_kind)]))] if {
	some id, b in _bases
	not _recipient_kind in b.recipient_kinds
}

_basis_failure contains [id, _reason("RECIPIENT_JURISDICTION_NOT_COVERED", sprintf("%s does not cover recipients in %s.", [b.citation, j]))] if {
	some id, b in _bases
	j := _str(_recipient, "jurisdiction")
	not j in object.get(b, "recipient_jurisdictions", [_pack_data.code])
}

_basis_failure contains [id, _reason("SUBJECT_NOT_COVERED", sprintf("%s covers only subjects in the categories %s.", [b.citation, concat(", ", b.subject.categories)]))] if {
	some id, b in _bases
	not _category in b.subject.categories
}

_basis_failure contains [id, _reason("SUBJECT_NOT_COVERED", sprintf("%s covers only subjects who are %s.", [b.citation, _custody_words[b.subject.in_custody]]))] if {
	some id, b in _bases
	is_boolean(b.subject.in_custody)
	b.subject.in_custody != _in_custody
}

_custody_words := {true: "in custody", false: "not in custody"}

_basis_failure contains [id, _reason("CASE_REQUIRED", sprintf("%s applies only within a multi-agency case; no valid case was given.", [b.citation]))] if {
	some id, b in _bases
	b.requires_case == true
	not _case_valid
}

_basis_failure contains [id, _reason("NOT_A_CASE_MEMBER", sprintf(
	"Only members of case %s may share under %s; %s %s.",
	[_case_id, b.citation, concat(", ", sort(outsiders)), _not_members[count(outsiders) == 1]],
))] if {
	some id, b in _bases
	b.requires_case == true
	_case_valid
	outsiders := {a | some p in _parties; a := _str(p, "agency"); not a in _case_members}
	count(outsiders) > 0
}

_not_members := {true: "is not a member", false: "are not members"}

_basis_failure contains [id, _reason("CLEARANCE_TOO_LOW", sprintf(
	"%s requires an officer cleared to %s; the officer's clearance is %s.",
	[b.citation, b.min_clearance, _clearance],
))] if {
	some id, b in _bases
	clearance_rank[_clearance] < clearance_rank[b.min_clearance]
}

_basis_failure contains [id, _reason("UNKNOWN_VALIDITY_TYPE", sprintf("%s has a validity type %q Liaison does not know; the pack must be fixed.", [b.citation, t]))] if {
	some id, b in _bases
	t := object.get(b, "validity", {"type": "none"}).type
	not t in {"none", "probation", "release_window"}
}

# Validity: bases tied to probation end with the subject's probation.
_basis_failure contains [id, _reason("PROBATION_END_UNKNOWN", sprintf("%s applies only while the subject is on probation, and no probation end date is known.", [b.citation]))] if {
	some id, b in _bases
	b.validity.type == "probation"
	_probation_until == ""
}

_basis_failure contains [id, _reason("LEGAL_BASIS_EXPIRED", sprintf("%s applied only while the subject was on probation, which ended on %s.", [b.citation, _probation_until]))] if {
	some id, b in _bases
	b.validity.type == "probation"
	_now_ns >= date_ns(_probation_until) + day_ns
}

# Validity: release-related bases apply in a window around the release date.
_basis_failure contains [id, _reason("RELEASE_DATE_UNKNOWN", sprintf("%s applies only around a release, and no release date is known.", [b.citation]))] if {
	some id, b in _bases
	b.validity.type == "release_window"
	_release_date == ""
}

_basis_failure contains [id, _reason("LEGAL_BASIS_NOT_YET_VALID", sprintf(
	"%s applies from %s, %d days before the release on %s.",
	[b.citation, format_date(start), b.validity.days_before, _release_date],
))] if {
	some id, b in _bases
	b.validity.type == "release_window"
	start := date_ns(_release_date) - (b.validity.days_before * day_ns)
	_now_ns < start
}

_basis_failure contains [id, _reason("LEGAL_BASIS_EXPIRED", sprintf(
	"%s applied until %s, %d days after the release on %s.",
	[b.citation, _valid_until[id], b.validity.days_after, _release_date],
))] if {
	some id, b in _bases
	b.validity.type == "release_window"
	_now_ns >= date_ns(_release_date) + ((b.validity.days_after + 1) * day_ns)
}

# _valid_until[id] is the last day basis id covers, where it has one.
_valid_until[id] := _probation_until if {
	some id, b in _bases
	b.validity.type == "probation"
	is_date(_probation_until)
}

_valid_until[id] := format_date(date_ns(_release_date) + (b.validity.days_after * day_ns)) if {
	some id, b in _bases
	b.validity.type == "release_window"
	is_date(_release_date)
}
