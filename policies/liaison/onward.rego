# Liaison onward use: the handling conditions a record was released under
# bind the agency that received it when it passes the record on (LED Art.
# 9(3): the recipient respects the transmitting authority's conditions;
# 9(4): the same conditions across a border as at home). The gateway
# names the release a record came from in input.provenance; this file
# reads it, refuses an onward exchange that breaks a condition (stage
# "onward" of decision.rego), and carries the conditions forward to the
# next recipient (_carried_conditions, in fields.rego).
package liaison

# onward_rules say what each shared handling condition forbids the agency
# that received data under it. A pack defines its own conditions in a rule
# "onward" of the same shape (see policies/README.md). Keys, all optional
# but code, message and citation:
#   within: "source_or_case": only back to the agency it came from, or
#           inside the case it was received in (the case's members, in that
#           case); "case": only inside that case
#   purposes: the purposes it may still serve
#   prohibited_purposes: purposes it may never serve
#   recipient_kinds: the kinds of agency it may still go to
#   carry_only: true for a condition that restricts no exchange itself
#           (it travels with the data and binds the next recipient)
# A condition no rule defines stops every onward exchange
# (CONDITION_NOT_UNDERSTOOD): the gateway cannot enforce what it cannot read.
onward_rules := {
	"NO_ONWARD_DISCLOSURE": {
		"within": "source_or_case",
		"code": "ONWARD_DISCLOSURE_PROHIBITED",
		"message": "it was received on condition that it goes no further than the agency it came from or the case it was shared in",
		"citation": "LED Art. 9(3) (conditions of the transmitting authority)",
		"assumption": "A Liaison reading: NO_ONWARD_DISCLOSURE forbids passing the data beyond the circle it was disclosed to: back to the agency it came from is allowed, and so is sharing it inside the case it was disclosed in (with that case's members, in that case), which the case's legal basis already covers.",
	},
	"CASE_PURPOSE_ONLY": {
		"within": "case",
		"code": "OUTSIDE_THE_CASE",
		"message": "it was received for a case and may be used only inside that case, with its members",
		"citation": "LED Art. 9(3); the case's legal basis (purpose limitation, LED Art. 4(1)(b), GDPR Art. 5(1)(b))",
	},
	"STATISTICS_ONLY": {
		"purposes": ["statistics"],
		"code": "STATISTICS_ONLY",
		"message": "it was received for statistics and may serve no other purpose",
		"citation": "GDPR Art. 89; LED Art. 4(3)",
	},
	"LED_ART7_ASSESSMENT_NOT_FACT": {
		"carry_only": true,
		"code": "LED_ART7_ASSESSMENT_NOT_FACT",
		"message": "an assessment stays marked as an assessment, not a fact",
		"citation": "LED Art. 7(1)",
	},
	"LED_ART15_RESTRICTED": {
		"carry_only": true,
		"code": "LED_ART15_RESTRICTED",
		"message": "the data subject's access to it stays restricted",
		"citation": "LED Art. 15",
	},
}

# ---------------------------------------------------------------------------
# The provenance in the input.

_provenance_given if {
	_in.provenance != null
}

_provenance := _obj(_in.provenance) if _provenance_given

_prov_holder := _obj(object.get(_provenance, "holder", {}))

_prov_recipient := _obj(object.get(_provenance, "recipient", {}))

_prov_case_id := object.get(_provenance, "case_id", "")

_prov_valid_until := object.get(_provenance, "valid_until", "")

# _prov_condition_list is the list of conditions as the input gives it: a
# list left out or null is the empty list, as the contract reads a list
# (policies/README.md); anything else that is not a list is malformed.
_prov_condition_list := c if {
	c := object.get(_provenance, "conditions", null)
	is_array(c)
} else := [] if {
	object.get(_provenance, "conditions", null) == null
}

_prov_conditions := {c | some c in _prov_condition_list} if _provenance_valid

else := set()

# _provenance_valid is true when input.provenance has the shape of the
# contract (policies/README.md): an entry index, the parties, the basis,
# purpose, case and validity as strings, and the conditions as codes.
_provenance_valid if {
	is_number(_provenance.audit_index)
	_provenance.audit_index >= 0
	_party_valid(_prov_holder)
	_party_valid(_prov_recipient)
	is_string(object.get(_provenance, "legal_basis", ""))
	object.get(_provenance, "purpose", "") in (purposes | {""})
	is_string(_prov_case_id)
	_date_or_unknown(_prov_valid_until)
	_ = _prov_condition_list # undefined for conditions that are not a list
	every c in _prov_condition_list {
		is_string(c)
		regex.match(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`, c)
	}
}

_invalid_provenance if {
	_in.provenance != null # _provenance_given, written out
	not _provenance_valid
}

_invalid contains _reason(
	"INVALID_PROVENANCE",
	"The provenance of the record must name the entry it was released under (audit_index), the agency it came from and the one it went to, the legal basis, purpose, case and end date as strings, and its conditions as codes.",
) if {
	_invalid_provenance
}

# ---------------------------------------------------------------------------
# Stage "onward": a condition in force on the record forbids this exchange.

# _condition_rule(c) is the rule of condition c: a shared one, or the one
# a pack defines (condition codes are unique across packs; the tests check).
_condition_rule(c) := r if {
	r := onward_rules[c]
} else := r if {
	rs := {x | some k; x := data.liaison.jurisdictions[k].onward[c]}
	count(rs) == 1
	some r in rs
}

_back_to_source if _recipient_agency == _prov_holder.agency

_inside_original_case if {
	_prov_case_id != ""
	_case_valid
	_case_id == _prov_case_id
	_recipient_agency in _case_members
	_requester.agency in _case_members
}

_onward_broken(r) if {
	r.within == "source_or_case"
	not _back_to_source
	not _inside_original_case
}

_onward_broken(r) if {
	r.within == "case"
	not _inside_original_case
}

_onward_broken(r) if {
	allowed := r.purposes
	not _purpose in allowed
}

_onward_broken(r) if _purpose in r.prohibited_purposes

_onward_broken(r) if {
	allowed := r.recipient_kinds
	not _recipient_kind in allowed
}

_prov_from := sprintf("received from %s under entry %v", [_prov_holder.agency, _provenance.audit_index])

_onward_reasons contains _reason(r.code, sprintf("This record may not go to %s for %s: %s (%s; condition %s, %s).", [
	_recipient_agency, _purpose_noun(_purpose), r.message, r.citation, c, _prov_from,
])) if {
	some c in _prov_conditions
	r := _condition_rule(c)
	_onward_broken(r)
}

_onward_reasons contains _reason("CONDITION_NOT_UNDERSTOOD", sprintf(
	"This record came with the condition %s, which Liaison's policy does not define, so it cannot be passed on (%s).",
	[c, _prov_from],
)) if {
	some c in _prov_conditions
	not _condition_rule(c)
}

_onward_reasons contains _reason("PROVENANCE_BASIS_ENDED", sprintf(
	"The legal basis %s this record was received under ended on %s; what is kept after that may not be passed on (%s).",
	[_provenance.legal_basis, _prov_valid_until, _prov_from],
)) if {
	_provenance_valid
	_prov_valid_until != ""
	wall_clock_ns(_now_ns, basis_time_zone(_provenance.legal_basis)) >= date_ns(_prov_valid_until) + day_ns
}

# _carried_conditions travel with the record to the next recipient: the
# conditions in force on it, whatever the onward decision adds.
_carried_conditions := _prov_conditions

# _onward_assumptions are the unverified readings of the conditions that
# refused an onward exchange, for data.liaison.explain.
_onward_assumptions := [a |
	some c in sort([c | some c in _prov_conditions])
	r := _condition_rule(c)
	_onward_broken(r)
	a := object.get(r, "assumption", "")
	a != ""
]
