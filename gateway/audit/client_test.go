package audit_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// logSource serves a Log to a Client, as the gateway's Audit service does.
type logSource struct{ l *audit.Log }

func (s logSource) Checkpoint(ctx context.Context) ([]byte, error) {
	_, n, err := s.l.Checkpoint(ctx)
	return n, err
}

func (s logSource) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	return s.l.ConsistencyProof(ctx, oldSize, newSize)
}

func (s logSource) Inclusion(ctx context.Context, index, treeSize int64) ([]byte, tlog.RecordProof, error) {
	p, err := s.l.InclusionProof(ctx, index, treeSize)
	if err != nil {
		return nil, nil, err
	}
	leaves, err := s.l.Leaves(ctx, index, index+1)
	if err != nil {
		return nil, nil, err
	}
	return leaves[0], p, nil
}

// changedLeaf serves one entry changed, as a tampered store would.
type changedLeaf struct {
	logSource
	index int64
}

func (s changedLeaf) Inclusion(ctx context.Context, index, treeSize int64) ([]byte, tlog.RecordProof, error) {
	leaf, p, err := s.logSource.Inclusion(ctx, index, treeSize)
	if index == s.index {
		leaf = bytes.Replace(leaf, []byte("officer-7"), []byte("officer-8"), 1)
	}
	return leaf, p, err
}

// logOf returns a log of the entries made by mk(0..n-1), signed by
// signer, with the origin "audit.test".
func logOf(t *testing.T, signer note.Signer, n int, mk func(int) *audit.Entry) *audit.Log {
	t.Helper()
	l := newLog(t, audit.Config{Signer: signer, Origin: "audit.test"})
	for i := range n {
		if _, err := l.Append(t.Context(), mk(i)); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// other returns an entry unlike entry(i).
func other(i int) *audit.Entry {
	e := entry(i)
	e.Outcome = audit.OutcomeDeny
	return e
}

func trustedSize(t *testing.T, f audit.TrustFile, v note.Verifier) int64 {
	t.Helper()
	cp, err := audit.NewClient(nil, f, v).Trusted(t.Context())
	if err != nil || cp == nil {
		t.Fatalf("Trusted() = %v, %v", cp, err)
	}
	return cp.Size
}

func TestClientAcceptsConsistentGrowth(t *testing.T) {
	ctx := t.Context()
	signer, v := newKey(t, "audit.test")
	l := logOf(t, signer, 5, entry)
	f := audit.TrustFile(filepath.Join(t.TempDir(), "trusted"))
	c := audit.NewClient(logSource{l}, f, v)
	latest, before, err := c.Update(ctx)
	if err != nil || before != nil || latest.Size != 5 {
		t.Fatalf("first Update() = %v, %v, %v; want size 5 trusted on first use", latest, before, err)
	}
	for i := 5; i < 12; i++ {
		if _, err := l.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	latest, before, err = audit.NewClient(logSource{l}, f, v).Update(ctx)
	if err != nil || before == nil || before.Size != 5 || latest.Size != 12 {
		t.Fatalf("Update() after growth = %v, %v, %v; want 5 -> 12", latest, before, err)
	}
	if got := trustedSize(t, f, v); got != 12 {
		t.Errorf("trusted size = %d, want 12", got)
	}
	// The same checkpoint again is consistent with itself.
	c = audit.NewClient(logSource{l}, f, v)
	if _, _, err := c.Update(ctx); err != nil {
		t.Errorf("Update() without growth: %v", err)
	}
	if err := c.CheckEntries(ctx, []int64{0, 4, 11}); err != nil {
		t.Errorf("CheckEntries() on an honest log: %v", err)
	}
}

func TestClientRefusesTruncatedForkedAndRewrittenLogs(t *testing.T) {
	signer, v := newKey(t, "audit.test")
	honest := logOf(t, signer, 12, entry)
	for _, tt := range []struct {
		name    string
		trustAt int // entries in the honest log when its checkpoint was trusted
		served  *audit.Log
		want    error
		message string
	}{
		{"truncated: the last entries deleted", 12, logOf(t, signer, 5, entry), audit.ErrTruncated, "log truncated"},
		{"forked: another history of the same size", 12,
			logOf(t, signer, 12, func(i int) *audit.Entry { return cmpEntry(i < 5, entry(i), other(i)) }), audit.ErrFork, "log forked or rewritten"},
		{"rewritten: an old entry changed, the tree rebuilt and grown", 5,
			logOf(t, signer, 12, func(i int) *audit.Entry { return cmpEntry(i != 2, entry(i), other(i)) }), audit.ErrFork, "log forked or rewritten"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			f := audit.TrustFile(filepath.Join(t.TempDir(), "trusted"))
			trustedLog := honest
			if tt.trustAt < 12 {
				trustedLog = logOf(t, signer, tt.trustAt, entry)
			}
			if _, _, err := audit.NewClient(logSource{trustedLog}, f, v).Update(ctx); err != nil {
				t.Fatal(err)
			}
			_, _, err := audit.NewClient(logSource{tt.served}, f, v).Update(ctx)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("Update() = %v, want %v naming %q", err, tt.want, tt.message)
			}
			if got := trustedSize(t, f, v); got != int64(tt.trustAt) {
				t.Errorf("after the refusal the trusted size is %d, want the %d trusted before", got, tt.trustAt)
			}
		})
	}
}

// TestClientDamagedTrustFile: a trust file that holds no checkpoint of
// this log's key (emptied, cut short, or a note of the key that is no
// checkpoint, such as a receipt) is the auditor's set-up, not a finding
// about the log: Update and CheckExport fail with ErrTrustedNotThisLog
// naming the file (liaison audit verify then does not say FAILED), and
// the file is left as it was.
func TestClientDamagedTrustFile(t *testing.T) {
	ctx := t.Context()
	signer, v := newKey(t, "audit.test")
	l := logOf(t, signer, 4, entry)
	good := filepath.Join(t.TempDir(), "good")
	if _, _, err := audit.NewClient(logSource{l}, audit.TrustFile(good), v).Update(ctx); err != nil {
		t.Fatal(err)
	}
	signed, err := audit.TrustFile(good).ReadTrusted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := l.Receipt(ctx, 1, "police-nl", digestOf("00"))
	if err != nil {
		t.Fatal(err)
	}
	size, _, _ := l.Checkpoint(ctx)
	leaves, err := l.Leaves(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"empty":                       {},
		"cut short":                   signed[:len(signed)/2],
		"a receipt signed by the key": receipt.Note,
		"not a note":                  []byte("hello\n"),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "trusted")
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			f := audit.TrustFile(path)
			_, _, err := audit.NewClient(logSource{l}, f, v).Update(ctx)
			if !errors.Is(err, audit.ErrTrustedNotThisLog) || !strings.Contains(err.Error(), path) {
				t.Errorf("Update() = %v, want ErrTrustedNotThisLog naming %s", err, path)
			}
			_, _, err = audit.NewClient(nil, f, v).CheckExport(ctx, leaves, signed)
			if !errors.Is(err, audit.ErrTrustedNotThisLog) || !strings.Contains(err.Error(), path) {
				t.Errorf("CheckExport() = %v, want ErrTrustedNotThisLog naming %s", err, path)
			}
			if b, _ := f.ReadTrusted(ctx); !bytes.Equal(b, content) {
				t.Errorf("the trust file was replaced: %q", b)
			}
		})
	}
}

func cmpEntry(first bool, a, b *audit.Entry) *audit.Entry {
	if first {
		return a
	}
	return b
}

func TestClientRefusesAChangedEntryAndAForeignSignature(t *testing.T) {
	ctx := t.Context()
	signer, v := newKey(t, "audit.test")
	l := logOf(t, signer, 9, entry)
	c := audit.NewClient(changedLeaf{logSource{l}, 4}, audit.TrustFile(filepath.Join(t.TempDir(), "trusted")), v)
	if _, _, err := c.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckEntries(ctx, []int64{3, 5}); err != nil {
		t.Errorf("CheckEntries() of honest entries: %v", err)
	}
	err := c.CheckEntries(ctx, []int64{3, 4, 5})
	if !errors.Is(err, audit.ErrEntryMismatch) || !strings.Contains(err.Error(), "entry does not match the checkpoint") {
		t.Errorf("CheckEntries() with entry 4 changed = %v, want ErrEntryMismatch", err)
	}
	if err := c.CheckEntries(ctx, []int64{9}); !errors.Is(err, audit.ErrOutOfRange) {
		t.Errorf("CheckEntries(9) of 9 entries = %v, want ErrOutOfRange", err)
	}

	impostor, _ := newKey(t, "audit.test")
	f := audit.TrustFile(filepath.Join(t.TempDir(), "trusted"))
	_, _, err = audit.NewClient(logSource{logOf(t, impostor, 3, entry)}, f, v).Update(ctx)
	if !errors.Is(err, audit.ErrSignature) {
		t.Errorf("Update() of a checkpoint signed by another key = %v, want ErrSignature", err)
	}
	if b, _ := f.ReadTrusted(ctx); b != nil {
		t.Error("a checkpoint with a foreign signature was trusted")
	}
}

func TestClientChecksExportsAgainstTheTrustedCheckpoint(t *testing.T) {
	ctx := t.Context()
	signer, v := newKey(t, "audit.test")
	export := func(l *audit.Log) ([][]byte, []byte) {
		size, n, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		leaves, err := l.Leaves(ctx, 0, size)
		if err != nil {
			t.Fatal(err)
		}
		return leaves, n
	}
	f := audit.TrustFile(filepath.Join(t.TempDir(), "trusted"))
	leaves, cp := export(logOf(t, signer, 7, entry))
	if _, before, err := audit.NewClient(nil, f, v).CheckExport(ctx, leaves, cp); err != nil || before != nil {
		t.Fatalf("first CheckExport() = %v, %v", before, err)
	}
	leaves, cp = export(logOf(t, signer, 10, entry))
	if _, before, err := audit.NewClient(nil, f, v).CheckExport(ctx, leaves, cp); err != nil || before.Size != 7 {
		t.Fatalf("CheckExport() of a grown log = %v, %v; want it to extend 7 entries", before, err)
	}
	leaves, cp = export(logOf(t, signer, 6, entry))
	if _, _, err := audit.NewClient(nil, f, v).CheckExport(ctx, leaves, cp); !errors.Is(err, audit.ErrTruncated) {
		t.Errorf("CheckExport() of a shorter log = %v, want ErrTruncated", err)
	}
	leaves, cp = export(logOf(t, signer, 12, func(i int) *audit.Entry { return cmpEntry(i != 1, entry(i), other(i)) }))
	if _, _, err := audit.NewClient(nil, f, v).CheckExport(ctx, leaves, cp); !errors.Is(err, audit.ErrFork) {
		t.Errorf("CheckExport() of a rewritten log = %v, want ErrFork", err)
	}
	if got := trustedSize(t, f, v); got != 10 {
		t.Errorf("trusted size = %d, want 10", got)
	}
}

func TestSampleDrawsDistinctEntries(t *testing.T) {
	for _, tt := range []struct {
		size int64
		n    int
		want int
	}{
		{17, 100, 17}, {17, 17, 17}, {17, 16, 16}, {1000, 16, 16}, {1 << 40, 50, 50}, {0, 16, 0}, {5, 0, 0},
	} {
		for range 50 {
			got, err := audit.Sample(tt.size, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("Sample(%d, %d) = %d indexes, want %d", tt.size, tt.n, len(got), tt.want)
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Fatalf("Sample(%d, %d) = %v, want distinct indexes in order", tt.size, tt.n, got)
			}
			if len(got) > 0 && (got[0] < 0 || got[len(got)-1] >= tt.size) {
				t.Fatalf("Sample(%d, %d) = %v, out of range", tt.size, tt.n, got)
			}
		}
	}
	// Every index of a small log is drawn sometimes: the sample is not
	// stuck on a few.
	hits := make([]int, 17)
	for range 400 {
		got, _ := audit.Sample(17, 3)
		for _, i := range got {
			hits[i]++
		}
	}
	for i, h := range hits {
		if h == 0 {
			t.Errorf("index %d never drawn in 400 samples of 3 out of 17", i)
		}
	}
}

// servedSource serves the checkpoint note it is given, and the proofs and
// entries of a log, counting the consistency proofs asked for.
type servedSource struct {
	logSource
	note   []byte
	proofs *int
}

func (s servedSource) Checkpoint(context.Context) ([]byte, error) { return s.note, nil }

func (s servedSource) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	*s.proofs++
	return s.logSource.ConsistencyProof(ctx, oldSize, newSize)
}

// TestClientTrustsAProofOnlyBetweenSignedCheckpoints: a consistency proof
// is hashes alone, signed by nobody, so Update uses it only between two
// checkpoints each verified under the log's key: the one trusted and the
// one served, against their sizes and root hashes. A log that extends the
// trusted tree with entries the log's key never signed (a valid proof
// from the trusted root to a root the key did not sign) is refused before
// any proof is asked for, whether the served checkpoint is signed by
// another key of the log's name, is the log's signature over another
// body, or carries no signature; the trusted checkpoint stays.
func TestClientTrustsAProofOnlyBetweenSignedCheckpoints(t *testing.T) {
	ctx := t.Context()
	signer, v := newKey(t, "audit.test")
	impostor, _ := newKey(t, "audit.test")
	honest := logOf(t, signer, 12, entry)
	// The first 5 entries are the trusted ones; the 7 after them are
	// entries the log's key never signed a tree of.
	fork := logOf(t, impostor, 12, func(i int) *audit.Entry { return cmpEntry(i < 5, entry(i), other(i)) })
	_, forkNote, err := fork.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, honestNote, err := honest.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	forkBody, _, _ := bytes.Cut(forkNote, []byte("\n\n"))
	_, honestSigs, _ := bytes.Cut(honestNote, []byte("\n\n"))
	if bytes.Equal(forkBody, honestNote[:len(forkBody)]) {
		t.Fatal("the fork has the honest log's root")
	}
	for _, tc := range []struct {
		name string
		note []byte
	}{
		{"signed by another key of the log's name", forkNote},
		{"the log's signature over another body", slices.Concat(forkBody, []byte("\n\n"), honestSigs)},
		{"no signature", slices.Concat(forkBody, []byte("\n"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := audit.TrustFile(filepath.Join(t.TempDir(), "trusted"))
			if _, _, err := audit.NewClient(logSource{logOf(t, signer, 5, entry)}, f, v).Update(ctx); err != nil {
				t.Fatal(err)
			}
			// The proof the source would give verifies between the
			// trusted root and the fork's: only the signature tells.
			trusted, err := audit.NewClient(nil, f, v).Trusted(ctx)
			if err != nil {
				t.Fatal(err)
			}
			proof, err := fork.ConsistencyProof(ctx, 5, 12)
			if err != nil {
				t.Fatal(err)
			}
			forkCP, err := audit.ParseCheckpoint(string(forkBody) + "\n")
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(proof, 12, forkCP.Hash, 5, trusted.Hash); err != nil {
				t.Fatalf("the fork's proof does not verify from the trusted root: %v", err)
			}
			proofs := 0
			_, _, err = audit.NewClient(servedSource{logSource{fork}, tc.note, &proofs}, f, v).Update(ctx)
			if err == nil {
				t.Fatal("Update() trusted a checkpoint the log's key did not sign")
			}
			if proofs != 0 {
				t.Errorf("Update() asked for %d consistency proofs before refusing the checkpoint", proofs)
			}
			if got := trustedSize(t, f, v); got != 5 {
				t.Errorf("after the refusal the trusted size is %d, want 5", got)
			}
		})
	}
}

// spoiledProof serves a Log's consistency proofs changed by spoil, as a
// buggy or hostile gateway would.
type spoiledProof struct {
	logSource
	spoil func(tlog.TreeProof) tlog.TreeProof
}

func (s spoiledProof) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	p, err := s.logSource.ConsistencyProof(ctx, oldSize, newSize)
	if err != nil {
		return nil, err
	}
	return s.spoil(p), nil
}

// TestClientMalformedProofIsNoFork: a Source whose consistency proof has
// a hash missing or one more is no proof at all: Update says so
// (ErrMalformedProof) and keeps the trusted checkpoint, and does not say
// that the log forked (ErrFork), which a proof of the right shape that
// does not verify still is. ReadTreeProof, the rule the command line, the
// console and the gateway (for a peer's proofs) read a gateway's answer
// with, refuses the same, a hash not of 32 bytes and a proof to another
// size than asked for, each wrapping ErrMalformedProof.
func TestClientMalformedProofIsNoFork(t *testing.T) {
	ctx := t.Context()
	signer, v := newKey(t, "audit.test")
	l := logOf(t, signer, 5, entry)
	f := audit.TrustFile(filepath.Join(t.TempDir(), "trusted"))
	if _, _, err := audit.NewClient(logSource{l}, f, v).Update(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 5; i < 12; i++ {
		if _, err := l.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		spoil func(tlog.TreeProof) tlog.TreeProof
		want  error
	}{
		{"a hash missing", func(p tlog.TreeProof) tlog.TreeProof { return p[:len(p)-1] }, audit.ErrMalformedProof},
		{"one hash more", func(p tlog.TreeProof) tlog.TreeProof { return append(slices.Clone(p), p[0]) }, audit.ErrMalformedProof},
		{"a hash changed", func(p tlog.TreeProof) tlog.TreeProof { p = slices.Clone(p); p[0][0] ^= 1; return p }, audit.ErrFork},
	} {
		_, _, err := audit.NewClient(spoiledProof{logSource{l}, tc.spoil}, f, v).Update(ctx)
		if !errors.Is(err, tc.want) {
			t.Errorf("Update() with %s = %v, want %v", tc.name, err, tc.want)
		}
		if tc.want == audit.ErrMalformedProof && errors.Is(err, audit.ErrFork) {
			t.Errorf("Update() with %s = %v, also a fork", tc.name, err)
		}
		if got := trustedSize(t, f, v); got != 5 {
			t.Errorf("trusted size after %s = %d, want 5 kept", tc.name, got)
		}
	}
	real, err := l.ConsistencyProof(ctx, 5, 12)
	if err != nil {
		t.Fatal(err)
	}
	hashes := func() [][]byte { return hashBytes(real) }
	if p, err := audit.ReadTreeProof(5, 12, 12, hashes()); err != nil || !slices.Equal(p, real) {
		t.Errorf("ReadTreeProof(the real proof) = %v, %v; want it as it is", p, err)
	}
	for _, tc := range []struct {
		name     string
		answered int64
		edit     func([][]byte) [][]byte
		want     string
	}{
		{"to another size", 13, func(b [][]byte) [][]byte { return b }, "is to size 13, not 12"},
		{"a hash cut short", 12, func(b [][]byte) [][]byte { b[0] = b[0][:31]; return b }, "hash 0 of the consistency proof from size 5 to 12 is 31 bytes, not 32"},
		{"a hash one byte longer", 12, func(b [][]byte) [][]byte { b[0] = append(b[0], 0); return b }, "is 33 bytes, not 32"},
		{"a hash missing", 12, func(b [][]byte) [][]byte { return b[1:] }, "hashes, not"},
	} {
		_, err := audit.ReadTreeProof(5, 12, tc.answered, tc.edit(hashes()))
		if !errors.Is(err, audit.ErrMalformedProof) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadTreeProof(a proof %s) = %v; want ErrMalformedProof saying %q", tc.name, err, tc.want)
		}
	}
}

// TestClientMalformedInclusionProofIsNoChange: a Source whose inclusion
// proof has a hash missing or one more is no proof at all: CheckEntries
// says so (ErrMalformedProof), not that the entry changed
// (ErrEntryMismatch), which a proof of the right shape that does not
// verify still is. ReadRecordProof, the rule the command line and the
// console read a gateway's answer with, refuses the same, a hash not of 32
// bytes and a proof in another tree size than asked for.
func TestClientMalformedInclusionProofIsNoChange(t *testing.T) {
	ctx := t.Context()
	signer, v := newKey(t, "audit.test")
	l := logOf(t, signer, 12, entry)
	f := audit.TrustFile(filepath.Join(t.TempDir(), "trusted"))
	for _, tc := range []struct {
		name  string
		spoil func(tlog.RecordProof) tlog.RecordProof
		want  error
	}{
		{"a hash missing", func(p tlog.RecordProof) tlog.RecordProof { return p[:len(p)-1] }, audit.ErrMalformedProof},
		{"one hash more", func(p tlog.RecordProof) tlog.RecordProof { return append(slices.Clone(p), p[0]) }, audit.ErrMalformedProof},
		{"a hash changed", func(p tlog.RecordProof) tlog.RecordProof { p = slices.Clone(p); p[0][0] ^= 1; return p }, audit.ErrEntryMismatch},
	} {
		c := audit.NewClient(spoiledInclusion{logSource{l}, tc.spoil}, f, v)
		if _, _, err := c.Update(ctx); err != nil {
			t.Fatal(err)
		}
		err := c.CheckEntries(ctx, []int64{3})
		if !errors.Is(err, tc.want) || (tc.want == audit.ErrMalformedProof && errors.Is(err, audit.ErrEntryMismatch)) {
			t.Errorf("CheckEntries() with %s = %v, want %v alone", tc.name, err, tc.want)
		}
	}
	real, err := l.InclusionProof(ctx, 3, 12)
	if err != nil {
		t.Fatal(err)
	}
	hashes := func() [][]byte { return hashBytes(real) }
	if p, err := audit.ReadRecordProof(3, 12, 12, hashes()); err != nil || !slices.Equal(p, real) {
		t.Errorf("ReadRecordProof(the real proof) = %v, %v; want it as it is", p, err)
	}
	for _, tc := range []struct {
		name     string
		answered int64
		edit     func([][]byte) [][]byte
		want     string
	}{
		{"in another tree size", 13, func(b [][]byte) [][]byte { return b }, "is in a tree of size 13, not 12"},
		{"a hash cut short", 12, func(b [][]byte) [][]byte { b[0] = b[0][:31]; return b }, "hash 0 of the inclusion proof of entry 3 in the tree of size 12 is 31 bytes, not 32"},
		{"a hash one byte longer", 12, func(b [][]byte) [][]byte { b[0] = append(b[0], 0); return b }, "is 33 bytes, not 32"},
		{"a hash missing", 12, func(b [][]byte) [][]byte { return b[1:] }, "hashes, not"},
	} {
		_, err := audit.ReadRecordProof(3, 12, tc.answered, tc.edit(hashes()))
		if !errors.Is(err, audit.ErrMalformedProof) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadRecordProof(a proof %s) = %v; want ErrMalformedProof saying %q", tc.name, err, tc.want)
		}
	}
}

// spoiledInclusion serves a Log's inclusion proofs changed by spoil.
type spoiledInclusion struct {
	logSource
	spoil func(tlog.RecordProof) tlog.RecordProof
}

func (s spoiledInclusion) Inclusion(ctx context.Context, index, treeSize int64) ([]byte, tlog.RecordProof, error) {
	leaf, p, err := s.logSource.Inclusion(ctx, index, treeSize)
	if err != nil {
		return nil, nil, err
	}
	return leaf, s.spoil(p), nil
}

// hashBytes is a proof's hashes as a gateway sends them: a fresh copy of
// each, so that a test may cut or extend one.
func hashBytes(proof []tlog.Hash) [][]byte {
	var b [][]byte
	for _, h := range proof {
		b = append(b, slices.Clone(h[:]))
	}
	return b
}
