# Tests of the Bavarian pack with the shared rules. Run: go tool opa test policies/
package liaison_test.jurisdictions.de_by

police := {"agency": "de-by-polizei-muenchen", "kind": "police", "jurisdiction": "DE-BY"}

jugendamt := {"agency": "de-by-jugendamt-muenchen", "kind": "social_services", "jurisdiction": "DE-BY"}

counselling := {"agency": "de-by-beratung", "kind": "ngo", "jurisdiction": "DE-BY"}

prison := {"agency": "de-by-jva-stadelheim", "kind": "prison", "jurisdiction": "DE-BY"}

probation := {"agency": "de-by-bewaehrungshilfe-muenchen", "kind": "probation", "jurisdiction": "DE-BY"}

lka := {"agency": "de-by-blka", "kind": "police", "jurisdiction": "DE-BY"}

officer := {"id": "de-by-officer-5", "roles": ["family_work"], "clearance": "restricted"}

# Munich police family work tells the youth welfare office how the family
# is doing.
family_work := {
	"action": "disclose",
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(police, {"officer": officer}),
	"holder": police,
	"recipient": jugendamt,
	"subject": {
		"category": "convicted", "in_custody": true, "release_date": "2027-03-01",
		"probation_until": "", "municipality": "München",
	},
	"record_type": "family_contact",
	"purpose": "family_support",
	"claimed_legal_basis": "",
	"justification": "Family visit before release.",
}

with_(patch) := object.union(family_work, patch)

# pushed(holder, recipient, patch) is a disclosure pushed by holder.
pushed(holder, recipient, patch) := object.union(
	object.union(family_work, {"requester": object.union(holder, {"officer": officer}), "holder": holder, "recipient": recipient}),
	patch,
)

decide(inp) := d if {
	d := data.liaison.decision with input as inp
}

codes(d) := [r.code | some r in d.reasons]

test_police_family_work_shares_with_the_youth_welfare_office if {
	d := decide(family_work)
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.pag.family_work"
	d.conditions == ["DE_BY_FAMILY_WORK_ONLY", "NO_ONWARD_DISCLOSURE"]
	d.fields.keep == ["direct_identifier", "quasi_identifier", "operational"]
}

test_family_work_is_its_own_purpose_not_risk_management if {
	d := decide(with_({"purpose": "risk_management"}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}

test_family_work_may_not_feed_a_criminal_investigation if {
	d := decide(with_({"purpose": "criminal_investigation", "recipient": lka}))
	d.outcome == "deny"
	codes(d) == ["PURPOSE_PROHIBITED"]
	contains(d.reasons[0].message, "serves family support only")
}

test_the_prohibition_covers_family_contact_only if {
	d := decide(with_({"purpose": "criminal_investigation", "recipient": lka, "record_type": "police_observation"}))
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.pag.laender"
}

test_family_counselling_ngo_gets_family_contact if {
	d := decide(with_({"recipient": counselling}))
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.pag.family_work"
}

test_family_work_never_carries_criminal_offence_data if {
	d := decide(with_({"recipient": counselling, "record_type": "police_observation"}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS", "CRIMINAL_OFFENCE_DATA"]
}

test_prison_tells_the_police_180_days_before_release if {
	inp := pushed(prison, police, {"record_type": "release_notice", "purpose": "risk_management", "time": "2026-09-01T22:00:00Z"}) # midnight in Munich
	d := decide(inp)
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.baystvollzg.release"
	d.legal_basis.valid_until == "2028-02-29"
	codes(decide(object.union(inp, {"time": "2026-09-01T21:59:59Z"}))) == ["LEGAL_BASIS_NOT_YET_VALID"]
}

test_network_case_shares_the_assessment_but_not_sensitive_data if {
	c := {"id": "DE-BY-KomZ-88", "members": ["de-by-jva-stadelheim", "de-by-blka", "de-by-bewaehrungshilfe-muenchen"], "lead": "de-by-blka"}
	d := decide(pushed(prison, lka, {"record_type": "risk_assessment", "purpose": "maw_case_management", "case": c}))
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.netzwerk"
	"assessment" in d.fields.keep
	not "sensitive" in d.fields.keep
}

test_probation_and_police_cooperate_during_supervision_of_conduct if {
	d := decide(pushed(probation, police, {
		"record_type": "probation_measures", "purpose": "risk_management", "time": "2027-06-01T10:00:00Z",
		"subject": {"category": "convicted", "in_custody": false, "release_date": "2027-03-01", "probation_until": "2030-02-28", "municipality": "München"},
	}))
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.stgb.68a"
	d.legal_basis.valid_until == "2030-02-28"
}

test_bavarian_police_share_with_lower_saxony_police if {
	ni_police := {"agency": "de-ni-polizei-hannover", "kind": "police", "jurisdiction": "DE-NI"}
	d := decide(pushed(police, ni_police, {"record_type": "release_notice", "purpose": "risk_management"}))
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.pag.laender"
	"CROSS_BORDER" in codes(d)
}

test_lower_saxony_law_decides_on_lower_saxony_records if {
	ni_prison := {"agency": "de-ni-jva-sehnde", "kind": "prison", "jurisdiction": "DE-NI"}
	d := decide(pushed(ni_prison, police, {"record_type": "release_notice", "purpose": "risk_management"}))
	d.outcome == "deny"
	contains(d.reasons[0].message, "Lower Saxony law")
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

network_case := {
	"id": "DE-BY-KOMZ-0011",
	"members": ["de-by-blka", "de-by-jva-stadelheim", "de-by-bewaehrungshilfe-muenchen", "de-by-jugendamt-muenchen", "de-by-beratung"],
	"lead": "de-by-blka",
}

test_network_members_translate_into_the_case if {
	every who in [lka, jugendamt, counselling] {
		d := decide(pseudonym_input("translate", who, "none", "maw_case_management", network_case))
		d.outcome == "pseudonymise"
		d.pseudonym_domain == "case/DE-BY-KOMZ-0011"
		d.legal_basis.id == "de_by.netzwerk.translate"
	}
}

test_translate_not_for_family_work_or_investigation if {
	every purpose in ["family_support", "criminal_investigation"] {
		d := decide(pseudonym_input("translate", lka, "none", purpose, network_case))
		d.outcome == "deny"
		codes(d) == ["NO_LEGAL_BASIS"]
	}
}

test_network_member_reidentifies_in_the_case if {
	d := decide(pseudonym_input("reidentify", prison, "none", "maw_case_management", network_case))
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.netzwerk.reidentify"
	d.approval == object.union(dual_control, {"agencies": sort(network_case.members)})
}

test_supervision_of_conduct_reidentify_for_risk_management if {
	every who in [probation, police] {
		d := decide(pseudonym_input("reidentify", who, "none", "risk_management", null))
		d.outcome == "disclose"
		d.legal_basis.id == "de_by.stgb.68a.reidentify"
		d.approval == dual_control
	}
}

test_prison_reidentifies_for_risk_management_only_in_a_case if {
	d := decide(pseudonym_input("reidentify", prison, "none", "risk_management", null))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}

test_youth_welfare_and_counselling_do_not_reidentify if {
	every who in [jugendamt, counselling] {
		d := decide(pseudonym_input("reidentify", who, "none", "maw_case_management", network_case))
		d.outcome == "deny"
		codes(d) == ["NO_LEGAL_BASIS"]
	}
}

test_family_work_prohibition_does_not_reach_pseudonyms if {
	# the prohibition names family contact records; a pseudonym is no record
	d := decide(pseudonym_input("reidentify", police, "none", "criminal_investigation", null))
	codes(d) == ["NO_LEGAL_BASIS"]
}
