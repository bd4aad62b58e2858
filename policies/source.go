package policies

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// A Source is where a policy tree comes from: the tree embedded in the
// binary, a directory, or a signed OPA bundle (a file or its bytes). Make
// one with [EmbeddedSource], [DirSource], [BundleSource] or
// [BundleBytesSource]. The zero value is not usable.
type Source struct {
	kind sourceKind
	path string // directory, bundle file or bundle name
	data []byte // bundle bytes (BundleBytesSource)
	keys []PublicKey
}

type sourceKind int

const (
	_ sourceKind = iota
	sourceEmbedded
	sourceDir
	sourceBundleFile
	sourceBundleBytes
)

// EmbeddedSource is the tree compiled into the binary ([Embedded]).
func EmbeddedSource() Source { return Source{kind: sourceEmbedded} }

// DirSource is the policy tree in directory dir (as [Load] reads it).
func DirSource(dir string) Source { return Source{kind: sourceDir, path: dir} }

// BundleSource is the OPA bundle (.tar.gz) in the file at path. Its
// signature must verify with one of keys; see [LoadBundle].
func BundleSource(path string, keys ...PublicKey) Source {
	return Source{kind: sourceBundleFile, path: path, keys: keys}
}

// BundleBytesSource is an OPA bundle held as bytes (the gateway's Policy
// RPCs take none: it reads bundles from a file, [BundleSource]), called
// name in status and audit. Its signature
// must verify with one of keys; see [LoadBundle].
func BundleBytesSource(name string, bundle []byte, keys ...PublicKey) Source {
	return Source{kind: sourceBundleBytes, path: name, data: bundle, keys: keys}
}

// IsZero reports whether s is the zero Source, which names no tree.
func (s Source) IsZero() bool { return s.kind == 0 }

// String describes s for status, logs and audit entries: "embedded",
// "dir:<path>" or "bundle:<path or name>".
func (s Source) String() string {
	switch s.kind {
	case sourceEmbedded:
		return "embedded"
	case sourceDir:
		return "dir:" + s.path
	case sourceBundleFile, sourceBundleBytes:
		return "bundle:" + s.path
	}
	return "invalid"
}

// LoadSource loads, tests and prepares the tree of s, as [Load] does; a
// bundle's signature is checked first ([LoadBundle]). The engine's
// [Engine.Source] is s.String().
func LoadSource(ctx context.Context, s Source) (*Engine, error) {
	switch s.kind {
	case sourceEmbedded:
		return load(ctx, Embedded(), s.String(), "")
	case sourceDir:
		if _, err := os.Stat(s.path); err != nil {
			return nil, fmt.Errorf("policies: load: %v", err)
		}
		return load(ctx, os.DirFS(s.path), s.String(), "")
	case sourceBundleFile:
		b, err := readBundleFile(s.path)
		if err != nil {
			return nil, err
		}
		return loadBundle(ctx, b, s.String(), s.keys)
	case sourceBundleBytes:
		return loadBundle(ctx, s.data, s.String(), s.keys)
	}
	return nil, errors.New("policies: load: invalid Source (use EmbeddedSource, DirSource, BundleSource or BundleBytesSource)")
}

// maxBundleBytes bounds the size of a bundle file.
const maxBundleBytes = 64 << 20

func readBundleFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("policies: bundle: %v", err)
	}
	if fi.Size() > maxBundleBytes {
		return nil, fmt.Errorf("policies: bundle: %s is %d bytes, more than %d", name, fi.Size(), maxBundleBytes)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("policies: bundle: %v", err)
	}
	return b, nil
}

// fingerprint is a hash of everything of s that loading reads: for a
// directory every .rego file the loader would read (tests included), for
// a bundle its bytes. Watch compares fingerprints to notice changes
// without loading.
func fingerprint(s Source) (string, error) {
	switch s.kind {
	case sourceEmbedded:
		return treeFingerprint(Embedded())
	case sourceDir:
		return treeFingerprint(os.DirFS(s.path))
	case sourceBundleFile:
		b, err := readBundleFile(s.path)
		if err != nil {
			return "", err
		}
		return digestOf(b), nil
	case sourceBundleBytes:
		return digestOf(s.data), nil
	}
	return "", errors.New("policies: invalid Source")
}

// candidateDigest is what an Activation of s calls its digest, worked
// out without loading s: for a bundle its digest, for a tree the revision
// of its modules (see revision), whether or not they parse.
func candidateDigest(s Source) (string, error) {
	var fsys fs.FS
	switch s.kind {
	case sourceEmbedded:
		fsys = Embedded()
	case sourceDir:
		fsys = os.DirFS(s.path)
	default:
		return fingerprint(s)
	}
	var mods []module
	err := walkTree(fsys, func(p string, src []byte) error {
		if !strings.HasSuffix(p, "_test.rego") {
			mods = append(mods, module{path: p, src: src})
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(mods) == 0 {
		return "", errors.New("policies: the tree has no policy modules")
	}
	return revision(mods), nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// treeFingerprint hashes the paths and contents of the files parseTree
// would read, in walk (lexical) order.
func treeFingerprint(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := walkTree(fsys, func(p string, src []byte) error {
		hashFile(h, p, src)
		return nil
	})
	if err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile adds one file to a tree fingerprint.
func hashFile(h io.Writer, p string, src []byte) {
	fmt.Fprintf(h, "%x  %s\n", sha256.Sum256(src), p)
}

// walkTree calls f for every .rego file of the tree, in lexical order,
// skipping folders named testdata or starting with "." or "_".
func walkTree(fsys fs.FS, f func(p string, src []byte) error) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("policies: load: %w", err)
		}
		if d.IsDir() {
			if p != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if path.Ext(p) != ".rego" {
			return nil
		}
		if strings.ContainsAny(p, "\n\r") {
			return fmt.Errorf("policies: load: file name %q contains a line break", p)
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("policies: load: %w", err)
		}
		return f(p, bytes.Clone(src))
	})
}
