# A deliberately broken policy tree for the gateway's fail-closed tests.
# Load it on its own, e.g. policies.Load(ctx, os.DirFS("policies/testdata/failing")).
#
#   - purpose "statistics": data.liaison.decision is undefined;
#   - purpose "family_support": evaluation fails (two values for one
#     complete rule: an eval_conflict_error);
#   - anything else: a well-formed disclose with a legal basis.
#
# It never touches production: Embedded() and Load skip testdata folders.
# Because `go tool opa test policies/` also loads this file, next to the
# real package liaison, every rule here is switched off when jurisdiction
# packs are present (data.liaison.jurisdictions is defined).
package liaison

decision := _failing_disclose if {
	_failing_tree_alone
	input.purpose != "statistics"
}

decision := {
	"outcome": "deny",
	"fields": {"keep": [], "generalise": [], "pseudonymise": []},
	"conditions": [],
	"reasons": [{"code": "CONFLICT", "message": "A second value for the same decision."}],
} if {
	_failing_tree_alone
	input.purpose == "family_support"
}

_failing_tree_alone if not data.liaison.jurisdictions

_failing_disclose := {
	"outcome": "disclose",
	"legal_basis": {"id": "test.failing", "citation": "Test tree, not law"},
	"fields": {"keep": ["operational"], "generalise": [], "pseudonymise": []},
	"pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"conditions": ["TEST_ONLY"],
	"reasons": [{"code": "TEST_ONLY", "message": "This decision comes from a test policy tree."}],
}
