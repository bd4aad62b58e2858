# Tests of the Dutch case kinds and required notices (cases.rego):
# every action on a case, and the notices that must be acknowledged.
# Run: go tool opa test policies/ -r cases.nl
package liaison_test.cases.nl

lead := {"agency": "nl-municipality-rotterdam", "kind": "local_authority", "jurisdiction": "NL"}

member := {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL"}

invited := {"agency": "nl-other-member", "kind": "police", "jurisdiction": "NL"}

outsider := {"agency": "nl-aivd", "kind": "intelligence", "jurisdiction": "NL"}

officer(clearance) := {"id": "nl-officer-9", "roles": ["case_officer"], "clearance": clearance}

# on_case is an action on case NL-CASE-1 of kind nl.zvh (lead nl-municipality-rotterdam,
# member nl-police-rotterdam, nl-other-member invited) by requester about recipient, the
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
		"id": "NL-CASE-1", "kind": "nl.zvh", "jurisdiction": "NL",
		"members": ["nl-municipality-rotterdam", "nl-police-rotterdam"], "lead": "nl-municipality-rotterdam",
		"invited": ["nl-other-member"], "requester_status": status,
	},
}

opening_by(agency) := object.union(on_case("case_open", agency, agency, "none"), {"case": {
	"id": "NL-CASE-2", "kind": "nl.zvh", "jurisdiction": "NL",
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

test_nl_case_open if {
	d := decide(opening_by(lead))
	d.outcome == "allow"
	d.legal_basis.id == "nl.zvh"
	d.pseudonym_domain == "case/NL-CASE-2"
	codes(decide(opening_by({"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL"}))) == ["LEAD_KIND_NOT_ALLOWED"]
}

test_nl_case_invite if {
	decide(on_case("case_invite", lead, {"agency": "nl-new", "kind": "police", "jurisdiction": "NL"}, "lead")).outcome == "allow"
	codes(decide(on_case("case_invite", member, {"agency": "nl-new", "kind": "police", "jurisdiction": "NL"}, "member"))) == ["NOT_CASE_LEAD"]
	codes(decide(on_case("case_invite", lead, outsider, "lead"))) == ["MEMBER_KIND_NOT_ALLOWED"]
	codes(decide(on_case("case_invite", lead, member, "lead"))) == ["ALREADY_IN_CASE"]
}

test_nl_case_accept if {
	decide(on_case("case_accept", invited, invited, "invited")).outcome == "allow"

	# Nobody accepts for the invited agency, not even the lead.
	codes(decide(on_case("case_accept", lead, invited, "lead"))) == ["NOT_INVITED", "REQUESTER_NOT_RECIPIENT"]
	codes(decide(on_case("case_accept", outsider, outsider, "none"))) == ["NOT_INVITED"]
}

test_nl_case_decline if {
	decide(on_case("case_decline", invited, invited, "invited")).outcome == "allow"
	codes(decide(on_case("case_decline", member, invited, "member"))) == ["NOT_INVITED", "REQUESTER_NOT_RECIPIENT"]
}

test_nl_case_leave if {
	decide(on_case("case_leave", member, member, "member")).outcome == "allow"
	codes(decide(on_case("case_leave", lead, lead, "lead"))) == ["LEAD_CANNOT_LEAVE"]
}

test_nl_case_remove if {
	decide(on_case("case_remove", lead, member, "lead")).outcome == "allow"
	decide(on_case("case_remove", lead, invited, "lead")).outcome == "allow"
	codes(decide(on_case("case_remove", member, invited, "member"))) == ["NOT_CASE_LEAD"]
}

test_nl_case_close if {
	decide(on_case("case_close", lead, lead, "lead")).outcome == "allow"
	codes(decide(on_case("case_close", member, member, "member"))) == ["NOT_CASE_LEAD"]
}

test_nl_case_handover if {
	to := {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL"}
	d := decide(with_member(on_case("case_handover", lead, to, "lead"), "nl-police-rotterdam"))
	d.outcome == "allow"
	d.pseudonym_domain == "case/NL-CASE-1" # the case's domain stays

	refused := {"agency": "nl-prison-dji", "kind": "prison", "jurisdiction": "NL"}
	codes(decide(with_member(on_case("case_handover", lead, refused, "lead"), "nl-prison-dji"))) == ["LEAD_KIND_NOT_ALLOWED"]
	codes(decide(on_case("case_handover", lead, invited, "lead"))) == ["NEW_LEAD_NOT_A_MEMBER"]
	codes(decide(on_case("case_handover", member, lead, "member"))) == ["NEW_LEAD_NOT_A_MEMBER", "NOT_CASE_LEAD"]
}

# A prison tells the members of a Safety House case of a release date
# brought forward, 50 days before the release.
release_notice(event, recipient, route) := {
	"action": "notify",
	"time": "2027-01-10T10:00:00Z",
	"requester": object.union({"agency": "nl-prison", "kind": "prison", "jurisdiction": "NL"}, {"officer": officer("restricted")}),
	"holder": {"agency": "nl-prison", "kind": "prison", "jurisdiction": "NL"},
	"recipient": recipient,
	"subject": {"category": "convicted", "in_custody": true, "release_date": "2027-03-01", "probation_until": "2029-02-28", "municipality": "x"},
	"record_type": "release_notice",
	"purpose": "maw_case_management",
	"case": {"id": "NL-CASE-1", "kind": "nl.zvh", "jurisdiction": "NL", "members": ["nl-municipality-rotterdam", "nl-prison", "nl-police-competent", "nl-probation"], "lead": "nl-municipality-rotterdam", "requester_status": "member"},
	"claimed_legal_basis": "",
	"justification": "test",
	"event": {"type": event},
	"route": route,
}

test_nl_notify_release_date_to_the_competent_police_is_required if {
	d := decide(release_notice("release_date_changed", {"agency": "nl-police-competent", "kind": "police", "jurisdiction": "NL"}, {"role": "competent", "area": "x"}))
	d.outcome == "disclose"
	d.legal_basis.id == "nl.zvh.casusoverleg"
	d.notice.required == true
	d.notice.rule == "nl.notice.release.police"
	d.notice.acknowledge_by == "2027-01-13T10:00:00Z"
	d.notice.escalate_at == "2027-01-12T10:00:00Z"
}

test_nl_notify_absconded_to_the_police_is_required_within_hours if {
	d := decide(release_notice("absconded", {"agency": "nl-police-competent", "kind": "police", "jurisdiction": "NL"}, {"role": "earlier_recipient"}))
	d.outcome != "deny"
	d.notice.rule == "nl.notice.absconded.police"
	d.notice.acknowledge_by == "2027-01-10T14:00:00Z"
	d.notice.escalate_at == "2027-01-10T11:00:00Z"
}

test_nl_notify_not_required if {
	not decide(release_notice("release_date_changed", {"agency": "nl-probation", "kind": "probation", "jurisdiction": "NL"}, {"role": "named"})).notice
	not decide(release_notice("deceased", {"agency": "nl-police-competent", "kind": "police", "jurisdiction": "NL"}, {"role": "named"})).notice
	codes(decide(release_notice("moved_house", {"agency": "nl-police-competent", "kind": "police", "jurisdiction": "NL"}, {"role": "named"}))) == ["UNKNOWN_EVENT_TYPE"]
}

test_nl_the_lead_municipality_must_acknowledge_a_release_date_as_case_member if {
	council := {"agency": "nl-municipality-rotterdam", "kind": "local_authority", "jurisdiction": "NL"}
	d := decide(release_notice("release_date_changed", council, {"role": "case_member", "case": "NL-CASE-1"}))
	d.outcome == "disclose"
	d.notice.rule == "nl.notice.release.lead"

	# Named outside its role in the case, it must not acknowledge.
	not decide(release_notice("release_date_changed", council, {"role": "named"})).notice
}

# The lead's notice follows the lead: once the municipality has handed the
# lead over (to the police), it is a member like any other and need not
# acknowledge; a municipality that never led the case need not either.
test_nl_only_the_lead_municipality_must_acknowledge_a_release_date if {
	council := {"agency": "nl-municipality-rotterdam", "kind": "local_authority", "jurisdiction": "NL"}
	led := release_notice("release_date_changed", council, {"role": "case_member", "case": "NL-CASE-1"})
	handed_over := json.patch(led, [{"op": "replace", "path": "/case/lead", "value": "nl-police-competent"}])
	d := decide(handed_over)
	d.outcome == "disclose"
	not d.notice

	other := {"agency": "nl-municipality-schiedam", "kind": "local_authority", "jurisdiction": "NL"}
	with_other := json.patch(led, [
		{"op": "replace", "path": "/recipient", "value": other},
		{"op": "add", "path": "/case/members/-", "value": "nl-municipality-schiedam"},
	])
	not decide(with_other).notice
}
