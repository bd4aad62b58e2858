package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

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

// TestCaseOutputNamesTheRegistryFile: case list and case show gave a case
// of the registry file "version 0", a version no case has (an opened
// case starts at 1); the file, not the gateway, manages it. They say so.
func TestCaseOutputNamesTheRegistryFile(t *testing.T) {
	t.Parallel()
	registry := &liaisonv1.Case{
		Id: "NL-ZVH-RTM-0042", Kind: "nl.zvh", Jurisdiction: "NL", Status: liaisonv1.CaseStatus_CASE_STATUS_OPEN,
		Lead: "nl-municipality-rotterdam", PseudonymDomain: "case/NL-ZVH-RTM-0042", ManagedByRegistry: true, AuditIndex: -1,
		Members: []*liaisonv1.CaseMember{{Agency: "nl-municipality-rotterdam", Status: liaisonv1.MemberStatus_MEMBER_STATUS_MEMBER, Lead: true}},
	}
	var out bytes.Buffer
	if err := printCases(&out, []*liaisonv1.Case{registry}); err != nil {
		t.Fatal(err)
	}
	if list := out.String(); strings.HasSuffix(strings.TrimRight(list, " \n"), "0") || !strings.Contains(list, "(registry file)") {
		t.Errorf("case list of a registry case:\n%s", list)
	}
	out.Reset()
	if err := printCase(&out, registry, -1); err != nil {
		t.Fatal(err)
	}
	if show := out.String(); strings.Contains(show, "version 0") ||
		!strings.Contains(show, "case NL-ZVH-RTM-0042 (nl.zvh, NL law) from the registry file: open, led by nl-municipality-rotterdam") {
		t.Errorf("case show of a registry case:\n%s", show)
	}
}

// TestNoticesPrintTimesAsTheOtherTables: audit notices printed its times
// as the answer's RFC 3339 ("2026-12-02T13:24:05.123456789Z"), where audit
// obligations and audit query print them for people; it prints them in
// UTC to the minute, as audit obligations does, and "-" for none.
func TestNoticesPrintTimesAsTheOtherTables(t *testing.T) {
	t.Parallel()
	n := &liaisonv1.TrackedNotice{
		NoticeId: "N-1", EventType: liaisonv1.SubjectEventType_SUBJECT_EVENT_TYPE_RELEASE_DATE_SET,
		Sender: "dk-prison-east", Recipient: "dk-police-aarhus",
		Sent: "2026-12-02T13:24:05.123456789Z", AcknowledgeBy: "2026-12-04T13:24:05+01:00", AuditIndex: 7,
	}
	var out bytes.Buffer
	if err := printNotices(&out, []*liaisonv1.TrackedNotice{n}, nil, time.UTC); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Contains(got, "T13:24") || !strings.Contains(got, "2026-12-02 13:24") || !strings.Contains(got, "2026-12-04 12:24") {
		t.Errorf("audit notices printed:\n%s\nwant sent 2026-12-02 13:24 and acknowledge by 2026-12-04 12:24 (UTC)", got)
	}
	row := strings.Split(got, "\n")[1]
	if c := strings.Split(collapse(row), "\t"); len(c) != 11 || c[7] != "-" || c[8] != "-" {
		t.Errorf("audit notices row %q: want 11 columns, acknowledged and escalated \"-\"", row)
	}
}
