# Tests of data.liaison.explain (what `liaison policy simulate` shows) with
# the real packs. Run: go tool opa test policies/
package liaison_test.explain

nl_police := {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL"}

nl_probation := {"agency": "nl-probation", "kind": "probation", "jurisdiction": "NL"}

# The Rotterdam police ask probation for a risk assessment outside a case.
request := {
	"action": "request",
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(nl_police, {"officer": {"id": "o", "roles": [], "clearance": "confidential"}}),
	"holder": nl_probation,
	"recipient": nl_police,
	"subject": {"category": "convicted", "in_custody": false, "release_date": "2026-05-04", "probation_until": "2028-05-03", "municipality": "Rotterdam"},
	"record_type": "risk_assessment",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "test",
}

explain(inp) := x if {
	x := data.liaison.explain with input as inp
}

test_fallback_explained_with_its_assumption if {
	municipality := {"agency": "nl-municipality-rotterdam", "kind": "local_authority", "jurisdiction": "NL"}
	x := explain(object.union(request, {
		"requester": object.union(municipality, {"officer": {"id": "o", "roles": [], "clearance": "none"}}),
		"recipient": municipality,
	}))
	x.stage == "fallback"
	"fallback rule 0 (pseudonymise): applies and was chosen" in x.lines
	some line in x.lines
	startswith(line, "basis nl.zvh.casusoverleg: does not apply: CASE_REQUIRED")
	x.assumptions == [data.liaison.jurisdictions.nl.fallback.rules[0].assumption]
}

test_art10_block_is_explained if {
	social := {"agency": "nl-wijkteam", "kind": "social_services", "jurisdiction": "NL"}
	x := explain(object.union(request, {
		"requester": object.union(social, {"officer": {"id": "o", "roles": [], "clearance": "none"}}),
		"recipient": social, "record_type": "police_observation",
	}))
	x.stage == "no_basis"
	"fallback rule 0 (pseudonymise): does not apply" in x.lines
	x.assumptions[count(x.assumptions) - 1] == data.liaison.jurisdictions.nl.assumption
}

test_a_denial_rests_on_the_packs_completeness if {
	x := explain(object.union(request, {"purpose": "criminal_investigation"}))
	x.stage == "no_basis"
	x.decision.outcome == "deny"
	x.assumptions == [data.liaison.jurisdictions.nl.assumption]
}

test_recipient_law_refusal_rests_on_the_recipients_pack if {
	dgsi := {"agency": "fr-dgsi", "kind": "intelligence", "jurisdiction": "FR"}
	x := explain(object.union(request, {
		"requester": object.union(dgsi, {"officer": {"id": "o", "roles": [], "clearance": "secret"}}),
		"recipient": dgsi,
	}))
	x.stage == "recipient_law"
	x.assumptions == [data.liaison.jurisdictions.fr.assumption]
}

test_prohibition_and_claimed_basis_stages if {
	by_police := {"agency": "de-by-polizei", "kind": "police", "jurisdiction": "DE-BY"}
	by_lka := {"agency": "de-by-blka", "kind": "police", "jurisdiction": "DE-BY"}
	x := explain(object.union(request, {
		"action": "disclose", "holder": by_police, "recipient": by_lka,
		"requester": object.union(by_police, {"officer": {"id": "o", "roles": [], "clearance": "secret"}}),
		"record_type": "family_contact", "purpose": "criminal_investigation",
	}))
	x.stage == "prohibition"
	contains(x.assumptions[0], "purpose limitation")
	y := explain(object.union(request, {"claimed_legal_basis": "nl.zvh.casusoverleg"}))
	y.stage == "claimed_basis"
	y.assumptions[0] == data.liaison.jurisdictions.nl.bases["nl.zvh.casusoverleg"].assumption
}

# A claimed basis the pack does not have is refused on the pack's
# completeness: the pack's own assumption (a pack read from secondary
# sources may lack a basis that exists), as at stage no_basis.
test_an_unknown_claimed_basis_rests_on_the_packs_completeness if {
	x := explain(object.union(request, {"claimed_legal_basis": "nl.wpg.nonexistent"}))
	x.stage == "claimed_basis"
	x.decision.reasons[0].code == "UNKNOWN_LEGAL_BASIS"
	x.assumptions == [data.liaison.jurisdictions.nl.assumption]
}

test_a_tree_without_packs_is_explained if {
	x := data.liaison.explain with input as request with data.liaison.jurisdictions as {}
	x.stage == "validation"
	"jurisdiction pack: none for \"NL\"" in x.lines
	x.assumptions == []
}
