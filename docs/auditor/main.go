// Command auditor verifies a Liaison audit export with nothing but the Go
// team's tlog and note packages: no Liaison code is involved, so an auditor
// can read all of it. Usage:
//
//	go run ./docs/auditor -key 'name+hash+base64key' [-witness KEY ... -quorum K] EXPORT_DIR
//
// It checks that the checkpoint is signed by the key the auditor was given
// out of band, that entries.jsonl holds exactly as many lines as the
// checkpoint's tree size, and that the lines hash (RFC 6962) to the
// checkpoint's root. Exit status 0 means the export is intact.
//
// With -witness keys (each a witness's verifier key, name+hash+base64 of
// 0x04 and its Ed25519 public key, from the witnesses out of band) it also
// checks that at least -quorum of those witnesses cosigned the checkpoint,
// as C2SP tlog-cosignature says: a cosignature is a note signature line
// whose signature is an 8-byte big-endian POSIX timestamp (at most 2^63 - 1)
// followed by an Ed25519 signature of
//
//	cosignature/v1
//	time <timestamp in decimal>
//	<the checkpoint's note body>
//
// The code for that is cosigVerifier below, some forty lines. Every
// signature line by a known key is verified (openNote), also a repeated one,
// which note.Open alone skips.
package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
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

// keys collects a repeated flag.
type keys []string

func (k *keys) String() string     { return strings.Join(*k, ",") }
func (k *keys) Set(v string) error { *k = append(*k, v); return nil }

func main() {
	key := flag.String("key", "", "the log's verifier key (name+hash+base64key), from the operator")
	var witnesses keys
	flag.Var(&witnesses, "witness", "a witness's cosignature verifier key (repeatable)")
	quorum := new(int)
	// In decimal only, as audit verify takes it: flag.Int reads 010 as 8.
	flag.Func("quorum", "how many of the -witness keys must have cosigned (0: all)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || strconv.Itoa(n) != s {
			return errors.New("want an integer in decimal, with no '+', leading zero or '_'")
		}
		*quorum = n
		return nil
	})
	flag.Parse()
	if *key == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: auditor -key VERIFIER_KEY [-witness KEY ... -quorum K] EXPORT_DIR")
		os.Exit(2)
	}
	n, err := verify(flag.Arg(0), *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAILED:", err)
		os.Exit(1)
	}
	if len(witnesses) > 0 || *quorum != 0 { // a quorum of no witness is refused, not skipped
		who, err := checkWitnesses(flag.Arg(0), *key, witnesses, *quorum)
		if err != nil {
			fmt.Fprintln(os.Stderr, "FAILED:", err)
			os.Exit(1)
		}
		fmt.Printf("cosigned by %s\n", strings.Join(who, ", "))
	}
	fmt.Printf("OK: %d entries match the signed checkpoint\n", n)
}

// checkWitnesses checks that the export's checkpoint, signed by the log's
// key, carries cosignatures of at least quorum of the witnesses (all of
// them if quorum is 0), and returns the names of those that cosigned.
func checkWitnesses(dir, key string, witnesses []string, quorum int) ([]string, error) {
	logV, err := newVerifier(key)
	if err != nil {
		return nil, err
	}
	vs := []note.Verifier{logV}
	seen := map[string]string{} // public key -> name
	for _, w := range witnesses {
		v, err := newCosigVerifier(w)
		if err != nil {
			return nil, fmt.Errorf("witness key %q: %v", w, err)
		}
		// The signed message does not name the witness: one key under two
		// names would count one witness's cosignature twice.
		if other, ok := seen[string(v.pub)]; ok {
			return nil, fmt.Errorf("witness keys %s and %s are one public key", other, v.name)
		}
		// The name identifies the witness: one with two keys counts once.
		if slices.ContainsFunc(vs, func(o note.Verifier) bool { return o != logV && o.Name() == v.name }) {
			return nil, fmt.Errorf("witness %s named twice, with two keys", v.name)
		}
		seen[string(v.pub)] = v.name
		vs = append(vs, v)
	}
	if quorum == 0 {
		quorum = len(witnesses)
	}
	if quorum < 1 || quorum > len(witnesses) {
		return nil, fmt.Errorf("quorum %d of %d -witness keys: want 1 to %d", quorum, len(witnesses), len(witnesses))
	}
	signed, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return nil, err
	}
	n, err := openNote(signed, note.VerifierList(vs...))
	if err != nil {
		return nil, fmt.Errorf("checkpoint signatures: %v", err)
	}
	var who []string
	logSigned := false
	for _, s := range n.Sigs {
		if s.Name == logV.Name() && s.Hash == logV.KeyHash() {
			logSigned = true
			continue
		}
		who = append(who, s.Name)
	}
	if !logSigned {
		return nil, errors.New("checkpoint: not signed by the log's key")
	}
	if len(who) < quorum {
		return nil, fmt.Errorf("checkpoint cosigned by %d of the %d named witnesses, need %d", len(who), len(witnesses), quorum)
	}
	return who, nil
}

// cosigVerifier verifies Ed25519 cosignatures (C2SP tlog-cosignature,
// cosignature/v1).
type cosigVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

// newCosigVerifier parses a witness's verifier key name+hash+base64key,
// whose key is the byte 0x04 and the 32-byte Ed25519 public key; hash is
// the first four bytes of SHA-256(name || "\n" || key), in hex.
func newCosigVerifier(vkey string) (*cosigVerifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, errors.New("want name+hash+base64key")
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	// One spelling: DecodeString alone skips line breaks.
	if err != nil || len(key) != 33 || key[0] != 0x04 || base64.StdEncoding.EncodeToString(key) != parts[2] {
		return nil, errors.New("not an Ed25519 cosignature key")
	}
	sum := sha256.Sum256(append([]byte(parts[0]+"\n"), key...))
	if fmt.Sprintf("%08x", binary.BigEndian.Uint32(sum[:4])) != parts[1] {
		return nil, errors.New("key hash does not match")
	}
	return &cosigVerifier{name: parts[0], hash: binary.BigEndian.Uint32(sum[:4]), pub: key[1:]}, nil
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }

// Verify checks sig, timestamp || Ed25519 signature, over msg, the body.
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	// The timestamp MUST NOT exceed 2^63 - 1 (tlog-cosignature).
	if len(sig) != 8+ed25519.SignatureSize || binary.BigEndian.Uint64(sig) > 1<<63-1 {
		return false
	}
	signed := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", binary.BigEndian.Uint64(sig), msg)
	return ed25519.Verify(v.pub, signed, sig[8:])
}

func verify(dir, key string) (int64, error) {
	v, err := newVerifier(key)
	if err != nil {
		return 0, err
	}
	signed, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return 0, err
	}
	n, err := openNote(signed, note.VerifierList(v))
	if err != nil {
		return 0, fmt.Errorf("checkpoint signature: %v", err)
	}
	_, size, root, err := parseCheckpoint(n.Text)
	if err != nil {
		return 0, err
	}

	f, err := os.Open(filepath.Join(dir, "entries.jsonl"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var hashes []tlog.Hash // every stored hash, in tlog's storage order
	reader := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = hashes[x]
		}
		return out, nil
	})
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	sc.Split(lines) // not bufio.ScanLines, which drops a '\r' before the '\n'
	var count int64
	for sc.Scan() {
		line := bytes.Clone(sc.Bytes()) // the leaf: the line without its newline
		hs, err := tlog.StoredHashes(count, line, reader)
		if err != nil {
			return 0, err
		}
		hashes = append(hashes, hs...)
		count++
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if count != size {
		return 0, fmt.Errorf("entries.jsonl has %d entries, the checkpoint covers %d", count, size)
	}
	got, err := tlog.TreeHash(size, reader)
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(got[:], root) {
		return 0, fmt.Errorf("the entries hash to %s, the checkpoint says %s", got, base64.StdEncoding.EncodeToString(root))
	}
	return size, nil
}

// lines splits entries.jsonl at each '\n' and nothing else: each line is
// exactly a leaf, so a line that ends in '\r' (a file given Windows line
// endings) is not the leaf the log hashed.
func lines(data []byte, atEOF bool) (advance int, line []byte, err error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
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

// parseCheckpoint reads a C2SP checkpoint body in its one spelling: a
// non-empty origin, the tree size in decimal without sign or leading zero,
// the root hash in standard base64, each on its own line, then optional
// extension lines, none of them empty.
func parseCheckpoint(text string) (origin string, size int64, root []byte, err error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" || slices.Contains(lines[3:], "") {
		return "", 0, nil, errors.New("checkpoint: malformed body")
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, nil, fmt.Errorf("checkpoint: malformed tree size %q", lines[1])
	}
	root, err = base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize || base64.StdEncoding.EncodeToString(root) != lines[2] {
		return "", 0, nil, fmt.Errorf("checkpoint: malformed root hash %q", lines[2])
	}
	return lines[0], size, root, nil
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
