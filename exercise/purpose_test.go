package exercise_test

import (
	"testing"
)

// TestReportGivesThePurposeEachRecipientWasDecidedFor: a notify reaches
// each recipient by its own route, and the gateway decides each delivery
// for that route's purpose: the members of the person's case for case
// management, whatever purpose the sender named for the agencies it
// addressed. The report says, for each recipient, the purpose the gateway
// decided (and logged) its delivery for, not the sender's.
func TestReportGivesThePurposeEachRecipientWasDecidedFor(t *testing.T) {
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, eng, scenario(t, "nl-case"))
	found := false
	for _, it := range r.Items {
		// Day 30: the prison notifies the release date to the competent
		// police for risk management; the municipality, which leads the
		// case, is found only as a member of the case.
		if it.Day != 30 || it.Action != "notify" || it.Agency != "nl-municipality-rotterdam" || it.What != "received" {
			continue
		}
		found = true
		if it.Purpose != "maw_case_management" {
			t.Errorf("the municipality's delivery on day 30 (routes %v) is reported for %q, want maw_case_management, the purpose it was decided for", it.Routes, it.Purpose)
		}
	}
	if !found {
		t.Fatal("no delivery to the municipality on day 30")
	}
}
