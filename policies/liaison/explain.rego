# Liaison explanation: the lines data.liaison.explain shows for
# `liaison policy simulate` and `opa eval 'data.liaison.explain'`.
package liaison

_explain_lines := array.concat(
	array.concat(_explain_head, _explain_bases),
	_explain_fallback,
)

_explain_head := array.concat(
	[
		sprintf("outcome %s, decided at stage %s", [_result.decision.outcome, _result.stage]),
		sprintf("jurisdiction pack: %s", [_explain_pack]),
	],
	[sprintf("reason %s: %s", [r.code, r.message]) | some r in _result.decision.reasons],
)

_explain_pack := sprintf("%s (%s)", [_in.holder.jurisdiction, _law]) if {
	_has_pack
} else := sprintf("none for %q", [_in.holder.jurisdiction])

_explain_bases := [line |
	some id in sort(object.keys(_bases))
	line := _explain_basis(id)
]

_explain_basis(id) := sprintf("basis %s: applies and was chosen", [id]) if {
	id == _chosen_basis_id
	_result.stage == "legal_basis"
} else := sprintf("basis %s: applies", [id]) if {
	id in _applicable
} else := sprintf("basis %s: does not apply: %s", [id, concat("; ", [sprintf("%s (%s)", [r.code, r.message]) | some r in _failures(id)])])

_explain_fallback := [line |
	some i, r in _fallback_rules
	line := sprintf("fallback rule %d (%s): %s", [i, r.outcome, _explain_fallback_state(i, r)])
]

_explain_fallback_state(i, _) := "applies and was chosen" if {
	_result.stage == "fallback"
	i == _fallback_index
} else := "applies but is blocked: criminal-offence data (GDPR Art. 10)" if {
	_fallback_applies(_fallback_rules[i])
	_art10_blocks_fallback
} else := "applies" if {
	_fallback_applies(_fallback_rules[i])
} else := "does not apply"

# _explain_assumptions are the assumptions the decision rests on: those of
# the basis or fallback rule used; for a denial, those of the provisions
# that came nearest and the pack's own (a pack read from secondary sources
# may lack a basis that exists).
_explain_assumptions := _assumptions_of(_bases[_chosen_basis_id]) if {
	_result.stage == "legal_basis"
} else := _assumptions_of(_fallback_rules[_fallback_index]) if {
	_result.stage == "fallback"
} else := _non_empty([_pack_assumption(_recipient_pack_key)]) if {
	_result.stage == "recipient_law"
} else := _non_empty(array.concat(
	[p.assumption | some p in _prohibitions; _prohibition_applies(p); is_string(p.assumption)],
	[_pack_assumption(_pack_key)],
)) if {
	_result.stage == "prohibition"
} else := _non_empty(array.concat(
	[object.get(_bases, [_in.claimed_legal_basis, "assumption"], "")],
	[_pack_assumption(_pack_key)],
)) if {
	# the basis claimed, if the pack has it, and the pack's own: a claim
	# of a basis the pack lacks is refused on the pack's completeness
	_result.stage == "claimed_basis"
} else := _non_empty(array.concat(
	[object.get(_bases[id], "assumption", "") | some id in sort(_near_miss)],
	[_pack_assumption(_pack_key)],
)) if {
	_result.stage == "no_basis"
} else := _onward_assumptions if {
	_result.stage == "onward"
} else := []

# _pack_assumption(key) is the pack's own assumption, or "".
_pack_assumption(key) := a if {
	a := data.liaison.jurisdictions[key].assumption
	is_string(a)
} else := ""

# _non_empty(xs) is xs without empty strings and repeats, in order.
_non_empty(xs) := [x |
	some i, x in xs
	x != ""
	not _seen_before(xs, i, x)
]

_seen_before(xs, i, x) if {
	some j, y in xs
	j < i
	y == x
}
