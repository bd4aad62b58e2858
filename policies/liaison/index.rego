# Liaison pack index: the legal bases of every pack as the rules read them.
#
# Nothing here depends on the input. The gateway works these rules out once,
# when it loads a policy (it folds every rule that does not depend on the
# input into its value, see policies/engine.go), so that a decision looks a
# basis up by the keys the request fixes instead of walking every basis of
# the pack; `opa eval` and `opa test` work out only the entries a query
# needs. The packs stay as they are written: this file only reads them.
package liaison

# _scope_index[key][action][purpose][record_type] are the ids of the bases of
# the pack in package liaison.jurisdictions.<key> that cover that action,
# purpose and record type. translate and reidentify concern a pseudonym,
# not a record: a basis for them is found under the record type "".
_scope_index[key][action][purpose][record_type] contains id if {
	some key, id
	b := data.liaison.jurisdictions[key].bases[id]
	some action in b.actions
	some purpose in b.purposes
	some record_type in _indexed_record_types(action, b)
}

# _prohibition_index[key][action][purpose][record_type] are the indexes in
# the prohibitions of pack <key> of those that forbid that action, purpose
# and record type (as _prohibition_applies in decision.rego decides).
_prohibition_index[key][action][purpose][record_type] contains i if {
	some key, i
	p := data.liaison.jurisdictions[key].prohibitions[i]
	some action in object.get(p, "actions", actions)
	some purpose in p.purposes
	some record_type in _prohibited_record_types(action, p)
}

# A prohibition limited to some record types does not reach translate and
# reidentify, which concern no record; one for all record types does.
_prohibited_record_types(action, p) := {t | some t in object.get(p, "record_types", record_types)} if {
	not action in pseudonym_actions
} else := {""} if {
	not "record_types" in object.keys(p)
} else := set()

_indexed_record_types(action, _) := {""} if action in pseudonym_actions

_indexed_record_types(action, b) := {t | some t in b.record_types} if not action in pseudonym_actions

# _basis_views[key][id] is basis id of pack <key> as written, with what the
# rules need that does not depend on the input worked out:
#
#   covers     the kinds of agency, the jurisdictions and the subject
#              categories it names, with the defaults filled in
#              (recipient_jurisdictions: the pack's own; categories: all)
#   custody    {"in_custody": v} if the basis names the subject's custody
#   needs      whether it needs a case; the clearance rank it needs of an
#              officer, by kind of agency (a level Liaison does not know
#              counts as 99: no one has it); and its validity as a window
#              [low, high) around a date it counts from (from: "none",
#              "probation" (the end of probation) or "release"), in
#              nanoseconds (see _since in bases.rego)
#   validity   its validity, {"type": "none"} if it names none
#
# What a decision under the basis says is in _basis_outputs and
# _basis_parts.
_basis_views[key][id] := object.union(b, {
	"id": id,
	"covers": {
		"holder_kinds": object.get(b, "holder_kinds", []),
		"recipient_kinds": object.get(b, "recipient_kinds", []),
		"requester_kinds": object.get(b, "requester_kinds", []),
		"recipient_jurisdictions": object.get(b, "recipient_jurisdictions", [code]),
		"categories": object.get(subject, "categories", subject_categories),
	},
	"custody": object.filter(subject, {"in_custody"}),
	"needs": object.union(
		{"case": _is_true(b, "requires_case"), "rank": _ranks_needed(b)},
		_window(validity),
	),
	"validity": validity,
}) if {
	some key, id
	b := data.liaison.jurisdictions[key].bases[id]
	code := data.liaison.jurisdictions[key].code
	subject := object.get(b, "subject", {})
	validity := object.get(b, "validity", {"type": "none"})
}

_is_true(x, k) if {
	x[k] == true
} else := false

# _ranks_needed(b) is the clearance rank basis b needs of an officer, by
# kind of agency: none without min_clearance; with it, of the kinds in
# min_clearance_kinds (by default every kind).
_ranks_needed(b) := {} if {
	not "min_clearance" in object.keys(b)
} else := {kind: rank |
	some kind in object.get(b, "min_clearance_kinds", agency_kinds)
	rank := object.get(clearance_rank, b.min_clearance, 99)
}

# _window(v) is validity v as {from, low, high}: "now" is valid if
# low <= now - <the date it counts from> < high. No validity has no bounds
# (_unbounded); probation ends with the day probation ends (counted from
# the start of that day, so less than a day after it); a release
# window runs from days_before the release to the end of the day days_after
# it (last_day: the start of that day, after the release). A validity
# Liaison does not know has no window: it never holds.
_window(v) := {"from": "none", "low": 0 - _unbounded, "high": _unbounded} if {
	v.type == "none"
} else := {"from": "probation", "low": 0 - _unbounded, "high": day_ns} if {
	v.type == "probation"
} else := {"from": "release", "low": 0 - (v.days_before * day_ns), "high": (v.days_after * day_ns) + day_ns, "last_day": v.days_after * day_ns} if {
	v.type == "release_window"
	is_number(v.days_before)
	is_number(v.days_after)
} else := {}

# _unbounded is more nanoseconds than separate any two times Liaison reads.
_unbounded := 1000000000000000000000000000000

# _basis_parts[key][id][action][ngo][risk] are the parts of a decision
# under basis id of pack <key> that do not depend on the request but on
# the action, on whether the recipient is an NGO and on whether the record
# is a risk assessment (see _basis_decision in decision.rego).
_basis_parts[key][id][action][ngo][risk] := _decision_parts(id, action, ngo, risk, b) if {
	some key, id
	b := data.liaison.jurisdictions[key].bases[id]
	some action in actions
	some ngo in [true, false]
	some risk in [true, false]
}

# _decision_parts(id, action, ngo, risk, b) are, for a decision under basis
# b (id) for action, to an NGO or not, about a risk assessment or not:
#
#   outcome      disclose, hit_only for a match, pseudonymise for translate
#   fields       its fields for a record; for translate the subject's
#                pseudonym in the new domain, for reidentify the subject's
#                identifier (to the requesting officer, once the approvers
#                agree); nothing for a hit
#   conditions   its conditions and the global ones
#   reason       LEGAL_BASIS_APPLIES, saying which basis
#   notes        what of its fields was left out (assessments for an NGO)
#   reasons      the reason and the notes (what a domestic decision says)
#   legal_basis  its id, citation and assumption (a domestic decision's)
_decision_parts(id, action, ngo, risk, b) := {
	"outcome": outcome,
	"fields": fields,
	"conditions": _conditions_for(object.get(b, "conditions", []), fields, risk),
	"reason": reason,
	"notes": notes,
	"reasons": array.concat([reason], notes),
	"legal_basis": object.union({"id": id, "citation": b.citation}, _optional("assumption", object.get(b, "assumption", ""))),
} if {
	outcome := _capped_for(action, "disclose")
	spec := object.get(_pseudonym_fields, action, object.get(b, "fields", _full_fields))
	fields := _outcome_fields(outcome, spec, ngo)
	reason := _reason("LEGAL_BASIS_APPLIES", sprintf("%s permits this exchange: %s.", [b.citation, object.get(b, "title", id)]))
	notes := _field_notes(spec, ngo)
}

# _pack_keys[code] is the key of the pack for jurisdiction code: the name
# of its package, liaison.jurisdictions.<key>, if the pack says it is for
# that code (see has_pack).
_pack_keys[code] := key if {
	some key
	code := data.liaison.jurisdictions[key].code
	pack_key(code) == key
}

# _packs[key] are the rules of pack <key> that decisions read, by name
# (missing ones are left out).
_packs[key] := object.union(
	object.filter(p, {"code", "law_name", "bases", "prohibitions", "receipt"}),
	{"fallback_rules": r | r := p.fallback.rules},
) if {
	some key in _pack_keys
	p := data.liaison.jurisdictions[key]
}

# _known_jurisdictions are the jurisdictions known_jurisdiction accepts:
# those listed and those with a pack.
_known_jurisdictions := listed_jurisdictions | {code | some code, _ in _pack_keys}
