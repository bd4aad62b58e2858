package pseudonym

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// FileKeys is a KeySource backed by a local JSON key file. It serves the
// embedded default and tests; it is not for production, where keys belong
// in Vault, separate from the data they protect.
type FileKeys struct {
	Path string
}

var _ KeySource = FileKeys{}

type keyFile struct {
	Current int               `json:"current"`
	Keys    map[string]string `json:"keys"`  // version -> base64 key
	Audit   string            `json:"audit"` // base64 audit-domain key
}

// Keys reads the key file.
func (f FileKeys) Keys(ctx context.Context) (*KeyRing, error) {
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: read key file: %v", err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, fmt.Errorf("pseudonym: parse key file: %v", err)
	}
	audit, err := base64.StdEncoding.DecodeString(kf.Audit)
	if err != nil {
		return nil, fmt.Errorf("pseudonym: key file: audit key: %v", err)
	}
	ring := &KeyRing{Current: kf.Current, Versions: make(map[int][]byte, len(kf.Keys)), Audit: audit}
	for v, k := range kf.Keys {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("pseudonym: key file: bad version %q", v)
		}
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("pseudonym: key file: version %d: %v", n, err)
		}
		ring.Versions[n] = key
	}
	if err := ring.validate(); err != nil {
		return nil, err
	}
	return ring, nil
}

// CreateKeyFile writes a new key file with one random 256-bit key (version
// 1) and a random audit key unless the file exists. It reports whether it
// created the file.
func CreateKeyFile(path string) (bool, error) {
	key, audit := make([]byte, 32), make([]byte, 32)
	rand.Read(key)
	rand.Read(audit)
	b, err := json.MarshalIndent(keyFile{Current: 1, Keys: map[string]string{"1": base64.StdEncoding.EncodeToString(key)},
		Audit: base64.StdEncoding.EncodeToString(audit)}, "", "  ")
	if err != nil {
		return false, err
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pseudonym: create key file: %v", err)
	}
	if _, err := fh.Write(append(b, '\n')); err != nil {
		fh.Close()
		return false, fmt.Errorf("pseudonym: write key file: %v", err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return false, err
	}
	return true, fh.Close()
}
