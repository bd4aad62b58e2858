package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditListFlagsOneSpelling: the flags of the auditors' list
// commands take each value in the one spelling their -h names, and
// refuse, naming the flag, what they would otherwise read as something
// else. -kind took "Correction" and "CORRECTION" for correction; a
// negative -older-than was dropped, listing every notice; -limit 0 listed
// 100 entries where -h says "at most this many"; and a -from or -to that
// is no time was refused without naming the flag.
func TestAuditListFlagsOneSpelling(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"corrections", "-kind", "Correction"}, "-kind"},
		{[]string{"corrections", "-kind", "CORRECTION"}, "-kind"},
		{[]string{"corrections", "-kind", "unspecified"}, "-kind"},
		{[]string{"corrections", "-older-than", "-168h"}, "-older-than"},
		{[]string{"query", "-limit", "0"}, "-limit"},
		{[]string{"notices", "-limit", "0"}, "-limit"},
		{[]string{"corrections", "-limit", "0"}, "-limit"},
		{[]string{"query", "-from", "1 November 2026"}, "-from"},
		{[]string{"query", "-to", "2026-11-31"}, "-to"},
	} {
		var stdout, stderr bytes.Buffer
		err := runAudit(t.Context(), append(c.args, "-gateway", "127.0.0.1:1"), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.flag+" ") {
			t.Errorf("liaison audit %s: %v, want a refusal naming %s", strings.Join(c.args, " "), err, c.flag)
		}
	}
	// What the -h texts name is taken: the command goes on to reach the
	// gateway (and fails there, for want of a certificate).
	for _, args := range [][]string{
		{"corrections", "-kind", "correction", "-older-than", "168h", "-limit", "1"},
		{"corrections", "-kind", "expiry", "-limit", "1000"},
		{"query", "-from", "2026-11-01", "-to", "2026-11-02T10:00:00Z", "-limit", "1"},
		{"notices", "-limit", "1"},
	} {
		var stdout, stderr bytes.Buffer
		err := runAudit(t.Context(), append(args, "-gateway", "127.0.0.1:1"), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "-cert, -key, -ca and a token are required") {
			t.Errorf("liaison audit %s: %v, want the flags taken (and a missing certificate)", strings.Join(args, " "), err)
		}
	}
}

// TestTokenFileIsNeverSkipped: a -token-file that cannot be read or holds
// nothing is an error naming the flag, as it is for liaison console: the
// command took an empty file for no file and called with $LIAISON_TOKEN,
// another officer's token perhaps, whom the gateway's entry of the call
// then named.
func TestTokenFileIsNeverSkipped(t *testing.T) {
	t.Setenv("LIAISON_TOKEN", "someone.elses.token")
	dir := t.TempDir()
	empty := filepath.Join(dir, "token")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{empty, filepath.Join(dir, "missing")} {
		for _, args := range [][]string{
			{"audit", "query"},
			{"audit", "notices"},
			{"case", "show", "-id", "NL-ZVH-RTM-0042"},
		} {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), append(args, "-gateway", "127.0.0.1:1", "-cert", "c.pem", "-key", "c.key", "-ca", "ca.pem", "-token-file", file), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), "-token-file") {
				t.Errorf("liaison %s -token-file %s: %v, want an error naming -token-file", strings.Join(args, " "), filepath.Base(file), err)
			}
			if err != nil && strings.Contains(err.Error(), "someone.elses.token") {
				t.Errorf("liaison %s: the error shows the token: %v", strings.Join(args, " "), err)
			}
		}
	}
}
