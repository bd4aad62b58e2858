# Netherlands: the multi-agency cases Dutch law lets agencies hold, and the
# notices it requires to be acknowledged. Data only; the shared rules are
# in liaison/cases.rego and liaison/notices.rego (see policies/README.md).
package liaison.jurisdictions.nl

# case_kinds are the kinds of multi-agency case, keyed by id: who may open
# and lead one, who may take the lead over, who may be a member.
case_kinds := {"nl.zvh": {
	"title": "Safety House case consultation on radicalisation (casusoverleg)",
	"citation": "Safety House covenant, case consultation on radicalisation (casusoverleg); Wpg art. 18(2)",
	"lead_kinds": ["local_authority"],
	"handover_kinds": ["local_authority", "police", "probation", "social_services"],
	"member_kinds": ["police", "probation", "prison", "social_services", "local_authority", "ngo"],
	"conditions": ["CASE_PURPOSE_ONLY"],
	"assumption": "The municipality opens the case in the Safety House and leads it; the lead may pass to the member with the best relationship with the person or the family (as in Amsterdam). Read from the explanatory memorandum of bill 36225 and RAN descriptions; not checked with a Dutch lawyer.",
}}

# required_notices are the notices that must be acknowledged, keyed by id.
required_notices := {
	"nl.notice.absconded.police": {
		"title": "The police learn at once that a person has absconded or broken the conditions of release",
		"citation": "Wpg art. 18(2) with the Wpg-machtigingsbesluit persoonsgerichte aanpak (2017); Liaison acknowledgement rule",
		"events": ["absconded", "breach_of_conditions"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "4h",
		"escalate_after": "1h",
		"assumption": "A Liaison safeguard: no Dutch rule on acknowledging such a notice was found; four hours is the project's choice for an event the police must act on.",
	},
	"nl.notice.release.lead": {
		"title": "The municipality leading the Safety House case learns of the release date",
		"citation": "Safety House covenant, case consultation on radicalisation (casusoverleg); Liaison acknowledgement rule",
		"events": ["release_date_set", "release_date_changed", "released", "transferred"],
		"recipient_kinds": ["local_authority"],
		"routes": ["case_member"],
		"case_lead": true,
		"acknowledge_within": "72h",
		"escalate_after": "48h",
		"before_release": true,
		"assumption": "A Liaison reading: the municipality that leads the case must know when the person returns, to plan the first weeks; the deadline is the project's choice.",
	},
	"nl.notice.release.police": {
		"title": "The competent police learn of the release date, before the release",
		"citation": "Wpg art. 18(2) with the Wpg-machtigingsbesluit persoonsgerichte aanpak (2017); Liaison acknowledgement rule",
		"events": ["release_date_set", "release_date_changed", "released", "transferred"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "72h",
		"escalate_after": "48h",
		"before_release": true,
		"assumption": "A Liaison safeguard after the practitioners' advice that at the very least the police must be informed of the release date: the notice must be acknowledged within three days and before the release; no Dutch rule on acknowledgement was found.",
	},
}
