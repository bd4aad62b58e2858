# Checks the case kinds and required notices of every loaded pack against
# the shape the shared rules expect (cases.rego, notices.rego), and the
# rules about cases and notices that hold in every pack.
# Run: go tool opa test -v policies/ -r cases
package liaison_test

import data.liaison

_case_kind_keys := {
	"title", "citation", "lead_kinds", "handover_kinds", "member_kinds", "member_jurisdictions",
	"min_clearance", "min_clearance_kinds", "conditions", "assumption",
}

_notice_keys := {
	"title", "citation", "events", "recipient_kinds", "routes",
	"acknowledge_within", "escalate_after", "before_release", "case_lead", "assumption",
}

_case_kinds_in contains [sprintf("pack %s: case kind %s", [key, id]), key, id, k] if {
	some key, p in data.liaison.jurisdictions
	some id, k in object.get(p, "case_kinds", {})
}

_notices_in contains [sprintf("pack %s: required notice %s", [key, id]), key, id, r] if {
	some key, p in data.liaison.jurisdictions
	some id, r in object.get(p, "required_notices", {})
}

_duration_ok(s) if {
	s != ""
	regex.match(`^([1-9][0-9]*h)?([1-9][0-9]*m)?([1-9][0-9]*s)?$`, s)
}

_case_pack_problems contains sprintf("%s: id must start with %s.", [where, key]) if {
	some [where, key, id, _] in (_case_kinds_in | _notices_in)
	not startswith(id, concat("", [key, "."]))
}

_case_pack_problems contains sprintf("%s: unknown key %s", [where, k]) if {
	some [where, _, _, x] in _case_kinds_in
	some k, _ in x
	not k in _case_kind_keys
}

_case_pack_problems contains sprintf("%s: unknown key %s", [where, k]) if {
	some [where, _, _, x] in _notices_in
	some k, _ in x
	not k in _notice_keys
}

_case_pack_problems contains sprintf("%s: needs a citation and an assumption (or drop the assumption only once checked)", [where]) if {
	some [where, _, _, x] in (_case_kinds_in | _notices_in)
	not _texts_ok(x)
}

_texts_ok(x) if {
	_non_empty_string(x.citation)
	_non_empty_string(x.assumption)
}

_case_pack_problems contains sprintf("%s: %s must be a non-empty list of agency kinds", [where, k]) if {
	some [where, _, _, x] in _case_kinds_in
	some k in ["lead_kinds", "member_kinds"]
	not _kinds_ok(object.get(x, k, null))
}

_case_pack_problems contains sprintf("%s: %s must be a non-empty list of agency kinds", [where, k]) if {
	some [where, _, _, x] in _case_kinds_in
	some k in ["handover_kinds", "min_clearance_kinds"]
	k in object.keys(x)
	not _kinds_ok(x[k])
}

_kinds_ok(v) if {
	_non_empty_array(v)
	every k in v {
		k in liaison.agency_kinds
	}
}

_case_pack_problems contains sprintf("%s: a kind that may lead (%s) must be one that may be a member", [where, k]) if {
	some [where, _, _, x] in _case_kinds_in
	some k in array.concat(x.lead_kinds, object.get(x, "handover_kinds", []))
	not k in x.member_kinds
}

_case_pack_problems contains sprintf("%s: min_clearance %v is not a clearance level", [where, x.min_clearance]) if {
	some [where, _, _, x] in _case_kinds_in
	"min_clearance" in object.keys(x)
	not x.min_clearance in liaison.clearance_levels
}

_case_pack_problems contains sprintf("%s: condition %v is not an UPPER_SNAKE code", [where, c]) if {
	some [where, _, _, x] in _case_kinds_in
	some c in object.get(x, "conditions", [])
	not regex.match(_code_re, c)
}

_case_pack_problems contains sprintf("%s: member jurisdiction %v is not known", [where, j]) if {
	some [where, _, _, x] in _case_kinds_in
	some j in object.get(x, "member_jurisdictions", [])
	not liaison.known_jurisdiction(j)
}

_case_pack_problems contains sprintf("%s: events must be a non-empty list of event types", [where]) if {
	some [where, _, _, x] in _notices_in
	not _events_ok(object.get(x, "events", null))
}

_events_ok(v) if {
	_non_empty_array(v)
	every e in v {
		e in liaison.event_types
	}
}

_case_pack_problems contains sprintf("%s: recipient_kinds must be a non-empty list of agency kinds", [where]) if {
	some [where, _, _, x] in _notices_in
	not _kinds_ok(object.get(x, "recipient_kinds", null))
}

_case_pack_problems contains sprintf("%s: route %v is not one of the route roles", [where, r]) if {
	some [where, _, _, x] in _notices_in
	some r in object.get(x, "routes", [])
	not r in liaison.route_roles
}

_case_pack_problems contains sprintf("%s: acknowledge_within and escalate_after must be durations such as 72h or 1h30m, escalate_after the shorter", [where]) if {
	some [where, _, _, x] in _notices_in
	not _deadlines_ok(x)
}

_deadlines_ok(x) if {
	_duration_ok(x.acknowledge_within)
	_duration_ok(x.escalate_after)
	time.parse_duration_ns(x.escalate_after) < time.parse_duration_ns(x.acknowledge_within)
}

_case_pack_problems contains sprintf("%s: before_release must be true or false", [where]) if {
	some [where, _, _, x] in _notices_in
	"before_release" in object.keys(x)
	not is_boolean(x.before_release)
}

_case_pack_problems contains sprintf("%s: case_lead must be true or false, and true only with routes [\"case_member\"]", [where]) if {
	some [where, _, _, x] in _notices_in
	"case_lead" in object.keys(x)
	not _case_lead_ok(x)
}

_case_lead_ok(x) if x.case_lead == false

_case_lead_ok(x) if {
	x.case_lead == true
	object.get(x, "routes", null) == ["case_member"]
}

test_every_case_kind_and_required_notice_is_well_formed if {
	count(_case_pack_problems) == 0
}

test_the_shape_check_catches_mistakes if {
	bad := {"zz": object.union(zz_case_pack, {
		"case_kinds": {"zz.cell": {"citation": "x", "assumption": "y", "lead_kinds": ["mayor"], "member_kinds": ["police"], "colour": "red"}},
		"required_notices": {"yy.n": {"citation": "x", "assumption": "y", "events": ["moved"], "recipient_kinds": ["police"], "acknowledge_within": "1h", "escalate_after": "2h", "routes": ["friend"]}},
	})}
	problems := _case_pack_problems with data.liaison.jurisdictions as bad
	"pack zz: case kind zz.cell: unknown key colour" in problems
	"pack zz: case kind zz.cell: lead_kinds must be a non-empty list of agency kinds" in problems
	"pack zz: required notice yy.n: id must start with zz." in problems
	"pack zz: required notice yy.n: events must be a non-empty list of event types" in problems
	"pack zz: required notice yy.n: route friend is not one of the route roles" in problems
	"pack zz: required notice yy.n: acknowledge_within and escalate_after must be durations such as 72h or 1h30m, escalate_after the shorter" in problems
}

# Rules about cases and notices that hold in every pack.

_pack_case(p, id) := {
	"id": "EVERY-1", "kind": id, "jurisdiction": p.code,
	"members": ["lead", "member"], "lead": "lead", "invited": ["guest"],
}

_every_input(p, id, action, requester_kind, status, recipient) := {
	"action": action,
	"time": "2027-01-10T10:00:00Z",
	"requester": {"agency": "member", "kind": requester_kind, "jurisdiction": p.code, "officer": {"id": "o", "roles": [], "clearance": "top_secret"}},
	"holder": {"agency": "lead", "kind": "local_authority", "jurisdiction": p.code},
	"recipient": recipient,
	"subject": {"category": "", "in_custody": false, "release_date": "", "probation_until": "", "municipality": ""},
	"record_type": "",
	"purpose": "maw_case_management",
	"claimed_legal_basis": "",
	"justification": "every pack",
	"case": object.union(_pack_case(p, id), {"requester_status": status}),
}

test_every_pack_has_a_case_kind if {
	every p in data.liaison.jurisdictions {
		count(object.get(p, "case_kinds", {})) > 0
	}
}

test_in_every_pack_only_the_lead_invites_removes_hands_over_and_closes if {
	every p in data.liaison.jurisdictions {
		every id, k in object.get(p, "case_kinds", {}) {
			every action in ["case_invite", "case_remove", "case_handover", "case_close"] {
				d := data.liaison.decision with input as _every_input(p, id, action, k.member_kinds[0], "member", {"agency": "guest", "kind": k.member_kinds[0], "jurisdiction": p.code})
				d.outcome == "deny"
				"NOT_CASE_LEAD" in codes(d)
			}
		}
	}
}

test_in_every_pack_an_agency_answers_only_its_own_invitation if {
	every p in data.liaison.jurisdictions {
		every id, k in object.get(p, "case_kinds", {}) {
			every action in ["case_accept", "case_decline"] {
				d := data.liaison.decision with input as _every_input(p, id, action, k.member_kinds[0], "member", {"agency": "guest", "kind": k.member_kinds[0], "jurisdiction": p.code})
				d.outcome == "deny"
				"NOT_INVITED" in codes(d)
				"REQUESTER_NOT_RECIPIENT" in codes(d)
			}
		}
	}
}

test_in_every_pack_the_invited_agency_of_a_member_kind_may_join if {
	every p in data.liaison.jurisdictions {
		every id, k in object.get(p, "case_kinds", {}) {
			every kind in k.member_kinds {
				me := {"agency": "member", "kind": kind, "jurisdiction": p.code}
				d := data.liaison.decision with input as _every_input(p, id, "case_accept", kind, "invited", me)
				d.outcome == "allow"
				d.legal_basis.id == id
				d.pseudonym_domain == "case/EVERY-1"
			}
		}
	}
}

test_in_every_pack_a_member_may_always_leave if {
	every p in data.liaison.jurisdictions {
		every id, k in object.get(p, "case_kinds", {}) {
			me := {"agency": "member", "kind": k.member_kinds[0], "jurisdiction": p.code}
			d := data.liaison.decision with input as _every_input(p, id, "case_leave", k.member_kinds[0], "member", me)
			d.outcome == "allow"
		}
	}
}

# The minimum the practitioners ask for: in every pack the competent police
# must acknowledge a release date notice (when the law lets it reach them).
test_every_pack_requires_the_police_to_acknowledge_a_release_date if {
	every p in data.liaison.jurisdictions {
		every event in ["release_date_set", "release_date_changed"] {
			some r in p.required_notices
			event in r.events
			"police" in r.recipient_kinds
			"competent" in object.get(r, "routes", liaison.route_roles)
		}
	}
}
