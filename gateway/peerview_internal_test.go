package gateway

import (
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestTreeProofShape: treeProof takes every real consistency proof
// between two sizes of a log (1 to 40 entries) as it is, and refuses as
// malformed one with a hash missing, one too many, or a hash cut short:
// those are no proof, and a peer that sends one is asked for another
// (checkPeerView), not taken for one that forked its log.
func TestTreeProofShape(t *testing.T) {
	const n = 40
	hashes := map[int64]tlog.Hash{}
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			h, ok := hashes[x]
			if !ok {
				return nil, fmt.Errorf("no hash %d", x)
			}
			out[i] = h
		}
		return out, nil
	})
	for i := range int64(n) {
		hs, err := tlog.StoredHashes(i, fmt.Appendf(nil, "entry %d", i), reader)
		if err != nil {
			t.Fatal(err)
		}
		for j, h := range hs {
			hashes[tlog.StoredHashIndex(0, i)+int64(j)] = h
		}
	}
	bytesOf := func(p tlog.TreeProof) [][]byte {
		out := make([][]byte, len(p))
		for i := range p {
			out[i] = p[i][:]
		}
		return out
	}
	for newer := int64(2); newer <= n; newer++ {
		root, err := tlog.TreeHash(newer, reader)
		if err != nil {
			t.Fatal(err)
		}
		for older := int64(1); older < newer; older++ {
			real, err := tlog.ProveTree(newer, older, reader)
			if err != nil {
				t.Fatal(err)
			}
			b := bytesOf(real)
			got, err := treeProof(b, older, newer)
			if err != nil {
				t.Fatalf("treeProof(the proof from %d to %d): %v", older, newer, err)
			}
			oldRoot, err := tlog.TreeHash(older, reader)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(got, newer, root, older, oldRoot); err != nil {
				t.Fatalf("treeProof(the proof from %d to %d) does not verify: %v", older, newer, err)
			}
			for name, bad := range map[string][][]byte{
				"a hash missing":   b[:len(b)-1],
				"one hash more":    append(bytesOf(real), make([]byte, tlog.HashSize)),
				"a hash cut short": append(bytesOf(real)[:len(b)-1], b[len(b)-1][:tlog.HashSize-1]),
			} {
				if _, err := treeProof(bad, older, newer); err == nil {
					t.Errorf("treeProof(the proof from %d to %d with %s) = nil error; want it malformed", older, newer, name)
				}
			}
		}
	}
}
