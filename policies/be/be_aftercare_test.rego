# Tests of the Belgian pack after sharing: what the LIVC-R shares stays in
# the cell; what comes from the common database goes only to the services
# that need to know; what a Belgian recipient keeps when the basis ends.
# Run: go tool opa test policies/ -r aftercare
package liaison_test.aftercare.be

import data.liaison_test.jurisdictions.be as pack

# The OCMW shared its case plan with the cell's members; the justice house
# received it as entry 40 and passes it on.
from_the_cell := {
	"audit_index": 40,
	"holder": pack.ocmw,
	"recipient": pack.justice_house,
	"legal_basis": "be.livcr.2018",
	"valid_until": "",
	"purpose": "maw_case_management",
	"case_id": "BE-LIVCR-ANT-0007",
	"conditions": ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
}

passed_on(recipient, patch) := object.union(
	pack.disclosed_by(pack.justice_house, recipient, {"provenance": from_the_cell}),
	patch,
)

test_inside_the_cell_it_goes_on_under_shared_secrecy if {
	d := pack.decide(passed_on(pack.municipality, {}))
	d.outcome == "disclose"
	d.conditions == ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"]
}

test_outside_the_cell_the_secrecy_stops_it if {
	d := pack.decide(object.remove(passed_on(pack.prison, {"purpose": "risk_management"}), ["case"]))
	d.outcome == "deny"
	pack.codes(d) == ["CONSULTATION_SECRECY", "ONWARD_DISCLOSURE_PROHIBITED", "OUTSIDE_THE_CASE"]
}

# The police received a police observation from the common database
# (entry 41) with the need-to-know condition only, for this test.
from_the_database := object.union(from_the_cell, {
	"audit_index": 41, "holder": pack.prison, "recipient": pack.police, "legal_basis": "be.wpa.44_11_3ter",
	"purpose": "risk_management", "case_id": "", "conditions": ["BE_COMMON_DATABASE_NEED_TO_KNOW"],
})

test_common_database_information_only_to_those_who_feed_it if {
	to_city := pack.decide(pack.disclosed_by(pack.police, pack.municipality, {"provenance": from_the_database}))
	to_city.outcome == "deny"
	"NEED_TO_KNOW_ONLY" in pack.codes(to_city)
	r := data.liaison.jurisdictions.be.onward.BE_COMMON_DATABASE_NEED_TO_KNOW
	not "local_authority" in r.recipient_kinds
	"intelligence" in r.recipient_kinds
}

ended(recipient) := object.union(pack.disclosed_by(pack.ocmw, recipient, {}), {"time": "2028-09-02T00:00:00Z"})

test_retention_police_keep_five_years if {
	r := data.liaison.retention with input as ended(pack.police)
	r.obligation == "retain"
	r.rule.id == "be.wpa.retention.44_9"
}

test_retention_the_municipality_erases if {
	r := data.liaison.retention with input as ended(pack.municipality)
	r.obligation == "erase"
}
