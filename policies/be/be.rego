# METADATA
# title: Belgium
# description: >-
#   Legal bases for exchanges of records held by Belgian agencies: the
#   local integrated security cells on radicalism, extremism and terrorism
#   (LIVC-R / CSIL-R, law of 30 July 2018), a case consultation under
#   shared professional secrecy (art. 458ter Criminal Code) among the
#   cell's members only, with a police member cleared to at least "secret";
#   and the common database on terrorist fighters, hate propagandists and
#   convicted terrorists (Law on the Police Function, art. 44/2 § 2 and
#   44/11/3bis ff., law of 27 April 2016). Data only.
# custom:
#   source: >-
#     Wet van 30 juli 2018 tot oprichting van lokale integrale
#     veiligheidscellen inzake radicalisme, extremisme en terrorisme / Loi
#     du 30 juillet 2018 portant création de cellules de sécurité intégrale
#     locales en matière de radicalisme, d'extrémisme et de terrorisme (BS/MB
#     14.09.2018), as summarised by the FPS Home Affairs and the Flemish
#     Agency for Home Affairs; art. 458ter Sw./C.p. (law of 6 July 2017);
#     Law on the Police Function art. 44/11/3bis ff. Not checked against
#     the texts in the Belgian Official Journal (Justel).
package liaison.jurisdictions.be

# code is the jurisdiction code in input.holder.jurisdiction this pack governs.
code := "BE"

# law_name is how reasons name this law to a caseworker.
law_name := "Belgian law"

# time_zone is the IANA time zone of this law's days: a deadline it sets
# in days (a notice due before the release day) falls at midnight there.
time_zone := "Europe/Brussels"

# assumption is the pack's own: what a denial for want of a basis may rest on.
assumption := "The pack encodes the LIVC-R law and the common database only, read from secondary sources; other Belgian bases (e.g. the justice houses' own decrees of the Communities) are not encoded, so a denial for want of a basis may mean only that the basis is missing here."

# prohibitions are refused whatever basis or fallback would otherwise apply.
prohibitions := []

# bases are the legal bases, keyed by id. The LIVC-R bases are bound to a
# case (the cell's case consultation on one person: requester, holder and
# recipient must all be members) and require a police officer acting in
# the cell to hold a security clearance of at least "secret". Translating a
# pseudonym into the cell's case rests on the LIVC-R law; re-identifying
# one on the LIVC-R law within the case, or on the common database for
# risk management among the services that feed it.
# Values are literals on purpose: a pack that only holds constants costs
# nothing to evaluate.
bases := {
	"be.livcr.2018": {
		"title": "Case consultation in the local integrated security cell (LIVC-R / CSIL-R), among its members only, under shared professional secrecy",
		"citation": "Wet van 30 juli 2018 (LIVC-R) / Loi du 30 juillet 2018 (CSIL-R), with art. 458ter Strafwetboek / Code pénal",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "local_authority", "social_services", "probation"],
		"recipient_kinds": ["police", "local_authority", "social_services", "probation"],
		"record_types": ["release_notice", "probation_measures", "exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["maw_case_management", "resocialisation", "family_support"],
		"validity": {"type": "none"},
		"requires_case": true,
		"min_clearance": "secret",
		"min_clearance_kinds": ["police"],
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational", "sensitive"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources, not from the Belgian Official Journal. The cell's members are set by the mayor (local authority, local police, social services of the municipality and the CPAS/OCMW; the justice house, read as 'probation', when invited); the case (input.case) stands for the cell's consultation on one person. The clearance of at least 'secret' (law of 11 December 1998) is read as required of the police member; the officer's clearance comes from the token. Free text is left out as not necessary.",
	},
	"be.livcr.2018.police_information": {
		"title": "The police member brings police information and the level of a risk assessment into the LIVC-R case, as far as the socio-preventive follow-up needs it",
		"citation": "Wet van 30 juli 2018 (LIVC-R) / Loi du 30 juillet 2018 (CSIL-R), with art. 458ter Strafwetboek / Code pénal",
		"actions": ["disclose", "request", "notify"],
		"holder_kinds": ["police", "probation"],
		"recipient_kinds": ["police", "local_authority", "social_services", "probation"],
		"record_types": ["police_observation", "risk_assessment"],
		"purposes": ["maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"min_clearance": "secret",
		"min_clearance_kinds": ["police"],
		"fields": {
			"keep": ["operational", "RiskAssessment.level"],
			"generalise": ["quasi_identifier"],
			"pseudonymise": [],
		},
		"conditions": ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources: the cell is socio-preventive and receives security information only through its police member, on a need-to-know basis; the limit to operational facts and the level of an assessment is a Liaison reading of that rule. Direct identifiers are not needed since the case already names the person.",
	},
	"be.livcr.2018.ngo": {
		"title": "An exit or prevention organisation that the mayor made a member of the LIVC-R case",
		"citation": "Wet van 30 juli 2018 (LIVC-R) / Loi du 30 juillet 2018 (CSIL-R), with art. 458ter Strafwetboek / Code pénal",
		"actions": ["disclose", "request", "notify"],
		"holder_kinds": ["police", "local_authority", "social_services", "probation", "ngo"],
		"recipient_kinds": ["police", "local_authority", "social_services", "probation", "ngo"],
		"record_types": ["exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["maw_case_management", "resocialisation", "family_support"],
		"validity": {"type": "none"},
		"requires_case": true,
		"min_clearance": "secret",
		"min_clearance_kinds": ["police"],
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources: organisations bound by professional secrecy may be invited into the cell's case consultation. An NGO gets no criminal-offence record types, no sensitive data and no free text (GDPR Art. 9 and 10, data minimisation).",
	},
	"be.livcr.2018.translate": {
		"title": "A member of the LIVC-R case links its own pseudonym of a person to the pseudonym of the cell's case about that person",
		"citation": "Wet van 30 juli 2018 (LIVC-R) / Loi du 30 juillet 2018 (CSIL-R), with art. 458ter Strafwetboek / Code pénal",
		"actions": ["translate"],
		"requester_kinds": ["police", "local_authority", "social_services", "probation", "ngo"],
		"purposes": ["maw_case_management", "resocialisation", "family_support"],
		"validity": {"type": "none"},
		"requires_case": true,
		"min_clearance": "secret",
		"min_clearance_kinds": ["police"],
		"conditions": ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources, not from the Belgian Official Journal. A Liaison reading: the cell's members share about the person of the case under shared professional secrecy, so a member (an organisation the mayor invited included) may link its pseudonym of that person to the case; the police member needs a clearance of at least 'secret', as for the case itself. The translation gives a pseudonym, never an identity.",
	},
	"be.livcr.2018.reidentify": {
		"title": "The police or justice-house member of the LIVC-R case has a pseudonym re-identified for the case, under the dual control of legal officers of other members of the cell",
		"citation": "Wet van 30 juli 2018 (LIVC-R) / Loi du 30 juillet 2018 (CSIL-R), with art. 458ter Strafwetboek / Code pénal",
		"actions": ["reidentify"],
		"requester_kinds": ["police", "probation"],
		"purposes": ["maw_case_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"min_clearance": "secret",
		"min_clearance_kinds": ["police"],
		"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h", "case_members_only": true},
		"conditions": ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Read from secondary sources, not from the Belgian Official Journal. A Liaison reading: within the cell's case the members know the person, so the police member (cleared to at least 'secret') or the justice house may have a pseudonym re-identified for the case. The approvers must be legal officers of other members of the cell; that an approver acting for the police holds a clearance of at least 'secret' cannot be expressed in the approval rule and must be checked by the agencies that grant the legal_officer role. Social services, the local authority and NGOs do not re-identify; dual control is a Liaison safeguard, not in the law.",
	},
	"be.wpa.44_11_3ter": {
		"title": "The common database on foreign and homegrown terrorist fighters, hate propagandists and convicted terrorists, shared among the services that feed it",
		"citation": "Wet op het politieambt / Loi sur la fonction de police, art. 44/2 § 2 and 44/11/3bis to 44/11/3ter (common database, law of 27 April 2016)",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "intelligence", "prison", "probation"],
		"recipient_kinds": ["police", "intelligence", "prison", "probation"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "police_observation", "case_plan"],
		"purposes": ["risk_management", "criminal_investigation"],
		"subject": {"categories": ["convicted", "suspect"]},
		"validity": {"type": "none"},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "sensitive", "assessment", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["BE_COMMON_DATABASE_NEED_TO_KNOW", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Article numbers and the services with direct access (police, State Security, General Intelligence and Security Service, OCAM, the prison administration; the justice houses read as 'probation') from secondary sources; the Royal Decree of 21 July 2016 on the common database was not checked. That the subject is registered in the database is a condition Liaison cannot check; the holder must.",
	},
	"be.wpa.44_11_3ter.reidentify": {
		"title": "A service that feeds the common database (police, intelligence, prison, justice house) has a pseudonym re-identified for risk management, under the dual control of legal officers of other services",
		"citation": "Wet op het politieambt / Loi sur la fonction de police, art. 44/2 § 2 and 44/11/3bis to 44/11/3ter (common database, law of 27 April 2016)",
		"actions": ["reidentify"],
		"requester_kinds": ["police", "intelligence", "prison", "probation"],
		"purposes": ["risk_management"],
		"validity": {"type": "none"},
		"requires_case": false,
		"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h"},
		"conditions": ["BE_COMMON_DATABASE_NEED_TO_KNOW", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Article numbers and the services with direct access from secondary sources; the Royal Decree of 21 July 2016 was not checked. A Liaison reading: the services that feed the common database share identities for risk management, so they may have a pseudonym re-identified for it. The gateway does not know the person behind a pseudonym, so that the person is registered in the database (a convicted person or suspect) is not checked here: the approving legal officers must check it. Approvers' security clearance cannot be expressed in the approval rule; the agencies that grant the legal_officer role must see to it. Dual control is a Liaison safeguard, not in the law.",
	},
	"be.wpa.44_11_3quater": {
		"title": "The mayor is informed, on a need-to-know basis, of a registered person released into the municipality, for the local follow-up",
		"citation": "Wet op het politieambt / Loi sur la fonction de police, art. 44/11/3quater (communication of common-database information on a need-to-know basis)",
		"actions": ["disclose", "notify"],
		"holder_kinds": ["police"],
		"recipient_kinds": ["local_authority"],
		"record_types": ["release_notice", "case_plan"],
		"purposes": ["risk_management", "maw_case_management"],
		"subject": {"categories": ["convicted", "suspect"]},
		"validity": {"type": "release_window", "days_before": 90, "days_after": 365},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["BE_COMMON_DATABASE_NEED_TO_KNOW", "NO_ONWARD_DISCLOSURE"],
		"assumption": "That the mayor may receive common-database information for the local follow-up (and to convene the LIVC-R) is read from secondary sources; the article and its royal decree were not checked. The window of 90 days before to 365 days after release is a Liaison choice.",
	},
}

# fallback says what may still be shared where no basis applies.
fallback := {
	"rules": [
		{
			"outcome": "hit_only",
			"actions": ["match"],
			"holder_kinds": ["police", "local_authority", "social_services", "probation"],
			"recipient_kinds": ["police", "local_authority", "probation"],
			"record_types": ["release_notice", "probation_measures", "exit_programme_status", "family_contact", "case_plan"],
			"purposes": ["maw_case_management", "risk_management"],
			"conditions": ["BE_ART458TER_CONSULTATION_SECRECY", "NO_ONWARD_DISCLOSURE"],
			"reason": {
				"code": "HIT_ONLY_OUTSIDE_THE_CELL",
				"message": "Outside an LIVC-R case a member may only learn whether another holds something, to decide whether to put the person on the cell's agenda.",
			},
			"assumption": "A Liaison reading: preparing a case consultation needs to know who holds something, not what.",
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
			"assumption": "GDPR Art. 89 with the Belgian Data Protection Act of 30 July 2018, Title 4, read as allowing pseudonymised sharing for statistics; unverified.",
		},
	],
}

# receipt says what Belgian agencies may receive from agencies under another
# law: the recipient's side of a cross-border exchange.
receipt := {
	"be.wpa.receipt.police": {
		"citation": "Wet op het politieambt / Loi sur la fonction de police, art. 44/1 (processing for the tasks of administrative and judicial police)",
		"recipient_kinds": ["police"],
		"record_types": ["release_notice", "police_observation", "risk_assessment", "case_plan", "probation_measures"],
		"purposes": ["risk_management", "criminal_investigation"],
		"assumption": "Read as covering information received from police forces of other Member States; not checked.",
	},
	"be.receipt.mutual_recognition": {
		"citation": "Wet van 15 mei 2012 (custodial sentences, Framework Decision 2008/909) and wet van 21 mei 2013 (probation measures, Framework Decision 2008/947)",
		"recipient_kinds": ["prison", "probation"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],
		"purposes": ["resocialisation", "risk_management"],
		"assumption": "The Belgian transpositions identified from secondary sources; dates and articles not checked.",
	},
	"be.gdpr.receipt.social": {
		"citation": "GDPR Art. 6(1)(e) with the decrees of the Communities on social assistance",
		"recipient_kinds": ["social_services", "local_authority", "ngo"],
		"record_types": ["exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["resocialisation", "family_support"],
		"assumption": "A Liaison reading; not checked.",
	},
}

# practice describes how the work is organised, for the readiness report.
# It is not law and decides nothing.
practice := {
	"maw": "Local integrated security cell on radicalism, extremism and terrorism (LIVC-R / CSIL-R), chaired by the mayor; the police-led Local Task Force (LTF) is its security counterpart",
	"case_lead": "local_authority",
	"risk_assessors": {"before_release": "prison", "after_release": "probation"},
	"exit_programme_kinds": ["social_services", "ngo"],
	"family_contact_kinds": ["local_authority", "social_services"],
	"source": "FPS Home Affairs and Flemish Agency for Home Affairs guidance on the LIVC-R; RAN descriptions of Belgian practice",
	"assumption": "Organisation read from secondary sources: the prison administration's psychosocial service (with its extremism unit) assesses before release, the justice houses after; exit work by services of the Communities (e.g. CAPREV, read as social services) and NGOs.",
}
