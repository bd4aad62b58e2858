package exercise

import (
	"strings"
	"testing"
	"time"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestNotReached: after a correct or withdraw, every agency that learned
// the record from the holder in full or pseudonymised, and was not sent a
// withdrawal of it since, must be among those the gateway reached; any
// other is a gap. Agencies told nothing, refused, answered by a match, or
// holding the record from another holder are not expected.
func TestNotReached(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	at := func(day int) time.Time { return start.AddDate(0, 0, day).Add(9 * time.Hour) }
	clk := &clock{now: at(70)}
	p := &player{clk: clk, start: start, r: &Report{}}
	for _, it := range []Item{
		{At: at(30), Agency: "police", What: "received", Counterpart: "prison", Record: "release_notice", Outcome: "disclose"},
		{At: at(31), Agency: "police", What: "received", Counterpart: "prison", Record: "release_notice", Outcome: "disclose"},
		{At: at(30), Agency: "social", What: "received", Counterpart: "prison", Record: "release_notice", Outcome: "pseudonymise"},
		{At: at(30), Agency: "ngo", What: "withheld", Counterpart: "prison", Record: "release_notice", Outcome: "deny"},
		{At: at(30), Agency: "intel", What: "hit", Counterpart: "prison", Record: "release_notice"},
		{At: at(30), Agency: "probation", What: "received", Counterpart: "court", Record: "release_notice", Outcome: "disclose"},
		{At: at(30), Agency: "mayor", What: "received", Counterpart: "prison", Record: "release_notice", Outcome: "disclose"},
		{At: at(30), Agency: "police", What: "received", Counterpart: "prison", Record: "risk_assessment", Outcome: "disclose"},
	} {
		p.add(it)
	}
	clk.Set(at(40))
	p.withdrawn("prison", "release_notice", "mayor") // told to erase it on day 40
	clk.Set(at(70))

	e := Event{Day: 70, Action: "correct", By: "prison", Record: "release_notice"}
	p.notReached(4, e, map[string]bool{"social": true})
	if len(p.r.Gaps) != 1 {
		t.Fatalf("gaps = %+v; want one, for the police", p.r.Gaps)
	}
	g := p.r.Gaps[0]
	if g.Key != "correction/4/police" || !strings.Contains(g.Text, "police learned release_notice from prison on day 30, and on day 70 was sent neither the corrected record nor a withdrawal") {
		t.Errorf("gap = %+v", g)
	}

	// Every holder reached: no gap. A mayor that learns the record again
	// after its withdrawal holds it again.
	p.r.Gaps = nil
	p.notReached(4, e, map[string]bool{"police": true, "social": true})
	if len(p.r.Gaps) != 0 {
		t.Errorf("gaps = %+v; want none", p.r.Gaps)
	}
	p.add(Item{At: at(50), Agency: "mayor", What: "received", Counterpart: "prison", Record: "release_notice", Outcome: "disclose"})
	p.notReached(5, Event{Day: 70, Action: "withdraw", By: "prison", Record: "release_notice"}, map[string]bool{"police": true, "social": true})
	if len(p.r.Gaps) != 1 || p.r.Gaps[0].Key != "withdrawal/5/mayor" || !strings.Contains(p.r.Gaps[0].Text, "withdrawal not delivered: mayor learned release_notice from prison on day 50") {
		t.Errorf("gaps = %+v; want one, for the mayor", p.r.Gaps)
	}
}

// TestLastReceived: an onward disclose names the latest release of the
// record from that holder that the agency learned in full; one it learned
// only pseudonymised, or from another holder, is not one it can pass on.
func TestLastReceived(t *testing.T) {
	t.Parallel()
	p := &player{clk: &clock{}, r: &Report{}}
	for _, it := range []Item{
		{Agency: "police", What: "received", Counterpart: "prison", Record: "release_notice", Outcome: "disclose", auditIndex: 0},
		{Agency: "police", What: "received", Counterpart: "prison", Record: "release_notice", Outcome: "disclose", auditIndex: 7},
		{Agency: "police", What: "received", Counterpart: "prison", Record: "release_notice", Outcome: "pseudonymise", auditIndex: 9},
		{Agency: "police", What: "received", Counterpart: "probation", Record: "release_notice", Outcome: "disclose", auditIndex: 11},
		{Agency: "social", What: "received", Counterpart: "prison", Record: "risk_assessment", Outcome: "pseudonymise", auditIndex: 12},
	} {
		p.add(it)
	}
	if got := p.lastReceived("police", "prison", "release_notice"); got == nil || got.auditIndex != 7 {
		t.Errorf("lastReceived(police, prison) = %+v; want the release at index 7", got)
	}
	if got := p.lastReceived("social", "prison", "risk_assessment"); got != nil {
		t.Errorf("lastReceived(social, prison) = %+v; want nil: it learned it only pseudonymised", got)
	}
	if got := p.lastReceived("police", "court", "release_notice"); got != nil {
		t.Errorf("lastReceived(police, court) = %+v; want nil", got)
	}
}

// TestNotPassedOn: an onward release a correction or withdrawal notice
// names (passed_on) is a gap until the agency that made it corrects or
// withdraws it; a second notice naming it again adds nothing, and another
// agency's correction of the same index does not count.
func TestNotPassedOn(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	at := func(day int) time.Time { return start.AddDate(0, 0, day).Add(9 * time.Hour) }
	clk := &clock{now: at(132)}
	p := &player{clk: clk, start: start, r: &Report{}}
	p.add(Item{At: at(131), Agency: "police", What: "received", Counterpart: "probation", Record: "risk_assessment", Outcome: "disclose", auditIndex: 5})
	p.add(Item{At: at(132), Agency: "city", What: "received", Counterpart: "police", Record: "risk_assessment", Outcome: "disclose", auditIndex: 8})
	p.add(Item{At: at(140), Agency: "police", What: "sent", Counterpart: "social", Record: "risk_assessment", auditIndex: 12})
	n := &liaisonv1.ObligationNotice{Kind: liaisonv1.ObligationKind_OBLIGATION_KIND_CORRECTION, Holder: "probation",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, PassedOn: []int64{8, 12}}
	p.noteOnward("police", n, 150)
	p.noteOnward("police", n, 151) // the same releases, named again
	p.passedOnDone("police", 12)   // the police corrected what they sent social services
	p.passedOnDone("probation", 8) // not the police: still theirs to pass on
	p.notPassedOn()
	if len(p.r.Gaps) != 1 {
		t.Fatalf("gaps = %+v; want one, for the city", p.r.Gaps)
	}
	g := p.r.Gaps[0]
	if g.Key != "passed_on/police/city/probation/risk_assessment/150" ||
		g.Text != "correction not passed on: police passed risk_assessment from probation on to city on day 132, was sent the correction on day 150, and when the exercise ends has neither corrected nor withdrawn what it passed on" {
		t.Errorf("gap = %+v", g)
	}
	p.r.Gaps = nil
	p.passedOnDone("police", 8)
	if p.notPassedOn(); len(p.r.Gaps) != 0 {
		t.Errorf("gaps = %+v; want none once the police corrected both", p.r.Gaps)
	}
}
