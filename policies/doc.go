// Package policies holds the law as Rego and the engine that runs it.
//
// The Rego tree (one folder per jurisdiction, the EU instruments in eu/,
// and the shared rules in liaison/) belongs to the legal officers;
// policies/README.md explains it. Its entry point is data.liaison.decision,
// whose input and output are [Input] and [Decision].
//
// [Load] turns a tree into an [Engine]: it parses every .rego file, compiles
// the tree in strict mode, runs the tree's own *_test.rego tests, works
// out once what the rules derive from the packs alone (an index of the
// legal bases; the decisions stay those of the tree as written), prepares
// the query once and checks that built-in sample inputs get well-formed
// decisions. A tree that fails any of these steps gives no Engine, so a
// broken policy stops the gateway at startup instead of deciding wrongly.
// [LoadSource] does the same for a [Source]: the embedded tree, a
// directory, or an OPA bundle whose signature (OPA's bundle-signing format)
// is checked first ([LoadBundle]); [WriteBundle] builds and signs one.
//
// [Engine.Decide] returns a Decision or an error. A denial is a Decision
// with Outcome == [OutcomeDeny]; an error means the policy could not decide
// (undefined, conflicting, failing or malformed), and callers MUST then
// refuse the exchange.
//
// # Changing the policy at run time
//
// [Active] holds the engine in force and swaps in a candidate atomically,
// only once it has loaded completely; on any failure the previous engine
// stays and [Active.Status] says why. [Active.Watch] activates a directory
// or bundle file when its contents change. Each attempt is an [Activation]
// for the audit log.
//
// # Tools for legal officers
//
// [Engine.Explanation] says why a decision came out as it did and which
// unverified readings of the law it rests on; [Engine.Readiness] answers
// the police checklist for a jurisdiction; a [Replayer] re-decides audited
// exchanges under a candidate policy and reports what would change;
// [RunTests] runs a tree's tests with coverage. The liaison command's
// "policy" subcommands present them.
package policies
