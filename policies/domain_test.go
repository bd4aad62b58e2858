package policies

import (
	"errors"
	"testing"
)

// TestReleaseDomainIsTheRecipients: the gateway makes a recipient's
// pseudonyms in the decision's pseudonym_domain, so a release (disclose,
// request, notify, match) names the recipient's own domain for the
// purpose, <recipient agency>/<purpose>, or case/<case id> of the input's
// case when the requester and the recipient are both its members. Any
// other domain (another agency's, another purpose's, a case the recipient
// is not in) would let the recipient link what it gets to what that
// domain's owner got: the decision is malformed, and the gateway denies
// it POLICY_ERROR. Without the check each such decision was accepted.
func TestReleaseDomainIsTheRecipients(t *testing.T) {
	basis := &LegalBasis{ID: "zz.basis", Citation: "ZZ Act"}
	reasons := []Reason{{Code: "X", Message: "x"}}
	cs := &Case{ID: "ZZ-1", Members: []string{"zz-prison", "zz-police"}, Lead: "zz-prison"}
	in := func(action string, c *Case) Input {
		return Input{
			Action: action, Requester: Requester{Agency: "zz-prison"}, Holder: Party{Agency: "zz-prison"},
			Recipient: Party{Agency: "zz-police"}, Purpose: "risk_management", Case: c,
		}
	}
	for _, tc := range []struct {
		name   string
		in     Input
		domain string
		ok     bool
	}{
		{"the recipient's own", in("disclose", nil), "zz-police/risk_management", true},
		{"the case's", in("disclose", cs), "case/ZZ-1", true},
		{"the recipient's own in a case", in("disclose", cs), "zz-police/risk_management", true},
		{"another agency's", in("disclose", nil), "zz-social/risk_management", false},
		{"the requester's", in("disclose", nil), "zz-prison/risk_management", false},
		{"another purpose's", in("disclose", nil), "zz-police/statistics", false},
		{"a case without a case", in("disclose", nil), "case/ZZ-1", false},
		{"another case", in("disclose", cs), "case/ZZ-2", false},
		{"a case the recipient is not in", in("disclose", &Case{ID: "ZZ-1", Members: []string{"zz-prison"}, Lead: "zz-prison"}), "case/ZZ-1", false},
		{"a made-up domain", in("disclose", nil), "everyone", false},
		{"a request", in("request", nil), "zz-social/risk_management", false},
		{"a notify", in("notify", nil), "zz-social/risk_management", false},
		{"a match", in("match", nil), "zz-social/risk_management", false},
	} {
		d := Decision{Outcome: OutcomePseudonymise, PseudonymDomain: tc.domain, Fields: Fields{Keep: []string{"operational"}}, Reasons: reasons}
		switch tc.in.Action {
		case "match":
			d.Outcome, d.Fields = OutcomeHitOnly, Fields{}
		case "disclose":
			d.Outcome, d.LegalBasis = OutcomeDisclose, basis
		}
		err := d.validateFor(tc.in)
		if tc.ok && err != nil {
			t.Errorf("%s (%s): validateFor = %v, want nil", tc.name, tc.domain, err)
		}
		if !tc.ok && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s (%s): validateFor = %v, want ErrMalformed", tc.name, tc.domain, err)
		}
	}
}
