# Tests of the shared rules for onward use (onward.rego) and retention
# (retention.rego), with the made-up pack "ZZ" of decision_test.rego and
# a second made-up pack "YY" for the recipient's side; and checks of the
# onward and retention rules of every loaded pack.
# Run: go tool opa test policies/ -r onward
package liaison_test.onward

import data.liaison
import data.liaison_test

zz_pack := object.union(liaison_test.zz_pack, {
	"onward": {"ZZ_ONE": {
		"prohibited_purposes": ["statistics"],
		"code": "ZZ_NOT_FOR_STATISTICS",
		"message": "Zedland data serve no statistics",
		"citation": "ZZ Act § 7",
	}},
	"retention": {
		"zz.keep.police": {
			"citation": "ZZ Police Act § 1",
			"recipient_kinds": ["police"],
			"record_types": ["release_notice"],
			"retain_days": 30,
		},
		"zz.keep.long": {
			"citation": "ZZ Police Act § 2",
			"recipient_kinds": ["police"],
			"retain_days": 3650,
			"assumption": "Unverified.",
		},
	},
	"bases": object.union(liaison_test.zz_pack.bases, {"zz.police.onward": {
		"citation": "ZZ Act § 8",
		"actions": ["disclose"],
		"holder_kinds": ["police"],
		"recipient_kinds": ["prison", "social_services", "police"],
		"record_types": ["release_notice", "case_plan"],
		"purposes": ["risk_management", "maw_case_management", "statistics"],
		"validity": {"type": "none"},
		"requires_case": false,
		"conditions": ["ZZ_POLICE"],
	}}),
})

zz_prison := {"agency": "zz-prison", "kind": "prison", "jurisdiction": "ZZ"}

zz_police := {"agency": "zz-police", "kind": "police", "jurisdiction": "ZZ"}

zz_social := {"agency": "zz-social", "kind": "social_services", "jurisdiction": "ZZ"}

zz_case := {"id": "ZZ-CASE-1", "members": ["zz-prison", "zz-police", "zz-social"], "lead": "zz-social"}

# The Zedland police received a release notice from the prison (entry 17)
# and now pass it on.
provenance(conditions) := {
	"audit_index": 17,
	"holder": zz_prison,
	"recipient": zz_police,
	"legal_basis": "zz.1",
	"valid_until": "",
	"purpose": "risk_management",
	"case_id": "",
	"conditions": conditions,
}

onward := {
	"action": "disclose",
	"time": "2026-11-26T10:00:00Z",
	"requester": object.union(zz_police, {"officer": {"id": "p", "roles": [], "clearance": "restricted"}}),
	"holder": zz_police,
	"recipient": zz_social,
	"subject": {"category": "convicted", "in_custody": true, "release_date": "2026-12-15", "probation_until": "", "municipality": ""},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "test",
}

with_(patch) := object.union(onward, patch)

with_conditions(cs) := with_({"provenance": provenance(cs)})

decide(inp) := d if {
	d := data.liaison.decision with input as inp with data.liaison.jurisdictions as {"zz": zz_pack}
}

stage(inp) := x.stage if {
	x := data.liaison.explain with input as inp with data.liaison.jurisdictions as {"zz": zz_pack}
}

codes(d) := [r.code | some r in d.reasons]

test_without_provenance_the_record_is_the_holders_own if {
	d := decide(onward)
	d.outcome == "disclose"
	d.conditions == ["ZZ_POLICE"]
}

test_no_onward_disclosure_refuses_a_third_agency if {
	inp := with_conditions(["NO_ONWARD_DISCLOSURE", "ZZ_ONE"])
	d := decide(inp)
	d.outcome == "deny"
	codes(d) == ["ONWARD_DISCLOSURE_PROHIBITED"]
	contains(d.reasons[0].message, "received from zz-prison under entry 17")
	contains(d.reasons[0].message, "condition NO_ONWARD_DISCLOSURE")
	stage(inp) == "onward"
}

test_explain_names_the_reading_of_the_condition_that_refused if {
	x := data.liaison.explain with input as with_conditions(["NO_ONWARD_DISCLOSURE", "ZZ_ONE"])
		with data.liaison.jurisdictions as {"zz": zz_pack}
	x.stage == "onward"
	count(x.assumptions) == 1
	contains(x.assumptions[0], "beyond the circle it was disclosed to")
}

test_no_onward_disclosure_lets_it_go_back_to_its_source_and_carries_the_conditions if {
	d := decide(object.union(with_conditions(["NO_ONWARD_DISCLOSURE", "ZZ_ONE"]), {"recipient": zz_prison}))
	d.outcome == "disclose"
	d.conditions == ["NO_ONWARD_DISCLOSURE", "ZZ_ONE", "ZZ_POLICE"]
}

test_no_onward_disclosure_lets_it_go_around_the_case_it_was_shared_in if {
	p := object.union(provenance(["NO_ONWARD_DISCLOSURE", "CASE_PURPOSE_ONLY"]), {"case_id": "ZZ-CASE-1", "purpose": "maw_case_management"})
	inside := with_({"provenance": p, "case": zz_case, "purpose": "maw_case_management"})
	d := decide(inside)
	d.outcome == "disclose"
	d.conditions == ["CASE_PURPOSE_ONLY", "NO_ONWARD_DISCLOSURE", "ZZ_POLICE"]

	# Another case, or no case: outside.
	other := decide(object.union(inside, {"case": object.union(zz_case, {"id": "ZZ-CASE-2"})}))
	codes(other) == ["ONWARD_DISCLOSURE_PROHIBITED", "OUTSIDE_THE_CASE"]
	none := decide(with_({"provenance": p, "purpose": "maw_case_management"}))
	codes(none) == ["ONWARD_DISCLOSURE_PROHIBITED", "OUTSIDE_THE_CASE"]

	# A recipient outside the case's members.
	outsider := decide(object.union(inside, {"recipient": {"agency": "zz-police-2", "kind": "police", "jurisdiction": "ZZ"}}))
	codes(outsider) == ["ONWARD_DISCLOSURE_PROHIBITED", "OUTSIDE_THE_CASE"]
}

test_case_purpose_only_without_a_case_refuses_every_onward_exchange if {
	d := decide(with_conditions(["CASE_PURPOSE_ONLY"]))
	codes(d) == ["OUTSIDE_THE_CASE"]
}

test_statistics_only if {
	codes(decide(with_conditions(["STATISTICS_ONLY"]))) == ["STATISTICS_ONLY"]
	decide(with_({"provenance": provenance(["STATISTICS_ONLY"]), "purpose": "statistics"})).outcome == "disclose"
}

test_a_packs_own_condition_is_read_from_the_pack if {
	decide(with_conditions(["ZZ_ONE"])).outcome == "disclose"
	d := decide(with_({"provenance": provenance(["ZZ_ONE"]), "purpose": "statistics"}))
	codes(d) == ["ZZ_NOT_FOR_STATISTICS"]
	contains(d.reasons[0].message, "ZZ Act § 7")
}

test_carry_only_conditions_restrict_nothing_and_travel if {
	d := decide(with_conditions(["LED_ART15_RESTRICTED", "LED_ART7_ASSESSMENT_NOT_FACT"]))
	d.outcome == "disclose"
	d.conditions == ["LED_ART15_RESTRICTED", "LED_ART7_ASSESSMENT_NOT_FACT", "ZZ_POLICE"]
}

test_an_unknown_condition_stops_the_record if {
	d := decide(with_conditions(["ZZ_SOMETHING_NEW"]))
	d.outcome == "deny"
	codes(d) == ["CONDITION_NOT_UNDERSTOOD"]
}

test_data_kept_after_its_basis_ended_may_not_go_on if {
	p := object.union(provenance([]), {"valid_until": "2026-11-25"})
	codes(decide(with_({"provenance": p}))) == ["PROVENANCE_BASIS_ENDED"]
	decide(with_({"provenance": object.union(p, {"valid_until": "2026-11-26"})})).outcome == "disclose"
}

# The basis a record was received under ends at the end of its
# valid_until where the law of that basis is: in the time_zone of the pack
# whose key begins the basis's id (yy.1: Yland's, Copenhagen), whichever
# law decides the onward exchange (Zedland's, which names none: UTC).
yy_packs := {"zz": zz_pack, "yy": {"code": "YY", "law_name": "Yland law", "time_zone": "Europe/Copenhagen", "bases": {}}}

onward_at(p, t) := d if {
	d := data.liaison.decision with input as with_({"provenance": p, "time": t}) with data.liaison.jurisdictions as yy_packs
}

test_the_basis_received_under_ends_at_midnight_where_its_law_is if {
	yy_prison := {"agency": "yy-prison", "kind": "prison", "jurisdiction": "YY"}
	p := object.union(provenance([]), {"holder": yy_prison, "legal_basis": "yy.1", "valid_until": "2026-11-26"})
	onward_at(p, "2026-11-26T22:59:59Z").outcome == "disclose" # 23:59:59 in Copenhagen
	codes(onward_at(p, "2026-11-26T23:00:00Z")) == ["PROVENANCE_BASIS_ENDED"] # midnight there
	codes(onward_at(p, "2026-11-27T00:30:00+01:00")) == ["PROVENANCE_BASIS_ENDED"]

	# a basis of Zedland's, whose pack names no time zone, ends at midnight UTC
	z := object.union(provenance([]), {"valid_until": "2026-11-26"})
	onward_at(z, "2026-11-26T23:30:00Z").outcome == "disclose"
	codes(onward_at(z, "2026-11-27T00:00:00Z")) == ["PROVENANCE_BASIS_ENDED"]
}

test_a_malformed_provenance_is_refused_at_validation if {
	every p in [
		"x",
		{},
		object.union(provenance([]), {"conditions": "NO_ONWARD_DISCLOSURE"}),
		object.union(provenance([]), {"conditions": ["no onward"]}),
		object.union(provenance([]), {"audit_index": -1}),
		object.union(provenance([]), {"holder": "zz-prison"}),
		object.union(provenance([]), {"valid_until": "soon"}),
		object.union(provenance([]), {"purpose": "curiosity"}),
	] {
		d := decide(with_({"provenance": p}))
		codes(d) == ["INVALID_PROVENANCE"]
	}
	decide(with_({"provenance": null})).outcome == "disclose"
}

# A list of conditions left out or null is the empty list, as the contract
# reads a list: the record is held under no condition, as with [].
test_conditions_null_or_left_out_are_none if {
	decide(with_conditions([])).outcome == "disclose"
	decide(with_conditions(null)).outcome == "disclose"
	decide(with_({"provenance": object.remove(provenance([]), ["conditions"])})).outcome == "disclose"
}

test_the_holders_prohibition_comes_before_the_conditions if {
	d := decide(with_({"provenance": provenance(["NO_ONWARD_DISCLOSURE"]), "purpose": "criminal_investigation"}))
	codes(d) == ["PURPOSE_PROHIBITED"]
}

# --- retention -------------------------------------------------------------

retention(inp) := r if {
	r := data.liaison.retention with input as inp with data.liaison.jurisdictions as {"zz": zz_pack}
}

# The prison's release to the police under zz.1, as of the day after its
# basis ended.
expired := {
	"action": "disclose",
	"time": "2027-03-02T00:00:00Z",
	"requester": object.union(zz_prison, {"officer": {"id": "o", "roles": [], "clearance": "restricted"}}),
	"holder": zz_prison,
	"recipient": zz_police,
	"subject": {"category": "convicted", "in_custody": false, "release_date": "2026-12-15", "probation_until": "2027-03-01", "municipality": ""},
	"record_type": "release_notice",
	"purpose": "risk_management",
	"claimed_legal_basis": "",
	"justification": "test",
}

test_retention_the_applicable_rule_with_the_lowest_id if {
	r := retention(expired)
	r.obligation == "retain"
	r.rule == {"id": "zz.keep.long", "citation": "ZZ Police Act § 2", "retain_until": "2037-02-27", "assumption": "Unverified."}
	r.reasons[0].code == "RETENTION_RULE_APPLIES"
}

test_retention_narrowed_by_record_type if {
	r := retention(object.union(expired, {"record_type": "case_plan"}))
	r.rule.id == "zz.keep.long"
	only := json.patch(zz_pack, [{"op": "remove", "path": "/retention/zz.keep.long"}])
	s := data.liaison.retention with input as expired with data.liaison.jurisdictions as {"zz": only}
	s.rule == {"id": "zz.keep.police", "citation": "ZZ Police Act § 1", "retain_until": "2027-04-01"}
	t := data.liaison.retention with input as object.union(expired, {"record_type": "case_plan"}) with data.liaison.jurisdictions as {"zz": only}
	t.obligation == "erase"
}

test_retention_erase_where_no_rule_applies if {
	r := retention(object.union(expired, {"recipient": zz_social}))
	r == {"obligation": "erase", "reasons": [{
		"code": "NO_RETENTION_RULE",
		"message": "The legal basis has ended and no rule of Zedland law lets social services keep a release notice: it must be erased.",
	}]}
}

test_retention_of_a_malformed_input_is_erase if {
	retention(object.union(expired, {"time": "later"})).obligation == "erase"
	retention({}).obligation == "erase"
}

# --- every loaded pack -------------------------------------------------------

_onward_keys := {"within", "purposes", "prohibited_purposes", "recipient_kinds", "carry_only", "code", "message", "citation", "assumption"}

_onward_constraints := {"within", "purposes", "prohibited_purposes", "recipient_kinds"}

_retention_keys := {"citation", "recipient_kinds", "record_types", "purposes", "holder_kinds", "from_jurisdictions", "retain_days", "assumption"}

_code_re := `^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`

_all_onward contains [sprintf("onward rule %s", [c]), c, r] if {
	some c, r in liaison.onward_rules
}

_all_onward contains [sprintf("pack %s: onward rule %s", [key, c]), c, r] if {
	some key, p in data.liaison.jurisdictions
	some c, r in p.onward
}

_onward_problems contains sprintf("%s: unknown key %s", [w, k]) if {
	some [w, _, r] in _all_onward
	some k, _ in r
	not k in _onward_keys
}

_onward_problems contains sprintf("%s: needs a code, a message and a citation", [w]) if {
	some [w, _, r] in _all_onward
	not _texts(r)
}

_texts(r) if {
	regex.match(_code_re, r.code)
	r.message != ""
	r.citation != ""
}

_onward_problems contains sprintf("%s: the condition is not an UPPER_SNAKE code", [w]) if {
	some [w, c, _] in _all_onward
	not regex.match(_code_re, c)
}

_onward_problems contains sprintf("%s: within must be source_or_case or case", [w]) if {
	some [w, _, r] in _all_onward
	"within" in object.keys(r)
	not r.within in {"source_or_case", "case"}
}

_onward_problems contains sprintf("%s: %s has unknown value %v", [w, k, v]) if {
	some [w, _, r] in _all_onward
	some k, vocab in {"purposes": liaison.purposes, "prohibited_purposes": liaison.purposes, "recipient_kinds": liaison.agency_kinds}
	some v in r[k]
	not v in vocab
}

_onward_problems contains sprintf("%s: a condition either restricts (%v) or is carry_only, not both or neither", [w, _onward_constraints]) if {
	some [w, _, r] in _all_onward
	restricts := count(_onward_constraints & {k | some k, _ in r}) > 0
	carry := object.get(r, "carry_only", false) == true
	restricts == carry
}

_onward_problems contains sprintf("condition %s is defined %d times (shared rules and packs); codes must be unique", [c, n]) if {
	some [_, c, _] in _all_onward
	n := count({w | some [w, c2, _] in _all_onward; c2 == c})
	n > 1
}

# Every condition a pack can attach is defined, so that the gateway can
# enforce it when the data goes on.
_onward_problems contains sprintf("pack %s: %s attaches condition %s, which no onward rule defines", [key, id, c]) if {
	some key, p in data.liaison.jurisdictions
	some id, x in object.union(p.bases, {sprintf("fallback rule %d", [i]): r | some i, r in p.fallback.rules})
	some c in object.get(x, "conditions", [])
	not c in {c2 | some [_, c2, _] in _all_onward}
}

test_every_onward_rule_is_well_formed_and_every_condition_defined if {
	count(_onward_problems) == 0
}

test_the_checks_catch_a_broken_onward_rule if {
	problems := _onward_problems with data.liaison.jurisdictions as {"zz": object.union(zz_pack, {"onward": {
		"ZZ_ONE": {"within": "nowhere", "purposes": ["gossip"], "code": "x", "message": "", "citation": "c", "colour": "red"},
		"NO_ONWARD_DISCLOSURE": {"carry_only": true, "code": "A", "message": "m", "citation": "c"},
	}})}
	count(problems) == 7
}

_retention_problems contains sprintf("pack %s: retention %s: unknown key %s", [key, id, k]) if {
	some key, p in data.liaison.jurisdictions
	some id, r in p.retention
	some k, _ in r
	not k in _retention_keys
}

_retention_problems contains sprintf("pack %s: retention %s: id must start with %s.", [key, id, key]) if {
	some key, p in data.liaison.jurisdictions
	some id, _ in p.retention
	not startswith(id, concat("", [key, "."]))
}

_retention_problems contains sprintf("pack %s: retention %s needs a citation, recipient_kinds, a whole number of retain_days above 0 and an assumption", [key, id]) if {
	some key, p in data.liaison.jurisdictions
	some id, r in p.retention
	not _retention_ok(r)
}

_retention_ok(r) if {
	r.citation != ""
	count(r.recipient_kinds) > 0
	is_number(r.retain_days)
	r.retain_days > 0
	r.retain_days == round(r.retain_days)
	r.assumption != ""
}

_retention_problems contains sprintf("pack %s: retention %s: %s has unknown value %v", [key, id, k, v]) if {
	some key, p in data.liaison.jurisdictions
	some id, r in p.retention
	some k, vocab in {"recipient_kinds": liaison.agency_kinds, "holder_kinds": liaison.agency_kinds, "record_types": liaison.record_types, "purposes": liaison.purposes}
	some v in object.get(r, k, [])
	not v in vocab
}

test_every_retention_rule_is_well_formed if {
	count(_retention_problems) == 0
}

test_every_pack_says_what_its_police_may_keep if {
	every p in data.liaison.jurisdictions {
		some r in p.retention
		"police" in r.recipient_kinds
	}
}
