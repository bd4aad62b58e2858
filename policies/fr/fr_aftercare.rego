# France, after sharing: what binds French agencies' data once released (onward), and what a
# French recipient may keep when the legal basis it received data under
# has ended (retention). Data only; see policies/liaison/onward.rego and
# retention.rego.
package liaison.jurisdictions.fr

# onward defines this pack's own handling conditions.
onward := {
	"FR_INTELLIGENCE_PURPOSES_ONLY": {
		"recipient_kinds": ["intelligence"],
		"code": "INTELLIGENCE_PURPOSES_ONLY",
		"message": "results of the radicalisation assessment units are exchanged between intelligence services for intelligence purposes only",
		"citation": "Code de la sécurité intérieure, art. L. 863-2",
		"assumption": "Read from secondary sources: L. 863-2 exchanges stay between the specialised services.",
	},
	"FR_REINTEGRATION_PROGRAMME_ONLY": {
		"purposes": ["resocialisation"],
		"code": "REINTEGRATION_PROGRAMME_ONLY",
		"message": "what the reintegration programme learns serves the programme only",
		"citation": "Code de procédure pénale, art. 706-25-16",
		"assumption": "Read from secondary sources.",
	},
	"FR_SHARED_PROFESSIONAL_SECRECY": {
		"within": "case",
		"code": "SHARED_SECRECY",
		"message": "information shared under shared professional secrecy stays among the partners of the follow-up",
		"citation": "Code de la sécurité intérieure, art. L. 132-5 (partage d'informations confidentielles)",
		"assumption": "Read from secondary sources: the shared secrecy covers the partners of the follow-up cell only.",
	},
}

# retention says what French recipients may keep once the basis has ended.
retention := {"fr.csi.retention.intelligence": {
	"citation": "Code de la sécurité intérieure, art. R. 236-13 et seq. (retention in the files of the specialised services)",
	"recipient_kinds": ["intelligence", "police"],
	"retain_days": 1826,
	"assumption": "A Liaison reading: the services keep information in their prevention files for five years after the last event recorded; article numbers from secondary sources, not checked.",
}}
