//go:build !unix

package loopback

// reserve reserves nothing where file locks are not at hand: the listen
// check alone guards the port.
func reserve(int) bool { return true }

// reservedHere reports whether this process reserved port: never.
func reservedHere(int) bool { return false }
