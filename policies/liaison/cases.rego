# Liaison multi-agency cases: the decision on an action on a case
# (case_open, case_invite, case_accept, case_decline, case_leave,
# case_remove, case_handover, case_close), answered allow or deny.
#
# Who may act is the same everywhere (only the lead invites, removes,
# hands over and closes; an agency answers only its own invitation; the
# lead leaves only by handing over or closing). Which agencies may lead or
# join which kind of case is the law of the case's jurisdiction: its
# pack's case_kinds. See policies/README.md.
package liaison

# case_actions are the actions on a multi-agency case.
case_actions := {
	"case_open", "case_invite", "case_accept", "case_decline",
	"case_leave", "case_remove", "case_handover", "case_close",
}

# requester_statuses are the standings the requesting agency can have in
# the case before the action.
requester_statuses := {"lead", "member", "invited", "none"}

_case_action if _action in case_actions

_arr(x) := x if is_array(x)

else := []

# The case as the input gives it (for any action).
_ci := _obj(object.get(_in, "case", {}))

_ci_id := object.get(_ci, "id", "")

_ci_kind := object.get(_ci, "kind", "")

# The case's jurisdiction; if the input does not say, the holder's (the
# lead's).
_ci_jurisdiction := j if {
	j := object.get(_ci, "jurisdiction", "")
	j != ""
} else := _holder_jurisdiction

_ci_lead := object.get(_ci, "lead", "")

# The requester's standing before the action; if the input does not say,
# derived from the lead, the members and the invited (none for case_open).
_ci_status := s if {
	s := object.get(_ci, "requester_status", null)
	s != null
} else := "none" if {
	_action == "case_open"
} else := "lead" if {
	_ci_lead == _requester_agency
} else := "member" if {
	_requester_agency in _ci_members
} else := "invited" if {
	_requester_agency in _ci_invited
} else := "none"

_ci_members := {m | some m in _arr(object.get(_ci, "members", [])); is_string(m)}

_ci_invited := {m | some m in _arr(object.get(_ci, "invited", [])); is_string(m)}

_requester_agency := object.get(_requester, "agency", "")

# The pack of the case's jurisdiction, and the case's kind in it.
_ck_pack := pack_key(_ci_jurisdiction)

_ck_has_pack if has_pack(_ci_jurisdiction)

_case_kinds := k if {
	_ck_has_pack
	k := data.liaison.jurisdictions[_ck_pack].case_kinds
} else := {}

_ck := _case_kinds[_ci_kind]

# _ck_known is the case's kind as the pack describes it, or {} for a kind
# it does not know (any more): the actions that end a membership or the
# case need no pack rule.
_ck_known := k if {
	k := _ck
} else := {}

# _stop_action: the actions by which an agency stops sharing, or the lead
# ends the case. They need no pack rule, so they are decided even on a
# case whose kind, or whose jurisdiction's pack, the policy no longer
# knows (a revision renamed or dropped it): otherwise such a case could
# never be left or closed, while exchanges on its basis go on.
_stop_action if _action in {"case_decline", "case_leave", "case_remove", "case_close"}

_ck_citation := c if {
	c := _ck.citation
} else := sprintf("none: %s knows no kind of multi-agency case %q any more", [_ck_law, _ci_kind])

_ck_law := n if {
	_ck_has_pack
	n := data.liaison.jurisdictions[_ck_pack].law_name
} else := sprintf("%s law", [_ci_jurisdiction])

# _case_result is the decision on an action on a case, with its stage.
_case_result := {"stage": "validation", "decision": _deny(_sorted(_case_invalid))} if {
	count(_case_invalid) > 0
} else := {"stage": "case_role", "decision": _deny(_sorted(_case_role_reasons))} if {
	count(_case_role_reasons) > 0
} else := {"stage": "case_kind", "decision": _deny(_sorted(_case_kind_reasons))} if {
	count(_case_kind_reasons) > 0
} else := {"stage": "case_allowed", "decision": _case_allow}

_case_allow := {
	"outcome": "allow",
	"legal_basis": object.union(
		{"id": _ci_kind, "citation": _ck_citation},
		_optional("assumption", object.get(_ck_known, "assumption", "")),
	),
	"fields": _no_fields,
	"pseudonym_domain": sprintf("case/%s", [_ci_id]),
	"conditions": sort(object.get(_ck_known, "conditions", [])),
	"reasons": [_reason("CASE_ACTION_ALLOWED", sprintf(
		"%s may %s: %s (%s).",
		[_requester_agency, _case_verb[_action], object.get(_ck_known, "title", _ci_kind), _ck_citation],
	))],
}

# _case_verb says what an action on a case does, for messages.
_case_verb := {
	"case_open": sprintf("open and lead case %s", [_ci_id]),
	"case_invite": sprintf("invite %s into case %s", [_recipient_agency, _ci_id]),
	"case_accept": sprintf("join case %s", [_ci_id]),
	"case_decline": sprintf("decline to join case %s", [_ci_id]),
	"case_leave": sprintf("leave case %s", [_ci_id]),
	"case_remove": sprintf("remove %s from case %s", [_recipient_agency, _ci_id]),
	"case_handover": sprintf("hand the lead of case %s over to %s", [_ci_id, _recipient_agency]),
	"case_close": sprintf("close case %s", [_ci_id]),
}

# ---------------------------------------------------------------------------
# Stage 1: validation of the input of an action on a case.

_case_invalid contains _reason("INVALID_TIME", sprintf(
	"The time of the request %s; it must be an RFC 3339 time such as 2026-11-26T10:00:00Z.",
	[_missing_or(_time, "is not valid")],
)) if {
	not is_time(_time)
}

_case_invalid contains _reason("MISSING_AGENCY", sprintf("The %s agency is missing.", [role])) if {
	some role, p in _parties
	not _named_agency(p)
}

_case_invalid contains _reason("UNKNOWN_AGENCY_KIND", sprintf(
	"The kind of the %s agency %s; it must be one of %s.",
	[role, _missing_or(kind, "is not known"), concat(", ", sort(agency_kinds))],
)) if {
	some role, p in _parties
	not _unlisted(role, p)
	kind := object.get(p, "kind", "")
	not kind in agency_kinds
}

_case_invalid contains _reason("UNKNOWN_JURISDICTION", sprintf(
	"The jurisdiction of the %s %s; it must be one of %s.",
	[role, _missing_or(j, "is not known"), concat(", ", sort(listed_jurisdictions))],
)) if {
	some role, j in object.union(
		{r: _missing_jurisdiction(p) | some r, p in _parties; not _unlisted(r, p)},
		{"case": _ci_jurisdiction},
	)
	j != ""
	not known_jurisdiction(j)
}

_case_invalid contains _reason("UNKNOWN_CLEARANCE", sprintf(
	"The officer's clearance %q is not known; it must be one of %s.",
	[_clearance, concat(", ", clearance_levels)],
)) if {
	not _clearance in clearance_levels
}

_case_invalid contains _reason("INVALID_CASE", concat("", [
	"An action on a case needs the case: an id, its kind, its jurisdiction, the member agencies, ",
	"a lead that is one of them, and the requester's standing (lead, member, invited or none).",
])) if {
	not _case_input_valid
}

# _unlisted(role, p): p, the holder or recipient of an action by which an
# agency stops sharing or the lead ends a membership (_stop_action), is an
# agency the gateway's registry no longer lists, which the gateway gives by
# its id alone (no kind, no jurisdiction): the lead a member leaves or an
# invitee declines, the member or invitee the lead removes. Such a party
# must be in the case (a member, the lead included, or invited); its kind
# and jurisdiction are not checked, so that a case is never stuck with an
# agency the registry dropped. Nobody joins or leads a case so: inviting,
# accepting, opening and handing over check every party.
_unlisted(role, p) if {
	_stop_action
	role != "requester"
	object.get(p, "kind", "") == ""
	object.get(p, "jurisdiction", "") == ""
	object.get(p, "agency", "") in (_ci_members | _ci_invited)
}

# _missing_jurisdiction(p) is p's jurisdiction, with a missing one reported.
_missing_jurisdiction(p) := j if {
	j := object.get(p, "jurisdiction", "")
	j != ""
} else := "(missing)"

_case_input_valid if {
	is_string(_ci_jurisdiction)
	_ci_jurisdiction != ""
	is_string(_ci_id)
	_ci_id != ""
	is_string(_ci_kind)
	_ci_kind != ""
	is_array(_ci.members)
	count(_ci_members) == count(_ci.members)
	count(_ci_members) > 0
	_ci_lead in _ci_members
	_ci_status in requester_statuses
	count(_ci_invited) == count(_arr(object.get(_ci, "invited", [])))
}

_case_invalid contains _reason("NO_JURISDICTION_PACK", sprintf(
	"No rules for the law of %s are loaded, so Liaison cannot decide about a case held there.",
	[_ci_jurisdiction],
)) if {
	_ci_jurisdiction in listed_jurisdictions
	not _ck_has_pack
	not _stop_action
}

_case_invalid contains _reason("UNKNOWN_CASE_KIND", sprintf(
	"%s knows no kind of multi-agency case %q; it knows %s.",
	[_ck_law, _ci_kind, _kind_list(object.keys(_case_kinds))],
)) if {
	_ck_has_pack
	is_string(_ci_kind)
	_ci_kind != ""
	not _ci_kind in object.keys(_case_kinds)
	not _stop_action
}

_kind_list(ks) := concat(", ", sort(ks)) if count(ks) > 0

else := "none"

# ---------------------------------------------------------------------------
# Stage 2: who may do what, the same in every jurisdiction.

_is_lead if {
	_ci_status == "lead"
	_ci_lead == _requester_agency
}

_self_action if _action in {"case_open", "case_accept", "case_decline", "case_leave", "case_close"}

_case_role_reasons contains _reason("REQUESTER_NOT_RECIPIENT", sprintf(
	"An agency can %s only for itself; %s is not %s.",
	[_case_verb_short[_action], _requester_agency, _recipient_agency],
)) if {
	_self_action
	_recipient_agency != _requester_agency
}

_case_verb_short := {
	"case_open": "open a case",
	"case_invite": "invite",
	"case_accept": "accept an invitation",
	"case_decline": "decline an invitation",
	"case_leave": "leave a case",
	"case_remove": "remove a member",
	"case_handover": "hand over the lead",
	"case_close": "close a case",
}

_case_role_reasons contains _reason("CASE_EXISTS", sprintf(
	"Case %s already exists; %s is its %s.",
	[_ci_id, _requester_agency, _ci_status],
)) if {
	_action == "case_open"
	_ci_status != "none"
}

_case_role_reasons contains _reason("NOT_CASE_LEAD", sprintf(
	"Only the agency that opens a case leads it; the case names %s as lead, not %s.",
	[_ci_lead, _requester_agency],
)) if {
	_action == "case_open"
	_ci_lead != _requester_agency
}

_case_role_reasons contains _reason("NOT_CASE_LEAD", sprintf(
	"Only the lead of case %s (%s) can %s; %s is not the lead.",
	[_ci_id, _ci_lead, _case_verb_short[_action], _requester_agency],
)) if {
	_action in {"case_invite", "case_remove", "case_handover", "case_close"}
	not _is_lead
}

_case_role_reasons contains _reason("ALREADY_IN_CASE", sprintf(
	"%s is already a member of case %s, or invited to it.",
	[_recipient_agency, _ci_id],
)) if {
	_action == "case_invite"
	_recipient_agency in (_ci_members | _ci_invited)
}

_case_role_reasons contains _reason("NOT_INVITED", sprintf(
	"%s has no open invitation to case %s; an agency answers only its own invitation.",
	[_requester_agency, _ci_id],
)) if {
	_action in {"case_accept", "case_decline"}
	_ci_status != "invited"
}

_case_role_reasons contains _reason("LEAD_CANNOT_LEAVE", sprintf(
	"%s leads case %s; it hands the lead over, or closes the case, before it can leave.",
	[_requester_agency, _ci_id],
)) if {
	_action == "case_leave"
	_ci_status == "lead"
}

_case_role_reasons contains _reason("NOT_A_CASE_MEMBER", sprintf(
	"%s is not a member of case %s.",
	[_requester_agency, _ci_id],
)) if {
	_action == "case_leave"
	not _ci_status in {"lead", "member"}
}

_case_role_reasons contains _reason("NOT_IN_CASE", sprintf(
	"%s is neither a member of case %s nor invited to it (and the lead cannot remove itself).",
	[_recipient_agency, _ci_id],
)) if {
	_action == "case_remove"
	not _removable
}

_removable if {
	_recipient_agency in (_ci_members | _ci_invited)
	_recipient_agency != _ci_lead
}

_case_role_reasons contains _reason("NEW_LEAD_NOT_A_MEMBER", sprintf(
	"The lead of case %s goes only to another member; %s is not one.",
	[_ci_id, _recipient_agency],
)) if {
	_action == "case_handover"
	not _new_lead_ok
}

_new_lead_ok if {
	_recipient_agency in _ci_members
	_recipient_agency != _ci_lead
}

# ---------------------------------------------------------------------------
# Stage 3: the case kind of the case's law: who may lead it, who may be
# in it, and the clearance members of some kinds need.

# _joining is the agency whose membership the action makes or proposes,
# and the kinds the case kind allows for that role.
_joining := {"party": _requester, "kinds": _ck.lead_kinds, "code": "LEAD_KIND_NOT_ALLOWED", "role": "lead"} if {
	_action == "case_open"
} else := {"party": _recipient, "kinds": object.get(_ck, "handover_kinds", _ck.lead_kinds), "code": "LEAD_KIND_NOT_ALLOWED", "role": "lead"} if {
	_action == "case_handover"
} else := {"party": _recipient, "kinds": _ck.member_kinds, "code": "MEMBER_KIND_NOT_ALLOWED", "role": "member"} if {
	_action == "case_invite"
} else := {"party": _requester, "kinds": _ck.member_kinds, "code": "MEMBER_KIND_NOT_ALLOWED", "role": "member"} if {
	_action == "case_accept"
}

_case_kind_reasons contains _reason(_joining.code, sprintf(
	"Under %s, %s cannot be the %s of a %s (%s); that is for %s.",
	[_ck_law, _kind_noun(kind), _joining.role, object.get(_ck, "title", _ci_kind), _ck.citation, concat(", ", [_kind_noun(k) | some k in _joining.kinds])],
)) if {
	kind := object.get(_joining.party, "kind", "")
	not kind in _joining.kinds
}

_case_kind_reasons contains _reason("MEMBER_JURISDICTION_NOT_ALLOWED", sprintf(
	"A %s under %s takes agencies under %s only; %s is under %s.",
	[object.get(_ck, "title", _ci_kind), _ck_law, concat(", ", allowed), object.get(_joining.party, "agency", ""), j],
)) if {
	allowed := object.get(_ck, "member_jurisdictions", [_ci_jurisdiction])
	j := object.get(_joining.party, "jurisdiction", "")
	not j in allowed
}

# The officer who opens or accepts for an agency of a kind that needs a
# clearance must hold it (BE: the police member of the LIVC-R).
_case_kind_reasons contains _reason("CLEARANCE_TOO_LOW", sprintf(
	"The officer of a %s member of a %s must be cleared to at least %s; this officer's clearance is %s.",
	[replace(_requester_kind, "_", " "), object.get(_ck, "title", _ci_kind), _ck.min_clearance, _clearance],
)) if {
	_action in {"case_open", "case_accept"}
	"min_clearance" in object.keys(_ck)
	_requester_kind in object.get(_ck, "min_clearance_kinds", agency_kinds)
	clearance_rank[_clearance] < clearance_rank[_ck.min_clearance]
}

# ---------------------------------------------------------------------------
# Explanation of a decision on a case, for `liaison policy simulate`.

_case_explain := {
	"decision": decision,
	"stage": _case_result.stage,
	"lines": array.concat(
		[
			sprintf("outcome %s, decided at stage %s", [_case_result.decision.outcome, _case_result.stage]),
			sprintf("case %s of kind %s under %s; the requester %s is %s", [_ci_id, _ci_kind, _ck_law, _requester_agency, _ci_status]),
		],
		array.concat(
			[sprintf("reason %s: %s", [r.code, r.message]) | some r in _case_result.decision.reasons],
			_case_kind_lines,
		),
	),
	"assumptions": _non_empty([object.get(_ck, "assumption", "")]),
}

_case_kind_lines := [
	sprintf("case kind %s: %s (%s)", [_ci_kind, object.get(_ck, "title", _ci_kind), _ck.citation]),
	sprintf("  may open and lead: %s; may take over the lead: %s", [concat(", ", _ck.lead_kinds), concat(", ", object.get(_ck, "handover_kinds", _ck.lead_kinds))]),
	sprintf("  may be members: %s", [concat(", ", _ck.member_kinds)]),
] if {
	_ck
} else := []
