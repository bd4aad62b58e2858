package audit_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// signedCheckpoint signs a checkpoint of leaves, computed in memory.
func signedCheckpoint(t *testing.T, s note.Signer, leaves [][]byte) []byte {
	t.Helper()
	root, err := audit.RootHash(leaves)
	if err != nil {
		t.Fatal(err)
	}
	body := audit.Checkpoint{Origin: s.Name(), Size: int64(len(leaves)), Hash: root}.String()
	signed, err := note.Sign(&note.Note{Text: body}, s)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestVerifyLeaves(t *testing.T) {
	signer, verifier := newKey(t, "audit.test")
	other, _ := newKey(t, "audit.test") // same name, another key
	stranger, _ := newKey(t, "someone.else")
	var leaves [][]byte
	for i := range 7 {
		leaf, _ := entry(i).Marshal()
		leaves = append(leaves, leaf)
	}
	good := signedCheckpoint(t, signer, leaves)

	modified := slices.Clone(leaves)
	modified[3] = []byte(strings.Replace(string(leaves[3]), `"outcome":"disclose"`, `"outcome":"deny"`, 1))
	swapped := slices.Clone(leaves)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	extra, _ := entry(7).Marshal()
	tampered := []byte(strings.Replace(string(good), "\n7\n", "\n6\n", 1))

	for _, tc := range []struct {
		name       string
		leaves     [][]byte
		checkpoint []byte
		wantErr    error // nil: success; errSize: a *SizeMismatchError
	}{
		{"ok", leaves, good, nil},
		{"modified_leaf", modified, good, audit.ErrRootMismatch},
		{"swapped_leaves", swapped, good, audit.ErrRootMismatch},
		{"dropped_last_leaf", leaves[:6], good, errSize},
		{"extra_leaf", append(slices.Clone(leaves), extra), good, errSize},
		{"signed_by_other_key_same_name", leaves, signedCheckpoint(t, other, leaves), audit.ErrSignature},
		{"signed_by_stranger", leaves, signedCheckpoint(t, stranger, leaves), audit.ErrSignature},
		{"body_edited_after_signing", leaves[:6], tampered, audit.ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size, err := audit.VerifyLeaves(tc.leaves, tc.checkpoint, verifier)
			switch {
			case tc.wantErr == nil:
				if err != nil || size != int64(len(tc.leaves)) {
					t.Errorf("VerifyLeaves() = %d, %v; want %d, nil", size, err, len(tc.leaves))
				}
			case tc.wantErr == errSize:
				se, ok := errors.AsType[*audit.SizeMismatchError](err)
				if !ok || se.Leaves != int64(len(tc.leaves)) || se.Checkpoint != 7 {
					t.Errorf("VerifyLeaves() = %v, want a SizeMismatchError{Leaves: %d, Checkpoint: 7}", err, len(tc.leaves))
				}
			default:
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("VerifyLeaves() = %d, %v; want %v", size, err, tc.wantErr)
				}
			}
		})
	}

	if _, err := audit.VerifyLeaves(leaves, []byte("not a note"), verifier); err == nil || errors.Is(err, audit.ErrSignature) {
		t.Errorf("VerifyLeaves(malformed note) = %v, want a parse error", err)
	}
}

var errSize = errors.New("size mismatch")

func TestSizeMismatchErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  audit.SizeMismatchError
		want string
	}{
		{audit.SizeMismatchError{Leaves: 6, Checkpoint: 7}, "audit: verify: checkpoint covers 7 entries, got 6 (truncated)"},
		{audit.SizeMismatchError{Leaves: 8, Checkpoint: 7}, "audit: verify: checkpoint covers 7 entries, got 8 (entries not covered by the checkpoint)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestRootHashMatchesTlog(t *testing.T) {
	var leaves [][]byte
	var hashes []tlog.Hash
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i := range 20 {
		got, err := audit.RootHash(leaves)
		want, _ := tlog.TreeHash(int64(i), r)
		if err != nil || got != want {
			t.Fatalf("RootHash(%d leaves) = %v, %v; want %v", i, got, err, want)
		}
		leaf, _ := entry(i).Marshal()
		hs, _ := tlog.StoredHashes(int64(i), leaf, r)
		hashes = append(hashes, hs...)
		leaves = append(leaves, leaf)
	}
}

func TestParseCheckpoint(t *testing.T) {
	const hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" // sha256 of ""
	for _, tc := range []struct {
		name string
		text string
		ok   bool
		size int64
	}{
		{"valid", "audit.test/log\n42\n" + hash + "\n", true, 42},
		{"zero", "audit.test/log\n0\n" + hash + "\n", true, 0},
		{"extension_lines", "audit.test/log\n42\n" + hash + "\nextra one\nextra two\n", true, 42},
		{"no_final_newline", "audit.test/log\n42\n" + hash, false, 0},
		{"two_lines", "audit.test/log\n42\n", false, 0},
		{"empty_origin", "\n42\n" + hash + "\n", false, 0},
		{"negative_size", "audit.test/log\n-1\n" + hash + "\n", false, 0},
		{"leading_zero", "audit.test/log\n042\n" + hash + "\n", false, 0},
		{"plus_sign", "audit.test/log\n+42\n" + hash + "\n", false, 0},
		{"bad_base64", "audit.test/log\n42\n!!!\n", false, 0},
		{"short_hash", "audit.test/log\n42\nAAAA\n", false, 0},
		{"hash_spare_bits_set", "audit.test/log\n42\n" + hash[:42] + "V=\n", false, 0}, // decodes like ...U=
		{"hash_with_carriage_return", "audit.test/log\n42\n" + hash[:10] + "\r" + hash[10:] + "\n", false, 0},
		{"empty_extension_line", "audit.test/log\n42\n" + hash + "\n\n", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := audit.ParseCheckpoint(tc.text)
			if tc.ok != (err == nil) || c.Size != tc.size {
				t.Fatalf("ParseCheckpoint(%q) = %+v, %v; want ok=%v size %d", tc.text, c, err, tc.ok, tc.size)
			}
			if tc.ok && c.Origin != "audit.test/log" {
				t.Errorf("ParseCheckpoint(%q).Origin = %q, want %q", tc.text, c.Origin, "audit.test/log")
			}
			if tc.name == "valid" {
				if got := c.String(); got != tc.text {
					t.Errorf("ParseCheckpoint(%q).String() = %q, want the same text", tc.text, got)
				}
			}
		})
	}
}
