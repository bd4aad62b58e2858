# Tests of the Danish pack after sharing: onward use of what Danish
# agencies released (the § 115 conditions travel with it) and what a
# Danish recipient keeps when the basis ends. Run: go tool opa test policies/ -r aftercare
package liaison_test.aftercare.dk

import data.liaison_test.jurisdictions.dk as pack

police := {"agency": "dk-police-aarhus", "kind": "police", "jurisdiction": "DK"}

prison := pack.release_notice.holder

social := {"agency": "dk-social-aarhus", "kind": "social_services", "jurisdiction": "DK"}

# The Aarhus police received the release notice from the prison under
# § 115 (KSP) as entry 12, with the stk. 2 condition and no onward
# disclosure; now they pass it on.
received := {
	"audit_index": 12,
	"holder": prison,
	"recipient": police,
	"legal_basis": "dk.rpl.115.stk1.nr3",
	"valid_until": "2027-12-15",
	"purpose": "risk_management",
	"case_id": "",
	"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"],
}

passed_on(recipient, patch) := object.union(
	object.union(pack.release_notice, {
		"requester": object.union(police, {"officer": {"id": "pi.soerensen", "roles": ["case_officer"], "clearance": "confidential"}}),
		"holder": police,
		"recipient": recipient,
		"provenance": received,
	}),
	patch,
)

test_police_may_not_pass_a_115_record_to_a_third_agency if {
	d := pack.decide(passed_on(social, {}))
	d.outcome == "deny"
	pack.codes(d) == ["ONWARD_DISCLOSURE_PROHIBITED"]
	contains(d.reasons[0].message, "received from dk-prison-east under entry 12")

	# The same record as the police's own goes to social services under KSP.
	pack.decide(object.remove(passed_on(social, {}), ["provenance"])).outcome == "disclose"
}

test_police_may_not_pass_a_115_record_on_for_an_investigation if {
	d := pack.decide(passed_on(social, {"purpose": "criminal_investigation"}))
	d.outcome == "deny"
	pack.codes(d) == ["PURPOSE_PROHIBITED"]
}

test_back_to_the_prison_it_goes_with_its_conditions if {
	d := pack.decide(passed_on(prison, {}))
	d.outcome == "disclose"
	d.legal_basis.id == "dk.rpl.115.stk1.nr3"
	d.conditions == ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"]
}

test_the_stk2_condition_is_defined_by_the_pack if {
	r := data.liaison.jurisdictions.dk.onward.DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION
	r.prohibited_purposes == ["criminal_investigation"]
	r.code == "NOT_FOR_CRIMINAL_INVESTIGATION"
}

# When the basis ends (the day after valid_until): the police keep the
# release notice under their own files' rules; social services erase it.
ended(recipient) := object.union(pack.release_notice, {"recipient": recipient, "time": "2027-12-16T00:00:00Z"})

test_retention_police_keep_five_years if {
	r := data.liaison.retention with input as ended(police)
	r.obligation == "retain"
	r.rule.id == "dk.rhl.retention.police"
	r.rule.retain_until == "2032-12-15"
	contains(r.rule.assumption, "five years")
}

test_retention_the_prison_and_probation_service_keep_its_case_file if {
	r := data.liaison.retention with input as object.union(ended(prison), {"holder": police, "requester": object.union(police, {"officer": pack.release_notice.requester.officer})})
	r.obligation == "retain"
	r.rule.id == "dk.rhl.retention.kriminalforsorgen"
}

test_retention_social_services_erase if {
	r := data.liaison.retention with input as ended(social)
	r.obligation == "erase"
	r.reasons[0].code == "NO_RETENTION_RULE"
}
