package policies

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestForbiddenBuiltinsDocumented: policies/README.md lists exactly the
// built-ins a policy may not call, and http.send, the clock and chance are
// among them.
func TestForbiddenBuiltinsDocumented(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "<!-- forbidden built-ins:")
	if !ok {
		t.Fatal("policies/README.md has no list of forbidden built-ins")
	}
	para, _, _ := strings.Cut(after, "\n\n")
	var listed []string
	for _, m := range regexp.MustCompile("`([a-z0-9_.]+)`").FindAllStringSubmatch(para, -1) {
		listed = append(listed, m[1])
	}
	if got := ForbiddenBuiltins(); !slices.Equal(listed, got) {
		t.Errorf("policies/README.md lists %v; the gateway forbids %v", listed, got)
	}
	for _, name := range []string{"http.send", "net.lookup_ip_addr", "time.now_ns", "rand.intn", "opa.runtime", "uuid.rfc4122"} {
		if !slices.Contains(ForbiddenBuiltins(), name) {
			t.Errorf("%s is not forbidden", name)
		}
	}
}

// TestRunTestsRefusesForbiddenBuiltins: liaison policy test refuses a
// tree calling http.send as the gateway does, naming the call.
func TestRunTestsRefusesForbiddenBuiltins(t *testing.T) {
	t.Parallel()
	tree := denyAll(`{}`)
	tree["dk/dk.rego"] = &fstest.MapFile{Data: []byte("package liaison.jurisdictions.dk\n\nleak(x) := http.send({\"method\": \"post\", \"url\": \"http://127.0.0.1:1/\", \"body\": x})\n")}
	tree["liaison/decision_test.rego"] = &fstest.MapFile{Data: []byte("package liaison_test\n\ntest_ok if true\n")}
	run, err := RunTests(t.Context(), tree, "", false)
	if err == nil || !strings.Contains(err.Error(), "dk/dk.rego:3") || !strings.Contains(err.Error(), "http.send may not be called by a policy") {
		t.Fatalf("RunTests() = %v, %v; want an error naming dk/dk.rego:3 and http.send", run, err)
	}
}
