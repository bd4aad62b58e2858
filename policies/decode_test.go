package policies

import (
	"strings"
	"testing"
)

// TestUnmarshalExact: an input is read as the contract spells it, as OPA
// reads it. encoding/json alone would let "Purpose" fill purpose (OPA
// reads input.Purpose as another key, and the gateway never sends it),
// read null as an empty string or false, and ignore what follows the
// document.
func TestUnmarshalExact(t *testing.T) {
	const good = `{"action": "disclose", "time": "2026-11-26T10:00:00Z", "purpose": "risk_management",
		"requester": {"agency": "a", "kind": "police", "jurisdiction": "DK", "officer": {"id": "o", "roles": null, "clearance": "secret"}},
		"subject": {"category": "convicted", "in_custody": true}, "case": null, "route": {"role": "named"}}`
	var in Input
	if err := UnmarshalExact([]byte(good), &in); err != nil {
		t.Fatalf("UnmarshalExact(good) = %v", err)
	}
	if in.Purpose != "risk_management" || !in.Subject.InCustody || in.Case != nil || in.Route == nil || in.Requester.Officer.Clearance != "secret" {
		t.Errorf("UnmarshalExact(good) read %+v", in)
	}
	// null for an object reads as an empty one, as OPA reads it.
	var empty Input
	if err := UnmarshalExact([]byte(`{"action": "translate", "subject": null, "holder": null}`), &empty); err != nil || empty.Subject != (Subject{}) {
		t.Errorf("UnmarshalExact(subject null) = %+v, %v; want an empty subject", empty.Subject, err)
	}
	for _, tt := range []struct{ name, doc, want string }{
		{"top-level key in another case", `{"action": "disclose", "Purpose": "statistics"}`, `"Purpose"`},
		{"nested key in another case", `{"subject": {"Category": "convicted"}}`, `"subject.Category"`},
		{"key in a list element", `{"case": {"id": "c", "members": ["a"], "lead": "a"}, "provenance": {"holder": {"Agency": "x"}}}`, `"provenance.holder.Agency"`},
		{"unknown key", `{"action": "disclose", "recipients": []}`, `"recipients"`},
		{"null for true/false", `{"subject": {"in_custody": null}}`, "subject.in_custody is null"},
		{"null for a string", `{"purpose": null}`, "purpose is null"},
		{"a second document", `{"action": "disclose"} {"action": "request"}`, "more data"},
		{"wrong type", `{"subject": {"in_custody": "true"}}`, "in_custody"},
	} {
		var in Input
		err := UnmarshalExact([]byte(tt.doc), &in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: UnmarshalExact(%s) = %v; want an error naming %s", tt.name, tt.doc, err, tt.want)
		}
	}
}
