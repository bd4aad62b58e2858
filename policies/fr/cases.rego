# France: the multi-agency cases French law lets agencies hold, and the
# notices it requires to be acknowledged. Data only; the shared rules are
# in liaison/cases.rego and liaison/notices.rego (see policies/README.md).
package liaison.jurisdictions.fr

# case_kinds are the kinds of multi-agency case, keyed by id.
case_kinds := {
	"fr.cpraf": {
		"title": "Prevention and family-support cell (CPRAF) follow-up",
		"citation": "Cellule de prévention de la radicalisation et d'accompagnement des familles (CPRAF); Code de l'action sociale et des familles, art. L. 121-6-2 (sharing among social workers and with the mayor)",
		"lead_kinds": ["local_authority"],
		"handover_kinds": ["local_authority", "social_services"],
		"member_kinds": ["local_authority", "social_services", "ngo", "probation", "police"],
		"assumption": "Read from secondary sources: the prefecture's cell is represented by the local authority (the prefect is not an agency kind in Liaison); social services may take over the follow-up.",
	},
	"fr.ged": {
		"title": "Departmental assessment group (GED) follow-up",
		"citation": "Groupe d'évaluation départemental (GED) under the prefect; Fichier des signalements pour la prévention de la radicalisation à caractère terroriste (FSPRT)",
		"lead_kinds": ["police"],
		"handover_kinds": ["police", "intelligence"],
		"member_kinds": ["police", "intelligence", "prison", "probation"],
		"assumption": "The prefect chairs the GED and is represented here by the police (the prefect is not an agency kind in Liaison); the services of the justice chain and intelligence are its members. Read from Sénat reports, not checked against the circulars.",
	},
}

# required_notices are the notices that must be acknowledged, keyed by id.
required_notices := {
	"fr.notice.absconded.police": {
		"title": "The police learn at once that a person has absconded or broken the reporting obligations",
		"citation": "Code de procédure pénale, art. 706-25-7 (FIJAIT reporting obligations); Liaison acknowledgement rule",
		"events": ["absconded", "breach_of_conditions"],
		"recipient_kinds": ["police", "intelligence"],
		"acknowledge_within": "4h",
		"escalate_after": "1h",
		"assumption": "A Liaison safeguard: no French rule on acknowledging such a notice was found; four hours is the project's choice.",
	},
	"fr.notice.release.police": {
		"title": "The police and domestic intelligence learn of the release date, before the release",
		"citation": "Code de procédure pénale, art. 706-25-3 to 706-25-9 (FIJAIT: release and reporting obligations); Liaison acknowledgement rule",
		"events": ["release_date_set", "release_date_changed", "released", "transferred"],
		"recipient_kinds": ["police", "intelligence"],
		"acknowledge_within": "48h",
		"escalate_after": "24h",
		"before_release": true,
		"assumption": "A Liaison safeguard after the practitioners' advice that at the very least the police must be informed of the release date; the FIJAIT articles were read from secondary sources and the deadline is the project's.",
	},
}
