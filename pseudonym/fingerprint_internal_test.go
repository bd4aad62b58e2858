package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Fingerprints are stored (aftercare_fingerprints) and compared with
// those taken later, so their construction never changes: HMAC-SHA256
// under the audit key of "liaison/fingerprint/v1\x00", then of each part's
// length as 8 big-endian bytes and the part. Checked against a MAC keyed
// afresh for each, also from several goroutines at once (the keyed MACs
// are pooled).
func TestFingerprintIsTheDocumentedMAC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	p, err := New(t.Context(), Config{Source: FileKeys{Path: path}, MaxStale: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := func(parts ...[]byte) [32]byte {
		mac := hmac.New(sha256.New, p.ring.Load().Audit)
		mac.Write([]byte("liaison/fingerprint/v1\x00"))
		for _, b := range parts {
			mac.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
			mac.Write(b)
		}
		return [32]byte(mac.Sum(nil))
	}
	cases := [][][]byte{
		nil,
		{{}},
		{[]byte("value"), []byte("apsn:x"), []byte("Fiktivt Fængsel Øst")},
		{[]byte("record"), []byte("apsn:abc"), make([]byte, 300)},
		{{}, []byte("x"), {}},
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				for _, parts := range cases {
					got, err := p.Fingerprint(parts...)
					if err != nil {
						t.Error(err)
						return
					}
					if got != want(parts...) {
						t.Errorf("Fingerprint(%q) = %x, want %x", parts, got, want(parts...))
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
