package pseudonym_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/pseudonym"
)

// TestInboxItemsOutliveKeyRetirement: an inbox item sealed while version 1
// is current still opens after version 1 was rotated out and retired, and
// after a restart; one that Seal sealed (as inbox items were before they
// had a key of their own) opens while its version is in the ring, and is
// refused with a KeyVersionError after. Open does not take an inbox item
// for what Seal sealed.
func TestInboxItemsOutliveKeyRetirement(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	src := pseudonym.FileKeys{Path: path, TransitionWindow: time.Hour, Now: func() time.Time { return now }}
	p, err := pseudonym.New(t.Context(), pseudonym.Config{Source: src, Now: func() time.Time { return now }, MaxStale: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	box, msg := []byte("dk-police-aarhus"), []byte("release notice")
	item, err := p.SealInbox(box, msg)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := p.Seal(box, msg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(item, msg) {
		t.Fatal("the sealed item holds the plaintext")
	}
	if again, _ := p.SealInbox(box, msg); bytes.Equal(again, item) {
		t.Error("sealing the same item twice gave the same bytes")
	}
	open := func(what string, sealed []byte) {
		t.Helper()
		if got, err := p.OpenInbox(box, sealed); err != nil || !bytes.Equal(got, msg) {
			t.Errorf("OpenInbox(%s) = %q, %v", what, got, err)
		}
	}
	open("the item", item)
	open("the item sealed by Seal, version 1 current", legacy)
	if _, err := p.OpenInbox([]byte("nl-ngo-exit"), item); err == nil {
		t.Error("OpenInbox with another inbox's binding succeeded")
	}
	if _, err := p.Open(box, item); err == nil {
		t.Error("Open took an inbox item for what Seal sealed")
	}

	if _, err := pseudonym.RotateKeyFile(path, now); err != nil {
		t.Fatal(err)
	}
	if err := p.Reload(t.Context()); err != nil || p.CurrentVersion() != 2 {
		t.Fatalf("after the rotation: version %d, %v", p.CurrentVersion(), err)
	}
	open("the item, in the transition window", item)
	open("the item sealed by Seal, in the transition window", legacy)

	now = now.Add(2 * time.Hour)
	if err := p.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.PseudonymAt(1, "d", "x"); err == nil {
		t.Fatal("version 1 still in the ring after its transition window")
	}
	open("the item, version 1 retired", item)
	if _, err := p.OpenInbox(box, legacy); !isKeyVersion(err, 1) {
		t.Errorf("OpenInbox(item sealed by Seal under retired version 1) = %v; want KeyVersionError{1}", err)
	}

	// Past the staleness bound, as AuditPseudonym and Seal do.
	now = now.Add(10 * time.Minute)
	if err := p.Available(); err == nil {
		t.Fatal("keys still fresh past the bound")
	}
	open("the item, keys stale", item)
	if stale, err := p.SealInbox(box, msg); err != nil {
		t.Errorf("SealInbox past the bound: %v", err)
	} else {
		open("an item sealed with stale keys", stale)
	}

	// A restart derives the same inbox keys.
	p2, err := pseudonym.New(t.Context(), pseudonym.Config{Source: src, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p2.OpenInbox(box, item); err != nil || !bytes.Equal(got, msg) {
		t.Errorf("OpenInbox after a restart = %q, %v", got, err)
	}
}

func isKeyVersion(err error, v int) bool {
	kv, ok := errors.AsType[*pseudonym.KeyVersionError](err)
	return ok && kv.Version == v
}

// TestInboxSealedDataHasOneSpelling changes, drops or appends each byte of
// a sealed inbox item, its key version included: none of them opens.
func TestInboxSealedDataHasOneSpelling(t *testing.T) {
	p := twoVersions(t)
	aad := []byte("nl-police-rotterdam/officer/insp.de.vries")
	sealed, err := p.SealInbox(aad, []byte("identity released to insp.de.vries"))
	if err != nil {
		t.Fatal(err)
	}
	try := func(what string, b []byte) {
		t.Helper()
		if pt, err := p.OpenInbox(aad, b); err == nil {
			t.Errorf("OpenInbox(sealed item with %s) = %q, nil; want an error", what, pt)
		}
	}
	for i := range sealed {
		for _, x := range []byte{0x01, 0x02, 0x80, 0xff} {
			b := bytes.Clone(sealed)
			b[i] ^= x
			try(fmt.Sprintf("byte %d xor %#x", i, x), b)
		}
		try(fmt.Sprintf("byte %d dropped", i), append(bytes.Clone(sealed[:i]), sealed[i+1:]...))
	}
	try("a byte appended", append(bytes.Clone(sealed), 0))
	try("nothing", nil)
	if pt, err := p.OpenInbox(aad, sealed); err != nil || string(pt) != "identity released to insp.de.vries" {
		t.Fatalf("OpenInbox(sealed) = %q, %v", pt, err)
	}
}

// TestInboxKeyIsDerivedAsDocumented opens an inbox item by hand, as the
// documentation says it is sealed: version 0, a 16-byte salt, a 12-byte
// nonce, AES-256-GCM under HKDF-Expand(SHA-256, audit key,
// "liaison/inbox/seal/v1\x00" || salt, 32), which for 32 bytes is one
// HMAC-SHA256 under the audit key of the info and 0x01.
func TestInboxKeyIsDerivedAsDocumented(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := pseudonym.CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	p, err := pseudonym.New(t.Context(), pseudonym.Config{Source: pseudonym.FileKeys{Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	aad, msg := []byte("dk-police-aarhus"), []byte("release notice")
	sealed, err := p.SealInbox(aad, msg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kf struct{ Audit string }
	if err := json.Unmarshal(raw, &kf); err != nil {
		t.Fatal(err)
	}
	auditKey, err := base64.StdEncoding.DecodeString(kf.Audit)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) < 4+16+12+16 || binary.BigEndian.Uint32(sealed) != 0 {
		t.Fatalf("sealed item %x: want version 0, salt, nonce, ciphertext", sealed)
	}
	salt, nonce, ct := sealed[4:20], sealed[20:32], sealed[32:]
	mac := hmac.New(sha256.New, auditKey)
	mac.Write([]byte("liaison/inbox/seal/v1\x00"))
	mac.Write(salt)
	mac.Write([]byte{1})
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	gcm, _ := cipher.NewGCM(block)
	if pt, err := gcm.Open(nil, nonce, ct, aad); err != nil || !bytes.Equal(pt, msg) {
		t.Fatalf("opened by hand: %q, %v", pt, err)
	}
}
