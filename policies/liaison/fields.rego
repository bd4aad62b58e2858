# Liaison fields and conditions: what the recipient gets of each field, and
# the handling codes that travel with the data. The functions take whether
# the recipient is an NGO (ngo) rather than reading the input, so that the
# fields of every basis are worked out once, for both cases (index.rego).
package liaison

# _full_fields is what a basis without a "fields" entry discloses.
_full_fields := {
	"keep": ["direct_identifier", "quasi_identifier", "sensitive", "assessment", "operational", "free_text"],
	"generalise": [],
	"pseudonymise": [],
}

# _default_pseudonymised_fields is what a fallback rule without a "fields"
# entry gives: operational facts, coarsened quasi-identifiers, pseudonyms
# for direct identifiers; sensitive data, assessments and free text dropped.
_default_pseudonymised_fields := {
	"keep": ["operational"],
	"generalise": ["quasi_identifier"],
	"pseudonymise": ["direct_identifier"],
	"precision": "month",
}

# _outcome_fields gives the fields for an outcome: hit_only and deny carry
# no content.
_outcome_fields(outcome, _, _) := _no_fields if {
	outcome in {"hit_only", "deny"}
}

_outcome_fields(outcome, f, ngo) := _fields_for_recipient(f, ngo) if {
	outcome in {"disclose", "pseudonymise"}
}

_fields_for_recipient(f, ngo) := object.union(_field_lists(f, ngo), {"precision": f.precision}) if {
	is_string(f.precision)
	f.precision != ""
} else := _field_lists(f, ngo)

_field_lists(f, ngo) := {
	"keep": object.get(f, "keep", []),
	"generalise": object.get(f, "generalise", []),
	"pseudonymise": object.get(f, "pseudonymise", []),
} if {
	ngo == false
} else := {list: [x | some x in object.get(f, list, []); not _is_assessment_field(x)] |
	some list in ["keep", "generalise", "pseudonymise"]
}

# Global rule: an NGO never gets assessment fields in clear (LED Art. 7).
_is_assessment_field(x) if x == "assessment"

_is_assessment_field(x) if {
	is_string(x)
	startswith(x, "RiskAssessment.")
}

_field_notes(f, ngo) := [] if {
	ngo == false
} else := [_reason(
	"ASSESSMENT_WITHHELD_FROM_NGO",
	"Assessment fields are never given to an NGO in clear (LED Art. 7); they are left out.",
)] if {
	some list in ["keep", "generalise", "pseudonymise"]
	some x in object.get(f, list, [])
	_is_assessment_field(x)
} else := []

# _conditions_for(own, fields, risk) joins the basis's (or fallback rule's)
# conditions with the global ones, sorted. A risk assessment (risk is true)
# whose assessment content is passed on is marked as an assessment, not a
# fact (LED Art. 7).
_conditions_for(own, fields, risk) := sort({c | some c in own} | _global_conditions(fields, risk))

# _with_carried(conditions) adds to a decision's conditions (sorted) those
# the record came with (onward.rego), sorted. A record of the requester's
# own (no provenance) comes with none.
_with_carried(conditions) := conditions if {
	not _in.provenance
} else := sort({c | some c in conditions} | _carried_conditions) if {
	count(_carried_conditions) > 0
} else := conditions

_global_conditions(fields, true) := {"LED_ART7_ASSESSMENT_NOT_FACT"} if {
	some list in ["keep", "generalise"]
	some x in fields[list]
	_is_assessment_field(x)
} else := set()

_global_conditions(_, false) := set()
