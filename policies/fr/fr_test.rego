# Tests of the French pack with the shared rules. Run: go tool opa test policies/
package liaison_test.jurisdictions.fr

prison := {"agency": "fr-qer-fleury", "kind": "prison", "jurisdiction": "FR"}

dgsi := {"agency": "fr-dgsi", "kind": "intelligence", "jurisdiction": "FR"}

police := {"agency": "fr-police-lyon", "kind": "police", "jurisdiction": "FR"}

spip := {"agency": "fr-spip-rhone", "kind": "probation", "jurisdiction": "FR"}

mayor := {"agency": "fr-mairie-lyon", "kind": "local_authority", "jurisdiction": "FR"}

association := {"agency": "fr-pairs-lyon", "kind": "ngo", "jurisdiction": "FR"}

social := {"agency": "fr-ase-rhone", "kind": "social_services", "jurisdiction": "FR"}

officer(clearance) := {"id": "fr-officer-3", "roles": [], "clearance": clearance}

subject := {
	"category": "convicted", "in_custody": true, "release_date": "2027-01-15",
	"probation_until": "2029-01-15", "municipality": "Lyon",
}

# The DGSI asks the prison intelligence service for a QER assessment.
dgsi_request := {
	"action": "request",
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(dgsi, {"officer": officer("secret")}),
	"holder": prison,
	"recipient": dgsi,
	"subject": subject,
	"record_type": "risk_assessment",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "QER synthesis before release.",
}

# requested_by(agency, patch) is dgsi_request made by (and for) agency.
requested_by(agency, patch) := object.union(
	object.union(dgsi_request, {"requester": object.union(agency, {"officer": officer("confidential")}), "recipient": agency}),
	patch,
)

# disclosed(holder, recipient, patch) is a disclosure pushed by holder.
disclosed(holder, recipient, patch) := object.union(
	object.union(dgsi_request, {
		"action": "disclose",
		"requester": object.union(holder, {"officer": officer("confidential")}),
		"holder": holder,
		"recipient": recipient,
	}),
	patch,
)

ged_case := {"id": "FR-GED-69-0112", "members": ["fr-police-lyon", "fr-qer-fleury", "fr-spip-rhone", "fr-dgsi"], "lead": "fr-police-lyon"}

decide(inp) := d if {
	d := data.liaison.decision with input as inp
}

codes(d) := [r.code | some r in d.reasons]

test_domestic_intelligence_gets_the_qer_assessment_in_full if {
	d := decide(dgsi_request)
	d.outcome == "disclose"
	d.legal_basis.id == "fr.csi.l863_2"
	"assessment" in d.fields.keep
	"free_text" in d.fields.keep
	d.conditions == ["FR_INTELLIGENCE_PURPOSES_ONLY", "LED_ART7_ASSESSMENT_NOT_FACT", "NO_ONWARD_DISCLOSURE"]
}

test_intelligence_officer_needs_secret_clearance if {
	d := decide(object.union(dgsi_request, {"requester": object.union(dgsi, {"officer": officer("confidential")})}))
	d.outcome == "deny"
	codes(d) == ["CASE_REQUIRED", "CLEARANCE_TOO_LOW"]
}

test_police_outside_the_ged_learn_only_that_an_assessment_exists if {
	d := decide(requested_by(police, {}))
	d.outcome == "hit_only"

	# the GED would give more, but only within a case
	codes(d) == ["HIT_ONLY_OUTSIDE_THE_GED", "CASE_REQUIRED"]
	d.fields == {"keep": [], "generalise": [], "pseudonymise": []}
}

test_police_in_the_ged_get_the_level_not_the_assessment if {
	d := decide(requested_by(police, {"purpose": "maw_case_management", "case": ged_case}))
	d.outcome == "disclose"
	d.legal_basis.id == "fr.ged"
	d.fields.keep == ["direct_identifier", "quasi_identifier", "operational", "RiskAssessment.level"]
	not "assessment" in d.fields.keep
	d.pseudonym_domain == "case/FR-GED-69-0112"
}

test_intelligence_in_the_ged_still_gets_the_full_assessment_for_risk_management if {
	d := decide(object.union(dgsi_request, {"case": ged_case}))
	d.legal_basis.id == "fr.csi.l863_2"
	"assessment" in d.fields.keep
}

test_ged_covers_only_convicted_persons_and_suspects if {
	d := decide(requested_by(police, {
		"purpose": "maw_case_management", "case": ged_case,
		"subject": object.union(subject, {"category": "victim"}),
	}))
	d.outcome == "deny"
	codes(d) == ["SUBJECT_NOT_COVERED"]
}

test_mayor_learns_only_that_a_release_notice_exists if {
	d := decide(requested_by(mayor, {"record_type": "release_notice"}))
	d.outcome == "hit_only"
	codes(d)[0] == "HIT_ONLY_OUTSIDE_THE_GED"
}

test_police_get_the_release_notice_in_the_fijait_window if {
	inp := disclosed(prison, police, {"record_type": "release_notice", "action": "notify", "time": "2026-10-17T08:00:00Z"})
	d := decide(inp)
	d.outcome == "disclose"
	d.legal_basis.id == "fr.cpp.706_25_9"
	d.legal_basis.valid_until == "2028-01-15"
	d.fields.keep == ["direct_identifier", "quasi_identifier", "operational"]
	before := decide(object.union(inp, {"time": "2026-10-16T08:00:00Z"}))
	before.outcome == "hit_only"
	codes(before) == ["HIT_ONLY_OUTSIDE_THE_GED", "CASE_REQUIRED", "LEGAL_BASIS_NOT_YET_VALID"]
}

test_association_runs_pairs_with_the_spip_while_the_measure_lasts if {
	inp := disclosed(spip, association, {
		"record_type": "probation_measures", "purpose": "resocialisation", "time": "2027-03-01T10:00:00Z",
		"subject": object.union(subject, {"in_custody": false}),
	})
	d := decide(inp)
	d.outcome == "disclose"
	d.legal_basis.id == "fr.cpp.706_25_16"
	d.legal_basis.valid_until == "2029-01-15"
	"FR_REINTEGRATION_PROGRAMME_ONLY" in d.conditions
	after := decide(object.union(inp, {"time": "2029-01-16T10:00:00Z"}))
	after.outcome == "deny"
	codes(after) == ["LEGAL_BASIS_EXPIRED", "CRIMINAL_OFFENCE_DATA"]
}

test_pairs_association_never_gets_the_assessment if {
	d := decide(disclosed(spip, association, {"record_type": "risk_assessment", "purpose": "resocialisation"}))
	d.outcome == "deny"
	codes(d) == ["ASSESSMENT_TO_NGO"]
}

test_cpraf_shares_family_contact_with_social_services_in_the_case if {
	cpraf := {"id": "FR-CPRAF-69-31", "members": ["fr-mairie-lyon", "fr-ase-rhone", "fr-pairs-lyon"], "lead": "fr-mairie-lyon"}
	d := decide(disclosed(mayor, social, {"record_type": "family_contact", "purpose": "family_support", "case": cpraf}))
	d.outcome == "disclose"
	d.legal_basis.id == "fr.cpraf"
	"FR_SHARED_PROFESSIONAL_SECRECY" in d.conditions
}

test_cpraf_gives_the_police_nothing if {
	cpraf := {"id": "FR-CPRAF-69-31", "members": ["fr-mairie-lyon", "fr-police-lyon"], "lead": "fr-mairie-lyon"}
	d := decide(disclosed(mayor, police, {"record_type": "family_contact", "purpose": "family_support", "case": cpraf}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}

test_no_basis_lets_intelligence_results_reach_social_services if {
	d := decide(disclosed(prison, social, {"record_type": "police_observation"}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS", "CRIMINAL_OFFENCE_DATA"]
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

cpraf_case := {"id": "FR-CPRAF-69-0040", "members": ["fr-mairie-lyon", "fr-ase-rhone", "fr-pairs-lyon", "fr-spip-rhone"], "lead": "fr-mairie-lyon"}

test_ged_partners_translate_into_the_ged_case if {
	every who in [police, dgsi, spip] {
		d := decide(pseudonym_input("translate", who, "secret", "risk_management", ged_case))
		d.outcome == "pseudonymise"
		d.pseudonym_domain == "case/FR-GED-69-0112"
		d.legal_basis.id == "fr.ged.translate"
	}
}

test_cpraf_members_translate_into_the_cpraf_case if {
	every who in [mayor, social, association] {
		d := decide(pseudonym_input("translate", who, "none", "family_support", cpraf_case))
		d.outcome == "pseudonymise"
		d.legal_basis.id == "fr.cpraf.translate"
		"FR_SHARED_PROFESSIONAL_SECRECY" in d.conditions
	}
}

test_police_translate_nothing_into_the_cpraf if {
	c := object.union(cpraf_case, {"members": array.concat(cpraf_case.members, ["fr-police-lyon"])})
	d := decide(pseudonym_input("translate", police, "secret", "family_support", c))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}

test_ged_partner_reidentifies_under_dual_control_of_partners if {
	every who in [police, dgsi, prison, spip] {
		d := decide(pseudonym_input("reidentify", who, "secret", "risk_management", ged_case))
		d.outcome == "disclose"
		d.legal_basis.id == "fr.ged.reidentify"
		d.approval == object.union(dual_control, {"agencies": sort(ged_case.members)})
	}
}

test_reidentify_outside_the_ged_is_refused if {
	d := decide(pseudonym_input("reidentify", police, "secret", "risk_management", null))
	d.outcome == "deny"
	codes(d) == ["CASE_REQUIRED"]
}

test_social_partners_do_not_reidentify if {
	every who in [mayor, social, association] {
		d := decide(pseudonym_input("reidentify", who, "none", "family_support", cpraf_case))
		d.outcome == "deny"
		codes(d) == ["NO_LEGAL_BASIS"]
	}
}

test_no_reidentification_for_a_criminal_investigation if {
	d := decide(pseudonym_input("reidentify", dgsi, "top_secret", "criminal_investigation", ged_case))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}
