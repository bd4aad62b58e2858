//go:build !unix

package pseudonym

// lockKeyFile locks nothing where file locks are not at hand: there,
// rotations of one key file must not run concurrently.
func lockKeyFile(path string) (unlock func(), err error) {
	return func() {}, nil
}
