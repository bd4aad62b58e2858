# Tests of the Lower Saxony pack with the shared rules. Run: go tool opa test policies/
package liaison_test.jurisdictions.de_ni

prison := {"agency": "de-ni-jva-sehnde", "kind": "prison", "jurisdiction": "DE-NI"}

police := {"agency": "de-ni-polizei-hannover", "kind": "police", "jurisdiction": "DE-NI"}

probation := {"agency": "de-ni-ajsd-hannover", "kind": "probation", "jurisdiction": "DE-NI"}

city := {"agency": "de-ni-stadt-hannover", "kind": "local_authority", "jurisdiction": "DE-NI"}

exit_ngo := {"agency": "de-ni-ausstieg", "kind": "ngo", "jurisdiction": "DE-NI"}

bavarian_police := {"agency": "de-by-polizei-muenchen", "kind": "police", "jurisdiction": "DE-BY"}

officer := {"id": "de-ni-officer-2", "roles": [], "clearance": "confidential"}

# The prison tells the Hannover police of a release two years ahead.
release_notice := {
	"action": "notify",
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(prison, {"officer": officer}),
	"holder": prison,
	"recipient": police,
	"subject": {
		"category": "convicted", "in_custody": true, "release_date": "2028-11-01",
		"probation_until": "", "municipality": "Hannover",
	},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "Release date set by the court.",
}

# pushed(holder, recipient, patch) is a disclosure pushed by holder.
pushed(holder, recipient, patch) := object.union(
	object.union(release_notice, {"action": "disclose", "requester": object.union(holder, {"officer": officer}), "holder": holder, "recipient": recipient}),
	patch,
)

conference := {
	"id": "DE-NI-FK-2027-004",
	"members": ["de-ni-jva-sehnde", "de-ni-polizei-hannover", "de-ni-ajsd-hannover", "de-ni-stadt-hannover", "de-ni-ausstieg"],
	"lead": "de-ni-ajsd-hannover",
}

after_release := {
	"category": "convicted", "in_custody": false, "release_date": "2026-06-01",
	"probation_until": "2029-05-31", "municipality": "Hannover",
}

decide(inp) := d if {
	d := data.liaison.decision with input as inp
}

codes(d) := [r.code | some r in d.reasons]

test_police_are_involved_as_soon_as_a_release_date_is_known if {
	d := decide(release_notice)
	d.outcome == "disclose"
	d.legal_basis.id == "de_ni.njvollzg.release"
	d.legal_basis.valid_until == "2029-11-01"
}

test_no_release_date_no_release_notice if {
	d := decide(object.union(release_notice, {"subject": object.union(release_notice.subject, {"release_date": ""})}))
	d.outcome == "deny"
	codes(d) == ["CASE_REQUIRED", "RELEASE_DATE_UNKNOWN"]
}

test_prison_shares_the_risk_assessment_with_the_police_before_release if {
	d := decide(object.union(release_notice, {"record_type": "risk_assessment", "action": "disclose"}))
	d.outcome == "disclose"
	"assessment" in d.fields.keep
	"LED_ART7_ASSESSMENT_NOT_FACT" in d.conditions
}

test_prison_tells_the_municipality_only_in_the_case_conference if {
	d := decide(object.union(release_notice, {"recipient": city}))
	d.outcome == "deny"
	codes(d) == ["CASE_REQUIRED"]
	in_case := decide(object.union(release_notice, {"recipient": city, "case": conference}))
	in_case.outcome == "disclose"
	in_case.legal_basis.id == "de_ni.fallkonferenz"
}

test_case_conference_shares_the_measure_plan_with_every_member if {
	every recipient in [police, city, exit_ngo] {
		d := decide(pushed(probation, recipient, {
			"record_type": "case_plan", "purpose": "maw_case_management",
			"case": conference, "subject": after_release,
		}))
		d.outcome == "disclose"
		"DE_NI_INDIVIDUAL_MEASURE_PLAN" in d.conditions
		d.pseudonym_domain == "case/DE-NI-FK-2027-004"
	}
}

test_exit_ngo_in_the_conference_gets_no_police_observation if {
	d := decide(pushed(police, exit_ngo, {
		"record_type": "police_observation", "purpose": "maw_case_management",
		"case": conference, "subject": after_release,
	}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS", "CRIMINAL_OFFENCE_DATA"]
}

test_exit_ngo_reports_to_the_police_in_the_conference if {
	d := decide(pushed(exit_ngo, police, {
		"record_type": "exit_programme_status", "purpose": "resocialisation",
		"case": conference, "subject": after_release,
	}))
	d.outcome == "disclose"
	d.legal_basis.id == "de_ni.fallkonferenz.ngo"
	d.fields.keep == ["direct_identifier", "quasi_identifier", "operational"]
}

test_supervision_of_conduct_links_probation_and_police_until_it_ends if {
	inp := pushed(probation, police, {
		"record_type": "probation_measures", "time": "2027-02-01T10:00:00Z",
		"subject": after_release,
	})
	d := decide(inp)
	d.legal_basis.id == "de_ni.stgb.68a"
	d.legal_basis.valid_until == "2029-05-31"
	ended := decide(object.union(inp, {"time": "2029-06-01T00:00:00Z"}))
	ended.outcome == "deny"
	"LEGAL_BASIS_EXPIRED" in codes(ended)
}

test_police_share_with_bavarian_police_both_laws_allowing if {
	d := decide(pushed(police, bavarian_police, {"record_type": "police_observation"}))
	d.outcome == "disclose"
	d.legal_basis.id == "de_ni.npog.laender"
	contains(d.legal_basis.citation, "received under PAG")
	codes(d) == ["LEGAL_BASIS_APPLIES", "CROSS_BORDER"]
}

test_prison_has_no_basis_to_reach_bavarian_police if {
	d := decide(object.union(release_notice, {"recipient": bavarian_police}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}

test_statistics_are_pseudonymised if {
	d := decide(object.union(release_notice, {"action": "disclose", "purpose": "statistics"}))
	d.outcome == "pseudonymise"
	codes(d) == ["PSEUDONYMISED_FOR_STATISTICS", "NO_LEGAL_BASIS"]
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

test_conference_members_translate_into_the_case if {
	every who in [police, city, exit_ngo] {
		d := decide(pseudonym_input("translate", who, "none", "maw_case_management", conference))
		d.outcome == "pseudonymise"
		d.pseudonym_domain == "case/DE-NI-FK-2027-004"
		d.legal_basis.id == "de_ni.fallkonferenz.translate"
		"DE_NI_INDIVIDUAL_MEASURE_PLAN" in d.conditions
	}
}

test_translate_outside_the_conference_is_refused if {
	codes(decide(pseudonym_input("translate", police, "none", "maw_case_management", null))) == ["CASE_REQUIRED"]
	goettingen := {"agency": "de-ni-polizei-goettingen", "kind": "police", "jurisdiction": "DE-NI"}
	codes(decide(pseudonym_input("translate", goettingen, "none", "maw_case_management", conference))) == ["NOT_A_CASE_MEMBER"]
}

test_conference_member_reidentifies_for_risk_management if {
	every purpose in ["risk_management", "maw_case_management"] {
		d := decide(pseudonym_input("reidentify", prison, "none", purpose, conference))
		d.outcome == "disclose"
		d.legal_basis.id == "de_ni.fallkonferenz.reidentify"
		d.approval == object.union(dual_control, {"agencies": sort(conference.members)})
	}
}

test_supervision_of_conduct_reidentify_without_a_conference if {
	d := decide(pseudonym_input("reidentify", probation, "none", "risk_management", null))
	d.outcome == "disclose"
	d.legal_basis.id == "de_ni.stgb.68a.reidentify"
	d.approval == dual_control
}

test_city_and_exit_ngo_do_not_reidentify if {
	every who in [city, exit_ngo] {
		d := decide(pseudonym_input("reidentify", who, "none", "risk_management", conference))
		d.outcome == "deny"
		codes(d) == ["NO_LEGAL_BASIS"]
	}
}

test_no_reidentification_for_a_criminal_investigation if {
	d := decide(pseudonym_input("reidentify", police, "none", "criminal_investigation", conference))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}
