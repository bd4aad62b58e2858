# Liaison fields and conditions: what the recipient gets of each field, and
# the handling codes that travel with the data.
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
_outcome_fields(outcome, _) := _no_fields if {
	outcome in {"hit_only", "deny"}
}

_outcome_fields(outcome, f) := _fields_for_recipient(f) if {
	outcome in {"disclose", "pseudonymise"}
}

_fields_for_recipient(f) := object.union(_field_lists(f), {"precision": f.precision}) if {
	is_string(f.precision)
	f.precision != ""
} else := _field_lists(f)

_field_lists(f) := {
	"keep": object.get(f, "keep", []),
	"generalise": object.get(f, "generalise", []),
	"pseudonymise": object.get(f, "pseudonymise", []),
} if {
	_recipient_kind != "ngo"
} else := {list: [x | some x in object.get(f, list, []); not _withheld(x)] |
	some list in ["keep", "generalise", "pseudonymise"]
}

# Global rule: an NGO never gets assessment fields in clear (LED Art. 7).
_withheld(x) if {
	_recipient_kind == "ngo"
	_is_assessment_field(x)
}

_is_assessment_field(x) if x == "assessment"

_is_assessment_field(x) if {
	is_string(x)
	startswith(x, "RiskAssessment.")
}

_field_notes(f) := [] if {
	_recipient_kind != "ngo"
} else := [_reason(
	"ASSESSMENT_WITHHELD_FROM_NGO",
	"Assessment fields are never given to an NGO in clear (LED Art. 7); they are left out.",
)] if {
	some list in ["keep", "generalise", "pseudonymise"]
	some x in object.get(f, list, [])
	_withheld(x)
} else := []

# _conditions joins the basis's (or fallback rule's) conditions with the
# global ones and those the record came with (onward.rego), sorted. A risk
# assessment whose assessment content is passed on is marked as an
# assessment, not a fact (LED Art. 7).
_conditions(own, fields) := sort(_conditions_here(own, fields) | _carried_conditions)

_conditions_here(own, fields) := {c | some c in own} | _global_conditions(fields)

_global_conditions(fields) := {"LED_ART7_ASSESSMENT_NOT_FACT"} if {
	_record_type == "risk_assessment"
	some list in ["keep", "generalise"]
	some x in fields[list]
	_is_assessment_field(x)
} else := set()
