# Tests of the Dutch pack after sharing: what a Safety House case member
# received stays in the case; what a Dutch recipient keeps when the basis
# ends. Run: go tool opa test policies/ -r aftercare
package liaison_test.aftercare.nl

import data.liaison_test.jurisdictions.nl as pack

# The Rotterdam police received probation's risk assessment in the Safety
# House case as entry 30 and pass it on.
received := {
	"audit_index": 30,
	"holder": pack.probation,
	"recipient": pack.police,
	"legal_basis": "nl.zvh.casusoverleg",
	"valid_until": "",
	"purpose": "maw_case_management",
	"case_id": "NL-ZVH-RTM-0042",
	"conditions": ["CASE_PURPOSE_ONLY", "LED_ART7_ASSESSMENT_NOT_FACT", "NO_ONWARD_DISCLOSURE"],
}

passed_on(recipient, patch) := object.union(
	object.union(pack.in_case, {
		"action": "disclose",
		"holder": pack.police,
		"recipient": recipient,
		"provenance": received,
	}),
	patch,
)

test_inside_the_case_it_goes_on_with_its_conditions if {
	d := pack.decide(passed_on(pack.municipality, {}))
	d.outcome == "disclose"
	d.legal_basis.id == "nl.zvh.casusoverleg"
	d.pseudonym_domain == "case/NL-ZVH-RTM-0042"
	d.conditions == ["CASE_PURPOSE_ONLY", "LED_ART7_ASSESSMENT_NOT_FACT", "NO_ONWARD_DISCLOSURE"]
}

test_outside_the_case_it_stops if {
	d := pack.decide(object.remove(passed_on(pack.municipality, {"purpose": "risk_management"}), ["case"]))
	d.outcome == "deny"
	pack.codes(d) == ["ONWARD_DISCLOSURE_PROHIBITED", "OUTSIDE_THE_CASE"]

	# Without the provenance the police's own assessment would go out
	# pseudonymised under the Dutch fallback; with it, nothing goes.
	own := pack.decide(object.remove(passed_on(pack.municipality, {"purpose": "risk_management"}), ["case", "provenance"]))
	own.outcome != "deny"
}

test_a_non_member_gets_nothing_even_with_the_case_named if {
	d := pack.decide(passed_on(pack.ngo, {}))
	d.outcome == "deny"
	"OUTSIDE_THE_CASE" in pack.codes(d)
}

test_no_reidentification_without_case_travels_but_restricts_nothing_here if {
	r := data.liaison.jurisdictions.nl.onward.NO_REIDENTIFICATION_WITHOUT_CASE
	r.carry_only == true
	p := object.union(received, {"conditions": ["NO_REIDENTIFICATION_WITHOUT_CASE"]})
	d := pack.decide(passed_on(pack.municipality, {"provenance": p}))
	d.outcome == "disclose"
	"NO_REIDENTIFICATION_WITHOUT_CASE" in d.conditions
}

ended(recipient) := object.union(pack.in_case, {
	"action": "disclose", "requester": object.union(pack.probation, {"officer": pack.officer}),
	"recipient": recipient, "time": "2028-05-04T00:00:00Z",
})

test_retention_police_keep_a_year_under_wpg_art8 if {
	r := data.liaison.retention with input as ended(pack.police)
	r.obligation == "retain"
	r.rule.id == "nl.wpg.retention.art8"
	r.rule.retain_until == "2029-05-04"
}

test_retention_the_municipality_erases if {
	r := data.liaison.retention with input as ended(pack.municipality)
	r.obligation == "erase"
}
