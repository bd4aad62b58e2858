# METADATA
# title: Lower Saxony (Germany)
# description: >-
#   Legal bases for exchanges of records held by agencies in Lower Saxony:
#   the prison tells the police and the supervision services from the
#   moment a release date is known; a case conference (Fallkonferenz) of
#   the agencies agrees an individual measure plan; supervision of conduct
#   (Führungsaufsicht) links the supervision office, the probation service
#   and the police while it lasts; police forces of the Länder exchange
#   with each other. Data only.
# custom:
#   source: >-
#     Niedersächsisches Justizvollzugsgesetz (NJVollzG); Niedersächsisches
#     Polizei- und Ordnungsbehördengesetz (NPOG); StGB §§ 68a, 68b and StPO
#     § 463a (Führungsaufsicht); RAN and Lower Saxony Ministry of Justice
#     descriptions of the case conferences for released extremist
#     offenders. Sections not checked against the Niedersächsisches
#     Vorschrifteninformationssystem (NI-VORIS).
package liaison.jurisdictions.de_ni

# code is the jurisdiction code in input.holder.jurisdiction this pack governs.
code := "DE-NI"

# law_name is how reasons name this law to a caseworker.
law_name := "Lower Saxony law"

# time_zone is the IANA time zone of this law's days: a deadline it sets
# in days (a notice due before the release day) falls at midnight there.
time_zone := "Europe/Berlin"

# assumption is the pack's own: what a denial for want of a basis may rest on.
assumption := "The pack encodes the release notice, the case conference, supervision of conduct and police exchange between the Länder only, read from secondary sources, so a denial for want of a basis may mean only that the basis is missing here."

# prohibitions are refused whatever basis or fallback would otherwise apply.
prohibitions := []

# bases are the legal bases, keyed by id. Translating a pseudonym into a
# case's domain rests on the case conference; re-identifying one on it
# within a case, or on supervision of conduct for risk management.
# Values are literals on purpose: a pack that only holds constants costs
# nothing to evaluate.
bases := {
	"de_ni.njvollzg.release": {
		"title": "The prison involves the police and the supervision services from the moment a release date is known",
		"citation": "Niedersächsisches Justizvollzugsgesetz (NJVollzG), transmission of personal data to the police and to the supervision services before release (§§ 190 ff.)",
		"actions": ["disclose", "notify", "request", "match"],
		"holder_kinds": ["prison"],
		"recipient_kinds": ["police", "probation"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],
		"purposes": ["risk_management", "resocialisation", "maw_case_management"],
		"subject": {"categories": ["convicted"]},
		"validity": {"type": "release_window", "days_before": 3650, "days_after": 365},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "sensitive", "assessment", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources: in Lower Saxony the police are involved as soon as a release date is known. Encoded as a window opening 3,650 days (ten years) before the release, i.e. whenever a date is known, and closing 365 days after it (a Liaison choice; supervision of conduct takes over). The NJVollzG sections were not checked.",
	},
	"de_ni.fallkonferenz": {
		"title": "Case conference (Fallkonferenz) of the agencies, which agrees an individual measure plan for the released person",
		"citation": "Fallkonferenz for released extremist offenders (joint circular of the Lower Saxony Ministries of Justice and of the Interior); NJVollzG and NPOG transmission provisions",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "prison", "probation", "local_authority", "social_services"],
		"recipient_kinds": ["police", "prison", "probation", "local_authority", "social_services"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "family_contact", "case_plan", "police_observation"],
		"purposes": ["maw_case_management", "resocialisation", "risk_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "sensitive", "assessment", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["CASE_PURPOSE_ONLY", "DE_NI_INDIVIDUAL_MEASURE_PLAN", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The case conference and its individual measure plan are read from secondary sources (RAN, Lower Saxony Ministry of Justice); the circular that sets it up and the transmission provisions it relies on were not checked. The case (input.case) stands for one conference; its lead is named in the case.",
	},
	"de_ni.fallkonferenz.ngo": {
		"title": "An exit-counselling organisation that is a member of the case conference",
		"citation": "Fallkonferenz for released extremist offenders, with the person's consent or the NGO's contract with the State",
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
		"conditions": ["CASE_PURPOSE_ONLY", "DE_NI_INDIVIDUAL_MEASURE_PLAN", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources: exit counselling in Lower Saxony is done by NGOs under contract with the State, which take part in case conferences; whether that rests on consent or on the contract was not checked. An NGO gets no criminal-offence record types, no sensitive data and no free text (GDPR Art. 9 and 10).",
	},
	"de_ni.fallkonferenz.translate": {
		"title": "A member of a case conference links its own pseudonym of a person to the case's pseudonym",
		"citation": "Fallkonferenz for released extremist offenders (joint circular of the Lower Saxony Ministries of Justice and of the Interior); NJVollzG and NPOG transmission provisions",
		"actions": ["translate"],
		"requester_kinds": ["police", "prison", "probation", "local_authority", "social_services", "ngo"],
		"purposes": ["maw_case_management", "resocialisation", "risk_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"conditions": ["CASE_PURPOSE_ONLY", "DE_NI_INDIVIDUAL_MEASURE_PLAN", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The case conference is read from secondary sources (RAN, Lower Saxony Ministry of Justice); the circular and the transmission provisions were not checked. A Liaison reading: the conference's members share about its person, so a member (the exit-counselling NGO included) may link its pseudonym of that person to the case. The translation gives a pseudonym, never an identity.",
	},
	"de_ni.fallkonferenz.reidentify": {
		"title": "A police, prison or probation member of a case conference has a pseudonym re-identified, under the dual control of legal officers of other members of the conference",
		"citation": "Fallkonferenz for released extremist offenders (joint circular of the Lower Saxony Ministries of Justice and of the Interior); NJVollzG and NPOG transmission provisions",
		"actions": ["reidentify"],
		"requester_kinds": ["police", "prison", "probation"],
		"purposes": ["risk_management", "maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h", "case_members_only": true},
		"conditions": ["CASE_PURPOSE_ONLY", "DE_NI_INDIVIDUAL_MEASURE_PLAN", "NO_ONWARD_DISCLOSURE"],
		"assumption": "The case conference is read from secondary sources (RAN, Lower Saxony Ministry of Justice); the circular and the transmission provisions were not checked. A Liaison reading: the conference shares identities for the measure plan and for risk management, so a member of the justice chain may have a pseudonym re-identified for either. Dual control is a Liaison safeguard, not in the law.",
	},
	"de_ni.stgb.68a": {
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
	"de_ni.stgb.68a.reidentify": {
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
	"de_ni.npog.laender": {
		"title": "Police forces of the Länder exchange information to avert danger",
		"citation": "Niedersächsisches Polizei- und Ordnungsbehördengesetz (NPOG), transmission to other police authorities, with BKAG § 3 (co-operation of the Länder police forces)",
		"actions": ["disclose", "notify", "request", "match"],
		"holder_kinds": ["police"],
		"recipient_kinds": ["police"],
		"recipient_jurisdictions": ["DE-NI", "DE-BY"],
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
		"assumption": "The NPOG transmission section was not identified; read from secondary sources as allowing transmission to police forces of other Länder on the same terms as within Lower Saxony.",
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
			"assumption": "GDPR Art. 89 with the Lower Saxony Data Protection Act read as allowing pseudonymised sharing for statistics; unverified.",
		},
	],
}

# receipt says what agencies in Lower Saxony may receive from agencies
# under another law: the recipient's side of a cross-border exchange.
receipt := {
	"de_ni.receipt.police": {
		"citation": "NPOG (processing of data received from other police forces) with IRG §§ 92 ff. (information from EU Member States)",
		"recipient_kinds": ["police"],
		"record_types": ["release_notice", "police_observation", "risk_assessment", "case_plan", "probation_measures"],
		"purposes": ["risk_management", "criminal_investigation"],
		"assumption": "Sections read from secondary sources; not checked.",
	},
	"de_ni.receipt.mutual_recognition": {
		"citation": "IRG §§ 84 ff. (custodial sentences, Framework Decision 2008/909) and §§ 90a ff. (probation, Framework Decision 2008/947)",
		"recipient_kinds": ["prison", "probation"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],
		"purposes": ["resocialisation", "risk_management"],
		"assumption": "The federal transpositions identified from secondary sources; sections not checked.",
	},
	"de_ni.receipt.social": {
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
	"maw": "Case conference (Fallkonferenz) of prison, probation, police, local authority and exit counselling, which agrees an individual measure plan",
	"case_lead": "probation",
	"risk_assessors": {"before_release": "prison", "after_release": "probation"},
	"exit_programme_kinds": ["ngo"],
	"family_contact_kinds": ["ngo", "social_services"],
	"source": "RAN descriptions of Lower Saxony practice; Lower Saxony Ministry of Justice material on released extremist offenders",
	"assumption": "Organisation read from secondary sources: the probation service (Ambulanter Justizsozialdienst) is read as leading the case after release; exit counselling is done by NGOs under contract with the State.",
}
