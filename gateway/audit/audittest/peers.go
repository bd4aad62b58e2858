package audittest

import (
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// RunPeerCheckpoints checks a store's audit.PeerCheckpointStore: nothing
// remembered at first; the first checkpoint of a peer is taken once; a
// checkpoint advances only from the size still remembered (of racing
// replicas one wins); peers are apart; and what is remembered is there
// for another opening of the store (a replica, a restart).
func RunPeerCheckpoints(t *testing.T, newDB func(t *testing.T) OpenFunc) {
	open := newDB(t)
	st := openStore(t, open)
	ps, ok := st.(audit.PeerCheckpointStore)
	if !ok {
		t.Fatalf("%T is not an audit.PeerCheckpointStore", st)
	}
	ctx := t.Context()
	if c, err := ps.PeerCheckpoint(ctx, "dk-gateway"); err != nil || c.Size != 0 {
		t.Fatalf("PeerCheckpoint on an empty store = %+v, %v; want size 0", c, err)
	}
	cp := func(size int64, b byte) audit.PeerCheckpoint {
		c := audit.PeerCheckpoint{Size: size, Note: []byte{'n', b}}
		for i := range c.Hash {
			c.Hash[i] = b
		}
		return c
	}
	advance := func(peer string, old int64, c audit.PeerCheckpoint, want bool) {
		t.Helper()
		ok, err := ps.AdvancePeerCheckpoint(ctx, peer, old, c)
		if err != nil || ok != want {
			t.Fatalf("AdvancePeerCheckpoint(%s, %d -> %d) = %v, %v; want %v", peer, old, c.Size, ok, err, want)
		}
	}
	advance("dk-gateway", 0, cp(5, 1), true)
	advance("dk-gateway", 0, cp(6, 2), false) // a replica that read none
	advance("dk-gateway", 5, cp(9, 3), true)
	advance("dk-gateway", 5, cp(8, 4), false) // a replica that read 5
	advance("nl-gateway", 0, cp(2, 5), true)
	check := func(ps audit.PeerCheckpointStore, peer string, want audit.PeerCheckpoint) {
		t.Helper()
		c, err := ps.PeerCheckpoint(ctx, peer)
		if err != nil || c.Size != want.Size || c.Hash != want.Hash || string(c.Note) != string(want.Note) {
			t.Fatalf("PeerCheckpoint(%s) = %+v, %v; want %+v", peer, c, err, want)
		}
	}
	check(ps, "dk-gateway", cp(9, 3))
	check(ps, "nl-gateway", cp(2, 5))
	again := openStore(t, open).(audit.PeerCheckpointStore)
	check(again, "dk-gateway", cp(9, 3))
}
