# Bavaria: the multi-agency cases Bavarian law lets agencies hold, and the
# notices it requires to be acknowledged. Data only; the shared rules are
# in liaison/cases.rego and liaison/notices.rego (see policies/README.md).
package liaison.jurisdictions.de_by

# case_kinds are the kinds of multi-agency case, keyed by id.
case_kinds := {"de_by.netzwerk": {
	"title": "Case management of the Bavarian network for prevention and deradicalisation",
	"citation": "Bayerisches Netzwerk für Prävention und Deradikalisierung, case management of the Kompetenzzentrum für Deradikalisierung at the Bayerisches Landeskriminalamt; PAG and BayStVollzG transmission provisions",
	"lead_kinds": ["police"],
	"member_kinds": ["police", "prison", "probation", "local_authority", "social_services", "ngo"],
	"assumption": "Read from RAN descriptions: the Kompetenzzentrum at the Landeskriminalamt (police) leads every case and does not hand it over; NGOs take part with the person's consent or under contract with the State.",
}}

# required_notices are the notices that must be acknowledged, keyed by id.
required_notices := {
	"de_by.notice.absconded.police": {
		"title": "The police learn at once that a person has absconded or broken the directions of supervision",
		"citation": "StGB §§ 68a and 68b, StPO § 463a (Führungsaufsicht); Liaison acknowledgement rule",
		"events": ["absconded", "breach_of_conditions"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "4h",
		"escalate_after": "1h",
		"assumption": "A Liaison safeguard: no Bavarian rule on acknowledging such a notice was found; four hours is the project's choice.",
	},
	"de_by.notice.release.police": {
		"title": "The police learn of the release date, before the release",
		"citation": "Bayerisches Strafvollzugsgesetz (BayStVollzG), transmission of personal data to the police before release (Art. 197 ff.); Liaison acknowledgement rule",
		"events": ["release_date_set", "release_date_changed", "released", "transferred"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "72h",
		"escalate_after": "48h",
		"before_release": true,
		"assumption": "A Liaison safeguard after the practitioners' advice that at the very least the police must be informed of the release date; BayStVollzG articles read from secondary sources and the deadline is the project's.",
	},
}
