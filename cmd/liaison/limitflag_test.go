package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestListLimitsAreNotWrapped: a -limit beyond what the list calls take
// (0 to 1000, an int32 field) is refused by the command, not wrapped:
// 4294967396 was sent as 100, -4294967196 as 100 too.
func TestListLimitsAreNotWrapped(t *testing.T) {
	for _, args := range [][]string{
		{"query", "-limit", "4294967396"},
		{"query", "-limit", "-4294967196"},
		{"query", "-limit", "1001"},
		{"notices", "-limit", "4294967396"},
		{"corrections", "-limit", "4294967396"},
	} {
		var stdout, stderr bytes.Buffer
		err := runAudit(t.Context(), append(args, "-gateway", "127.0.0.1:1"), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "-limit") {
			t.Errorf("liaison audit %s: %v, want a refusal of -limit", strings.Join(args, " "), err)
		}
	}
}

// TestVerifyEntryIndexHasOneSpelling: audit verify -entry takes an index
// in decimal and nothing else: fmt.Sscan read "012" as entry 10, "0x10"
// as 16 and "12abc" as 12, so the command checked an entry the auditor
// had not named and said the log verifies.
func TestVerifyEntryIndexHasOneSpelling(t *testing.T) {
	for _, e := range []string{"012", "0x10", "12abc", "12 13", "+5", "1_000", "-1", ""} {
		var stdout, stderr bytes.Buffer
		err := runAudit(t.Context(), []string{"verify", "-entry", e, "-gateway", "127.0.0.1:1"}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "-entry") {
			t.Errorf("audit verify -entry %q: %v, want a refusal of -entry", e, err)
		}
	}
	if idx, err := entryIndexes([]string{"0", "12", "1000000"}); err != nil || len(idx) != 3 || idx[1] != 12 {
		t.Errorf("entryIndexes(0, 12, 1000000) = %v, %v", idx, err)
	}
}

// TestMatchDeadlineIsNotWrapped: liaison match -deadline beyond the 30s
// the gateway allows is refused by the command, not wrapped into the
// request's int32 of milliseconds (4294969296ms was sent as 2000); one
// under a millisecond is refused too, not sent as 0, the gateway's
// default of 2s (500us waited four thousand times as long).
func TestMatchDeadlineIsNotWrapped(t *testing.T) {
	for _, d := range []string{"4294969296ms", "31s", "-1s", "500us", "1ns"} {
		var stdout, stderr bytes.Buffer
		err := runMatch(t.Context(), []string{"-subject", "SYN-NL-0001", "-record-type", "risk_assessment", "-purpose", "risk_management",
			"-justification", "Stopped in a check.", "-deadline", d, "-gateway", "127.0.0.1:1"}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "-deadline") {
			t.Errorf("liaison match -deadline %s: %v, want a refusal of -deadline", d, err)
		}
	}
}
