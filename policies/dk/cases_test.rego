# Tests of the Danish case kinds and required notices (cases.rego):
# every action on a case, and the notices that must be acknowledged.
# Run: go tool opa test policies/ -r cases.dk
package liaison_test.cases.dk

lead := {"agency": "dk-police-aarhus", "kind": "police", "jurisdiction": "DK"}

member := {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK"}

invited := {"agency": "dk-other-member", "kind": "prison", "jurisdiction": "DK"}

outsider := {"agency": "dk-ngo-exit", "kind": "ngo", "jurisdiction": "DK"}

officer(clearance) := {"id": "dk-officer-9", "roles": ["case_officer"], "clearance": clearance}

# on_case is an action on case DK-CASE-1 of kind dk.ksp (lead dk-police-aarhus,
# member dk-prison-east, dk-other-member invited) by requester about recipient, the
# requester having the given standing.
on_case(action, requester, recipient, status) := {
	"action": action,
	"time": "2027-01-10T10:00:00Z",
	"requester": object.union(requester, {"officer": officer("top_secret")}),
	"holder": lead,
	"recipient": recipient,
	"subject": {"category": "", "in_custody": false, "release_date": "", "probation_until": "", "municipality": ""},
	"record_type": "",
	"purpose": "maw_case_management",
	"claimed_legal_basis": "",
	"justification": "test",
	"case": {
		"id": "DK-CASE-1", "kind": "dk.ksp", "jurisdiction": "DK",
		"members": ["dk-police-aarhus", "dk-prison-east"], "lead": "dk-police-aarhus",
		"invited": ["dk-other-member"], "requester_status": status,
	},
}

opening_by(agency) := object.union(on_case("case_open", agency, agency, "none"), {"case": {
	"id": "DK-CASE-2", "kind": "dk.ksp", "jurisdiction": "DK",
	"members": [agency.agency], "lead": agency.agency, "invited": [], "requester_status": "none",
}})

decide(inp) := d if {
	d := data.liaison.decision with input as inp
}

# with_member(inp, agency) makes agency a member of the case of inp.
with_member(inp, agency) := inp if {
	agency in inp.case.members
} else := json.patch(inp, [{"op": "add", "path": "/case/members/-", "value": agency}])

codes(d) := [r.code | some r in d.reasons]

test_dk_case_open if {
	d := decide(opening_by(lead))
	d.outcome == "allow"
	d.legal_basis.id == "dk.ksp"
	d.pseudonym_domain == "case/DK-CASE-2"
	codes(decide(opening_by({"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK"}))) == ["LEAD_KIND_NOT_ALLOWED"]
}

test_dk_case_invite if {
	decide(on_case("case_invite", lead, {"agency": "dk-new", "kind": "prison", "jurisdiction": "DK"}, "lead")).outcome == "allow"
	codes(decide(on_case("case_invite", member, {"agency": "dk-new", "kind": "prison", "jurisdiction": "DK"}, "member"))) == ["NOT_CASE_LEAD"]
	codes(decide(on_case("case_invite", lead, outsider, "lead"))) == ["MEMBER_KIND_NOT_ALLOWED"]
	codes(decide(on_case("case_invite", lead, member, "lead"))) == ["ALREADY_IN_CASE"]
}

test_dk_case_accept if {
	decide(on_case("case_accept", invited, invited, "invited")).outcome == "allow"

	# Nobody accepts for the invited agency, not even the lead.
	codes(decide(on_case("case_accept", lead, invited, "lead"))) == ["NOT_INVITED", "REQUESTER_NOT_RECIPIENT"]
	codes(decide(on_case("case_accept", outsider, outsider, "none"))) == ["NOT_INVITED"]
}

test_dk_case_decline if {
	decide(on_case("case_decline", invited, invited, "invited")).outcome == "allow"
	codes(decide(on_case("case_decline", member, invited, "member"))) == ["NOT_INVITED", "REQUESTER_NOT_RECIPIENT"]
}

test_dk_case_leave if {
	decide(on_case("case_leave", member, member, "member")).outcome == "allow"
	codes(decide(on_case("case_leave", lead, lead, "lead"))) == ["LEAD_CANNOT_LEAVE"]
}

test_dk_case_remove if {
	decide(on_case("case_remove", lead, member, "lead")).outcome == "allow"
	decide(on_case("case_remove", lead, invited, "lead")).outcome == "allow"
	codes(decide(on_case("case_remove", member, invited, "member"))) == ["NOT_CASE_LEAD"]
}

test_dk_case_close if {
	decide(on_case("case_close", lead, lead, "lead")).outcome == "allow"
	codes(decide(on_case("case_close", member, member, "member"))) == ["NOT_CASE_LEAD"]
}

test_dk_case_handover if {
	to := {"agency": "dk-probation", "kind": "probation", "jurisdiction": "DK"}
	d := decide(with_member(on_case("case_handover", lead, to, "lead"), "dk-probation"))
	d.outcome == "allow"
	d.pseudonym_domain == "case/DK-CASE-1" # the case's domain stays

	refused := {"agency": "dk-social-aarhus", "kind": "local_authority", "jurisdiction": "DK"}
	codes(decide(with_member(on_case("case_handover", lead, refused, "lead"), "dk-social-aarhus"))) == ["LEAD_KIND_NOT_ALLOWED"]
	codes(decide(on_case("case_handover", lead, invited, "lead"))) == ["NEW_LEAD_NOT_A_MEMBER"]
	codes(decide(on_case("case_handover", member, lead, "member"))) == ["NEW_LEAD_NOT_A_MEMBER", "NOT_CASE_LEAD"]
}

# A prison tells the police competent where the person will live of a
# release date brought forward, 50 days before the release.
release_notice(event, recipient, route) := {
	"action": "notify",
	"time": "2027-01-10T10:00:00Z",
	"requester": object.union({"agency": "dk-prison", "kind": "prison", "jurisdiction": "DK"}, {"officer": officer("restricted")}),
	"holder": {"agency": "dk-prison", "kind": "prison", "jurisdiction": "DK"},
	"recipient": recipient,
	"subject": {"category": "convicted", "in_custody": true, "release_date": "2027-03-01", "probation_until": "2029-02-28", "municipality": "x"},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "test",
	"event": {"type": event},
	"route": route,
}

test_dk_notify_release_date_to_the_competent_police_is_required if {
	d := decide(release_notice("release_date_changed", {"agency": "dk-police-competent", "kind": "police", "jurisdiction": "DK"}, {"role": "competent", "area": "x"}))
	d.outcome == "disclose"
	d.legal_basis.id == "dk.rpl.115.stk1.nr3"
	d.notice.required == true
	d.notice.rule == "dk.notice.release.police"
	d.notice.acknowledge_by == "2027-01-12T10:00:00Z"
	d.notice.escalate_at == "2027-01-11T10:00:00Z"
}

test_dk_notify_absconded_to_the_police_is_required_within_hours if {
	d := decide(release_notice("absconded", {"agency": "dk-police-competent", "kind": "police", "jurisdiction": "DK"}, {"role": "earlier_recipient"}))
	d.outcome != "deny"
	d.notice.rule == "dk.notice.absconded.police"
	d.notice.acknowledge_by == "2027-01-10T14:00:00Z"
	d.notice.escalate_at == "2027-01-10T11:00:00Z"
}

test_dk_notify_not_required if {
	not decide(release_notice("release_date_changed", {"agency": "dk-social-aarhus", "kind": "social_services", "jurisdiction": "DK"}, {"role": "named"})).notice
	not decide(release_notice("deceased", {"agency": "dk-police-competent", "kind": "police", "jurisdiction": "DK"}, {"role": "named"})).notice
	codes(decide(release_notice("moved_house", {"agency": "dk-police-competent", "kind": "police", "jurisdiction": "DK"}, {"role": "named"}))) == ["UNKNOWN_EVENT_TYPE"]
}
