# A slow policy for the gateway's tests of a call that gives up while the
# policy decides: every decision takes long (about a second of counting),
# then allows a request pseudonymised. It is not law; the real packs are in
# policies/.
package liaison

import rego.v1

_slow if count([1 | some x in numbers.range(1, 400); some y in numbers.range(1, 400); ((x * y) + count(input.justification)) % 1000003 == 7]) >= 0

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
