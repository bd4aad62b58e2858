# Tests of the Bavarian case kinds and required notices (cases.rego):
# every action on a case, and the notices that must be acknowledged.
# Run: go tool opa test policies/ -r cases.de_by
package liaison_test.cases.de_by

lead := {"agency": "de-by-lka", "kind": "police", "jurisdiction": "DE-BY"}

member := {"agency": "de-by-jva-muenchen", "kind": "prison", "jurisdiction": "DE-BY"}

invited := {"agency": "de-by-other-member", "kind": "prison", "jurisdiction": "DE-BY"}

outsider := {"agency": "de-by-lfv", "kind": "intelligence", "jurisdiction": "DE-BY"}

officer(clearance) := {"id": "de_by-officer-9", "roles": ["case_officer"], "clearance": clearance}

# on_case is an action on case DE-BY-CASE-1 of kind de_by.netzwerk (lead de-by-lka,
# member de-by-jva-muenchen, de-by-other-member invited) by requester about recipient, the
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
		"id": "DE-BY-CASE-1", "kind": "de_by.netzwerk", "jurisdiction": "DE-BY",
		"members": ["de-by-lka", "de-by-jva-muenchen"], "lead": "de-by-lka",
		"invited": ["de-by-other-member"], "requester_status": status,
	},
}

opening_by(agency) := object.union(on_case("case_open", agency, agency, "none"), {"case": {
	"id": "DE-BY-CASE-2", "kind": "de_by.netzwerk", "jurisdiction": "DE-BY",
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

test_de_by_case_open if {
	d := decide(opening_by(lead))
	d.outcome == "allow"
	d.legal_basis.id == "de_by.netzwerk"
	d.pseudonym_domain == "case/DE-BY-CASE-2"
	codes(decide(opening_by({"agency": "de-by-bewaehrungshilfe", "kind": "probation", "jurisdiction": "DE-BY"}))) == ["LEAD_KIND_NOT_ALLOWED"]
}

test_de_by_case_invite if {
	decide(on_case("case_invite", lead, {"agency": "de-by-new", "kind": "prison", "jurisdiction": "DE-BY"}, "lead")).outcome == "allow"
	codes(decide(on_case("case_invite", member, {"agency": "de-by-new", "kind": "prison", "jurisdiction": "DE-BY"}, "member"))) == ["NOT_CASE_LEAD"]
	codes(decide(on_case("case_invite", lead, outsider, "lead"))) == ["MEMBER_KIND_NOT_ALLOWED"]
	codes(decide(on_case("case_invite", lead, member, "lead"))) == ["ALREADY_IN_CASE"]
}

test_de_by_case_accept if {
	decide(on_case("case_accept", invited, invited, "invited")).outcome == "allow"

	# Nobody accepts for the invited agency, not even the lead.
	codes(decide(on_case("case_accept", lead, invited, "lead"))) == ["NOT_INVITED", "REQUESTER_NOT_RECIPIENT"]
	codes(decide(on_case("case_accept", outsider, outsider, "none"))) == ["NOT_INVITED"]
}

test_de_by_case_decline if {
	decide(on_case("case_decline", invited, invited, "invited")).outcome == "allow"
	codes(decide(on_case("case_decline", member, invited, "member"))) == ["NOT_INVITED", "REQUESTER_NOT_RECIPIENT"]
}

test_de_by_case_leave if {
	decide(on_case("case_leave", member, member, "member")).outcome == "allow"
	codes(decide(on_case("case_leave", lead, lead, "lead"))) == ["LEAD_CANNOT_LEAVE"]
}

test_de_by_case_remove if {
	decide(on_case("case_remove", lead, member, "lead")).outcome == "allow"
	decide(on_case("case_remove", lead, invited, "lead")).outcome == "allow"
	codes(decide(on_case("case_remove", member, invited, "member"))) == ["NOT_CASE_LEAD"]
}

test_de_by_case_close if {
	decide(on_case("case_close", lead, lead, "lead")).outcome == "allow"
	codes(decide(on_case("case_close", member, member, "member"))) == ["NOT_CASE_LEAD"]
}

test_de_by_case_handover if {
	# The lead of a de_by.netzwerk case cannot pass to an agency of another kind.
	refused := {"agency": "de-by-jva-muenchen", "kind": "prison", "jurisdiction": "DE-BY"}
	codes(decide(with_member(on_case("case_handover", lead, refused, "lead"), "de-by-jva-muenchen"))) == ["LEAD_KIND_NOT_ALLOWED"]

	# To another agency of the lead's kind, it can.
	to := {"agency": "de-by-lead-2", "kind": "police", "jurisdiction": "DE-BY"}
	d := decide(with_member(on_case("case_handover", lead, to, "lead"), to.agency))
	d.outcome == "allow"
	d.pseudonym_domain == "case/DE-BY-CASE-1"
	codes(decide(on_case("case_handover", lead, invited, "lead"))) == ["NEW_LEAD_NOT_A_MEMBER"]
}

# A prison tells the police competent where the person will live of a
# release date brought forward, 50 days before the release.
release_notice(event, recipient, route) := {
	"action": "notify",
	"time": "2027-01-10T10:00:00Z",
	"requester": object.union({"agency": "de-by-prison", "kind": "prison", "jurisdiction": "DE-BY"}, {"officer": officer("restricted")}),
	"holder": {"agency": "de-by-prison", "kind": "prison", "jurisdiction": "DE-BY"},
	"recipient": recipient,
	"subject": {"category": "convicted", "in_custody": true, "release_date": "2027-03-01", "probation_until": "2029-02-28", "municipality": "x"},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "test",
	"event": {"type": event},
	"route": route,
}

test_de_by_notify_release_date_to_the_competent_police_is_required if {
	d := decide(release_notice("release_date_changed", {"agency": "de-by-police-competent", "kind": "police", "jurisdiction": "DE-BY"}, {"role": "competent", "area": "x"}))
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.baystvollzg.release"
	d.notice.required == true
	d.notice.rule == "de_by.notice.release.police"
	d.notice.acknowledge_by == "2027-01-13T10:00:00Z"
	d.notice.escalate_at == "2027-01-12T10:00:00Z"
}

test_de_by_notify_absconded_to_the_police_is_required_within_hours if {
	d := decide(release_notice("absconded", {"agency": "de-by-police-competent", "kind": "police", "jurisdiction": "DE-BY"}, {"role": "earlier_recipient"}))
	d.outcome != "deny"
	d.notice.rule == "de_by.notice.absconded.police"
	d.notice.acknowledge_by == "2027-01-10T14:00:00Z"
	d.notice.escalate_at == "2027-01-10T11:00:00Z"
}

test_de_by_notify_not_required if {
	not decide(release_notice("release_date_changed", {"agency": "de-by-bewaehrungshilfe", "kind": "probation", "jurisdiction": "DE-BY"}, {"role": "named"})).notice
	not decide(release_notice("deceased", {"agency": "de-by-police-competent", "kind": "police", "jurisdiction": "DE-BY"}, {"role": "named"})).notice
	codes(decide(release_notice("moved_house", {"agency": "de-by-police-competent", "kind": "police", "jurisdiction": "DE-BY"}, {"role": "named"}))) == ["UNKNOWN_EVENT_TYPE"]
}
