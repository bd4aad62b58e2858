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
// # Auditors
//
// A [Client] is an auditor's view of a log, as golang.org/x/mod/sumdb's
// Client is for the Go checksum database: it keeps the last checkpoint it
// trusted (in a [TrustStore], a [TrustFile] on the command line), accepts a
// new one only if it extends the trusted one, checks the inclusion of
// entries in it, and names what it finds ([ErrTruncated], [ErrFork],
// [ErrEntryMismatch]). It reads the log through a [Source]: the gateway's
// Audit service, or a Log beside its store. [Sample] draws the distinct
// entries to check.
//
// # Witnesses
//
// Witnesses (C2SP tlog-witness) cosign checkpoints that extend the ones
// they cosigned before (C2SP tlog-cosignature; [NewCosignatureVerifier]
// reads a witness's key). A [WitnessPolicy] names k of n witnesses an
// auditor relies on, and [Client.RequireWitnesses] makes a Client refuse a
// checkpoint without that quorum ([ErrQuorum]). A [WitnessStore] keeps the
// checkpoints the gateway published with their cosignatures; the witness
// itself and the gateway's client of witnesses are in gateway/witness.
//
// [Report] builds a data subject's access report: only real releases
// ([Released]), entries restricted under LED Art. 15 left out
// ([ConditionRestricted]), officers withheld unless asked for.
//
// # Checking the store
//
// A store is not trusted to keep what was appended. [New] compares it with
// the latest checkpoint the log signed, which an [Anchor] keeps outside
// the store (a file beside the signing key, or the key service), and with
// the latest checkpoint stored in it, and refuses a store that was rolled
// back, has a gap, or holds another history. The values [Log.Query]
// selects on are derived from the leaves by the store's database ([Index]);
// a query that meets an index which disagrees with the leaves fails with
// [ErrTampered], and [Log.CheckIndex] recomputes the index of every entry.
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
