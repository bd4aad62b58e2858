// Command receipt verifies a Liaison receipt offline with nothing but the
// Go team's note and tlog packages: no Liaison code is involved, so a
// recipient agency can read all of it. Usage:
//
//	go run ./docs/receipt -key 'name+hash+base64key' [-recipient AGENCY] DIR
//
// DIR holds what came with a release (Released.provenance): the file
// "receipt" (Provenance.receipt, a signed note), "checkpoint"
// (Provenance.checkpoint, a signed note), "proof" (Provenance.inclusion_proof,
// one base64 hash a line) and, optionally, "released": the bytes whose
// SHA-256 the receipt names (the Released message without audit_index and
// provenance, in the deterministic protobuf encoding). The key is the
// gateway's checkpoint verifier key, which the operator gives out of band.
//
// It checks that the receipt and the checkpoint are signed by that key,
// that the checkpoint is the one the receipt names, that the inclusion
// proof puts the receipt's leaf hash at its index in the checkpoint's
// tree, and that "released", if given, hashes to the receipt's digest.
// A proof file with a line that is no hash, or with more or fewer hashes
// than a proof of that entry in that tree has, is reported as a malformed
// proof ("proof: malformed"), not as a proof that does not verify.
// Exit status 0 means the gateway recorded this release, to this
// recipient, in the log that checkpoint commits to.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	key := flag.String("key", "", "the gateway's checkpoint verifier key (name+hash+base64key), from the operator")
	recipient := flag.String("recipient", "", "if set, the receipt must name this recipient agency")
	flag.Parse()
	if *key == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: receipt -key VERIFIER_KEY [-recipient AGENCY] DIR")
		os.Exit(2)
	}
	r, err := verify(flag.Arg(0), *key, *recipient)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAILED:", err)
		os.Exit(1)
	}
	fmt.Printf("OK: entry %d of %s records a release to %s of %s; the checkpoint of size %d includes it\n",
		r.index, r.origin, r.recipient, r.digest, r.size)
}

// receipt is what a receipt says.
type receipt struct {
	origin, recipient, digest string
	index, size               int64
	leaf                      tlog.Hash
}

func verify(dir, key, wantRecipient string) (*receipt, error) {
	v, err := newVerifier(key)
	if err != nil {
		return nil, err
	}
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }

	// The receipt: seven lines, signed by the gateway.
	b, err := read("receipt")
	if err != nil {
		return nil, err
	}
	n, err := openNote(b, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("receipt signature: %v", err)
	}
	// Each value in its one spelling: decimals without sign or leading
	// zero, hashes in standard base64, the digest in lowercase hex.
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 8 || lines[0] != "liaison receipt v1" {
		return nil, errors.New("receipt: not a liaison receipt v1")
	}
	r := &receipt{origin: lines[1], recipient: lines[3], digest: lines[4]}
	if r.origin == "" || r.recipient == "" || r.digest == "" {
		return nil, errors.New("receipt: empty origin, recipient or digest")
	}
	if d, ok := strings.CutPrefix(r.digest, "sha256:"); !ok || len(d) != 64 || strings.Trim(d, "0123456789abcdef") != "" {
		return nil, errors.New("receipt: digest not sha256: and 64 lowercase hex digits")
	}
	if r.index, err = decimal(lines[2]); err != nil {
		return nil, fmt.Errorf("receipt: index: %v", err)
	}
	if r.size, err = decimal(lines[6]); err != nil {
		return nil, fmt.Errorf("receipt: tree size: %v", err)
	}
	if r.leaf, err = hash(lines[5]); err != nil {
		return nil, fmt.Errorf("receipt: leaf hash: %v", err)
	}
	if wantRecipient != "" && r.recipient != wantRecipient {
		return nil, fmt.Errorf("receipt names recipient %s, not %s", r.recipient, wantRecipient)
	}

	// The checkpoint it names: origin, tree size, root hash.
	if b, err = read("checkpoint"); err != nil {
		return nil, err
	}
	cp, err := openNote(b, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("checkpoint signature: %v", err)
	}
	// C2SP tlog-checkpoint: origin, tree size, root hash, then extension
	// lines, none of them empty.
	cl := strings.Split(strings.TrimSuffix(cp.Text, "\n"), "\n")
	if len(cl) < 3 || slices.Contains(cl[3:], "") {
		return nil, errors.New("checkpoint: malformed body")
	}
	if cl[0] != r.origin || cl[1] != strconv.FormatInt(r.size, 10) {
		return nil, fmt.Errorf("the receipt names the checkpoint %s/%d, the file is %s/%s", r.origin, r.size, cl[0], cl[1])
	}
	root, err := hash(cl[2])
	if err != nil {
		return nil, fmt.Errorf("checkpoint: root hash: %v", err)
	}

	// The inclusion proof: the leaf hash at its index in that tree.
	if b, err = read("proof"); err != nil {
		return nil, err
	}
	var proof tlog.RecordProof
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		h, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sc.Text()))
		if err != nil || len(h) != tlog.HashSize {
			return nil, fmt.Errorf("%w: hash %d is not %d bytes in base64", errMalformedProof, len(proof), tlog.HashSize)
		}
		proof = append(proof, tlog.Hash(h))
	}
	// A proof of more or fewer hashes than one of that entry in that tree
	// has is no proof at all, not a proof that does not verify (the
	// gateway's rule, audit.ReadRecordProof).
	if r.index >= r.size {
		return nil, fmt.Errorf("the receipt's entry %d is beyond its tree of %d entries", r.index, r.size)
	}
	if n, err := recordProofLen(r.index, r.size); err != nil {
		return nil, err
	} else if len(proof) != n {
		return nil, fmt.Errorf("%w: it has %d hashes, a proof of entry %d in the tree of size %d has %d", errMalformedProof, len(proof), r.index, r.size, n)
	}
	if err := tlog.CheckRecord(proof, r.size, root, r.index, r.leaf); err != nil {
		return nil, fmt.Errorf("inclusion proof: %v", err)
	}

	// What was released, if given: its digest.
	if b, err = read("released"); err == nil {
		sum := sha256.Sum256(b)
		if got := "sha256:" + hex.EncodeToString(sum[:]); got != r.digest {
			return nil, fmt.Errorf("released hashes to %s, the receipt names %s", got, r.digest)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return r, nil
}

// errMalformedProof: the proof file is not of a proof's shape (a line
// that is not a hash of [tlog.HashSize] bytes in base64, or more or fewer
// hashes than a proof of the receipt's entry in its tree has).
var errMalformedProof = errors.New("proof: malformed")

// recordProofLen returns the number of hashes of the proof that entry
// index is in the tree of size size (0 <= index < size): that of the proof
// tlog makes from any hashes.
func recordProofLen(index, size int64) (int, error) {
	p, err := tlog.ProveRecord(size, index, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return make([]tlog.Hash, len(idx)), nil
	}))
	if err != nil {
		return 0, fmt.Errorf("no inclusion proof of entry %d in the tree of size %d: %v", index, size, err)
	}
	return len(p), nil
}

// openNote is note.Open, except that it also checks every later signature
// line by a known key: note.Open verifies only the first line of each key
// and skips the others, where C2SP signed-note says that a signature whose
// key name and ID match a known key must be verified.
func openNote(msg []byte, known note.Verifiers) (*note.Note, error) {
	n, err := note.Open(msg, known)
	if err != nil {
		return nil, err
	}
	split := bytes.LastIndex(msg, []byte("\n\n"))
	text := msg[:split+1]
	for _, line := range strings.Split(strings.TrimSuffix(string(msg[split+2:]), "\n"), "\n") {
		name, b64, _ := strings.Cut(strings.TrimPrefix(line, "— "), " ")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) < 5 {
			continue // note.Open refused such a line already
		}
		v, err := known.Verifier(name, binary.BigEndian.Uint32(sig))
		// One spelling: the decoder ignores the last character's spare bits.
		if err == nil && (!v.Verify(text, sig[4:]) || base64.StdEncoding.EncodeToString(sig) != b64) {
			return nil, fmt.Errorf("signature by %s does not verify", name)
		}
	}
	return n, nil
}

// decimal parses a non-negative decimal without sign or leading zero.
func decimal(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("malformed number %q", s)
	}
	return n, nil
}

// hash parses a hash in standard base64, the one spelling of its bytes.
func hash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize || base64.StdEncoding.EncodeToString(b) != s {
		return h, fmt.Errorf("malformed hash %q", s)
	}
	copy(h[:], b)
	return h, nil
}

// newVerifier is note.NewVerifier for a verifier key in its one spelling,
// as note.NewVerifierKey writes it (and as the gateway's own check,
// audit.NewVerifier, takes it): the hash in eight lowercase hex digits,
// the key in standard base64 without line breaks. note.NewVerifier alone
// also takes other strings for the same key.
func newVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	_, rest, _ := strings.Cut(vkey, "+")
	hash, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || hash != fmt.Sprintf("%08x", v.KeyHash()) || base64.StdEncoding.EncodeToString(key) != key64 {
		return nil, fmt.Errorf("verifier key %q is not in its one spelling (the hash in eight lowercase hex digits, the key in standard base64 without line breaks)", vkey)
	}
	return v, nil
}
