# METADATA
# title: Bavaria (Germany)
# description: >-
#   Legal bases for exchanges of records held by agencies in Bavaria: the
#   prison tells the police and the probation service of a release;
#   supervision of conduct (Führungsaufsicht) links the supervision office,
#   the probation service and the police while it lasts; the case
#   management of the Bavarian network for prevention and deradicalisation
#   shares within a case; police family work (Munich) is a purpose of its
#   own: what it learns serves family support and may not be used to
#   investigate. Police forces of the Länder exchange with each other.
#   Data only.
# custom:
#   source: >-
#     Bayerisches Polizeiaufgabengesetz (PAG) Art. 2 and the transmission
#     provisions; Bayerisches Strafvollzugsgesetz (BayStVollzG); StGB §§ 68a,
#     68b and StPO § 463a; RAN descriptions of Munich police family work and
#     of the Kompetenzzentrum für Deradikalisierung at the Bavarian State
#     Criminal Police Office. Articles not checked against
#     gesetze-bayern.de.
package liaison.jurisdictions.de_by

# code is the jurisdiction code in input.holder.jurisdiction this pack governs.
code := "DE-BY"

# law_name is how reasons name this law to a caseworker.
law_name := "Bavarian law"

# time_zone is the IANA time zone of this law's days: a deadline it sets
# in days (a notice due before the release day) falls at midnight there.
time_zone := "Europe/Berlin"

# assumption is the pack's own: what a denial for want of a basis may rest on.
assumption := "The pack encodes the release notice, supervision of conduct, the deradicalisation network's case management, police family work and police exchange between the Länder only, read from secondary sources, so a denial for want of a basis may mean only that the basis is missing here."

# prohibitions are refused whatever basis or fallback would otherwise apply.
# Police family work is a purpose of its own: family contact records may
# not be turned to a criminal investigation.
prohibitions := [
	{
		"id": "de_by.pag.family_work.purpose",
		"citation": "PAG Art. 2 with the purpose limitation of police family work",
		"purposes": ["criminal_investigation"],
		"record_types": ["family_contact"],
		"message": "What police family work learns from and about the family serves family support only and may not be used to investigate a criminal case",
		"assumption": "A Liaison reading of the purpose limitation the Munich police family work relies on for the families' trust; Bavarian law may allow a change of purpose (PAG, hypothetical re-collection) that this pack deliberately does not encode.",
	},
]

# bases are the legal bases, keyed by id. Translating a pseudonym into a
# case's domain rests on the network's case management; re-identifying one
# on it within a case, or on supervision of conduct for risk management.
# Values are literals on purpose: a pack that only holds constants costs
# nothing to evaluate.
bases := {
	"de_by.baystvollzg.release": {
		"title": "The prison tells the police and the probation service of an upcoming release",
		"citation": "Bayerisches Strafvollzugsgesetz (BayStVollzG), transmission of personal data to the police and the probation service before release (Art. 197 ff.)",
		"actions": ["disclose", "notify", "request", "match"],
		"holder_kinds": ["prison"],
		"recipient_kinds": ["police", "probation"],
		"record_types": ["release_notice", "risk_assessment", "exit_programme_status", "case_plan"],
		"purposes": ["risk_management", "resocialisation"],
		"subject": {"categories": ["convicted"]},
		"validity": {"type": "release_window", "days_before": 180, "days_after": 365},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "sensitive", "assessment", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["NO_ONWARD_DISCLOSURE"],
		"assumption": "BayStVollzG articles read from secondary sources; not checked. The window of 180 days before to 365 days after release is a Liaison choice.",
	},
	"de_by.stgb.68a": {
		"title": "Supervision of conduct (Führungsaufsicht): the supervision office, the probation service and the police co-operate while it lasts",
		"citation": "StGB §§ 68a and 68b, StPO § 463a (Führungsaufsicht)",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["probation", "police"],
		"recipient_kinds": ["probation", "police"],
		"record_types": ["probation_measures", "risk_assessment", "case_plan", "police_observation"],
		"purposes": ["risk_management", "resocialisation"],
		"subject": {"categories": ["convicted"], "in_custody": false},
		"validity": {"type": "probation"},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "sensitive", "assessment", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["NO_ONWARD_DISCLOSURE"],
		"assumption": "Federal law read from secondary sources; probation_until stands for the end of the supervision of conduct. Police involvement through this basis ends when it ends.",
	},
	"de_by.netzwerk": {
		"title": "Case management of the Bavarian network for prevention and deradicalisation (Kompetenzzentrum für Deradikalisierung)",
		"citation": "Bayerisches Netzwerk für Prävention und Deradikalisierung, case management of the Kompetenzzentrum für Deradikalisierung at the Bayerisches Landeskriminalamt; PAG and BayStVollzG transmission provisions",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "prison", "probation", "local_authority", "social_services"],
		"recipient_kinds": ["police", "prison", "probation", "local_authority", "social_services"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "family_contact", "case_plan", "police_observation"],
		"purposes": ["maw_case_management", "resocialisation"],
		"validity": {"type": "none"},
		"requires_case": true,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "assessment", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The network is an administrative arrangement, not a statute; each member relies on its own transmission provisions, read from secondary sources. Sensitive data and free text are left out as not necessary.",
	},
	"de_by.netzwerk.ngo": {
		"title": "An exit-counselling organisation (e.g. the state-funded counselling service) that is a member of the network's case",
		"citation": "Bayerisches Netzwerk für Prävention und Deradikalisierung, with the person's consent or the NGO's contract with the State",
		"actions": ["disclose", "request", "notify"],
		"holder_kinds": ["police", "prison", "probation", "local_authority", "social_services", "ngo"],
		"recipient_kinds": ["police", "prison", "probation", "local_authority", "social_services", "ngo"],
		"record_types": ["exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["maw_case_management", "resocialisation"],
		"validity": {"type": "none"},
		"requires_case": true,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources: exit counselling in Bavaria is done by an NGO under contract with the State; whether sharing rests on consent or on the contract was not checked. An NGO gets no criminal-offence record types, no sensitive data and no free text (GDPR Art. 9 and 10).",
	},
	"de_by.netzwerk.translate": {
		"title": "A member of a case of the network's case management links its own pseudonym of a person to the case's pseudonym",
		"citation": "Bayerisches Netzwerk für Prävention und Deradikalisierung, case management of the Kompetenzzentrum für Deradikalisierung at the Bayerisches Landeskriminalamt; PAG and BayStVollzG transmission provisions",
		"actions": ["translate"],
		"requester_kinds": ["police", "prison", "probation", "local_authority", "social_services", "ngo"],
		"purposes": ["maw_case_management", "resocialisation"],
		"validity": {"type": "none"},
		"requires_case": true,
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The network is an administrative arrangement, not a statute; each member relies on its own transmission provisions, read from secondary sources. A Liaison reading: members share about the person of a case, so a member (the exit-counselling NGO included) may link its pseudonym of that person to the case. The translation gives a pseudonym, never an identity.",
	},
	"de_by.netzwerk.reidentify": {
		"title": "A police, prison or probation member of a network case has a pseudonym re-identified for the case, under the dual control of legal officers of other members of the case",
		"citation": "Bayerisches Netzwerk für Prävention und Deradikalisierung, case management of the Kompetenzzentrum für Deradikalisierung at the Bayerisches Landeskriminalamt; PAG and BayStVollzG transmission provisions",
		"actions": ["reidentify"],
		"requester_kinds": ["police", "prison", "probation"],
		"purposes": ["maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h", "case_members_only": true},
		"conditions": ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The network is an administrative arrangement, not a statute; each member relies on its own transmission provisions, read from secondary sources. A Liaison reading: members share identities for the case, so a member of the justice chain may have a pseudonym re-identified for it. Dual control is a Liaison safeguard, not in the law.",
	},
	"de_by.pag.family_work": {
		"title": "Police family work (Munich): police officers in contact with the family of a radicalised person work with social services, the municipality and family counselling, for family support only",
		"citation": "Bayerisches Polizeiaufgabengesetz (PAG) Art. 2 (prevention) with the transmission provisions to public and private bodies",
		"actions": ["disclose", "request", "notify"],
		"holder_kinds": ["police", "social_services", "local_authority", "ngo"],
		"recipient_kinds": ["police", "social_services", "local_authority", "ngo"],
		"record_types": ["family_contact", "case_plan", "exit_programme_status"],
		"purposes": ["family_support"],
		"validity": {"type": "none"},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["DE_BY_FAMILY_WORK_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Police family work in Munich is described in RAN material; that PAG Art. 2 and the transmission provisions carry it, and that it needs no case, are Liaison readings. Criminal-offence record types are left out.",
	},
	"de_by.stgb.68a.reidentify": {
		"title": "The probation service or the police have a pseudonym re-identified for risk management during supervision of conduct, under the dual control of legal officers of other agencies",
		"citation": "StGB §§ 68a and 68b, StPO § 463a (Führungsaufsicht)",
		"actions": ["reidentify"],
		"requester_kinds": ["probation", "police"],
		"purposes": ["risk_management"],
		"validity": {"type": "none"},
		"requires_case": false,
		"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h"},
		"conditions": ["NO_ONWARD_DISCLOSURE"],
		"assumption": "Federal law read from secondary sources. A Liaison reading: the supervision office, the probation service and the police share identities while supervision of conduct lasts, so they may have a pseudonym re-identified for risk management. The gateway does not know the person behind a pseudonym, so that they are under supervision of conduct is not checked here: the approving legal officers must check it. Dual control is a Liaison safeguard, not in the law.",
	},
	"de_by.pag.laender": {
		"title": "Police forces of the Länder exchange information to avert danger",
		"citation": "Bayerisches Polizeiaufgabengesetz (PAG), transmission to other police authorities, with BKAG § 3 (co-operation of the Länder police forces)",
		"actions": ["disclose", "notify", "request", "match"],
		"holder_kinds": ["police"],
		"recipient_kinds": ["police"],
		"recipient_jurisdictions": ["DE-BY", "DE-NI"],
		"record_types": ["release_notice", "police_observation", "risk_assessment", "case_plan", "probation_measures"],
		"purposes": ["risk_management", "criminal_investigation"],
		"validity": {"type": "none"},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "sensitive", "assessment", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["NO_ONWARD_DISCLOSURE"],
		"assumption": "The PAG transmission article was not identified; read from secondary sources as allowing transmission to police forces of other Länder on the same terms as within Bavaria.",
	},
}

# fallback says what may still be shared where no basis applies.
fallback := {
	"rules": [
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
			"assumption": "GDPR Art. 89 with the Bavarian Data Protection Act read as allowing pseudonymised sharing for statistics; unverified.",
		},
	],
}

# receipt says what Bavarian agencies may receive from agencies under
# another law: the recipient's side of a cross-border exchange.
receipt := {
	"de_by.receipt.police": {
		"citation": "PAG (processing of data received from other police forces) with IRG §§ 92 ff. (information from EU Member States)",
		"recipient_kinds": ["police"],
		"record_types": ["release_notice", "police_observation", "risk_assessment", "case_plan", "probation_measures"],
		"purposes": ["risk_management", "criminal_investigation"],
		"assumption": "Articles read from secondary sources; not checked.",
	},
	"de_by.receipt.mutual_recognition": {
		"citation": "IRG §§ 84 ff. (custodial sentences, Framework Decision 2008/909) and §§ 90a ff. (probation, Framework Decision 2008/947)",
		"recipient_kinds": ["prison", "probation"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],
		"purposes": ["resocialisation", "risk_management"],
		"assumption": "The federal transpositions identified from secondary sources; sections not checked.",
	},
	"de_by.receipt.social": {
		"citation": "GDPR Art. 6(1)(e) with SGB X § 67a ff. (social data)",
		"recipient_kinds": ["social_services", "local_authority", "ngo"],
		"record_types": ["exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["resocialisation", "family_support"],
		"assumption": "A Liaison reading; not checked.",
	},
}

# practice describes how the work is organised, for the readiness report.
# It is not law and decides nothing.
practice := {
	"maw": "Case management of the Bavarian network for prevention and deradicalisation, led by the Kompetenzzentrum für Deradikalisierung at the Bavarian State Criminal Police Office",
	"case_lead": "police",
	"risk_assessors": {"before_release": "prison", "after_release": "probation"},
	"exit_programme_kinds": ["ngo"],
	"family_contact_kinds": ["police", "ngo", "social_services"],
	"source": "RAN descriptions of Munich police family work and of the Bavarian network for prevention and deradicalisation",
	"assumption": "Organisation read from secondary sources; police family work is described for Munich and may differ elsewhere in Bavaria.",
}
