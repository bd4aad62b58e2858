# Lower Saxony: the multi-agency cases the law of Lower Saxony lets agencies
# hold, and the notices it requires to be acknowledged. Data only; the
# shared rules are in liaison/cases.rego and liaison/notices.rego (see
# policies/README.md).
package liaison.jurisdictions.de_ni

# case_kinds are the kinds of multi-agency case, keyed by id.
case_kinds := {"de_ni.fallkonferenz": {
	"title": "Case conference (Fallkonferenz) for a released extremist offender",
	"citation": "Fallkonferenz for released extremist offenders (joint circular of the Lower Saxony Ministries of Justice and of the Interior); NJVollzG and NPOG transmission provisions",
	"lead_kinds": ["prison", "probation"],
	"member_kinds": ["police", "prison", "probation", "local_authority", "social_services", "ngo"],
	"assumption": "Read from secondary sources: the prison convenes the case conference before release and the probation service (Ambulanter Justizsozialdienst) leads it after; exit counselling NGOs take part under contract with the State.",
}}

# required_notices are the notices that must be acknowledged, keyed by id.
required_notices := {
	"de_ni.notice.absconded.police": {
		"title": "The police learn at once that a person has absconded or broken the directions of supervision",
		"citation": "StGB §§ 68a and 68b, StPO § 463a (Führungsaufsicht); Liaison acknowledgement rule",
		"events": ["absconded", "breach_of_conditions"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "4h",
		"escalate_after": "1h",
		"assumption": "A Liaison safeguard: no rule of Lower Saxony on acknowledging such a notice was found; four hours is the project's choice.",
	},
	"de_ni.notice.release.police": {
		"title": "The police learn of the release date as soon as it is known, before the release",
		"citation": "Niedersächsisches Justizvollzugsgesetz (NJVollzG), transmission of personal data to the police before release (§§ 190 ff.); Liaison acknowledgement rule",
		"events": ["release_date_set", "release_date_changed", "released", "transferred"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "72h",
		"escalate_after": "48h",
		"before_release": true,
		"assumption": "A Liaison safeguard after the practitioners' advice that at the very least the police must be informed of the release date; NJVollzG sections read from secondary sources and the deadline is the project's.",
	},
	"de_ni.notice.release.probation": {
		"title": "The probation service that will supervise the person learns of the release date",
		"citation": "StGB §§ 68a and 68b, StPO § 463a (Führungsaufsicht); Liaison acknowledgement rule",
		"events": ["release_date_set", "release_date_changed", "released"],
		"recipient_kinds": ["probation"],
		"acknowledge_within": "72h",
		"escalate_after": "48h",
		"before_release": true,
		"assumption": "Read from secondary sources: supervision of conduct starts at release, so the probation service must know the date; the deadline is the project's.",
	},
}
