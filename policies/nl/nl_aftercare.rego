# Netherlands, after sharing: what binds Dutch agencies' data once released (onward), and what a
# Dutch recipient may keep when the legal basis it received data under
# has ended (retention). Data only; see policies/liaison/onward.rego
# and retention.rego.
package liaison.jurisdictions.nl

# onward defines this pack's own handling conditions.
onward := {"NO_REIDENTIFICATION_WITHOUT_CASE": {
	"carry_only": true,
	"code": "NO_REIDENTIFICATION_WITHOUT_CASE",
	"message": "a pseudonym received outside a case may not be re-identified; the record itself may travel as its other conditions allow",
	"citation": "Safety House covenant, case consultation on radicalisation (casusoverleg)",
	"assumption": "A Liaison reading: the condition restricts re-identification, which the dual control of the reidentify action enforces, not onward exchange itself.",
}}

# retention says what Dutch recipients may keep once the basis has ended.
retention := {"nl.wpg.retention.art8": {
	"citation": "Wet politiegegevens, art. 8 and 14 (daily police tasks: kept for one year, then removed)",
	"recipient_kinds": ["police"],
	"retain_days": 365,
	"assumption": "A Liaison reading: data the police receive for risk management are processed under Wpg art. 8, which must be removed one year after first processing; counted here from the end of the basis. Not checked with a Dutch lawyer.",
}}
