# Liaison notices: the subject event a notify reports, the route by which
# the gateway found the recipient, and whether the notice is required (to
# be acknowledged by a deadline, escalated before it). Which notices are
# required is the law of the holder's jurisdiction: its pack's
# required_notices. See policies/README.md.
package liaison

# event_types are the subject events a notify can report.
event_types := {
	"release_date_set", "release_date_changed", "released", "transferred",
	"absconded", "breach_of_conditions", "probation_ended", "deceased",
}

# route_roles say how the gateway found a recipient: named by the caller,
# competent (the agency of the recipient's kind covering a municipality),
# case_member (a member of a case), earlier_recipient (it received records
# about the subject before, under a basis still in force; in the notice
# question of a correction, it received the corrected release, under that
# release's basis, which may have ended since: policies/README.md).
route_roles := {"named", "competent", "case_member", "earlier_recipient"}

_event_given if {
	_in.event != null
}

_event := _obj(_in.event) if _event_given

_event_type := object.get(_event, "type", "") if _event_given

else := ""

_route_given if {
	_in.route != null
}

_route := _obj(_in.route) if _route_given

else := {}

_route_role := object.get(_route, "role", "named")

# ---------------------------------------------------------------------------
# Validation of the event and the route (before the stages of an exchange).

# _pre_applies is true when the decision comes before the stages of an
# exchange: for an action on a case (cases.rego), or an event or route
# that is malformed.
_pre_applies if _case_action

_pre_applies if count(_event_route_invalid) > 0

_pre_result := _case_result if {
	_case_action
} else := {"stage": "validation", "decision": _deny(_sorted(_event_route_invalid))}

_event_route_invalid contains _reason("UNEXPECTED_EVENT", sprintf(
	"Only a notify reports a subject event; a %s does not.",
	[_action],
)) if {
	_event_given
	_action != "notify"
}

_event_route_invalid contains _reason("UNKNOWN_EVENT_TYPE", sprintf(
	"The event type %s; it must be one of %s.",
	[_missing_or(_event_type, "is not known"), concat(", ", sort(event_types))],
)) if {
	_event_given
	_action == "notify"
	not _event_type in event_types
}

_event_route_invalid contains _reason("UNEXPECTED_ROUTE", sprintf(
	"A route says how the recipient of a disclose or notify was found; a %s has none.",
	[_action],
)) if {
	_route_given
	not _action in {"disclose", "notify"}
}

_event_route_invalid contains _reason("UNKNOWN_ROUTE", sprintf(
	"The route %s; it must be one of %s, with an area for competent and a case for case_member.",
	[_missing_or(_route_role, "is not known"), concat(", ", sort(route_roles))],
)) if {
	_route_given
	_action in {"disclose", "notify"}
	not _route_valid
}

_route_valid if {
	_route_role in {"named", "earlier_recipient"}
}

_route_valid if {
	_route_role == "competent"
	_non_empty_text(object.get(_route, "area", ""))
}

_route_valid if {
	_route_role == "case_member"
	_non_empty_text(object.get(_route, "case", ""))
}

_non_empty_text(s) if {
	is_string(s)
	s != ""
}

# ---------------------------------------------------------------------------
# Required notices: a notify that is not denied carries "notice" when a
# rule of the holder's pack requires it.

_required_notices := r if {
	r := _notice_packs[_pack_keys[_in.holder.jurisdiction]].required_notices
} else := {}

# _notice_packs[key] is what the notice rules read of pack <key>: its
# required notices (the time zone of its law's days is pack_time_zones).
# It does not depend on the input, so the gateway works it out once, when
# it loads a policy (as the pack index, index.rego), and a notify looks it
# up.
_notice_packs[key] := object.filter(data.liaison.jurisdictions[key], {"required_notices"}) if {
	some key in _pack_keys
}

_notice_rule_applies(r) if {
	_event_type in r.events
	_recipient_kind in r.recipient_kinds
	_route_role in object.get(r, "routes", route_roles)
	_notice_lead_ok(r)
}

# A rule with case_lead applies only to the lead of the case the
# recipient was found in (route case_member): the lead as the case
# stands, so that a member that handed the lead over is no longer held to
# the lead's notice, and the member it handed it to is.
_notice_lead_ok(r) if object.get(r, "case_lead", false) != true

_notice_lead_ok(r) if {
	object.get(r, "case_lead", false) == true
	_route_role == "case_member"
	_case_valid
	object.get(_route, "case", "") == _case_id
	_case.lead == _recipient_agency
}

# _notice_rule_id is the applicable rule with the lowest id.
_notice_rule_id := min(ids) if {
	_action == "notify"
	ids := {id | some id, r in _required_notices; _notice_rule_applies(r)}
	count(ids) > 0
}

# _with_notice(d) is decision d with the notice requirement added, if any.
_with_notice(d) := object.union(d, {"notice": _notice}) if {
	d.outcome != "deny"
	_notice
} else := d

_notice := object.union(
	{
		"required": true,
		"rule": id,
		"citation": r.citation,
		"acknowledge_by": time.format(deadline),
		"escalate_at": time.format(_escalate_ns(deadline, r)),
	},
	_optional("assumption", object.get(r, "assumption", "")),
) if {
	id := _notice_rule_id
	r := _required_notices[id]
	deadline := _deadline_ns(r)
}

# The deadline: acknowledge_within after now; for a rule with
# before_release, no later than the start of the release day when that is
# still ahead: midnight in the time zone of the law that sets the rule
# (the holder's pack's time_zone; UTC for a pack that names none), so
# that a notice read at 00:30 on the release day in Copenhagen is late.
_deadline_ns(r) := min({_now_ns + time.parse_duration_ns(r.acknowledge_within), _release_start_ns}) if {
	object.get(r, "before_release", false) == true
	_release_start_ns > _now_ns
} else := _now_ns + time.parse_duration_ns(r.acknowledge_within)

_release_start_ns := time.parse_ns(_date_at_offset, concat("", [d, time.format([w, tz, _utc_offset])])) if {
	# local_date_ns(_release_date, _law_time_zone), written out (a
	# function call costs more than its expressions)
	d := _release_date
	u := date_ns(d)
	tz := _law_time_zone
	w := time.parse_ns(_date_at_offset, concat("", [d, time.format([u, tz, _utc_offset])]))
}

# _law_time_zone is the time zone of the days of the holder's law.
_law_time_zone := tz if {
	tz := pack_time_zones[_pack_keys[_in.holder.jurisdiction]]
} else := "UTC"

# Escalation comes escalate_after after now, as long as that leaves the
# rule's grace (acknowledge_within - escalate_after) before the deadline;
# when the release cut the deadline short, it keeps that grace before the
# deadline if it can, and otherwise comes halfway to it.
_escalate_ns(deadline, r) := e if {
	grace := time.parse_duration_ns(r.acknowledge_within) - time.parse_duration_ns(r.escalate_after)
	e := deadline - grace
	e > _now_ns
} else := round((_now_ns + deadline) / 2)
