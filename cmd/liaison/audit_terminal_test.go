package main

import (
	"strings"
	"testing"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestAuditOutputShowsEscapesNeverObeysThem: an officer id is whatever
// the agency's token says, and the log records it as it is. audit query
// and audit report -with-officers printed it raw to the auditor's
// terminal, so that an officer named with escape sequences (here: go up
// a line and erase it) could erase lines of what the auditor reads, or
// recolour them; both now show such characters as escapes (\x1b).
func TestAuditOutputShowsEscapesNeverObeysThem(t *testing.T) {
	s := startAuditStack(t, "")
	const officer = "insp.x\x1b[1A\x1b[2K\u202e"
	conn, err := s.d.client("nl-police-rotterdam", officer, []string{"case_officer"}, "restricted")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := liaisonv1.NewExchangeClient(conn).Request(t.Context(), &liaisonv1.RequestRequest{
		Holder: "nl-probation", SubjectId: "SYN-NL-0001",
		RecordType: liaisonv1.RecordType_RECORD_TYPE_RISK_ASSESSMENT, Purpose: liaisonv1.Purpose_PURPOSE_RISK_MANAGEMENT,
		Justification: "Planning contact after a reported meeting with a known recruiter.",
	}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"query", "-agency", "nl-police-rotterdam"},
		{"report", "-subject", "SYN-NL-0001", "-with-officers"},
	} {
		out, err := s.audit(t, args[0], args[1:]...)
		if err != nil {
			t.Fatalf("audit %v: %v\n%s", args, err, out)
		}
		if strings.ContainsAny(out, "\x1b\u202e") {
			t.Errorf("audit %v wrote the officer's escape sequences to the terminal:\n%q", args, out)
		}
		if !strings.Contains(out, `insp.x\x1b[1A\x1b[2K\u202e`) {
			t.Errorf("audit %v does not show the officer, escaped:\n%q", args, out)
		}
	}
}
