package audit_test

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// memTree is an in-memory tree for proofs.
type memTree struct{ hashes []tlog.Hash }

func (m *memTree) ReadHashes(ix []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ix))
	for i, x := range ix {
		out[i] = m.hashes[x]
	}
	return out, nil
}

func build(t *testing.T, leaves [][]byte) (*memTree, audit.Checkpoint) {
	t.Helper()
	m := &memTree{}
	for i, l := range leaves {
		hs, err := tlog.StoredHashes(int64(i), l, m)
		if err != nil {
			t.Fatal(err)
		}
		m.hashes = append(m.hashes, hs...)
	}
	root, err := tlog.TreeHash(int64(len(leaves)), m)
	if err != nil {
		t.Fatal(err)
	}
	return m, audit.Checkpoint{Origin: "o", Size: int64(len(leaves)), Hash: root}
}

func leaves(n int, tag string) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, []byte(fmt.Sprintf(`{"i":%d,"tag":%q}`, i, tag)))
	}
	return out
}

func TestCheckConsistencyDetectsTruncationAndForks(t *testing.T) {
	all := leaves(20, "a")
	m20, cp20 := build(t, all)
	_, cp12 := build(t, all[:12])
	proof, err := tlog.ProveTree(20, 12, m20)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckConsistency(cp12, cp20, proof); err != nil {
		t.Errorf("honest growth: %v", err)
	}
	if err := audit.CheckConsistency(cp20, cp12, nil); !errors.Is(err, audit.ErrTruncated) {
		t.Errorf("shrunk log: err = %v, want ErrTruncated", err)
	}
	forked := append(append([][]byte{}, all[:5]...), leaves(15, "b")...)
	mf, cpf := build(t, forked)
	if err := audit.CheckConsistency(cp20, cpf, nil); !errors.Is(err, audit.ErrFork) {
		t.Errorf("same size, other root: err = %v, want ErrFork", err)
	}
	fproof, _ := tlog.ProveTree(20, 12, mf)
	if err := audit.CheckConsistency(cp12, cpf, fproof); !errors.Is(err, audit.ErrFork) {
		t.Errorf("rewritten history: err = %v, want ErrFork", err)
	}
}

func TestCheckInclusionDetectsRewrittenEntry(t *testing.T) {
	all := leaves(9, "a")
	m, cp := build(t, all)
	p, err := tlog.ProveRecord(cp.Size, 4, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckInclusion(cp, 4, all[4], p); err != nil {
		t.Errorf("honest entry: %v", err)
	}
	if err := audit.CheckInclusion(cp, 4, []byte(`{"i":4,"tag":"changed"}`), p); !errors.Is(err, audit.ErrEntryMismatch) {
		t.Errorf("changed entry: err = %v, want ErrEntryMismatch", err)
	}
}
