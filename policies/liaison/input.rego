# Liaison input, read safely
# Normalised views of the policy input. Every value the shared rules use
# comes from here, so that a missing field or a field of the wrong type
# never makes a built-in function fail: it reads as "" (or {}) instead and
# the validation rules in decision.rego deny with a clear reason.
package liaison

_obj(x) := x if is_object(x)

else := {}

_str(o, k) := v if {
	v := o[k]
	is_string(v)
} else := ""

_in := input if {
	is_object(input)
} else := {}

_action := _str(_in, "action")

_time := _str(_in, "time")

_purpose := _str(_in, "purpose")

_record_type := _str(_in, "record_type")

_claimed := _str(_in, "claimed_legal_basis")

_requester := _obj(object.get(_in, "requester", {}))

_officer := _obj(object.get(_requester, "officer", {}))

_holder := _obj(object.get(_in, "holder", {}))

_recipient := _obj(object.get(_in, "recipient", {}))

_subject := _obj(object.get(_in, "subject", {}))

# _parties names the three parties for checks and messages.
_parties := {"requester": _requester, "holder": _holder, "recipient": _recipient}

_recipient_kind := _str(_recipient, "kind")

_holder_kind := _str(_holder, "kind")

_clearance := c if {
	c := _str(_officer, "clearance")
	c != ""
} else := "none"

_category := _str(_subject, "category")

_in_custody := v if {
	v := _subject.in_custody
	is_boolean(v)
} else := false

_release_date := _str(_subject, "release_date")

_probation_until := _str(_subject, "probation_until")

# _now_ns is "now": the time of the request, never the clock.
_now_ns := time.parse_rfc3339_ns(_time) if is_time(_time)

# A case is given when input.case is present and not null.
_case_given if {
	_in.case != null
}

_case := _obj(_in.case) if _case_given

_case_id := _str(_case, "id")

_case_members := {m | some m in _case.members; is_string(m)}

# _case_valid is true when the case has an id, a non-empty list of member
# agencies (all strings) and a lead that is one of them.
_case_valid if {
	_case_id != ""
	is_array(_case.members)
	count(_case.members) > 0
	count(_case_members) == count(_case.members)
	_str(_case, "lead") in _case_members
}

# The holder's jurisdiction governs.
_holder_jurisdiction := _str(_holder, "jurisdiction")

# Only the rules of the holder's pack that a decision needs are read, never
# the whole package, so that extra rules in a pack cost nothing.
_pack_key := pack_key(_holder_jurisdiction)

_has_pack if has_pack(_holder_jurisdiction)

_pack_rule(name, default_value) := v if {
	_has_pack
	v := data.liaison.jurisdictions[_pack_key][name]
} else := default_value

_bases := _pack_rule("bases", {})

_prohibitions := _pack_rule("prohibitions", [])

_fallback_rules := object.get(_pack_rule("fallback", {}), "rules", [])

_law := _pack_rule("law_name", sprintf("%s law", [_holder_jurisdiction]))
