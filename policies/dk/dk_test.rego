# Tests of the Danish pack with the shared rules. Run: go tool opa test policies/
package liaison_test.jurisdictions.dk

# A prison tells the local police about a release (demo scenario a).
release_notice := {
	"action": "disclose",
	"time": "2026-11-26T10:00:00Z",
	"requester": {
		"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK",
		"officer": {"id": "dk-officer-17", "roles": ["release_officer"], "clearance": "confidential"},
	},
	"holder": {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK"},
	"recipient": {"agency": "dk-police-aarhus", "kind": "police", "jurisdiction": "DK"},
	"subject": {
		"category": "convicted", "in_custody": true, "release_date": "2026-12-15",
		"probation_until": "", "municipality": "Aarhus",
	},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "Release scheduled; local police to plan the first weeks.",
}

# with_ returns release_notice with the top-level fields in patch replaced.
with_(patch) := object.union(release_notice, patch)

decide(inp) := d if {
	d := data.liaison.decision with input as inp
}

codes(d) := [r.code | some r in d.reasons]

test_release_notice_to_police_is_disclosed_under_ksp if {
	d := decide(release_notice)
	d.outcome == "disclose"
	d.legal_basis.id == "dk.rpl.115.stk1.nr3"
	d.legal_basis.valid_until == "2027-12-15"
	"DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION" in d.conditions
	d.pseudonym_domain == "dk-police-aarhus/risk_management"
	"direct_identifier" in d.fields.keep
}

test_criminal_investigation_is_prohibited_by_stk2 if {
	d := decide(with_({"purpose": "criminal_investigation"}))
	d.outcome == "deny"
	codes(d) == ["PURPOSE_PROHIBITED"]
	contains(d.reasons[0].message, "§ 115, stk. 2")
	not d.legal_basis
}

test_criminal_investigation_is_prohibited_even_as_hit_only if {
	d := decide(object.union(with_({"action": "match", "purpose": "criminal_investigation"}), {
		"requester": object.union(release_notice.requester, {"agency": "dk-police-aarhus", "kind": "police"}),
	}))
	d.outcome == "deny"
	codes(d) == ["PURPOSE_PROHIBITED"]
}

# Every § 115 basis carries the stk. 2 condition; the other bases are the
# LED Act's (dk.rhl.), which stk. 2 does not concern.
test_every_basis_carries_the_stk2_condition if {
	every id, b in data.liaison.jurisdictions.dk.bases {
		stk2_if_section_115(id, b)
	}
}

stk2_if_section_115(id, b) if {
	startswith(id, "dk.rpl.115.")
	"DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION" in b.conditions
}

stk2_if_section_115(id, _) if startswith(id, "dk.rhl.")

test_every_basis_states_its_unverified_reading if {
	every b in data.liaison.jurisdictions.dk.bases {
		contains(b.assumption, "not checked against retsinformation.dk")
	}
}

test_every_disclosure_carries_the_stk2_condition if {
	inputs := [
		release_notice,
		with_({"record_type": "risk_assessment", "purpose": "resocialisation"}),
		with_({"record_type": "exit_programme_status", "purpose": "family_support"}),
	]
	every inp in inputs {
		d := decide(inp)
		d.outcome == "disclose"
		"DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION" in d.conditions
	}
}

# The window's days are Danish days: 18 June 2026 begins at 22:00 UTC the
# day before (summer time), 16 December 2027 at 23:00 UTC the day before.
test_release_window_opens_180_days_before_release if {
	d := decide(with_({"time": "2026-06-17T21:59:59Z"}))
	d.outcome == "deny"
	codes(d) == ["LEGAL_BASIS_NOT_YET_VALID", "PROBATION_END_UNKNOWN", "SUBJECT_NOT_COVERED"]
	decide(with_({"time": "2026-06-17T22:00:00Z"})).outcome == "disclose"
}

test_release_window_closes_365_days_after_release if {
	decide(with_({"time": "2027-12-15T22:59:59Z"})).outcome == "disclose"
	d := decide(with_({"time": "2027-12-15T23:00:00Z"}))
	d.outcome == "deny"
	"LEGAL_BASIS_EXPIRED" in codes(d)
}

test_supervision_basis_runs_until_probation_ends if {
	on_probation := object.union(with_({"time": "2028-03-01T09:00:00Z"}), {"subject": object.union(
		release_notice.subject,
		{"in_custody": false, "probation_until": "2028-06-30"},
	)})
	d := decide(object.union(on_probation, {"record_type": "probation_measures"}))
	d.outcome == "disclose"
	d.legal_basis.id == "dk.rpl.115.stk1.nr3.supervision"
	d.legal_basis.valid_until == "2028-06-30"
}

test_police_involvement_ends_with_probation if {
	after := object.union(with_({"time": "2028-07-01T09:00:00Z", "record_type": "probation_measures"}), {"subject": object.union(
		release_notice.subject,
		{"in_custody": false, "probation_until": "2028-06-30"},
	)})
	d := decide(after)
	d.outcome == "deny"
	every code in codes(d) {
		code == "LEGAL_BASIS_EXPIRED"
	}
	some r in d.reasons
	contains(r.message, "ended on 2028-06-30")
}

test_claimed_basis_must_apply if {
	d := decide(with_({"claimed_legal_basis": "dk.rpl.115.stk1.nr1"}))
	d.outcome == "deny"
	codes(d)[0] == "CLAIMED_BASIS_NOT_APPLICABLE"
	"HOLDER_KIND_NOT_COVERED" in codes(d)
}

test_supervision_starts_at_release if {
	inp := object.union(with_({"record_type": "probation_measures"}), {"subject": object.union(release_notice.subject, {"probation_until": "2028-06-30"})})
	d := decide(object.union(inp, {"claimed_legal_basis": "dk.rpl.115.stk1.nr3.supervision"}))
	d.outcome == "deny"
	codes(d) == ["CLAIMED_BASIS_NOT_APPLICABLE", "SUBJECT_NOT_COVERED"]
}

test_claimed_basis_is_used_when_it_applies if {
	inp := object.union(with_({"claimed_legal_basis": "dk.rpl.115.stk1.nr3.supervision", "time": "2027-01-10T10:00:00Z"}), {"subject": object.union(
		release_notice.subject,
		{"probation_until": "2028-06-30", "in_custody": false},
	)})
	decide(inp).legal_basis.id == "dk.rpl.115.stk1.nr3.supervision"
	decide(object.union(inp, {"claimed_legal_basis": ""})).legal_basis.id == "dk.rpl.115.stk1.nr3"
}

test_exit_ngo_gets_exit_programme_status_without_assessments if {
	d := decide(object.union(with_({"record_type": "exit_programme_status", "purpose": "resocialisation"}), {
		"recipient": {"agency": "dk-exit-ngo", "kind": "ngo", "jurisdiction": "DK"},
	}))
	d.outcome == "disclose"
	d.legal_basis.id == "dk.rpl.115.stk3"
	d.fields.keep == ["direct_identifier", "quasi_identifier", "operational"]
}

test_ngo_never_gets_police_observations_without_a_basis if {
	d := decide(object.union(with_({"record_type": "police_observation"}), {
		"recipient": {"agency": "dk-exit-ngo", "kind": "ngo", "jurisdiction": "DK"},
	}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS", "CRIMINAL_OFFENCE_DATA"]
}

test_intelligence_has_no_section_115_basis if {
	d := decide(object.union(release_notice, {"recipient": {"agency": "dk-pet", "kind": "intelligence", "jurisdiction": "DK"}}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
	contains(d.reasons[0].message, "with an intelligence service")
}

test_statistics_only_pseudonymised if {
	d := decide(with_({"purpose": "statistics"}))
	d.outcome == "pseudonymise"
	d.fields.precision == "year"
	d.fields.pseudonymise == ["direct_identifier"]
	d.pseudonym_domain == "dk-police-aarhus/statistics"
	codes(d) == ["PSEUDONYMISED_FOR_STATISTICS", "NO_LEGAL_BASIS"]
}

test_match_by_police_is_hit_only if {
	d := decide(object.union(with_({"action": "match"}), {
		"requester": object.union(release_notice.requester, {"agency": "dk-police-aarhus", "kind": "police"}),
	}))
	d.outcome == "hit_only"
	d.legal_basis.id == "dk.rpl.115.stk1.nr3"
	d.fields == {"keep": [], "generalise": [], "pseudonymise": []}
	d.pseudonym_domain == "dk-police-aarhus/risk_management"
}

nl_police := {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL"}

# The person moves to the Netherlands: the prison tells the Dutch police
# under the LED Act (no EU instrument carries it; the basis names NL).
test_release_notice_to_the_police_abroad_under_the_led_act if {
	d := decide(object.union(release_notice, {"recipient": nl_police}))
	d.outcome == "disclose"
	d.legal_basis.id == "dk.rhl.release_abroad"
	d.conditions == ["NO_ONWARD_DISCLOSURE"]
	not "sensitive" in d.fields.keep
	not "free_text" in d.fields.keep
	"CROSS_BORDER" in codes(d)
}

test_no_channel_for_a_prison_release_notice_to_foreign_police_for_a_case if {
	d := decide(object.union(release_notice, {"recipient": nl_police, "purpose": "maw_case_management"}))
	d.outcome == "deny"
	codes(d) == ["NO_CROSS_BORDER_CHANNEL"]
}

test_release_notice_abroad_only_in_the_release_window if {
	d := decide(object.union(release_notice, {"recipient": nl_police, "time": "2028-01-10T10:00:00Z"}))
	d.outcome == "deny"
}

# The Dutch police ask for the risk assessment: the level, not the person.
test_risk_assessment_to_the_police_abroad_pseudonymised if {
	d := decide(object.union(release_notice, {
		"action": "request", "record_type": "risk_assessment", "recipient": nl_police,
		"requester": object.union(nl_police, {"officer": {"id": "nl-officer-3", "roles": ["case_officer"], "clearance": "restricted"}}),
	}))
	d.outcome == "pseudonymise"
	codes(d)[0] == "PSEUDONYMISED_ACROSS_BORDER"
	d.fields.keep == ["operational", "RiskAssessment.level"]
	d.fields.pseudonymise == ["direct_identifier"]
	"LED_ART7_ASSESSMENT_NOT_FACT" in d.conditions
}

test_risk_assessment_to_danish_police_is_not_pseudonymised_across_border if {
	d := decide(object.union(release_notice, {
		"action": "request", "record_type": "risk_assessment",
		"requester": object.union(release_notice.recipient, {"officer": {"id": "dk-officer-9", "roles": ["case_officer"], "clearance": "restricted"}}),
	}))
	d.outcome == "disclose"
	d.legal_basis.id == "dk.rpl.115.stk1.nr3"
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

dk_police := {"agency": "dk-police-aarhus", "kind": "police", "jurisdiction": "DK"}

dk_prison := {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK"}

dk_social := {"agency": "dk-aarhus-social", "kind": "social_services", "jurisdiction": "DK"}

dk_ngo := {"agency": "dk-ngo-exit", "kind": "ngo", "jurisdiction": "DK"}

ksp_case := {"id": "DK-KSP-AAR-0003", "members": ["dk-police-aarhus", "dk-prison-east", "dk-aarhus-social"], "lead": "dk-police-aarhus"}

test_police_reidentify_for_risk_management_under_ksp if {
	every who in [dk_police, dk_prison] {
		d := decide(pseudonym_input("reidentify", who, "confidential", "risk_management", null))
		d.outcome == "disclose"
		d.legal_basis.id == "dk.rpl.115.stk1.nr3.reidentify"
		d.approval == dual_control
		d.conditions == ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"]
		d.fields.keep == ["Person.subject_id"]
	}
}

test_reidentify_for_a_criminal_investigation_is_prohibited if {
	every action in ["reidentify", "translate"] {
		d := decide(pseudonym_input(action, dk_police, "confidential", "criminal_investigation", ksp_case))
		d.outcome == "deny"
		codes(d) == ["PURPOSE_PROHIBITED"]
	}
}

test_social_services_and_ngos_do_not_reidentify if {
	every who in [dk_social, dk_ngo] {
		d := decide(pseudonym_input("reidentify", who, "none", "risk_management", null))
		d.outcome == "deny"
		codes(d) == ["NO_LEGAL_BASIS"]
		d.reasons[0].message == sprintf("No legal basis in Danish law lets %s re-identify a pseudonym for risk management.", [{"social_services": "social services", "ngo": "an NGO"}[who.kind]])
	}
}

test_reidentify_only_for_risk_management if {
	d := decide(pseudonym_input("reidentify", dk_police, "confidential", "resocialisation", ksp_case))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}

test_ksp_partner_translates_into_the_case if {
	every who in [dk_police, dk_social] {
		d := decide(pseudonym_input("translate", who, "none", "maw_case_management", ksp_case))
		d.outcome == "pseudonymise"
		d.pseudonym_domain == "case/DK-KSP-AAR-0003"
		d.legal_basis.id == "dk.rpl.115.stk1.nr3.translate"
		"DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION" in d.conditions
		not d.approval
	}
}

test_translate_needs_a_case_and_membership if {
	codes(decide(pseudonym_input("translate", dk_police, "none", "maw_case_management", null))) == ["CASE_REQUIRED"]
	codes(decide(pseudonym_input("translate", {"agency": "dk-probation-aarhus", "kind": "probation", "jurisdiction": "DK"}, "none", "risk_management", ksp_case))) == ["NOT_A_CASE_MEMBER"]
}

test_ngo_does_not_translate if {
	c := object.union(ksp_case, {"members": array.concat(ksp_case.members, ["dk-ngo-exit"])})
	d := decide(pseudonym_input("translate", dk_ngo, "none", "resocialisation", c))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS"]
}
