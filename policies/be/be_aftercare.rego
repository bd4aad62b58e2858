# Belgium, after sharing: what binds Belgian agencies' data once released (onward), and what a
# Belgian recipient may keep when the legal basis it received data
# under has ended (retention). Data only; see
# policies/liaison/onward.rego and retention.rego.
package liaison.jurisdictions.be

# onward defines this pack's own handling conditions.
onward := {
	"BE_ART458TER_CONSULTATION_SECRECY": {
		"within": "case",
		"code": "CONSULTATION_SECRECY",
		"message": "what is said in the local integrated security cell stays among its members, under shared professional secrecy",
		"citation": "Strafwetboek / Code pénal, art. 458ter; law of 30 July 2018",
		"assumption": "Article 458ter read from secondary sources: the shared secrecy covers the consultation only; passing its content outside the cell breaks it.",
	},
	"BE_COMMON_DATABASE_NEED_TO_KNOW": {
		"recipient_kinds": ["police", "intelligence", "prison", "probation"],
		"code": "NEED_TO_KNOW_ONLY",
		"message": "information from the common database goes only to the services that feed it and need to know it",
		"citation": "Wet op het politieambt / Loi sur la fonction de police, art. 44/11/3ter",
		"assumption": "Article numbers and the services with direct access read from secondary sources; not checked against the Belgian Official Journal.",
	},
}

# retention says what Belgian recipients may keep once the basis has ended.
retention := {"be.wpa.retention.44_9": {
	"citation": "Wet op het politieambt / Loi sur la fonction de police, art. 44/9 and 44/10 (retention in the police databases)",
	"recipient_kinds": ["police"],
	"retain_days": 1826,
	"assumption": "A Liaison reading: the police keep information for administrative police purposes for up to five years in their own databases; article numbers from secondary sources, not checked.",
}}
