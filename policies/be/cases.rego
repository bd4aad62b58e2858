# Belgium: the multi-agency cases Belgian law lets agencies hold, and the
# notices it requires to be acknowledged. Data only; the shared rules are
# in liaison/cases.rego and liaison/notices.rego (see policies/README.md).
package liaison.jurisdictions.be

# case_kinds are the kinds of multi-agency case, keyed by id.
case_kinds := {"be.livcr": {
	"title": "Local integrated security cell on radicalism, extremism and terrorism (LIVC-R / CSIL-R)",
	"citation": "Wet van 30 juli 2018 (LIVC-R) / Loi du 30 juillet 2018 (CSIL-R), with art. 458ter Strafwetboek / Code pénal",
	"lead_kinds": ["local_authority"],
	"member_kinds": ["police", "local_authority", "social_services", "probation", "ngo"],
	"min_clearance": "secret",
	"min_clearance_kinds": ["police"],
	"conditions": ["BE_ART458TER_CONSULTATION_SECRECY", "CASE_PURPOSE_ONLY"],
	"assumption": "The mayor (read as the local authority) chairs the cell and cannot hand the chair over; the police member needs at least a secret clearance (read from the law of 30 July 2018 via secondary sources); invited NGOs take part under art. 458ter.",
}}

# required_notices are the notices that must be acknowledged, keyed by id.
required_notices := {
	"be.notice.absconded.police": {
		"title": "The police learn at once that a person has absconded or broken the conditions of release",
		"citation": "Wet op het politieambt / Loi sur la fonction de police, art. 44/11/3ter (common database); Liaison acknowledgement rule",
		"events": ["absconded", "breach_of_conditions"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "4h",
		"escalate_after": "1h",
		"assumption": "A Liaison safeguard: no Belgian rule on acknowledging such a notice was found; four hours is the project's choice.",
	},
	"be.notice.release.mayor": {
		"title": "The mayor who chairs the LIVC-R learns of the release date",
		"citation": "Wet op het politieambt / Loi sur la fonction de police, art. 44/11/3quater (the mayor informed); Liaison acknowledgement rule",
		"events": ["release_date_set", "release_date_changed", "released", "transferred"],
		"recipient_kinds": ["local_authority"],
		"acknowledge_within": "72h",
		"escalate_after": "48h",
		"before_release": true,
		"assumption": "Read from secondary sources: the mayor is informed of persons of concern in the municipality; the acknowledgement rule and its deadline are the project's.",
	},
	"be.notice.release.police": {
		"title": "The competent local police learn of the release date, before the release",
		"citation": "Wet op het politieambt / Loi sur la fonction de police, art. 44/11/3ter (common database); Liaison acknowledgement rule",
		"events": ["release_date_set", "release_date_changed", "released", "transferred"],
		"recipient_kinds": ["police"],
		"acknowledge_within": "72h",
		"escalate_after": "48h",
		"before_release": true,
		"assumption": "A Liaison safeguard after the practitioners' advice that at the very least the police must be informed of the release date; no Belgian rule on acknowledgement was found.",
	},
}
