package loopback

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
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

// holdEnv names the window of ports TestHoldPorts, run as a process of
// its own, holds.
const holdEnv = "LOOPBACK_TEST_HOLD"

// TestPickLeavesAnotherProcessesPorts: a port another process picked is
// not picked here, though nothing listens on it (the other process has not
// started its server yet, or is restarting it).
func TestPickLeavesAnotherProcessesPorts(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no reservation across processes on Windows")
	}
	// A window of ten ports none of which this process holds (TestAddr
	// reserved ports of its own).
	lo := 23100
	for p := lo; p < lo+10; p++ {
		if reservedHere(p) {
			lo = p + 1 // the window starts again after it
		}
	}
	hi := lo + 10
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldPorts$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d-%d", holdEnv, lo, hi))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "held ") || line == "held 0\n" {
		t.Fatalf("the other process: %q, %v; want it to hold ports", line, err)
	}
	for range 20 {
		a, err := pick(lo, hi, map[int]bool{})
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(a)
		if n, _ := strconv.Atoi(port); n >= lo && n < hi {
			t.Fatalf("pick = %s, a port the other process %s", a, strings.TrimSpace(line))
		}
	}
}

// TestHoldPorts, run by TestPickLeavesAnotherProcessesPorts, picks every
// port of the window it is given, says how many it got, and keeps them
// until its standard input closes.
func TestHoldPorts(t *testing.T) {
	var lo, hi int
	if _, err := fmt.Sscanf(os.Getenv(holdEnv), "%d-%d", &lo, &hi); err != nil {
		t.Skip("run by TestPickLeavesAnotherProcessesPorts")
	}
	handed := map[int]bool{}
	for range 200 {
		if _, err := pick(lo, hi, handed); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("held %d\n", len(handed))
	io.Copy(io.Discard, os.Stdin)
}
