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

# A match outside a case answers whether probation holds an assessment,
# nothing more: its reason says so, not that the record "is shared
# pseudonymised" (the words of the fallback for a request, which a match
# took when the pseudonymise rule served it too).
test_outside_a_case_a_match_is_hit_only_in_its_own_words if {
	d := decide(object.union(police_request, {"action": "match", "subject": {"category": "", "in_custody": false, "release_date": "", "probation_until": "", "municipality": ""}}))
	d.outcome == "hit_only"
	d.pseudonym_domain == "nl-police-rotterdam/risk_management"
	d.conditions == ["NO_ONWARD_DISCLOSURE", "NO_REIDENTIFICATION_WITHOUT_CASE"]
	codes(d) == ["HIT_ONLY_OUTSIDE_CASE", "NO_LEGAL_BASIS"]
	not contains(d.reasons[0].message, "is shared pseudonymised")
}

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
		"CASE_PURPOSE_ONLY" in b.conditions
	}
	every id, b in data.liaison.jurisdictions.nl.bases {
		_case_purpose_only_or_reidentify(id, b)
	}
}

# Records pass for the case's purpose only; a re-identification in the case
# may also serve risk management.
_case_purpose_only_or_reidentify(_, b) if b.purposes == ["maw_case_management"]

_case_purpose_only_or_reidentify(id, b) if {
	id == "nl.zvh.casusoverleg.reidentify"
	b.purposes == ["risk_management", "maw_case_management"]
}

# --- translate and reidentify -------------------------------------------------
# The input the gateway builds for a pseudonym: no record type, no subject
# attributes (it does not know them), holder and recipient the requester.

municipality := {"agency": "nl-municipality-rotterdam", "kind": "local_authority", "jurisdiction": "NL"}

pseudonym_input(action, agency, purpose, c) := {
	"action": action,
	"time": "2026-11-26T10:00:00.000000000Z",
	"requester": object.union(agency, {"officer": {"id": "insp.de.vries", "roles": ["case_officer", "legal_officer"], "clearance": "confidential"}}),
	"holder": agency,
	"recipient": agency,
	"subject": {"category": "", "in_custody": false, "release_date": "", "probation_until": "", "municipality": ""},
	"record_type": "",
	"purpose": purpose,
	"claimed_legal_basis": "",
	"case": c,
	"justification": "Bring to the case conference.",
}

with_ngo := object.union(safety_house_case, {"members": array.concat(safety_house_case.members, ["nl-ngo-exit"])})

test_police_translate_their_pseudonym_into_the_case if {
	d := decide(pseudonym_input("translate", police, "maw_case_management", safety_house_case))
	d.outcome == "pseudonymise"
	d.pseudonym_domain == "case/NL-ZVH-RTM-0042"
	d.legal_basis.id == "nl.zvh.casusoverleg.translate"
	d.fields == {"keep": [], "generalise": [], "pseudonymise": ["Person.subject_id"]}
	d.conditions == ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"]
	not d.approval
}

test_an_ngo_member_may_translate_into_the_case if {
	d := decide(pseudonym_input("translate", ngo, "maw_case_management", with_ngo))
	d.outcome == "pseudonymise"
	d.pseudonym_domain == "case/NL-ZVH-RTM-0042"
}

test_translate_needs_a_case if {
	d := decide(pseudonym_input("translate", police, "maw_case_management", null))
	d.outcome == "deny"
	codes(d) == ["CASE_REQUIRED"]
}

test_translate_by_a_non_member_is_refused if {
	d := decide(pseudonym_input("translate", ngo, "maw_case_management", safety_house_case))
	d.outcome == "deny"
	codes(d) == ["NOT_A_CASE_MEMBER"]
	contains(d.reasons[0].message, "nl-ngo-exit is not a member")
}

test_translate_only_for_the_case_purpose if {
	d := decide(pseudonym_input("translate", police, "risk_management", safety_house_case))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
	d.reasons[0].message == "No legal basis in Dutch law lets the police translate a pseudonym for risk management."
}

test_police_reidentify_in_the_case_under_dual_control_of_other_members if {
	every purpose in ["risk_management", "maw_case_management"] {
		d := decide(pseudonym_input("reidentify", police, purpose, safety_house_case))
		d.outcome == "disclose"
		d.legal_basis.id == "nl.zvh.casusoverleg.reidentify"
		d.fields == {"keep": ["Person.subject_id"], "generalise": [], "pseudonymise": []}
		d.approval == {
			"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h",
			"agencies": ["nl-municipality-rotterdam", "nl-police-rotterdam", "nl-probation"],
		}
		d.conditions == ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"]
	}
}

test_probation_may_reidentify_in_the_case if {
	decide(pseudonym_input("reidentify", probation, "risk_management", safety_house_case)).outcome == "disclose"
}

test_reidentify_needs_a_case if {
	d := decide(pseudonym_input("reidentify", police, "risk_management", null))
	d.outcome == "deny"
	codes(d) == ["CASE_REQUIRED"]
	not d.approval
}

test_neither_the_municipality_nor_an_ngo_reidentifies if {
	every who in [[municipality, safety_house_case], [ngo, with_ngo]] {
		d := decide(pseudonym_input("reidentify", who[0], "maw_case_management", who[1]))
		d.outcome == "deny"
		codes(d) == ["NO_LEGAL_BASIS"]
	}
}

test_no_reidentification_for_other_purposes if {
	every purpose in ["criminal_investigation", "resocialisation", "statistics"] {
		d := decide(pseudonym_input("reidentify", police, purpose, safety_house_case))
		d.outcome == "deny"
		codes(d) == ["NO_LEGAL_BASIS"]
	}
}

test_only_an_agencys_own_pseudonym if {
	d := decide(object.union(pseudonym_input("reidentify", police, "risk_management", safety_house_case), {"holder": probation}))
	d.outcome == "deny"
	codes(d) == ["REQUESTER_NOT_HOLDER"]
}

test_a_pseudonym_has_no_record_type if {
	d := decide(object.union(pseudonym_input("translate", police, "maw_case_management", safety_house_case), {"record_type": "case_plan"}))
	d.outcome == "deny"
	codes(d) == ["UNEXPECTED_RECORD_TYPE"]
}
