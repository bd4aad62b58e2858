package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
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

// TestAuditNumberFlagsOneSpelling: the auditors' integer flags take a
// number in decimal and nothing else, as -entry does: the flag package
// read "042" as 34 (octal), "0x10" as 16 and "1_000" as 1000, so that
// audit prove -index 042 proved and printed entry 34, and query -start
// 0100 read the page from entry 64.
func TestAuditNumberFlagsOneSpelling(t *testing.T) {
	for _, c := range []struct {
		cmd, flag string
		extra     []string
	}{
		{"prove", "-index", []string{"-verifier-key", "x"}},
		{"query", "-start", nil},
		{"query", "-limit", nil},
		{"notices", "-start", nil},
		{"notices", "-limit", nil},
		{"corrections", "-start", nil},
		{"corrections", "-limit", nil},
		{"verify", "-sample", nil},
		{"verify", "-witness-quorum", nil},
		{"export", "-witness-quorum", []string{"-out", "x", "-verifier-key", "x"}},
	} {
		for _, v := range []string{"042", "0x10", "1_000", "+5", "0b1", "-0", "4 2"} {
			var stdout, stderr bytes.Buffer
			args := append(append([]string{c.cmd, c.flag, v}, c.extra...), "-gateway", "127.0.0.1:1")
			err := runAudit(t.Context(), args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), "flag "+c.flag+":") {
				t.Errorf("liaison audit %s %s %q: %v, want a refusal of %s", c.cmd, c.flag, v, err, c.flag)
			}
		}
	}
	// In decimal, it is taken (the command goes on, and fails further on).
	for _, args := range [][]string{
		{"prove", "-index", "42", "-verifier-key", "x"},
		{"query", "-start", "100", "-limit", "7"},
		{"corrections", "-start", "0", "-limit", "1000"},
		{"notices", "-start", "4201"},
	} {
		var stdout, stderr bytes.Buffer
		err := runAudit(t.Context(), append(args, "-gateway", "127.0.0.1:1"), &stdout, &stderr)
		if err == nil || strings.Contains(err.Error(), "invalid value") {
			t.Errorf("liaison audit %s: %v, want the flags taken", strings.Join(args, " "), err)
		}
	}
}

// TestVerifyExportWarnsOnItsStderr: audit verify -export without
// -verifier-key says that it used the export's own key, on the command's
// standard error: it was written to the process's, which a caller of run
// (a test, a tool embedding the command) does not read, so that the
// verification looked like one against a key given out of band.
func TestVerifyExportWarnsOnItsStderr(t *testing.T) {
	dir := t.TempDir()
	skey, vkey, err := note.GenerateKey(nil, "log.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	leaf := []byte(`{"index":0}`)
	h := tlog.RecordHash(leaf)
	signed, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "log.test", Size: 1, Hash: h}.String()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"entries.jsonl": append(leaf, '\n'), "checkpoint": signed, "verifier.key": []byte(vkey + "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	err = runAudit(t.Context(), []string{"verify", "-export", dir, "-state", filepath.Join(dir, "trusted")}, &stdout, &stderr)
	if err != nil || !strings.Contains(stdout.String(), "OK: 1 entry verifies") {
		t.Fatalf("audit verify -export: %v\n%s%s", err, &stdout, &stderr)
	}
	if !strings.Contains(stderr.String(), "warning: no -verifier-key given") {
		t.Errorf("audit verify -export without -verifier-key: its standard error says nothing of the key used:\n%s", &stderr)
	}
}

// TestRequiredAuditFlagsSayRequired: a flag without which an audit
// command stops ("-subject is required") says so in its -h text, as
// export's -out and -verifier-key and prove's -index do: report's
// -subject and prove's -verifier-key did not.
func TestRequiredAuditFlagsSayRequired(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"report"}, "subject"},
		{[]string{"prove", "-index", "1"}, "verifier-key"},
		{[]string{"prove"}, "index"},
		{[]string{"export", "-verifier-key", "x"}, "out"},
		{[]string{"export", "-out", "x"}, "verifier-key"},
	} {
		var stdout, stderr bytes.Buffer
		err := runAudit(t.Context(), append(c.args, "-gateway", "127.0.0.1:1"), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "-"+c.flag) || !strings.Contains(err.Error(), "required") {
			t.Errorf("liaison audit %s without -%s: %v, want it required", strings.Join(c.args, " "), c.flag, err)
		}
		stderr.Reset()
		runAudit(t.Context(), []string{c.args[0], "-h"}, &stdout, &stderr)
		_, usage, _ := strings.Cut(stderr.String(), "\n  -"+c.flag+" ")
		usage, _, _ = strings.Cut(usage, "\n  -")
		if !strings.Contains(usage, "required") {
			t.Errorf("liaison audit %s -h: -%s does not say it is required:%s", c.args[0], c.flag, usage)
		}
	}
}

// TestVerifyFullRefusesEntryAndSample: audit verify -full checks every
// entry, so an -entry or -sample given with it is refused rather than
// ignored, as with -export: -full -entry beyond the log said "OK", where
// the same -entry without -full is an error.
func TestVerifyFullRefusesEntryAndSample(t *testing.T) {
	for _, args := range [][]string{
		{"-full", "-entry", "99999999"},
		{"-full", "-sample", "5"},
		{"-entry", "3", "-full", "-entry", "4"},
	} {
		var stdout, stderr bytes.Buffer
		err := runAudit(t.Context(), append(append([]string{"verify"}, args...), "-verifier-key", "x", "-gateway", "127.0.0.1:1"), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "-full checks every entry") {
			t.Errorf("audit verify %s: %v, want the combination refused", strings.Join(args, " "), err)
		}
	}
}

// TestAuditNoticesLateHelpSaysWithdrawn: `liaison audit notices -h` says
// of -late what ListNoticesRequest.late_only does: a notice withdrawn
// before its deadline is not late, one withdrawn after it, unacknowledged,
// is. The text said only "deadline passed without, or before, an
// acknowledgement", which a notice withdrawn in time also fits, yet -late
// does not list it.
func TestAuditNoticesLateHelpSaysWithdrawn(t *testing.T) {
	var stdout, stderr bytes.Buffer
	_ = runAudit(t.Context(), []string{"notices", "-h"}, &stdout, &stderr)
	help := stdout.String() + stderr.String()
	i := strings.Index(help, "-late")
	if i < 0 {
		t.Fatalf("audit notices -h names no -late:\n%s", help)
	}
	if late := help[i:]; !strings.Contains(late, "withdrawn before its deadline was not late") || !strings.Contains(late, "withdrawn after it, unacknowledged, was") {
		t.Errorf("audit notices -h of -late does not say how a withdrawn notice counts:\n%s", help)
	}
}
