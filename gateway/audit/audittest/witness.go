package audittest

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// RunWitness exercises the published checkpoints of stores that are also
// [audit.WitnessStore]s: the largest published size wins, cosignature lines
// accumulate without duplicates and come back in byte order, a smaller size
// published late (a replica behind) does not hide a larger one, and all of
// it survives reopening. newDB is as for [Run]. A store that is not an
// audit.WitnessStore fails the test.
func RunWitness(t *testing.T, newDB func(t *testing.T) OpenFunc) {
	open := newDB(t)
	st := openStore(t, open)
	ws, ok := st.(audit.WitnessStore)
	if !ok {
		t.Fatalf("%T is not an audit.WitnessStore", st)
	}
	ctx := t.Context()
	if size, n, err := ws.PublishedCheckpoint(ctx); err != nil || n != nil || size != 0 {
		t.Fatalf("PublishedCheckpoint() on an empty store = %d, %q, %v; want 0, nil, nil", size, n, err)
	}
	note3 := []byte("log.test\n3\nAAAA\n\n— log.test sig3\n")
	a, b, c := []byte("— w1 aaaa\n"), []byte("— w2 bbbb\n"), []byte("— w3 cccc\n")
	if err := ws.PublishCheckpoint(ctx, 3, note3, [][]byte{b}); err != nil {
		t.Fatalf("PublishCheckpoint(3) = %v", err)
	}
	if err := ws.PublishCheckpoint(ctx, 3, note3, [][]byte{a, b}); err != nil {
		t.Fatalf("PublishCheckpoint(3) again = %v", err)
	}
	want := string(note3) + string(a) + string(b)
	if size, n, err := ws.PublishedCheckpoint(ctx); err != nil || size != 3 || string(n) != want {
		t.Fatalf("PublishedCheckpoint() = %d, %q, %v; want 3, %q", size, n, err, want)
	}
	if err := ws.PublishCheckpoint(ctx, 4, []byte("x"), [][]byte{[]byte("no newline")}); err == nil {
		t.Errorf("PublishCheckpoint with a line without its newline = nil error")
	}
	note5 := []byte("log.test\n5\nBBBB\n\n— log.test sig5\n")
	if err := ws.PublishCheckpoint(ctx, 5, note5, nil); err != nil {
		t.Fatalf("PublishCheckpoint(5) = %v", err)
	}
	if size, n, err := ws.PublishedCheckpoint(ctx); err != nil || size != 5 || string(n) != string(note5) {
		t.Fatalf("PublishedCheckpoint() = %d, %q, %v; want 5 without cosignatures", size, n, err)
	}
	if err := ws.PublishCheckpoint(ctx, 4, []byte("log.test\n4\nCCCC\n\n— log.test sig4\n"), [][]byte{c}); err != nil {
		t.Fatalf("PublishCheckpoint(4) after 5 = %v", err)
	}
	if err := ws.PublishCheckpoint(ctx, 5, note5, [][]byte{c}); err != nil {
		t.Fatalf("PublishCheckpoint(5) with a cosignature = %v", err)
	}
	want = string(note5) + string(c)
	if size, n, err := ws.PublishedCheckpoint(ctx); err != nil || size != 5 || string(n) != want {
		t.Fatalf("PublishedCheckpoint() = %d, %q, %v; want 5, %q", size, n, err, want)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	again := openStore(t, open).(audit.WitnessStore)
	if size, n, err := again.PublishedCheckpoint(ctx); err != nil || size != 5 || string(n) != want {
		t.Fatalf("PublishedCheckpoint() after reopening = %d, %q, %v; want 5, %q", size, n, err, want)
	}
}
