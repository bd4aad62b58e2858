# Liaison cross-border exchange: the rules for a recipient under another
# law than the holder's.
#
# - The holder's law governs: its pack's bases, prohibitions and fallback
#   decide, as for any exchange.
# - Both sides must allow: the recipient's pack must have a receipt rule
#   that lets the recipient receive this record type for this purpose
#   (stage recipient_law in decision.rego). A recipient jurisdiction without
#   a pack cannot be checked, so the exchange is refused.
# - Between Member States an EU instrument (package liaison.eu) must carry
#   the exchange, unless the holder's basis names the recipient's
#   jurisdiction itself. Where an instrument carries it, a basis that
#   covers domestic recipients covers the foreign one on the same terms:
#   same fields, same conditions (LED Art. 9(4)); see _jurisdiction_covered
#   in bases.rego.
package liaison

# _eu_instrument is the id of the EU instrument that carries this exchange
# (the lowest id among those that apply), undefined if none does or the
# exchange stays within one Member State.
_eu_instrument := min(ids) if {
	_cross_member_state
	ids := {id | some id, i in _instruments; _instrument_applies(i)}
	count(ids) > 0
}

_instrument_applies(i) if {
	member_state(_in.holder.jurisdiction) in i.member_states
	member_state(_in.recipient.jurisdiction) in i.member_states
	_in.action in i.actions
	_in.holder.kind in i.holder_kinds
	_in.recipient.kind in i.recipient_kinds
	_in.record_type in i.record_types
	_in.purpose in i.purposes
}

# _receipt_id is the recipient's receipt rule that lets it receive this
# exchange (the lowest id among those that apply).
_receipt_id := min(ids) if {
	_cross_border
	ids := {id | some id, r in _receipt_rules; _receipt_applies(r)}
	count(ids) > 0
}

_receipt_applies(r) if {
	_in.recipient.kind in r.recipient_kinds
	_in.record_type in r.record_types
	_in.purpose in r.purposes
	_in.holder.kind in object.get(r, "holder_kinds", agency_kinds)
	_in.holder.jurisdiction in object.get(r, "from_jurisdictions", [_in.holder.jurisdiction])
}

# _recipient_law_refuses is true for a cross-border exchange the
# recipient's law does not allow the recipient to receive.
_recipient_law_refuses if {
	_cross_border
	not _receipt_id
}

_recipient_law_reasons := [_reason("NO_RECIPIENT_JURISDICTION_PACK", sprintf(
	"No rules for the law of %s are loaded, so Liaison cannot check that %s may receive the record there; a cross-border exchange needs both sides' law to allow it.",
	[_in.recipient.jurisdiction, _in.recipient.agency],
))] if {
	not _has_recipient_pack
} else := [_reason("RECIPIENT_LAW_DOES_NOT_ALLOW", sprintf(
	"Under %s, %s may not receive %s from %s for %s; a cross-border exchange needs both sides' law to allow it.",
	[_recipient_law, _kind_noun(_in.recipient.kind), _record_noun(_in.record_type), _in.holder.jurisdiction, _purpose_noun(_in.purpose)],
))]

# _no_channel_reason explains a cross-border denial where no basis of the
# holder's law reaches the recipient's Member State.
_no_channel_reason := _reason("NO_CROSS_BORDER_CHANNEL", sprintf(
	"No EU instrument carries %s from %s in %s to %s in %s for %s, and no legal basis in %s names recipients in %s.%s",
	[
		_record_noun(_in.record_type), _kind_noun(_in.holder.kind), _in.holder.jurisdiction,
		_kind_noun(_in.recipient.kind), _in.recipient.jurisdiction, _purpose_noun(_in.purpose),
		_law, _in.recipient.jurisdiction, _national_security_note,
	],
))

_national_security_note := " National security remains the sole responsibility of each Member State (Art. 4(2) TEU), so no EU instrument covers intelligence services." if {
	"intelligence" in {_in.holder.kind, _in.recipient.kind}
} else := ""

# _cross_border_notes is the reason a cross-border disclosure carries: the
# channel and the recipient's side, for the caseworker and the audit log.
_cross_border_notes(x) := [] if {
	not _cross_border
} else := [_reason("CROSS_BORDER", sprintf(
	"%s governs; %s carries the exchange to %s, and %s lets the recipient receive it (%s). The recipient gets the same fields and conditions as one in %s would (LED Art. 9(4)).",
	[_law, _instruments[_eu_instrument].citation, _in.recipient.jurisdiction, _recipient_law, _receipt_rules[_receipt_id].citation, _in.holder.jurisdiction],
))] if {
	_via_instrument(x)
} else := [_reason("CROSS_BORDER", sprintf(
	"%s governs and names recipients in %s; %s lets the recipient receive it (%s).",
	[_law, _in.recipient.jurisdiction, _recipient_law, _receipt_rules[_receipt_id].citation],
))]

# _cross_border_citation(x) is appended to the citation of basis x.
_cross_border_citation(x) := "" if {
	not _cross_border
} else := sprintf("; to %s under %s; received under %s", [
	_in.recipient.jurisdiction,
	_instruments[_eu_instrument].citation,
	_receipt_rules[_receipt_id].citation,
]) if {
	_via_instrument(x)
} else := sprintf("; received under %s", [_receipt_rules[_receipt_id].citation])

# _cross_border_assumptions(x) are the unverified readings a cross-border
# exchange under basis or rule x also rests on.
_cross_border_assumptions(x) := [] if {
	not _cross_border
} else := [a |
	some a in [
		_instrument_assumption(x),
		_prefixed("Recipient side:", object.get(_receipt_rules[_receipt_id], "assumption", "")),
	]
	a != ""
]

_instrument_assumption(x) := _prefixed("EU instrument:", object.get(_instruments[_eu_instrument], "assumption", "")) if {
	_via_instrument(x)
} else := ""

_prefixed(prefix, a) := "" if a == ""

else := concat(" ", [prefix, a])
