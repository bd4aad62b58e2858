// Package witness is a transparency-log witness and the gateway's client
// of witnesses, as C2SP tlog-witness and tlog-cosignature specify them.
//
// A [Witness] keeps, for each log it is configured to follow (an origin
// and the log's verifier keys), the size and root hash of the last
// checkpoint it cosigned, in a SQLite file of its own. It serves
//
//	POST /add-checkpoint
//
// whose body is "old <size>\n", the consistency proof from that size (one
// base64 hash a line), an empty line and the log's signed checkpoint. It
// cosigns only a checkpoint that extends the one it cosigned last: it
// answers 404 for an unknown origin, 403 without a valid signature of the
// log, 400 when the old size exceeds the new one, 409 (body: the size it
// knows, Content-Type text/x.tlog.size) when the old size is not the one
// it cosigned last or is that size with another root hash, and 422 when
// the proof does not verify or an empty tree has another hash: so it never
// cosigns a smaller or a forked tree. The answer is one note signature
// line, a timestamped Ed25519 cosignature (cosignature/v1, see
// [audit.NewCosignatureVerifier] for the format). It also serves the last
// checkpoint it cosigned at GET /<hex SHA-256 of the origin>/checkpoint,
// and keeps every signed checkpoint it refused as inconsistent, the
// evidence of a fork.
//
// A [Cosigner] is the gateway's side: it takes each new checkpoint of an
// [audit.Log], asks every configured witness to cosign it (with the
// consistency proof from the size that witness knows), checks each answer
// against the witness's key, and publishes the checkpoint with the
// cosignatures it got in an [audit.WitnessStore], from where the Audit
// service serves it.
//
// The package knows checkpoints and proofs and nothing of the gateway's
// pipeline; it imports only gateway/audit from the project.
package witness
