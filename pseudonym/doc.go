// Package pseudonym computes keyed, domain-separated, versioned pseudonyms
// and transforms records for a recipient as a policy decision says.
//
// A pseudonym is the deterministic authenticated encryption (SIV: a
// synthetic IV that is an HMAC-SHA256 of the padded identifier, then
// AES-256-CTR) of the identifier under a per-domain key pair derived
// (HMAC-SHA256, a KDF in the sense of NIST SP 800-108) from a versioned
// master key. Within one domain (a recipient and purpose, or a case) the
// same person always gets the same pseudonym, so a working group can follow
// them; across domains pseudonyms are unlinkable without the master key;
// without the key no dictionary of identity numbers reverses them, and with
// it the gateway can resolve a pseudonym (Resolve) for the two audited paths
// that need it, Translate and dual-controlled re-identification, with no
// table of identities to keep. Identifiers are padded to a multiple of 32
// bytes so that the length of a pseudonym tells nothing about the person.
// The text form names the key version so that keys can rotate:
//
//	psn:<version>:<77 characters of base32: 16-byte IV and 32-byte ciphertext>
//
// (longer identifiers take more 32-byte blocks, hence more characters).
// Every pseudonym has exactly one spelling: the version in decimal with no
// leading zero or sign, the body in lower-case base32 without padding and
// with the unused bits of its last character zero. Resolve and
// ParseVersion refuse any other spelling, so that recipients may compare
// pseudonyms as strings.
//
// Master keys come from a [KeySource] (a local key file for the embedded
// default, HashiCorp Vault in production), are held in memory and refreshed
// in the background: no key service is called per request.
//
// What waits in a recipient's inbox is sealed with
// [Pseudonymizer.SealInbox], under keys derived from the audit key, which
// never rotates, so that it opens until it is read whatever keys were
// retired meanwhile; [Pseudonymizer.Seal] seals under the rotating keys
// what should not outlive them.
//
// [Transformer.Apply] walks any protobuf record with protoreflect and applies
// a [Plan] to each field according to its class from the schema, so a new
// record type needs annotations, not code.
package pseudonym
