package main

import (
	"bytes"
	"os/exec"
	"regexp"
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
