# Bavaria, after sharing: what binds Bavarian agencies' data once released (onward), and what a
# Bavarian recipient may keep when the legal basis it received data
# under has ended (retention). Data only; see
# policies/liaison/onward.rego and retention.rego.
package liaison.jurisdictions.de_by

# onward defines this pack's own handling conditions.
onward := {"DE_BY_FAMILY_WORK_ONLY": {
	"purposes": ["family_support"],
	"code": "FAMILY_WORK_ONLY",
	"message": "what police family work learns serves family support only, never an investigation",
	"citation": "Polizeiaufgabengesetz (PAG), Art. 2 and Art. 48 (purpose limitation)",
	"assumption": "A Liaison reading of the Munich practice of police family work; not a statutory rule.",
}}

# retention says what Bavarian recipients may keep once the basis has ended.
retention := {"de_by.pag.retention.54": {
	"citation": "Polizeiaufgabengesetz (PAG), Art. 54 (review periods for stored personal data)",
	"recipient_kinds": ["police"],
	"retain_days": 1826,
	"assumption": "A Liaison reading: the police keep data until the review period, set here at five years for adults; the PAG sets periods by case, not checked.",
}}
