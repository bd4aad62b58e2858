# METADATA
# title: Denmark
# description: >-
#   Legal bases for exchanges of records held by Danish agencies:
#   retsplejeloven (Administration of Justice Act) § 115 — SSP, PSP and KSP
#   crime-prevention cooperation — and its stk. 2 bar on use for criminal
#   investigation. Data only; the rules that read it are in policies/liaison.
# custom:
#   source: >-
#     § 115 as quoted at https://ssptrivsel.aalborg.dk/for-professionelle/retsplejeloven-115
#     and https://stopekstremisme.dk (secondary sources); not yet checked
#     against the consolidated Act on retsinformation.dk.
package liaison.jurisdictions.dk

# code is the jurisdiction code in input.holder.jurisdiction this pack governs.
code := "DK"

# law_name is how reasons name this law to a caseworker.
law_name := "Danish law"

# time_zone is the IANA time zone of this law's days: a deadline it sets
# in days (a notice due before the release day) falls at midnight there.
time_zone := "Europe/Copenhagen"

# prohibitions are refused whatever basis or fallback would otherwise apply.
prohibitions := [
	{
		"id": "dk.rpl.115.stk2",
		"citation": "Retsplejeloven § 115, stk. 2, 2. pkt.",
		"purposes": ["criminal_investigation"],
		"message": "Information exchanged in SSP, PSP or KSP cooperation under retsplejeloven § 115 may not be passed on for the investigation of a criminal case",
	},
]

# bases are the legal bases, keyed by id. Every § 115 basis carries the
# stk. 2 condition: the recipient may not use the data to investigate.
# Translating a pseudonym into a case's domain and re-identifying one rest
# on KSP (nr. 3); the stk. 2 prohibition reaches them too.
# Values are literals on purpose: a pack that only holds constants costs
# nothing to evaluate.
bases := {
	"dk.rpl.115.stk1.nr1": {
		"title": "SSP cooperation (schools, social services and police) for crime prevention",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 1 and stk. 2 (SSP)",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "social_services", "local_authority"],
		"recipient_kinds": ["police", "social_services", "local_authority"],
		"record_types": ["family_contact", "case_plan", "exit_programme_status", "police_observation"],
		"purposes": ["risk_management", "resocialisation", "maw_case_management", "family_support"],
		"validity": {"type": "none"},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational", "sensitive"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Reading of § 115 from secondary sources (ssptrivsel.aalborg.dk, stopekstremisme.dk), not checked against retsinformation.dk. SSP concerns children and young people; the input carries no age, so agencies must check that themselves. Schools are registered as local_authority.",
	},
	"dk.rpl.115.stk1.nr2": {
		"title": "PSP cooperation (police, social services and psychiatry) for socially vulnerable persons",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 2 and stk. 2 (PSP)",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "social_services"],
		"recipient_kinds": ["police", "social_services"],
		"record_types": ["family_contact", "case_plan", "exit_programme_status", "police_observation"],
		"purposes": ["risk_management", "resocialisation", "family_support"],
		"validity": {"type": "none"},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational", "sensitive"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Reading of § 115 from secondary sources (ssptrivsel.aalborg.dk, stopekstremisme.dk), not checked against retsinformation.dk. Psychiatry is not an agency kind in Liaison yet, so only the police and social services part of PSP is modelled.",
	},
	"dk.rpl.115.stk1.nr3": {
		"title": "KSP cooperation (prison and probation service, social services and police) around a release",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 3 and stk. 2 (KSP)",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "prison", "probation", "social_services", "local_authority"],
		"recipient_kinds": ["police", "prison", "probation", "social_services", "local_authority"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "family_contact", "case_plan", "police_observation"],
		"purposes": ["risk_management", "resocialisation", "maw_case_management", "family_support"],
		"subject": {"categories": ["convicted"]},
		"validity": {"type": "release_window", "days_before": 180, "days_after": 365},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational", "assessment", "sensitive"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Reading of § 115 from secondary sources (ssptrivsel.aalborg.dk, stopekstremisme.dk), not checked against retsinformation.dk. KSP covers convicted persons released from institutions of the Prison and Probation Service, including those judged at risk of radicalisation (2016 amendment on signs of radicalisation and extremism, unverified). Authorities other than the police disclose under stk. 2 'to the same extent'. The window of 180 days before to 365 days after release is a project choice, not in the Act. Free text is left out as not necessary.",
	},
	"dk.rpl.115.stk1.nr3.supervision": {
		"title": "KSP cooperation while the subject is under the supervision of the Prison and Probation Service",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 3 and stk. 2 (KSP)",
		"actions": ["disclose", "request", "notify", "match"],
		"holder_kinds": ["police", "prison", "probation", "social_services", "local_authority"],
		"recipient_kinds": ["police", "prison", "probation", "social_services", "local_authority"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "family_contact", "case_plan", "police_observation"],
		"purposes": ["risk_management", "resocialisation", "maw_case_management", "family_support"],
		"subject": {"categories": ["convicted"], "in_custody": false},
		"validity": {"type": "probation"},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational", "assessment", "sensitive"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Reading of § 115 from secondary sources (ssptrivsel.aalborg.dk, stopekstremisme.dk), not checked against retsinformation.dk. Reads KSP as also covering released persons while they remain under supervision (probation), from release; police involvement ends when probation ends.",
	},
	"dk.rpl.115.stk1.nr3.translate": {
		"title": "A KSP partner links its own pseudonym of a person to the pseudonym of a KSP case about that person",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 3 and stk. 2 (KSP)",
		"actions": ["translate"],
		"requester_kinds": ["police", "prison", "probation", "social_services", "local_authority"],
		"purposes": ["risk_management", "resocialisation", "maw_case_management", "family_support"],
		"validity": {"type": "none"},
		"requires_case": true,
		"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Reading of § 115 from secondary sources (ssptrivsel.aalborg.dk, stopekstremisme.dk), not checked against retsinformation.dk. A Liaison reading: KSP partners may share about a released person in full, so a partner may link its pseudonym of that person to the KSP case (input.case). The gateway does not know the person behind a pseudonym, so that KSP covers them (a convicted person, within the release window or under supervision) is not checked here; the partner must check it. The translation gives a pseudonym, never an identity.",
	},
	"dk.rpl.115.stk1.nr3.reidentify": {
		"title": "The police, the prison or the probation service has a pseudonym re-identified for KSP risk management, under the dual control of legal officers of other agencies",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 3 and stk. 2 (KSP)",
		"actions": ["reidentify"],
		"requester_kinds": ["police", "prison", "probation"],
		"purposes": ["risk_management"],
		"validity": {"type": "none"},
		"requires_case": false,
		"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h"},
		"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Reading of § 115 from secondary sources (ssptrivsel.aalborg.dk, stopekstremisme.dk), not checked against retsinformation.dk. A Liaison reading: KSP lets the police and the Prison and Probation Service share identities for risk management around a release, so they may have a pseudonym re-identified for it. The gateway does not know the person behind a pseudonym, so that KSP covers them (a convicted person, within the release window or under supervision) is not checked here: the approving legal officers must check it. Social services and NGOs are left out; the stk. 2 bar on criminal investigation applies. Dual control is a Liaison safeguard, not in the Act.",
	},
	"dk.rhl.release_abroad": {
		"title": "The Prison and Probation Service tells the police of another Member State, where a person it releases will live, of the release",
		"citation": "Retshåndhævelsesloven (lov nr. 410 af 27. april 2017) § 4 (the Prison and Probation Service as a competent authority), with Directive (EU) 2016/680 Art. 1(3) (exchange between competent authorities of the Member States)",
		"actions": ["disclose", "notify"],
		"holder_kinds": ["prison", "probation"],
		"recipient_kinds": ["police"],
		"recipient_jurisdictions": ["NL", "BE", "FR", "DE-BY", "DE-NI"],
		"record_types": ["release_notice"],
		"purposes": ["risk_management"],
		"subject": {"categories": ["convicted"]},
		"validity": {"type": "release_window", "days_before": 180, "days_after": 365},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["NO_ONWARD_DISCLOSURE"],
		"assumption": "A Liaison reading of the Danish LED Act, not checked against retsinformation.dk or with a Danish lawyer: the Prison and Probation Service, a competent authority for the execution of criminal penalties, may tell the police of the Member State where a released person will live of the release, for the prevention of threats to public security, outside § 115 (which concerns Danish partners). Only the release notice, pushed by the service: no assessment, no sensitive data, no free text. The release window is the one Liaison uses for KSP.",
	},
	"dk.rpl.115.stk3": {
		"title": "Self-governing institutions (e.g. exit-programme NGOs) included in KSP cooperation",
		"citation": "Retsplejeloven § 115, stk. 3",
		"actions": ["disclose", "request", "notify"],
		"holder_kinds": ["police", "prison", "probation", "social_services", "local_authority", "ngo"],
		"recipient_kinds": ["police", "prison", "probation", "social_services", "local_authority", "ngo"],
		"record_types": ["exit_programme_status", "case_plan", "family_contact"],
		"purposes": ["resocialisation", "family_support"],
		"subject": {"categories": ["convicted"]},
		"validity": {"type": "release_window", "days_before": 180, "days_after": 365},
		"requires_case": false,
		"fields": {
			"keep": ["direct_identifier", "quasi_identifier", "operational"],
			"generalise": [],
			"pseudonymise": [],
		},
		"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"],
		"assumption": "Reading of § 115 from secondary sources (ssptrivsel.aalborg.dk, stopekstremisme.dk), not checked against retsinformation.dk. Applies only to an NGO that is a self-governing institution doing public tasks in the social field and has been formally included in the cooperation; the agency registry, not this policy, must establish that.",
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
			"assumption": "Databeskyttelsesloven § 10 (statistics) read as allowing pseudonymised sharing between authorities; unverified.",
		},
		{
			"outcome": "pseudonymise",
			"actions": ["request"],
			"holder_kinds": ["prison", "probation"],
			"recipient_kinds": ["police"],
			"recipient_jurisdictions": ["NL", "BE", "FR", "DE-BY", "DE-NI"],
			"record_types": ["risk_assessment"],
			"purposes": ["risk_management"],
			"fields": {
				"keep": ["operational", "RiskAssessment.level"],
				"generalise": ["quasi_identifier"],
				"pseudonymise": ["direct_identifier"],
				"precision": "year",
			},
			"conditions": ["NO_ONWARD_DISCLOSURE"],
			"reason": {
				"code": "PSEUDONYMISED_ACROSS_BORDER",
				"message": "Danish law gives the police of another Member State no basis for the risk assessment of a named person outside KSP cooperation; it is shared pseudonymised, with only the risk level, so that the police can decide whether to ask through a Danish partner.",
			},
			"assumption": "A Liaison reading of the Danish LED Act, not checked with a Danish lawyer: the Prison and Probation Service may give the police of another Member State what a risk assessment says about the risk, without the person's identity, for the prevention of threats to public security.",
		},
	],
}

# assumption is the pack's own: what a denial for want of a basis may rest on.
assumption := "The pack encodes retsplejeloven § 115, read from secondary sources, and of the LED Act (retshåndhævelsesloven) only the release notice to the police of another Member State and a pseudonymised risk assessment for them; other Danish bases (e.g. the LED Act for exchanges between police and the Prison and Probation Service outside § 115) are not encoded, so a denial for want of a basis may mean only that the basis is missing here."

# receipt says what Danish agencies may receive from agencies under another
# law: the recipient's side of a cross-border exchange (both sides must
# allow). Keyed by id; optional "holder_kinds" and "from_jurisdictions"
# narrow a rule (default: any).
receipt := {
	"dk.rhl.receipt.police": {
		"citation": "Retshåndhævelsesloven (lov nr. 410 af 27. april 2017) § 4 and § 10 (processing by the police of data received from other Member States)",
		"recipient_kinds": ["police"],
		"record_types": ["release_notice", "police_observation", "risk_assessment", "case_plan", "probation_measures"],
		"purposes": ["risk_management", "criminal_investigation"],
		"assumption": "The Danish LED Act read from its title and secondary sources; sections not checked against retsinformation.dk.",
	},
	"dk.rhl.receipt.kriminalforsorgen": {
		"citation": "Retshåndhævelsesloven (lov nr. 410 af 27. april 2017) § 4 (the Prison and Probation Service as a competent authority)",
		"recipient_kinds": ["prison", "probation"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "exit_programme_status", "case_plan"],
		"purposes": ["resocialisation", "risk_management"],
		"assumption": "The Danish LED Act read from its title and secondary sources; sections not checked against retsinformation.dk.",
	},
	"dk.dbl.receipt.social": {
		"citation": "Databeskyttelsesloven § 5 and GDPR Art. 6(1)(e) (municipal social services and self-governing institutions)",
		"recipient_kinds": ["social_services", "local_authority", "ngo"],
		"record_types": ["exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["resocialisation", "family_support"],
		"assumption": "A Liaison reading: municipalities receive what their social tasks need under the GDPR with the Danish Data Protection Act; not checked.",
	},
}

# practice describes how the work is organised, for the readiness report:
# the multi-agency working group, who leads a case, who assesses risk
# before and after release, who runs exit programmes and who is in contact
# with the family. It is not law and decides nothing.
practice := {
	"maw": "SSP, PSP and KSP cooperation under retsplejeloven § 115, with the police district's info-house (Infohus) on radicalisation",
	"case_lead": "police",
	"risk_assessors": {"before_release": "prison", "after_release": "probation"},
	"exit_programme_kinds": ["police", "local_authority"],
	"family_contact_kinds": ["police", "social_services"],
	"source": "Aarhus model (East Jutland Police and Aarhus Municipality) as described in RAN and stopekstremisme.dk material",
	"assumption": "Organisation read from secondary sources; it differs between police districts and municipalities.",
}
