# Lower Saxony, after sharing: what binds Lower Saxony's agencies' data once released (onward), and
# what a recipient in Lower Saxony may keep when the legal basis it
# received data under has ended (retention). Data only; see
# policies/liaison/onward.rego and retention.rego.
package liaison.jurisdictions.de_ni

# onward defines this pack's own handling conditions.
onward := {"DE_NI_INDIVIDUAL_MEASURE_PLAN": {
	"within": "case",
	"code": "MEASURE_PLAN_ONLY",
	"message": "what the case conference shares serves its individual measure plan, among its members",
	"citation": "Niedersächsisches Polizei- und Ordnungsbehördengesetz (NPOG) § 41; Niedersächsisches Justizvollzugsgesetz (NJVollzG)",
	"assumption": "A Liaison reading of the case conference's practice; not checked against the statutes.",
}}

# retention says what recipients in Lower Saxony may keep once the basis
# has ended.
retention := {"de_ni.npog.retention.39": {
	"citation": "Niedersächsisches Polizei- und Ordnungsbehördengesetz (NPOG) § 39 (review periods)",
	"recipient_kinds": ["police"],
	"retain_days": 1826,
	"assumption": "A Liaison reading: the police keep data until the review period, set here at five years; not checked.",
}}
