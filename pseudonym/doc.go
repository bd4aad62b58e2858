// Package pseudonym computes keyed, domain-separated, versioned pseudonyms
// and transforms records for a recipient as a policy decision says.
//
// A pseudonym is HMAC-SHA256 under a per-domain key that is itself derived
// (HMAC-SHA256, a KDF in the sense of NIST SP 800-108) from a versioned
// master key. Within one domain (a recipient and purpose, or a case) the same
// person always gets the same pseudonym, so a working group can follow them;
// across domains pseudonyms are unlinkable without the master key, and
// without the key no dictionary of identity numbers reverses them. The text
// form names the key version so that keys can rotate:
//
//	psn:<version>:<26 characters of base32, 128 bits>
//
// Master keys come from a [KeySource] (a local key file for the embedded
// default, HashiCorp Vault in production), are held in memory and refreshed
// in the background: no key service is called per request.
//
// [Transformer.Apply] walks any protobuf record with protoreflect and applies
// a [Plan] to each field according to its class from the schema, so a new
// record type needs annotations, not code.
package pseudonym
