# METADATA
# title: Netherlands
# description: >-
#   Legal bases for exchanges of records held by Dutch agencies: case
#   consultation (casusoverleg) in the Safety House (Zorg- en
#   Veiligheidshuis) for the person-centred approach to radicalisation,
#   municipality-led, one lead agency per case. Outside a case there is no
#   basis; a pseudonymised fallback serves risk management. Data only.
# custom:
#   source: >-
#     Wpg-machtigingsbesluit persoonsgerichte aanpak voorkoming radicalisering
#     en extremisme (BWBR0039814, 2017); Kamerstukken II 36225 (Wet
#     gegevensverwerking persoonsgerichte aanpak radicalisering en
#     terroristische activiteiten), memorie van toelichting nr. 3.
package liaison.jurisdictions.nl

# code is the jurisdiction code in input.holder.jurisdiction this pack governs.
code := "NL"

# law_name is how reasons name this law to a caseworker.
law_name := "Dutch law"

# time_zone is the IANA time zone of this law's days: a deadline it sets
# in days (a notice due before the release day) falls at midnight there.
time_zone := "Europe/Amsterdam"

# prohibitions are refused whatever basis or fallback would otherwise apply.
prohibitions := []

# bases are the legal bases, keyed by id. All are bound to a case: purpose
# maw_case_management (a re-identification also risk_management),
# requester, holder and recipient all case members. Translating a
# pseudonym into the case's domain and re-identifying one rest on the same
# case consultation; outside a case neither has a basis (the fallback's
# NO_REIDENTIFICATION_WITHOUT_CASE).
# Values are literals on purpose: a pack that only holds constants costs
# nothing to evaluate.
bases := {
	"nl.zvh.casusoverleg": {
		"title": "Safety House case consultation (persoonsgerichte aanpak radicalisering), for the case's purpose only",
		"citation": "Safety House covenant, case consultation on radicalisation (casusoverleg); Wpg art. 18(2)",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "probation", "prison", "social_services", "local_authority"],
		"recipient_kinds": ["police", "probation", "prison", "social_services", "local_authority"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "family_contact", "case_plan", "police_observation"],
		"purposes": ["maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "sensitive", "assessment", "operational", "free_text"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The covenant is not itself a legal basis. Police data: Wpg art. 18(2) with the Wpg-machtigingsbesluit persoonsgerichte aanpak voorkoming radicalisering en extremisme (2017); other members: GDPR Art. 6(1)(e) with the covenant. The bill Wet gegevensverwerking persoonsgerichte aanpak radicalisering en terroristische activiteiten (Kamerstukken 36225) would codify the case consultation; its status was not checked.",
	},
	"nl.zvh.casusoverleg.from_ngo": {
		"title": "An exit-programme NGO that is a case member reports to the case",
		"citation": "Safety House covenant, case consultation on radicalisation (NGO partner)",
		"actions": ["disclose", "notify"],
		"holder_kinds": ["ngo"],
		"recipient_kinds": ["police", "probation", "prison", "social_services", "local_authority"],
		"record_types": ["exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational", "free_text"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The covenant is not itself a legal basis. Police data: Wpg art. 18(2) with the Wpg-machtigingsbesluit persoonsgerichte aanpak voorkoming radicalisering en extremisme (2017); other members: GDPR Art. 6(1)(e) with the covenant. The bill Wet gegevensverwerking persoonsgerichte aanpak radicalisering en terroristische activiteiten (Kamerstukken 36225) would codify the case consultation; its status was not checked.",
	},
	"nl.zvh.casusoverleg.ngo": {
		"title": "Safety House case consultation with an exit-programme NGO that is a case member",
		"citation": "Safety House covenant, case consultation on radicalisation (NGO partner)",
		"actions": ["disclose", "request", "notify"],
		"holder_kinds": ["police", "probation", "prison", "social_services", "local_authority", "ngo"],
		"recipient_kinds": ["ngo"],
		"record_types": ["release_notice", "exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The covenant is not itself a legal basis. Police data: Wpg art. 18(2) with the Wpg-machtigingsbesluit persoonsgerichte aanpak voorkoming radicalisering en extremisme (2017); other members: GDPR Art. 6(1)(e) with the covenant. The bill Wet gegevensverwerking persoonsgerichte aanpak radicalisering en terroristische activiteiten (Kamerstukken 36225) would codify the case consultation; its status was not checked. An NGO member gets no criminal-offence record types, no sensitive data and no free text (GDPR Art. 9 and 10, data minimisation).",
	},
	"nl.zvh.casusoverleg.translate": {
		"title": "A member of a Safety House case links its own pseudonym of a person to the case's pseudonym, to bring what it holds into the case consultation",
		"citation": "Safety House covenant, case consultation on radicalisation (casusoverleg); Wpg art. 18(2)",
		"actions": ["translate"],
		"requester_kinds": ["police", "probation", "prison", "social_services", "local_authority", "ngo"],
		"purposes": ["maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "A Liaison reading of the case consultation (covenant with Wpg art. 18(2) and the Wpg-machtigingsbesluit 2017; GDPR Art. 6(1)(e) for the other members): a member may link a person it already knows under a pseudonym to the case, since the case's members may share about that person in full. An exit-programme NGO that is a member may do so too; the translation gives a pseudonym, never an identity. Not checked with a Dutch lawyer.",
	},
	"nl.zvh.casusoverleg.reidentify": {
		"title": "A police, probation or prison member of a Safety House case has a pseudonym re-identified, under the dual control of legal officers of other members of the case",
		"citation": "Safety House covenant, case consultation on radicalisation (casusoverleg); Wpg art. 18(2)",
		"actions": ["reidentify"],
		"requester_kinds": ["police", "probation", "prison"],
		"purposes": ["risk_management", "maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h", "case_members_only": true},
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "A Liaison reading: the case consultation lets members share identities in full for the case, so within a case a member of the justice chain may have a pseudonym re-identified, for the case or for managing the risk the case is about; outside a case there is no basis (pseudonymised records carry NO_REIDENTIFICATION_WITHOUT_CASE). Dual control by two legal officers of other case members is a Liaison safeguard, not a rule of the covenant. Police data: Wpg art. 18(2) with the Wpg-machtigingsbesluit 2017; not checked with a Dutch lawyer.",
	},
}

# fallback: outside a case there is no basis. Police, probation and the
# municipality may still get a pseudonymised record for risk management,
# and learn by a match whether a holder has one (a rule of its own, whose
# words say what a match answers: whether, not what).
fallback := {
	"rules": [
		{
			"outcome": "pseudonymise",
			"actions": ["disclose", "request", "notify"],
			"holder_kinds": ["police", "probation", "prison", "social_services", "local_authority"],
			"recipient_kinds": ["police", "probation", "local_authority"],
			"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "family_contact", "case_plan", "police_observation"],
			"purposes": ["risk_management"],
			"fields": {
				"keep": ["operational", "RiskAssessment.level"],
				"generalise": ["quasi_identifier"],
				"pseudonymise": ["direct_identifier"],
				"precision": "month",
			},
			"conditions": ["NO_ONWARD_DISCLOSURE", "NO_REIDENTIFICATION_WITHOUT_CASE"],
			"reason": {
				"code": "PSEUDONYMISED_OUTSIDE_CASE",
				"message": "Outside a Safety House case there is no basis to share this record in full; it is shared pseudonymised, with only the risk level of any assessment.",
			},
			"assumption": "Sharing pseudonymised records outside a case for risk management is the project's reading, not verified with a Dutch lawyer.",
		},
		{
			"outcome": "hit_only",
			"actions": ["match"],
			"holder_kinds": ["police", "probation", "prison", "social_services", "local_authority"],
			"recipient_kinds": ["police", "probation", "local_authority"],
			"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "family_contact", "case_plan", "police_observation"],
			"purposes": ["risk_management"],
			"conditions": ["NO_ONWARD_DISCLOSURE", "NO_REIDENTIFICATION_WITHOUT_CASE"],
			"reason": {
				"code": "HIT_ONLY_OUTSIDE_CASE",
				"message": "Outside a Safety House case there is no basis to share this record; for risk management a partner may learn only whether the holder has one, and ask for it pseudonymised.",
			},
			"assumption": "Sharing pseudonymised records outside a case for risk management is the project's reading, not verified with a Dutch lawyer.",
		},
	],
}

# assumption is the pack's own: what a denial for want of a basis may rest on.
assumption := "The pack encodes the Safety House case consultation only; police-to-police and justice-chain exchanges outside a case (e.g. Wpg art. 19 and the Wjsg) are not encoded, so a denial for want of a basis may mean only that the basis is missing here."

# receipt says what Dutch agencies may receive from agencies under another
# law: the recipient's side of a cross-border exchange (both sides must
# allow). Keyed by id; optional "holder_kinds" and "from_jurisdictions"
# narrow a rule (default: any).
receipt := {
	"nl.wpg.receipt.police": {
		"citation": "Wet politiegegevens, art. 8 and 9 (processing of police data received for the police task)",
		"recipient_kinds": ["police"],
		"record_types": ["release_notice", "police_observation", "risk_assessment", "case_plan", "probation_measures"],
		"purposes": ["risk_management", "criminal_investigation", "maw_case_management"],
		"assumption": "Read as covering data received from police forces of other Member States; the articles were not checked against wetten.overheid.nl.",
	},
	"nl.wets.receipt": {
		"citation": "Wet wederzijdse erkenning en tenuitvoerlegging vrijheidsbenemende en voorwaardelijke sancties (WETS)",
		"recipient_kinds": ["prison", "probation"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],
		"purposes": ["resocialisation", "risk_management"],
		"assumption": "The Dutch transposition of Framework Decisions 2008/909 and 2008/947, read from its title; articles not checked.",
	},
	"nl.avg.receipt.social": {
		"citation": "GDPR Art. 6(1)(e) with the Wet maatschappelijke ondersteuning 2015 (municipal social support)",
		"recipient_kinds": ["social_services", "local_authority", "ngo"],
		"record_types": ["exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["resocialisation", "family_support", "maw_case_management"],
		"assumption": "A Liaison reading: municipalities and their partners receive what their social tasks need; not checked with a Dutch lawyer.",
	},
}

# practice describes how the work is organised, for the readiness report.
# It is not law and decides nothing.
practice := {
	"maw": "Safety House (Zorg- en Veiligheidshuis) case consultation on radicalisation, led by the municipality",
	"case_lead": "local_authority",
	"risk_assessors": {"before_release": "prison", "after_release": "probation"},
	"exit_programme_kinds": ["probation", "ngo"],
	"family_contact_kinds": ["local_authority", "social_services", "ngo"],
	"source": "Explanatory memorandum of bill 36225 (Kamerstukken II 36225, nr. 3) and RAN descriptions of the Dutch person-centred approach",
	"assumption": "Organisation read from secondary sources: the Reclassering (probation) assesses risk after release and runs the exit work of its TER team with the national support centre on extremism (LSE, read as an NGO); it differs between municipalities.",
}
