# Liaison retention: what a recipient may keep once the legal basis it
# received data under has ended. data.liaison.retention answers for one
# release; its input is the input of that release (policies/README.md)
# with "time" the first day the basis no longer covers, written as its
# midnight UTC (retain_days count whole days from that day). The
# recipient's law governs what it keeps in its own files: the rule
# "retention" of the recipient's pack names what its agencies may keep of
# what they received, and for how long. Where no rule applies the
# recipient must erase.
package liaison

retention := {
	"obligation": "retain",
	"rule": object.union(
		{"id": id, "citation": r.citation, "retain_until": format_date(_now_ns + (r.retain_days * day_ns))},
		_optional("assumption", object.get(r, "assumption", "")),
	),
	"reasons": [_reason("RETENTION_RULE_APPLIES", sprintf(
		"The legal basis has ended; %s lets %s keep %s until %s (%s), restricted to that use; then it must be erased.",
		[r.citation, _kind_noun(_recipient_kind), _record_noun(_record_type), format_date(_now_ns + (r.retain_days * day_ns)), id],
	))],
} if {
	id := _retention_rule_id
	r := _retention_rules[id]
} else := {
	"obligation": "erase",
	"reasons": [_reason("NO_RETENTION_RULE", sprintf(
		"The legal basis has ended and no rule of %s lets %s keep %s: it must be erased.",
		[_recipient_law, _kind_noun(_recipient_kind), _record_noun(_record_type)],
	))],
}

# _retention_rules are the recipient's pack's rules, keyed by id. A rule
# names the recipient_kinds it covers and retain_days (counted from the
# first day the basis no longer covers); record_types, purposes,
# holder_kinds and from_jurisdictions narrow it (default: any).
_retention_rules := r if {
	_has_recipient_pack
	r := data.liaison.jurisdictions[_recipient_pack_key].retention
} else := {}

_retention_applies(r) if {
	_recipient_kind in r.recipient_kinds
	_record_type in object.get(r, "record_types", record_types)
	_purpose in object.get(r, "purposes", purposes)
	_holder_kind in object.get(r, "holder_kinds", agency_kinds)
	_holder_jurisdiction in object.get(r, "from_jurisdictions", [_holder_jurisdiction])
	is_number(r.retain_days)
	r.retain_days > 0
}

# _retention_rule_id is the applicable rule with the lowest id.
_retention_rule_id := min(ids) if {
	_valid_input
	ids := {id | some id, r in _retention_rules; _retention_applies(r)}
	count(ids) > 0
}
