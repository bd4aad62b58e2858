# The fast lane (_fast_result in decision.rego) has the checks of the
# stages written out, for speed. These tests keep the two the same: for
# exchanges aimed at every basis of every pack, and near them (no case,
# another subject, another time, other kinds, another jurisdiction), the
# fast lane decides as the stages do, or leaves the request to them; and
# it does decide the ordinary ones.
# Run: go tool opa test policies/ -r fast_lane
package liaison_test.fast

import data.liaison

# _same(inp) is true if the fast lane decides inp as the stages do, or
# does not decide it.
_same(inp) if {
	fast := liaison._fast_result with input as inp
	staged := liaison._staged_result with input as inp
	fast == staged
	not _fast_applicable_differs(inp)
}

_same(inp) if {
	not liaison._fast_result with input as inp
	not _fast_applicable_differs(inp)
}

# _fast_applicable_differs(inp) is true if the fast lane finds other bases
# than _parties_covered and _basis_ok accept.
_fast_applicable_differs(inp) if {
	fast := liaison._fast_applicable with input as inp
	general := {id |
		some id in liaison._candidates
		v := liaison._basis_views[liaison._pack_key][id]
		liaison._parties_covered(v)
		liaison._basis_ok(v)
	} with input as inp
	fast != general
}

# _probe(code, b, action) is an exchange basis b of the pack for code
# covers, as far as its lists go.
_probe(code, b, action) := {
	"action": action,
	"time": "2027-01-10T10:00:00Z",
	"requester": object.union(requester, {"officer": {"id": "o", "roles": [], "clearance": "secret"}}),
	"holder": holder,
	"recipient": recipient,
	"subject": {
		"category": "convicted", "in_custody": false, "release_date": "2027-01-01",
		"probation_until": "2029-01-01", "municipality": "x",
	},
	"record_type": _first(object.get(b, "record_types", [""]), ""),
	"purpose": _first(b.purposes, "statistics"),
	"claimed_legal_basis": "",
	"case": {"id": "C", "members": ["holder", "recipient"], "lead": "holder"},
	"justification": "applicable",
} if {
	holder := {"agency": "holder", "kind": _first(object.get(b, "holder_kinds", object.get(b, "requester_kinds", [])), "police"), "jurisdiction": code}
	recipient := _recipient(code, b, action, holder)
	requester := _requester(action, holder, recipient)
}

_recipient(code, b, action, holder) := holder if action in liaison.pseudonym_actions

else := {"agency": "recipient", "kind": _first(b.recipient_kinds, "police"), "jurisdiction": code}

_requester(action, holder, recipient) := holder if action in {"disclose", "notify"}

else := recipient

_first(xs, default_value) := xs[0] if count(xs) > 0

else := default_value

# _variants(p) are p and an exchange near it: no case, a subject in
# custody with other dates, a time years before, an officer without
# clearance.
_variants(p) := [
	p,
	object.union(p, {
		"case": null,
		"time": "2021-01-10T10:00:00Z",
		"requester": {"officer": {"clearance": "none"}},
		"subject": {"category": "suspect", "in_custody": true, "release_date": "2021-01-01", "probation_until": ""},
	}),
]

test_fast_lane_decides_as_the_stages_for_every_basis if {
	every pack in data.liaison.jurisdictions {
		every b in pack.bases {
			every inp in _variants(_probe(pack.code, b, b.actions[0])) {
				_same(inp)
			}
		}
	}
}

test_fast_lane_leaves_input_of_the_wrong_shape_to_the_stages if {
	every inp in [{}, {"action": "disclose", "holder": {"kind": "police", "jurisdiction": "DK"}}, "x", {"time": "yesterday"}] {
		not liaison._fast_result with input as inp
	}
}

# The fast lane decides the ordinary exchanges (else it would be no faster).
test_fast_lane_decides_the_ordinary_exchanges if {
	count({b.citation |
		some pack in data.liaison.jurisdictions
		some b in pack.bases
		liaison._fast_result with input as _probe(pack.code, b, b.actions[0])
	}) > 20
}
