package witness

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/internal/atomicfile"
)

// A Signer makes a witness's cosignatures: timestamped Ed25519
// cosignatures (C2SP tlog-cosignature, cosignature/v1), made by
// filippo.io/torchwood. It is a note.Signer.
type Signer struct {
	*torchwood.CosignatureSigner
	vkey string
}

// VerifierKey returns the witness's verifier key, for auditors' witness
// policies and gateways' -witness flags.
func (s *Signer) VerifierKey() string { return s.vkey }

var _ note.Signer = (*Signer)(nil)

// NewSigner returns the cosigner named name for an Ed25519 private key.
func NewSigner(name string, key ed25519.PrivateKey) (*Signer, error) {
	cs, err := torchwood.NewCosignatureSigner(name, key)
	if err != nil {
		return nil, fmt.Errorf("witness: signer %q: %v", name, err)
	}
	vkey, err := audit.CosignatureVerifierKey(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	return &Signer{CosignatureSigner: cs, vkey: vkey}, nil
}

// A key file holds one line, in the shape of a note signer key with the
// cosignature algorithm byte:
//
//	PRIVATE+KEY+<name>+<hex key ID>+base64(0x04 || Ed25519 seed)
const keyPrefix = "PRIVATE+KEY+"

// encodeKey returns the key file line for a seed named name.
func encodeKey(name string, seed []byte) (string, error) {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	vkey, err := audit.CosignatureVerifierKey(name, pub)
	if err != nil {
		return "", err
	}
	parts := strings.SplitN(vkey, "+", 3) // name, hash, base64(0x04||pub)
	return keyPrefix + name + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{0x04}, seed...)), nil
}

// decodeKey parses a key file line.
func decodeKey(line string) (name string, key ed25519.PrivateKey, err error) {
	rest, ok := strings.CutPrefix(line, keyPrefix)
	parts := strings.SplitN(rest, "+", 3)
	if !ok || len(parts) != 3 {
		return "", nil, errors.New("witness: key: want PRIVATE+KEY+name+hash+base64key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 0x04 {
		return "", nil, errors.New("witness: key: not an Ed25519 cosigner key")
	}
	if _, err := strconv.ParseUint(parts[1], 16, 32); err != nil || len(parts[1]) != 8 {
		return "", nil, errors.New("witness: key: malformed key hash")
	}
	want, err := encodeKey(parts[0], raw[1:])
	if err != nil {
		return "", nil, err
	}
	if want != line {
		return "", nil, errors.New("witness: key: the key hash does not match the key")
	}
	return parts[0], ed25519.NewKeyFromSeed(raw[1:]), nil
}

// LoadOrCreateKey returns the witness signer whose key is in the file at
// path. If the file does not exist, it generates a key named name and
// writes it there with mode 0600, atomically and durably (see
// writeKeyFile); if another process creates it first, it loads that one.
// It refuses a key file that group or others may read or write (naming
// the file and the fix, chmod 600), one whose key has a name other than
// name, and one not spelt exactly as encodeKey writes it: the key line,
// then at most one newline, nothing around it.
func LoadOrCreateKey(path, name string) (*Signer, error) {
	data, err := audit.ReadPrivateKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		line, err := encodeKey(name, seed)
		if err != nil {
			return nil, err
		}
		switch err := writeKeyFile(path, line); {
		case errors.Is(err, fs.ErrExist):
			// Another process created it meanwhile, whole: use its key.
			data, err = audit.ReadPrivateKeyFile(path)
			if err != nil {
				return nil, fmt.Errorf("witness: load key: %v", err)
			}
		case err != nil:
			return nil, err
		default:
			data = []byte(line + "\n")
		}
	} else if err != nil {
		return nil, fmt.Errorf("witness: load key: %v", err)
	}
	// One line and at most one newline after it: nothing is trimmed.
	line := strings.TrimSuffix(string(data), "\n")
	if strings.ContainsFunc(line, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("witness: load key %s: want one line, PRIVATE+KEY+name+hash+base64key, and at most one newline after it: nothing else, no spaces, no carriage return", path)
	}
	got, key, err := decodeKey(line)
	if err != nil {
		return nil, fmt.Errorf("%v (%s)", err, path)
	}
	if got != name {
		return nil, fmt.Errorf("witness: load key %s: key is named %q, want %q", path, got, name)
	}
	return NewSigner(name, key)
}

// writeKeyFile creates path with mode 0600 holding line, atomically and
// durably (atomicfile.Create): it writes and syncs a temporary file beside
// it, links it to path (which fails, with an error wrapping fs.ErrExist,
// if path exists, so that a concurrent creator's key survives), removes
// the temporary name and syncs the directory. A reader never sees the file
// empty or half written, and after a crash the key whose cosignatures the
// witness gave is the one in the file: the state it keeps is cosigned with
// it.
func writeKeyFile(path, line string) error {
	created, err := atomicfile.Create(path, []byte(line+"\n"), 0o600)
	if err == nil && !created {
		err = fs.ErrExist
	}
	if err != nil {
		return fmt.Errorf("witness: create key: %w", err)
	}
	return nil
}
