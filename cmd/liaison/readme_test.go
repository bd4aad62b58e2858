package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway"
)

// The documents whose command lines TestDocumentedCommandLines checks,
// relative to this package.
var documentedIn = []string{"../../README.md", "../../deploy/README.md", "../../docs/performance.md", "../../docs/exercises/README.md", "../../policies/README.md"}

// usageError is how the CLI says a command line is wrong, as opposed to a
// gateway, a file or a key it could not reach or read.
var usageError = regexp.MustCompile(`(?i)\b(is|are) required\b|flag provided but not defined|invalid value|unknown command|accepted values are|bad flag syntax|unexpected arguments?\b`)

// elided matches a line that leaves flags out ("serve ... -witness").
var elided = regexp.MustCompile(`(^| )\.\.\.( |$)`)

// flagLine matches a flag in a help text's list of flags.
var flagLine = regexp.MustCompile(`(?m)^\s+-([A-Za-z0-9][-A-Za-z0-9_.]*)`)

// runnable are the commands whose documented lines are run: each stops at
// once, on the flags or on the gateway, file or key it cannot reach. The
// others (servers, the demo, the bench, Vault, exercises, the Rego tests)
// are checked on their flags only.
var runnable = []string{"case", "audit", "correct", "withdraw", "match", "health", "dev token",
	"policy simulate", "policy readiness", "policy bundle", "policy replay"}

// TestDocumentedCommandLines reads every "liaison ..." line of the
// documents' shell blocks and checks that it works as written: the
// command and subcommand exist, every flag it gives is one of that
// command's, and, for the commands that stop at once, the line run with
// its placeholders filled in fails (if it fails) only for want of a
// gateway or a file, never for a missing or unknown flag or value.
func TestDocumentedCommandLines(t *testing.T) {
	key := verifierKey(t)
	dir := t.TempDir()
	conn := []string{"-gateway", "127.0.0.1:1", "-cert", filepath.Join(dir, "agency.pem"), "-key", filepath.Join(dir, "agency.key"),
		"-ca", filepath.Join(dir, "ca.pem"), "-token", "not-a-token"}
	vars := map[string]string{
		"$KEY": key, "$W1_KEY": key, "$W2_KEY": key, "$TOKEN": "not-a-token", "$URL": "postgres://127.0.0.1:1/none",
		"$CONN": strings.Join(conn, " "),
	}
	helps := map[string]string{}
	help := func(path []string) string {
		k := strings.Join(path, " ")
		if h, ok := helps[k]; ok {
			return h
		}
		var out, errb bytes.Buffer
		_ = run(t.Context(), append(slices.Clone(path), "-h"), &out, &errb)
		helps[k] = out.String() + errb.String()
		return helps[k]
	}
	lines := 0
	for _, doc := range documentedIn {
		for _, l := range commandLines(t, doc) {
			lines++
			args := shellWords(l.text, vars)
			path := []string{args[0]}
			if subs := commandLine.FindAllStringSubmatch(help(path), -1); len(subs) > 0 && len(args) > 1 {
				for _, m := range subs {
					if m[1] == args[1] {
						path = append(path, args[1])
					}
				}
				if len(path) == 1 {
					t.Errorf("%s:%d: %q: no subcommand %q of liaison %s", doc, l.line, l.text, args[1], args[0])
					continue
				}
			}
			h := help(path)
			if !strings.Contains(strings.ToLower(h), "usage") {
				t.Errorf("%s:%d: %q: liaison %s -h printed no usage:\n%s", doc, l.line, l.text, strings.Join(path, " "), h)
				continue
			}
			var defined []string
			for _, m := range flagLine.FindAllStringSubmatch(h, -1) {
				defined = append(defined, m[1])
			}
			for _, a := range args[len(path):] {
				name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
				if !strings.HasPrefix(a, "-") || a == "-" || a == "--" || !regexp.MustCompile(`^[A-Za-z]`).MatchString(name) {
					continue
				}
				if !slices.Contains(defined, name) {
					t.Errorf("%s:%d: %q: liaison %s has no flag -%s", doc, l.line, l.text, strings.Join(path, " "), name)
				}
			}
			if !slices.Contains(runnable, strings.Join(path, " ")) && !slices.Contains(runnable, path[0]) || elided.MatchString(l.text) {
				continue
			}
			if slices.Contains(defined, "gateway") && slices.Contains(defined, "cert") && !slices.Contains(args, "-cert") {
				args = append(args, conn...)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			var out, errb bytes.Buffer
			err := run(ctx, args, &out, &errb)
			cancel()
			if err != nil && usageError.MatchString(err.Error()+"\n"+errb.String()) {
				t.Errorf("%s:%d: %q does not work as written: %v\n%s", doc, l.line, l.text, err, &errb)
			}
		}
	}
	if lines < 30 {
		t.Fatalf("found %d documented command lines, want the README's 30 or more", lines)
	}
	t.Logf("%d documented command lines checked", lines)
}

// A documentedLine is one command line of a document's shell blocks.
type documentedLine struct {
	line int
	text string // without "liaison " or "go run ./cmd/liaison ", continuations joined, comment cut
}

// commandLines returns the lines of path's ```sh blocks (or unlabelled
// ones) that run liaison.
func commandLines(t *testing.T, path string) []documentedLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		got     []documentedLine
		inBlock bool
		cur     *documentedLine
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(s), "```") {
			lang := strings.TrimPrefix(strings.TrimSpace(s), "```")
			inBlock = !inBlock && (lang == "" || lang == "sh" || lang == "bash" || lang == "shell")
			cur = nil
			continue
		}
		if !inBlock {
			continue
		}
		text := strings.TrimSpace(stripComment(s))
		if cur != nil {
			cur.text += " " + strings.TrimSuffix(text, "\\")
			if !strings.HasSuffix(text, "\\") {
				got, cur = append(got, *cur), nil
			}
			continue
		}
		var rest string
		var ok bool
		for _, prefix := range []string{"liaison ", "go run ./cmd/liaison ", "$ liaison "} {
			if rest, ok = strings.CutPrefix(text, prefix); ok {
				break
			}
		}
		if !ok {
			continue
		}
		l := documentedLine{line: n, text: strings.TrimSpace(strings.TrimSuffix(rest, "\\"))}
		if strings.HasSuffix(text, "\\") {
			cur = &l
			continue
		}
		got = append(got, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// stripComment cuts a shell comment (a # after a space, outside quotes).
func stripComment(s string) string {
	var q rune
	for i, r := range s {
		switch {
		case q != 0 && r == q:
			q = 0
		case q == 0 && (r == '"' || r == '\''):
			q = r
		case q == 0 && r == '#' && (i == 0 || s[i-1] == ' '):
			return s[:i]
		}
	}
	return s
}

// shellWords splits s as a shell would, with vars ($NAME) filled in: an
// unquoted variable splits into words, a quoted one does not.
func shellWords(s string, vars map[string]string) []string {
	var (
		words []string
		cur   strings.Builder
		in    bool // a word has begun
		q     rune
	)
	flush := func() {
		if in {
			words = append(words, cur.String())
		}
		cur.Reset()
		in = false
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '$' && q != '\'':
			j := i + 1
			for j < len(rs) && (rs[j] == '_' || rs[j] >= 'A' && rs[j] <= 'Z' || rs[j] >= '0' && rs[j] <= '9') {
				j++
			}
			name := string(rs[i:j])
			v, ok := vars[name]
			if !ok {
				v = name
			}
			if q == 0 && strings.Contains(v, " ") {
				for k, w := range strings.Fields(v) {
					if k > 0 {
						flush()
					}
					cur.WriteString(w)
					in = true
				}
			} else {
				cur.WriteString(v)
				in = true
			}
			i = j - 1
		case q != 0 && r == q:
			q = 0
		case q == 0 && (r == '"' || r == '\''):
			q, in = r, true
		case q == 0 && r == ' ':
			flush()
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	flush()
	return words
}

// verifierKey is a well-formed checkpoint verifier key.
func verifierKey(t *testing.T) string {
	t.Helper()
	_, vkey, err := note.GenerateKey(rand.Reader, "liaison.example/log")
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"$CONN": "-a b", "$KEY": "k y"}
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{`case open -id X -justification "two words" $CONN`, []string{"case", "open", "-id", "X", "-justification", "two words", "-a", "b"}},
		{`audit verify -verifier-key "$KEY"`, []string{"audit", "verify", "-verifier-key", "k y"}},
		{`x '$KEY' -n=""`, []string{"x", "$KEY", "-n="}},
	} {
		if got := shellWords(tt.in, vars); !slices.Equal(got, tt.want) {
			t.Errorf("shellWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := stripComment(`a "b # c" # d`); got != `a "b # c" ` {
		t.Errorf("stripComment = %q", got)
	}
}

// inlineCommand matches a command line written inline, in backquotes, in
// a document's prose: `liaison case close-orphaned -id ... -operator NAME`.
var inlineCommand = regexp.MustCompile("`liaison ([a-z][^`]*)`")

// TestDocumentedInlineCommands checks the command lines the documents give
// inline, in their prose, rather than in a shell block (the operator's
// `liaison case import` and `liaison case close-orphaned`, among others):
// the command and subcommand exist, and every flag the line gives (in
// brackets too, for an optional one) is one of that command's. They are
// not run: their placeholders (DSN, NAME) are not values.
func TestDocumentedInlineCommands(t *testing.T) {
	help := func(path []string) string {
		var out, errb bytes.Buffer
		_ = run(t.Context(), append(slices.Clone(path), "-h"), &out, &errb)
		return out.String() + errb.String()
	}
	checked := 0
	for _, doc := range documentedIn {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range inlineCommand.FindAllStringSubmatch(string(b), -1) {
			args := strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(m[1]))
			path := []string{args[0]}
			if !slices.ContainsFunc(commandLine.FindAllStringSubmatch(help(nil), -1), func(s []string) bool { return s[1] == args[0] }) {
				t.Errorf("%s: %q: liaison has no command %q", doc, m[0], args[0])
				continue
			}
			if subs := commandLine.FindAllStringSubmatch(help(path), -1); len(subs) > 0 && len(args) > 1 && !strings.HasPrefix(args[1], "-") {
				if !slices.ContainsFunc(subs, func(s []string) bool { return s[1] == args[1] }) {
					t.Errorf("%s: %q: no subcommand %q of liaison %s", doc, m[0], args[1], args[0])
					continue
				}
				path = append(path, args[1])
			}
			var defined []string
			for _, f := range flagLine.FindAllStringSubmatch(help(path), -1) {
				defined = append(defined, f[1])
			}
			checked++
			for _, a := range args[len(path):] {
				name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
				if !strings.HasPrefix(a, "-") || name == "h" || !regexp.MustCompile(`^[A-Za-z]`).MatchString(name) {
					continue
				}
				if !slices.Contains(defined, name) {
					t.Errorf("%s: %q: liaison %s has no flag -%s", doc, m[0], strings.Join(path, " "), name)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked %d inline command lines, want 20 or more: the pattern no longer matches", checked)
	}
	t.Logf("%d inline command lines checked", checked)
}

// TestEveryAuditActionIsDocumented checks that each action Audit.Query
// accepts (the actions the gateway logs) is named where its siblings are:
// in the comment of QueryRequest.action, which lists them all, and in the
// README, in backquotes. An action added to the code and to neither
// (case_operator_close, say) is one an auditor cannot know to ask for.
func TestEveryAuditActionIsDocumented(t *testing.T) {
	proto, err := os.ReadFile("../../proto/liaison/v1/audit.proto")
	if err != nil {
		t.Fatal(err)
	}
	// The comment above "string action = 9;" in QueryRequest.
	before, _, ok := strings.Cut(string(proto), "string action = 9;")
	if !ok {
		t.Fatal("audit.proto has no QueryRequest.action = 9")
	}
	comment := before[strings.LastIndex(before, "string record_type = 8;"):]
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	actions := gateway.QueryFilterValues()["action"]
	if len(actions) < 20 {
		t.Fatalf("Audit.Query accepts %d actions, want 20 or more: %v", len(actions), actions)
	}
	// The auditors' section lists the actions `query -action` accepts in
	// its bullet on query, which ends where the one on verify begins.
	_, bullet, ok := strings.Cut(string(readme), "- `query` filters on exact values")
	bullet, _, ok2 := strings.Cut(bullet, "\n- `verify`")
	if !ok || !ok2 {
		t.Fatal("the README's auditor section has no bullet on query followed by one on verify")
	}
	for _, a := range actions {
		if !regexp.MustCompile(`\b` + a + `\b`).MatchString(comment) {
			t.Errorf("action %s: QueryRequest.action's comment in audit.proto does not list it", a)
		}
		if !strings.Contains(bullet, "`"+a+"`") {
			t.Errorf("action %s: the README's bullet on audit query does not list it", a)
		}
	}
}
