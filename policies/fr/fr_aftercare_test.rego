# Tests of the French pack after sharing: QER results stay with the
# intelligence services; what the reintegration programme learns serves
# it only; what a French recipient keeps when the basis ends.
# Run: go tool opa test policies/ -r aftercare
package liaison_test.aftercare.fr

import data.liaison_test.jurisdictions.fr as pack

# The DGSI received a QER assessment from the prison intelligence service
# as entry 50.
qer := {
	"audit_index": 50,
	"holder": pack.prison,
	"recipient": pack.dgsi,
	"legal_basis": "fr.csi.l863_2",
	"valid_until": "",
	"purpose": "risk_management",
	"case_id": "",
	"conditions": ["FR_INTELLIGENCE_PURPOSES_ONLY", "LED_ART7_ASSESSMENT_NOT_FACT", "NO_ONWARD_DISCLOSURE"],
}

test_qer_results_do_not_leave_the_intelligence_services if {
	d := pack.decide(pack.disclosed(pack.dgsi, pack.police, {"provenance": qer}))
	d.outcome == "deny"
	pack.codes(d) == ["INTELLIGENCE_PURPOSES_ONLY", "ONWARD_DISCLOSURE_PROHIBITED"]
}

test_back_to_the_prison_intelligence_service if {
	d := pack.decide(pack.disclosed(pack.dgsi, pack.prison, {"provenance": qer}))
	"INTELLIGENCE_PURPOSES_ONLY" in pack.codes(d)
}

test_reintegration_programme_data_serve_the_programme_only if {
	p := object.union(qer, {
		"holder": pack.spip, "recipient": pack.association, "legal_basis": "fr.cpp.706_25_16",
		"purpose": "resocialisation", "conditions": ["FR_REINTEGRATION_PROGRAMME_ONLY"],
	})
	d := pack.decide(pack.disclosed(pack.association, pack.spip, {"provenance": p, "purpose": "risk_management", "record_type": "exit_programme_status"}))
	"REINTEGRATION_PROGRAMME_ONLY" in pack.codes(d)
	r := data.liaison.jurisdictions.fr.onward.FR_REINTEGRATION_PROGRAMME_ONLY
	r.purposes == ["resocialisation"]
}

test_shared_secrecy_stays_in_the_follow_up if {
	p := object.union(qer, {
		"holder": pack.mayor, "recipient": pack.social, "legal_basis": "fr.cpraf",
		"purpose": "family_support", "conditions": ["FR_SHARED_PROFESSIONAL_SECRECY"],
	})
	d := pack.decide(pack.disclosed(pack.social, pack.police, {"provenance": p, "purpose": "family_support", "record_type": "family_contact"}))
	"SHARED_SECRECY" in pack.codes(d)
}

ended(recipient) := object.union(pack.disclosed(pack.prison, recipient, {}), {"time": "2029-01-16T00:00:00Z"})

test_retention_intelligence_and_police_keep_five_years if {
	every a in [pack.dgsi, pack.police] {
		r := data.liaison.retention with input as ended(a)
		r.obligation == "retain"
		r.rule.id == "fr.csi.retention.intelligence"
	}
}

test_retention_the_mayor_erases if {
	r := data.liaison.retention with input as ended(pack.mayor)
	r.obligation == "erase"
}
