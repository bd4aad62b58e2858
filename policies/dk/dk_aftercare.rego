# Denmark, after sharing: what binds Danish agencies' data once released: the meaning of the
# Danish handling condition (onward), and what a Danish recipient may
# keep when the legal basis it received data under has ended
# (retention). Data only; the rules that read it are
# policies/liaison/onward.rego and retention.rego.
package liaison.jurisdictions.dk

# onward defines this pack's own handling conditions (see onward_rules in
# policies/liaison/onward.rego for the keys).
onward := {"DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION": {
	"prohibited_purposes": ["criminal_investigation"],
	"code": "NOT_FOR_CRIMINAL_INVESTIGATION",
	"message": "information exchanged in SSP, PSP or KSP cooperation may not be passed on for the investigation of a criminal case",
	"citation": "Retsplejeloven § 115, stk. 2, 2. pkt.",
	"assumption": "Reading of § 115 from secondary sources, not checked against retsinformation.dk: the stk. 2 bar is read as binding every later holder of the information, wherever it goes.",
}}

# retention says what Danish recipients may keep, and how many days from
# the first day the basis no longer covers, once the basis has ended.
retention := {
	"dk.rhl.retention.police": {
		"citation": "Retshåndhævelsesloven § 4, stk. 5 and § 5 (storage limitation; periodic review of the police's own files)",
		"recipient_kinds": ["police"],
		"record_types": ["release_notice", "risk_assessment", "police_observation", "probation_measures", "case_plan"],
		"retain_days": 1826,
		"assumption": "A Liaison reading: the police may keep crime-prevention information in their own files, restricted, until their periodic review, set here at five years; the Danish LED Act sets no fixed period. Not checked against retsinformation.dk.",
	},
	"dk.rhl.retention.kriminalforsorgen": {
		"citation": "Retshåndhævelsesloven § 4, stk. 5 (the Prison and Probation Service's case files)",
		"recipient_kinds": ["prison", "probation"],
		"record_types": ["release_notice", "risk_assessment", "probation_measures", "case_plan"],
		"retain_days": 3652,
		"assumption": "A Liaison reading: the Prison and Probation Service keeps what entered its case file for ten years after the supervision ended; not checked.",
	},
}
