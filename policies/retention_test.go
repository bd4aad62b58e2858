package policies

import (
	"errors"
	"testing"
	"testing/fstest"
)

// TestRetention asks the embedded policy what recipients keep when a basis
// ends: the police under their own law, social services nothing; and
// checks that a tree without the rule, or with a broken one, is an error.
func TestRetention(t *testing.T) {
	e := loadEmbedded(t)
	in := sampleDKRelease("risk_management")
	in.Time = "2027-12-16T00:00:00Z"
	r, err := e.Retention(t.Context(), in)
	if err != nil {
		t.Fatalf("Retention(police) = %v", err)
	}
	if r.Obligation != ObligationRetain || r.Rule == nil || r.Rule.ID != "dk.rhl.retention.police" || r.Rule.RetainUntil != "2032-12-15" {
		t.Errorf("Retention(police) = %+v, want retain under dk.rhl.retention.police until 2032-12-15", r)
	}
	in.Recipient = Party{Agency: "dk-social-aarhus", Kind: "social_services", Jurisdiction: "DK"}
	if r, err := e.Retention(t.Context(), in); err != nil || r.Obligation != ObligationErase || r.Rule != nil {
		t.Errorf("Retention(social services) = %+v, %v; want erase", r, err)
	}

	const decision = "package liaison\n\ndecision := {\"outcome\": \"deny\", \"fields\": {\"keep\": [], \"generalise\": [], \"pseudonymise\": []}, \"conditions\": [], \"reasons\": [{\"code\": \"NO\", \"message\": \"no\"}]}\n"
	without, err := Load(t.Context(), fstest.MapFS{"liaison/decision.rego": {Data: []byte(decision)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := without.Retention(t.Context(), in); !errors.Is(err, ErrUndefined) {
		t.Errorf("Retention on a tree without data.liaison.retention = %v, want ErrUndefined", err)
	}
	broken, err := Load(t.Context(), fstest.MapFS{"liaison/decision.rego": {Data: []byte(decision +
		"\nretention := {\"obligation\": \"retain\", \"reasons\": [{\"code\": \"KEEP\", \"message\": \"keep\"}]}\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := broken.Retention(t.Context(), in); !errors.Is(err, ErrMalformed) {
		t.Errorf("Retention retain without a rule = %v, want ErrMalformed", err)
	}
}

// TestProvenanceConditionsMustTravel: a decision that lets a record with
// provenance go on without the conditions it came with is malformed.
func TestProvenanceConditionsMustTravel(t *testing.T) {
	d := Decision{Outcome: OutcomePseudonymise, PseudonymDomain: "x/y", Conditions: []string{"A"}, Reasons: []Reason{{Code: "OK", Message: "ok"}}}
	in := Input{Provenance: &Provenance{Conditions: []string{"A", "NO_ONWARD_DISCLOSURE"}}}
	if err := d.validateFor(in); !errors.Is(err, ErrMalformed) {
		t.Errorf("validateFor(dropping NO_ONWARD_DISCLOSURE) = %v, want ErrMalformed", err)
	}
	d.Conditions = append(d.Conditions, "NO_ONWARD_DISCLOSURE")
	if err := d.validateFor(in); err != nil {
		t.Errorf("validateFor(carrying both) = %v", err)
	}
	deny := Decision{Outcome: OutcomeDeny, Reasons: []Reason{{Code: "NO", Message: "no"}}}
	if err := deny.validateFor(in); err != nil {
		t.Errorf("validateFor(deny) = %v: a denial carries nothing", err)
	}
}

// TestOnwardDecisionOfTheEmbeddedPolicy: the Danish police are refused
// passing on a § 115 release notice, and the policy carries the
// conditions when it goes back to the prison.
func TestOnwardDecisionOfTheEmbeddedPolicy(t *testing.T) {
	e := loadEmbedded(t)
	prison := Party{Agency: "dk-prison-east", Kind: "prison", Jurisdiction: "DK"}
	police := Party{Agency: "dk-police-aarhus", Kind: "police", Jurisdiction: "DK"}
	in := sampleDKRelease("risk_management")
	in.Requester = Requester{Agency: police.Agency, Kind: police.Kind, Jurisdiction: police.Jurisdiction, Officer: in.Requester.Officer}
	in.Holder, in.Recipient = police, Party{Agency: "dk-social-aarhus", Kind: "social_services", Jurisdiction: "DK"}
	in.Provenance = &Provenance{AuditIndex: 3, Holder: prison, Recipient: police, LegalBasis: "dk.rpl.115.stk1.nr3",
		ValidUntil: "2027-12-15", Purpose: "risk_management",
		Conditions: []string{"DK_RPL115_STK2_NOT_FOR_CRIMINAL_INVESTIGATION", "NO_ONWARD_DISCLOSURE"}}
	d, err := e.Decide(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != OutcomeDeny || d.Reasons[0].Code != "ONWARD_DISCLOSURE_PROHIBITED" {
		t.Errorf("Decide(onward to social services) = %s %v, want deny ONWARD_DISCLOSURE_PROHIBITED", d.Outcome, d.Reasons)
	}
	in.Recipient = prison
	if d, err = e.Decide(t.Context(), in); err != nil || d.Outcome != OutcomeDisclose {
		t.Fatalf("Decide(back to the prison) = %+v, %v; want disclose", d, err)
	}
}
