# Tests of the Bavarian pack after sharing: what police family work learns
# serves family support only; what a Bavarian recipient keeps when the
# basis ends. Run: go tool opa test policies/ -r aftercare
package liaison_test.aftercare.de_by

import data.liaison_test.jurisdictions.de_by as pack

# The youth welfare office received the police's family-work notes as
# entry 60 and passes them on.
family := {
	"audit_index": 60,
	"holder": pack.police,
	"recipient": pack.jugendamt,
	"legal_basis": "de_by.pag.family_work",
	"valid_until": "",
	"purpose": "family_support",
	"case_id": "",
	"conditions": ["DE_BY_FAMILY_WORK_ONLY"],
}

test_family_work_never_turns_into_risk_management if {
	d := pack.decide(pack.pushed(pack.jugendamt, pack.police, {"provenance": family, "purpose": "risk_management"}))
	d.outcome == "deny"
	pack.codes(d) == ["FAMILY_WORK_ONLY"]
}

test_family_work_for_family_support_goes_back_with_its_condition if {
	d := pack.decide(pack.pushed(pack.jugendamt, pack.police, {"provenance": family}))
	d.outcome == "disclose"
	"DE_BY_FAMILY_WORK_ONLY" in d.conditions
}

test_no_onward_disclosure_to_the_counselling_service if {
	p := object.union(family, {"conditions": ["DE_BY_FAMILY_WORK_ONLY", "NO_ONWARD_DISCLOSURE"]})
	d := pack.decide(pack.pushed(pack.jugendamt, pack.counselling, {"provenance": p}))
	pack.codes(d) == ["ONWARD_DISCLOSURE_PROHIBITED"]
}

ended(recipient) := object.union(pack.pushed(pack.prison, recipient, {}), {"time": "2028-03-02T00:00:00Z"})

test_retention_police_keep_until_the_review if {
	r := data.liaison.retention with input as ended(pack.lka)
	r.obligation == "retain"
	r.rule.id == "de_by.pag.retention.54"
}

test_retention_youth_welfare_erases if {
	r := data.liaison.retention with input as ended(pack.jugendamt)
	r.obligation == "erase"
}
