package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// Witnesses (C2SP tlog-witness) cosign the log's checkpoints after checking
// that each extends the last one they saw, so that a gateway cannot show
// one history to one auditor and another to a second: a forked checkpoint
// gets no cosignature from an honest witness. A cosignature is a note
// signature line in the C2SP tlog-cosignature format, Ed25519 variant:
//
//	— <witness name> base64(key ID || timestamp || signature)
//
// where the key ID is the first four bytes of
// SHA-256(<name> || "\n" || 0x04 || public key), the timestamp is the
// POSIX time of signing as a big-endian uint64, and the Ed25519 signature
// is over the message
//
//	cosignature/v1
//	time <timestamp in decimal>
//	<the checkpoint's note body, with its final newline>
//
// A witness's verifier key is written as a note verifier key with the
// algorithm byte 0x04: name+hex(key ID)+base64(0x04 || public key), the key
// ID in lowercase hex and the key in standard base64, its one spelling.

// algCosignatureV1 is the signed-note algorithm byte of Ed25519
// cosignatures (C2SP tlog-cosignature).
const algCosignatureV1 = 0x04

// ErrQuorum is returned, wrapped, when a checkpoint is not cosigned by as
// many of the named witnesses as a [WitnessPolicy] requires.
var ErrQuorum = errors.New("audit: checkpoint not cosigned by a quorum of witnesses")

// NewCosignatureVerifier returns the note verifier of a witness's
// cosignatures (C2SP tlog-cosignature, Ed25519: cosignature/v1) from its
// verifier key name+hash+base64(0x04 || public key).
func NewCosignatureVerifier(vkey string) (note.Verifier, error) {
	bad := func(why string) (note.Verifier, error) {
		return nil, fmt.Errorf("audit: witness key %q: %s", vkey, why)
	}
	name, rest, ok1 := strings.Cut(vkey, "+")
	hash16, key64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || !validKeyName(name) || len(hash16) != 8 {
		return bad("want name+hash+base64key")
	}
	// One spelling: the hash in lowercase hex, the key in standard base64
	// as encoded (the decoder alone skips line breaks), as
	// CosignatureVerifierKey writes them and docs/auditor reads them.
	hash, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil || fmt.Sprintf("%08x", hash) != hash16 {
		return bad("malformed key hash: want 8 lowercase hex digits")
	}
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.PublicKeySize || base64.StdEncoding.EncodeToString(key) != key64 {
		return bad("malformed key: want standard base64 of 33 bytes")
	}
	if key[0] != algCosignatureV1 {
		return bad(fmt.Sprintf("algorithm %d is not a cosignature/v1 (Ed25519, 4) key", key[0]))
	}
	if uint32(hash) != cosignerKeyHash(name, key) {
		return bad("key hash does not match the key")
	}
	return &cosigVerifier{name: name, hash: uint32(hash), key: ed25519.PublicKey(key[1:])}, nil
}

// CosignatureVerifierKey returns the verifier key of an Ed25519 witness
// public key named name.
func CosignatureVerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	if !validKeyName(name) || len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("audit: cosignature verifier key: invalid name %q or key", name)
	}
	key := append([]byte{algCosignatureV1}, pub...)
	return fmt.Sprintf("%s+%08x+%s", name, cosignerKeyHash(name, key), base64.StdEncoding.EncodeToString(key)), nil
}

// CosignatureMessage returns the message an Ed25519 cosignature signs: the
// header line, the time line and the checkpoint's note body.
func CosignatureMessage(timestamp uint64, body []byte) []byte {
	return fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", timestamp, body)
}

// CosignatureTime returns the time at which a witness made a cosignature.
func CosignatureTime(sig note.Signature) (time.Time, error) {
	b, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(b) != 4+8+ed25519.SignatureSize {
		return time.Time{}, errors.New("audit: malformed cosignature")
	}
	ts := binary.BigEndian.Uint64(b[4:])
	if ts > math.MaxInt64 {
		return time.Time{}, errors.New("audit: malformed cosignature timestamp")
	}
	return time.Unix(int64(ts), 0).UTC(), nil
}

func cosignerKeyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validKeyName reports whether name may name a note key: not empty, valid
// UTF-8, no spaces or '+'.
func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

type cosigVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }

// Verify checks a timestamped cosignature of msg, a checkpoint's note body.
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts > math.MaxInt64 {
		return false
	}
	if _, err := ParseCheckpoint(string(msg)); err != nil {
		return false
	}
	return ed25519.Verify(v.key, CosignatureMessage(ts, msg), sig[8:])
}

// A WitnessPolicy says which witnesses an auditor relies on: a checkpoint
// is accepted only if at least Quorum of the named Witnesses cosigned it.
type WitnessPolicy struct {
	// Witnesses are the cosignature verifiers of the named witnesses
	// (see [NewCosignatureVerifier]), each with its own name and key.
	Witnesses []note.Verifier
	// Quorum is how many distinct witnesses must have cosigned: 1 to
	// len(Witnesses).
	Quorum int
}

// Valid reports whether the policy can be met: at least one witness, no
// witness named twice (not even with two keys), no Ed25519 key under two
// names, and a quorum
// between 1 and the number of witnesses. (A cosignature/v1 message does
// not commit to the cosigner's name, so one key's cosignature verifies
// under every name given to that key: C2SP tlog-cosignature forbids using
// one key for two cosigners, and such a policy would count one witness
// twice.)
func (p WitnessPolicy) Valid() error {
	if len(p.Witnesses) == 0 {
		return errors.New("audit: witness policy names no witness")
	}
	for i, w := range p.Witnesses {
		for _, o := range p.Witnesses[:i] {
			if o.Name() == w.Name() && o.KeyHash() == w.KeyHash() {
				return fmt.Errorf("audit: witness policy names %s+%08x twice", w.Name(), w.KeyHash())
			}
			// The name identifies the cosigner (C2SP tlog-cosignature):
			// one witness with two keys (say, across a key rotation)
			// cosigning with both would count twice.
			if o.Name() == w.Name() {
				return fmt.Errorf("audit: witness policy names witness %s twice, with keys %08x and %08x: one witness's cosignatures would count twice", w.Name(), o.KeyHash(), w.KeyHash())
			}
			wc, ok1 := w.(*cosigVerifier)
			oc, ok2 := o.(*cosigVerifier)
			if ok1 && ok2 && wc.key.Equal(oc.key) {
				return fmt.Errorf("audit: witness policy names one public key twice, as %s and %s: one witness's cosignature would count for both", o.Name(), w.Name())
			}
		}
	}
	if p.Quorum < 1 || p.Quorum > len(p.Witnesses) {
		return fmt.Errorf("audit: witness quorum %d: want 1 to %d", p.Quorum, len(p.Witnesses))
	}
	return nil
}

// Check checks that signed, a checkpoint signed by the log's verifier
// logKey, carries valid cosignatures of at least Quorum of the policy's
// witnesses, and returns the names of those that cosigned, in the
// policy's order. Signature lines of keys the policy does not name are
// ignored; a line that names a witness's key but does not verify makes the
// note malformed and is an error wrapping [ErrSignature]. Too few
// cosignatures is an error wrapping [ErrQuorum].
func (p WitnessPolicy) Check(signed []byte, logKey note.Verifier) (cosigned []string, err error) {
	if err := p.Valid(); err != nil {
		return nil, err
	}
	n, err := OpenNote(signed, note.VerifierList(append([]note.Verifier{logKey}, p.Witnesses...)...))
	if err != nil {
		if e, ok := errors.AsType[*note.InvalidSignatureError](err); ok {
			return nil, fmt.Errorf("%w: invalid signature by %s+%08x", ErrSignature, e.Name, e.Hash)
		}
		if _, ok := errors.AsType[*note.UnverifiedNoteError](err); ok {
			return nil, fmt.Errorf("%w: no signature by %s+%08x", ErrSignature, logKey.Name(), logKey.KeyHash())
		}
		return nil, fmt.Errorf("audit: open checkpoint: %v", err)
	}
	signedByLog := slices.ContainsFunc(n.Sigs, func(s note.Signature) bool {
		return s.Name == logKey.Name() && s.Hash == logKey.KeyHash()
	})
	if !signedByLog {
		return nil, fmt.Errorf("%w: no signature by %s+%08x", ErrSignature, logKey.Name(), logKey.KeyHash())
	}
	for _, w := range p.Witnesses {
		if slices.ContainsFunc(n.Sigs, func(s note.Signature) bool { return s.Name == w.Name() && s.Hash == w.KeyHash() }) {
			cosigned = append(cosigned, w.Name())
		}
	}
	if len(cosigned) < p.Quorum {
		who := "none"
		if len(cosigned) > 0 {
			who = strings.Join(cosigned, ", ")
		}
		return cosigned, fmt.Errorf("%w: cosigned by %d of the %d named witnesses (%s), the policy needs %d",
			ErrQuorum, len(cosigned), len(p.Witnesses), who, p.Quorum)
	}
	return cosigned, nil
}

// A WitnessStore keeps, beside the log, the checkpoints the gateway
// published after asking its witnesses to cosign them, with the
// cosignatures they returned. Both stores implement it; the audittest
// package's RunWitness is its conformance suite.
type WitnessStore interface {
	// PublishCheckpoint records that the witnesses were asked to cosign
	// signed, the log's checkpoint of the given size, and the cosignature
	// lines they returned (none if no witness answered). Lines recorded
	// before for that size are kept; a line already recorded is not
	// recorded twice. Publishing a size smaller than one published before
	// is allowed: replicas may race.
	PublishCheckpoint(ctx context.Context, size int64, signed []byte, cosignatures [][]byte) error
	// PublishedCheckpoint returns the published checkpoint with the
	// largest size, with every cosignature line recorded for it appended
	// in byte order, or nil if none was published.
	PublishedCheckpoint(ctx context.Context) (size int64, cosigned []byte, err error)
}
