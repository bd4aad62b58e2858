package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
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
// It refuses a key file that group or others may read, and one whose key
// has a name other than name.
func LoadOrCreateSignerKey(path, name string) (note.Signer, string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		skey, _, err := GenerateSignerKey(name)
		if err != nil {
			return nil, "", err
		}
		switch err := writeKeyFile(path, skey); {
		case errors.Is(err, errExists):
			if data, err = os.ReadFile(path); err != nil {
				return nil, "", fmt.Errorf("audit: load signer key: %v", err)
			}
		case err != nil:
			return nil, "", err
		default:
			data = []byte(skey)
		}
	} else if err != nil {
		return nil, "", fmt.Errorf("audit: load signer key: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("audit: load signer key: %v", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, "", fmt.Errorf("audit: load signer key: %s has mode %04o; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	skey := strings.TrimSpace(string(data))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("audit: load signer key %s: %v", path, err)
	}
	if s.Name() != name {
		return nil, "", fmt.Errorf("audit: load signer key %s: key is named %q, want %q", path, s.Name(), name)
	}
	vkey, err := VerifierKey(skey)
	if err != nil {
		return nil, "", err
	}
	return s, vkey, nil
}

// writeKeyFile creates path with mode 0600 holding skey, durably and whole:
// a temporary file in the same directory, synced, is linked into place and
// the directory synced, so that no crash leaves a half-written key. If
// path exists by then (a concurrent creator), it is left as it is and
// errExists returned, so that that creator's key survives and is read.
func writeKeyFile(path, skey string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("audit: create signer key: %v", err)
	}
	defer os.Remove(f.Name())
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(skey + "\n")
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if errors.Is(err, fs.ErrExist) {
		return errExists
	}
	if err != nil {
		return fmt.Errorf("audit: create signer key: %v", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every platform syncs directories
		d.Close()
	}
	return nil
}

// errExists: the key file was created by someone else meanwhile.
var errExists = errors.New("audit: signer key file exists")
