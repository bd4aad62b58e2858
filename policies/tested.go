package policies

import "github.com/open-policy-agent/opa/v1/version"

// The embedded tree's own tests take three quarters of a load's CPU
// (about 2.4 s of the 3.1 s on one core), and their verdict is a property
// of the binary: the same tree, the same OPA, the same test runner give
// the same verdict. So the verdict is recorded with the tree's
// fingerprint (tested_tree.go, written by TestEmbeddedTreeTestedAtBuild
// with -update-tested), and a load of a tree with that fingerprint under
// that OPA does not run them again. TestEmbeddedTreeTestedAtBuild fails
// (in CI, before any binary is released) if the record is not the
// embedded tree's, or if its tests do not pass; any other tree, a changed
// byte of the embedded one included, is tested at load as before.

// testedAtBuild reports whether a tree of fingerprint fp (see
// treeFingerprint) is the one whose tests passed when this binary was
// built.
func testedAtBuild(fp string) bool {
	return fp == testedTree && version.Version == testedOPA
}

// TestedAtBuild reports whether the engine's load did not run the tree's
// own tests because they passed when this binary was built: the tree is,
// byte for byte, the embedded one. Otherwise the load ran them.
func (e *Engine) TestedAtBuild() bool { return e.testedAtBuild }
