package liaison_test

import rego.v1

test_reidentify_needs_two_approvers if {
	d := data.liaison.decision with input as {"action": "reidentify", "recipient": {"agency": "a"}, "purpose": "risk_management"}
	d.approval.quorum == 2
}

test_translate_needs_case_membership if {
	d := data.liaison.decision with input as {"action": "translate", "requester": {"agency": "a"}, "case": {"id": "c", "members": ["b"]}}
	d.outcome == "deny"
}
