package main

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPolicyREADMEExamples runs the examples of policies/README.md whose
// output depends on the policy only (simulate, readiness) and checks that
// the output is what the README shows. In the README's output, a line
// "..." stands for any number of lines, and "..." within a line for any
// text; every other line must be there, in that order, with nothing left
// out between two of them.
func TestPolicyREADMEExamples(t *testing.T) {
	const doc = "../../policies/README.md"
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type example struct {
		line int
		cmd  string
		want []string
	}
	var (
		examples []example
		cur      *example
		inBlock  bool
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(s), "```") {
			if cur != nil {
				examples = append(examples, *cur)
				cur = nil
			}
			inBlock = !inBlock
			continue
		}
		switch {
		case !inBlock:
		case cur != nil:
			cur.want = append(cur.want, s)
		case strings.HasPrefix(s, "$ liaison policy simulate ") || strings.HasPrefix(s, "$ liaison policy readiness "):
			cur = &example{line: n, cmd: strings.TrimPrefix(s, "$ liaison ")}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(examples) < 2 {
		t.Fatalf("found %d examples of policy simulate and readiness in %s, want 2 or more", len(examples), doc)
	}
	for _, ex := range examples {
		args := strings.Fields(ex.cmd)
		for i, a := range args {
			if strings.HasPrefix(a, "policies/") { // relative to the repository's root
				args[i] = "../../" + a
			}
		}
		out, errOut, err := policyCmd(t, args[1:]...)
		if err != nil {
			t.Errorf("%s:%d: liaison %s: %v\n%s", doc, ex.line, ex.cmd, err, errOut)
			continue
		}
		if msg := matchElided(ex.want, strings.Split(strings.TrimSuffix(out, "\n"), "\n")); msg != "" {
			t.Errorf("%s:%d: liaison %s: the output is not what the README shows: %s\noutput:\n%s", doc, ex.line, ex.cmd, msg, out)
		}
	}
}

// matchElided says how got differs from want, where a line "..." of want
// stands for any number of lines and "..." within a line for any text;
// "" if it does not.
func matchElided(want, got []string) string {
	var match func(w, g int) bool
	match = func(w, g int) bool {
		if w == len(want) {
			return g == len(got)
		}
		if strings.TrimSpace(want[w]) == "..." {
			for k := g; k <= len(got); k++ {
				if match(w+1, k) {
					return true
				}
			}
			return false
		}
		return g < len(got) && elidedLine(want[w]).MatchString(strings.TrimRight(got[g], " ")) && match(w+1, g+1)
	}
	if match(0, 0) {
		return ""
	}
	// Say which line of want could not be matched in order.
	g := 0
	for w, l := range want {
		if strings.TrimSpace(l) == "..." {
			continue
		}
		re := elidedLine(l)
		for g < len(got) && !re.MatchString(strings.TrimRight(got[g], " ")) {
			g++
		}
		if g == len(got) {
			return "no line matches the README's line " + strings.TrimSpace(want[w])
		}
		g++
	}
	return "a line of the output is not in the README (add it, or a line \"...\" where lines are left out)"
}

// elidedLine is the pattern of a line of want: "..." stands for any text,
// with the spaces around it ("fighters ..." matches "fighters, hate").
func elidedLine(l string) *regexp.Regexp {
	parts := strings.Split(strings.TrimRight(l, " "), "...")
	for i, p := range parts {
		if i > 0 {
			p = strings.TrimPrefix(p, " ")
		}
		if i < len(parts)-1 {
			p = strings.TrimSuffix(p, " ")
		}
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}
