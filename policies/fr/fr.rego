# METADATA
# title: France
# description: >-
#   Legal bases for exchanges of records held by French agencies: the
#   results of the prison service's radicalisation assessment units (QER)
#   go in full to domestic intelligence, through the prison intelligence
#   service (exchange between intelligence services, CSI art. L. 863-2);
#   the police and the other partners of the prefect's departmental
#   assessment group (GED) get less (the level, not the assessment); the
#   prefect's prevention and family-support cell (CPRAF) and the PAIRS
#   reintegration programme get what their work needs. Data only.
# custom:
#   source: >-
#     Code de la sécurité intérieure art. L. 863-2 and R. 811-2; Code de
#     procédure pénale art. 706-25-3 ff. (FIJAIT) and 706-25-16 (mesure
#     judiciaire de prévention de la récidive terroriste et de réinsertion,
#     loi n° 2021-998); reports of the Contrôleur général des lieux de
#     privation de liberté and of the Sénat on the QER and the FSPRT;
#     circulars on the GED and CPRAF. Not checked on Légifrance.
package liaison.jurisdictions.fr

# code is the jurisdiction code in input.holder.jurisdiction this pack governs.
code := "FR"

# law_name is how reasons name this law to a caseworker.
law_name := "French law"

# time_zone is the IANA time zone of this law's days: a deadline it sets
# in days (a notice due before the release day) falls at midnight there.
time_zone := "Europe/Paris"

# assumption is the pack's own: what a denial for want of a basis may rest on.
assumption := "The pack encodes the exchanges around the QER, the GED, the CPRAF, the FIJAIT and the PAIRS programme only, read from secondary sources, so a denial for want of a basis may mean only that the basis is missing here."

# prohibitions are refused whatever basis or fallback would otherwise apply.
prohibitions := []

# bases are the legal bases, keyed by id. Translating a pseudonym into a
# case's domain rests on the GED (security follow-up) or the CPRAF (social
# follow-up); re-identifying one on the GED only. Values are literals on
# purpose: a pack that only holds constants costs nothing to evaluate.
bases := {
	"fr.csi.l863_2": {
		"title": "The prison intelligence service passes the results of the radicalisation assessment units (QER) to domestic intelligence (exchange between intelligence services)",
		"citation": "Code de la sécurité intérieure, art. L. 863-2 (sharing between intelligence services) and R. 811-2 (prison intelligence as an intelligence service)",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["prison", "intelligence"],
		"recipient_kinds": ["intelligence"],
		"record_types": ["risk_assessment", "release_notice", "police_observation", "exit_programme_status", "probation_measures", "case_plan"],
		"purposes": ["risk_management"],
		"validity": {"type": "none"},
		"requires_case": false,
		"min_clearance": "secret",
		"min_clearance_kinds": ["intelligence"],
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "sensitive", "assessment", "operational", "free_text"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["FR_INTELLIGENCE_PURPOSES_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources: the QER syntheses are drawn up by the prison administration and passed by its intelligence service (SNRP, a 'second circle' service under R. 811-2) to the DGSI under L. 863-2. Holder kind 'prison' stands for the SNRP; the agency registry must register only it. The clearance of an intelligence officer who asks (secret de la défense nationale) is a Liaison reading.",
	},
	"fr.cpp.706_25_9": {
		"title": "Police and intelligence services learn of the release of a person registered for terrorist offences (FIJAIT), so that they can follow the reporting obligations",
		"citation": "Code de procédure pénale, art. 706-25-3 to 706-25-9 (FIJAIT: release and reporting obligations; consultation by police and intelligence services)",
		"actions": ["disclose", "notify", "request", "match"],
		"holder_kinds": ["prison", "probation"],
		"recipient_kinds": ["police", "intelligence"],
		"record_types": ["release_notice", "probation_measures"],
		"purposes": ["risk_management"],
		"subject": {"categories": ["convicted"]},
		"validity": {"type": "release_window", "days_before": 90, "days_after": 365},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources: the FIJAIT records the release and the address and reporting obligations of persons convicted of terrorist offences, and police, gendarmerie and intelligence services consult it. That the prison and probation services tell them directly, and the window of 90 days before to 365 days after release, are Liaison readings; the FIJAIT itself keeps the data far longer.",
	},
	"fr.ged": {
		"title": "Departmental assessment group (GED) chaired by the prefect: follow-up of a person registered in the FSPRT; partners other than intelligence get the level of an assessment, not the assessment",
		"citation": "Groupe d'évaluation départemental (GED) under the prefect; Fichier des signalements pour la prévention de la radicalisation à caractère terroriste (FSPRT)",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "intelligence", "prison", "probation"],
		"recipient_kinds": ["police", "prison", "probation", "intelligence"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "police_observation", "case_plan"],
		"purposes": ["maw_case_management", "risk_management"],
		"subject": {"categories": ["convicted", "suspect"]},
		"validity": {"type": "none"},
		"requires_case": true,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational", "RiskAssessment.level"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The GED and the FSPRT rest on ministerial circulars and a decree not published in full; their members (police, gendarmerie, territorial intelligence, DGSI, prison intelligence, the SPIP) and the rule that only intelligence gets full assessments are read from Sénat reports. The case (input.case) stands for the GED's follow-up of one person.",
	},
	"fr.ged.translate": {
		"title": "A partner of the GED links its own pseudonym of a person to the pseudonym of the GED's follow-up of that person",
		"citation": "Groupe d'évaluation départemental (GED) under the prefect; Fichier des signalements pour la prévention de la radicalisation à caractère terroriste (FSPRT)",
		"actions": ["translate"],
		"requester_kinds": ["police", "intelligence", "prison", "probation"],
		"purposes": ["maw_case_management", "risk_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The GED and the FSPRT rest on ministerial circulars and a decree not published in full, read from Sénat reports. A Liaison reading: the GED's partners follow a named person, so a partner may link its pseudonym of that person to the GED's case. The translation gives a pseudonym, never an identity.",
	},
	"fr.ged.reidentify": {
		"title": "A partner of the GED has a pseudonym re-identified for the follow-up, under the dual control of legal officers of other partners",
		"citation": "Groupe d'évaluation départemental (GED) under the prefect; Fichier des signalements pour la prévention de la radicalisation à caractère terroriste (FSPRT)",
		"actions": ["reidentify"],
		"requester_kinds": ["police", "intelligence", "prison", "probation"],
		"purposes": ["risk_management", "maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h", "case_members_only": true},
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The GED and the FSPRT rest on ministerial circulars and a decree not published in full, read from Sénat reports. A Liaison reading: the GED's partners share the identity of the person they follow (not the full assessment), so a partner may have a pseudonym re-identified for the follow-up. Outside the GED the police learn only that something is held, so there is no re-identification there; intelligence services receive identities in full under L. 863-2 and need none. Dual control is a Liaison safeguard, not in the law.",
	},
	"fr.cpraf": {
		"title": "The prefect's cell for the prevention of radicalisation and support of families (CPRAF): social and family follow-up",
		"citation": "Cellule de prévention de la radicalisation et d'accompagnement des familles (CPRAF); Code de l'action sociale et des familles, art. L. 121-6-2 (sharing among social workers and with the mayor)",
		"actions": ["disclose", "request", "notify"],
		"holder_kinds": ["local_authority", "social_services", "ngo", "probation", "police"],
		"recipient_kinds": ["local_authority", "social_services", "ngo", "probation"],
		"record_types": ["family_contact", "exit_programme_status", "case_plan"],
		"purposes": ["family_support", "resocialisation"],
		"validity": {"type": "none"},
		"requires_case": true,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["CASE_PURPOSE_ONLY", "FR_SHARED_PROFESSIONAL_SECRECY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The CPRAF rest on circulars (2014, national prevention plan of 2018); that L. 121-6-2 CASF covers sharing inside the cell is a Liaison reading. The police may bring family matters in but receive nothing here: security follow-up belongs to the GED.",
	},
	"fr.cpraf.translate": {
		"title": "A member of the CPRAF links its own pseudonym of a person to the pseudonym of the cell's follow-up of that person or family",
		"citation": "Cellule de prévention de la radicalisation et d'accompagnement des familles (CPRAF); Code de l'action sociale et des familles, art. L. 121-6-2 (sharing among social workers and with the mayor)",
		"actions": ["translate"],
		"requester_kinds": ["local_authority", "social_services", "ngo", "probation"],
		"purposes": ["family_support", "resocialisation"],
		"validity": {"type": "none"},
		"requires_case": true,
		"conditions": ["CASE_PURPOSE_ONLY", "FR_SHARED_PROFESSIONAL_SECRECY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The CPRAF rest on circulars; that L. 121-6-2 CASF covers sharing inside the cell is a Liaison reading. So is linking a member's pseudonym of a person to the cell's case. The police receive nothing in the CPRAF and translate nothing into it; the translation gives a pseudonym, never an identity.",
	},
	"fr.cpp.706_25_16": {
		"title": "Reintegration programme (PAIRS) run by an association for the prison and probation service, for a person under a judicial measure for the prevention of terrorist reoffending and reintegration",
		"citation": "Code de procédure pénale, art. 706-25-16 (mesure judiciaire de prévention de la récidive terroriste et de réinsertion, loi n° 2021-998 du 30 juillet 2021)",
		"actions": ["disclose", "request", "notify"],
		"holder_kinds": ["probation", "ngo"],
		"recipient_kinds": ["probation", "ngo"],
		"record_types": ["exit_programme_status", "case_plan", "probation_measures", "family_contact"],
		"purposes": ["resocialisation"],
		"subject": {"categories": ["convicted"], "in_custody": false},
		"validity": {"type": "probation"},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["FR_REINTEGRATION_PROGRAMME_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources: the SPIP entrusts the PAIRS programme to an association by contract; probation_until stands for the end of the measure or of the sentence's supervision. This basis names the NGO, so probation measures may reach it (GDPR Art. 10).",
	},
}

# fallback says what may still be shared where no basis applies. "Other
# partners get less": outside the GED the police and the mayor learn only
# that the prison or probation service holds something.
fallback := {
	"rules": [
		{
			"outcome": "hit_only",
			"actions": ["request", "match", "notify"],
			"holder_kinds": ["prison", "probation"],
			"recipient_kinds": ["police", "local_authority"],
			"record_types": ["risk_assessment", "release_notice"],
			"purposes": ["risk_management"],
			"conditions": ["NO_ONWARD_DISCLOSURE"],
			"reason": {
				"code": "HIT_ONLY_OUTSIDE_THE_GED",
				"message": "Outside the prefect's assessment group the police and the mayor learn only that the prison or probation service holds an assessment or release notice, so that they can ask the prefect to put the person on the group's agenda.",
			},
			"assumption": "A Liaison reading of the GED circulars.",
		},
		{
			"outcome": "pseudonymise",
			"actions": ["disclose", "request"],
			"holder_kinds": ["police", "prison", "probation", "social_services", "local_authority"],
			"recipient_kinds": ["police", "prison", "probation", "social_services", "local_authority"],
			"record_types": ["release_notice", "exit_programme_status", "case_plan"],
			"purposes": ["statistics"],
			"fields": {
				"keep": ["operational"],
				"generalise": ["quasi_identifier"],
				"pseudonymise": ["direct_identifier"],
				"precision": "year",
			},
			"conditions": ["NO_ONWARD_DISCLOSURE", "STATISTICS_ONLY"],
			"reason": {
				"code": "PSEUDONYMISED_FOR_STATISTICS",
				"message": "Records may be shared for statistics only pseudonymised, with dates coarsened to the year.",
			},
			"assumption": "GDPR Art. 89 with the loi Informatique et Libertés read as allowing pseudonymised sharing for statistics; unverified.",
		},
	],
}

# receipt says what French agencies may receive from agencies under another
# law: the recipient's side of a cross-border exchange.
receipt := {
	"fr.cpp.receipt.police": {
		"citation": "Code de procédure pénale, art. 695-9-31 ff. (exchange of information with law enforcement services of other Member States)",
		"recipient_kinds": ["police"],
		"record_types": ["release_notice", "police_observation", "risk_assessment", "case_plan", "probation_measures"],
		"purposes": ["risk_management", "criminal_investigation"],
		"assumption": "The transposition of Framework Decision 2006/960 identified from secondary sources; articles not checked.",
	},
	"fr.cpp.receipt.mutual_recognition": {
		"citation": "Code de procédure pénale, art. 728-10 ff. (custodial sentences, Framework Decision 2008/909) and 764-1 ff. (probation, Framework Decision 2008/947)",
		"recipient_kinds": ["prison", "probation"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],
		"purposes": ["resocialisation", "risk_management"],
		"assumption": "The transpositions (loi n° 2013-711) identified from secondary sources; articles not checked.",
	},
	"fr.gdpr.receipt.social": {
		"citation": "GDPR Art. 6(1)(e) with the Code de l'action sociale et des familles",
		"recipient_kinds": ["social_services", "local_authority", "ngo"],
		"record_types": ["exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["resocialisation", "family_support"],
		"assumption": "A Liaison reading; not checked.",
	},
}

# practice describes how the work is organised, for the readiness report.
# It is not law and decides nothing.
practice := {
	"maw": "Departmental assessment group (GED) chaired by the prefect for security follow-up; prevention and family-support cell (CPRAF) for social follow-up",
	"case_lead": "police",
	"risk_assessors": {"before_release": "prison", "after_release": "probation"},
	"exit_programme_kinds": ["ngo", "probation"],
	"family_contact_kinds": ["social_services", "ngo", "local_authority"],
	"source": "Sénat and CGLPL reports on the QER and the PAIRS programme; the national plan for preventing radicalisation (PNPR, 2018)",
	"assumption": "Organisation read from secondary sources: the prefect (not an agency kind in Liaison) chairs the GED, represented here by the police; the QER assess before release and the SPIP (probation) after; PAIRS is run by associations.",
}
