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
