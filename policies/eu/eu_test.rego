# Tests of cross-border exchange: the EU instruments with the shared rules
# and the real packs. Run: go tool opa test policies/
package liaison_test.eu

import data.liaison

be_police := {"agency": "be-police-antwerpen", "kind": "police", "jurisdiction": "BE"}

nl_police := {"agency": "nl-police-rotterdam", "kind": "police", "jurisdiction": "NL"}

dk_police := {"agency": "dk-police-aarhus", "kind": "police", "jurisdiction": "DK"}

fr_dgsi := {"agency": "fr-dgsi", "kind": "intelligence", "jurisdiction": "FR"}

officer := {"id": "officer-1", "roles": [], "clearance": "secret"}

# Antwerp police tell Rotterdam police of a convicted person's release.
be_to_nl := {
	"action": "disclose",
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(be_police, {"officer": officer}),
	"holder": be_police,
	"recipient": nl_police,
	"subject": {
		"category": "convicted", "in_custody": true, "release_date": "2026-12-15",
		"probation_until": "", "municipality": "Antwerpen",
	},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "Moves to Rotterdam after release.",
}

with_(patch) := object.union(be_to_nl, patch)

# from_(holder, recipient) is be_to_nl pushed by holder to recipient.
from_(holder, recipient) := with_({"requester": object.union(holder, {"officer": officer}), "holder": holder, "recipient": recipient})

domestic(inp) := object.union(inp, {"recipient": object.union(inp.recipient, {"jurisdiction": inp.holder.jurisdiction})})

decide(inp) := d if {
	d := data.liaison.decision with input as inp
}

codes(d) := [r.code | some r in d.reasons]

# --- the instruments' own shape ---------------------------------------------

_instrument_keys := {"title", "citation", "member_states", "actions", "holder_kinds", "recipient_kinds", "record_types", "purposes", "assumption"}

_vocabulary := {
	"actions": liaison.actions,
	"holder_kinds": liaison.agency_kinds,
	"recipient_kinds": liaison.agency_kinds,
	"record_types": liaison.record_types,
	"purposes": liaison.purposes,
	"member_states": data.liaison.eu.member_states,
}

instrument_problems contains sprintf("instrument %s: unknown key %s", [id, k]) if {
	some id, i in data.liaison.eu.instruments
	some k, _ in i
	not k in _instrument_keys
}

instrument_problems contains sprintf("instrument %s: %s is missing or empty", [id, k]) if {
	some id, i in data.liaison.eu.instruments
	some k, _ in _vocabulary
	count(object.get(i, k, [])) == 0
}

instrument_problems contains sprintf("instrument %s: %s has unknown value %v", [id, k, v]) if {
	some id, i in data.liaison.eu.instruments
	some k, allowed in _vocabulary
	some v in object.get(i, k, [])
	not v in allowed
}

instrument_problems contains sprintf("instrument %s: id must start with eu. and it needs a citation", [id]) if {
	some id, i in data.liaison.eu.instruments
	not _id_and_citation(id, i)
}

_id_and_citation(id, i) if {
	startswith(id, "eu.")
	is_string(i.citation)
	i.citation != ""
}

test_instruments_are_well_formed if {
	count(data.liaison.eu.instruments) > 0
	count(instrument_problems) == 0
}

test_no_instrument_covers_intelligence_services if {
	every i in data.liaison.eu.instruments {
		not "intelligence" in i.holder_kinds
		not "intelligence" in i.recipient_kinds
	}
}

test_no_instrument_carries_criminal_offence_data_to_gdpr_recipients if {
	every i in data.liaison.eu.instruments {
		every k in i.recipient_kinds {
			every t in i.record_types {
				not _art10(k, t)
			}
		}
	}
}

_art10(k, t) if {
	k in liaison.gdpr_recipient_kinds
	t in liaison.criminal_offence_record_types
}

# --- both sides must allow; the holder's law governs -------------------------

test_police_to_police_across_a_border_uses_the_directive if {
	d := decide(be_to_nl)
	d.outcome == "disclose"
	d.legal_basis.id == "be.wpa.44_11_3ter"
	contains(d.legal_basis.citation, "; to NL under Directive (EU) 2023/977")
	contains(d.legal_basis.citation, "received under Wet politiegegevens")
	codes(d) == ["LEGAL_BASIS_APPLIES", "CROSS_BORDER"]
	contains(d.reasons[1].message, "LED Art. 9(4)")
	contains(d.legal_basis.assumption, "EU instrument: Denmark is not bound")
	contains(d.legal_basis.assumption, "Recipient side:")
}

test_led_art_9_4_same_fields_and_conditions_as_at_home if {
	abroad := decide(be_to_nl)
	home := decide(domestic(be_to_nl))
	home.outcome == "disclose"
	abroad.fields == home.fields
	abroad.conditions == home.conditions
}

test_denmark_is_reached_under_the_framework_decision if {
	d := decide(object.union(from_(dk_police, nl_police), {"subject": object.union(be_to_nl.subject, {"municipality": "Aarhus"})}))
	d.outcome == "disclose"
	d.legal_basis.id == "dk.rpl.115.stk1.nr3"
	contains(d.legal_basis.citation, "Framework Decision 2006/960/JHA")
	"DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION" in d.conditions
}

test_the_holders_prohibition_travels_across_the_border if {
	d := decide(object.union(from_(dk_police, nl_police), {"purpose": "criminal_investigation"}))
	d.outcome == "deny"
	codes(d) == ["PURPOSE_PROHIBITED"]
}

test_the_holders_validity_governs_across_the_border if {
	d := decide(object.union(from_(dk_police, nl_police), {"time": "2027-12-16T00:00:00Z"}))
	d.outcome == "deny"
	"LEGAL_BASIS_EXPIRED" in codes(d)
}

test_the_recipients_law_must_allow_receipt if {
	d := decide(from_(be_police, fr_dgsi))
	d.outcome == "deny"
	codes(d) == ["RECIPIENT_LAW_DOES_NOT_ALLOW"]
	contains(d.reasons[0].message, "Under French law, an intelligence service may not receive a release notice from BE")
}

test_a_recipient_jurisdiction_without_a_pack_cannot_be_checked if {
	packs := object.remove(data.liaison.jurisdictions, ["nl"])
	d := data.liaison.decision with input as be_to_nl with data.liaison.jurisdictions as packs
	d.outcome == "deny"
	codes(d) == ["NO_RECIPIENT_JURISDICTION_PACK"]
}

test_intelligence_services_have_no_eu_channel if {
	receipt := {"nl.test.aivd": {"citation": "test", "recipient_kinds": ["intelligence"], "record_types": ["release_notice"], "purposes": ["risk_management"]}}
	inp := from_(be_police, {"agency": "nl-aivd", "kind": "intelligence", "jurisdiction": "NL"})
	d := data.liaison.decision with input as inp with data.liaison.jurisdictions.nl.receipt as receipt
	d.outcome == "deny"
	codes(d) == ["NO_CROSS_BORDER_CHANNEL"]
	contains(d.reasons[0].message, "Art. 4(2) TEU")
}

test_without_the_eu_pack_nothing_crosses_between_member_states if {
	d := data.liaison.decision with input as be_to_nl with data.liaison.eu.instruments as {}
	d.outcome == "deny"
	codes(d) == ["NO_CROSS_BORDER_CHANNEL"]
}

test_prison_services_are_not_law_enforcement_authorities_of_the_directive if {
	be_prison := {"agency": "be-prison-haren", "kind": "prison", "jurisdiction": "BE"}
	d := decide(from_(be_prison, nl_police))
	d.outcome == "deny"
	codes(d) == ["NO_CROSS_BORDER_CHANNEL"]
}

test_a_match_across_the_border_is_hit_only if {
	inp := object.union(be_to_nl, {
		"action": "match", "holder": be_police,
		"requester": object.union(nl_police, {"officer": officer}),
	})
	d := decide(inp)
	d.outcome == "hit_only"
	d.fields == {"keep": [], "generalise": [], "pseudonymise": []}
}

test_a_pseudonymised_fallback_crosses_on_the_same_terms if {
	# no Dutch basis lets the police share outside a case; the fallback does
	inp := object.union(from_(nl_police, be_police), {"record_type": "police_observation", "holder": nl_police, "subject": object.union(be_to_nl.subject, {"in_custody": false})})
	d := decide(inp)
	d.outcome == "pseudonymise"
	codes(d)[0] == "PSEUDONYMISED_OUTSIDE_CASE"
	"CROSS_BORDER" in codes(d)
	home := decide(domestic(inp))
	d.fields == home.fields
	d.conditions == home.conditions
}

test_family_work_crosses_only_between_social_services if {
	by_social := {"agency": "de-by-jugendamt-muenchen", "kind": "social_services", "jurisdiction": "DE-BY"}
	fr_social := {"agency": "fr-ase-rhone", "kind": "social_services", "jurisdiction": "FR"}
	by_police := {"agency": "de-by-polizei-muenchen", "kind": "police", "jurisdiction": "DE-BY"}
	inp := object.union(from_(by_social, fr_social), {"record_type": "family_contact", "purpose": "family_support"})
	d := decide(inp)
	d.outcome == "disclose"
	d.legal_basis.id == "de_by.pag.family_work"
	contains(d.legal_basis.citation, "GDPR")
	"DE_BY_FAMILY_WORK_ONLY" in d.conditions
	codes(decide(object.union(from_(by_police, fr_social), {"record_type": "family_contact", "purpose": "family_support"}))) == ["NO_CROSS_BORDER_CHANNEL"]
}

# --- LED Art. 9(4) for every pack ----------------------------------------------
#
# For every basis of every pack and every EU instrument that overlaps it, a
# representative exchange is decided for a domestic recipient and for the
# same recipient in every other Member State with a pack. Wherever the
# foreign recipient gets anything, it gets what the domestic one gets: the
# same outcome, fields and conditions.

_first_common(a, b) := min({x | some x in a; x in b})

_probe(p, b, i, jurisdiction) := inp if {
	holder := {"agency": "holder", "kind": _first_common(b.holder_kinds, i.holder_kinds), "jurisdiction": p.code}
	recipient := {"agency": "recipient", "kind": _first_common(b.recipient_kinds, i.recipient_kinds), "jurisdiction": jurisdiction}
	action := _first_common(b.actions, i.actions)
	requester := _requester(action, holder, recipient)
	inp := object.union(
		{
			"action": action,
			"time": "2027-01-10T10:00:00Z",
			"requester": object.union(requester, {"officer": {"id": "o", "roles": [], "clearance": "top_secret"}}),
			"holder": holder,
			"recipient": recipient,
			"subject": {
				"category": object.get(b, ["subject", "categories"], ["convicted"])[0],
				"in_custody": object.get(b, ["subject", "in_custody"], false),
				"release_date": "2027-01-01", "probation_until": "2029-01-01", "municipality": "x",
			},
			"record_type": _first_common(b.record_types, i.record_types),
			"purpose": _first_common(b.purposes, i.purposes),
			"claimed_legal_basis": "",
			"justification": "probe",
		},
		_case(b),
	)
}

_requester(action, holder, recipient) := holder if action in {"disclose", "notify"}

else := recipient

_case(b) := {"case": {"id": "C", "members": ["holder", "recipient"], "lead": "holder"}} if b.requires_case

else := {}

_pairs contains [sprintf("%s %s via %s to %s", [p.code, id, iid, q]), home, abroad] if {
	some p in data.liaison.jurisdictions
	some id, b in p.bases
	not "recipient_jurisdictions" in object.keys(b)
	some iid, i in data.liaison.eu.instruments
	home := decide(_probe(p, b, i, p.code))
	some q in _one_per_member_state
	liaison.member_state(q) != liaison.member_state(p.code)
	abroad := decide(_probe(p, b, i, q))
}

# _one_per_member_state is one jurisdiction code per Member State with a pack.
_one_per_member_state := {min(codes) |
	some p in data.liaison.jurisdictions
	ms := liaison.member_state(p.code)
	codes := {q.code | some q in data.liaison.jurisdictions; liaison.member_state(q.code) == ms}
}

test_led_art_9_4_holds_for_every_pack if {
	count({where | some [where, _, abroad] in _pairs; abroad.outcome != "deny"}) > 20
	every pair in _pairs {
		_no_stricter(pair[1], pair[2])
	}
}

_no_stricter(_, abroad) if abroad.outcome == "deny"

_no_stricter(home, abroad) if {
	abroad.outcome != "deny"
	abroad.outcome == home.outcome
	abroad.fields == home.fields
	abroad.conditions == home.conditions
}
