package main

import (
	"bytes"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// commandLine matches a command in a usage text's list of commands: a tab,
// the command's name, and two or more spaces before what it does, or, for
// a name too long for the column (case close-orphaned), the name alone on
// its line and what it does on the next, indented.
var commandLine = regexp.MustCompile(`(?m)^\t([a-z][a-z-]*)(?: {2,}\S|\n\t {2,}\S)`)

// TestEveryHelpWorks runs "liaison -h" and then "-h" of every command it
// lists, and of every subcommand those list in turn, against the built
// binary: each must exit 0 and print its usage, not an error. New commands
// are covered as soon as a usage text names them.
func TestEveryHelpWorks(t *testing.T) {
	bin := buildLiaison(t)
	seen := 0
	walked := map[string]bool{}
	var walk func(path []string)
	walk = func(path []string) {
		name := strings.Join(append([]string{"liaison"}, path...), " ")
		walked[strings.Join(path, " ")] = true
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, append(append([]string{}, path...), "-h")...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("%s -h: %v (want exit 0)\nstdout:\n%s\nstderr:\n%s", name, err, &stdout, &stderr)
			return
		}
		seen++
		out := stdout.String() + stderr.String()
		if !strings.Contains(strings.ToLower(out), "usage") || !strings.Contains(out, name) {
			t.Errorf("%s -h printed no usage naming %q:\n%s", name, name, out)
		}
		if regexp.MustCompile(`(?m)^liaison: `).MatchString(out) {
			t.Errorf("%s -h printed an error:\n%s", name, out)
		}
		subs := commandLine.FindAllStringSubmatch(out, -1)
		if len(path) == 0 && len(subs) < 7 {
			t.Fatalf("liaison -h lists %d commands, want serve, demo, provider, policy, audit, dev, keys at least:\n%s", len(subs), out)
		}
		for _, m := range subs {
			walk(append(append([]string{}, path...), m[1]))
		}
	}
	walk(nil)
	// liaison, 7 commands, and the subcommands of policy (5), audit (5),
	// dev (2) and keys (3) at least.
	if seen < 1+7+15 {
		t.Errorf("ran %d help texts, want at least %d", seen, 1+7+15)
	}
	// Every case command, the operator's too, whatever the width of its
	// name in the list.
	for sub := range caseHelp {
		if !walked["case "+sub] {
			t.Errorf("liaison case -h does not list %q so that its help is reached", sub)
		}
	}
	t.Logf("%d help texts exit 0 with their usage", seen)
}

// flagOfAnother matches, in a help text, a flag named as another command's:
// "the gateway's -flag" (liaison serve's) or "liaison <command> -flag".
var flagOfAnother = regexp.MustCompile(`(?:(the gateway's)|\bliaison ([a-z]+(?: [a-z]+)?)) -([a-z][-a-z0-9]*)`)

// TestHelpNamesOtherCommandsFlags checks that where a help text sends the
// reader to a flag of another command ("for the gateway's -flag", "with
// liaison serve -flag"), that command has the flag.
func TestHelpNamesOtherCommandsFlags(t *testing.T) {
	help := func(path ...string) string {
		var out, errb bytes.Buffer
		_ = run(t.Context(), append(path, "-h"), &out, &errb)
		return out.String() + errb.String()
	}
	flagsOf := func(path []string) []string {
		var fs []string
		for _, m := range flagLine.FindAllStringSubmatch(help(path...), -1) {
			fs = append(fs, m[1])
		}
		return fs
	}
	checked := 0
	var walk func(path []string)
	walk = func(path []string) {
		h := help(path...)
		for _, m := range flagOfAnother.FindAllStringSubmatch(h, -1) {
			target := []string{"serve"}
			if m[1] == "" {
				target = strings.Fields(m[2])
				if len(target) == 2 && !slices.ContainsFunc(commandLine.FindAllStringSubmatch(help(target[0]), -1), func(s []string) bool { return s[1] == target[1] }) {
					target = target[:1]
				}
			}
			checked++
			if !slices.Contains(flagsOf(target), m[3]) {
				t.Errorf("liaison %s -h: %q: liaison %s has no flag -%s", strings.Join(path, " "), m[0], strings.Join(target, " "), m[3])
			}
		}
		for _, m := range commandLine.FindAllStringSubmatch(h, -1) {
			walk(append(slices.Clone(path), m[1]))
		}
	}
	walk(nil)
	if checked == 0 {
		t.Fatal("no help text names another command's flag: the pattern no longer matches")
	}
	t.Logf("%d references to other commands' flags checked", checked)
}

// flagUsage matches a flag and its usage in a help text's list of flags,
// as flag.PrintDefaults writes them: "  -name type" and the usage on the
// lines after it, each indented by four spaces and a tab.
var flagUsage = regexp.MustCompile(`(?m)^  -([A-Za-z0-9][-A-Za-z0-9_.]*)[^\n]*\n((?:    \t[^\n]*\n?)+)`)

// danglingWord are words a usage does not end on unless it was cut short
// (a preposition may: "the CA file the gateway's certificate chains to").
var danglingWord = []string{"a", "an", "the", "of", "were", "was", "is", "are", "be", "and", "or", "that", "which", "its", "their"}

// TestFlagUsagesAreWhole checks that no flag's usage, in any help text,
// stops in mid-sentence ("also list closed notices: ... superseded by a
// later notice before they were").
func TestFlagUsagesAreWhole(t *testing.T) {
	checked := 0
	var walk func(path []string)
	walk = func(path []string) {
		var out, errb bytes.Buffer
		_ = run(t.Context(), append(slices.Clone(path), "-h"), &out, &errb)
		h := out.String() + errb.String()
		for _, m := range flagUsage.FindAllStringSubmatch(h, -1) {
			usage := strings.Join(strings.Fields(strings.ReplaceAll(m[2], "\t", " ")), " ")
			usage = regexp.MustCompile(` \(default [^)]*\)$`).ReplaceAllString(usage, "")
			words := strings.Fields(usage)
			if len(words) == 0 {
				t.Errorf("liaison %s -h: -%s has no usage", strings.Join(path, " "), m[1])
				continue
			}
			checked++
			if last := strings.ToLower(strings.TrimRight(words[len(words)-1], ".,;:")); slices.Contains(danglingWord, last) {
				t.Errorf("liaison %s -h: the usage of -%s stops short: %q", strings.Join(path, " "), m[1], usage)
			}
		}
		for _, m := range commandLine.FindAllStringSubmatch(h, -1) {
			walk(append(slices.Clone(path), m[1]))
		}
	}
	walk(nil)
	if checked < 100 {
		t.Fatalf("checked the usage of %d flags, want 100 or more: the pattern no longer matches", checked)
	}
	t.Logf("%d flag usages checked", checked)
}

// TestAuditQuerySummaryNamesEveryFilter checks that the line of
// "liaison audit -h" that sums up query names every filter that
// "liaison audit query -h" lists (-from and -to as time): an auditor
// reading the summary learns what query can select on.
func TestAuditQuerySummaryNamesEveryFilter(t *testing.T) {
	var sum, flags bytes.Buffer
	run(t.Context(), []string{"audit", "-h"}, &sum, &sum)
	run(t.Context(), []string{"audit", "query", "-h"}, &flags, &flags)
	line := regexp.MustCompile(`(?m)^\s+query\s+(.*(?:\n\s{13,}[^-\s].*)*)`).FindStringSubmatch(sum.String())
	if line == nil {
		t.Fatalf("liaison audit -h has no line for query:\n%s", &sum)
	}
	summary := strings.Join(strings.Fields(line[1]), " ")
	notFilters := map[string]bool{"ca": true, "cert": true, "key": true, "gateway": true, "json": true, "limit": true,
		"start": true, "token": true, "token-file": true, "timeout": true, "tz": true}
	names := regexp.MustCompile(`(?m)^  -([a-z][-a-z]*)`).FindAllStringSubmatch(flags.String(), -1)
	if len(names) < 10 {
		t.Fatalf("liaison audit query -h lists %d flags:\n%s", len(names), &flags)
	}
	for _, m := range names {
		if notFilters[m[1]] {
			continue
		}
		word := strings.ReplaceAll(m[1], "-", " ")
		if m[1] == "from" || m[1] == "to" {
			word = "time"
		}
		if !strings.Contains(summary, word) {
			t.Errorf("liaison audit -h sums up query as %q, which does not name its filter -%s", summary, m[1])
		}
	}
}

// TestJSONFlagSaysWhatItPrints: a command's -json says the shape of what
// it prints, as the tests of each command read it: one JSON document a
// line (audit query, audit notices, case list) or one object of the
// gateway's answer (audit corrections, {"notices": [...]}). audit
// corrections said "print the notices as JSON" and case list "print the
// case as JSON", as if the one printed a list and the other one case.
func TestJSONFlagSaysWhatItPrints(t *testing.T) {
	for path, want := range map[string]string{
		"audit query":       "one a line",
		"audit notices":     "one a line",
		"case list":         "one a line",
		"audit corrections": `one object, the notices in "notices"`,
	} {
		var out, errb bytes.Buffer
		_ = run(t.Context(), append(strings.Fields(path), "-h"), &out, &errb)
		m := regexp.MustCompile(`(?m)^\s+-json\n\s+(.*)$`).FindStringSubmatch(out.String() + errb.String())
		if m == nil || !strings.Contains(m[1], want) {
			t.Errorf("liaison %s -h: -json %q, want it to say %q", path, m, want)
		}
	}
}
