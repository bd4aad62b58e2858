// Package audit implements the gateway's tamper-evident disclosure log.
//
// Each disclosure is an [Entry] whose canonical JSON encoding ([Entry.Marshal])
// is a leaf of an append-only Merkle tree with RFC 6962 hashing, built with
// golang.org/x/mod/sumdb/tlog. A [Log] appends entries with group commit:
// concurrent calls to [Log.Append] share one transaction and one fsync, and
// each returns only once its entry is durable, so that the gateway never
// answers before the disclosure is recorded.
//
// # Checkpoints
//
// The log periodically signs a checkpoint in the C2SP signed-note format
// (golang.org/x/mod/sumdb/note): an origin line, the tree size and the
// base64 root hash. Auditors check inclusion ([Log.InclusionProof]) and
// consistency ([Log.ConsistencyProof]) proofs against checkpoints with
// tlog.CheckRecord and tlog.CheckTree, and verify an export offline with
// [VerifyLeaves], without trusting the database.
//
// # Storage
//
// A [Store] persists leaves, stored hashes, checkpoints and the recipients'
// inboxes. Implementations MUST commit a batch of leaves, their hashes and
// their deliveries atomically and MUST serialise appends; the audittest
// package is the conformance suite every implementation runs. This package
// imports nothing else from the project and is safe to use from tools.
//
// A [StateStore] also keeps the state that outlives a request (multi-agency
// cases, required notices, the lease that elects the replica running the
// timers) and changes it only in the transaction that appends the entry
// recording the change ([Log.AppendState]), under a precondition that
// fails with [ErrConflict] when the state moved on.
package audit
