# Tests of the shared rules for actions on a case and for notices, with the
# made-up pack "ZZ" (decision_test.rego) given a case kind and required
# notices. Run: go tool opa test policies/ -r cases
package liaison_test

zz_case_pack := object.union(zz_pack, {
	"bases": object.union(zz_pack.bases, {"zz.notify": {
		"citation": "ZZ Act § 23",
		"actions": ["notify"],
		"holder_kinds": ["prison"],
		"recipient_kinds": ["police", "local_authority", "ngo"],
		"record_types": ["release_notice"],
		"purposes": ["risk_management"],
		"validity": {"type": "none"},
		"requires_case": false,
	}}),
	"case_kinds": {"zz.cell": {
		"title": "Zedland cell",
		"citation": "ZZ Act § 20",
		"lead_kinds": ["local_authority"],
		"handover_kinds": ["local_authority", "police"],
		"member_kinds": ["local_authority", "police", "prison", "ngo"],
		"min_clearance": "secret",
		"min_clearance_kinds": ["police"],
		"conditions": ["ZZ_CELL_ONLY"],
		"assumption": "Unverified reading of § 20.",
	}},
	"required_notices": {
		"zz.notice.release": {
			"citation": "ZZ Act § 21",
			"events": ["release_date_set", "release_date_changed"],
			"recipient_kinds": ["police"],
			"acknowledge_within": "72h",
			"escalate_after": "48h",
			"before_release": true,
		},
		"zz.notice.lead": {
			"citation": "ZZ Act § 22",
			"events": ["release_date_changed"],
			"recipient_kinds": ["local_authority"],
			"routes": ["case_member"],
			"acknowledge_within": "24h",
			"escalate_after": "12h",
		},
	},
})

zz_case_decide(inp) := d if {
	d := data.liaison.decision with input as inp with data.liaison.jurisdictions as {"zz": zz_case_pack}
}

zz_agency(id, kind) := {"agency": id, "kind": kind, "jurisdiction": "ZZ"}

zz_council := zz_agency("zz-council", "local_authority")

zz_police := zz_agency("zz-police", "police")

zz_prison := zz_agency("zz-prison", "prison")

zz_probation := zz_agency("zz-probation", "probation")

# case_input is an action on case ZZ-1 (lead zz-council, member zz-police,
# zz-prison invited) by requester, about recipient, the requester having
# the given standing.
case_input(action, requester, recipient, status) := {
	"action": action,
	"time": "2027-01-10T10:00:00Z",
	"requester": object.union(requester, {"officer": {"id": "o-1", "roles": ["case_officer"], "clearance": "secret"}}),
	"holder": zz_council,
	"recipient": recipient,
	"subject": {"category": "", "in_custody": false, "release_date": "", "probation_until": "", "municipality": ""},
	"record_type": "",
	"purpose": "maw_case_management",
	"claimed_legal_basis": "",
	"justification": "test",
	"case": {
		"id": "ZZ-1", "kind": "zz.cell", "jurisdiction": "ZZ",
		"members": ["zz-council", "zz-police"], "lead": "zz-council",
		"invited": ["zz-prison"], "requester_status": status,
	},
}

open_input(requester) := object.union(case_input("case_open", requester, requester, "none"), {"case": {
	"id": "ZZ-2", "kind": "zz.cell", "jurisdiction": "ZZ",
	"members": [requester.agency], "lead": requester.agency, "invited": [], "requester_status": "none",
}})

test_the_council_opens_a_cell if {
	d := zz_case_decide(open_input(zz_council))
	d.outcome == "allow"
	d.legal_basis == {"id": "zz.cell", "citation": "ZZ Act § 20", "assumption": "Unverified reading of § 20."}
	d.pseudonym_domain == "case/ZZ-2"
	d.conditions == ["ZZ_CELL_ONLY"]
	codes(d) == ["CASE_ACTION_ALLOWED"]
	not d.notice
}

test_the_police_cannot_open_a_cell if {
	d := zz_case_decide(open_input(zz_police))
	d.outcome == "deny"
	codes(d) == ["LEAD_KIND_NOT_ALLOWED"]
}

test_an_existing_case_cannot_be_opened_again if {
	codes(zz_case_decide(case_input("case_open", zz_council, zz_council, "lead"))) == ["CASE_EXISTS"]
}

test_opening_for_another_lead_is_refused if {
	inp := object.union(open_input(zz_council), {"case": {"lead": "zz-police", "members": ["zz-police", "zz-council"]}})
	codes(zz_case_decide(inp)) == ["NOT_CASE_LEAD"]
}

test_the_lead_invites_a_prison if {
	d := zz_case_decide(case_input("case_invite", zz_council, zz_agency("zz-prison-2", "prison"), "lead"))
	d.outcome == "allow"
}

test_a_member_that_is_not_the_lead_cannot_invite if {
	d := zz_case_decide(case_input("case_invite", zz_police, zz_agency("zz-prison-2", "prison"), "member"))
	d.outcome == "deny"
	codes(d) == ["NOT_CASE_LEAD"]
}

test_an_agency_claiming_the_lead_without_the_status_cannot_invite if {
	d := zz_case_decide(case_input("case_invite", zz_police, zz_agency("zz-prison-2", "prison"), "lead"))
	codes(d) == ["NOT_CASE_LEAD"]
}

test_the_lead_cannot_invite_a_kind_the_law_leaves_out if {
	d := zz_case_decide(case_input("case_invite", zz_council, zz_probation, "lead"))
	d.outcome == "deny"
	codes(d) == ["MEMBER_KIND_NOT_ALLOWED"]
}

test_the_lead_cannot_invite_a_member_twice if {
	codes(zz_case_decide(case_input("case_invite", zz_council, zz_police, "lead"))) == ["ALREADY_IN_CASE"]
	codes(zz_case_decide(case_input("case_invite", zz_council, zz_prison, "lead"))) == ["ALREADY_IN_CASE"]
}

test_the_lead_cannot_invite_under_another_law if {
	d := zz_case_decide(case_input("case_invite", zz_council, {"agency": "nl-prison", "kind": "prison", "jurisdiction": "NL"}, "lead"))
	codes(d) == ["MEMBER_JURISDICTION_NOT_ALLOWED"]
}

test_the_invited_prison_accepts if {
	d := zz_case_decide(case_input("case_accept", zz_prison, zz_prison, "invited"))
	d.outcome == "allow"
	d.legal_basis.id == "zz.cell"
}

test_an_agency_cannot_accept_on_another_agencys_behalf if {
	# The lead answers for the invited prison: it is not invited itself.
	codes(zz_case_decide(case_input("case_accept", zz_council, zz_prison, "lead"))) == ["NOT_INVITED", "REQUESTER_NOT_RECIPIENT"]

	# An agency that is not invited answers for itself.
	codes(zz_case_decide(case_input("case_accept", zz_probation, zz_probation, "none"))) == ["NOT_INVITED"]
}

test_the_police_member_needs_a_secret_clearance_to_join if {
	inp := case_input("case_accept", zz_police, zz_police, "invited")
	zz_case_decide(inp).outcome == "allow"
	low := json.patch(inp, [{"op": "replace", "path": "/requester/officer/clearance", "value": "confidential"}])
	codes(zz_case_decide(low)) == ["CLEARANCE_TOO_LOW"]
}

test_declining_and_leaving_are_for_oneself if {
	zz_case_decide(case_input("case_decline", zz_prison, zz_prison, "invited")).outcome == "allow"
	zz_case_decide(case_input("case_leave", zz_police, zz_police, "member")).outcome == "allow"
	codes(zz_case_decide(case_input("case_leave", zz_council, zz_council, "lead"))) == ["LEAD_CANNOT_LEAVE"]
	codes(zz_case_decide(case_input("case_leave", zz_prison, zz_prison, "invited"))) == ["NOT_A_CASE_MEMBER"]
	codes(zz_case_decide(case_input("case_leave", zz_police, zz_prison, "member"))) == ["REQUESTER_NOT_RECIPIENT"]
}

test_only_the_lead_removes_and_closes if {
	zz_case_decide(case_input("case_remove", zz_council, zz_police, "lead")).outcome == "allow"
	zz_case_decide(case_input("case_remove", zz_council, zz_prison, "lead")).outcome == "allow"
	codes(zz_case_decide(case_input("case_remove", zz_police, zz_council, "member"))) == ["NOT_CASE_LEAD", "NOT_IN_CASE"]
	codes(zz_case_decide(case_input("case_remove", zz_council, zz_probation, "lead"))) == ["NOT_IN_CASE"]
	zz_case_decide(case_input("case_close", zz_council, zz_council, "lead")).outcome == "allow"
	codes(zz_case_decide(case_input("case_close", zz_police, zz_police, "member"))) == ["NOT_CASE_LEAD"]
}

test_the_lead_goes_to_a_member_of_a_kind_that_may_take_it if {
	zz_case_decide(case_input("case_handover", zz_council, zz_police, "lead")).outcome == "allow"
	codes(zz_case_decide(case_input("case_handover", zz_council, zz_prison, "lead"))) == ["NEW_LEAD_NOT_A_MEMBER"]
	codes(zz_case_decide(case_input("case_handover", zz_police, zz_police, "member"))) == ["NOT_CASE_LEAD"]

	# A prison member may be in the cell, but not lead it.
	inp := json.patch(case_input("case_handover", zz_council, zz_prison, "lead"), [{"op": "add", "path": "/case/members/-", "value": "zz-prison"}])
	codes(zz_case_decide(inp)) == ["LEAD_KIND_NOT_ALLOWED"]
}

test_a_malformed_case_is_denied if {
	codes(zz_case_decide(json.patch(case_input("case_close", zz_council, zz_council, "lead"), [{"op": "remove", "path": "/case"}]))) == ["INVALID_CASE"]
	codes(zz_case_decide(json.patch(case_input("case_close", zz_council, zz_council, "lead"), [{"op": "replace", "path": "/case/requester_status", "value": "boss"}]))) == ["INVALID_CASE"]
	codes(zz_case_decide(json.patch(case_input("case_invite", zz_council, zz_agency("zz-prison-2", "prison"), "lead"), [{"op": "replace", "path": "/case/kind", "value": "zz.club"}]))) == ["UNKNOWN_CASE_KIND"]
	codes(zz_case_decide(json.patch(case_input("case_close", zz_council, zz_council, "lead"), [{"op": "replace", "path": "/case/jurisdiction", "value": "QQ"}]))) == ["UNKNOWN_JURISDICTION"]
	codes(zz_case_decide(json.patch(case_input("case_close", zz_council, zz_council, "lead"), [{"op": "replace", "path": "/time", "value": "soon"}]))) == ["INVALID_TIME"]
}

# A case whose kind the pack no longer knows can still be left and closed
# (an agency can always stop sharing, the lead can always end the case),
# and nobody joins or leads it.
test_a_case_of_a_kind_no_longer_known_can_still_end if {
	club := [{"op": "replace", "path": "/case/kind", "value": "zz.club"}]
	d := zz_case_decide(json.patch(case_input("case_close", zz_council, zz_council, "lead"), club))
	d.outcome == "allow"
	d.legal_basis.id == "zz.club"
	zz_case_decide(json.patch(case_input("case_leave", zz_police, zz_police, "member"), club)).outcome == "allow"
	codes(zz_case_decide(json.patch(case_input("case_close", zz_police, zz_police, "member"), club))) == ["NOT_CASE_LEAD"]
	codes(zz_case_decide(json.patch(case_input("case_handover", zz_council, zz_police, "lead"), club))) == ["UNKNOWN_CASE_KIND"]
}

# An agency the gateway's registry no longer lists is given by its id
# alone (no kind, no jurisdiction). It stays in the cases it was in, so
# the lead can still remove it and withdraw its invitation, and a member
# can still leave (or an invitee decline) a case whose lead it is; but
# nobody joins or leads a case so, and an agency given so that is not in
# the case is still malformed.
dropped(id) := {"agency": id, "kind": "", "jurisdiction": ""}

test_an_agency_the_registry_dropped_can_still_be_taken_out if {
	zz_case_decide(case_input("case_remove", zz_council, dropped("zz-police"), "lead")).outcome == "allow"
	zz_case_decide(case_input("case_remove", zz_council, dropped("zz-prison"), "lead")).outcome == "allow"
	no_lead := [{"op": "replace", "path": "/holder", "value": dropped("zz-council")}]
	zz_case_decide(json.patch(case_input("case_leave", zz_police, zz_police, "member"), no_lead)).outcome == "allow"
	zz_case_decide(json.patch(case_input("case_decline", zz_prison, zz_prison, "invited"), no_lead)).outcome == "allow"

	codes(zz_case_decide(case_input("case_remove", zz_council, dropped("zz-probation"), "lead"))) == ["UNKNOWN_AGENCY_KIND", "UNKNOWN_JURISDICTION"]
	codes(zz_case_decide(case_input("case_invite", zz_council, dropped("zz-probation"), "lead"))) == ["UNKNOWN_AGENCY_KIND", "UNKNOWN_JURISDICTION"]
	codes(zz_case_decide(case_input("case_handover", zz_council, dropped("zz-police"), "lead"))) == ["UNKNOWN_AGENCY_KIND", "UNKNOWN_JURISDICTION"]
	codes(zz_case_decide(json.patch(case_input("case_accept", zz_prison, zz_prison, "invited"), no_lead))) == ["UNKNOWN_AGENCY_KIND", "UNKNOWN_JURISDICTION"]

	# The requester is always described, and a party given with a kind or
	# a jurisdiction is checked as given.
	codes(zz_case_decide(case_input("case_leave", dropped("zz-police"), dropped("zz-police"), "member"))) == ["UNKNOWN_AGENCY_KIND", "UNKNOWN_JURISDICTION"]
	codes(zz_case_decide(case_input("case_remove", zz_council, {"agency": "zz-police", "kind": "", "jurisdiction": "ZZ"}, "lead"))) == ["UNKNOWN_AGENCY_KIND"]
}

test_an_action_on_a_case_is_explained_by_its_kind if {
	x := data.liaison.explain with input as case_input("case_invite", zz_police, zz_agency("zz-prison-2", "prison"), "member")
		with data.liaison.jurisdictions as {"zz": zz_case_pack}
	x.stage == "case_role"
	x.decision.outcome == "deny"
	"case kind zz.cell: Zedland cell (ZZ Act § 20)" in x.lines
	x.assumptions == ["Unverified reading of § 20."]
}

# Notices.

zz_notify(event, recipient, route, release_date) := {
	"action": "notify",
	"time": "2027-01-10T10:00:00Z",
	"requester": object.union(zz_prison, {"officer": {"id": "o-2", "roles": [], "clearance": "restricted"}}),
	"holder": zz_prison,
	"recipient": recipient,
	"subject": {"category": "convicted", "in_custody": true, "release_date": release_date, "probation_until": "", "municipality": "Zedtown"},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "release date brought forward",
	"event": {"type": event},
	"route": route,
}

test_a_release_date_notice_to_the_police_is_required if {
	d := zz_case_decide(zz_notify("release_date_changed", zz_police, {"role": "competent", "area": "Zedtown"}, "2027-03-01"))
	d.outcome == "disclose"
	d.notice == {
		"required": true, "rule": "zz.notice.release", "citation": "ZZ Act § 21",
		"acknowledge_by": "2027-01-13T10:00:00Z", "escalate_at": "2027-01-12T10:00:00Z",
	}
}

test_a_release_close_at_hand_brings_the_deadline_forward if {
	d := zz_case_decide(zz_notify("release_date_changed", zz_police, {"role": "named"}, "2027-01-12"))
	d.notice.acknowledge_by == "2027-01-12T00:00:00Z" # the start of the release day, not 72h
	d.notice.escalate_at == "2027-01-11T00:00:00Z" # the rule's 24h grace before the deadline

	e := zz_case_decide(zz_notify("release_date_changed", zz_police, {"role": "named"}, "2027-01-11"))
	e.notice.acknowledge_by == "2027-01-11T00:00:00Z"
	e.notice.escalate_at == "2027-01-10T17:00:00Z" # less than the grace is left: halfway
}

# A pack's time_zone puts the release day's start at midnight there: in
# Copenhagen 23:00 UTC the day before in winter, 22:00 in summer, and on
# the days the clocks change at the offset of the night before.
zz_decide_in(tz, inp) := d if {
	d := data.liaison.decision with input as inp with data.liaison.jurisdictions as {"zz": object.union(zz_case_pack, {"time_zone": tz})}
}

zz_notify_at(now, release_date) := object.union(zz_notify("release_date_changed", zz_police, {"role": "named"}, release_date), {"time": now})

test_the_release_day_begins_at_midnight_where_the_law_is if {
	d := zz_decide_in("Europe/Copenhagen", zz_notify("release_date_changed", zz_police, {"role": "named"}, "2027-01-12"))
	d.notice.acknowledge_by == "2027-01-11T23:00:00Z" # 00:00 in Copenhagen (CET)
	d.notice.escalate_at == "2027-01-10T23:00:00Z"

	summer := zz_decide_in("Europe/Copenhagen", zz_notify_at("2027-06-10T10:00:00Z", "2027-06-12"))
	summer.notice.acknowledge_by == "2027-06-11T22:00:00Z" # CEST

	# The clocks go forward on 28 March 2027 (02:00 CET) and back on 31
	# October (03:00 CEST): each of those days began at the offset of the
	# night before; the day after, at the new one.
	zz_decide_in("Europe/Copenhagen", zz_notify_at("2027-03-26T10:00:00Z", "2027-03-28")).notice.acknowledge_by == "2027-03-27T23:00:00Z"
	zz_decide_in("Europe/Copenhagen", zz_notify_at("2027-03-26T10:00:00Z", "2027-03-29")).notice.acknowledge_by == "2027-03-28T22:00:00Z"
	zz_decide_in("Europe/Copenhagen", zz_notify_at("2027-10-29T10:00:00Z", "2027-10-31")).notice.acknowledge_by == "2027-10-30T22:00:00Z"
	zz_decide_in("Europe/Copenhagen", zz_notify_at("2027-10-29T10:00:00Z", "2027-11-01")).notice.acknowledge_by == "2027-10-31T23:00:00Z"

	# West of Greenwich the day begins after midnight UTC.
	zz_decide_in("America/New_York", zz_notify("release_date_changed", zz_police, {"role": "named"}, "2027-01-12")).notice.acknowledge_by == "2027-01-12T05:00:00Z"

	# A release day that began already where the law is, though not yet in
	# UTC, no longer cuts the deadline short.
	late := zz_decide_in("Europe/Copenhagen", zz_notify_at("2027-01-11T23:30:00Z", "2027-01-12"))
	late.notice.acknowledge_by == "2027-01-14T23:30:00Z"
}

test_local_date_ns if {
	data.liaison.local_date_ns("2026-12-03", "Europe/Copenhagen") == time.parse_rfc3339_ns("2026-12-02T23:00:00Z")
	data.liaison.local_date_ns("2026-07-01", "Europe/Copenhagen") == time.parse_rfc3339_ns("2026-06-30T22:00:00Z")
	data.liaison.local_date_ns("2026-07-01", "UTC") == data.liaison.date_ns("2026-07-01")
}

test_a_release_already_past_keeps_the_full_deadline if {
	d := zz_case_decide(zz_notify("release_date_set", zz_police, {"role": "named"}, "2027-01-01"))
	d.notice.acknowledge_by == "2027-01-13T10:00:00Z"
}

test_notices_not_required_carry_no_notice if {
	# Another event, another kind, a route the rule leaves out.
	not zz_case_decide(zz_notify("deceased", zz_police, {"role": "named"}, "2027-03-01")).notice
	not zz_case_decide(zz_notify("release_date_changed", zz_agency("zz-ngo", "ngo"), {"role": "named"}, "2027-03-01")).notice
	d := zz_case_decide(zz_notify("release_date_changed", zz_council, {"role": "named"}, "2027-03-01"))
	not d.notice
}

test_a_denied_notice_is_never_required if {
	d := zz_case_decide(object.union(zz_notify("release_date_changed", zz_police, {"role": "named"}, "2027-03-01"), {"purpose": "statistics"}))
	d.outcome == "deny"
	not d.notice
}

test_event_and_route_are_checked if {
	codes(zz_case_decide(zz_notify("moved_house", zz_police, {"role": "named"}, "2027-03-01"))) == ["UNKNOWN_EVENT_TYPE"]
	codes(zz_case_decide(zz_notify("released", zz_police, {"role": "friend"}, "2027-03-01"))) == ["UNKNOWN_ROUTE"]
	codes(zz_case_decide(zz_notify("released", zz_police, {"role": "competent"}, "2027-03-01"))) == ["UNKNOWN_ROUTE"]
	codes(zz_case_decide(zz_notify("released", zz_police, {"role": "case_member"}, "2027-03-01"))) == ["UNKNOWN_ROUTE"]
	req := object.union(zz_notify("released", zz_police, {"role": "named"}, "2027-03-01"), {"action": "request", "requester": zz_police})
	codes(zz_case_decide(req)) == ["UNEXPECTED_EVENT", "UNEXPECTED_ROUTE"]
}

test_a_notify_without_an_event_is_decided_as_before if {
	inp := json.patch(zz_notify("released", zz_police, {"role": "named"}, "2027-03-01"), [{"op": "remove", "path": "/event"}, {"op": "remove", "path": "/route"}])
	d := zz_case_decide(inp)
	d.outcome == "disclose"
	d.legal_basis.id == "zz.notify"
	not d.notice
}

bare(inp) := json.patch(inp, [{"op": "remove", "path": "/case/requester_status"}, {"op": "remove", "path": "/case/jurisdiction"}])

test_a_case_without_requester_status_or_jurisdiction_is_read_from_its_members if {
	zz_case_decide(bare(case_input("case_invite", zz_council, zz_agency("zz-prison-2", "prison"), "lead"))).outcome == "allow"
	codes(zz_case_decide(bare(case_input("case_invite", zz_police, zz_agency("zz-prison-2", "prison"), "member")))) == ["NOT_CASE_LEAD"]
	zz_case_decide(bare(case_input("case_accept", zz_prison, zz_prison, "invited"))).outcome == "allow"
	codes(zz_case_decide(bare(case_input("case_accept", zz_probation, zz_probation, "none")))) == ["NOT_INVITED"]
	zz_case_decide(json.patch(open_input(zz_council), [{"op": "remove", "path": "/case/requester_status"}])).outcome == "allow"
}
