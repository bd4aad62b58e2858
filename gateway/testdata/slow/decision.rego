# A slow policy for the gateway's tests of a call that gives up while the
# policy decides: a decision whose justification speaks of a recruiter (as
# the tests' requests do) takes long (about a second of counting on OPA's
# plan, the evaluator the engine uses, and five on topdown), then allows a
# request pseudonymised; others (the engine's samples, decided at load by
# both evaluators) are quick. It is not law; the real packs are in
# policies/.
package liaison

import rego.v1

_slow if not contains(input.justification, "recruiter")

_slow if {
	contains(input.justification, "recruiter")
	count([1 | some x in numbers.range(1, 1300); some y in numbers.range(1, 1300); ((x * y) + count(input.justification)) % 1000003 == 7]) >= 0
}

decision := {
	"outcome": "pseudonymise",
	"legal_basis": {"id": "test.slow", "citation": "Test basis, not law"},
	"fields": {"keep": ["operational"], "generalise": [], "pseudonymise": ["direct_identifier"]},
	"pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"conditions": [],
	"reasons": [{"code": "TEST_SLOW", "message": "Test: allowed, slowly."}],
} if {
	_slow
}
