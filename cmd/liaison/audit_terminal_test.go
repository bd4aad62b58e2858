package main

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/internal/spelling"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestAuditOutputShowsEscapesNeverObeysThem: audit query and audit report
// print what the log holds to the auditor's terminal. A string with escape
// sequences (here: go up a line and erase it, then reverse the direction
// of what follows) could erase lines of what the auditor reads, or
// recolour or reorder them; both commands show such characters as escapes
// (\x1b, \u202e) through printable. The gateway now refuses such an
// officer id when it authenticates (TestOfficerIDHasOneSpelling in
// gateway), but a log written before that holds them, and a policy's
// citation is printed too.
func TestAuditOutputShowsEscapesNeverObeysThem(t *testing.T) {
	for in, want := range map[string]string{
		"insp.x\x1b[1A\x1b[2K\u202e":     `insp.x\x1b[1A\x1b[2K\u202e`,
		"line one\nforged line two\tcol": `line one\x0aforged line two\x09col`,
		"Retsplejeloven § 115 (æøå)":     "Retsplejeloven § 115 (æøå)",
		"zero\u200bwidth\u00adsoft":      `zero\u200bwidth\xadsoft`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAuditTableShowsIdentifiersApart: two entries of a log written before
// the gateway refused such identifiers, whose officer, subject pseudonym,
// legal basis and case differ from the other's only by a character that
// shows nothing (a Hangul filler, a variation selector, a no-break space),
// were printed by audit query as two identical rows; each such character
// (what spelling.Unprintable refuses) is now shown as its escape in the
// identifier columns, and in the access report's officer, agencies and
// basis id. Free text (a citation) keeps a variation selector, which may
// ask for an emoji's presentation, and escapes controls as before.
func TestAuditTableShowsIdentifiersApart(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	entry := func(i int64, officer, pseudonym, basis, caseID string) *liaisonv1.AuditEntry {
		b, err := (&audit.Entry{Time: at, Action: "case_invite", Outcome: "allow",
			Requester: &audit.Requester{Agency: "dk-police-aarhus", Officer: officer},
			Subject:   &audit.Subject{Pseudonym: pseudonym}, LegalBasis: &audit.LegalBasis{ID: basis, Citation: "x"},
			Case: &audit.Case{ID: caseID}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return &liaisonv1.AuditEntry{Index: i, Json: string(b)}
	}
	var out strings.Builder
	if err := printEntries(&out, []*liaisonv1.AuditEntry{
		entry(1, "insp.hansen", "ps-AAAA", "dk.rpl.115", "DK-2026-1"),
		entry(2, "insp.hansen\u3164", "ps-AAAA\ufe0f", "dk.rpl.115\u115f", "DK-2026\u00a01"),
	}, false, time.UTC); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(rows) != 3 {
		t.Fatalf("printEntries = %q; want a header and two rows", out.String())
	}
	row := strings.Join(strings.Fields(rows[2])[1:], " ")
	for _, want := range []string{`dk-police-aarhus/insp.hansen\u3164`, `ps-AAAA\ufe0f`, `dk.rpl.115\u115f`, `case DK-2026\xa01`} {
		if !strings.Contains(row, want) {
			t.Errorf("row 2 = %q; want %s in it", rows[2], want)
		}
	}
	if strings.ContainsFunc(strings.ReplaceAll(out.String(), "\n", ""), spelling.Unprintable) {
		t.Errorf("printEntries = %q; it holds a character that shows nothing", out.String())
	}
	for in, want := range map[string]string{
		"insp.x\x1b[1A\u202e": `insp.x\x1b[1A\u202e`,
		"ps-\U000e0100":       `ps-\U000e0100`,
		"Aarhus":              "Aarhus",
		"서울":                  "서울",
	} {
		if got := identifier(in); got != want {
			t.Errorf("identifier(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := printable("Safety House covenant \u2764\ufe0f\x1b[2K"), "Safety House covenant \u2764\ufe0f\\x1b[2K"; got != want {
		t.Errorf("printable = %q, want %q", got, want)
	}
	var rep strings.Builder
	renderReport(&rep, &liaisonv1.AccessReportResponse{Produced: timestamppb.New(at), Disclosures: []*liaisonv1.ReportedDisclosure{{
		Time: timestamppb.New(at), Holder: "dk-prison-east\u3164", Recipients: []string{"dk-police-aarhus\ufe0f"}, Officer: "insp.hansen\u3164",
		Requester: "dk-police-aarhus", LegalBasis: &liaisonv1.LegalBasis{Id: "dk.rpl.115\u115f", Citation: "Rpl. § 115"}, Action: "disclose",
	}}}, time.UTC)
	for _, want := range []string{`from:       dk-prison-east\u3164`, `to:         dk-police-aarhus\ufe0f`, `officer:    insp.hansen\u3164 of`, `(dk.rpl.115\u115f)`} {
		if !strings.Contains(rep.String(), want) {
			t.Errorf("renderReport = %s; want %s in it", rep.String(), want)
		}
	}
}
