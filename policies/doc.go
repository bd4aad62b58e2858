// Package policies holds the law as Rego and the engine that runs it.
//
// The Rego tree (one folder per jurisdiction plus the shared rules in
// liaison/) belongs to the legal officers; policies/README.md explains it.
// Its entry point is data.liaison.decision, whose input and output are
// [Input] and [Decision].
//
// [Load] turns a tree into an [Engine]: it parses every .rego file, compiles
// the tree in strict mode, runs the tree's own *_test.rego tests, prepares
// the query once and checks that built-in sample inputs get well-formed
// decisions. A tree that fails any of these steps gives no Engine, so a
// broken policy stops the gateway at startup instead of deciding wrongly.
//
// [Engine.Decide] returns a Decision or an error. A denial is a Decision
// with Outcome == [OutcomeDeny]; an error means the policy could not decide
// (undefined, conflicting, failing or malformed), and callers MUST then
// refuse the exchange.
package policies
