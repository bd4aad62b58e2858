package main

import (
	"bytes"
	"strings"
	"testing"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCaseOutputLeavesNoBlank: case list printed an empty MEMBERS or
// INVITED column for a case with no member or no invitation open (the
// demo's case, every member joined, had nothing under INVITED), and case
// show printed a case of the registry file, never opened through the
// gateway, as "opened " and each member "since ", with nothing after.
func TestCaseOutputLeavesNoBlank(t *testing.T) {
	registry := &liaisonv1.Case{
		Id: "NL-ZVH-RTM-0042", Jurisdiction: "NL", Status: liaisonv1.CaseStatus_CASE_STATUS_OPEN, Lead: "nl-municipality-rotterdam",
		PseudonymDomain: "case/NL-ZVH-RTM-0042",
		Members: []*liaisonv1.CaseMember{
			{Agency: "nl-municipality-rotterdam", Status: liaisonv1.MemberStatus_MEMBER_STATUS_MEMBER, Lead: true},
			{Agency: "nl-police-rotterdam", Status: liaisonv1.MemberStatus_MEMBER_STATUS_MEMBER},
		},
	}
	opened := &liaisonv1.Case{
		Id: "NL-ZVH-RTM-0107", Kind: "nl.zvh", Jurisdiction: "NL", Status: liaisonv1.CaseStatus_CASE_STATUS_OPEN, Lead: "nl-municipality-rotterdam",
		PseudonymDomain: "case/NL-ZVH-RTM-0107", Opened: "2026-12-02T13:24:05Z", Version: 3,
		Members: []*liaisonv1.CaseMember{
			{Agency: "nl-municipality-rotterdam", Status: liaisonv1.MemberStatus_MEMBER_STATUS_MEMBER, Lead: true, Since: "2026-12-02T13:24:05Z"},
			{Agency: "nl-probation", Status: liaisonv1.MemberStatus_MEMBER_STATUS_INVITED, Since: "2026-12-02T13:25:00Z", By: "nl-municipality-rotterdam"},
		},
	}
	var out bytes.Buffer
	if err := printCases(&out, []*liaisonv1.Case{registry, opened}); err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(out.String()) {
		// Seven columns, none empty: two spaces or more between each.
		if n := strings.Count(collapse(l), "\t") + 1; n != 7 {
			t.Errorf("case list: a line has %d columns, want 7: %q\n%s", n, l, out.String())
		}
	}
	for _, c := range []*liaisonv1.Case{registry, opened} {
		out.Reset()
		if err := printCase(&out, c, -1); err != nil {
			t.Fatal(err)
		}
		for l := range strings.Lines(out.String()) {
			if l = strings.TrimRight(l, "\n"); strings.HasSuffix(l, " ") || strings.HasSuffix(l, "opened") || strings.HasSuffix(l, "since") || strings.Contains(l, "since  ") {
				t.Errorf("case show %s: a line ends blank: %q\n%s", c.GetId(), l, out.String())
			}
		}
	}
	if !strings.Contains(out.String(), "; opened 2026-12-02T13:24:05Z") || !strings.Contains(out.String(), "since 2026-12-02T13:25:00Z") {
		t.Errorf("case show of an opened case lost its dates:\n%s", out.String())
	}
}

// collapse turns each run of two spaces or more into a tab: the column
// breaks of a tabwriter table padded with spaces.
func collapse(l string) string {
	var b strings.Builder
	for f := range strings.SplitSeq(strings.TrimSpace(l), "  ") {
		if f = strings.TrimSpace(f); f != "" {
			if b.Len() > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(f)
		}
	}
	return b.String()
}
