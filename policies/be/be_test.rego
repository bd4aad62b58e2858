# Tests of the Belgian pack with the shared rules. Run: go tool opa test policies/
package liaison_test.jurisdictions.be

police := {"agency": "be-police-antwerpen", "kind": "police", "jurisdiction": "BE"}

municipality := {"agency": "be-antwerpen", "kind": "local_authority", "jurisdiction": "BE"}

ocmw := {"agency": "be-ocmw-antwerpen", "kind": "social_services", "jurisdiction": "BE"}

justice_house := {"agency": "be-justitiehuis-antwerpen", "kind": "probation", "jurisdiction": "BE"}

prison := {"agency": "be-prison-haren", "kind": "prison", "jurisdiction": "BE"}

ngo := {"agency": "be-ngo-exit", "kind": "ngo", "jurisdiction": "BE"}

# officer returns an officer with the given clearance.
officer(clearance) := {"id": "be-officer-9", "roles": ["livcr_member"], "clearance": clearance}

livcr_case := {
	"id": "BE-LIVCR-ANT-0007",
	"members": ["be-police-antwerpen", "be-antwerpen", "be-ocmw-antwerpen", "be-justitiehuis-antwerpen"],
	"lead": "be-antwerpen",
}

subject := {
	"category": "convicted", "in_custody": false, "release_date": "2026-09-01",
	"probation_until": "2028-09-01", "municipality": "Antwerpen",
}

# The police member, cleared to "secret", asks the OCMW for the case plan in
# the LIVC-R.
police_request := {
	"action": "request",
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(police, {"officer": officer("secret")}),
	"holder": ocmw,
	"recipient": police,
	"subject": subject,
	"record_type": "case_plan",
	"purpose": "maw_case_management",
	"claimed_legal_basis": "",
	"case": livcr_case,
	"justification": "LIVC-R case consultation.",
}

# disclosed_by(holder, recipient, patch) is a disclosure pushed by holder.
disclosed_by(holder, recipient, patch) := object.union(
	object.union(police_request, {
		"action": "disclose",
		"requester": object.union(holder, {"officer": officer("confidential")}),
		"holder": holder,
		"recipient": recipient,
	}),
	patch,
)

decide(inp) := d if {
	d := data.liaison.decision with input as inp
}

codes(d) := [r.code | some r in d.reasons]

test_cleared_police_member_gets_the_case_plan if {
	d := decide(police_request)
	d.outcome == "disclose"
	d.legal_basis.id == "be.livcr.2018"
	d.conditions == ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"]
	d.pseudonym_domain == "case/BE-LIVCR-ANT-0007"
	contains(d.legal_basis.assumption, "secondary sources")
}

test_police_member_below_secret_is_refused if {
	d := decide(object.union(police_request, {"requester": object.union(police, {"officer": officer("confidential")})}))
	d.outcome == "deny"
	codes(d) == ["CLEARANCE_TOO_LOW"]
	contains(d.reasons[0].message, "requires an officer of the police to be cleared to at least secret")
}

test_top_secret_clearance_is_enough if {
	decide(object.union(police_request, {"requester": object.union(police, {"officer": officer("top_secret")})})).outcome == "disclose"
}

test_clearance_is_asked_only_of_the_police_member if {
	# the OCMW pushes to the municipality; its officer holds no clearance
	d := decide(disclosed_by(ocmw, municipality, {"requester": object.union(ocmw, {"officer": officer("none")})}))
	d.outcome == "disclose"
	d.legal_basis.id == "be.livcr.2018"
}

test_only_members_of_the_cell_share if {
	outsider := {"agency": "be-ocmw-gent", "kind": "social_services", "jurisdiction": "BE"}
	d := decide(disclosed_by(outsider, municipality, {}))
	d.outcome == "deny"
	codes(d) == ["NOT_A_CASE_MEMBER"]
	contains(d.reasons[0].message, "be-ocmw-gent is not a member")
}

test_livcr_needs_a_case if {
	d := decide(object.union(police_request, {"case": null}))
	d.outcome == "deny"
	"CASE_REQUIRED" in codes(d)
}

test_police_information_reaches_the_cell_only_as_facts_and_level if {
	d := decide(disclosed_by(
		police, ocmw,
		{"record_type": "risk_assessment", "requester": object.union(police, {"officer": officer("secret")})},
	))
	d.outcome == "disclose"
	d.legal_basis.id == "be.livcr.2018.police_information"
	d.fields.keep == ["operational", "RiskAssessment.level"]
	not "assessment" in d.fields.keep
	"LED_ART7_ASSESSMENT_NOT_FACT" in d.conditions
}

test_police_information_needs_a_cleared_police_member if {
	d := decide(disclosed_by(police, ocmw, {"record_type": "police_observation"}))
	d.outcome == "deny"
	codes(d) == ["CLEARANCE_TOO_LOW", "CRIMINAL_OFFENCE_DATA"]
}

test_ngo_member_of_the_case_gets_the_exit_status_without_sensitive_data if {
	c := object.union(livcr_case, {"members": array.concat(livcr_case.members, ["be-ngo-exit"])})
	d := decide(disclosed_by(ocmw, ngo, {"record_type": "exit_programme_status", "purpose": "resocialisation", "case": c}))
	d.outcome == "disclose"
	d.legal_basis.id == "be.livcr.2018.ngo"
	d.fields.keep == ["direct_identifier", "quasi_identifier", "operational"]
}

test_ngo_never_gets_probation_measures if {
	c := object.union(livcr_case, {"members": array.concat(livcr_case.members, ["be-ngo-exit"])})
	d := decide(disclosed_by(justice_house, ngo, {"record_type": "probation_measures", "case": c}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS", "CRIMINAL_OFFENCE_DATA"]
}

test_prison_tells_the_police_through_the_common_database if {
	d := decide(disclosed_by(prison, police, {"record_type": "release_notice", "purpose": "risk_management", "case": null}))
	d.outcome == "disclose"
	d.legal_basis.id == "be.wpa.44_11_3ter"
	"BE_COMMON_DATABASE_NEED_TO_KNOW" in d.conditions
	not d.legal_basis.valid_until
}

test_common_database_serves_criminal_investigation if {
	d := decide(disclosed_by(prison, police, {"record_type": "release_notice", "purpose": "criminal_investigation", "case": null}))
	d.outcome == "disclose"
	d.legal_basis.id == "be.wpa.44_11_3ter"
}

test_common_database_covers_only_convicted_persons_and_suspects if {
	inp := disclosed_by(prison, police, {"record_type": "release_notice", "purpose": "risk_management", "case": null})
	d := decide(object.union(inp, {"subject": object.union(subject, {"category": "other"})}))
	d.outcome == "deny"
	codes(d) == ["SUBJECT_NOT_COVERED"]
}

test_prison_does_not_tell_the_mayor_directly if {
	d := decide(disclosed_by(prison, municipality, {"record_type": "release_notice", "purpose": "risk_management", "case": null}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}

test_police_inform_the_mayor_in_the_release_window if {
	inp := disclosed_by(police, municipality, {
		"record_type": "release_notice", "purpose": "risk_management", "case": null,
		"time": "2026-06-03T10:00:00Z",
		"subject": object.union(subject, {"in_custody": true}),
	})
	d := decide(inp)
	d.outcome == "disclose"
	d.legal_basis.id == "be.wpa.44_11_3quater"
	d.legal_basis.valid_until == "2027-09-01"
	codes(decide(object.union(inp, {"time": "2026-06-02T10:00:00Z"}))) == ["LEGAL_BASIS_NOT_YET_VALID"]
}

test_outside_the_cell_members_learn_only_whether_another_holds_something if {
	d := decide(object.union(police_request, {"action": "match", "purpose": "risk_management", "case": null}))
	d.outcome == "hit_only"
	codes(d)[0] == "HIT_ONLY_OUTSIDE_THE_CELL"
	d.fields == {"keep": [], "generalise": [], "pseudonymise": []}
}

test_every_livcr_basis_is_case_bound_and_asks_secret_of_the_police if {
	bases := data.liaison.jurisdictions.be.bases
	livcr := {id | some id, _ in bases; startswith(id, "be.livcr.")}
	count(livcr) == 5
	every id in livcr {
		bases[id].requires_case == true
		bases[id].min_clearance == "secret"
		bases[id].min_clearance_kinds == ["police"]
		"BE_ART458TER_CONSULTATION_SECRECY" in bases[id].conditions
	}
}

# --- translate and reidentify -------------------------------------------------
# The input the gateway builds for a pseudonym: no record type, no subject
# attributes (it does not know them), holder and recipient the requester.

pseudonym_input(action, agency, clearance, purpose, c) := {
	"action": action,
	"time": "2026-11-26T10:00:00.000000000Z",
	"requester": object.union(agency, {"officer": {"id": "legal-7", "roles": ["case_officer"], "clearance": clearance}}),
	"holder": agency,
	"recipient": agency,
	"subject": {"category": "", "in_custody": false, "release_date": "", "probation_until": "", "municipality": ""},
	"record_type": "",
	"purpose": purpose,
	"claimed_legal_basis": "",
	"case": c,
	"justification": "test",
}

dual_control := {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h"}

test_livcr_member_translates_into_the_cell_case if {
	every who in [[police, "secret"], [ocmw, "none"], [justice_house, "none"]] {
		d := decide(pseudonym_input("translate", who[0], who[1], "maw_case_management", livcr_case))
		d.outcome == "pseudonymise"
		d.pseudonym_domain == "case/BE-LIVCR-ANT-0007"
		d.legal_basis.id == "be.livcr.2018.translate"
		d.conditions == ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"]
	}
}

test_police_member_below_secret_does_not_translate if {
	d := decide(pseudonym_input("translate", police, "confidential", "maw_case_management", livcr_case))
	d.outcome == "deny"
	codes(d) == ["CLEARANCE_TOO_LOW"]
}

test_police_member_reidentifies_in_the_cell_under_dual_control_of_members if {
	d := decide(pseudonym_input("reidentify", police, "secret", "maw_case_management", livcr_case))
	d.outcome == "disclose"
	d.legal_basis.id == "be.livcr.2018.reidentify"
	d.approval == object.union(dual_control, {"agencies": sort(livcr_case.members)})
}

test_police_member_below_secret_does_not_reidentify if {
	d := decide(pseudonym_input("reidentify", police, "confidential", "maw_case_management", livcr_case))
	d.outcome == "deny"
	codes(d) == ["CLEARANCE_TOO_LOW"]
}

test_common_database_services_reidentify_for_risk_management if {
	every who in [police, prison, justice_house, {"agency": "be-vsse", "kind": "intelligence", "jurisdiction": "BE"}] {
		d := decide(pseudonym_input("reidentify", who, "confidential", "risk_management", null))
		d.outcome == "disclose"
		d.legal_basis.id == "be.wpa.44_11_3ter.reidentify"
		d.approval == dual_control
		d.conditions == ["BE_COMMON_DATABASE_NEED_TO_KNOW", "NO_ONWARD_DISCLOSURE"]
	}
}

test_social_services_municipality_and_ngo_do_not_reidentify if {
	every who in [ocmw, municipality, ngo] {
		every purpose in ["risk_management", "maw_case_management"] {
			d := decide(pseudonym_input("reidentify", who, "secret", purpose, livcr_case))
			d.outcome == "deny"
			codes(d) in {["NO_LEGAL_BASIS"], ["NOT_A_CASE_MEMBER"]}
		}
	}
}

test_no_reidentification_for_a_criminal_investigation if {
	d := decide(pseudonym_input("reidentify", police, "top_secret", "criminal_investigation", null))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}
