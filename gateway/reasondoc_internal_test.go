package gateway

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// reasonCode is how a stable reason code is spelt: upper-case words
// joined by '_' (KEYS_UNAVAILABLE), as no other string of the gateway is.
var reasonCode = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)

// TestEveryReasonIsDocumented: every reason code the gateway spells (a
// string literal spelt as one in gateway/*.go or gateway/authn/*.go, tests
// aside: an ErrorInfo reason, an entry's reason, a failure's, an
// authentication refusal's) is documented where agency systems, auditors
// and legal officers read what the gateway answers: in the comments of
// proto/liaison/v1/*.proto (the API), or in README.md or
// policies/README.md; an authentication refusal, which any call may
// get, in the protos' comments. Before, 25 were in none of them: the authentication
// refusals NO_TOKEN, BAD_SIGNATURE, TOKEN_NOT_YET_VALID and their like
// (only "such as" a few in the README), the INTERNAL failures' reasons
// (ENCODE_FAILED, TRANSLATION_NOT_PSEUDONYMOUS...), POLICY_DENIED for a
// denial without a reason, RELEASE_CLOSED in a revision's reasons,
// RESOLVE_FAILED as a withheld justification's reason, and more: a
// caller got a code it could look up nowhere.
func TestEveryReasonIsDocumented(t *testing.T) {
	var docs, api strings.Builder
	protos, err := filepath.Glob("../proto/liaison/v1/*.proto")
	if err != nil || len(protos) == 0 {
		t.Fatalf("no proto files: %v", err)
	}
	for _, p := range protos {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.Lines(string(b)) {
			if c, ok := strings.CutPrefix(strings.TrimSpace(l), "//"); ok {
				docs.WriteString(c)
				api.WriteString(c)
			}
		}
	}
	for _, p := range []string{"../README.md", "../policies/README.md"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	word := regexp.MustCompile(`[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+`)
	documented, inAPI := map[string]bool{}, map[string]bool{}
	for _, w := range word.FindAllString(docs.String(), -1) {
		documented[w] = true
	}
	for _, w := range word.FindAllString(api.String(), -1) {
		inAPI[w] = true
	}

	found := map[string][]string{}  // code -> where the code spells it
	authnCodes := map[string]bool{} // refusals of authentication, which every call may get
	for _, dir := range []string{".", "authn"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				if s, err := strconv.Unquote(lit.Value); err == nil && reasonCode.MatchString(s) {
					found[s] = append(found[s], fset.Position(lit.Pos()).String())
					if dir == "authn" {
						authnCodes[s] = true
					}
				}
				return true
			})
		}
	}
	if len(found) < 50 {
		t.Fatalf("found %d reason codes in the gateway's code, want 50 or more: %v", len(found), found)
	}
	var missing []string
	for code, where := range found {
		if !documented[code] {
			missing = append(missing, code+" ("+where[0]+")")
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("reason %s is documented neither in the protos' comments nor in README.md or policies/README.md", m)
	}
	for code := range authnCodes {
		if documented[code] && !inAPI[code] {
			t.Errorf("authentication refusal %s (%s), which any call may get, is not in the protos' comments", code, found[code][0])
		}
	}
}
