package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// OpenNote is note.Open, except that it verifies every signature line
// whose key name and ID match a known key, as C2SP signed-note requires:
// note.Open verifies only the first line of each key and drops later ones
// unchecked, so a note with a valid line and then an invalid one by the
// same key would pass. A line that does not verify is reported as a
// *note.InvalidSignatureError, as note.Open reports the first one; so is a
// line of a known key whose base64 is not in its one spelling (standard
// base64 as encoded: the decoder alone ignores the spare bits of the last
// character). A line repeated byte for byte is checked once.
func OpenNote(msg []byte, known note.Verifiers) (*note.Note, error) {
	n, err := note.Open(msg, known)
	if err != nil {
		return nil, err
	}
	// note.Open accepted the note, so its signature block is well formed:
	// after the last blank line, lines "— name base64(keyID || sig)".
	split := bytes.LastIndex(msg, []byte("\n\n"))
	text, sigs := msg[:split+1], string(msg[split+2:])
	checked := map[string]bool{}
	for _, s := range n.Sigs { // verified by note.Open
		checked["— "+s.Name+" "+s.Base64] = true
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(sigs, "\n"), "\n") {
		verified := checked[line]
		checked[line] = true
		name, b64, _ := strings.Cut(strings.TrimPrefix(line, "— "), " ")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) < 5 {
			continue // note.Open refuses such a line; not reached
		}
		hash := binary.BigEndian.Uint32(sig)
		v, err := known.Verifier(name, hash)
		if err != nil {
			continue // an unknown key: ignored, as note.Open did
		}
		// One spelling: the decoder ignores the spare bits of the last
		// base64 character, so one signature had several lines.
		if base64.StdEncoding.EncodeToString(sig) != b64 {
			return nil, &note.InvalidSignatureError{Name: name, Hash: hash}
		}
		if !verified && !v.Verify(text, sig[4:]) {
			return nil, &note.InvalidSignatureError{Name: name, Hash: hash}
		}
	}
	return n, nil
}

// NewVerifier is note.NewVerifier for a verifier key in its one spelling,
// as note.NewVerifierKey writes it: name+hash+key with the hash in eight
// lowercase hex digits and the key in standard base64 as encoded.
// note.NewVerifier alone takes the hash in upper case and a key whose
// base64 has line breaks or spare bits set: other strings for one key,
// which an auditor or an operator comparing keys as text would tell apart.
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	_, rest, _ := strings.Cut(vkey, "+")
	hash, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || hash != fmt.Sprintf("%08x", v.KeyHash()) || base64.StdEncoding.EncodeToString(key) != key64 {
		return nil, fmt.Errorf("verifier key %q is not in its one spelling (name+hash+key: the hash in eight lowercase hex digits, the key in standard base64 without line breaks)", vkey)
	}
	return v, nil
}
