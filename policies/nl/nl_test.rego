# Tests of the Dutch pack with the shared rules. Run: go tool opa test policies/
package liaison_test.jurisdictions.nl

police := {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL"}

probation := {"agency": "nl-probation", "kind": "probation", "jurisdiction": "NL"}

ngo := {"agency": "nl-ngo-exit", "kind": "ngo", "jurisdiction": "NL"}

officer := {"id": "nl-officer-4", "roles": ["case_officer"], "clearance": "confidential"}

safety_house_case := {
	"id": "NL-ZVH-RTM-0042",
	"members": ["nl-police-rotterdam", "nl-probation", "nl-municipality-rotterdam"],
	"lead": "nl-municipality-rotterdam",
}

# The Rotterdam police ask probation for a risk assessment (scenario b).
police_request := {
	"action": "request",
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(police, {"officer": officer}),
	"holder": probation,
	"recipient": police,
	"subject": {
		"category": "convicted", "in_custody": false, "release_date": "2026-05-04",
		"probation_until": "2028-05-03", "municipality": "Rotterdam",
	},
	"record_type": "risk_assessment",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "Risk review after release.",
}

# requested_by returns police_request made by (and for) agency instead.
requested_by(agency) := object.union(police_request, {
	"requester": object.union(agency, {"officer": officer}),
	"recipient": agency,
})

in_case := object.union(police_request, {"purpose": "maw_case_management", "case": safety_house_case})

decide(inp) := d if {
	d := data.liaison.decision with input as inp
}

codes(d) := [r.code | some r in d.reasons]

test_outside_a_case_police_get_a_pseudonymised_assessment if {
	d := decide(police_request)
	d.outcome == "pseudonymise"
	d.fields == {
		"keep": ["operational", "RiskAssessment.level"],
		"generalise": ["quasi_identifier"],
		"pseudonymise": ["direct_identifier"],
		"precision": "month",
	}
	d.pseudonym_domain == "nl-police-rotterdam/risk_management"
	not d.legal_basis
	codes(d) == ["PSEUDONYMISED_OUTSIDE_CASE", "NO_LEGAL_BASIS"]
	"LED_ART7_ASSESSMENT_NOT_FACT" in d.conditions
}

test_ngo_gets_nothing_of_a_risk_assessment if {
	d := decide(requested_by(ngo))
	d.outcome == "deny"
	codes(d) == ["ASSESSMENT_TO_NGO"]
}

test_ngo_gets_nothing_of_a_risk_assessment_even_in_the_case if {
	c := object.union(safety_house_case, {"members": array.concat(safety_house_case.members, ["nl-ngo-exit"])})
	d := decide(object.union(requested_by(ngo), {"purpose": "maw_case_management", "case": c}))
	d.outcome == "deny"
	codes(d) == ["ASSESSMENT_TO_NGO"]
}

test_case_members_share_in_full_for_the_case if {
	d := decide(in_case)
	d.outcome == "disclose"
	d.legal_basis.id == "nl.zvh.casusoverleg"
	"CASE_PURPOSE_ONLY" in d.conditions
	d.pseudonym_domain == "case/NL-ZVH-RTM-0042"
	"assessment" in d.fields.keep
	not d.legal_basis.valid_until
}

test_requester_outside_the_case_is_refused if {
	social := {"agency": "nl-wijkteam-rotterdam", "kind": "social_services", "jurisdiction": "NL"}
	d := decide(object.union(requested_by(social), {"purpose": "maw_case_management", "case": safety_house_case}))
	d.outcome == "deny"
	codes(d) == ["NOT_A_CASE_MEMBER", "CRIMINAL_OFFENCE_DATA"]
	contains(d.reasons[0].message, "; nl-wijkteam-rotterdam is not a member.")
}

test_holder_outside_the_case_cannot_share_into_it if {
	prison := {"agency": "nl-dji-vught", "kind": "prison", "jurisdiction": "NL"}
	d := decide(object.union(in_case, {"holder": prison}))
	d.outcome == "deny"
	codes(d) == ["NOT_A_CASE_MEMBER"]
}

test_case_purpose_needs_a_case if {
	d := decide(object.union(police_request, {"purpose": "maw_case_management"}))
	d.outcome == "deny"
	codes(d) == ["CASE_REQUIRED"]
}

test_a_case_without_a_lead_member_is_invalid if {
	d := decide(object.union(in_case, {"case": object.union(safety_house_case, {"lead": "nl-somebody-else"})}))
	d.outcome == "deny"
	codes(d) == ["INVALID_CASE"]
}

test_ngo_case_member_gets_the_case_plan_without_sensitive_data if {
	c := object.union(safety_house_case, {"members": array.concat(safety_house_case.members, ["nl-ngo-exit"])})
	d := decide(object.union(requested_by(ngo), {"purpose": "maw_case_management", "case": c, "record_type": "case_plan"}))
	d.outcome == "disclose"
	d.legal_basis.id == "nl.zvh.casusoverleg.ngo"
	d.fields.keep == ["direct_identifier", "quasi_identifier", "operational"]
	d.pseudonym_domain == "case/NL-ZVH-RTM-0042"
}

test_ngo_case_member_gets_no_police_observation if {
	c := object.union(safety_house_case, {"members": array.concat(safety_house_case.members, ["nl-ngo-exit"])})
	d := decide(object.union(requested_by(ngo), {"purpose": "maw_case_management", "case": c, "record_type": "police_observation"}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS", "CRIMINAL_OFFENCE_DATA"]
}

test_social_services_outside_a_case_get_nothing if {
	social := {"agency": "nl-wijkteam-rotterdam", "kind": "social_services", "jurisdiction": "NL"}
	d := decide(object.union(requested_by(social), {"record_type": "case_plan"}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}

test_no_basis_for_criminal_investigation if {
	d := decide(object.union(police_request, {"purpose": "criminal_investigation"}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
	contains(d.reasons[0].message, "Dutch law")
}

test_every_basis_is_case_bound if {
	every b in data.liaison.jurisdictions.nl.bases {
		b.requires_case == true
		b.purposes == ["maw_case_management"]
		"CASE_PURPOSE_ONLY" in b.conditions
	}
}
