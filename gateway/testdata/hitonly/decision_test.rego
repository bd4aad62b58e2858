package liaison_test

import rego.v1

test_a_request_is_hit_only_whatever_the_subject if {
	known := data.liaison.decision with input as {
		"action": "request", "recipient": {"agency": "a"}, "purpose": "risk_management",
		"subject": {"category": "convicted"},
	}
	unknown := data.liaison.decision with input as {"action": "request", "recipient": {"agency": "a"}, "purpose": "risk_management", "subject": {}}
	known.outcome == "hit_only"
	known == unknown
}

test_anything_else_is_denied if {
	d := data.liaison.decision with input as {"action": "disclose", "recipient": {"agency": "a"}, "purpose": "risk_management"}
	d.outcome == "deny"
}
