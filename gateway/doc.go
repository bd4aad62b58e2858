// Package gateway implements Liaison's gRPC services (Exchange, Cases,
// Notices, Audit, Policy) and the disclosure pipeline that every exchange
// passes, in this order, failing closed at each stage:
//
//  1. authenticate: the client certificate names the agency, the bearer
//     token the officer (package authn);
//  2. validate the request;
//  3. decide: evaluate data.liaison.decision (package policies);
//  4. fetch the record from the holder's RecordProvider, or take it from
//     the discloser's message;
//  5. transform it as decided (package pseudonym);
//  6. append the audit entry durably (package audit);
//  7. respond, or deliver to the recipient's inbox.
//
// If any stage fails, nothing is disclosed and the attempt is audited. This
// package is the only one that chooses gRPC status codes (errors.go).
//
// Multi-agency cases and required notices are state kept in the audit
// store beside the log (audit.StateStore): each change is decided by the
// policy where the law has a say and committed in the same transaction as
// its entry, with the state it expects as a precondition. The notice
// timers (escalation, deadline) run on the replica holding a lease in the
// store, on the server's clock (Config.Now).
package gateway
