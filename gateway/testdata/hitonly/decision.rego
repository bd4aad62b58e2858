# A small policy for the gateway's hit-only tests: a request is answered
# hit/no-hit only, whatever the subject; every other action is denied. It
# is not law; the real packs are in policies/.
package liaison

import rego.v1

_none := {"keep": [], "generalise": [], "pseudonymise": []}

decision := {
	"outcome": "hit_only", "fields": _none,
	"pseudonym_domain": sprintf("%s/%s", [input.recipient.agency, input.purpose]),
	"conditions": ["NO_ONWARD_DISCLOSURE"],
	"reasons": [{"code": "HIT_ONLY", "message": "Test: the requester may learn only whether the holder has such a record."}],
} if {
	input.action == "request"
} else := {
	"outcome": "deny", "fields": _none, "conditions": [],
	"reasons": [{"code": "NO_LEGAL_BASIS", "message": "The test policy answers requests hit/no-hit and allows nothing else."}],
}
