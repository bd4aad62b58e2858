package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// specBody is the checkpoint of the C2SP tlog-cosignature example.
const specBody = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

// TestCosignatureSpecMessage signs the spec's example message exactly as
// the spec prints it, with plain Ed25519, and checks that the verifier
// accepts it as a cosignature of the spec's checkpoint at that time, and
// refuses it at another time or for another checkpoint.
func TestCosignatureSpecMessage(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	const ts = 1679315147
	msg := "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	if got := string(audit.CosignatureMessage(ts, []byte(specBody))); got != msg {
		t.Fatalf("CosignatureMessage = %q, want the spec's %q", got, msg)
	}
	sig := binary.BigEndian.AppendUint64(nil, ts)
	sig = append(sig, ed25519.Sign(priv, []byte(msg))...)
	vkey, err := audit.CosignatureVerifierKey("witness.example.com/w1", priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v, err := audit.NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatalf("NewCosignatureVerifier(%q) = %v", vkey, err)
	}
	if !v.Verify([]byte(specBody), sig) {
		t.Errorf("Verify(spec body, signature of the spec's message) = false")
	}
	later := binary.BigEndian.AppendUint64(nil, ts+1)
	if v.Verify([]byte(specBody), append(later, sig[8:]...)) {
		t.Errorf("Verify accepted the signature under another timestamp")
	}
	if v.Verify([]byte(strings.Replace(specBody, "20852163", "20852164", 1)), sig) {
		t.Errorf("Verify accepted the signature for another tree size")
	}
	// The timestamp reads back from the signature line.
	n, err := note.Open([]byte(specBody+"\n— witness.example.com/w1 "+base64.StdEncoding.EncodeToString(append(keyID(v), sig...))+"\n"), note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open(spec checkpoint with the cosignature) = %v", err)
	}
	if got, err := audit.CosignatureTime(n.Sigs[0]); err != nil || !got.Equal(time.Unix(ts, 0)) {
		t.Errorf("CosignatureTime = %v, %v; want %v", got, err, time.Unix(ts, 0).UTC())
	}
}

func keyID(v note.Verifier) []byte { return binary.BigEndian.AppendUint32(nil, v.KeyHash()) }

// TestCosignatureAgainstTorchwood checks the verifier against an
// independent implementation of the format: cosignatures made by
// filippo.io/torchwood verify, and the verifier key is the same text.
func TestCosignatureAgainstTorchwood(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	s, err := torchwood.NewCosignatureSigner("witness.test/w1", priv)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := audit.CosignatureVerifierKey("witness.test/w1", priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if vkey != s.Verifier().String() {
		t.Errorf("CosignatureVerifierKey = %q, torchwood says %q", vkey, s.Verifier().String())
	}
	v, err := audit.NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: specBody}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
		t.Errorf("note.Open(torchwood's cosignature) = %v", err)
	}
	if _, err := note.Open(bytes.Replace(signed, []byte("20852163"), []byte("20852162"), 1), note.VerifierList(v)); err == nil {
		t.Errorf("note.Open accepted a torchwood cosignature of another checkpoint")
	}
}

func TestNewCosignatureVerifierRefuses(t *testing.T) {
	var good, upperHash string
	for good == upperHash { // a key whose hash has a hex letter
		_, priv, _ := ed25519.GenerateKey(nil)
		good, _ = audit.CosignatureVerifierKey("w.test", priv.Public().(ed25519.PublicKey))
		parts := strings.SplitN(good, "+", 3)
		upperHash = parts[0] + "+" + strings.ToUpper(parts[1]) + "+" + parts[2]
	}
	_, logKey, _ := note.GenerateKey(nil, "log.test")
	for name, vkey := range map[string]string{
		"an Ed25519 note key (algorithm 1)": logKey,
		"a wrong key hash":                  "w.test+00000000+" + strings.SplitN(good, "+", 3)[2],
		"no key":                            "w.test+01234567",
		"a space in the name":               "w test" + good[len("w.test"):],
		// One spelling: not the same key in other letters or with a
		// line break in its base64, which the decoder alone skips.
		"the key hash in upper case": upperHash,
		"a line break in the key":    good[:len(good)-10] + "\r\n" + good[len(good)-10:],
	} {
		if _, err := audit.NewCosignatureVerifier(vkey); err == nil {
			t.Errorf("NewCosignatureVerifier(%s) = nil error", name)
		}
	}
}

// TestWitnessPolicy checks k of n: a checkpoint cosigned by one of three
// named witnesses fails a 2-of-3 policy, by two passes, and cosignatures
// of unnamed witnesses do not count.
func TestWitnessPolicy(t *testing.T) {
	logS, logV := newKey(t, "log.test")
	var ws []*torchwood.CosignatureSigner
	var vs []note.Verifier
	for _, name := range []string{"w1.test", "w2.test", "w3.test", "stranger.test"} {
		_, priv, _ := ed25519.GenerateKey(nil)
		s, _ := torchwood.NewCosignatureSigner(name, priv)
		v, err := audit.NewCosignatureVerifier(s.Verifier().String())
		if err != nil {
			t.Fatal(err)
		}
		ws, vs = append(ws, s), append(vs, v)
	}
	policy := audit.WitnessPolicy{Witnesses: vs[:3], Quorum: 2}
	body := audit.Checkpoint{Origin: "log.test", Size: 3}.String()
	sign := func(signers ...note.Signer) []byte {
		b, err := note.Sign(&note.Note{Text: body}, append([]note.Signer{logS}, signers...)...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := policy.Check(sign(ws[0]), logV); !errors.Is(err, audit.ErrQuorum) {
		t.Errorf("Check(cosigned by w1 only) = %v, want ErrQuorum", err)
	}
	if _, err := policy.Check(sign(ws[0], ws[3]), logV); !errors.Is(err, audit.ErrQuorum) {
		t.Errorf("Check(cosigned by w1 and an unnamed witness) = %v, want ErrQuorum", err)
	}
	got, err := policy.Check(sign(ws[2], ws[0]), logV)
	if err != nil || strings.Join(got, ",") != "w1.test,w3.test" {
		t.Errorf("Check(cosigned by w3 and w1) = %v, %v; want w1.test,w3.test", got, err)
	}
	// Witnesses alone do not make a checkpoint of the log.
	alone, _ := note.Sign(&note.Note{Text: body}, ws[0], ws[1])
	if _, err := policy.Check(alone, logV); !errors.Is(err, audit.ErrSignature) {
		t.Errorf("Check(cosigned by w1 and w2, not signed by the log) = %v, want ErrSignature", err)
	}
	for _, bad := range []audit.WitnessPolicy{{Witnesses: vs[:3], Quorum: 4}, {Witnesses: vs[:3]}, {Quorum: 1}, {Witnesses: []note.Verifier{vs[0], vs[0]}, Quorum: 1}} {
		if err := bad.Valid(); err == nil {
			t.Errorf("WitnessPolicy{%d witnesses, quorum %d}.Valid() = nil", len(bad.Witnesses), bad.Quorum)
		}
	}
}

// badDuplicate returns signed with a second signature line under the name
// and key ID of its first line whose signature bytes do not verify.
func badDuplicate(t *testing.T, signed []byte, sigLine int) []byte {
	t.Helper()
	text, sigs, _ := bytes.Cut(signed, []byte("\n\n"))
	lines := strings.SplitAfter(string(sigs), "\n")
	name, b64, _ := strings.Cut(strings.TrimPrefix(lines[sigLine], "— "), " ")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(b64, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	out := append(append(bytes.Clone(text), "\n\n"...), sigs...)
	return append(out, "— "+name+" "+base64.StdEncoding.EncodeToString(raw)+"\n"...)
}

// TestDuplicateSignatureLineIsVerified checks C2SP signed-note's rule that
// every signature line whose key name and ID match a known key is
// verified: a second line by the log's key, or by a witness of the policy,
// that does not verify makes the note invalid, even after a valid one
// (note.Open alone verifies only the first line of each key). A repeated
// identical line is harmless.
func TestDuplicateSignatureLineIsVerified(t *testing.T) {
	logS, logV := newKey(t, "log.test")
	_, priv, _ := ed25519.GenerateKey(nil)
	w, _ := torchwood.NewCosignatureSigner("w1.test", priv)
	wv, err := audit.NewCosignatureVerifier(w.Verifier().String())
	if err != nil {
		t.Fatal(err)
	}
	body := audit.Checkpoint{Origin: "log.test", Size: 3}.String()
	signed, err := note.Sign(&note.Note{Text: body}, logS, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.OpenCheckpoint(badDuplicate(t, signed, 0), logV); !errors.Is(err, audit.ErrSignature) {
		t.Errorf("OpenCheckpoint(a second line by the log's key that does not verify) = %v, want ErrSignature", err)
	}
	policy := audit.WitnessPolicy{Witnesses: []note.Verifier{wv}, Quorum: 1}
	if _, err := policy.Check(badDuplicate(t, signed, 1), logV); !errors.Is(err, audit.ErrSignature) {
		t.Errorf("Check(a second line by the witness that does not verify) = %v, want ErrSignature", err)
	}
	first := strings.SplitAfter(string(signed), "\n")[4] // the log's line
	if _, err := audit.OpenCheckpoint(append(bytes.Clone(signed), first...), logV); err != nil {
		t.Errorf("OpenCheckpoint(the log's line twice) = %v", err)
	}
	if who, err := policy.Check(append(bytes.Clone(signed), first...), logV); err != nil || len(who) != 1 {
		t.Errorf("Check(the log's line twice) = %v, %v", who, err)
	}
}

// TestWitnessPolicyOneKeyTwoNames checks C2SP tlog-cosignature's rule that
// one Ed25519 key cannot serve two cosigners: its message does not commit
// to the cosigner's name, so one witness's cosignature relabelled with the
// other name verifies as the other's. A policy naming one key twice, under
// two names, is refused instead of counting one witness twice.
func TestWitnessPolicyOneKeyTwoNames(t *testing.T) {
	logS, logV := newKey(t, "log.test")
	_, priv, _ := ed25519.GenerateKey(nil)
	w1, _ := torchwood.NewCosignatureSigner("w1.test", priv)
	k2, _ := audit.CosignatureVerifierKey("w2.test", priv.Public().(ed25519.PublicKey))
	v1, _ := audit.NewCosignatureVerifier(w1.Verifier().String())
	v2, err := audit.NewCosignatureVerifier(k2)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "log.test", Size: 3}.String()}, logS, w1)
	if err != nil {
		t.Fatal(err)
	}
	// w1's line, relabelled as w2's: the same timestamp and signature.
	last := strings.SplitAfter(string(signed), "\n")
	_, b64, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(last[len(last)-2], "— "), "\n"), " ")
	raw, _ := base64.StdEncoding.DecodeString(b64)
	relabelled := append(binary.BigEndian.AppendUint32(nil, v2.KeyHash()), raw[4:]...)
	forged := append(bytes.Clone(signed), "— w2.test "+base64.StdEncoding.EncodeToString(relabelled)+"\n"...)

	policy := audit.WitnessPolicy{Witnesses: []note.Verifier{v1, v2}, Quorum: 2}
	if err := policy.Valid(); err == nil {
		t.Errorf("Valid() of a policy naming one key as w1.test and w2.test = nil")
	}
	if who, err := policy.Check(forged, logV); err == nil {
		t.Errorf("Check(one witness's cosignature under two names) = %v, nil; counted one witness twice", who)
	}
}

// TestWitnessPolicyOneNameTwoKeys: a witness is its name (C2SP
// tlog-cosignature: the key name identifies the cosigner), so a policy
// naming one witness with two keys, as across a key rotation, is refused:
// a checkpoint it cosigned with both keys met a quorum of two on one
// witness's word.
func TestWitnessPolicyOneNameTwoKeys(t *testing.T) {
	logS, logV := newKey(t, "log.test")
	_, privA, _ := ed25519.GenerateKey(nil)
	_, privB, _ := ed25519.GenerateKey(nil)
	a, _ := torchwood.NewCosignatureSigner("w1.test", privA)
	b, _ := torchwood.NewCosignatureSigner("w1.test", privB)
	va, _ := audit.NewCosignatureVerifier(a.Verifier().String())
	vb, err := audit.NewCosignatureVerifier(b.Verifier().String())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "log.test", Size: 3}.String()}, logS, a, b)
	if err != nil {
		t.Fatal(err)
	}
	policy := audit.WitnessPolicy{Witnesses: []note.Verifier{va, vb}, Quorum: 2}
	if err := policy.Valid(); err == nil {
		t.Errorf("Valid() of a policy naming w1.test with two keys = nil")
	}
	if who, err := policy.Check(signed, logV); err == nil {
		t.Errorf("Check(one witness's cosignatures with two keys) = %v, nil; counted one witness twice", who)
	}
}

// respell returns the signature line sigLine of signed in another base64
// spelling of the same bytes: the last character before the padding with
// a spare bit set, which base64's decoder alone ignores.
func respell(t *testing.T, signed []byte, sigLine int, keepOriginal bool) []byte {
	t.Helper()
	text, sigs, _ := bytes.Cut(signed, []byte("\n\n"))
	lines := strings.SplitAfter(string(sigs), "\n")
	line := strings.TrimSuffix(lines[sigLine], "\n")
	b64 := strings.TrimRight(line, "=")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, b64[len(b64)-1])
	other := b64[:len(b64)-1] + string(alphabet[last^1]) + line[len(b64):]
	if raw1, raw2 := decodeSig(t, line), decodeSig(t, other); !bytes.Equal(raw1, raw2) {
		t.Fatalf("respell: %q and %q are not the same bytes", line, other)
	}
	if !keepOriginal {
		lines[sigLine] = ""
	}
	return append(append(bytes.Clone(text), "\n\n"...), strings.Join(lines, "")+other+"\n"...)
}

func decodeSig(t *testing.T, line string) []byte {
	t.Helper()
	i := strings.LastIndexByte(line, ' ')
	raw, err := base64.StdEncoding.DecodeString(line[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestSignatureLineOneSpelling: a signature line of a known key (the
// log's, or a witness's of the policy) is read only in its one base64
// spelling; another spelling of the same bytes (the last character's
// spare bits set, which the decoder ignores) was taken, so one signature
// had several lines.
func TestSignatureLineOneSpelling(t *testing.T) {
	logS, logV := newKey(t, "log.test")
	_, priv, _ := ed25519.GenerateKey(nil)
	w, _ := torchwood.NewCosignatureSigner("w1.test", priv)
	wv, err := audit.NewCosignatureVerifier(w.Verifier().String())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: "log.test", Size: 3}.String()}, logS, w)
	if err != nil {
		t.Fatal(err)
	}
	policy := audit.WitnessPolicy{Witnesses: []note.Verifier{wv}, Quorum: 1}
	if _, err := policy.Check(signed, logV); err != nil {
		t.Fatalf("Check(the note as signed) = %v", err)
	}
	for _, keep := range []bool{false, true} {
		if _, err := audit.OpenCheckpoint(respell(t, signed, 0, keep), logV); !errors.Is(err, audit.ErrSignature) {
			t.Errorf("OpenCheckpoint(the log's line respelled, original kept %v) = %v, want ErrSignature", keep, err)
		}
		if _, err := policy.Check(respell(t, signed, 1, keep), logV); !errors.Is(err, audit.ErrSignature) {
			t.Errorf("Check(the witness's line respelled, original kept %v) = %v, want ErrSignature", keep, err)
		}
	}
}
