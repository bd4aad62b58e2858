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

_explain_pack := sprintf("%s (%s)", [_holder_jurisdiction, _law]) if {
	_has_pack
} else := sprintf("none for %q", [_holder_jurisdiction])

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
