# Liaison input, read safely
# Views of the policy input that never make a built-in function fail: a
# missing field reads as "" (or {}), and every built-in that needs a string
# checks for one first, so that input of the wrong shape is denied with a
# clear reason (decision.rego, stage 1) instead of raising an error.
package liaison

_obj(x) := x if is_object(x)

else := {}

_in := input if {
	is_object(input)
} else := {}

_action := object.get(_in, "action", "")

_time := object.get(_in, "time", "")

_purpose := object.get(_in, "purpose", "")

_record_type := object.get(_in, "record_type", "")

# _pseudonym_action is true for translate and reidentify: the exchange is
# about a pseudonym the requester holds, not about a record.
_pseudonym_action if _action in pseudonym_actions

_claimed := object.get(_in, "claimed_legal_basis", "")

_requester := _obj(object.get(_in, "requester", {}))

_holder := _obj(object.get(_in, "holder", {}))

_recipient := _obj(object.get(_in, "recipient", {}))

_subject := _obj(object.get(_in, "subject", {}))

# _parties names the three parties for checks and messages.
_parties := {"requester": _requester, "holder": _holder, "recipient": _recipient}

_holder_kind := object.get(_holder, "kind", "")

_recipient_kind := object.get(_recipient, "kind", "")

_recipient_agency := object.get(_recipient, "agency", "")

_recipient_jurisdiction := object.get(_recipient, "jurisdiction", "")

# The holder's jurisdiction governs.
_holder_jurisdiction := object.get(_holder, "jurisdiction", "")

# An empty clearance counts as "none".
_clearance := c if {
	c := object.get(_obj(object.get(_requester, "officer", {})), "clearance", "")
	c != ""
} else := "none"

_category := object.get(_subject, "category", "")

_in_custody := object.get(_subject, "in_custody", false)

_release_date := object.get(_subject, "release_date", "")

_probation_until := object.get(_subject, "probation_until", "")

# _now_ns is "now": the time of the request, never the clock.
_now_ns := time.parse_rfc3339_ns(_time) if is_time(_time)

# A case is given when input.case is present and not null.
_case_given if {
	_in.case != null
}

_case := _obj(_in.case) if _case_given

_case_id := object.get(_case, "id", "")

_case_members := {m | some m in _case.members; is_string(m)}

# _case_valid is true when the case has an id, a non-empty list of member
# agencies (all strings) and a lead that is one of them.
_case_valid if {
	is_string(_case_id)
	_case_id != ""
	is_array(_case.members)
	count(_case.members) > 0
	count(_case_members) == count(_case.members)
	_case.lead in _case_members
}

# Only the rules of the holder's pack that a decision needs are read, each
# by name: reading the whole package would evaluate every rule in it.
_pack_key := pack_key(_holder_jurisdiction)

_has_pack if has_pack(_holder_jurisdiction)

_bases := b if {
	_has_pack
	b := data.liaison.jurisdictions[_pack_key].bases
} else := {}

_prohibitions := p if {
	_has_pack
	p := data.liaison.jurisdictions[_pack_key].prohibitions
} else := []

_fallback_rules := r if {
	_has_pack
	r := data.liaison.jurisdictions[_pack_key].fallback.rules
} else := []

_law := n if {
	_has_pack
	n := data.liaison.jurisdictions[_pack_key].law_name
} else := sprintf("%s law", [_holder_jurisdiction])

_requester_kind := object.get(_requester, "kind", "")

# ---------------------------------------------------------------------------
# Cross-border exchange. The holder's law governs; the recipient's law must
# allow the recipient to receive (its pack's receipt rules); between Member
# States an EU instrument (package liaison.eu) must carry the exchange.

# _cross_border is true when the recipient is under another law than the holder.
_cross_border if _recipient_jurisdiction != _holder_jurisdiction

# member_state(j) is the country of jurisdiction j: the ISO 3166-1 code
# before the "-" of a subdivision (DE-BY -> DE).
member_state(j) := split(j, "-")[0] if is_string(j)

_cross_member_state if member_state(_recipient_jurisdiction) != member_state(_holder_jurisdiction)

_recipient_pack_key := pack_key(_recipient_jurisdiction)

_has_recipient_pack if has_pack(_recipient_jurisdiction)

_receipt_rules := r if {
	_has_recipient_pack
	r := data.liaison.jurisdictions[_recipient_pack_key].receipt
} else := {}

_recipient_law := n if {
	_has_recipient_pack
	n := data.liaison.jurisdictions[_recipient_pack_key].law_name
} else := sprintf("%s law", [_recipient_jurisdiction])

_instruments := i if {
	i := data.liaison.eu.instruments
} else := {}
