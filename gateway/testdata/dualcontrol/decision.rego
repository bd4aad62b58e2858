# A small policy for the gateway's dual-control tests: it pseudonymises
# requests, translates into a case's domain for case members, and lets a
# re-identification through under the approval of two legal officers of
# other agencies (of the case's members, when asked in a case). It is not law; the real packs are in policies/.
package liaison

import rego.v1

_none := {"keep": [], "generalise": [], "pseudonymise": []}

_deny := {
	"outcome": "deny", "fields": _none, "conditions": [],
	"reasons": [{"code": "NO_LEGAL_BASIS", "message": "The test policy allows this action only in the dual-control tests."}],
}

_basis := {"id": "test.reid", "citation": "Test basis for dual control"}

decision := {
	"outcome": "pseudonymise",
	"fields": {"keep": ["operational", "assessment"], "generalise": ["quasi_identifier"], "pseudonymise": ["direct_identifier"]},
	"pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"conditions": ["NO_ONWARD_DISCLOSURE"],
	"reasons": [{"code": "PSEUDONYMISED", "message": "Test: pseudonymised."}],
} if {
	input.action == "request"
} else := {
	"outcome": "pseudonymise", "fields": _none, "legal_basis": _basis,
	"pseudonym_domain": sprintf("case/%s", [input.case.id]),
	"conditions": ["CASE_PURPOSE_ONLY"],
	"reasons": [{"code": "CASE_MEMBER", "message": "Test: translated into the case's domain."}],
} if {
	input.action == "translate"
	input.requester.agency in input.case.members
} else := {
	"outcome": "disclose", "fields": _none, "legal_basis": _basis,
	"pseudonym_domain": "reidentification",
	"conditions": ["DUAL_CONTROL"],
	"reasons": [{"code": "DUAL_CONTROL", "message": "Test: two legal officers of other agencies must approve."}],
	"approval": object.union(
		{"quorum": 2, "roles": ["legal_officer"], "other_agency": true, "expires_after": "1h"},
		_case_approvers,
	),
} if {
	input.action == "reidentify"
} else := _deny

# In a case, approvers come from its members (as the packs' case_members_only).
_case_approvers := {"agencies": sort(input.case.members)} if {
	count(input.case.members) > 0
} else := {}
