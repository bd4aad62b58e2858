package loopback

import (
	"net"
	"strconv"
	"testing"
)

// TestAddr: the addresses are on loopback, below the ephemeral range (so
// no outgoing connection's source port can take them), free to listen on,
// and never the same twice in one process.
func TestAddr(t *testing.T) {
	low := ephemeralLow()
	seen := map[string]bool{}
	for range 200 {
		a, err := Addr()
		if err != nil {
			t.Fatal(err)
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("Addr() = %q; want 127.0.0.1:port", a)
		}
		if n, _ := strconv.Atoi(port); n < lowest || n >= low {
			t.Fatalf("Addr() = %q; want a port in [%d, %d)", a, lowest, low)
		}
		if seen[a] {
			t.Fatalf("Addr() returned %q twice", a)
		}
		seen[a] = true
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("listen on %s: %v", a, err)
		}
		l.Close()
	}
}

// TestPickSkipsPortsInUse: in a window of 20 ports, a port something
// listens on is never returned; every other is returned once, and then
// the kernel's choice (outside the window).
func TestPickSkipsPortsInUse(t *testing.T) {
	const lo, hi = 23000, 23020
	held := map[string]bool{}
	for p := lo; p < hi; p += 2 {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue // someone else's
		}
		defer l.Close()
		held[l.Addr().String()] = true
	}
	if len(held) == 0 {
		t.Fatal("could hold no port of the window")
	}
	handed, got := map[int]bool{}, map[string]bool{}
	for range 100 {
		a, err := pick(lo, hi, handed)
		if err != nil {
			t.Fatal(err)
		}
		if held[a] {
			t.Fatalf("pick = %s, where a listener is open", a)
		}
		_, port, _ := net.SplitHostPort(a)
		if n, _ := strconv.Atoi(port); n >= lo && n < hi {
			if got[a] {
				t.Fatalf("pick returned %s twice", a)
			}
			got[a] = true
		}
	}
	if len(got) == 0 || len(got) > hi-lo-len(held) {
		t.Fatalf("pick returned %d ports of the window, %d held; want 1 to %d", len(got), len(held), hi-lo-len(held))
	}
}
