# METADATA
# title: European Union (cross-border exchange)
# description: >-
#   The EU instruments that carry an exchange from an agency in one Member
#   State to an agency in another. An instrument does not replace the
#   holder's law: the holder's pack still decides (the holder's law
#   governs), the recipient's pack must let the recipient receive (both
#   sides must allow), and a basis that covers domestic recipients covers
#   recipients in other Member States on the same terms (LED Art. 9(4)).
#   Data only; the rules that read it are in policies/liaison/crossborder.rego.
# custom:
#   source: >-
#     Directive (EU) 2016/680 (LED) Art. 9; Directive (EU) 2023/977;
#     Council Framework Decisions 2006/960/JHA, 2008/909/JHA and
#     2008/947/JHA; Regulation (EU) 2016/679 (GDPR) Art. 1(3) and 6(3).
#     Read from EUR-Lex summaries; the Member States' transpositions were
#     not checked.
package liaison.eu

# member_states are the Member States of the European Union (ISO 3166-1).
# A jurisdiction's Member State is the code before its "-" (DE-BY -> DE).
member_states := {
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
	"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}

# instruments are the EU instruments that carry an exchange between Member
# States, keyed by id. One applies when both Member States are bound by it
# (member_states) and it lists the action, the holder's and recipient's
# kinds, the record type and the purpose. Where several apply, the lowest
# id is named. Intelligence services have none: national security remains
# the sole responsibility of each Member State (Art. 4(2) TEU).
instruments := {
	"eu.dir2023_977": {
		"title": "Exchange of information between the law enforcement authorities of Member States",
		"citation": "Directive (EU) 2023/977, Art. 5 (requests) and Art. 7 (own-initiative provision)",
		"member_states": [
			"AT", "BE", "BG", "CY", "CZ", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
			"IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
		],
		"actions": ["disclose", "notify", "request", "match"],
		"holder_kinds": ["police"],
		"recipient_kinds": ["police"],
		"record_types": ["release_notice", "police_observation", "risk_assessment", "case_plan", "probation_measures"],
		"purposes": ["risk_management", "criminal_investigation"],
		"assumption": "Denmark is not bound by the Directive (Protocol No 22); Ireland is read as having opted in. Prison and probation services are competent authorities under the LED but not 'law enforcement authorities' of the Directive, so they are not covered. Transposition deadline 12 December 2024; national transpositions not checked.",
	},
	"eu.fd2006_960": {
		"title": "Simplified exchange of information between law enforcement authorities (the 'Swedish Initiative')",
		"citation": "Council Framework Decision 2006/960/JHA, Art. 7 (spontaneous exchange) and Art. 3 (requests)",
		"member_states": [
			"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
			"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
		],
		"actions": ["disclose", "notify", "request", "match"],
		"holder_kinds": ["police"],
		"recipient_kinds": ["police"],
		"record_types": ["release_notice", "police_observation", "risk_assessment", "case_plan", "probation_measures"],
		"purposes": ["risk_management", "criminal_investigation"],
		"assumption": "Replaced by Directive (EU) 2023/977 for the Member States bound by it; read as still carrying exchanges with Denmark, which is not bound by the Directive. Whether Denmark applies the Framework Decision to every Member State was not checked.",
	},
	"eu.fd2008_909": {
		"title": "Mutual recognition of custodial sentences (transfer of sentenced persons)",
		"citation": "Council Framework Decision 2008/909/JHA, Art. 4 and 15 to 17",
		"member_states": [
			"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
			"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
		],
		"actions": ["disclose", "notify", "request"],
		"holder_kinds": ["prison"],
		"recipient_kinds": ["prison", "probation"],
		"record_types": ["release_notice", "risk_assessment", "exit_programme_status", "case_plan"],
		"purposes": ["resocialisation", "risk_management"],
		"assumption": "Read as letting the sentencing State's prison service pass what the executing State needs for enforcement and release (Art. 17: the executing State decides on early or conditional release and informs the issuing State) outside a formal transfer too; the Framework Decision organises transfer, not general information exchange. Denmark's application of it was not checked.",
	},
	"eu.fd2008_947": {
		"title": "Mutual recognition of probation measures and alternative sanctions",
		"citation": "Council Framework Decision 2008/947/JHA, Art. 6, 16 and 18",
		"member_states": [
			"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
			"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
		],
		"actions": ["disclose", "notify", "request"],
		"holder_kinds": ["probation", "prison"],
		"recipient_kinds": ["probation"],
		"record_types": ["probation_measures", "risk_assessment", "release_notice", "case_plan"],
		"purposes": ["resocialisation", "risk_management"],
		"assumption": "Read as letting probation services of the issuing and executing States exchange what supervision needs (Art. 16 and 18 oblige the executing State to inform the issuing one); outside a formal transfer of supervision this is a reading, not the text. Denmark's application of it was not checked.",
	},
	"eu.gdpr.art6_1_e": {
		"title": "Cross-border exchange between social services, local authorities and NGOs under the GDPR",
		"citation": "Regulation (EU) 2016/679 (GDPR), Art. 6(1)(e) and 6(3), with Art. 1(3) (free movement of personal data within the Union)",
		"member_states": [
			"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
			"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
		],
		"actions": ["disclose", "notify", "request"],
		"holder_kinds": ["social_services", "local_authority", "ngo"],
		"recipient_kinds": ["social_services", "local_authority", "ngo"],
		"record_types": ["exit_programme_status", "family_contact", "case_plan"],
		"purposes": ["resocialisation", "family_support"],
		"assumption": "No EU instrument organises this exchange. The GDPR does not let a Member State restrict the free movement of personal data within the Union for data-protection reasons (Art. 1(3)), but each side still needs a basis in its own law (Art. 6(3)); the holder's pack and the recipient's receipt rules provide them. Criminal-offence record types are left out (Art. 10). A Liaison reading.",
	},
}
