# Denmark: the multi-agency cases Danish law lets agencies hold, and the
# notices it requires to be acknowledged. Data only; the shared rules are
# in liaison/cases.rego and liaison/notices.rego (see policies/README.md).
package liaison.jurisdictions.dk

# case_kinds are the kinds of multi-agency case, keyed by id.
case_kinds := {
	"dk.ksp": {
		"title": "KSP co-operation around a release (prison and probation service, social services, police)",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 3 and stk. 2 (KSP)",
		"lead_kinds": ["police"],
		"handover_kinds": ["police", "probation", "prison", "social_services"],
		"member_kinds": ["police", "prison", "probation", "social_services", "local_authority"],
		"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION"],
		"assumption": "Read from secondary sources: the police district's KSP co-ordinator opens and leads the case (Aarhus model); § 115 does not name a lead. What is shared in the case may not serve a criminal investigation (stk. 2).",
	},
	"dk.ssp": {
		"title": "SSP co-operation (schools, social services, police) on a young person",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 1 and stk. 2 (SSP)",
		"lead_kinds": ["local_authority", "police"],
		"member_kinds": ["police", "social_services", "local_authority"],
		"conditions": ["DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION"],
		"assumption": "Read from secondary sources: the municipality's SSP consultant or the police lead; not checked against the official text.",
	},
}

# required_notices are the notices that must be acknowledged, keyed by id.
required_notices := {
	"dk.notice.absconded.police": {
		"title": "The police learn at once that a person has absconded or broken the conditions of release",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 3 (KSP); Liaison acknowledgement rule",
		"events": ["absconded", "breach_of_conditions"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "4h",
		"escalate_after": "1h",
		"assumption": "A Liaison safeguard: no Danish rule on acknowledging such a notice was found; four hours is the project's choice.",
	},
	"dk.notice.release.police": {
		"title": "The police of the district the person will live in learn of the release date, before the release",
		"citation": "Retsplejeloven § 115, stk. 1, nr. 3 (KSP); Liaison acknowledgement rule",
		"events": ["release_date_set", "release_date_changed", "released", "transferred"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "48h",
		"escalate_after": "24h",
		"before_release": true,
		"assumption": "A Liaison safeguard after the practitioners' advice that at the very least the police must be informed of the release date (Aarhus: the police meet the person before release); the deadline is the project's choice.",
	},
}
