package policies

import (
	"slices"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A policy decides on its input and its own data only. The built-ins
// that reach outside the gateway (http.send, net.lookup_ip_addr), read
// the clock or the gateway's environment (time.now_ns, opa.runtime), draw
// randomness (rand.intn, uuid.rfc4122) or otherwise give another answer
// another time (every built-in OPA marks non-deterministic, and the
// certificate checks that judge validity by the clock) are not available
// to a policy tree, its tests included: a decision that called one could
// send the subject's attributes anywhere, and replay, the golden
// decisions, exercises and a peer deciding the same input would not find
// the decision that was made. "Now" is input.time.
var forbiddenBuiltins = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{
		"crypto.x509.parse_and_verify_certificates":              true,
		"crypto.x509.parse_and_verify_certificates_with_options": true,
	}
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		if b.Nondeterministic {
			out[b.Name] = true
		}
	}
	return out
})

// ForbiddenBuiltins lists, sorted, the built-ins a policy tree may not
// call (see policies/README.md, "What a policy may not call").
func ForbiddenBuiltins() []string {
	out := make([]string, 0, len(forbiddenBuiltins()))
	for name := range forbiddenBuiltins() {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// capabilities are OPA's capabilities of this version without the
// forbidden built-ins: every compiler of a policy tree uses them, so that
// a call to one fails the compile wherever it is written.
var capabilities = sync.OnceValue(func() *ast.Capabilities {
	c := ast.CapabilitiesForThisVersion()
	c.Builtins = slices.DeleteFunc(slices.Clone(c.Builtins), func(b *ast.Builtin) bool {
		return forbiddenBuiltins()[b.Name]
	})
	return c
})

// newCompiler is a compiler of a policy tree: Rego v1, without the
// forbidden built-ins.
func newCompiler() *ast.Compiler {
	return ast.NewCompiler().
		WithDefaultRegoVersion(ast.RegoV1).
		WithCapabilities(capabilities())
}

// undefinedFunction is the start of the type checker's error for a call
// of a function it does not know, such as a forbidden built-in.
const undefinedFunction = "undefined function "

// explainForbidden rewrites the compiler's "undefined function http.send"
// for a forbidden built-in into why it is not there. err is the
// compiler's ast.Errors (as the compiler or OPA's test runner returns
// them); anything else, and errors of other kinds, pass unchanged.
func explainForbidden(err error) error {
	errs, ok := err.(ast.Errors)
	if !ok {
		return err
	}
	out := make(ast.Errors, len(errs))
	for i, e := range errs {
		out[i] = e
		name, ok := strings.CutPrefix(e.Message, undefinedFunction)
		if e.Code != ast.TypeErr || !ok || !forbiddenBuiltins()[name] {
			continue
		}
		c := *e
		c.Message = name + " may not be called by a policy: a decision depends on its input and the policy alone, never on the network, the clock or chance (\"now\" is input.time)"
		out[i] = &c
	}
	return out
}
