# Liaison input, read once
# The input is read in one place: _in is the input with every field the
# rules read filled in ("" for a missing string, false for a missing
# in_custody), so that the rules read _in.action, _in.holder.kind, ...
# directly. Input of the wrong shape is denied with a clear reason
# (decision.rego, stage 1) instead of raising an error: every built-in
# that needs a string checks for one first.
package liaison

# _input_defaults are what a missing field of the input reads as.
# (Agencies have no default: a missing agency is reported as missing.)
_input_defaults := {
	"action": "",
	"time": "",
	"purpose": "",
	"record_type": "",
	"claimed_legal_basis": "",
	"requester": {"kind": "", "jurisdiction": "", "officer": {"clearance": ""}},
	"holder": {"kind": "", "jurisdiction": ""},
	"recipient": {"kind": "", "jurisdiction": ""},
	"subject": {"category": "", "in_custody": false, "release_date": "", "probation_until": ""},
}

# _in is the input with the defaults filled in. The gateway's input has
# every field, so it is read as it is; otherwise object.union fills the
# defaults in at every level; and an input with a part that is not an
# object where one belongs is read part by part, by _in_checked.
_in := input if {
	_ = input.action
	_ = input.time
	_ = input.purpose
	_ = input.record_type
	_ = input.claimed_legal_basis
	_ = input.requester.kind
	_ = input.requester.jurisdiction
	_ = input.requester.officer.clearance
	_ = input.holder.kind
	_ = input.holder.jurisdiction
	_ = input.recipient.kind
	_ = input.recipient.jurisdiction
	_ = input.subject.category
	_ = input.subject.in_custody
	_ = input.subject.release_date
	_ = input.subject.probation_until
} else := n if {
	is_object(input)
	n := object.union(_input_defaults, input)
	_ = n.requester.officer.clearance
	_ = n.holder.kind
	_ = n.recipient.kind
	_ = n.subject.category
} else := _in_checked

# _in_checked reads an input of the wrong shape: a part that is not an
# object reads as an empty one, so its fields take their defaults.
_in_checked := object.union(object.union(_input_defaults, top), {
	"requester": object.union(requester, {"officer": _part(object.get(requester, "officer", {}), {"clearance": ""})}),
	"holder": _part(object.get(top, "holder", {}), _input_defaults.holder),
	"recipient": _part(object.get(top, "recipient", {}), _input_defaults.recipient),
	"subject": _part(object.get(top, "subject", {}), _input_defaults.subject),
}) if {
	top := _input_object
	requester := _part(object.get(top, "requester", {}), {"kind": "", "jurisdiction": ""})
}

_input_object := input if {
	is_object(input)
} else := {}

_obj(x) := x if is_object(x)

else := {}

_part(x, defaults) := object.union(defaults, x) if is_object(x)

else := defaults

# _pseudonym_action is true for translate and reidentify: the exchange is
# about a pseudonym the requester holds, not about a record.
_pseudonym_action if _in.action in pseudonym_actions

# An empty clearance counts as "none".
_clearance := c if {
	c := _in.requester.officer.clearance
	c != ""
} else := "none"

# _now_ns is "now": the time of the request, never the clock.
_now_ns := time.parse_rfc3339_ns(_in.time) if _time_valid

_time_valid if is_time(_in.time)

# The fields the rules on cases, notices, onward use and retention
# (cases.rego, notices.rego, onward.rego, retention.rego) read by name,
# each as _in has it.
_action := _in.action

_purpose := _in.purpose

_record_type := _in.record_type

_holder_kind := _in.holder.kind

_time := _in.time

_requester := _in.requester

_requester_kind := _in.requester.kind

_recipient := _in.recipient

_recipient_kind := _in.recipient.kind

_recipient_agency := object.get(_in.recipient, "agency", "")

_holder_jurisdiction := _in.holder.jurisdiction

_release_date := _in.subject.release_date

# A case is given when input.case is present and not null.
_case_given if {
	_in.case != null
}

_case := _obj(_in.case) if _case_given

_case_id := object.get(_case, "id", "")

_case_members := {m | some m in _case.members; is_string(m)}

# _case_valid is true when the case has an id, a non-empty list of member
# agencies (all strings), a lead that is one of them and, if it gives the
# requester's standing, one of requester_statuses (as for an action on a
# case, cases.rego): a value outside the set is malformed, not ignored.
_case_valid if {
	_case_given
	is_string(_case_id)
	_case_id != ""
	is_array(_case.members)
	count(_case.members) > 0
	count(_case_members) == count(_case.members)
	_case.lead in _case_members
	_case_status_known
}

# _case_status_known: the case gives no requester_status (left out or
# null), or one of requester_statuses.
_case_status_known if object.get(_case, "requester_status", null) == null

_case_status_known if object.get(_case, "requester_status", null) in requester_statuses

# _recipient_is_ngo is true if the recipient is an NGO, which never gets
# assessments in clear (fields.rego).
_recipient_is_ngo if {
	_in.recipient.kind == "ngo"
} else := false

_is_risk_assessment if {
	_in.record_type == "risk_assessment"
} else := false

# _parties names the three parties for checks and messages.
_parties := {"requester": _in.requester, "holder": _in.holder, "recipient": _in.recipient}

# The holder's pack (_pack, see index.rego for _packs). _pack_key names
# its package, liaison.jurisdictions.<key>.
_pack_key := k if {
	k := _pack_keys[_in.holder.jurisdiction]
} else := pack_key(_in.holder.jurisdiction)

_has_pack if _pack_keys[_in.holder.jurisdiction]

_pack := _packs[_pack_keys[_in.holder.jurisdiction]]

_bases := b if {
	b := _pack.bases
} else := {}

_prohibitions := p if {
	p := _pack.prohibitions
} else := []

_fallback_rules := r if {
	r := _pack.fallback_rules
} else := []

_law := n if {
	n := _pack.law_name
} else := sprintf("%s law", [_in.holder.jurisdiction])

# ---------------------------------------------------------------------------
# Cross-border exchange. The holder's law governs; the recipient's law must
# allow the recipient to receive (its pack's receipt rules); between Member
# States an EU instrument (package liaison.eu) must carry the exchange.

# _cross_border is true when the recipient is under another law than the holder.
_cross_border if _in.recipient.jurisdiction != _in.holder.jurisdiction

# member_state(j) is the country of jurisdiction j: the ISO 3166-1 code
# before the "-" of a subdivision (DE-BY -> DE).
member_state(j) := split(j, "-")[0] if is_string(j)

_cross_member_state if {
	_cross_border
	member_state(_in.recipient.jurisdiction) != member_state(_in.holder.jurisdiction)
}

_recipient_pack_key := pack_key(_in.recipient.jurisdiction)

_has_recipient_pack if _pack_keys[_in.recipient.jurisdiction]

_recipient_pack := _packs[_pack_keys[_in.recipient.jurisdiction]]

_receipt_rules := r if {
	r := _recipient_pack.receipt
} else := {}

_recipient_law := n if {
	n := _recipient_pack.law_name
} else := sprintf("%s law", [_in.recipient.jurisdiction])

_instruments := i if {
	i := data.liaison.eu.instruments
} else := {}
