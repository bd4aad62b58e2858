# Tests of the Lower Saxony pack after sharing: what the case conference
# shares serves its measure plan among its members; what a recipient in
# Lower Saxony keeps when the basis ends. Run: go tool opa test policies/ -r aftercare
package liaison_test.aftercare.de_ni

import data.liaison_test.jurisdictions.de_ni as pack

# The city received the probation service's case plan in the case
# conference as entry 70.
planned := {
	"audit_index": 70,
	"holder": pack.probation,
	"recipient": pack.city,
	"legal_basis": "de_ni.fallkonferenz",
	"valid_until": "",
	"purpose": "maw_case_management",
	"case_id": "DE-NI-FK-2027-004",
	"conditions": ["CASE_PURPOSE_ONLY", "DE_NI_INDIVIDUAL_MEASURE_PLAN", "NO_ONWARD_DISCLOSURE"],
}

passed_on(recipient, patch) := pack.pushed(pack.city, recipient, object.union(
	{
		"provenance": planned, "case": pack.conference, "purpose": "maw_case_management",
		"record_type": "case_plan", "subject": pack.after_release,
	},
	patch,
))

test_inside_the_conference_it_goes_on_with_its_conditions if {
	d := pack.decide(passed_on(pack.police, {}))
	d.outcome == "disclose"
	d.conditions == ["CASE_PURPOSE_ONLY", "DE_NI_INDIVIDUAL_MEASURE_PLAN", "NO_ONWARD_DISCLOSURE"]
}

test_outside_the_conference_it_stops if {
	d := pack.decide(object.remove(passed_on(pack.police, {"purpose": "risk_management"}), ["case"]))
	d.outcome == "deny"
	pack.codes(d) == ["MEASURE_PLAN_ONLY", "ONWARD_DISCLOSURE_PROHIBITED", "OUTSIDE_THE_CASE"]
}

test_not_to_the_police_of_another_land if {
	d := pack.decide(passed_on(pack.bavarian_police, {}))
	d.outcome == "deny"
	"MEASURE_PLAN_ONLY" in pack.codes(d)
}

ended(recipient) := object.union(pack.pushed(pack.prison, recipient, {}), {"time": "2029-12-01T00:00:00Z"})

test_retention_police_keep_until_the_review if {
	r := data.liaison.retention with input as ended(pack.police)
	r.obligation == "retain"
	r.rule.id == "de_ni.npog.retention.39"
}

test_retention_the_city_erases if {
	r := data.liaison.retention with input as ended(pack.city)
	r.obligation == "erase"
}
