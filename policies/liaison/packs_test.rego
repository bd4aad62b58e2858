# Checks every loaded jurisdiction pack against the shape the shared rules
# expect, so that a typo in a new pack fails `opa test` instead of silently
# making a basis never (or always) apply. Run: go tool opa test -v policies/
package liaison_test

import data.liaison

_basis_keys := {
	"title", "citation", "actions", "holder_kinds", "recipient_kinds", "record_types",
	"purposes", "recipient_jurisdictions", "subject", "validity", "requires_case",
	"min_clearance", "min_clearance_kinds", "fields", "conditions", "assumption",
	"requester_kinds", "approval",
}

# A basis is either for records or for pseudonyms (translate, reidentify):
# a basis for pseudonyms names the requester's kind instead of holder and
# recipient kinds, and no record type, subject, fields or other
# jurisdiction; one for reidentify says who must approve.
_required_basis_keys(b) := {"citation", "actions", "requester_kinds", "purposes", "validity", "requires_case"} if {
	_pseudonym_basis(b)
} else := {"citation", "actions", "holder_kinds", "recipient_kinds", "record_types", "purposes", "validity", "requires_case"}

_record_only_keys := {"holder_kinds", "recipient_kinds", "record_types", "recipient_jurisdictions", "subject", "fields"}

_pseudonym_basis(b) if {
	some a in b.actions
	a in liaison.pseudonym_actions
}

_approval_keys := {"quorum", "roles", "agencies", "other_agency", "expires_after", "case_members_only"}

_rule_keys := {
	"outcome", "actions", "holder_kinds", "recipient_kinds", "record_types", "purposes",
	"recipient_jurisdictions", "fields", "conditions", "reason", "assumption",
}

# _vocabulary says which list each key draws from.
_vocabulary := {
	"actions": liaison.actions,
	"holder_kinds": liaison.agency_kinds,
	"recipient_kinds": liaison.agency_kinds,
	"min_clearance_kinds": liaison.agency_kinds,
	"requester_kinds": liaison.agency_kinds,
	"record_types": liaison.record_types,
	"purposes": liaison.purposes,
}

_code_re := `^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`

_field_ok(f) if f in liaison.field_classes

_field_ok(f) if f in liaison.field_names

_non_empty_array(v) if {
	is_array(v)
	count(v) > 0
}

_non_empty_string(s) if {
	is_string(s)
	s != ""
}

# _bases_in and _rules_in are [where, basis] and [where, fallback rule] for
# every pack.
_bases_in contains [sprintf("pack %s: basis %s", [key, id]), b] if {
	some key, p in data.liaison.jurisdictions
	some id, b in p.bases
}

_rules_in contains [sprintf("pack %s: fallback rule %d", [key, i]), r] if {
	some key, p in data.liaison.jurisdictions
	some i, r in p.fallback.rules
}

# Checks of every pack.

_pack_problems contains sprintf("pack %s: code %v does not match the package name", [key, p.code]) if {
	some key, p in data.liaison.jurisdictions
	liaison.pack_key(p.code) != key
}

_pack_problems contains sprintf("pack %s: law_name must be a string", [key]) if {
	some key, p in data.liaison.jurisdictions
	not _non_empty_string(p.law_name)
}

_pack_problems contains sprintf("pack %s: time_zone must be an IANA time zone name (Europe/Copenhagen)", [key]) if {
	some key, p in data.liaison.jurisdictions
	not _time_zone_name(object.get(p, "time_zone", null))
}

_time_zone_name(s) if {
	is_string(s)
	regex.match(`^[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+)+$`, s)
}

_pack_problems contains sprintf("pack %s: basis %s: id must start with %s.", [key, id, key]) if {
	some key, p in data.liaison.jurisdictions
	some id, _ in p.bases
	not startswith(id, concat("", [key, "."]))
}

_pack_problems contains sprintf("pack %s: prohibition %d needs an id, a citation, a message and purposes", [key, i]) if {
	some key, p in data.liaison.jurisdictions
	some i, x in p.prohibitions
	not _prohibition_ok(x)
}

_prohibition_ok(x) if {
	_non_empty_string(x.id)
	_non_empty_string(x.citation)
	_non_empty_string(x.message)
	_non_empty_array(x.purposes)
	every v in x.purposes {
		v in liaison.purposes
	}
}

_pack_problems contains sprintf("pack %s: prohibition %d: %s has unknown value %v", [key, i, k, v]) if {
	some key, p in data.liaison.jurisdictions
	some i, x in p.prohibitions
	some k in ["actions", "record_types"]
	some v in object.get(x, k, [])
	not v in _vocabulary[k]
}

_pack_problems contains sprintf("pack %s: prohibition %d: unknown key %s", [key, i, k]) if {
	some key, p in data.liaison.jurisdictions
	some i, x in p.prohibitions
	some k, _ in x
	not k in {"id", "citation", "purposes", "actions", "record_types", "message", "assumption"}
}

_pack_problems contains sprintf("pack %s: assumption must be a non-empty string", [key]) if {
	some key, p in data.liaison.jurisdictions
	"assumption" in object.keys(p)
	not _non_empty_string(p.assumption)
}

# Checks of receipt rules: the recipient's side of a cross-border exchange.

_receipt_keys := {"citation", "recipient_kinds", "record_types", "purposes", "holder_kinds", "from_jurisdictions", "assumption"}

_receipts_in contains [sprintf("pack %s: receipt %s", [key, id]), key, id, r] if {
	some key, p in data.liaison.jurisdictions
	some id, r in p.receipt
}

_pack_problems contains sprintf("%s: id must start with %s.", [where, key]) if {
	some [where, key, id, _] in _receipts_in
	not startswith(id, concat("", [key, "."]))
}

_pack_problems contains sprintf("%s: unknown key %s", [where, k]) if {
	some [where, _, _, r] in _receipts_in
	some k, _ in r
	not k in _receipt_keys
}

_pack_problems contains sprintf("%s: needs a citation, recipient_kinds, record_types and purposes", [where]) if {
	some [where, _, _, r] in _receipts_in
	not _receipt_ok(r)
}

_receipt_ok(r) if {
	_non_empty_string(r.citation)
	every k in ["recipient_kinds", "record_types", "purposes"] {
		_non_empty_array(r[k])
	}
}

_pack_problems contains sprintf("%s: %s has unknown value %v", [where, key, v]) if {
	some [where, _, _, r] in _receipts_in
	some key, allowed in _vocabulary
	some v in object.get(r, key, [])
	not v in allowed
}

_pack_problems contains sprintf("%s: jurisdiction %v is not known", [where, j]) if {
	some [where, _, _, r] in _receipts_in
	some j in object.get(r, "from_jurisdictions", [])
	not liaison.known_jurisdiction(j)
}

# Checks of practice: how the work is organised (for the readiness report).

_practice_keys := {"maw", "case_lead", "risk_assessors", "exit_programme_kinds", "family_contact_kinds", "source", "assumption"}

_pack_problems contains sprintf("pack %s: practice: unknown key %s", [key, k]) if {
	some key, p in data.liaison.jurisdictions
	some k, _ in p.practice
	not k in _practice_keys
}

_pack_problems contains sprintf("pack %s: practice: %v is not an agency kind", [key, k]) if {
	some key, p in data.liaison.jurisdictions
	some k in array.concat(
		array.concat([object.get(p.practice, "case_lead", "police")], [v | some v in object.get(p.practice, "risk_assessors", {})]),
		array.concat(object.get(p.practice, "exit_programme_kinds", []), object.get(p.practice, "family_contact_kinds", [])),
	)
	not k in liaison.agency_kinds
}

_pack_problems contains sprintf("pack %s: practice: risk_assessors has unknown key %s", [key, k]) if {
	some key, p in data.liaison.jurisdictions
	some k, _ in object.get(p.practice, "risk_assessors", {})
	not k in {"before_release", "after_release"}
}

# Checks of bases and fallback rules alike.

_pack_problems contains sprintf("%s: %s must be a non-empty list", [where, key]) if {
	some [where, x] in (_bases_in | _rules_in)
	some key, _ in _vocabulary
	key in object.keys(x)
	not _non_empty_array(x[key])
}

_pack_problems contains sprintf("%s: %s has unknown value %v", [where, key, v]) if {
	some [where, x] in (_bases_in | _rules_in)
	some key, allowed in _vocabulary
	some v in object.get(x, key, [])
	not v in allowed
}

_pack_problems contains sprintf("%s: condition %v is not an UPPER_SNAKE code", [where, c]) if {
	some [where, x] in (_bases_in | _rules_in)
	some c in object.get(x, "conditions", [])
	not regex.match(_code_re, c)
}

_pack_problems contains sprintf("%s: recipient jurisdiction %v is not known", [where, j]) if {
	some [where, x] in (_bases_in | _rules_in)
	some j in object.get(x, "recipient_jurisdictions", [])
	not liaison.known_jurisdiction(j)
}

_pack_problems contains sprintf("%s: unknown key %s in fields", [where, k]) if {
	some [where, x] in (_bases_in | _rules_in)
	some k, _ in object.get(x, "fields", {})
	not k in {"keep", "generalise", "pseudonymise", "precision"}
}

_pack_problems contains sprintf("%s: %v is not a field class or the name of a field of the record schema (liaison.field_names)", [where, f]) if {
	some [where, x] in (_bases_in | _rules_in)
	some list in ["keep", "generalise", "pseudonymise"]
	some f in object.get(object.get(x, "fields", {}), list, [])
	not _field_ok(f)
}

_pack_problems contains sprintf("%s: precision %v is not year, month or week", [where, x.fields.precision]) if {
	some [where, x] in (_bases_in | _rules_in)
	not x.fields.precision in {"year", "month", "week"}
}

_pack_problems contains sprintf("%s: assumption must be a string", [where]) if {
	some [where, x] in (_bases_in | _rules_in)
	not is_string(object.get(x, "assumption", ""))
}

# Checks of bases.

_pack_problems contains sprintf("%s: unknown key %s", [where, k]) if {
	some [where, b] in _bases_in
	some k, _ in b
	not k in _basis_keys
}

_pack_problems contains sprintf("%s: missing %s", [where, k]) if {
	some [where, b] in _bases_in
	some k in _required_basis_keys(b)
	not k in object.keys(b)
}

# Checks of bases for translate and reidentify.

_pack_problems contains sprintf("%s: translate and reidentify cannot share a basis with %s", [where, a]) if {
	some [where, b] in _bases_in
	_pseudonym_basis(b)
	some a in b.actions
	not a in liaison.pseudonym_actions
}

_pack_problems contains sprintf("%s: a basis for translate or reidentify names no %s (a pseudonym has no record, subject or other party)", [where, k]) if {
	some [where, b] in _bases_in
	_pseudonym_basis(b)
	some k in _record_only_keys
	k in object.keys(b)
}

_pack_problems contains sprintf("%s: validity must be none (the gateway does not know the subject of a pseudonym)", [where]) if {
	some [where, b] in _bases_in
	_pseudonym_basis(b)
	b.validity != {"type": "none"}
}

_pack_problems contains sprintf("%s: requester_kinds is only for translate and reidentify", [where]) if {
	some [where, b] in _bases_in
	not _pseudonym_basis(b)
	"requester_kinds" in object.keys(b)
}

_pack_problems contains sprintf("%s: reidentify needs an approval", [where]) if {
	some [where, b] in _bases_in
	"reidentify" in b.actions
	not "approval" in object.keys(b)
}

_pack_problems contains sprintf("%s: approval is only for reidentify", [where]) if {
	some [where, b] in _bases_in
	"approval" in object.keys(b)
	not "reidentify" in b.actions
}

_pack_problems contains sprintf("%s: approval: %s", [where, problem]) if {
	some [where, b] in _bases_in
	some problem in _approval_problems(b)
}

_approval_problems(b) := {p |
	a := b.approval
	some p in array.concat(
		[sprintf("unknown key %s", [k]) | some k, _ in _obj(a); not k in _approval_keys],
		[msg |
			some msg, ok in {
				"must be an object": is_object(a),
				"quorum must be a whole number of at least 1": _whole_at_least_1(object.get(_obj(a), "quorum", 0)),
				"roles must be a non-empty list of role names": _names(object.get(_obj(a), "roles", [])),
				"agencies must be a non-empty list of agency ids": _names(object.get(_obj(a), "agencies", ["x"])),
				"other_agency must be true or false": is_boolean(object.get(_obj(a), "other_agency", false)),
				"expires_after must be a positive Go duration such as 72h": _duration(object.get(_obj(a), "expires_after", "")),
				"case_members_only must be true or false": is_boolean(object.get(_obj(a), "case_members_only", false)),
				"case_members_only needs requires_case": _case_members_ok(b, _obj(a)),
			}
			not ok
		],
	)
}

_obj(x) := x if is_object(x)

else := {}

_whole_at_least_1(n) if {
	is_number(n)
	n >= 1
	n == round(n)
} else := false

_names(xs) if {
	_non_empty_array(xs)
	every x in xs {
		_non_empty_string(x)
	}
} else := false

_duration(s) if {
	is_string(s)
	regex.match(`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`, s)
	time.parse_duration_ns(s) > 0
} else := false

_case_members_ok(b, a) if {
	object.get(a, "case_members_only", false) == true
	b.requires_case == true
} else if {
	object.get(a, "case_members_only", false) != true
} else := false

_pack_problems contains sprintf("%s: citation must be a non-empty string", [where]) if {
	some [where, b] in _bases_in
	not _non_empty_string(b.citation)
}

_pack_problems contains sprintf("%s: requires_case must be true or false", [where]) if {
	some [where, b] in _bases_in
	not is_boolean(b.requires_case)
}

_pack_problems contains sprintf("%s: validity %v is not none, probation or release_window with whole days_before and days_after", [where, b.validity]) if {
	some [where, b] in _bases_in
	not _validity_ok(b.validity)
}

_pack_problems contains sprintf("%s: min_clearance %v is not a clearance level", [where, b.min_clearance]) if {
	some [where, b] in _bases_in
	not b.min_clearance in liaison.clearance_levels
}

_pack_problems contains sprintf("%s: subject category %v is not known", [where, c]) if {
	some [where, b] in _bases_in
	some c in b.subject.categories
	not c in liaison.subject_categories
}

_validity_ok(v) if v == {"type": "none"}

_validity_ok(v) if v == {"type": "probation"}

_validity_ok(v) if {
	v.type == "release_window"
	count(v) == 3
	every k in ["days_before", "days_after"] {
		is_number(v[k])
		v[k] >= 0
		v[k] == round(v[k])
	}
}

# Checks of fallback rules.

_pack_problems contains sprintf("%s: outcome must be pseudonymise or hit_only", [where]) if {
	some [where, r] in _rules_in
	not r.outcome in {"pseudonymise", "hit_only"}
}

_pack_problems contains sprintf("%s: unknown key %s", [where, k]) if {
	some [where, r] in _rules_in
	some k, _ in r
	not k in _rule_keys
}

_pack_problems contains sprintf("%s: a fallback never translates or re-identifies (only a basis does)", [where]) if {
	some [where, r] in _rules_in
	some a in r.actions
	a in liaison.pseudonym_actions
}

_pack_problems contains sprintf("%s: needs actions, recipient_kinds, record_types and purposes", [where]) if {
	some [where, r] in _rules_in
	some k in ["actions", "recipient_kinds", "record_types", "purposes"]
	not k in object.keys(r)
}

_pack_problems contains sprintf("%s: reason needs an UPPER_SNAKE code and a message", [where]) if {
	some [where, r] in _rules_in
	not _reason_ok(object.get(r, "reason", {}))
}

_reason_ok(x) if {
	regex.match(_code_re, x.code)
	_non_empty_string(x.message)
}

test_every_pack_is_well_formed if {
	count(data.liaison.jurisdictions) > 0
	count(_pack_problems) == 0

	# Each time zone loads (the zone database is built into the binary).
	every p in data.liaison.jurisdictions {
		time.format([1600000000000000000, p.time_zone, "2006"]) == "2020"
	}
}

# print_problems is for `go tool opa eval -d policies/ data.liaison_test.print_problems`
# when test_every_pack_is_well_formed fails.
print_problems := _pack_problems

test_every_listed_jurisdiction_has_a_pack if {
	every j in liaison.listed_jurisdictions {
		liaison.has_pack(j)
	}
}

test_pack_checks_catch_mistakes if {
	broken := {"xx": {
		"code": "XY",
		"law_name": "X law",
		"prohibitions": [{"id": "xx.p"}],
		"bases": {"yy.1": {
			"citation": "",
			"actions": ["delete"],
			"holder_kinds": [],
			"recipient_kinds": ["police"],
			"record_types": ["release_notice"],
			"purposes": ["risk_management"],
			"validity": {"type": "release_window", "days_before": 10},
			"requires_case": "no",
			"fields": {"keep": ["everything", "RiskAssessment.level"], "pseudonymise": ["RiskAssessment.levle", "ReleaseNotice.subject"]},
			"conditions": ["not-a-code"],
			"purpose": "typo",
		}},
		"fallback": {"rules": [{"outcome": "disclose", "actions": ["request"]}]},
	}}
	problems := _pack_problems with data.liaison.jurisdictions as broken
	every p in [
		"pack xx: code XY does not match the package name",
		"pack xx: basis yy.1: id must start with xx.",
		"pack xx: basis yy.1: unknown key purpose",
		"pack xx: basis yy.1: citation must be a non-empty string",
		"pack xx: basis yy.1: requires_case must be true or false",
		"pack xx: basis yy.1: actions has unknown value delete",
		"pack xx: basis yy.1: holder_kinds must be a non-empty list",
		"pack xx: basis yy.1: everything is not a field class or the name of a field of the record schema (liaison.field_names)",
		"pack xx: basis yy.1: RiskAssessment.levle is not a field class or the name of a field of the record schema (liaison.field_names)",
		"pack xx: basis yy.1: ReleaseNotice.subject is not a field class or the name of a field of the record schema (liaison.field_names)",
		"pack xx: basis yy.1: condition not-a-code is not an UPPER_SNAKE code",
		"pack xx: basis yy.1: validity {\"days_before\": 10, \"type\": \"release_window\"} is not none, probation or release_window with whole days_before and days_after",
		"pack xx: fallback rule 0: needs actions, recipient_kinds, record_types and purposes",
		"pack xx: fallback rule 0: reason needs an UPPER_SNAKE code and a message",
		"pack xx: fallback rule 0: outcome must be pseudonymise or hit_only",
		"pack xx: prohibition 0 needs an id, a citation, a message and purposes",
		"pack xx: time_zone must be an IANA time zone name (Europe/Copenhagen)",
	] {
		p in problems
	}

	# A name of the schema is not a problem, only a misspelt one.
	every p in problems {
		not contains(p, "RiskAssessment.level ")
	}
}

test_pack_checks_catch_mistakes_in_pseudonym_bases if {
	ok := {
		"citation": "c",
		"actions": ["reidentify"],
		"requester_kinds": ["police"],
		"purposes": ["risk_management"],
		"validity": {"type": "none"},
		"requires_case": true,
		"approval": {"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "72h", "case_members_only": true},
	}
	broken := {"xx": {
		"code": "XX",
		"law_name": "X law",
		"prohibitions": [],
		"bases": {
			"xx.ok": ok,
			"xx.mixed": object.union(ok, {"actions": ["reidentify", "disclose"], "record_types": ["case_plan"], "validity": {"type": "probation"}}),
			"xx.no_approval": object.remove(ok, ["approval"]),
			"xx.translate": object.union(object.remove(ok, ["requester_kinds"]), {"actions": ["translate"]}),
			"xx.bad_approval": object.union(ok, {
				"requires_case": false,
				"approval": {"quorum": 0.5, "roles": [], "expires_after": "3 days", "case_members_only": true, "agencies": "all", "colour": "red"},
			}),
			"xx.negative": object.union(ok, {"approval": {"quorum": 1, "roles": ["r"], "expires_after": "-1h"}}),
			"xx.record": {
				"citation": "c", "actions": ["disclose"], "holder_kinds": ["police"], "recipient_kinds": ["police"],
				"record_types": ["case_plan"], "purposes": ["risk_management"], "validity": {"type": "none"},
				"requires_case": false, "requester_kinds": ["police"],
			},
		},
		"fallback": {"rules": [{
			"outcome": "pseudonymise", "actions": ["translate"], "recipient_kinds": ["police"], "record_types": ["case_plan"],
			"purposes": ["risk_management"], "reason": {"code": "X", "message": "x"},
		}]},
	}}
	problems := _pack_problems with data.liaison.jurisdictions as broken
	every p in problems {
		not startswith(p, "pack xx: basis xx.ok:")
	}
	every p in [
		"pack xx: basis xx.mixed: translate and reidentify cannot share a basis with disclose",
		"pack xx: basis xx.mixed: a basis for translate or reidentify names no record_types (a pseudonym has no record, subject or other party)",
		"pack xx: basis xx.mixed: validity must be none (the gateway does not know the subject of a pseudonym)",
		"pack xx: basis xx.no_approval: reidentify needs an approval",
		"pack xx: basis xx.translate: missing requester_kinds",
		"pack xx: basis xx.translate: approval is only for reidentify",
		"pack xx: basis xx.bad_approval: approval: unknown key colour",
		"pack xx: basis xx.bad_approval: approval: quorum must be a whole number of at least 1",
		"pack xx: basis xx.bad_approval: approval: roles must be a non-empty list of role names",
		"pack xx: basis xx.bad_approval: approval: agencies must be a non-empty list of agency ids",
		"pack xx: basis xx.bad_approval: approval: expires_after must be a positive Go duration such as 72h",
		"pack xx: basis xx.bad_approval: approval: case_members_only needs requires_case",
		"pack xx: basis xx.negative: approval: expires_after must be a positive Go duration such as 72h",
		"pack xx: basis xx.record: requester_kinds is only for translate and reidentify",
		"pack xx: fallback rule 0: a fallback never translates or re-identifies (only a basis does)",
	] {
		p in problems
	}
}

test_pack_checks_catch_mistakes_in_receipt_and_practice if {
	broken := {"xx": {
		"code": "XX",
		"law_name": "X law",
		"prohibitions": [{"id": "xx.p", "citation": "c", "message": "m", "purposes": ["statistics"], "record_types": ["diary"]}],
		"bases": {},
		"fallback": {"rules": []},
		"receipt": {
			"yy.r": {"citation": "c", "recipient_kinds": ["police"], "record_types": ["release_notice"], "purposes": ["risk_management"]},
			"xx.r": {"citation": "", "recipient_kinds": ["army"], "record_types": [], "purposes": ["risk_management"], "from": ["QQ"]},
		},
		"practice": {"maw": "m", "case_lead": "mayor", "risk_assessors": {"during": "prison"}, "colour": "blue"},
	}}
	problems := _pack_problems with data.liaison.jurisdictions as broken
	every p in [
		"pack xx: prohibition 0: record_types has unknown value diary",
		"pack xx: receipt yy.r: id must start with xx.",
		"pack xx: receipt xx.r: unknown key from",
		"pack xx: receipt xx.r: needs a citation, recipient_kinds, record_types and purposes",
		"pack xx: receipt xx.r: recipient_kinds has unknown value army",
		"pack xx: practice: unknown key colour",
		"pack xx: practice: mayor is not an agency kind",
		"pack xx: practice: risk_assessors has unknown key during",
	] {
		p in problems
	}
}
