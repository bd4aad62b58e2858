# Tests of the shared rules, with a made-up jurisdiction pack "ZZ" so that
# they do not depend on any real law. Run: go tool opa test policies/
package liaison_test

zz_pack := {
	"code": "ZZ",
	"law_name": "Zedland law",
	"prohibitions": [{
		"id": "zz.9",
		"citation": "ZZ Act § 9",
		"purposes": ["criminal_investigation"],
		"message": "Zedland forbids it",
	}],
	"bases": {
		"zz.1": {
			"title": "general basis",
			"citation": "ZZ Act § 1",
			"actions": ["disclose", "request", "match"],
			"holder_kinds": ["prison"],
			"recipient_kinds": ["police", "ngo", "social_services"],
			"record_types": ["release_notice", "case_plan", "risk_assessment"],
			"purposes": ["risk_management"],
			"validity": {"type": "none"},
			"requires_case": false,
			"fields": {
				"keep": ["direct_identifier", "operational", "assessment", "RiskAssessment.level"],
				"generalise": ["quasi_identifier"],
				"pseudonymise": [],
			},
			"conditions": ["ZZ_ONE"],
		},
		"zz.2": {
			"citation": "ZZ Act § 2",
			"actions": ["disclose"],
			"holder_kinds": ["prison"],
			"recipient_kinds": ["police"],
			"record_types": ["release_notice"],
			"purposes": ["risk_management"],
			"validity": {"type": "none"},
			"requires_case": false,
			"conditions": ["ZZ_TWO"],
			"assumption": "Unverified reading of § 2.",
		},
		"zz.probation": {
			"citation": "ZZ Act § 3",
			"actions": ["disclose"],
			"holder_kinds": ["prison"],
			"recipient_kinds": ["probation"],
			"record_types": ["probation_measures"],
			"purposes": ["resocialisation"],
			"subject": {"categories": ["convicted"], "in_custody": false},
			"validity": {"type": "probation"},
			"requires_case": false,
		},
		"zz.window": {
			"citation": "ZZ Act § 4",
			"actions": ["disclose"],
			"holder_kinds": ["prison"],
			"recipient_kinds": ["local_authority"],
			"record_types": ["release_notice"],
			"purposes": ["resocialisation"],
			"validity": {"type": "release_window", "days_before": 10, "days_after": 20},
			"requires_case": false,
		},
		"zz.case": {
			"citation": "ZZ Act § 5",
			"actions": ["disclose"],
			"holder_kinds": ["prison"],
			"recipient_kinds": ["police"],
			"record_types": ["case_plan"],
			"purposes": ["maw_case_management"],
			"validity": {"type": "none"},
			"requires_case": true,
		},
		"zz.cleared": {
			"citation": "ZZ Act § 6",
			"actions": ["disclose"],
			"holder_kinds": ["prison"],
			"recipient_kinds": ["intelligence"],
			"record_types": ["release_notice"],
			"purposes": ["risk_management"],
			"validity": {"type": "none"},
			"requires_case": false,
			"min_clearance": "secret",
		},
	},
	"fallback": {"rules": [
		{
			"outcome": "hit_only",
			"actions": ["disclose"],
			"recipient_kinds": ["police", "social_services"],
			"record_types": ["police_observation", "family_contact"],
			"purposes": ["statistics"],
			"reason": {"code": "ZZ_HIT_ONLY", "message": "Only a hit."},
		},
		{
			"outcome": "pseudonymise",
			"actions": ["disclose"],
			"recipient_kinds": ["police", "social_services"],
			"record_types": ["police_observation", "family_contact"],
			"purposes": ["statistics"],
			"reason": {"code": "ZZ_PSEUDONYMISED", "message": "Pseudonymised."},
		},
	]},
}

prison := {"agency": "zz-prison", "kind": "prison", "jurisdiction": "ZZ"}

zz_police := {"agency": "zz-police", "kind": "police", "jurisdiction": "ZZ"}

base := {
	"action": "disclose",
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(prison, {"officer": {"id": "o", "roles": [], "clearance": "restricted"}}),
	"holder": prison,
	"recipient": zz_police,
	"subject": {"category": "convicted", "in_custody": true, "release_date": "2026-12-15", "probation_until": "", "municipality": ""},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "test",
}

with_(patch) := object.union(base, patch)

to(recipient) := with_({"recipient": recipient})

zz_decide(inp) := d if {
	d := data.liaison.decision with input as inp with data.liaison.jurisdictions as {"zz": zz_pack}
}

codes(d) := [r.code | some r in d.reasons]

# --- completeness and validation -----------------------------------------

test_decision_is_defined_even_without_input if {
	d := data.liaison.decision
	d.outcome == "deny"
	"UNKNOWN_ACTION" in codes(d)
	"INVALID_TIME" in codes(d)
	"MISSING_AGENCY" in codes(d)
}

test_decision_is_defined_for_input_of_the_wrong_shape if {
	every inp in ["x", 5, [], {"action": 7, "time": false, "holder": "x", "case": 1}] {
		d := data.liaison.decision with input as inp
		d.outcome == "deny"
	}
}

test_unknown_vocabulary_is_denied_with_a_reason_each if {
	d := zz_decide(with_({"action": "delete", "record_type": "dossier", "purpose": "curiosity"}))
	d.outcome == "deny"
	codes(d) == ["UNKNOWN_ACTION", "UNKNOWN_PURPOSE", "UNKNOWN_RECORD_TYPE"]
	contains(d.reasons[0].message, `"delete" is not known`)
}

test_unknown_agency_kind_and_jurisdiction_are_denied if {
	d := zz_decide(to({"agency": "x", "kind": "army", "jurisdiction": "QQ"}))
	d.outcome == "deny"
	codes(d) == ["UNKNOWN_AGENCY_KIND", "UNKNOWN_JURISDICTION"]
}

test_known_jurisdiction_without_a_pack_is_denied if {
	fr := {"agency": "fr-dgsi", "kind": "intelligence", "jurisdiction": "FR"}
	d := zz_decide(object.union(base, {"holder": fr, "requester": fr, "recipient": fr}))
	d.outcome == "deny"
	codes(d) == ["NO_JURISDICTION_PACK"]
}

test_impossible_dates_deny_instead_of_failing if {
	d := zz_decide(with_({"time": "2026-02-29T10:00:00Z", "subject": object.union(base.subject, {"release_date": "2026-13-01"})}))
	d.outcome == "deny"
	codes(d) == ["INVALID_DATE", "INVALID_TIME"]
	zz_decide(with_({"time": "2028-02-29T10:00:00+01:00"})).outcome == "disclose"
}

test_calendar_dates if {
	every d in ["2026-12-31", "2028-02-29", "2000-02-29", "1999-04-30", "2199-01-01"] {
		data.liaison.is_date(d)
	}
	every d in ["2026-02-29", "1900-02-29", "2100-02-29", "2026-04-31", "2026-00-10", "2026-1-10", "2300-01-01", 20261231] {
		not data.liaison.is_date(d)
	}
	data.liaison.is_time("2026-11-26T10:00:00.123456789+05:30")
	not data.liaison.is_time("2026-11-26 10:00:00Z")
	not data.liaison.is_time("2026-11-26T24:00:00Z")
}

test_unknown_clearance_and_category_are_denied if {
	d := zz_decide(with_({
		"requester": object.union(prison, {"officer": {"clearance": "cosmic"}}),
		"subject": object.union(base.subject, {"category": "celebrity"}),
	}))
	codes(d) == ["UNKNOWN_CLEARANCE", "UNKNOWN_SUBJECT_CATEGORY"]
}

# --- parties, prohibitions, global rules ------------------------------------

test_only_the_holder_can_disclose if {
	d := zz_decide(with_({"requester": zz_police}))
	d.outcome == "deny"
	codes(d) == ["REQUESTER_NOT_HOLDER"]
}

test_an_agency_requests_only_for_itself if {
	d := zz_decide(with_({"action": "request"}))
	d.outcome == "deny"
	codes(d) == ["REQUESTER_NOT_RECIPIENT"]
	zz_decide(with_({"action": "request", "requester": zz_police})).outcome == "disclose"
}

test_prohibited_purpose_wins_over_any_basis if {
	d := zz_decide(with_({"purpose": "criminal_investigation"}))
	codes(d) == ["PURPOSE_PROHIBITED"]
	d.reasons[0].message == "Zedland forbids it (ZZ Act § 9)"
}

test_risk_assessment_never_goes_to_an_ngo_even_with_a_basis if {
	d := zz_decide(with_({"record_type": "risk_assessment", "recipient": {"agency": "zz-ngo", "kind": "ngo", "jurisdiction": "ZZ"}}))
	d.outcome == "deny"
	codes(d) == ["ASSESSMENT_TO_NGO"]
}

test_ngo_never_gets_assessment_fields_in_clear if {
	d := zz_decide(with_({"record_type": "case_plan", "recipient": {"agency": "zz-ngo", "kind": "ngo", "jurisdiction": "ZZ"}}))
	d.outcome == "disclose"
	d.fields.keep == ["direct_identifier", "operational"]
	codes(d) == ["LEGAL_BASIS_APPLIES", "ASSESSMENT_WITHHELD_FROM_NGO"]
}

# --- choosing a legal basis -------------------------------------------------

test_lowest_applicable_basis_id_is_chosen if {
	d := zz_decide(base)
	d.outcome == "disclose"
	d.legal_basis == {"id": "zz.1", "citation": "ZZ Act § 1"}
	d.conditions == ["ZZ_ONE"]
	d.pseudonym_domain == "zz-police/risk_management"
	d.fields == {
		"keep": ["direct_identifier", "operational", "assessment", "RiskAssessment.level"],
		"generalise": ["quasi_identifier"],
		"pseudonymise": [],
	}
}

test_claimed_basis_is_preferred if {
	d := zz_decide(with_({"claimed_legal_basis": "zz.2"}))
	d.legal_basis == {"id": "zz.2", "citation": "ZZ Act § 2", "assumption": "Unverified reading of § 2."}
	d.conditions == ["ZZ_TWO"]
	"free_text" in d.fields.keep # no fields in the basis: full disclosure
}

test_unknown_claimed_basis_is_denied if {
	d := zz_decide(with_({"claimed_legal_basis": "zz.99"}))
	codes(d) == ["UNKNOWN_LEGAL_BASIS"]
}

test_inapplicable_claimed_basis_is_denied_even_if_another_applies if {
	d := zz_decide(with_({"claimed_legal_basis": "zz.case"}))
	d.outcome == "deny"
	codes(d) == ["CLAIMED_BASIS_NOT_APPLICABLE", "CASE_REQUIRED", "PURPOSE_NOT_COVERED", "RECORD_TYPE_NOT_COVERED"]
}

test_match_never_returns_content if {
	d := zz_decide(with_({"action": "match", "requester": zz_police}))
	d.outcome == "hit_only"
	d.legal_basis.id == "zz.1"
	d.fields == {"keep": [], "generalise": [], "pseudonymise": []}
}

# --- validity ----------------------------------------------------------------

on_probation(until, now) := with_({
	"time": now,
	"recipient": {"agency": "zz-probation", "kind": "probation", "jurisdiction": "ZZ"},
	"record_type": "probation_measures",
	"purpose": "resocialisation",
	"subject": object.union(base.subject, {"in_custody": false, "probation_until": until}),
})

test_probation_basis_lasts_through_its_last_day if {
	d := zz_decide(on_probation("2027-03-31", "2027-03-31T23:59:59Z"))
	d.outcome == "disclose"
	d.legal_basis.valid_until == "2027-03-31"
}

test_probation_basis_expires_the_day_after if {
	d := zz_decide(on_probation("2027-03-31", "2027-04-01T00:00:00Z"))
	d.outcome == "deny"
	codes(d) == ["LEGAL_BASIS_EXPIRED"]
}

test_probation_basis_needs_an_end_date if {
	codes(zz_decide(on_probation("", "2027-01-01T00:00:00Z"))) == ["PROBATION_END_UNKNOWN"]
}

test_subject_conditions_are_checked if {
	inp := on_probation("2027-03-31", "2027-01-01T00:00:00Z")
	d := zz_decide(object.union(inp, {"subject": object.union(inp.subject, {"in_custody": true, "category": "suspect"})}))
	d.outcome == "deny"
	codes(d) == ["SUBJECT_NOT_COVERED"]
	d.reasons[0].message == "ZZ Act § 3 covers only subjects in the categories convicted and not in custody."
}

window(now) := with_({
	"time": now,
	"recipient": {"agency": "zz-town", "kind": "local_authority", "jurisdiction": "ZZ"},
	"purpose": "resocialisation",
})

test_release_window_bounds if {
	codes(zz_decide(window("2026-12-04T23:59:59Z"))) == ["LEGAL_BASIS_NOT_YET_VALID"]
	zz_decide(window("2026-12-05T00:00:00Z")).legal_basis == {"id": "zz.window", "citation": "ZZ Act § 4", "valid_until": "2027-01-04"}
	zz_decide(window("2027-01-04T23:59:59Z")).outcome == "disclose"
	codes(zz_decide(window("2027-01-05T00:00:00Z"))) == ["LEGAL_BASIS_EXPIRED"]
}

test_time_zone_offsets_are_respected if {
	# 2027-01-05T00:30+01:00 is still 2027-01-04 in UTC
	zz_decide(window("2027-01-05T00:30:00+01:00")).outcome == "disclose"
}

# A validity's days are the days of the law that sets it, those of the
# holder's pack's time_zone (UTC for a pack that names none, as ZZ):
# valid until D is in force to the end of D there, and a window begins at
# the start of its first day there. In Copenhagen a day ends at 23:00 UTC
# in winter and 22:00 UTC in summer; on a day the clocks change, at the
# offset of the day that follows; in New York at 05:00 UTC the next day.
zz_decide_under(tz, inp) := d if {
	d := data.liaison.decision with input as inp with data.liaison.jurisdictions as {"zz": object.union(zz_pack, {"time_zone": tz})}
}

test_probation_ends_at_midnight_where_the_law_is if {
	d := zz_decide_under("Europe/Copenhagen", on_probation("2027-03-01", "2027-03-01T22:30:00Z")) # 23:30 on 1 March there
	d.outcome == "disclose"
	d.legal_basis.valid_until == "2027-03-01"
	zz_decide_under("Europe/Copenhagen", on_probation("2027-03-01", "2027-03-01T22:59:59.999999999Z")).outcome == "disclose"
	codes(zz_decide_under("Europe/Copenhagen", on_probation("2027-03-01", "2027-03-01T23:00:00Z"))) == ["LEGAL_BASIS_EXPIRED"]
	codes(zz_decide_under("Europe/Copenhagen", on_probation("2027-03-01", "2027-03-01T23:30:00Z"))) == ["LEGAL_BASIS_EXPIRED"] # 00:30 on 2 March there
	codes(zz_decide_under("Europe/Copenhagen", on_probation("2027-03-01", "2027-03-02T00:30:00+01:00"))) == ["LEGAL_BASIS_EXPIRED"]

	# summer time
	zz_decide_under("Europe/Copenhagen", on_probation("2027-07-01", "2027-07-01T21:59:59Z")).outcome == "disclose"
	codes(zz_decide_under("Europe/Copenhagen", on_probation("2027-07-01", "2027-07-01T22:00:00Z"))) == ["LEGAL_BASIS_EXPIRED"]

	# the clocks go forward on 28 March 2027 and back on 31 October
	zz_decide_under("Europe/Copenhagen", on_probation("2027-03-27", "2027-03-27T22:59:59Z")).outcome == "disclose"
	codes(zz_decide_under("Europe/Copenhagen", on_probation("2027-03-27", "2027-03-27T23:00:00Z"))) == ["LEGAL_BASIS_EXPIRED"]
	zz_decide_under("Europe/Copenhagen", on_probation("2027-03-28", "2027-03-28T21:59:59Z")).outcome == "disclose"
	codes(zz_decide_under("Europe/Copenhagen", on_probation("2027-03-28", "2027-03-28T22:00:00Z"))) == ["LEGAL_BASIS_EXPIRED"]
	zz_decide_under("Europe/Copenhagen", on_probation("2027-10-31", "2027-10-31T22:59:59Z")).outcome == "disclose"
	codes(zz_decide_under("Europe/Copenhagen", on_probation("2027-10-31", "2027-10-31T23:00:00Z"))) == ["LEGAL_BASIS_EXPIRED"]

	# west of Greenwich the day ends after midnight UTC
	zz_decide_under("America/New_York", on_probation("2027-03-01", "2027-03-02T04:59:59Z")).outcome == "disclose"
	codes(zz_decide_under("America/New_York", on_probation("2027-03-01", "2027-03-02T05:00:00Z"))) == ["LEGAL_BASIS_EXPIRED"]
}

test_release_window_runs_on_the_days_of_its_law if {
	# 10 days before the release on 15 December 2026 to 20 days after it:
	# from 00:00 on 5 December to the end of 4 January in Copenhagen
	codes(zz_decide_under("Europe/Copenhagen", window("2026-12-04T22:59:59Z"))) == ["LEGAL_BASIS_NOT_YET_VALID"]
	d := zz_decide_under("Europe/Copenhagen", window("2026-12-04T23:00:00Z"))
	d.legal_basis == {"id": "zz.window", "citation": "ZZ Act § 4", "valid_until": "2027-01-04"}
	zz_decide_under("Europe/Copenhagen", window("2027-01-04T22:59:59Z")).outcome == "disclose"
	codes(zz_decide_under("Europe/Copenhagen", window("2027-01-04T23:00:00Z"))) == ["LEGAL_BASIS_EXPIRED"]

	# 2027-01-05T00:30+01:00 is 5 January in Copenhagen, whatever day it is in UTC
	codes(zz_decide_under("Europe/Copenhagen", window("2027-01-05T00:30:00+01:00"))) == ["LEGAL_BASIS_EXPIRED"]
	zz_decide_under("America/New_York", window("2027-01-05T04:59:59Z")).outcome == "disclose"
}

test_the_explanation_reads_the_days_of_the_law if {
	packs := {"zz": object.union(zz_pack, {"time_zone": "Europe/Copenhagen"})}
	before := data.liaison.explain with input as on_probation("2027-03-01", "2027-03-01T22:30:00Z") with data.liaison.jurisdictions as packs
	"basis zz.probation: applies and was chosen" in before.lines
	after := data.liaison.explain with input as on_probation("2027-03-01", "2027-03-01T23:30:00Z") with data.liaison.jurisdictions as packs
	after.decision.outcome == "deny"
	some line in after.lines
	startswith(line, "basis zz.probation: does not apply: LEGAL_BASIS_EXPIRED (ZZ Act § 3 applied only while the subject was on probation, which ended on 2027-03-01.)")
}

# --- cases and clearance -----------------------------------------------------

case_plan(c) := with_({"record_type": "case_plan", "purpose": "maw_case_management", "case": c})

test_case_basis_uses_the_case_pseudonym_domain if {
	d := zz_decide(case_plan({"id": "ZZ-1", "members": ["zz-prison", "zz-police"], "lead": "zz-police"}))
	d.outcome == "disclose"
	d.pseudonym_domain == "case/ZZ-1"
}

# A requester_status outside lead, member, invited and none makes the case,
# and so the exchange, malformed (INVALID_CASE), as a clearance or category
# outside its set does; one of the set, or none given, is read as before.
test_case_requester_status_outside_the_set_is_invalid if {
	c := {"id": "ZZ-1", "members": ["zz-prison", "zz-police"], "lead": "zz-police"}
	zz_decide(case_plan(object.union(c, {"requester_status": "member"}))).outcome == "disclose"
	zz_decide(case_plan(object.union(c, {"requester_status": null}))).outcome == "disclose"
	every s in ["bogus", "Member", "", 7] {
		d := zz_decide(case_plan(object.union(c, {"requester_status": s})))
		d.outcome == "deny"
		codes(d) == ["INVALID_CASE"]
	}
}

test_case_basis_needs_every_party_in_the_case if {
	d := zz_decide(case_plan({"id": "ZZ-1", "members": ["zz-prison", "zz-town"], "lead": "zz-town"}))
	d.outcome == "deny"
	codes(d) == ["NOT_A_CASE_MEMBER"]
	endswith(d.reasons[0].message, "; zz-police is not a member.")
}

test_clearance_below_the_basis_minimum_is_denied if {
	pet := {"agency": "zz-intel", "kind": "intelligence", "jurisdiction": "ZZ"}
	d := zz_decide(to(pet))
	codes(d) == ["CLEARANCE_TOO_LOW"]
	zz_decide(with_({"recipient": pet, "requester": object.union(prison, {"officer": {"clearance": "top_secret"}})})).outcome == "disclose"
}

# --- fallback ------------------------------------------------------------------

test_fallback_picks_the_most_revealing_rule if {
	d := zz_decide(with_({"record_type": "family_contact", "purpose": "statistics"}))
	d.outcome == "pseudonymise"
	d.fields == {"keep": ["operational"], "generalise": ["quasi_identifier"], "pseudonymise": ["direct_identifier"], "precision": "month"}
	codes(d) == ["ZZ_PSEUDONYMISED", "NO_LEGAL_BASIS"]
	not d.legal_basis
}

test_art10_keeps_criminal_offence_data_from_social_services if {
	social := {"agency": "zz-social", "kind": "social_services", "jurisdiction": "ZZ"}
	d := zz_decide(with_({"recipient": social, "record_type": "police_observation", "purpose": "statistics"}))
	d.outcome == "deny"
	codes(d) == ["NO_LEGAL_BASIS", "CRIMINAL_OFFENCE_DATA"]
	zz_decide(with_({"recipient": social, "record_type": "family_contact", "purpose": "statistics"})).outcome == "pseudonymise"
}

test_denials_carry_no_content_and_no_pseudonym_domain if {
	d := zz_decide(with_({"purpose": "family_support"}))
	d == {
		"outcome": "deny",
		"fields": {"keep": [], "generalise": [], "pseudonymise": []},
		"conditions": [],
		"reasons": [{"code": "NO_LEGAL_BASIS", "message": "No legal basis in Zedland law lets the prison service share a release notice with the police for family support."}],
	}
}

# --- explain -------------------------------------------------------------------

test_explain_names_the_chosen_basis_and_the_rejected_ones if {
	e := data.liaison.explain with input as base with data.liaison.jurisdictions as {"zz": zz_pack}
	e.stage == "legal_basis"
	e.decision.outcome == "disclose"
	"basis zz.1: applies and was chosen" in e.lines
	"basis zz.2: applies" in e.lines
	some line in e.lines
	startswith(line, "basis zz.case: does not apply: CASE_REQUIRED")
}

# --- translate and reidentify --------------------------------------------------

zz_pseudonym_pack := object.union(zz_pack, {
	"prohibitions": array.concat(zz_pack.prohibitions, [{
		"id": "zz.10",
		"citation": "ZZ Act § 10",
		"purposes": ["statistics"],
		"record_types": ["case_plan"],
		"message": "Zedland forbids case plans for statistics",
	}]),
	"bases": object.union(zz_pack.bases, {
		"zz.translate": {
			"citation": "ZZ Act § 7",
			"actions": ["translate"],
			"requester_kinds": ["police", "ngo"],
			"purposes": ["maw_case_management", "statistics", "criminal_investigation"],
			"validity": {"type": "none"},
			"requires_case": true,
			"conditions": ["ZZ_CASE"],
		},
		"zz.reidentify": {
			"citation": "ZZ Act § 8",
			"actions": ["reidentify"],
			"requester_kinds": ["police"],
			"purposes": ["risk_management"],
			"validity": {"type": "none"},
			"requires_case": false,
			"approval": {"quorum": 1, "roles": ["judge"], "agencies": ["zz-court"], "expires_after": "30m"},
		},
		"zz.reidentify.case": {
			"citation": "ZZ Act § 8a",
			"actions": ["reidentify"],
			"requester_kinds": ["police"],
			"purposes": ["maw_case_management"],
			"validity": {"type": "none"},
			"requires_case": true,
			"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h", "case_members_only": true},
		},
	}),
})

zz_pseudonym(action, purpose, c) := {
	"action": action,
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(zz_police, {"officer": {"id": "o", "roles": [], "clearance": "restricted"}}),
	"holder": zz_police,
	"recipient": zz_police,
	"subject": {"category": "", "in_custody": false, "release_date": "", "probation_until": "", "municipality": ""},
	"record_type": "",
	"purpose": purpose,
	"claimed_legal_basis": "",
	"case": c,
	"justification": "test",
}

zz_case := {"id": "K1", "members": ["zz-police", "zz-prison"], "lead": "zz-prison"}

zz_p_decide(inp) := d if {
	d := data.liaison.decision with input as inp with data.liaison.jurisdictions as {"zz": zz_pseudonym_pack}
}

test_translate_gives_a_pseudonym_in_the_case_domain if {
	d := zz_p_decide(zz_pseudonym("translate", "maw_case_management", zz_case))
	d.outcome == "pseudonymise"
	d.pseudonym_domain == "case/K1"
	d.legal_basis == {"id": "zz.translate", "citation": "ZZ Act § 7"}
	d.conditions == ["ZZ_CASE"]
	d.fields == {"keep": [], "generalise": [], "pseudonymise": ["Person.subject_id"]}
	not d.approval
}

test_reidentify_carries_the_basis_approval if {
	d := zz_p_decide(zz_pseudonym("reidentify", "risk_management", null))
	d.outcome == "disclose"
	d.legal_basis.id == "zz.reidentify"
	d.approval == {"quorum": 1, "roles": ["judge"], "agencies": ["zz-court"], "other_agency": false, "expires_after": "30m"}
	d.pseudonym_domain == "zz-police/risk_management"
}

test_reidentify_approvers_from_the_case if {
	d := zz_p_decide(zz_pseudonym("reidentify", "maw_case_management", zz_case))
	d.approval.agencies == ["zz-police", "zz-prison"]
	d.approval.other_agency == true
}

test_a_prohibition_for_all_records_reaches_pseudonyms if {
	d := zz_p_decide(zz_pseudonym("translate", "criminal_investigation", zz_case))
	codes(d) == ["PURPOSE_PROHIBITED"]
}

test_a_prohibition_for_some_record_types_does_not_reach_pseudonyms if {
	d := zz_p_decide(zz_pseudonym("translate", "statistics", zz_case))
	d.outcome == "pseudonymise"
}

test_a_pseudonym_is_translated_only_by_its_holder if {
	d := zz_p_decide(object.union(zz_pseudonym("translate", "maw_case_management", zz_case), {"holder": prison}))
	codes(d) == ["REQUESTER_NOT_HOLDER"]
	d.reasons[0].message == "An agency can translate a pseudonym only if it holds that pseudonym itself; zz-police is not the holder zz-prison."
}

test_pseudonym_requests_are_checked_against_requester_kinds if {
	prison_requester := object.union(zz_pseudonym("reidentify", "risk_management", null), {
		"requester": object.union(prison, {"officer": {"id": "o", "roles": [], "clearance": "restricted"}}),
		"holder": prison, "recipient": prison, "claimed_legal_basis": "zz.reidentify",
	})
	d := zz_p_decide(prison_requester)
	codes(d) == ["CLAIMED_BASIS_NOT_APPLICABLE", "REQUESTER_KIND_NOT_COVERED"]
	d.reasons[1].message == "ZZ Act § 8 does not let the prison service re-identify a pseudonym."
	codes(zz_p_decide(object.union(prison_requester, {"claimed_legal_basis": ""}))) == ["NO_LEGAL_BASIS"]
}

test_a_record_basis_does_not_cover_pseudonyms if {
	d := zz_p_decide(object.union(zz_pseudonym("reidentify", "risk_management", null), {"claimed_legal_basis": "zz.1"}))
	codes(d) == ["CLAIMED_BASIS_NOT_APPLICABLE", "ACTION_NOT_COVERED"]
}

test_translate_needs_the_case_and_its_membership if {
	codes(zz_p_decide(zz_pseudonym("translate", "maw_case_management", null))) == ["CASE_REQUIRED"]
	other := object.union(zz_case, {"members": ["zz-prison"]})
	codes(zz_p_decide(zz_pseudonym("translate", "maw_case_management", other))) == ["NOT_A_CASE_MEMBER"]
}
