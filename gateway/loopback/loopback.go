// Package loopback finds loopback addresses for servers that must be told
// their port before they listen: a gateway whose address is written into
// its peer's registry first, a process restarted on the port it had, a
// server (Vault, OPA) that cannot report the port it chose.
//
// Asking the kernel for port 0 and closing the listener is not enough for
// these: the port it returns lies in the ephemeral range, where the kernel
// also picks the source port of every outgoing connection, so a client
// connecting anywhere between the close and the listen can take it (CI saw
// "bind: address already in use" that way). Addr picks below that range,
// where the kernel assigns nothing by itself.
package loopback

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// lowest is the lowest port Addr picks.
const lowest = 10000

var (
	mu     sync.Mutex
	handed = map[int]bool{} // ports Addr returned in this process
)

// Addr returns "127.0.0.1:port" for a port nothing listened on a moment
// ago, below the kernel's ephemeral range and not returned before by this
// process, nor by another process using this package while it runs (see
// reserve). It falls back to a port the kernel picks when it finds none
// there.
func Addr() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	return pick(lowest, ephemeralLow(), handed)
}

// pick returns a loopback address with a port in [lo, hi) that is free,
// not in handed and reserved for this process, and adds it there; or one
// the kernel picks, if 200 tries find none.
func pick(lo, hi int, handed map[int]bool) (string, error) {
	for i := 0; hi-lo > 0 && i < 200; i++ {
		port := lo + rand.IntN(hi-lo)
		if handed[port] || !reserve(port) {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // in use
		}
		l.Close()
		handed[port] = true
		return l.Addr().String(), nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("no free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// ephemeralLow is the lowest port of the kernel's ephemeral range (Linux:
// net.ipv4.ip_local_port_range), or IANA's 49152 where it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 49152
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 49152
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 || n > 65535 {
		return 49152
	}
	return n
}
