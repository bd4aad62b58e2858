# Tests of the Lower Saxon case kinds and required notices (cases.rego):
# every action on a case, and the notices that must be acknowledged.
# Run: go tool opa test policies/ -r cases.de_ni
package liaison_test.cases.de_ni

lead := {"agency": "de-ni-jva-celle", "kind": "prison", "jurisdiction": "DE-NI"}

member := {"agency": "de-ni-police-hannover", "kind": "police", "jurisdiction": "DE-NI"}

invited := {"agency": "de-ni-other-member", "kind": "police", "jurisdiction": "DE-NI"}

outsider := {"agency": "de-ni-lfv", "kind": "intelligence", "jurisdiction": "DE-NI"}

officer(clearance) := {"id": "de_ni-officer-9", "roles": ["case_officer"], "clearance": clearance}

# on_case is an action on case DE-NI-CASE-1 of kind de_ni.fallkonferenz (lead de-ni-jva-celle,
# member de-ni-police-hannover, de-ni-other-member invited) by requester about recipient, the
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
		"id": "DE-NI-CASE-1", "kind": "de_ni.fallkonferenz", "jurisdiction": "DE-NI",
		"members": ["de-ni-jva-celle", "de-ni-police-hannover"], "lead": "de-ni-jva-celle",
		"invited": ["de-ni-other-member"], "requester_status": status,
	},
}

opening_by(agency) := object.union(on_case("case_open", agency, agency, "none"), {"case": {
	"id": "DE-NI-CASE-2", "kind": "de_ni.fallkonferenz", "jurisdiction": "DE-NI",
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

test_de_ni_case_open if {
	d := decide(opening_by(lead))
	d.outcome == "allow"
	d.legal_basis.id == "de_ni.fallkonferenz"
	d.pseudonym_domain == "case/DE-NI-CASE-2"
	codes(decide(opening_by({"agency": "de-ni-police-hannover", "kind": "police", "jurisdiction": "DE-NI"}))) == ["LEAD_KIND_NOT_ALLOWED"]
}

test_de_ni_case_invite if {
	decide(on_case("case_invite", lead, {"agency": "de-ni-new", "kind": "police", "jurisdiction": "DE-NI"}, "lead")).outcome == "allow"
	codes(decide(on_case("case_invite", member, {"agency": "de-ni-new", "kind": "police", "jurisdiction": "DE-NI"}, "member"))) == ["NOT_CASE_LEAD"]
	codes(decide(on_case("case_invite", lead, outsider, "lead"))) == ["MEMBER_KIND_NOT_ALLOWED"]
	codes(decide(on_case("case_invite", lead, member, "lead"))) == ["ALREADY_IN_CASE"]
}

test_de_ni_case_accept if {
	decide(on_case("case_accept", invited, invited, "invited")).outcome == "allow"

	# Nobody accepts for the invited agency, not even the lead.
	codes(decide(on_case("case_accept", lead, invited, "lead"))) == ["NOT_INVITED", "REQUESTER_NOT_RECIPIENT"]
	codes(decide(on_case("case_accept", outsider, outsider, "none"))) == ["NOT_INVITED"]
}

test_de_ni_case_decline if {
	decide(on_case("case_decline", invited, invited, "invited")).outcome == "allow"
	codes(decide(on_case("case_decline", member, invited, "member"))) == ["NOT_INVITED", "REQUESTER_NOT_RECIPIENT"]
}

test_de_ni_case_leave if {
	decide(on_case("case_leave", member, member, "member")).outcome == "allow"
	codes(decide(on_case("case_leave", lead, lead, "lead"))) == ["LEAD_CANNOT_LEAVE"]
}

test_de_ni_case_remove if {
	decide(on_case("case_remove", lead, member, "lead")).outcome == "allow"
	decide(on_case("case_remove", lead, invited, "lead")).outcome == "allow"
	codes(decide(on_case("case_remove", member, invited, "member"))) == ["NOT_CASE_LEAD"]
}

test_de_ni_case_close if {
	decide(on_case("case_close", lead, lead, "lead")).outcome == "allow"
	codes(decide(on_case("case_close", member, member, "member"))) == ["NOT_CASE_LEAD"]
}

test_de_ni_case_handover if {
	to := {"agency": "de-ni-ajsd", "kind": "probation", "jurisdiction": "DE-NI"}
	d := decide(with_member(on_case("case_handover", lead, to, "lead"), "de-ni-ajsd"))
	d.outcome == "allow"
	d.pseudonym_domain == "case/DE-NI-CASE-1" # the case's domain stays

	refused := {"agency": "de-ni-police-hannover", "kind": "police", "jurisdiction": "DE-NI"}
	codes(decide(with_member(on_case("case_handover", lead, refused, "lead"), "de-ni-police-hannover"))) == ["LEAD_KIND_NOT_ALLOWED"]
	codes(decide(on_case("case_handover", lead, invited, "lead"))) == ["NEW_LEAD_NOT_A_MEMBER"]
	codes(decide(on_case("case_handover", member, lead, "member"))) == ["NEW_LEAD_NOT_A_MEMBER", "NOT_CASE_LEAD"]
}

# A prison tells the police competent where the person will live of a
# release date brought forward, 50 days before the release.
release_notice(event, recipient, route) := {
	"action": "notify",
	"time": "2027-01-10T10:00:00Z",
	"requester": object.union({"agency": "de-ni-prison", "kind": "prison", "jurisdiction": "DE-NI"}, {"officer": officer("restricted")}),
	"holder": {"agency": "de-ni-prison", "kind": "prison", "jurisdiction": "DE-NI"},
	"recipient": recipient,
	"subject": {"category": "convicted", "in_custody": true, "release_date": "2027-03-01", "probation_until": "2029-02-28", "municipality": "x"},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "test",
	"event": {"type": event},
	"route": route,
}

test_de_ni_notify_release_date_to_the_competent_police_is_required if {
	d := decide(release_notice("release_date_changed", {"agency": "de-ni-police-competent", "kind": "police", "jurisdiction": "DE-NI"}, {"role": "competent", "area": "x"}))
	d.outcome == "disclose"
	d.legal_basis.id == "de_ni.njvollzg.release"
	d.notice.required == true
	d.notice.rule == "de_ni.notice.release.police"
	d.notice.acknowledge_by == "2027-01-13T10:00:00Z"
	d.notice.escalate_at == "2027-01-12T10:00:00Z"
}

test_de_ni_notify_absconded_to_the_police_is_required_within_hours if {
	d := decide(release_notice("absconded", {"agency": "de-ni-police-competent", "kind": "police", "jurisdiction": "DE-NI"}, {"role": "earlier_recipient"}))
	d.outcome != "deny"
	d.notice.rule == "de_ni.notice.absconded.police"
	d.notice.acknowledge_by == "2027-01-10T14:00:00Z"
	d.notice.escalate_at == "2027-01-10T11:00:00Z"
}

test_de_ni_notify_not_required if {
	not decide(release_notice("release_date_changed", {"agency": "de-ni-lk-hannover", "kind": "local_authority", "jurisdiction": "DE-NI"}, {"role": "named"})).notice
	not decide(release_notice("deceased", {"agency": "de-ni-police-competent", "kind": "police", "jurisdiction": "DE-NI"}, {"role": "named"})).notice
	codes(decide(release_notice("moved_house", {"agency": "de-ni-police-competent", "kind": "police", "jurisdiction": "DE-NI"}, {"role": "named"}))) == ["UNKNOWN_EVENT_TYPE"]
}
