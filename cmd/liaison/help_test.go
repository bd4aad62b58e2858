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
// the command's name, and two or more spaces before what it does.
var commandLine = regexp.MustCompile(`(?m)^\t([a-z][a-z-]*) {2,}\S`)

// TestEveryHelpWorks runs "liaison -h" and then "-h" of every command it
// lists, and of every subcommand those list in turn, against the built
// binary: each must exit 0 and print its usage, not an error. New commands
// are covered as soon as a usage text names them.
func TestEveryHelpWorks(t *testing.T) {
	bin := buildLiaison(t)
	seen := 0
	var walk func(path []string)
	walk = func(path []string) {
		name := strings.Join(append([]string{"liaison"}, path...), " ")
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
