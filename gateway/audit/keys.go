package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/internal/atomicfile"
)

// GenerateSignerKey generates an Ed25519 checkpoint signing key named name
// (a note key name: no spaces or '+', e.g. "audit.liaison.example") and
// returns it encoded for note.NewSigner, with the matching verifier key
// for note.NewVerifier. skey is secret.
func GenerateSignerKey(name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("audit: generate signer key: %v", err)
	}
	if _, err := note.NewSigner(skey); err != nil { // rejects invalid names
		return "", "", fmt.Errorf("audit: generate signer key %q: %v", name, err)
	}
	return skey, vkey, nil
}

// VerifierKey returns the verifier key matching the Ed25519 signer key skey.
func VerifierKey(skey string) (string, error) {
	if _, err := note.NewSigner(skey); err != nil {
		return "", fmt.Errorf("audit: verifier key: %v", err)
	}
	// NewSigner accepted it, so it is PRIVATE+KEY+name+hash+base64(alg||seed).
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return "", errors.New("audit: verifier key: not an Ed25519 signer key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(parts[2], pub)
	if err != nil {
		return "", fmt.Errorf("audit: verifier key: %v", err)
	}
	return vkey, nil
}

// LoadOrCreateSignerKey returns the checkpoint signer whose key is in the
// file at path, and its verifier key. If the file does not exist, it
// generates a key named name and writes it there with mode 0600. It is
// meant for the embedded default; production signs with a key service.
//
// It refuses a key file that group or others may read or write (naming
// the file and the fix, chmod 600), one whose key has a name other than
// name, and one not spelt exactly as note.GenerateKey writes it: the key
// line, then at most one newline, nothing around it; the key hash in eight
// lower-case hex digits and the key in standard padded base64, though
// note.NewSigner itself would take other spellings of both.
func LoadOrCreateSignerKey(path, name string) (note.Signer, string, error) {
	data, err := ReadPrivateKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		skey, _, err := GenerateSignerKey(name)
		if err != nil {
			return nil, "", err
		}
		switch err := writeKeyFile(path, skey); {
		case errors.Is(err, errExists):
			if data, err = ReadPrivateKeyFile(path); err != nil {
				return nil, "", fmt.Errorf("audit: load signer key: %v", err)
			}
		case err != nil:
			return nil, "", err
		default:
			data = []byte(skey + "\n")
		}
	} else if err != nil {
		return nil, "", fmt.Errorf("audit: load signer key: %v", err)
	}
	skey, err := signerKeyLine(data)
	if err != nil {
		return nil, "", fmt.Errorf("audit: load signer key %s: %v", path, err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("audit: load signer key %s: %v", path, err)
	}
	if s.Name() != name {
		return nil, "", fmt.Errorf("audit: load signer key %s: key is named %q, want %q", path, s.Name(), name)
	}
	if skey != canonicalSignerKey(s, skey) {
		return nil, "", fmt.Errorf("audit: load signer key %s: the key is not spelt as note.GenerateKey writes it (key hash in 8 lower-case hex digits, standard padded base64 without line breaks)", path)
	}
	vkey, err := VerifierKey(skey)
	if err != nil {
		return nil, "", err
	}
	return s, vkey, nil
}

// ReadPrivateKeyFile reads the private key file at path, refusing it, as
// ssh does, if its mode lets group or others read or write it, with an
// error naming the file and the fix (chmod 600). The mode is that of the
// file read (fstat of the open file). An error from opening it is
// returned as it is (fs.ErrNotExist for one that does not exist). The
// witness's key and the policy signing key are read with it too.
func ReadPrivateKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o: group or others may read or write it; it must be readable by its owner only (chmod 600 %s)", path, perm, path)
	}
	return io.ReadAll(f)
}

// signerKeyLine returns the key in a signer key file: one line, ended by
// one newline or by the end of the file. Anything around it (leading
// space, a second newline, a carriage return, a second line) is refused,
// not trimmed: the file has one spelling. The error never holds the text.
func signerKeyLine(data []byte) (string, error) {
	line := strings.TrimSuffix(string(data), "\n")
	if line == "" || strings.ContainsFunc(line, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", errors.New("want one line, PRIVATE+KEY+name+hash+base64key, and at most one newline after it: nothing else, no spaces, no carriage return")
	}
	return line, nil
}

// canonicalSignerKey returns the one spelling of the signer key skey,
// which note.NewSigner accepted as s: note.NewSigner also takes the key
// hash in capitals or without its leading zeros, and base64 with line
// breaks inside or non-zero padding bits.
func canonicalSignerKey(s note.Signer, skey string) string {
	parts := strings.SplitN(skey, "+", 5)
	raw, _ := base64.StdEncoding.DecodeString(parts[4])
	return fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", s.Name(), s.KeyHash(), base64.StdEncoding.EncodeToString(raw))
}

// writeKeyFile creates path with mode 0600 holding skey, durably and whole
// (atomicfile.Create): a temporary file in the same directory, synced, is
// linked into place and the directory synced, so that no crash leaves a
// half-written key. If path exists by then (a concurrent creator), it is
// left as it is and errExists returned, so that that creator's key
// survives and is read.
func writeKeyFile(path, skey string) error {
	created, err := atomicfile.Create(path, []byte(skey+"\n"), 0o600)
	if errors.Is(err, atomicfile.ErrDirNotSynced) {
		err = nil // best effort: not every platform syncs directories
	}
	if err != nil {
		return fmt.Errorf("audit: create signer key: %v", err)
	}
	if !created {
		return errExists
	}
	return nil
}

// errExists: the key file was created by someone else meanwhile.
var errExists = errors.New("audit: signer key file exists")
